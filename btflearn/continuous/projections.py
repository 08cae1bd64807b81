"""Elementary ops paired with the exact (Euclidean) projection onto their graph {(x, f(x))}.

Every function here acts on ONE op instance (vectors of the op's own width, scalars for outputs) and
is written to be batched with ``jax.vmap`` and compiled with ``jax.jit``. All of them are dtype
generic (float32 for training, float64 in the tests) and never return NaN for finite input.

Ops (forward f, projection onto {(x, y): y = f(x)}):
- ``dot``: y = a . b, the bilinear projection (Newton root of the Lagrange multiplier);
- ``linear``: y = a . c with c constant (data): a hyperplane in (a, y);
- ``dot_linear``: y = a_c . c + a_v . b_v, c constant: the bilinear root with a linear term;
- ``dot_linear_relu``: y = max(0, a_c . c + a_v . b_v): a whole dense unit (bias = weight on a constant
  1) with its ReLU, the cheaper of the projections onto the linear and the flat piece;
- ``sum``: y = sum(x), a hyperplane;
- ``relu_sum``: y = max(0, sum(x)), ReLU fused with the sum that feeds it (bias + dot);
- ``quant_sum``: y = q(sum(x)), q a staircase of evenly spaced levels (zero gradient a.e.);
- ``linear_quant``: y = q(a . c), c constant: a data-fed unit with its bias and quantiser;
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
    "OPS", "dot", "dot_linear_relu", "project_box", "project_dot", "project_dot_linear",
    "project_dot_linear_relu", "project_linear", "project_linear_quant", "project_max", "project_quant_sum", "project_relu_sum",
    "project_sum", "quant_sum", "quantize", "relu_sum",
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
    a' . b' + kappa t = zeta (kappa >= 0). ``project_dot`` is kappa = 1, zeta = z (then z' = z - t);
    ``project_dot_linear`` adds a part with constant inputs (kappa = 1 + |c|^2, zeta = z - a_c . c).

    For project_dot: nearest (a', b', z') to (a, b, z) with a' . b' = z'. Lagrange:
    a' = (a + t b)/(1 - t^2), b' = (b + t a)/(1 - t^2), z' = z - t, t the unique root in (-1, 1) of
    G(t) = [(1 + t^2) p + t q]/(1 - t^2)^2 + t - z (p = a.b, q = |a|^2 + |b|^2). In the rotated
    coordinates U = (a + b)/sqrt2, V = (b - a)/sqrt2 (P = |U|^2, Q = |V|^2) this is U' = U/(1 - t),
    V' = V/(1 + t) and G(t) = P/(2(1-t)^2) - Q/(2(1+t)^2) + kappa t - zeta, increasing in t (the root
    with |t| < 1 is the global minimiser: the Lagrangian's Hessian is positive there).

    Newton runs on t while carrying w = 1 - t and v = 1 + t as separate variables updated by the same
    steps, so each keeps full relative precision: t for small moves, w next to the pole t = 1, v next
    to t = -1. G(0) = p - zeta picks the side: root in [0, 1) when G(0) <= 0 with closed-form bounds
    on w (G >= P/(2w^2) - Q/2 - zeta and G <= P/(2w^2) + g1, g1 = kappa - zeta - Q/8), and the mirror
    bounds on v otherwise. That decision only sets up the bracket (near G(0) = 0 either bracket holds
    the root), which matters under XLA: a comparison used twice may be evaluated twice with different
    rounding. Newton falls back to bisection (geometric in w or v when the bracket spans scales)
    whenever a step leaves the bracket.

    Degenerate cases, handled explicitly: U = 0 (a = -b) with g1 < 0 has no root in (-1, 1); the
    infimum is the limit t = 1: V' = V/2 and U' any vector of length sqrt(-2 g1) (the direction of U
    when U is not exactly zero, else the first axis). The mirror case V = 0 gives t = -1.
    """
    a, b, z, kappa = _float(a, b, zeta, kappa)
    fi = _finfo(a)
    one = jnp.ones((), a.dtype)
    zero = jnp.zeros((), a.dtype)
    r2 = jnp.sqrt(jnp.asarray(0.5, a.dtype))
    U = (a + b) * r2
    V = (b - a) * r2
    P = jnp.dot(U, U)
    Q = jnp.dot(V, V)
    right = jnp.dot(a, b) <= z                 # G(0) <= 0: the root is in [0, 1)
    tiny_w = jnp.sqrt(jnp.asarray(fi.tiny, a.dtype))
    tol = 4.0 * fi.eps

    def sqrt_ratio(num, den):
        return jnp.sqrt(num / jnp.where(den > 0, den, one))

    # root in [0, 1): bounds on w
    g1 = kappa - z - Q / 8.0
    w_lo = jnp.clip(jnp.where(Q + 2.0 * z > 0, sqrt_ratio(P, Q + 2.0 * z), one), 0.0, 1.0)
    w_hi = jnp.clip(jnp.where(g1 < 0, sqrt_ratio(P, -2.0 * g1), one), 0.0, 1.0)
    w_lo = jnp.minimum(w_lo, w_hi)
    # root in (-1, 0]: the mirror bounds on v
    h1 = kappa + z - P / 8.0
    v_lo = jnp.clip(jnp.where(P - 2.0 * z > 0, sqrt_ratio(Q, P - 2.0 * z), one), 0.0, 1.0)
    v_hi = jnp.clip(jnp.where(h1 < 0, sqrt_ratio(Q, -2.0 * h1), one), 0.0, 1.0)
    v_lo = jnp.minimum(v_lo, v_hi)
    deg_right = right & (g1 < 0) & (w_hi < tiny_w)
    deg_left = ~right & (h1 < 0) & (v_hi < tiny_w)

    # bracket ends as (t, w, v) triples: left end G <= 0, right end G >= 0
    tl_r = jnp.where(w_hi < 1.0, 1.0 - w_hi, zero)
    left_r = (tl_r, jnp.where(w_hi < 1.0, w_hi, one), 1.0 + tl_r)
    right_r = (1.0 - w_lo, w_lo, 2.0 - w_lo)
    tr_l = jnp.where(v_hi < 1.0, v_hi - 1.0, zero)
    left_l = (v_lo - 1.0, 2.0 - v_lo, v_lo)
    right_l = (tr_l, 1.0 - tr_l, jnp.where(v_hi < 1.0, v_hi, one))
    L = tuple(jnp.where(right, x, y) for x, y in zip(left_r, left_l))
    R = tuple(jnp.where(right, x, y) for x, y in zip(right_r, right_l))
    start = tuple(jnp.where(right, x, y) for x, y in zip(left_r, right_l))  # the end next to t = 0
    collapsed = jnp.where(right, w_hi <= w_lo, v_hi <= v_lo)

    def G(t, w, v):
        w = jnp.maximum(w, tiny_w)
        v = jnp.maximum(v, tiny_w)
        return 0.5 * P / (w * w) - 0.5 * Q / (v * v) + kappa * t - z

    def dG(t, w, v):
        w = jnp.maximum(w, tiny_w)
        v = jnp.maximum(v, tiny_w)
        return P / (w * w * w) + Q / (v * v * v) + kappa

    def cond(state):
        return (~state[-1]) & (state[-2] < max_iter)

    def body(state):
        (t, w, v), (tl, wl, vl), (tr, wr, vr), it, _ = state
        g = G(t, w, v)
        dg = dG(t, w, v)
        lft, rgt = g < 0, g > 0                       # G increasing in t
        tl, wl, vl = (jnp.where(lft, x, y) for x, y in ((t, tl), (w, wl), (v, vl)))
        tr, wr, vr = (jnp.where(rgt, x, y) for x, y in ((t, tr), (w, wr), (v, vr)))
        d = -g / dg
        tn, wn, vn = t + d, w - d, v + d
        # stop at full relative precision of t (or w, v), or when the step is below G's rounding noise
        wc, vc = jnp.maximum(w, tiny_w), jnp.maximum(v, tiny_w)
        noise = (jnp.abs(z) + 0.5 * P / (wc * wc) + 0.5 * Q / (vc * vc) + kappa * jnp.abs(t)) / dg
        scale = jnp.maximum(jnp.minimum(jnp.minimum(jnp.abs(tn), wn), vn), tiny_w) + noise
        converged = (jnp.abs(d) <= tol * scale) | (g == 0)
        inside = (tn >= tl) & (tn <= tr) & (wn >= wr) & (wn <= wl) & (vn >= vl) & (vn <= vr) & jnp.isfinite(d)
        geo_w = (wr > 0) & (wl > 2.0 * wr)
        geo_v = (vl > 0) & (vr > 2.0 * vl)
        wm_g = jnp.sqrt(wl * wr)
        vm_g = jnp.sqrt(vl * vr)
        tm = jnp.where(geo_w, tl + (wl - wm_g), jnp.where(geo_v, tl + (vm_g - vl), 0.5 * (tl + tr)))
        wm = jnp.where(geo_w, wm_g, jnp.where(geo_v, wl - (vm_g - vl), 0.5 * (wl + wr)))
        vm = jnp.where(geo_w, vl + (wl - wm_g), jnp.where(geo_v, vm_g, 0.5 * (vl + vr)))
        take = inside | converged
        tn, wn, vn = jnp.where(take, tn, tm), jnp.where(take, wn, wm), jnp.where(take, vn, vm)
        width = jnp.maximum(jnp.minimum(jnp.minimum(jnp.abs(tr), wr), vl), tiny_w)
        done = converged | ((tr - tl) <= tol * width)
        return (tn, wn, vn), (tl, wl, vl), (tr, wr, vr), it + 1, done

    init = (start, L, R, jnp.asarray(0, jnp.int32), deg_right | deg_left | collapsed)
    t, w, v = jax.lax.while_loop(cond, body, init)[0]

    # generic root: U' = U / w, V' = V / v
    Up = jnp.where(w > 0, U / jnp.where(w > 0, w, one), jnp.zeros_like(U))
    Vp = jnp.where(v > 0, V / jnp.where(v > 0, v, one), jnp.zeros_like(V))

    def direction(X):
        xmax = jnp.max(jnp.abs(X))
        Xn = X / jnp.where(xmax > 0, xmax, one)
        Xn = Xn / jnp.where(xmax > 0, jnp.sqrt(jnp.dot(Xn, Xn)), one)
        return jnp.where(xmax > 0, Xn, jnp.zeros_like(X).at[0].set(1.0))

    # degenerate limits t = +1 (|U'|^2 = -2 g1, V' = V/2) and t = -1 (|V'|^2 = -2 h1, U' = U/2)
    Up = jnp.where(deg_right, direction(U) * jnp.sqrt(jnp.maximum(-2.0 * g1, 0.0)), Up)
    Vp = jnp.where(deg_right, 0.5 * V, Vp)
    Vp = jnp.where(deg_left, direction(V) * jnp.sqrt(jnp.maximum(-2.0 * h1, 0.0)), Vp)
    Up = jnp.where(deg_left, 0.5 * U, Up)
    t = jnp.where(deg_right, one, jnp.where(deg_left, -one, t))
    ap = (Up - Vp) * r2
    bp = (Up + Vp) * r2
    return ap, bp, t


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


