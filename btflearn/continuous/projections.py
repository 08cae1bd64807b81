"""Elementary ops paired with the exact (Euclidean) projection onto their graph {(x, f(x))}.

Every function here acts on ONE op instance (vectors of the op's own width, scalars for outputs) and
is written to be batched with ``jax.vmap`` and compiled with ``jax.jit``. All of them are dtype
generic (float32 for training, float64 in the tests) and never return NaN for finite input.

Ops (forward f, projection onto {(x, y): y = f(x)}):
- ``dot``: y = a . b, the bilinear projection (Newton root of the Lagrange multiplier);
- ``linear``: y = a . c with c constant (data): a hyperplane in (a, y);
- ``dot_linear``: y = a_c . c + a_v . b_v, c constant: the bilinear root with a linear term;
- ``sum``: y = sum(x), a hyperplane;
- ``relu_sum``: y = max(0, sum(x)), ReLU fused with the sum that feeds it (bias + dot);
- ``quant_sum``: y = q(sum(x)), q a staircase of evenly spaced levels (zero gradient a.e.);
- ``max``: y = max(x), exact by sorting (the top-j entries tie with the output);
- ``box``: no output; the constraint lo <= x <= hi (margin loss on the logits).

Projections of f(sum(x)) use one fact: only the component of x along (1,...,1)/sqrt(m) matters, so
with s = sum(x) the problem is the 2-D projection of (s, y) onto {y = f(s)} in the metric
(ds)^2/m + (dy)^2, and then every x_i moves by (s' - s)/m.
"""
from __future__ import annotations

import jax
import jax.numpy as jnp

__all__ = [
    "dot", "project_dot", "project_linear", "project_dot_linear", "project_sum", "project_relu_sum", "project_quant_sum", "quantize",
    "project_max", "project_box", "relu_sum", "quant_sum",
]


def _finfo(x):
    return jnp.finfo(jnp.result_type(x))


def _float(*xs):
    dt = jnp.result_type(*xs, jnp.float32)
    if not jnp.issubdtype(dt, jnp.floating):
        dt = jnp.float32
    return [jnp.asarray(x, dt) for x in xs]


# ----------------------------------------------------------------------------------------- dot product
def dot(a, b):
    return jnp.dot(a, b)


