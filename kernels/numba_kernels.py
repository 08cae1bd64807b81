"""Numba CPU kernels: the reference maths (kernels/reference.py) as fused scalar loops, parallel over
(trial, item) pairs with prange. One call runs many RRR iterations so the Python loop above it only sees
checkpoints.

One iteration makes three passes over the state:
  1. per (trial, item): P_A of every trio, reflection, value concur, update of x and y, the x/y part of
     the gap, and (first) the metric update left pending by the previous iteration;
  2. per (trial, BTF node): the metric-weighted mean of the reflected weights over items, normalised;
  3. per (trial, item): update of w and the w part of the gap.
The metric update needs the mean gap over all items, so it is applied lazily at the start of the next
pass 1 (and once more before returning), which is the same maths as applying it at the end.
"""
from __future__ import annotations

import numpy as np
from numba import njit, prange

from .reference import DEGENERATE, NEWTON_MAXIT, NEWTON_RTOL

# kernel status codes per trial
RUNNING, BELOW_GAPSTOP, AT_MAX_ITER = 0, 1, 2


@njit(cache=True, inline="always")
def _newton_step(P, Q, C, s, lo, hi):
    """One safeguarded Newton step for the root s in (0, 1] of (P/s^2 - Q/(2-s)^2)/2 = C (see
    reference._solve_pole): returns (s, lo, hi, done)."""
    r = 2.0 - s
    h = 0.5 * (P / (s * s) - Q / (r * r)) - C
    dh = -(P / (s * s * s) + Q / (r * r * r))
    if h > 0:
        lo = s
    else:
        hi = s
    snew = s - h / dh
    # bisect when the step leaves the bracket, unless it is already below the tolerance (at the root
    # s is a bracket end; see reference._solve_pole). NaN steps bisect too.
    if not (snew > lo and snew < hi) and not (abs(snew - s) <= NEWTON_RTOL * s):
        snew = 0.5 * (lo + hi)
    return snew, lo, hi, abs(snew - s) <= NEWTON_RTOL * snew


@njit(cache=True, inline="always")
def _solve_pole(P, Q, C):
    s = 1.0
    lo = 0.0
    hi = 1.0
    for _ in range(NEWTON_MAXIT):
        s, lo, hi, done = _newton_step(P, Q, C, s, lo, hi)
        if done:
            break
    return s


# A trio projection reads the trio's (w, x) once for the sums A = |w+x|^2/2, B = |x-w|^2/2, p = w.x;
# everything after that is scalar until the chosen result is written. Off the degenerate case the
# bilinear projection is the affine map w' = a(w+x) - b(x-w), x' = a(w+x) + b(x-w), whose squared move
# is 4(a-1/2)^2 A + 4(b-1/2)^2 B: both sign candidates are compared without writing either.
KEEP, AFFINE, POLE_UP, POLE_DOWN = 0, 1, 2, 3  # POLE_*: no root, raise or lower w.x


@njit(cache=True, inline="always")
def _trio_sums(w, x, lo, hi):
    A = 0.0
    B = 0.0
    p = 0.0
    for k in range(lo, hi):
        su = w[k] + x[k]
        dv = x[k] - w[k]
        A += su * su
        B += dv * dv
        p += w[k] * x[k]
    return 0.5 * A, 0.5 * B, p


@njit(cache=True, inline="always")
def _bilinear_plan(A, B, p, c):
    """How (w, x) with sums (A, B, p) moves onto w.x = c: (kind, a, b, r). AFFINE uses (a, b); POLE_*
    (no root: the pole vector takes length r along its own direction) uses r."""
    if p == c:
        return KEEP, 0.0, 0.0, 0.0
    raise_ = p < c
    if raise_:
        P, Q, C = A, B, c
    else:
        P, Q, C = B, A, -c
    if P <= DEGENERATE * (P + Q + abs(C)) and C >= -Q / 8.0:
        r = np.sqrt(max(2.0 * C + Q / 4.0, 0.0)) * np.sqrt(2.0)
        return (POLE_UP if raise_ else POLE_DOWN), 0.0, 0.0, r
    s = _solve_pole(P, Q, C)
    if raise_:
        return AFFINE, 0.5 / s, 0.5 / (2.0 - s), 0.0
    return AFFINE, 0.5 / (2.0 - s), 0.5 / s, 0.0