def _root_general(a_v, b_v, zeta, kappa, max_iter):
    """The multiplier for a_v' . b_v' + kappa t = zeta; closed form t = zeta/kappa without a bilinear part."""
    if a_v.shape[-1] == 0:
        return a_v, b_v, zeta / kappa
    return _bilinear_root(a_v, b_v, zeta, kappa, max_iter)


def project_dot_linear_relu(a_c, a_v, b_v, c, y, max_iter: int = 64):
    """Nearest point with y' = max(0, s'), s = a_c . c + a_v . b_v, c CONSTANT (one entry of c is the
    constant 1 that carries the bias). A dense unit with its bias and ReLU as ONE op.

    The graph is the union of the linear piece {s = y, y >= 0} and the flat piece {s <= 0, y = 0}.
    - Linear piece: the projection onto {s = y} (the bilinear root with kappa = |c|^2 + 1, zeta =
      y - a_c . c) if it has y' >= 0; otherwise the nearest point of the piece is on {s = 0, y = 0}.
    - Flat piece: (a, b, 0) itself when s <= 0; otherwise the projection of (a, b) onto {s = 0}
      (kappa = |c|^2, zeta = -a_c . c) with y' = 0.
    The cheaper candidate is the exact projection. Either part may be empty (a_v of width 0: the unit
    reads only data; the roots are then closed form)."""
    a_c, a_v, b_v, c, y = _float(a_c, a_v, b_v, c, y)
    cc = jnp.dot(c, c)
    lin = jnp.dot(a_c, c)
    s = lin + jnp.dot(a_v, b_v)

    def cost(ac2, av2, bv2, y2):
        return jnp.sum((ac2 - a_c) ** 2) + jnp.sum((av2 - a_v) ** 2) + jnp.sum((bv2 - b_v) ** 2) + (y2 - y) ** 2

    # (A) onto {s = y}
    av_a, bv_a, t_a = _root_general(a_v, b_v, y - lin, cc + 1.0, max_iter)
    ac_a, y_a = a_c + t_a * c, y - t_a
    ok_a = y_a >= 0
    cost_a = jnp.where(ok_a, cost(ac_a, av_a, bv_a, y_a), jnp.inf)
    # (B) onto {s = 0}, y = 0
    av_b, bv_b, t_b = _root_general(a_v, b_v, -lin, jnp.maximum(cc, _finfo(cc).tiny), max_iter)
    ac_b = a_c + t_b * c
    inside = s <= 0
    ac_b = jnp.where(inside, a_c, ac_b)
    av_b = jnp.where(inside, a_v, av_b)
    bv_b = jnp.where(inside, b_v, bv_b)
    cost_b = cost(ac_b, av_b, bv_b, jnp.zeros_like(y))
    take_a = cost_a <= cost_b
    pick = lambda u, v: jnp.where(take_a, u, v)  # noqa: E731
    return pick(ac_a, ac_b), pick(av_a, av_b), pick(bv_a, bv_b), pick(y_a, jnp.zeros_like(y))


