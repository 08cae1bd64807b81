"""Numba CPU kernels: the reference maths (kernels/reference.py) as fused loops, parallel over trials
and blocks of items. One call runs many RRR iterations so the Python loop above it only sees
checkpoints.

Layout: the item index is innermost, as on the GPU: zw, zx, wa, xa are (T, E, N), zy, g, ya, gap_node
(T, V, N). Every loop over edges or nodes then runs across a block of items with unit stride, so the
sums, the affine writes, the value and weight concur and the updates are SIMD loops, and the root solves
of a block's trios at one node advance in lock-step (SIMD Newton). Per item, every operation is the
scalar one in the scalar order, so the results do not depend on the block size or the layout.

One iteration makes three passes over the state:
  1. per (trial, block of items): P_A of every trio, reflection, value concur, update of x and y, the
     x/y part of the gap, and (first) the metric update left pending by the previous iteration;
  2. per (trial, BTF node): the metric-weighted mean of the reflected weights over items, normalised;
  3. per (trial, block of items): update of w and the w part of the gap.
The metric update needs the mean gap over all items, so it is applied lazily at the start of the next
pass 1 (and once more before returning), which is the same maths as applying it at the end.
"""
from __future__ import annotations

import numpy as np
from numba import njit, prange

from .cache import use_kernel_folder
from .graph import AT_MAX_ITER, BELOW_GAPSTOP, INPUT_BINARY, INPUT_DATA, RUNNING
from .reference import DEGENERATE, NEWTON_MAXIT, NEWTON_RTOL

use_kernel_folder()  # before the @njit(cache=True) below: their cache is kernels/compiled/

# How a trio moves: KEEP, AFFINE (the bilinear projection w' = a(w+x) - b(x-w), x' = a(w+x) + b(x-w),
# whose squared move is 4(a-1/2)^2 A + 4(b-1/2)^2 B with A = |w+x|^2/2, B = |x-w|^2/2), or POLE_UP /
# POLE_DOWN (no root: the pole vector takes length r along its own direction; raise or lower w.x).
KEEP, AFFINE, POLE_UP, POLE_DOWN = 0, 1, 2, 3
LOCKSTEP_MIN = 4  # a lock-step root batch stops at this many unfinished roots; they finish one by one

# rows of the per-item plan scratch (T, PLAN_ROWS, N) and (T, PLAN_INT_ROWS, N); rows REQ..REQ+6 queue
# root requests for _solve_batch (P, Q, C, then its S, LO, HI, ACT)
SUM_A, SUM_B, SUM_P, COEF_A, COEF_B = 0, 1, 2, 3, 4
REQ = 12
PLAN_ROWS, PLAN_INT_ROWS = 19, 5


@njit(cache=True)
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


@njit(cache=True)
def _solve_batch(P, Q, C, S, LO, HI, ACT, cnt):
    """Roots S[j] of (P/s^2 - Q/(2-s)^2)/2 = C for j < cnt, each exactly as _newton_step iterated from
    s = 1: the steps run in lock-step across requests (a SIMD loop; a finished request is frozen), the
    last few requests finish one by one."""
    for j in range(cnt):
        S[j] = 1.0
        LO[j] = 0.0
        HI[j] = 1.0
        ACT[j] = 1.0
    active = cnt
    it = 0
    while active > LOCKSTEP_MIN and it < NEWTON_MAXIT:
        active = 0
        for j in range(cnt):
            s = S[j]
            lo = LO[j]
            hi = HI[j]
            Pj = P[j]
            Qj = Q[j]
            r = 2.0 - s
            h = 0.5 * (Pj / (s * s) - Qj / (r * r)) - C[j]
            dh = -(Pj / (s * s * s) + Qj / (r * r * r))
            pos = h > 0
            lo2 = s if pos else lo
            hi2 = hi if pos else s
            sn = s - h / dh
            ok = ((sn > lo2) & (sn < hi2)) | (abs(sn - s) <= NEWTON_RTOL * s)
            sn = sn if ok else 0.5 * (lo2 + hi2)
            done = abs(sn - s) <= NEWTON_RTOL * sn
            run = ACT[j] > 0.0
            S[j] = sn if run else s
            LO[j] = lo2 if run else lo
            HI[j] = hi2 if run else hi
            go = run & (not done)
            ACT[j] = 1.0 if go else 0.0
            active += 1 if go else 0
        it += 1
    if active > 0:
        for j in range(cnt):
            if ACT[j] > 0.0:
                s = S[j]
                lo = LO[j]
                hi = HI[j]
                for _ in range(it, NEWTON_MAXIT):
                    s, lo, hi, done = _newton_step(P[j], Q[j], C[j], s, lo, hi)
                    if done:
                        break
                S[j] = s


