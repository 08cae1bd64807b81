"""NumPy reference of the BTF projections, the concur projection and the RRR iteration.

This module is the specification: every fast kernel (Numba, CuPy) is tested against it. It is written
for clarity, vectorised over leading axes, and follows the scalar algorithm of the fast kernels step for
step (same Newton iterations, same tie rules) so that they agree to rounding.

State layout (T trials, N items, E edges, V nodes): w, x of shape (T, N, E); y and the metric g of shape
(T, N, V). Every BTF node n owns the "trio" (w[..., in(n)], x[..., in(n)], y[..., n]).
"""
from __future__ import annotations

import numpy as np

from .graph import INPUT_BINARY, INPUT_DATA, INPUT_ONEHOT, KernelGraph

NEWTON_MAXIT = 100     # safeguarded Newton: bisection whenever a step leaves the bracket
NEWTON_RTOL = 1e-12    # stop when |ds| <= 1e-12 * s (s = distance of u to the pole, see below)
DEGENERATE = 1e-28     # |U|^2 below this fraction of the scale counts as zero


# ---------------------------------------------------------------------------------------------------
# Bilinear projection onto {(w, x): w . x = c}
# ---------------------------------------------------------------------------------------------------
# The nearest point is w' = (w + u x)/(1 - u^2), x' = (x + u w)/(1 - u^2), u in (-1, 1) the root of
# F(u) = G(u) - c with G(u) = w'.x' = (A/(1-u)^2 - B/(1+u)^2)/2, A = |w+x|^2/2, B = |x-w|^2/2.
# G is increasing. If G(0) = w.x < c the root has u > 0: we solve for s = 1 - u in (0, 1], which keeps
# full relative precision near the pole u = 1; if w.x > c the mirror image (A <-> B, c <-> -c) gives
# t = 1 + u. In both cases H(s) = (P/s^2 - Q/(2-s)^2)/2 - C is decreasing, H(1) < 0, and Newton starts
# at s = 1 (u = 0). When P = 0 the pole is gone and the root may not exist (C >= -Q/8): the infimum is
# then attained at s = 0 along any direction; we take the direction of w+x (resp. x-w), or the all-ones
# direction when that vector is zero too. Never NaN.

def _solve_pole(P, Q, C):
    """Root s in (0, 1] of (P/s^2 - Q/(2-s)^2)/2 = C, vectorised; requires H(1) < 0 and a root."""
    s = np.ones_like(P)
    lo = np.zeros_like(P)
    hi = np.ones_like(P)
    active = np.ones(P.shape, dtype=bool)
    for _ in range(NEWTON_MAXIT):
        if not active.any():
            break
        sa, Pa, Qa, Ca = s[active], P[active], Q[active], C[active]
        r = 2.0 - sa
        h = 0.5 * (Pa / (sa * sa) - Qa / (r * r)) - Ca
        dh = -(Pa / (sa * sa * sa) + Qa / (r * r * r))
        loa = np.where(h > 0, sa, lo[active])
        hia = np.where(h > 0, hi[active], sa)
        snew = sa - h / dh
        # bisect when the step leaves the bracket, unless it is already below the tolerance: at the
        # root s is a bracket end and a sub-ulp step may land on it (bisecting there restarts the search)
        bad = ~((snew > loa) & (snew < hia)) & ~(np.abs(snew - sa) <= NEWTON_RTOL * sa)
        snew = np.where(bad, 0.5 * (loa + hia), snew)
        done = np.abs(snew - sa) <= NEWTON_RTOL * snew
        s[active], lo[active], hi[active] = snew, loa, hia
        idx = np.flatnonzero(active)
        active[idx[done]] = False
    return s