def dot_linear_relu(a_c, a_v, b_v, c):
    return jnp.maximum(jnp.dot(a_c, c) + jnp.dot(a_v, b_v), 0.0)


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
    s_new = jnp.where(cost_lin <= cost_flat, s_lin, s_flat)
    # y' = relu(s') is right for both branches (s_flat <= 0, s_lin >= 0), so the branch decision is used
    # once: XLA may evaluate a comparison twice with different rounding
    return _move_sum(x, s, s_new), jnp.maximum(s_new, 0.0)


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
    s = jnp.sum(x)
    s_new, v = _nearest_level(s, y, x.shape[-1], levels, step, low, x.dtype)
    return _move_sum(x, s, s_new), v


def _nearest_level(s, y, scale, levels, step, low, dtype):
    """(s', v): the point of the graph of q nearest to (s, y) when moving s by ds costs ds^2 / scale."""
    k = jnp.arange(levels, dtype=dtype)
    v = low + step * k
    left = jnp.where(k == 0, -jnp.inf, v - 0.5 * step)
    right = jnp.where(k == levels - 1, jnp.inf, v + 0.5 * step)
    s_k = jnp.clip(s, left, right)
    cost = (s_k - s) ** 2 / scale + (y - v) ** 2
    best = jnp.argmin(cost)
    return s_k[best], v[best]