@njit(cache=True)
def _bilinear_pre(A, B, p, c):
    """How (w, x) with sums (A, B, p) moves onto w.x = c, up to the root solve: (kind, raise_, P, Q, C,
    r). AFFINE means the root s of (P, Q, C) is due (see _coefficients); POLE_* carries r."""
    if p == c:
        return KEEP, False, 0.0, 0.0, 0.0, 0.0
    raise_ = p < c
    if raise_:
        P, Q, C = A, B, c
    else:
        P, Q, C = B, A, -c
    if P <= DEGENERATE * (P + Q + abs(C)) and C >= -Q / 8.0:
        r = np.sqrt(max(2.0 * C + Q / 4.0, 0.0)) * np.sqrt(2.0)
        return (POLE_UP if raise_ else POLE_DOWN), raise_, P, Q, C, r
    return AFFINE, raise_, P, Q, C, 0.0


@njit(cache=True)
def _sign_pre(A, B, p, ys, delta):
    """Plan for output sign ys: keep (w, x) when its margin holds, else move onto w.x = ys delta."""
    if ys * p >= delta:
        return KEEP, False, 0.0, 0.0, 0.0, 0.0
    return _bilinear_pre(A, B, p, ys * delta)


@njit(cache=True)
def _coefficients(s, raise_):
    """The affine coefficients (a, b) of a move with root s."""
    if raise_:
        return 0.5 / s, 0.5 / (2.0 - s)
    return 0.5 / (2.0 - s), 0.5 / s


@njit(cache=True)
def _solve_requests(pl, s0, s1, cnt):
    """Solve the cnt root requests queued in rows REQ.. of pl[:, s0:s1]; the roots land in row REQ + 3."""
    _solve_batch(pl[REQ, s0:s1], pl[REQ + 1, s0:s1], pl[REQ + 2, s0:s1], pl[REQ + 3, s0:s1],
                 pl[REQ + 4, s0:s1], pl[REQ + 5, s0:s1], pl[REQ + 6, s0:s1], cnt)


@njit(cache=True)
def _solve_plans(pl, s0, s1, RI, RA, flag, CA, CB, cnt):
    """Solve the queued requests and give each request's item i its coefficients CA[i], CB[i] (raise
    flag: bit ``flag`` of RA[i])."""
    _solve_requests(pl, s0, s1, cnt)
    for j in range(cnt):
        i = RI[j]
        CA[i], CB[i] = _coefficients(pl[REQ + 3, s0 + j], RA[i] & flag)


@njit(cache=True)
def _move_lower_bound(A, B, p, c):
    """A lower bound on the squared move of (w, x) onto w.x = c. The gradient of w.x at z = (w, x) has
    length |z| = sqrt(A + B), so along a move of length D it changes by at most D (|z| + D): D is at
    least the positive root of D^2 + |z| D = |c - p|. Shrunk by 1e-6 to stay a bound after rounding."""
    gap = abs(c - p)
    root = 2.0 * gap / (np.sqrt(A + B) + np.sqrt(A + B + 4.0 * gap))
    return (1.0 - 1e-6) * root * root