def bilinear_project(w, x, c):
    """Nearest (w', x') with w' . x' = c. w, x: (..., m); c broadcastable to (...)."""
    w = np.asarray(w, dtype=np.float64)
    x = np.asarray(x, dtype=np.float64)
    c = np.broadcast_to(np.asarray(c, dtype=np.float64), w.shape[:-1]).copy()
    m = w.shape[-1]
    su, dv = w + x, x - w                       # sqrt2 U, sqrt2 V
    A = 0.5 * np.sum(su * su, axis=-1)
    B = 0.5 * np.sum(dv * dv, axis=-1)
    p = np.sum(w * x, axis=-1)
    raise_ = p < c                              # root u > 0
    lower = p > c                               # root u < 0
    P = np.where(raise_, A, B)
    Q = np.where(raise_, B, A)
    C = np.where(raise_, c, -c)
    move = raise_ | lower
    degenerate = move & (P <= DEGENERATE * (P + Q + np.abs(C))) & (C >= -Q / 8.0)
    regular = move & ~degenerate
    s = np.ones_like(A)
    if regular.any():
        s[regular] = _solve_pole(P[regular], Q[regular], C[regular])
    # alpha = 1/(2(1-u)), beta = 1/(2(1+u)); w' = alpha (w+x) - beta (x-w), x' = alpha (w+x) + beta (x-w)
    alpha = np.where(raise_, 0.5 / s, 0.5 / (2.0 - s))
    beta = np.where(raise_, 0.5 / (2.0 - s), 0.5 / s)
    alpha = np.where(move, alpha, 0.5)
    beta = np.where(move, beta, 0.5)
    wn = alpha[..., None] * su - beta[..., None] * dv
    xn = alpha[..., None] * su + beta[..., None] * dv
    if degenerate.any():
        # the pole vector (w+x when raising, x-w when lowering) becomes r * direction, the other halves
        pole = np.where(raise_[..., None], su, dv)
        other = np.where(raise_[..., None], dv, su)
        norm = np.sqrt(np.sum(pole * pole, axis=-1))
        r = np.sqrt(np.maximum(2.0 * C + Q / 4.0, 0.0))
        direction = np.where((norm > 0)[..., None], pole / np.where(norm > 0, norm, 1.0)[..., None],
                             1.0 / np.sqrt(m))
        pole_new = (r * np.sqrt(2.0))[..., None] * direction   # sqrt2 U' (or sqrt2 V')
        other_new = 0.5 * other
        wd = np.where(raise_[..., None], 0.5 * (pole_new - other_new), 0.5 * (other_new - pole_new))
        xd = 0.5 * (pole_new + other_new)
        wn = np.where(degenerate[..., None], wd, wn)
        xn = np.where(degenerate[..., None], xd, xn)
    return wn, xn


# ---------------------------------------------------------------------------------------------------
# BTF trio projection onto {y in {+-1}, y (w . x) >= delta}
# ---------------------------------------------------------------------------------------------------
def btf_project(w, x, y, delta):
    """Nearest (w', x', y') with y' = +-1 and y' (w'.x') >= delta. w, x: (..., m); y, delta: (...).
    If y (w.x) > 0 the sign of y is kept (provably optimal); otherwise both signs are tried and the
    cheaper wins (ties go to +1)."""
    w = np.asarray(w, dtype=np.float64)
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    delta = np.broadcast_to(np.asarray(delta, dtype=np.float64), y.shape)
    p = np.sum(w * x, axis=-1)
    out = []
    for sgn in (1.0, -1.0):
        keep = sgn * p >= delta
        wp, xp = bilinear_project(w, x, sgn * delta)
        wp = np.where(keep[..., None], w, wp)
        xp = np.where(keep[..., None], x, xp)
        cost = (sgn - y) ** 2 + np.sum((wp - w) ** 2, axis=-1) + np.sum((xp - x) ** 2, axis=-1)
        out.append((wp, xp, cost))
    (wp, xp, cp), (wm, xm, cm) = out
    same_sign = y * p > 0
    choose_plus = np.where(same_sign, y > 0, cp <= cm)
    wn = np.where(choose_plus[..., None], wp, wm)
    xn = np.where(choose_plus[..., None], xp, xm)
    yn = np.where(choose_plus, 1.0, -1.0)
    return wn, xn, yn


def _degree_groups(graph: KernelGraph):
    """BTF nodes grouped by in-degree: [(nodes (k,), edge ids (k, m)), ...]."""
    nodes = np.arange(graph.first_btf, len(graph.in_start) - 1)
    deg = graph.in_start[nodes + 1] - graph.in_start[nodes]
    groups = []
    for m in np.unique(deg):
        sel = nodes[deg == m]
        groups.append((sel, graph.in_start[sel][:, None] + np.arange(m)[None, :]))
    return groups


# ---------------------------------------------------------------------------------------------------
# P_A and P_B
# ---------------------------------------------------------------------------------------------------
def project_inputs(zy_inputs, inputs, input_mode):
    """A-projection of the input nodes' values (T, N, n_in): fixed data, free +-1, or free one-hot."""
    if input_mode == INPUT_DATA:
        return np.broadcast_to(inputs, zy_inputs.shape).copy()
    if input_mode == INPUT_BINARY:
        return np.where(zy_inputs >= 0, 1.0, -1.0)
    if input_mode == INPUT_ONEHOT:
        out = -np.ones_like(zy_inputs)
        np.put_along_axis(out, np.argmax(zy_inputs, axis=-1)[..., None], 1.0, axis=-1)
        return out
    raise ValueError(f"unknown input mode {input_mode}")


def project_A(zw, zx, zy, graph: KernelGraph, inputs, input_mode=INPUT_DATA):
    """Constraint A: bias = -1, inputs per input mode, every BTF trio projected independently."""
    wa, xa, ya = zw.copy(), zx.copy(), zy.copy()
    ya[..., 0] = -1.0
    n_in = graph.first_btf - 1
    ya[..., 1:n_in + 1] = project_inputs(zy[..., 1:n_in + 1], inputs, input_mode)
    for nodes, edges in _degree_groups(graph):
        wn, xn, yn = btf_project(zw[..., edges], zx[..., edges], zy[..., nodes], graph.delta[nodes])
        wa[..., edges], xa[..., edges], ya[..., nodes] = wn, xn, yn
    return wa, xa, ya