@njit(cache=True, inline="always")
def _pole_move(w, x, lo, hi, raise_, r, wo, xo, write):
    """The POLE case, written into (wo, xo) when ``write``; returns the squared move."""
    m = hi - lo
    norm = 0.0
    for k in range(lo, hi):
        pk = (w[k] + x[k]) if raise_ else (x[k] - w[k])
        norm += pk * pk
    norm = np.sqrt(norm)
    cost = 0.0
    for k in range(lo, hi):
        su = w[k] + x[k]
        dv = x[k] - w[k]
        pk = su if raise_ else dv
        ok = dv if raise_ else su
        d = pk / norm if norm > 0 else 1.0 / np.sqrt(m)
        pn = r * d
        on = 0.5 * ok
        wk = 0.5 * (pn - on) if raise_ else 0.5 * (on - pn)
        xk = 0.5 * (pn + on)
        cost += (wk - w[k]) ** 2 + (xk - x[k]) ** 2
        if write:
            wo[k] = wk
            xo[k] = xk
    return cost


@njit(cache=True, inline="always")
def _plan_cost(w, x, lo, hi, A, B, kind, a, b, r):
    if kind == KEEP:
        return 0.0
    if kind == AFFINE:
        return 4.0 * (a - 0.5) ** 2 * A + 4.0 * (b - 0.5) ** 2 * B
    return _pole_move(w, x, lo, hi, kind == POLE_UP, r, w, x, False)


@njit(cache=True, inline="always")
def _apply_plan(w, x, lo, hi, kind, a, b, r, wo, xo):
    if kind == KEEP:
        for k in range(lo, hi):
            wo[k] = w[k]
            xo[k] = x[k]
    elif kind == AFFINE:
        for k in range(lo, hi):
            su = w[k] + x[k]
            dv = x[k] - w[k]
            wo[k] = a * su - b * dv
            xo[k] = a * su + b * dv
    else:
        _pole_move(w, x, lo, hi, kind == POLE_UP, r, wo, xo, True)


@njit(cache=True, inline="always")
def _move_lower_bound(A, B, p, c):
    """A lower bound on the squared move of (w, x) onto w.x = c. The gradient of w.x at z = (w, x) has
    length |z| = sqrt(A + B), so along a move of length D it changes by at most D (|z| + D): D is at
    least the positive root of D^2 + |z| D = |c - p|. Shrunk by 1e-6 to stay a bound after rounding."""
    gap = abs(c - p)
    root = 2.0 * gap / (np.sqrt(A + B) + np.sqrt(A + B + 4.0 * gap))
    return (1.0 - 1e-6) * root * root


@njit(cache=True, inline="always")
def _sign_plan(A, B, p, ys, delta):
    """Plan for output sign ys: keep (w, x) when its margin holds, else move onto w.x = ys delta."""
    if ys * p >= delta:
        return KEEP, 0.0, 0.0, 0.0
    return _bilinear_plan(A, B, p, ys * delta)