@njit(cache=True)
def _pole_move(W, X, lo, hi, i, raise_, r, Wo, Xo, write):
    """The POLE move of trio (W[lo:hi, i], X[lo:hi, i]), written into (Wo, Xo) when ``write``; returns
    the squared move."""
    m = hi - lo
    norm = 0.0
    for k in range(lo, hi):
        pk = (W[k, i] + X[k, i]) if raise_ else (X[k, i] - W[k, i])
        norm += pk * pk
    norm = np.sqrt(norm)
    cost = 0.0
    for k in range(lo, hi):
        su = W[k, i] + X[k, i]
        dv = X[k, i] - W[k, i]
        pk = su if raise_ else dv
        ok = dv if raise_ else su
        d = pk / norm if norm > 0 else 1.0 / np.sqrt(m)
        pn = r * d
        on = 0.5 * ok
        wk = 0.5 * (pn - on) if raise_ else 0.5 * (on - pn)
        xk = 0.5 * (pn + on)
        cost += (wk - W[k, i]) ** 2 + (xk - X[k, i]) ** 2
        if write:
            Wo[k, i] = wk
            Xo[k, i] = xk
    return cost


@njit(cache=True)
def _plan_cost(W, X, lo, hi, i, A, B, kind, a, b):
    """Squared move of a plan (for POLE_* plans, a holds r)."""
    if kind == KEEP:
        return 0.0
    if kind == AFFINE:
        return 4.0 * (a - 0.5) ** 2 * A + 4.0 * (b - 0.5) ** 2 * B
    return _pole_move(W, X, lo, hi, i, kind == POLE_UP, a, W, X, np.bool_(False))


@njit(cache=True)
def _trio_sums(W, X, lo, hi, j0, m, SA, SB, SP):
    """Per item i < m of the block: SA = |w+x|^2, SB = |x-w|^2, SP = w.x of trio (W, X)[lo:hi, j0 + i]."""
    u0 = np.uint64(j0)
    for i in range(m):
        SA[i] = 0.0
        SB[i] = 0.0
        SP[i] = 0.0
    for e in range(lo, hi):
        for i in range(np.uint64(m)):
            w = W[e, u0 + i]
            x = X[e, u0 + i]
            su = w + x
            dv = x - w
            SA[i] += su * su
            SB[i] += dv * dv
            SP[i] += w * x