def _bilinear_root(a, b, zeta, kappa, max_iter: int = 64):
    """The bilinear projection's multiplier: t in [-1, 1] and the moved (a', b') for the constraint
    a' . b' + kappa t = zeta (kappa >= 1). ``project_dot`` is kappa = 1, zeta = z (then z' = z - t);
    ``project_dot_linear`` adds a part with constant inputs (kappa = 1 + |c|^2, zeta = z - a_c . c).

    For project_dot: nearest (a', b', z') to (a, b, z) with a' . b' = z'.

    Lagrange: a' = (a + t b)/(1 - t^2), b' = (b + t a)/(1 - t^2), z' = z - t, t the unique root in
    (-1, 1) of G(t) = [(1 + t^2) p + t q]/(1 - t^2)^2 + t - z (p = a.b, q = |a|^2 + |b|^2).
    In the rotated coordinates U = (a + b)/sqrt2, V = (b - a)/sqrt2 (P = |U|^2, Q = |V|^2) this is
    U' = U/(1 - t), V' = V/(1 + t) and G(t) = P/(2(1-t)^2) - Q/(2(1+t)^2) + t - z, increasing in t.

    The reflection a -> -a, z -> -z (an isometry that maps the graph to itself) turns t into -t, so we
    always solve the case G(0) = p - z <= 0, root t in [0, 1). Newton runs on t while carrying w = 1 - t
    as a separate variable updated by the same steps, so both keep full relative precision: t for small
    moves (t near 0), w next to the pole (t near 1). The root is bracketed by closed-form bounds on w
    and Newton falls back to bisection (geometric in w when the bracket spans scales) whenever a step
    leaves the bracket.

    Degenerate case, handled explicitly: U = 0 (a = -b) with G(1^-) < 0 has no root in (-1, 1); the
    infimum is the limit t = 1: V' = V/2, z' = z - 1 and U' any vector of length sqrt(2(z - 1) + Q/4)
    (we take the direction of U when U is not exactly zero, else the first axis). With kappa: replace
    t by kappa t in G and z - 1 by zeta - kappa in the limit.
    """
    a, b, z, kappa = _float(a, b, zeta, kappa)
    fi = _finfo(a)
    one = jnp.ones((), a.dtype)
    zero = jnp.zeros((), a.dtype)
    r2 = jnp.sqrt(jnp.asarray(0.5, a.dtype))
    flip = jnp.dot(a, b) > z
    sgn = jnp.where(flip, -one, one)
    a = a * sgn
    z = z * sgn
    U = (a + b) * r2
    V = (b - a) * r2
    P = jnp.dot(U, U)
    Q = jnp.dot(V, V)
    g1 = kappa - z - Q / 8.0  # lim_{t -> 1} G(t) without the P term

    # bracket for w = 1 - t on (0, 1]: G >= P/(2w^2) - Q/2 - z and G <= P/(2w^2) + g1, so the root has
    # w_lo = sqrt(P/(Q + 2z)) <= w <= w_hi = sqrt(P/(-2 g1)) (each bound where it applies), and t >= 0
    # (here z stands for zeta).
    denom_lo = Q + 2.0 * z
    w_lo = jnp.where(denom_lo > 0, jnp.sqrt(P / jnp.where(denom_lo > 0, denom_lo, one)), one)
    w_lo = jnp.clip(w_lo, 0.0, 1.0)
    w_hi = jnp.where(g1 < 0, jnp.sqrt(P / jnp.where(g1 < 0, -2.0 * g1, one)), one)
    w_hi = jnp.clip(w_hi, 0.0, 1.0)
    w_lo = jnp.minimum(w_lo, w_hi)
    tiny_w = jnp.sqrt(jnp.asarray(fi.tiny, a.dtype))
    degenerate = (g1 < 0) & (w_hi < tiny_w)
    tol = 4.0 * fi.eps

    def G(t, w):
        w = jnp.maximum(w, tiny_w)
        return 0.5 * P / (w * w) - 0.5 * Q / ((1.0 + t) ** 2) + kappa * t - z

    def dG(t, w):
        w = jnp.maximum(w, tiny_w)
        return P / (w * w * w) + Q / ((1.0 + t) ** 3) + kappa

    # bracket ends as (t, w) pairs: left end G <= 0, right end G >= 0
    tl, wl = jnp.where(w_hi < 1.0, 1.0 - w_hi, zero), w_hi
    tr, wr = 1.0 - w_lo, w_lo

    def cond(state):
        return (~state[-1]) & (state[-2] < max_iter)

    def body(state):
        t, w, tl, wl, tr, wr, it, _ = state
        g = G(t, w)
        left = g < 0                       # G increasing in t: G < 0 means the root is right of t
        tl, wl = jnp.where(left, t, tl), jnp.where(left, w, wl)
        tr, wr = jnp.where(g > 0, t, tr), jnp.where(g > 0, w, wr)
        dg = dG(t, w)
        d = -g / dg
        tn, wn = t + d, w - d
        # stop at full relative precision of t (or w), or when the step is below the rounding noise of G
        wc = jnp.maximum(w, tiny_w)
        noise = (jnp.abs(z) + 0.5 * P / (wc * wc) + 0.5 * Q / ((1.0 + t) ** 2) + kappa * jnp.abs(t)) / dg
        scale = jnp.maximum(jnp.minimum(jnp.abs(tn), wn), tiny_w) + noise
        converged = (jnp.abs(d) <= tol * scale) | (g == 0)
        inside = (tn >= tl) & (tn <= tr) & (wn >= wr) & (wn <= wl) & jnp.isfinite(d)
        geometric = (wr > 0) & (wl > 2.0 * wr)
        wm = jnp.where(geometric, jnp.sqrt(wl * wr), 0.5 * (wl + wr))
        tm = jnp.where(geometric, tl + (wl - wm), 0.5 * (tl + tr))
        take = inside | converged
        tn, wn = jnp.where(take, tn, tm), jnp.where(take, wn, wm)
        collapsed = (tr - tl) <= tol * jnp.maximum(jnp.minimum(tr, wr), tiny_w)
        return tn, wn, tl, wl, tr, wr, it + 1, converged | collapsed

    init = (tl, wl, tl, wl, tr, wr, jnp.asarray(0, jnp.int32), degenerate | (w_hi <= w_lo))
    t, w = jax.lax.while_loop(cond, body, init)[:2]
    collapsed = (w_hi <= w_lo) & ~degenerate
    t = jnp.where(collapsed, 1.0 - w_hi, t)
    w = jnp.where(collapsed, w_hi, w)
    w = jnp.where(degenerate, zero, w)
    t = jnp.where(degenerate, one, t)

    # generic root: U' = U / w, V' = V / (1 + t), z' = z - t
    w_pos = jnp.where(w > 0, w, one)
    Up = jnp.where(w > 0, U / w_pos, jnp.zeros_like(U))
    # degenerate limit t = 1: |U'|^2 = -2 g1 in the direction of U (or the first axis)
    umax = jnp.max(jnp.abs(U))
    Un = U / jnp.where(umax > 0, umax, one)
    Un = Un / jnp.where(umax > 0, jnp.sqrt(jnp.dot(Un, Un)), one)
    e0 = jnp.zeros_like(U).at[0].set(1.0)
    direction = jnp.where(umax > 0, Un, e0)
    Up = jnp.where(degenerate, direction * jnp.sqrt(jnp.maximum(-2.0 * g1, 0.0)), Up)
    Vp = V / (1.0 + t)
    ap = (Up - Vp) * r2
    bp = (Up + Vp) * r2
    return ap * sgn, bp, t * sgn