@njit(cache=True, inline="always")
def _btf_project(w, x, lo, hi, y, delta, wo, xo):
    """Trio projection (see reference.btf_project) of w[lo:hi], x[lo:hi] into wo, xo; returns y'."""
    A, B, p = _trio_sums(w, x, lo, hi)
    if y * p > 0:
        ys = 1.0 if y > 0 else -1.0
        kind, a, b, r = _sign_plan(A, B, p, ys, delta)
        _apply_plan(w, x, lo, hi, kind, a, b, r, wo, xo)
        return ys
    # both signs: keep the cheaper (ties to +1). The sign with the lower bound on its cost is planned
    # first (a kept sign's bound is its exact cost); the other is solved only if its bound does not
    # already lose to that exact cost: same choice, same result, fewer root solves.
    lbp = (1.0 - y) ** 2 + (0.0 if p >= delta else _move_lower_bound(A, B, p, delta))
    lbm = (-1.0 - y) ** 2 + (0.0 if -p >= delta else _move_lower_bound(A, B, p, -delta))
    first = 1.0 if lbp <= lbm else -1.0
    k1, a1, b1, r1 = _sign_plan(A, B, p, first, delta)
    c1 = (first - y) ** 2 + _plan_cost(w, x, lo, hi, A, B, k1, a1, b1, r1)
    if (lbm if first > 0 else lbp) <= c1:
        k2, a2, b2, r2 = _sign_plan(A, B, p, -first, delta)
        c2 = (-first - y) ** 2 + _plan_cost(w, x, lo, hi, A, B, k2, a2, b2, r2)
        if c2 < c1 or (c2 == c1 and first < 0):
            _apply_plan(w, x, lo, hi, k2, a2, b2, r2, wo, xo)
            return -first
    _apply_plan(w, x, lo, hi, k1, a1, b1, r1, wo, xo)
    return first


@njit(cache=True)
def bilinear_project_into(w, x, c, wo, xo):
    """Nearest (wo, xo) to (w, x) with wo . xo = c (1-D arrays). Returns the squared move."""
    n = w.shape[0]
    A, B, p = _trio_sums(w, x, 0, n)
    kind, a, b, r = _bilinear_plan(A, B, p, c)
    _apply_plan(w, x, 0, n, kind, a, b, r, wo, xo)
    cost = 0.0
    for k in range(n):
        cost += (wo[k] - w[k]) ** 2 + (xo[k] - x[k]) ** 2
    return cost


@njit(cache=True)
def btf_project_into(w, x, y, delta, wo, xo):
    """Trio projection (see reference.btf_project) of 1-D (w, x) into (wo, xo); returns y'."""
    return _btf_project(w, x, 0, w.shape[0], y, delta, wo, xo)


@njit(cache=True)
def _input_values(zy, inputs_i, ya, n_in, input_mode):
    if input_mode == 0:
        for j in range(n_in):
            ya[1 + j] = inputs_i[j]
    elif input_mode == 1:
        for j in range(n_in):
            ya[1 + j] = 1.0 if zy[1 + j] >= 0 else -1.0
    else:
        best = 0
        for j in range(n_in):
            ya[1 + j] = -1.0
            if zy[1 + j] > zy[1 + best]:
                best = j
        ya[1 + best] = 1.0


# One RRR iteration of one trial is: pass 1 per item (_item_pass), pass 2 per BTF node (_node_concur),
# pass 3 per item (_item_weight_update), then the trial's gap (_close_iteration). rrr_run runs the
# passes in parallel over (trial, item) or (trial, node), with a barrier between passes; rrr_run_trials
# gives each thread whole trials and has no barrier inside a chunk of iterations (batched restarts:
# robust when other processes share the cores). Both do the same operations in the same order per trial,
# so their results are identical.