@njit(cache=True, error_model="numpy")  # no zero-division branches: the lock-step loop must vectorise
def plan_block(W, X, lo, hi, j0, m, Y, delta, YO, pl, pi):
    """The trio projections (reference.btf_project) of items j0..j0+m at one node, planned: sums in
    pl[SUM_*], y' into YO, kind into pi[0], coefficients into pl[COEF_A], pl[COEF_B] (COEF_A holds r for
    POLE_* plans). If y p > 0 the sign of y is kept; otherwise the sign with the lower bound on its cost
    is planned first and the other only if its bound does not already lose (ties to +1): the choice of
    _btf_project in the reference, with the root solves of all items batched. Returns whether any
    POLE_* move is due."""
    s0, s1 = j0, j0 + m
    SA, SB, SP = pl[SUM_A, s0:s1], pl[SUM_B, s0:s1], pl[SUM_P, s0:s1]
    CA, CB = pl[COEF_A, s0:s1], pl[COEF_B, s0:s1]
    F, LBO, A1, B1, C1, A2, B2 = (pl[5, s0:s1], pl[6, s0:s1], pl[7, s0:s1], pl[8, s0:s1], pl[9, s0:s1],
                                  pl[10, s0:s1], pl[11, s0:s1])
    RP, RQ, RC = pl[REQ, s0:s1], pl[REQ + 1, s0:s1], pl[REQ + 2, s0:s1]
    KIND, K1, K2, RA, RI = pi[0, s0:s1], pi[1, s0:s1], pi[2, s0:s1], pi[3, s0:s1], pi[4, s0:s1]
    _trio_sums(W, X, lo, hi, j0, m, SA, SB, SP)
    # first plan: the sign of y when y p > 0 (LBO = -1: the other sign is never tried), else the sign
    # with the lower bound (a kept sign's bound is its exact cost)
    cnt = np.int64(0)  # typed, not a literal: a literal argument would compile the callees twice
    for i in range(m):
        A = 0.5 * SA[i]
        B = 0.5 * SB[i]
        p = SP[i]
        y = Y[i]
        if y * p > 0:
            first = 1.0 if y > 0 else -1.0
            LBO[i] = -1.0
        else:
            lbp = (1.0 - y) ** 2 + (0.0 if p >= delta else _move_lower_bound(A, B, p, delta))
            lbm = (-1.0 - y) ** 2 + (0.0 if -p >= delta else _move_lower_bound(A, B, p, -delta))
            first = 1.0 if lbp <= lbm else -1.0
            LBO[i] = lbm if first > 0 else lbp
        F[i] = first
        kind, raise_, P, Q, C, r = _sign_pre(A, B, p, first, delta)
        K1[i] = kind
        RA[i] = 1 if raise_ else 0
        A1[i] = r
        if kind == AFFINE:
            RP[cnt], RQ[cnt], RC[cnt], RI[cnt] = P, Q, C, i
            cnt += 1
    _solve_plans(pl, s0, s1, RI, RA, np.int64(1), A1, B1, cnt)
    # second plan where the other sign's bound does not lose to the first plan's exact cost
    cnt = np.int64(0)
    for i in range(m):
        K2[i] = -1
        if LBO[i] < 0.0:
            continue
        A = 0.5 * SA[i]
        B = 0.5 * SB[i]
        first = F[i]
        C1[i] = (first - Y[i]) ** 2 + _plan_cost(W, X, lo, hi, j0 + i, A, B, K1[i], A1[i], B1[i])
        if LBO[i] <= C1[i]:
            kind, raise_, P, Q, C, r = _sign_pre(A, B, SP[i], -first, delta)
            K2[i] = kind
            RA[i] |= 2 if raise_ else 0
            A2[i] = r
            if kind == AFFINE:
                RP[cnt], RQ[cnt], RC[cnt], RI[cnt] = P, Q, C, i
                cnt += 1
    _solve_plans(pl, s0, s1, RI, RA, np.int64(2), A2, B2, cnt)
    pole = False
    for i in range(m):
        first = F[i]
        kind, a, b, ys = K1[i], A1[i], B1[i], first
        if K2[i] >= 0:
            c2 = (-first - Y[i]) ** 2 + _plan_cost(W, X, lo, hi, j0 + i, 0.5 * SA[i], 0.5 * SB[i], K2[i],
                                                   A2[i], B2[i])
            if c2 < C1[i] or (c2 == C1[i] and first < 0):
                kind, a, b, ys = K2[i], A2[i], B2[i], -first
        YO[i] = ys
        KIND[i] = kind
        CA[i] = a
        CB[i] = b
        pole = pole or kind >= POLE_UP
    return pole


@njit(cache=True)
def apply_block(W, X, lo, hi, j0, m, pl, pi, pole, WO, XO):
    """Write the planned trios of items j0..j0+m: a SIMD loop for KEEP and AFFINE, then the POLE_* ones.
    Hot loops index with unsigned columns (no wrap-around test) instead of row slices: every slice takes
    a reference on its parent array, an atomic that threads sharing an array fight over."""
    u0 = np.uint64(j0)
    for e in range(lo, hi):
        for i in range(np.uint64(m)):
            c = u0 + i
            w = W[e, c]
            x = X[e, c]
            su = w + x
            dv = x - w
            keep = pi[0, c] == KEEP
            WO[e, c] = w if keep else pl[COEF_A, c] * su - pl[COEF_B, c] * dv
            XO[e, c] = x if keep else pl[COEF_A, c] * su + pl[COEF_B, c] * dv
    if pole:
        for i in range(j0, j0 + m):
            if pi[0, i] >= POLE_UP:
                _pole_move(W, X, lo, hi, i, pi[0, i] == POLE_UP, pl[COEF_A, i], WO, XO, np.bool_(True))