def project_linear_quant(a, c, y, levels: int = 4, step: float = 1.0, low: float = 0.0):
    """Nearest (a', y') with y' = q(a' . c) for a CONSTANT c (a data-fed unit, bias on a constant 1): as
    ``project_quant_sum`` with the sum replaced by s = a . c, where moving s by ds moves a by
    ds c/|c|^2 at cost ds^2/|c|^2."""
    a, c, y = _float(a, c, y)
    cc = jnp.maximum(jnp.dot(c, c), _finfo(a).tiny)
    s = jnp.dot(a, c)
    s_new, v = _nearest_level(s, y, cc, levels, step, low, a.dtype)
    return a + (s_new - s) / cc * c, v


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


def _dot_linear_relu_project(operands, y):
    a_c, a_v, b_v, y = project_dot_linear_relu(*operands, y)
    return [a_c, a_v, b_v, operands[3]], y


def _linear_quant_project(operands, y, **attrs):
    a, y = project_linear_quant(operands[0], operands[1], y, **attrs)
    return [a, operands[1]], y


OPS = {
    "dot": OpDef(lambda ops: dot(ops[0], ops[1]), _dot_project),
    # operands (a, c), c constant: q(a . c), a data-fed unit with its bias and quantiser
    "linear_quant": OpDef(lambda ops, **attrs: quantize(dot(ops[0], ops[1]), **attrs), _linear_quant_project),
    # operands (a_c, a_v, b_v, c), c constant: relu(a_c . c + a_v . b_v), a dense unit with bias and ReLU
    "dot_linear_relu": OpDef(lambda ops: dot_linear_relu(*ops), _dot_linear_relu_project),
    # operands (a, c), c constant (inputs, constants): returned unchanged
    "linear": OpDef(lambda ops: dot(ops[0], ops[1]), _linear_project),
    # operands (a_c, a_v, b_v, c), c constant: a_c . c + a_v . b_v
    "dot_linear": OpDef(lambda ops: dot(ops[0], ops[3]) + dot(ops[1], ops[2]), _dot_linear_project),
    "sum": _concat_op(jnp.sum, project_sum),
    "relu_sum": _concat_op(relu_sum, project_relu_sum),
    "quant_sum": _concat_op(quant_sum, project_quant_sum),
    "max": OpDef(lambda ops: jnp.max(ops[0]), _max_project),
}