@njit(cache=True)
def _item_pass(t, i, zw, zx, zy, g, wa, xa, ya, gap_node, num, den, send, in_start, delta, first_btf,
               first_output, inputs, labels, input_mode, beta, gamma, pending):
    """P_A of every trio of item i, reflection, value concur, x and y updates, the x/y part of the gap;
    first the metric update left pending by the previous iteration (mean gap ``pending``, 0 = none).

    The value concur of a sender s sums over its out-edges, which are scattered; instead each trio,
    right after its projection, adds its in-edges' reflected copies into num/den (T, N, V scratch) of
    their senders while they are hot, and the x update walks in-edges contiguously again. The sums are
    taken in the same order as sender-major loops (edges sorted by receiver, then sender)."""
    V = zy.shape[2]
    n_in = first_btf - 1
    if pending > 0:
        inv = 1.0 / pending
        for n in range(first_btf, V):
            g[t, i, n] += gamma * (gap_node[t, i, n] * inv - g[t, i, n])
    zyi = zy[t, i]
    yai = ya[t, i]
    yai[0] = -1.0
    _input_values(zyi, inputs[i], yai, n_in, input_mode)
    zwi = zw[t, i]
    zxi = zx[t, i]
    wai = wa[t, i]
    xai = xa[t, i]
    gi = g[t, i]
    numi = num[t, i]
    deni = den[t, i]
    for s in range(first_btf):
        numi[s] = gi[s] * (2.0 * yai[s] - zyi[s])
        deni[s] = gi[s]
    for n in range(first_btf, V):
        lo = in_start[n]
        hi = in_start[n + 1]
        yn = _btf_project(zwi, zxi, lo, hi, zyi[n], delta[n], wai, xai)
        yai[n] = yn
        if n < first_output:
            numi[n] = gi[n] * (2.0 * yn - zyi[n])
            deni[n] = gi[n]
        gn = gi[n]
        for e in range(lo, hi):
            s = send[e]
            numi[s] += gn * (2.0 * xai[e] - zxi[e])
            deni[s] += gn
    for s in range(V):  # the concurred value of every node (kept in num)
        numi[s] = labels[i, s - first_output] if s >= first_output else numi[s] / deni[s]
        d = numi[s] - yai[s]
        zyi[s] += beta * d
    gapi = gap_node[t, i]
    for n in range(first_btf, V):
        acc = 0.0
        for e in range(in_start[n], in_start[n + 1]):
            d = numi[send[e]] - xai[e]
            zxi[e] += beta * d
            acc += d * d
        d = numi[n] - yai[n]
        gapi[n] = acc + d * d


@njit(cache=True)
def _node_concur(t, n, zw, g, wa, wb, in_start):
    """Weight concur of node n: metric-weighted item mean of the reflected weights, |w_n|^2 = m_n."""
    N = zw.shape[1]
    lo = in_start[n]
    hi = in_start[n + 1]
    for e in range(lo, hi):
        wb[t, e] = 0.0
    den = 0.0
    for i in range(N):
        gg = g[t, i, n]
        den += gg
        for e in range(lo, hi):
            wb[t, e] += gg * (2.0 * wa[t, i, e] - zw[t, i, e])
    norm = 0.0
    for e in range(lo, hi):
        wb[t, e] /= den
        norm += wb[t, e] * wb[t, e]
    norm = np.sqrt(norm)
    scale = np.sqrt(hi - lo)
    for e in range(lo, hi):
        wb[t, e] = wb[t, e] * scale / norm if norm > 0 else 1.0


@njit(cache=True)
def _item_weight_update(t, i, zw, wa, wb, gap_node, in_start, first_btf, beta):
    """z_w += beta (w_B - w_A) for item i and the weight part of its gap; returns the item's total gap."""
    V = gap_node.shape[2]
    total = 0.0
    for n in range(first_btf, V):
        acc = gap_node[t, i, n]
        for e in range(in_start[n], in_start[n + 1]):
            d = wb[t, e] - wa[t, i, e]
            zw[t, i, e] += beta * d
            acc += d * d
        gap_node[t, i, n] = acc
        total += acc
    return total


@njit(cache=True)
def _close_iteration(t, it, item_gap, n_btf, gapstop, iters, max_iter, status, gap_out):
    """The trial's reported gap sqrt(mean gap) and its stopping rules; returns the mean gap."""
    N = item_gap.shape[1]
    total = 0.0
    for i in range(N):
        total += item_gap[t, i]
    mean = total / (N * n_btf)
    gap_out[t, it] = np.sqrt(mean)
    iters[t] += 1
    if np.sqrt(mean) < gapstop[t]:
        status[t] = BELOW_GAPSTOP
    elif iters[t] >= max_iter:
        status[t] = AT_MAX_ITER
    return mean


@njit(cache=True)
def _flush_metric(t, i, g, gap_node, first_btf, gamma, pending):
    if pending > 0:
        inv = 1.0 / pending
        for n in range(first_btf, g.shape[2]):
            g[t, i, n] += gamma * (gap_node[t, i, n] * inv - g[t, i, n])