@njit(cache=True)
def btf_project_block(W, X, y, delta, WO, XO):
    """Trio projections (reference.btf_project) of N trios at once: W, X (k, N), one trio per column;
    y (N,); writes WO, XO and returns y' (N,)."""
    N = W.shape[1]
    pl = np.empty((PLAN_ROWS, N))
    pi = np.empty((PLAN_INT_ROWS, N), np.int64)
    yo = np.empty(N)
    pole = plan_block(W, X, 0, W.shape[0], 0, N, y, delta, yo, pl, pi)
    apply_block(W, X, 0, W.shape[0], 0, N, pl, pi, pole, WO, XO)
    return yo


@njit(cache=True)
def btf_project_into(w, x, y, delta, wo, xo):
    """Trio projection (see reference.btf_project) of 1-D (w, x) into (wo, xo); returns y'."""
    k = w.shape[0]
    WO = np.empty((k, 1))
    XO = np.empty((k, 1))
    yo = btf_project_block(w.copy().reshape(k, 1), x.copy().reshape(k, 1), np.full(1, y), delta, WO, XO)
    wo[:] = WO[:, 0]
    xo[:] = XO[:, 0]
    return yo[0]


@njit(cache=True)
def bilinear_project_into(w, x, c, wo, xo):
    """Nearest (wo, xo) to (w, x) with wo . xo = c (1-D arrays). Returns the squared move."""
    k = w.shape[0]
    W = w.copy().reshape(k, 1)
    X = x.copy().reshape(k, 1)
    pl = np.empty((PLAN_ROWS, 1))
    pi = np.empty((PLAN_INT_ROWS, 1), np.int64)
    _trio_sums(W, X, 0, k, 0, 1, pl[SUM_A], pl[SUM_B], pl[SUM_P])
    kind, raise_, P, Q, C, r = _bilinear_pre(0.5 * pl[SUM_A, 0], 0.5 * pl[SUM_B, 0], pl[SUM_P, 0], c)
    pl[COEF_A, 0] = r
    if kind == AFFINE:
        pl[REQ, 0], pl[REQ + 1, 0], pl[REQ + 2, 0] = P, Q, C
        _solve_requests(pl, 0, 1, 1)
        pl[COEF_A, 0], pl[COEF_B, 0] = _coefficients(pl[REQ + 3, 0], raise_)
    pi[0, 0] = kind
    WO = np.empty((k, 1))
    XO = np.empty((k, 1))
    apply_block(W, X, 0, k, 0, 1, pl, pi, kind >= POLE_UP, WO, XO)
    wo[:] = WO[:, 0]
    xo[:] = XO[:, 0]
    cost = 0.0
    for e in range(k):
        cost += (wo[e] - w[e]) ** 2 + (xo[e] - x[e]) ** 2
    return cost


# One RRR iteration of one trial is: pass 1 per block of items (block_pass), pass 2 per BTF node
# (node_concur), pass 3 per block (block_weight_update), then the trial's gap (_close_iteration).
# rrr_run runs the passes in parallel over (trial, block) or (trial, node), with a barrier between
# passes; rrr_run_trials runs whole trials one after another without the GIL, so the caller runs one call
# per thread on its own trials, with no barrier inside a chunk of iterations (batched restarts: robust when
# other processes share the cores), and the first run compiles no parallel region. Both do the same
# operations in the same order per item and trial, so their results are identical for every block size.