def project_dot(a, b, z, max_iter: int = 64):
    """Nearest (a', b', z') to (a, b, z) with a' . b' = z' (see ``_bilinear_root``)."""
    a, b, z = _float(a, b, z)
    ap, bp, t = _bilinear_root(a, b, z, jnp.ones((), a.dtype), max_iter)
    return ap, bp, z - t


def project_linear(a, c, z):
    """Nearest (a', z') with a' . c = z' for a CONSTANT c (a layer fed by data): the hyperplane
    a . c - z = 0 in (a, z): t = (z - a . c)/(1 + |c|^2), a' = a + t c, z' = z - t."""
    a, c, z = _float(a, c, z)
    t = (z - jnp.dot(a, c)) / (1.0 + jnp.dot(c, c))
    return a + t * c, z - t


def project_dot_linear(a_c, a_v, b_v, c, z, max_iter: int = 64):
    """Nearest (a_c', a_v', b_v', z') with a_c' . c + a_v' . b_v' = z' for a CONSTANT c (an RNN cell:
    data x_t next to the free state h). Lagrange: a_c' = a_c + t c, z' = z - t and (a_v', b_v') the
    bilinear move with the same t, so t solves the bilinear equation with kappa = 1 + |c|^2 and
    zeta = z - a_c . c; the minimiser has |t| <= 1 as in the pure case."""
    a_c, a_v, b_v, c, z = _float(a_c, a_v, b_v, c, z)
    ap, bp, t = _bilinear_root(a_v, b_v, z - jnp.dot(a_c, c), 1.0 + jnp.dot(c, c), max_iter)
    return a_c + t * c, ap, bp, z - t


# ------------------------------------------------------------------------------------- sums and ReLU
def project_sum(x, y):
    """Nearest (x', y') with y' = sum(x'): the hyperplane with normal (-1, ..., -1, 1)."""
    x, y = _float(x, y)
    r = (y - jnp.sum(x)) / (x.shape[-1] + 1)
    return x + r, y - r


def relu_sum(x):
    return jnp.maximum(jnp.sum(x), 0.0)


def _move_sum(x, s, s_new):
    return x + (s_new - s) / x.shape[-1]


def project_relu_sum(x, y):
    """Nearest (x', y') with y' = max(0, sum(x')): the cheaper of the flat branch (y' = 0, s' <= 0)
    and the linear branch (y' = s' >= 0), each solved in closed form in the (s, y) plane."""
    x, y = _float(x, y)
    m = x.shape[-1]
    s = jnp.sum(x)
    s_flat = jnp.minimum(s, 0.0)
    cost_flat = (s_flat - s) ** 2 / m + y * y
    s_lin = jnp.maximum((s + m * y) / (1.0 + m), 0.0)
    cost_lin = (s_lin - s) ** 2 / m + (s_lin - y) ** 2
    take_lin = cost_lin <= cost_flat
    s_new = jnp.where(take_lin, s_lin, s_flat)
    y_new = jnp.where(take_lin, s_lin, 0.0)
    return _move_sum(x, s, s_new), y_new


# ------------------------------------------------------------------------------------------ quantiser
def quantize(u, levels: int = 4, step: float = 1.0, low: float = 0.0):
    """The staircase q(u) = low + step * clip(round((u - low)/step), 0, levels - 1)."""
    k = jnp.clip(jnp.round((u - low) / step), 0, levels - 1)
    return low + step * k


def quant_sum(x, levels: int = 4, step: float = 1.0, low: float = 0.0):
    return quantize(jnp.sum(x), levels, step, low)