def support_project(w, s):
    """Nearest point to ``w`` (..., m) among the majority gates of support s: s weights at
    +-sqrt(m / s), the rest 0. It keeps the s largest |w| (the first on ties) with their signs (0 counts
    as +): maximising w . v over that set is a sort."""
    m = w.shape[-1]
    idx = np.argsort(-np.abs(w), axis=-1, kind="stable")[..., :s]
    out = np.zeros_like(w)
    vals = np.where(np.take_along_axis(w, idx, axis=-1) >= 0, 1.0, -1.0) * np.sqrt(m / s)
    np.put_along_axis(out, idx, vals, axis=-1)
    return out


def project_B(rw, rx, ry, g, graph: KernelGraph, labels):
    """Constraint B with metric g (T, N, V): one weight set per trial, normalised to |w_n|^2 = m_n
    (returned as (T, E)); each sender's value equal to all its copies; outputs equal to the labels."""
    T, N, E = rw.shape
    V = ry.shape[-1]
    g_edge = g[..., graph.recv]                                   # metric of each edge's receiver
    wbar = np.sum(g_edge * rw, axis=1) / np.sum(g_edge, axis=1)  # (T, E)
    wb = np.empty_like(wbar)
    for n in range(graph.first_btf, V):
        lo, hi = graph.in_start[n], graph.in_start[n + 1]
        norm = np.sqrt(np.sum(wbar[:, lo:hi] ** 2, axis=-1, keepdims=True))
        scale = np.sqrt(hi - lo)
        wb[:, lo:hi] = np.where(norm > 0, wbar[:, lo:hi] * scale / np.where(norm > 0, norm, 1.0), 1.0)
        if graph.support is not None and graph.support[n] > 0:   # weights concurred onto a gate
            wb[:, lo:hi] = support_project(wbar[:, lo:hi], int(graph.support[n]))
    # values: weighted mean of y[s] and its copies x[e] on the out-edges of s
    num = g * ry
    den = g.copy()
    np.add.at(num, (slice(None), slice(None), graph.send), g_edge * rx)
    np.add.at(den, (slice(None), slice(None), graph.send), g_edge)
    yb = num / den
    yb[..., graph.first_output:] = labels
    xb = yb[..., graph.send]
    return wb, xb, yb


def rrr_step(zw, zx, zy, g, graph: KernelGraph, inputs, labels, beta, gamma, input_mode=INPUT_DATA):
    """One RRR iteration z <- z + beta (P_B(2 P_A z - z) - P_A z) and the metric update.
    Returns (zw, zx, zy, g, wb, gap_node, gap): the new state, the concurred weights (T, E), the gap of
    every (trial, item, BTF node) and the reported gap sqrt(mean gap) per trial (T,)."""
    wa, xa, ya = project_A(zw, zx, zy, graph, inputs, input_mode)
    wb, xb, yb = project_B(2 * wa - zw, 2 * xa - zx, 2 * ya - zy, g, graph, labels)
    dw = wb[:, None, :] - wa
    dx = xb - xa
    dy = yb - ya
    V = zy.shape[-1]
    edge_gap = dw * dw + dx * dx
    gap_node = dy * dy
    np.add.at(gap_node, (slice(None), slice(None), graph.recv), edge_gap)
    gap_node[..., :graph.first_btf] = 0.0
    btf = slice(graph.first_btf, V)
    mean = gap_node[..., btf].mean(axis=(1, 2))                # (T,)
    g = g.copy()
    safe = np.where(mean > 0, mean, 1.0)[:, None, None]
    g[..., btf] = np.where(mean[:, None, None] > 0,
                           g[..., btf] + gamma * (gap_node[..., btf] / safe - g[..., btf]), g[..., btf])
    return zw + beta * dw, zx + beta * dx, zy + beta * dy, g, wb, gap_node, np.sqrt(mean)


def initial_state(rng, T, N, graph: KernelGraph, inputs, labels, input_mode=INPUT_DATA):
    """w, x ~ U[-1,1]; hidden y ~ U[-1,1]; inputs = data (free inputs ~ U[-1,1]); outputs = labels;
    bias = -1; g = 1."""
    E = len(graph.recv)
    V = len(graph.in_start) - 1
    zw = rng.uniform(-1.0, 1.0, (T, N, E))
    zx = rng.uniform(-1.0, 1.0, (T, N, E))
    zy = rng.uniform(-1.0, 1.0, (T, N, V))
    zy[..., 0] = -1.0
    n_in = graph.first_btf - 1
    if input_mode == INPUT_DATA:
        zy[..., 1:n_in + 1] = inputs
    zy[..., graph.first_output:] = labels
    g = np.ones((T, N, V))
    return zw, zx, zy, g