@njit(cache=True)
def block_pass(t, j0, j1, zw, zx, zy, g, wa, xa, ya, gap_node, num, den, pl, pi, send, in_start, delta,
                first_btf, first_output, inputs, labels, input_mode, beta, gamma, pending):
    """P_A of every trio of items j0..j1, reflection, value concur, x and y updates, the x/y part of the
    gap; first the metric update left pending by the previous iteration (mean gap ``pending``, 0 = none).

    The value concur of a sender sums over its out-edges, which are scattered; instead each trio, right
    after its projection, adds its in-edges' reflected copies into num/den (T, V, N scratch) of their
    senders while they are hot, and the x update walks in-edges contiguously again. The sums are taken
    in the same order as sender-major loops (edges sorted by receiver, then sender). Item loops run over
    unsigned columns c = u0 + i (see apply_block)."""
    V = zy.shape[1]
    n_in = first_btf - 1
    m = j1 - j0
    u0 = np.uint64(j0)
    um = np.uint64(m)
    zwt, zxt, zyt, gt = zw[t], zx[t], zy[t], g[t]
    wat, xat, yat, numt, dent, gnt = wa[t], xa[t], ya[t], num[t], den[t], gap_node[t]
    plt, pit = pl[t], pi[t]
    if pending > 0:
        inv = 1.0 / pending
        for n in range(first_btf, V):
            for i in range(um):
                c = u0 + i
                gt[n, c] += gamma * (gnt[n, c] * inv - gt[n, c])
    for i in range(um):
        yat[0, u0 + i] = -1.0
    if input_mode == INPUT_DATA:
        for j in range(n_in):
            for i in range(um):
                yat[1 + j, u0 + i] = inputs[u0 + i, j]
    elif input_mode == INPUT_BINARY:
        for j in range(n_in):
            for i in range(um):
                yat[1 + j, u0 + i] = 1.0 if zyt[1 + j, u0 + i] >= 0 else -1.0
    else:
        for i in range(j0, j1):
            best = 0
            for j in range(n_in):
                yat[1 + j, i] = -1.0
                if zyt[1 + j, i] > zyt[1 + best, i]:
                    best = j
            yat[1 + best, i] = 1.0
    for s in range(first_btf):
        for i in range(um):
            c = u0 + i
            numt[s, c] = gt[s, c] * (2.0 * yat[s, c] - zyt[s, c])
            dent[s, c] = gt[s, c]
    for n in range(first_btf, V):
        lo = in_start[n]
        hi = in_start[n + 1]
        pole = plan_block(zwt, zxt, lo, hi, j0, m, zyt[n, j0:j1], delta[n], yat[n, j0:j1], plt, pit)
        apply_block(zwt, zxt, lo, hi, j0, m, plt, pit, pole, wat, xat)
        if n < first_output:
            for i in range(um):
                c = u0 + i
                numt[n, c] = gt[n, c] * (2.0 * yat[n, c] - zyt[n, c])
                dent[n, c] = gt[n, c]
        for e in range(lo, hi):
            s = send[e]
            for i in range(um):
                c = u0 + i
                numt[s, c] += gt[n, c] * (2.0 * xat[e, c] - zxt[e, c])
                dent[s, c] += gt[n, c]
    for s in range(V):  # the concurred value of every node (kept in num)
        if s >= first_output:
            for i in range(um):
                numt[s, u0 + i] = labels[u0 + i, s - first_output]
        else:
            for i in range(um):
                c = u0 + i
                numt[s, c] = numt[s, c] / dent[s, c]
        for i in range(um):
            c = u0 + i
            zyt[s, c] += beta * (numt[s, c] - yat[s, c])
    for n in range(first_btf, V):
        for i in range(um):
            gnt[n, u0 + i] = 0.0
        for e in range(in_start[n], in_start[n + 1]):
            s = send[e]
            for i in range(um):
                c = u0 + i
                d = numt[s, c] - xat[e, c]
                zxt[e, c] += beta * d
                gnt[n, c] += d * d
        for i in range(um):
            c = u0 + i
            d = numt[n, c] - yat[n, c]
            gnt[n, c] += d * d