def project_quant_sum(x, y, levels: int = 4, step: float = 1.0, low: float = 0.0):
    """Nearest (x', y') with y' = q(sum(x')). The (closed) graph of q is a union of horizontal segments:
    level v_k = low + k step over s in [v_k - step/2, v_k + step/2] (the outer two unbounded). Project
    onto each segment (clip s, set y = v_k) and keep the cheapest."""
    x, y = _float(x, y)
    m = x.shape[-1]
    s = jnp.sum(x)
    k = jnp.arange(levels, dtype=x.dtype)
    v = low + step * k
    left = jnp.where(k == 0, -jnp.inf, v - 0.5 * step)
    right = jnp.where(k == levels - 1, jnp.inf, v + 0.5 * step)
    s_k = jnp.clip(s, left, right)
    cost = (s_k - s) ** 2 / m + (y - v) ** 2
    best = jnp.argmin(cost)
    return _move_sum(x, s, s_k[best]), v[best]


# ---------------------------------------------------------------------------------------- max, pooling
def project_max(x, y):
    """Nearest (x', y') with y' = max(x'). Sort x descending; the answer ties the top j entries with the
    output at t_j = (y + x_(1) + ... + x_(j))/(j + 1) and leaves the others, which is on the graph iff
    t_j >= x_(j+1). Every candidate on the graph is a feasible point and the projection is one of them,
    so the cheapest feasible candidate is exact. O(n^2) for the small windows of pooling."""
    x, y = _float(x, y)
    n = x.shape[-1]
    order = jnp.argsort(-x, stable=True)
    xs = x[order]
    j = jnp.arange(1, n + 1, dtype=x.dtype)
    t = (y + jnp.cumsum(xs)) / (j + 1.0)
    nxt = jnp.concatenate([xs[1:], jnp.full((1,), -jnp.inf, x.dtype)])
    feasible = t >= nxt
    top = jnp.arange(n)[None, :] < jnp.arange(1, n + 1)[:, None]        # top[j-1, i]: i among top j
    cost = jnp.sum(jnp.where(top, (t[:, None] - xs[None, :]) ** 2, 0.0), axis=1) + (t - y) ** 2
    cost = jnp.where(feasible, cost, jnp.inf)
    jbest = jnp.argmin(cost)
    xs_new = jnp.where(top[jbest], t[jbest], xs)
    x_new = jnp.zeros_like(x).at[order].set(xs_new)
    return x_new, t[jbest]


# ---------------------------------------------------------------------------------- output constraints
def project_box(x, lo, hi):
    """Margin loss as a constraint: the box lo <= x <= hi (for a +-1 target y and margin m:
    y = +1 -> [m, cap], y = -1 -> [-cap, -m])."""
    return jnp.clip(x, lo, hi)


# ------------------------------------------------------------------------------- the op table (graph)
class OpDef:
    """How the graph code calls an op on ONE instance: ``forward(operands, **attrs) -> y`` and
    ``project(operands, y, **attrs) -> (operands', y')``; operands is a list of 1-D arrays."""

    def __init__(self, forward, project):
        self.forward, self.project = forward, project


def _concat_op(f, proj):
    def forward(operands, **attrs):
        return f(jnp.concatenate(operands), **attrs)

    def project(operands, y, **attrs):
        cuts, total = [], 0
        for o in operands[:-1]:
            total += o.shape[0]
            cuts.append(total)
        x, y = proj(jnp.concatenate(operands), y, **attrs)
        return (jnp.split(x, cuts) if cuts else [x]), y

    return OpDef(forward, project)


def _dot_project(operands, y):
    a, b, z = project_dot(operands[0], operands[1], y)
    return [a, b], z


def _max_project(operands, y):
    x, y = project_max(operands[0], y)
    return [x], y


def _linear_project(operands, y):
    a, z = project_linear(operands[0], operands[1], y)
    return [a, operands[1]], z


def _dot_linear_project(operands, y):
    a_c, a_v, b_v, z = project_dot_linear(*operands, y)
    return [a_c, a_v, b_v, operands[3]], z


OPS = {
    "dot": OpDef(lambda ops: dot(ops[0], ops[1]), _dot_project),
    # operands (a, c), c constant (inputs, constants): returned unchanged
    "linear": OpDef(lambda ops: dot(ops[0], ops[1]), _linear_project),
    # operands (a_c, a_v, b_v, c), c constant: a_c . c + a_v . b_v
    "dot_linear": OpDef(lambda ops: dot(ops[0], ops[3]) + dot(ops[1], ops[2]), _dot_linear_project),
    "sum": _concat_op(jnp.sum, project_sum),
    "relu_sum": _concat_op(relu_sum, project_relu_sum),
    "quant_sum": _concat_op(quant_sum, project_quant_sum),
    "max": OpDef(lambda ops: jnp.max(ops[0]), _max_project),
}
