"""Where an RRR iteration spends its time: each pass of the Numba kernel timed on its own, one thread.

The passes are the kernel's own helpers (kernels/numba_kernels.py) called in the same loops as
rrr_run_trials, one pass at a time, so the split is of the code that really runs. Projections (P_A of
the trios) are timed separately from the rest of the item pass (value concur, x/y updates, gap).
"""
from __future__ import annotations

import statistics
import time

import numpy as np

from .errors import BtfError


def _loops():
    from numba import njit

    from .kernels import numba_kernels as k

    @njit(cache=True)
    def projections(zw, zx, zy, wa, xa, ya, pl, pi, in_start, delta, first_btf, block, stop, reps):
        N = zw.shape[2]
        for _ in range(reps):
            for j0 in range(0, stop, block):
                j1 = min(j0 + block, N)
                for n in range(first_btf, zy.shape[1]):
                    lo, hi = in_start[n], in_start[n + 1]
                    pole = k.plan_block(zw[0], zx[0], lo, hi, j0, j1 - j0, zy[0, n, j0:j1], delta[n],
                                        ya[0, n, j0:j1], pl[0], pi[0])
                    k.apply_block(zw[0], zx[0], lo, hi, j0, j1 - j0, pl[0], pi[0], pole, wa[0], xa[0])

    @njit(cache=True)
    def item_pass(zw, zx, zy, g, wa, xa, ya, gap_node, num, den, pl, pi, send, in_start, delta, first_btf,
                  first_output, inputs, labels, beta, gamma, block, stop, reps):
        N = zw.shape[2]
        for _ in range(reps):
            for j0 in range(0, stop, block):
                k.block_pass(0, j0, min(j0 + block, N), zw, zx, zy, g, wa, xa, ya, gap_node, num, den, pl,
                             pi, send, in_start, delta, first_btf, first_output, inputs, labels, 0, beta,
                             gamma, 0.0)

    @njit(cache=True)
    def node_concur(zw, g, wa, wb, in_start, first_btf, reps):
        for _ in range(reps):
            for n in range(first_btf, g.shape[1]):
                k.node_concur(0, n, zw, g, wa, wb, in_start)

    @njit(cache=True)
    def weight_update(zw, wa, wb, gap_node, item_gap, in_start, first_btf, beta, block, stop, reps):
        N = zw.shape[2]
        for _ in range(reps):
            for j0 in range(0, stop, block):
                k.block_weight_update(0, j0, min(j0 + block, N), zw, wa, wb, gap_node, item_gap, in_start,
                                      first_btf, beta)

    return projections, item_pass, node_concur, weight_update