@njit(cache=True, parallel=True)
def rrr_run(zw, zx, zy, g, wa, xa, ya, gap_node, wb, recv, send, in_start, out_start, out_edges,
            delta, first_btf, first_output, inputs, labels, input_mode, beta, gamma, gapstop,
            iters, max_iter, status, pending_mean, n_iter, gap_out):
    """Run up to n_iter RRR iterations on every trial whose status is RUNNING, parallel over items.

    State: zw, zx (T, N, E), zy, g (T, N, V). Scratch: wa, xa (T, N, E), ya, gap_node (T, N, V).
    Outputs: wb (T, E) concurred weights of each trial's last iteration, gap_out (T, n_iter) the reported
    gap per iteration (NaN-free; -1 where a trial did not run). gapstop (T,) is each trial's threshold.
    iters (T,) counts iterations done, status (T,) becomes BELOW_GAPSTOP or AT_MAX_ITER when a trial
    stops. pending_mean (T,) is scratch for the metric update that waits for the mean gap (0 on return).
    Returns the number of iterations the loop ran."""
    T, N, E = zw.shape
    V = zy.shape[2]
    n_btf = V - first_btf
    gap_out[:, :] = -1.0
    item_gap = np.zeros((T, N))
    num = np.empty((T, N, V))  # value-concur sums per item (scratch)
    den = np.empty((T, N, V))
    ran = 0
    for it in range(n_iter):
        any_running = False
        for t in range(T):
            if status[t] == RUNNING:
                any_running = True
        if not any_running:
            break
        ran += 1
        for k in prange(T * N):
            t = k // N
            if status[t] == RUNNING:
                _item_pass(t, k - t * N, zw, zx, zy, g, wa, xa, ya, gap_node, num, den, send, in_start,
                           delta, first_btf, first_output, inputs, labels, input_mode, beta, gamma,
                           pending_mean[t])
        for k in prange(T * n_btf):
            t = k // n_btf
            if status[t] == RUNNING:
                _node_concur(t, first_btf + k - t * n_btf, zw, g, wa, wb, in_start)
        for k in prange(T * N):
            t = k // N
            if status[t] == RUNNING:
                item_gap[t, k - t * N] = _item_weight_update(t, k - t * N, zw, wa, wb, gap_node, in_start,
                                                             first_btf, beta)
        for t in range(T):
            if status[t] == RUNNING:
                pending_mean[t] = _close_iteration(t, it, item_gap, n_btf, gapstop, iters, max_iter, status,
                                                   gap_out)
    for k in prange(T * N):  # apply the pending metric updates so the returned state is complete
        t = k // N
        _flush_metric(t, k - t * N, g, gap_node, first_btf, gamma, pending_mean[t])
    pending_mean[:] = 0.0
    return ran


@njit(cache=True, parallel=True)
def rrr_run_trials(zw, zx, zy, g, wa, xa, ya, gap_node, wb, recv, send, in_start, out_start, out_edges,
                   delta, first_btf, first_output, inputs, labels, input_mode, beta, gamma, gapstop,
                   iters, max_iter, status, pending_mean, n_iter, gap_out):
    """rrr_run with whole trials per thread: the same results, one parallel region per call."""
    T, N, E = zw.shape
    V = zy.shape[2]
    n_btf = V - first_btf
    gap_out[:, :] = -1.0
    item_gap = np.zeros((T, N))
    num = np.empty((T, N, V))  # value-concur sums per item (scratch)
    den = np.empty((T, N, V))
    for t in prange(T):
        pending = 0.0
        for it in range(n_iter):
            if status[t] != RUNNING:
                break
            for i in range(N):
                _item_pass(t, i, zw, zx, zy, g, wa, xa, ya, gap_node, num, den, send, in_start, delta,
                           first_btf, first_output, inputs, labels, input_mode, beta, gamma, pending)
            for n in range(first_btf, V):
                _node_concur(t, n, zw, g, wa, wb, in_start)
            for i in range(N):
                item_gap[t, i] = _item_weight_update(t, i, zw, wa, wb, gap_node, in_start, first_btf, beta)
            pending = _close_iteration(t, it, item_gap, n_btf, gapstop, iters, max_iter, status, gap_out)
        for i in range(N):
            _flush_metric(t, i, g, gap_node, first_btf, gamma, pending)
    return n_iter