@njit(cache=True)
def node_concur(t, n, zw, g, wa, wb, in_start):
    """Weight concur of node n: metric-weighted item mean of the reflected weights, |w_n|^2 = m_n."""
    N = np.uint64(zw.shape[2])
    lo = in_start[n]
    hi = in_start[n + 1]
    den = 0.0
    for i in range(N):
        den += g[t, n, i]
    norm = 0.0
    for e in range(lo, hi):
        acc = 0.0
        for i in range(N):
            acc += g[t, n, i] * (2.0 * wa[t, e, i] - zw[t, e, i])
        acc /= den
        wb[t, e] = acc
        norm += acc * acc
    norm = np.sqrt(norm)
    scale = np.sqrt(hi - lo)
    for e in range(lo, hi):
        wb[t, e] = wb[t, e] * scale / norm if norm > 0 else 1.0


@njit(cache=True)
def _support_project(t, n, wb, in_start, support):
    """Gate projection of node n's concurred weights when support[n] = s > 0: the s largest |w| (the
    first on ties) keep their signs (0 counts as +) at +-sqrt(m / s), the rest become 0 (a sort; s is
    small, so repeated maximum)."""
    s = support[n]
    if s <= 0:
        return
    lo = in_start[n]
    m = in_start[n + 1] - lo
    if s > m:
        s = m
    chosen = np.zeros(m, dtype=np.uint8)
    for _ in range(s):
        best = -1
        best_abs = -1.0
        for j in range(m):
            a = abs(wb[t, lo + j])
            if chosen[j] == 0 and a > best_abs:
                best_abs = a
                best = j
        chosen[best] = 1
    mag = np.sqrt(m / s)
    for j in range(m):
        if chosen[j] == 1:
            wb[t, lo + j] = mag if wb[t, lo + j] >= 0 else -mag
        else:
            wb[t, lo + j] = 0.0


@njit(cache=True)
def block_weight_update(t, j0, j1, zw, wa, wb, gap_node, item_gap, in_start, first_btf, beta):
    """z_w += beta (w_B - w_A) for items j0..j1, the weight part of their gap, and each item's total gap
    into item_gap."""
    V = gap_node.shape[1]
    u0 = np.uint64(j0)
    um = np.uint64(j1 - j0)
    for i in range(um):
        item_gap[t, u0 + i] = 0.0
    for n in range(first_btf, V):
        for e in range(in_start[n], in_start[n + 1]):
            wbe = wb[t, e]
            for i in range(um):
                c = u0 + i
                d = wbe - wa[t, e, c]
                zw[t, e, c] += beta * d
                gap_node[t, n, c] += d * d
        for i in range(um):
            item_gap[t, u0 + i] += gap_node[t, n, u0 + i]


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
def _flush_metric(t, j0, j1, g, gap_node, first_btf, gamma, pending):
    if pending > 0:
        inv = 1.0 / pending
        u0 = np.uint64(j0)
        for n in range(first_btf, g.shape[1]):
            for i in range(np.uint64(j1 - j0)):
                c = u0 + i
                g[t, n, c] += gamma * (gap_node[t, n, c] * inv - g[t, n, c])


@njit(cache=True)
def _trial_block(k, per_trial, size):
    """(trial, first index) of parallel work unit k, as signed integers: prange indices are unsigned in
    the parallel body, and mixing them with signed ones would give the callees a second signature."""
    k = np.int64(k)
    t = k // per_trial
    return t, (k - t * per_trial) * size