def pass_profile(problem: str = "3x3", seconds: float = 2.0, repeats: int = 5, warmup: int = 500,
                 block: int | None = None, blocks: int | None = None) -> dict:
    """Seconds per iteration in each pass (median of ``repeats``), single thread, float64, one trial,
    from the state after ``warmup`` RRR iterations; the item passes run over blocks of ``block`` items
    (default: the whole trial, as the kernels run a trial on one thread), only the first ``blocks`` of
    them when given (the weight concur still runs over all items)."""
    import numba

    from .bench import PROBLEMS, _bench_spec, _prepared_state
    from .kernels.graph import kernel_graph
    from .arch import parse_arch

    from .kernels import numba_kernels as k
    projections, item_pass, node_concur, weight_update = _loops()
    arch, make = PROBLEMS[problem]
    net, data = parse_arch(arch), make()
    G = kernel_graph(net, 3.0)
    block = data.n_items if block is None else block
    if not 1 <= block <= data.n_items:
        raise BtfError(f"block must be from 1 to {data.n_items} items, got {block}")
    if blocks is not None and blocks < 1:
        raise BtfError(f"blocks must be at least 1, got {blocks}")
    stop = data.n_items if blocks is None else min(data.n_items, blocks * block)
    st = _prepared_state(net, data, G, 1, "float64")
    inputs = np.ascontiguousarray(data.inputs, np.float64)
    labels = np.ascontiguousarray(data.outputs, np.float64)
    # a state from the middle of a run (random starts project very differently from running ones)
    from .backends import make_backend
    warming = make_backend("numba", _bench_spec(G, data))
    warming.run(st, warmup)
    warming.sync_state(st)
    # the kernels' layout: items innermost
    zw, zx, zy, g = (np.ascontiguousarray(a.transpose(0, 2, 1)) for a in (st.zw, st.zx, st.zy, st.g))
    wa, xa, ya, gap_node = np.zeros_like(zw), np.zeros_like(zw), np.zeros_like(zy), np.zeros_like(zy)
    num, den = np.empty_like(zy), np.empty_like(zy)
    pl = np.empty((1, k.PLAN_ROWS, data.n_items))
    pi = np.empty((1, k.PLAN_INT_ROWS, data.n_items), np.int64)
    item_gap = np.zeros((1, data.n_items))
    calls = {
        "projections (P_A of every trio)": lambda r: projections(
            zw, zx, zy, wa, xa, ya, pl, pi, G.in_start, G.delta, G.first_btf, block, stop, r),
        "item pass (projections + value concur, x/y update, gap)": lambda r: item_pass(
            zw, zx, zy, g, wa, xa, ya, gap_node, num, den, pl, pi, G.send, G.in_start, G.delta,
            G.first_btf, G.first_output, inputs, labels, 0.2, 1e-4, block, stop, r),
        "weight concur (mean over items)": lambda r: node_concur(zw, g, wa, st.wb, G.in_start, G.first_btf, r),
        "weight update + gap": lambda r: weight_update(zw, wa, st.wb, gap_node, item_gap, G.in_start,
                                                       G.first_btf, 0.2, block, stop, r),
    }
    previous = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        times = {}
        for name, call in calls.items():
            call(1)  # compile / load the cache
            t0 = time.perf_counter()
            call(1)
            reps = max(1, int(seconds / repeats / max(time.perf_counter() - t0, 1e-7)))
            runs = []
            for _ in range(repeats):
                t0 = time.perf_counter()
                call(reps)
                runs.append((time.perf_counter() - t0) / reps)
            times[name] = statistics.median(runs)
    finally:
        numba.set_num_threads(previous)
    proj = times["projections (P_A of every trio)"]
    item = times["item pass (projections + value concur, x/y update, gap)"]
    split = {"projections (P_A of every trio)": proj,
             "value concur, x/y update, gap": max(item - proj, 0.0),
             "weight concur (mean over items)": times["weight concur (mean over items)"],
             "weight update + gap": times["weight update + gap"]}
    total = sum(split.values())
    return dict(problem=problem, arch=arch, items=data.n_items, edges=net.n_edges, block=block, items_timed=stop,
                seconds_per_iter=total,
                edge_item_iters_per_s=data.n_items * net.n_edges / total,
                passes={name: dict(seconds=t, share=t / total) for name, t in split.items()})


def parallel_region_seconds(threads: int = 1, regions: int = 20000, repeats: int = 5) -> float:
    """Seconds one empty Numba parallel region (a prange of one step per thread) costs on ``threads``
    threads, from inside compiled code as the kernels call their passes: the fork/join price that
    rrr_run pays three times per iteration (rrr_run_trials once per call). Median of ``repeats``."""
    import numba
    from numba import njit, prange

    @njit(cache=True, parallel=True)
    def empty_regions(out, n):
        for _ in range(n):
            for t in prange(out.shape[0]):
                out[t] += 1.0

    previous = numba.get_num_threads()
    numba.set_num_threads(threads)
    try:
        out = np.zeros(threads)
        empty_regions(out, 10)  # compile or load the cache
        runs = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            empty_regions(out, regions)
            runs.append((time.perf_counter() - t0) / regions)
    finally:
        numba.set_num_threads(previous)
    return statistics.median(runs)