@njit(cache=True, parallel=True)
def rrr_run(zw, zx, zy, g, wa, xa, ya, gap_node, wb, send, in_start, delta, first_btf, first_output,
            inputs, labels, input_mode, beta, gamma, gapstop, iters, max_iter, status, pending_mean,
            n_iter, gap_out, block, num, den, pl, pi, item_gap, support):
    """Run up to n_iter RRR iterations on every trial whose status is RUNNING, parallel over (trial,
    block of ``block`` items).

    State (items innermost): zw, zx (T, E, N), zy, g (T, V, N). Scratch: wa, xa (T, E, N), ya, gap_node
    (T, V, N). Outputs: wb (T, E) concurred weights of each trial's last iteration, gap_out (T, n_iter)
    the reported gap per iteration (NaN-free; -1 where a trial did not run). gapstop (T,) is each
    trial's threshold. iters (T,) counts iterations done, status (T,) becomes BELOW_GAPSTOP or
    AT_MAX_ITER when a trial stops. pending_mean (T,) is scratch for the metric update that waits for the
    mean gap (0 on return). More scratch: num, den (T, V, N) value-concur sums, pl (T, PLAN_ROWS, N) and
    pi (T, PLAN_INT_ROWS, N) int64 trio plans, item_gap (T, N). Blocks of several threads share rows:
    the caller aligns the arrays to cache lines (see backends.aligned), or the threads fight over the
    lines at block boundaries. Returns the number of iterations the loop ran."""
    T, E, N = zw.shape
    V = zy.shape[1]
    n_btf = V - first_btf
    nb = (N + block - 1) // block
    gap_out[:, :] = -1.0
    ran = 0
    for it in range(n_iter):
        any_running = False
        for t in range(T):
            if status[t] == RUNNING:
                any_running = True
        if not any_running:
            break
        ran += 1
        for k in prange(T * nb):
            t, j0 = _trial_block(k, nb, block)
            if status[t] == RUNNING:
                block_pass(t, j0, min(j0 + block, N), zw, zx, zy, g, wa, xa, ya, gap_node, num, den, pl, pi,
                            send, in_start, delta, first_btf, first_output, inputs, labels, input_mode, beta,
                            gamma, pending_mean[t])
        for k in prange(T * n_btf):
            t, n = _trial_block(k, n_btf, 1)
            if status[t] == RUNNING:
                node_concur(t, first_btf + n, zw, g, wa, wb, in_start)
                _support_project(t, first_btf + n, wb, in_start, support)
        for k in prange(T * nb):
            t, j0 = _trial_block(k, nb, block)
            if status[t] == RUNNING:
                block_weight_update(t, j0, min(j0 + block, N), zw, wa, wb, gap_node, item_gap, in_start,
                                     first_btf, beta)
        for t in range(T):
            if status[t] == RUNNING:
                pending_mean[t] = _close_iteration(t, it, item_gap, n_btf, gapstop, iters, max_iter, status,
                                                   gap_out)
    for k in prange(T * nb):  # apply the pending metric updates so the returned state is complete
        t, j0 = _trial_block(k, nb, block)
        _flush_metric(t, j0, min(j0 + block, N), g, gap_node, first_btf, gamma, pending_mean[t])
    pending_mean[:] = 0.0
    return ran


@njit(cache=True, nogil=True)
def rrr_run_trials(zw, zx, zy, g, wa, xa, ya, gap_node, wb, send, in_start, delta, first_btf, first_output,
                   inputs, labels, input_mode, beta, gamma, gapstop, iters, max_iter, status, pending_mean,
                   n_iter, gap_out, block, num, den, pl, pi, item_gap, support):
    """rrr_run one trial after another (no parallel region, no GIL held): the same results."""
    T, E, N = zw.shape
    V = zy.shape[1]
    n_btf = V - first_btf
    gap_out[:, :] = -1.0
    for t in range(T):
        pending = 0.0
        for it in range(n_iter):
            if status[t] != RUNNING:
                break
            for j0 in range(0, N, block):
                block_pass(t, j0, min(j0 + block, N), zw, zx, zy, g, wa, xa, ya, gap_node, num, den, pl, pi,
                            send, in_start, delta, first_btf, first_output, inputs, labels, input_mode, beta,
                            gamma, pending)
            for n in range(first_btf, V):
                node_concur(t, n, zw, g, wa, wb, in_start)
                _support_project(t, n, wb, in_start, support)
            for j0 in range(0, N, block):
                block_weight_update(t, j0, min(j0 + block, N), zw, wa, wb, gap_node, item_gap, in_start,
                                     first_btf, beta)
            pending = _close_iteration(t, it, item_gap, n_btf, gapstop, iters, max_iter, status, gap_out)
        for j0 in range(0, N, block):
            _flush_metric(t, j0, min(j0 + block, N), g, gap_node, first_btf, gamma, pending)
    return n_iter
