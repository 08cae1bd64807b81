"""Benchmarks measured side by side in one run: kernel throughput per backend and thread count, and
time to a verified solution over seeds. Medians and ratios, because shared machines are noisy."""
from __future__ import annotations

import statistics
import time

import numpy as np

from .backends import RUNNING, SolverState, make_backend, resolve_backend
from .errors import BtfError
from .dataset import Dataset
from .arch import parse_arch

# name -> (architecture, dataset factory)
PROBLEMS = {
    "2x2": ("4-4-4-4", lambda: _multiplier(2)),
    "3x3": ("6-12-12-12-6", lambda: _multiplier(3)),
    "5x32": ("32-32-32-32-32-32", lambda: _random_data(256, 32, 32)),
    "4x4": ("dense:8-24-24-24-8", lambda: _multiplier(4)),   # a 4-bit dense net (256 facts, 3024 edges)
    # a 4x4-sized cofactor of the 5x5 (a0 = b0 = 1: 256 facts of the other 8 inputs), 4986 edges
    "5x5": ("dense:8-32-32-32-10", lambda: _multiplier_cofactor(5)),
}


def _multiplier(bits):
    from .tasks import multiplier
    return multiplier(bits)


def _multiplier_cofactor(bits):
    """The ``bits``-bit multiplier's items with a0 = b0 = 1, over the other inputs (one of the four
    cofactors of a0, b0; each has the same size)."""
    data = _multiplier(bits)
    rows = (data.inputs[:, 0] > 0) & (data.inputs[:, bits] > 0)
    keep = [j for j in range(data.n_inputs) if j not in (0, bits)]
    return Dataset(data.inputs[rows][:, keep], data.outputs[rows])


def _random_data(n, n_in, n_out):
    rng = np.random.default_rng(0)
    return Dataset(rng.choice([-1.0, 1.0], (n, n_in)), rng.choice([-1.0, 1.0], (n, n_out)))


def problem_size(problem: str) -> int:
    """Items x edges of one trial of a benchmark problem."""
    arch, make = PROBLEMS[problem]
    return make().n_items * parse_arch(arch).n_edges


WARM_ITERATIONS = 200  # rows are timed from a running state: see throughput()
_warm_cache: dict = {}


def _bench_spec(graph, data):
    """The RRR constants every bench row runs with (no trial ever stops at max_iter)."""
    from .backends import KernelSpec
    from .kernels.graph import INPUT_DATA
    return KernelSpec(graph, data.inputs, data.outputs, INPUT_DATA, 0.2, 1e-4, 10 ** 9)


def _prepared_state(net, data, graph, trials, dtype, warm=0, warm_backend=None):
    """A start state (seed 0) of ``trials`` trials, advanced ``warm`` RRR iterations in float64 by
    ``warm_backend`` (default Numba, NumPy without it), then stored as ``dtype``. Every CPU row of one
    problem starts from the same state; warm states are cached per (network, trials, warm)."""
    from .kernels.reference import initial_state
    if warm_backend is None:
        from .backends import numba_available
        warm_backend = "numba" if numba_available() else "numpy"
    key = (net.arch, data.n_items, trials, warm, warm_backend)
    if key not in _warm_cache:
        st = SolverState.empty(trials, data.n_items, net.n_edges, net.n_nodes, np.dtype("float64"))
        z = initial_state(np.random.default_rng(0), trials, data.n_items, graph, data.inputs, data.outputs)
        st.zw[:], st.zx[:], st.zy[:], st.g[:] = z
        st.status[:] = RUNNING
        st.gapstop[:] = 0.0
        if warm > 0:
            warming = make_backend(warm_backend, _bench_spec(graph, data))
            warming.run(st, warm)
            warming.sync_state(st)
            st.iters[:] = 0
        _warm_cache.clear()  # keep one problem's state at a time
        _warm_cache[key] = st
    base = _warm_cache[key]
    st = SolverState.empty(trials, data.n_items, net.n_edges, net.n_nodes, np.dtype(dtype))
    st.zw[:], st.zx[:], st.zy[:], st.g[:] = base.zw, base.zx, base.zy, base.g
    st.status[:] = RUNNING
    st.gapstop[:] = 0.0
    return st


def throughput(problem: str, backend: str, threads: int | None = None, trials: int = 1,
               seconds: float = 1.0, repeats: int = 5, dtype: str = "float64",
               warm: int = WARM_ITERATIONS, block: int | None = None, by_trial: bool | None = None,
               layout: str | None = None) -> dict:
    """Edge x item x iterations per second of one backend on one problem: the median of ``repeats``
    timed chunks, each about ``seconds / repeats`` long. Numba rows also carry the memory traffic of
    the kernels' model (btflearn.traffic) and the GB/s it implies; ``block`` and ``by_trial`` fix the
    Numba backend's items per block and layout (default: its own choice); ``layout`` fixes the CuPy
    backend's ("trial" or "grid"; default "auto", its own choice).

    Timing starts from the state ``warm`` iterations into a run (the same state for every row of a
    problem): the first ~100 iterations from a random start need about 3 times as many root solves per
    projection as the rest of a run, which is what runs spend their time in. The chunk length is
    calibrated after a first call that loads or compiles the JIT code."""
    from .kernels.graph import kernel_graph
    backend = resolve_backend(backend, trials)   # "auto": the backend a fit of this batch runs on
    arch, make = PROBLEMS[problem]
    net, data = parse_arch(arch), make()
    graph = kernel_graph(net, 3.0)
    options = {k: v for k, v in (("block_size", block), ("by_trial", by_trial), ("layout", layout))
               if v is not None}
    eng = make_backend(backend, _bench_spec(graph, data), **options)
    # GPU rows hold thousands of trials: they warm up on the GPU itself
    st = _prepared_state(net, data, graph, trials, dtype, warm, "cupy" if backend == "cupy" else None)
    previous = None
    if backend == "numba":
        import numba
        previous = numba.get_num_threads()
        numba.set_num_threads(threads or numba.config.NUMBA_NUM_THREADS)
        threads = numba.get_num_threads()
    try:
        eng.run(st, 1)  # JIT compile or cache load, outside any timing
        n = 1
        while True:  # calibrate: chunks of about seconds / repeats
            t0 = time.perf_counter()
            eng.run(st, n)
            elapsed = time.perf_counter() - t0
            if elapsed >= seconds / repeats / 4 or n >= 1 << 20:
                break
            n *= 2
        n = max(1, int(n * seconds / repeats / max(elapsed, 1e-9)))
        times = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            eng.run(st, n)
            times.append((time.perf_counter() - t0) / n)
        # while the row's thread count is set: the Numba layout and block depend on it
        layout = eng.layout(*st.zw.shape)
        block = eng.block(trials, data.n_items, layout) if backend == "numba" else None
    finally:
        if previous is not None:
            import numba
            numba.set_num_threads(previous)
    edge_items = trials * data.n_items * net.n_edges
    state_bytes = sum(a.nbytes for a in (st.zw, st.zx, st.zy, st.g))
    # plus what the backend holds while it runs (its kernel-layout copies and scratch)
    state_bytes += eng.working_bytes()
    row = dict(kind="throughput", problem=problem, arch=arch, backend=backend, threads=threads or 1,
               dtype=dtype, trials=trials, items=data.n_items, edges=net.n_edges,
               layout=layout,
               edge_item_iters_per_s=edge_items / statistics.median(times),
               seconds_per_iter=statistics.median(times),
               state_bytes_per_edge_item=state_bytes / edge_items)
    if backend == "cupy":
        row.update(nvrtc_options=list(eng.options))
    if backend == "numba":
        from .traffic import graph_iteration_bytes
        moved = graph_iteration_bytes(graph, data.n_items, np.dtype(dtype).itemsize, trials)
        row.update(block=block, traffic_bytes_per_iter=moved,
                   traffic_bytes_per_edge_item=moved / edge_items,
                   traffic_gb_s=moved / statistics.median(times) / 1e9)
    return row


def time_to_solution(problem: str, seeds, settings: dict, backend: str = "auto", progress=None) -> dict:
    """Wall time to a verified solution (fit() call, start-up included, JIT cache warm) per seed, with
    ``settings`` (the task's defaults: arch, dtype, trials, ...; with ``split``, the inputs whose cofactors
    get a network each, btflearn.split_fit); progress(seed, solved, seconds, iterations) after each."""
    from .grid import warm_up
    from .shannon import cofactor_datasets
    from .split_fit import fit_task
    arch, make = PROBLEMS[problem]
    data = make()
    arch = settings.get("arch", arch)
    split = settings.get("split")
    first = cofactor_datasets(data, [data.input_names.index(j) for j in split])[0] if split else data
    warm_up(first, dict(arch=arch, backend=backend, dtype=settings.get("dtype", "float64"),
                        trials=settings.get("trials", 1)))  # compile or load the kernels outside the timing
    runs, used = [], backend
    for seed in seeds:
        t0 = time.perf_counter()
        kwargs = {k: v for k, v in settings.items() if k not in ("arch", "split")}
        r = fit_task(data, split, arch=arch, seed=seed, backend=backend, **kwargs)
        runs.append((r.solved, time.perf_counter() - t0, r.iterations))
        used = r.backend  # what "auto" resolved to
        if progress:
            progress(seed, r.solved, runs[-1][1], r.iterations)
    solved_times = [t for ok, t, _ in runs if ok]
    return dict(kind="solve", problem=problem, arch=arch, backend=used, threads=_threads(),
                dtype=settings.get("dtype", "float64"), trials=settings.get("trials", 1), seeds=list(seeds),
                settings=settings,
                success_rate=len(solved_times) / len(runs),
                median_seconds_to_solution=statistics.median(solved_times) if solved_times else None,
                min_seconds=min(solved_times) if solved_times else None,
                max_seconds=max(solved_times) if solved_times else None,
                iterations=[it for _, _, it in runs], solved=[ok for ok, _, _ in runs])


def _threads():
    try:
        import numba
        return numba.get_num_threads()
    except ImportError:
        return 1


GPU_STATE = 2 ** 25  # edge x items of a batched GPU row (~2 GB with its scratch), at most 4096 trials


def bench_configs(backends, dtypes, cuda_layouts=("auto",)) -> list[tuple]:
    """(backend, threads, dtype, trials, layout) of every throughput row, in this order whatever the
    order of ``backends``: the NumPy reference (the ratios' base), then Numba on 1 thread and all
    threads (and batched restarts, one trial per thread), then CuPy with one trial and a batch of
    restarts sized per problem (trials None), for each of ``cuda_layouts`` (layout None: the backend
    has one way only, or Numba's own choice)."""
    import numba
    order = ("numpy", "numba", "cupy")
    all_threads = numba.config.NUMBA_NUM_THREADS
    configs = []
    for backend in sorted(dict.fromkeys(backends), key=lambda b: order.index(b) if b in order else len(order)):
        if backend == "numba":
            configs += [("numba", t, d, 1, None) for t in sorted({1, all_threads}) for d in dtypes]
            if all_threads > 1:
                configs += [("numba", all_threads, d, all_threads, None) for d in dtypes]
        elif backend == "cupy":
            configs += [("cupy", None, "float64", trials, layout) for layout in cuda_layouts
                        for trials in (1, None)]
        else:
            configs.append((backend, None, "float64", 1, None))
    return configs


def cold_start(bits: int = 3, repeats: int = 1) -> dict:
    """What a first run pays for compiling the kernels. ``btflearn solve multiplier --bits BITS --seed 0
    --no-minimise`` as a fresh process with an empty NUMBA_CACHE_DIR, three times: with an empty kernel
    folder (nothing compiled: what compiling costs, which the install pays, btflearn.kernels.cache);
    with the installed kernel folder (a user's first run after installing); the same again (warm).
    Wall seconds of each (medians of ``repeats``); the first run's overhead is its time less the warm
    one's."""
    import os
    import subprocess
    import sys
    import tempfile

    from .kernels.cache import ENV
    cmd = [sys.executable, "-c", "from btflearn.cli.main import main; main()", "solve", "multiplier",
           "--bits", str(bits), "--seed", "0", "--quiet", "--no-minimise"]
    times = {"uncompiled": [], "first": [], "warm": []}
    for _ in range(repeats):
        with tempfile.TemporaryDirectory() as numba_cache, tempfile.TemporaryDirectory() as empty:
            env = {k: v for k, v in os.environ.items() if k != ENV}
            env["NUMBA_CACHE_DIR"] = numba_cache
            for run, extra in (("uncompiled", {ENV: empty}), ("first", {}), ("warm", {})):
                t0 = time.perf_counter()
                done = subprocess.run(cmd, env=dict(env, **extra), capture_output=True, text=True)
                times[run].append(time.perf_counter() - t0)
                if done.returncode != 0:
                    raise BtfError(f"cold-start run failed: {done.stderr.strip()[-300:]}")
    med = {run: statistics.median(t) for run, t in times.items()}
    return dict(kind="cold_start", problem=f"{bits}x{bits}", uncompiled_seconds=med["uncompiled"],
                first_seconds=med["first"], warm_seconds=med["warm"],
                compile_seconds=med["uncompiled"] - med["warm"],
                compile_overhead_seconds=med["first"] - med["warm"], repeats=repeats)


def run_bench(problems, backends, dtypes, seconds=1.0, solve_seeds=(), solve_3x3_seeds=(), profile=False,
              cold=False, solve_4x4_seeds=(), progress=None, bandwidth_mb=256.0, cuda_layouts=("auto",),
              solve_backends=("auto",), solve_time_limit=None):
    """Every row of ``btflearn bench``, as it is measured: with ``cold``, first the cold-start row; with
    Numba among the backends and ``bandwidth_mb`` > 0, the memory bandwidth on 1 thread and all threads
    (btflearn.bandwidth, arrays of that many MB); then throughput rows with their ratio to the NumPy row
    (and CuPy's to the best Numba row) of the same problem in this run, Numba rows with their modelled
    traffic as a fraction of the triad bandwidth on as many threads, CuPy rows for each of
    ``cuda_layouts``; then pass profiles, then time-to-solution rows of the 2x2 and 3x3 multipliers (and
    4x4) with their default settings, on each of ``solve_backends``, each seed's fit stopped after
    ``solve_time_limit`` seconds when given (an unsolved seed then counts as such).
    The multipliers run as ``btflearn solve multiplier`` does: by cofactors where that is the default."""
    from .backends import BACKENDS, cupy_problem
    from .cupy_backend import LAYOUTS
    from .tasks import multiplier_spec, multiplier_split
    for backend in list(backends) + list(solve_backends):
        if backend not in BACKENDS:
            raise BtfError(f"unknown backend {backend!r}; choose from {', '.join(BACKENDS)}")
    for layout in cuda_layouts:
        if layout not in LAYOUTS:
            raise BtfError(f"unknown CUDA layout {layout!r}; choose from {', '.join(LAYOUTS)}")
    solving = any((solve_seeds, solve_3x3_seeds, solve_4x4_seeds))
    if ("cupy" in backends or (solving and "cupy" in solve_backends)) and cupy_problem() is not None:
        raise BtfError(f"cannot use the cupy backend: {cupy_problem()}. Use --backends numpy,numba")
    for problem in problems:
        if problem not in PROBLEMS:
            raise BtfError(f"unknown problem {problem!r}; choose from {', '.join(PROBLEMS)}")
    if bandwidth_mb:
        from .bandwidth import check_size
        check_size(bandwidth_mb)
    if cold:
        yield cold_start(repeats=3)
    configs = bench_configs(backends, dtypes, cuda_layouts)
    triad = {}  # threads -> GB/s
    if "numba" in backends and bandwidth_mb:
        from .bandwidth import stream_bandwidth
        for threads in sorted({t for b, t, *_ in configs if b == "numba"}):
            row = stream_bandwidth(threads, bandwidth_mb)
            triad[threads] = row["triad_gb_s"]
            yield row
    for problem in problems:
        base = numba_best = None
        for backend, threads, dtype, trials, layout in configs:
            trials = trials or int(min(4096, max(1, GPU_STATE // problem_size(problem))))
            row = throughput(problem, backend, threads, trials=trials, seconds=seconds, dtype=dtype,
                             layout=layout)
            base = row["edge_item_iters_per_s"] if backend == "numpy" else base
            row["ratio_to_numpy"] = row["edge_item_iters_per_s"] / base if base else None
            if backend == "numba":
                numba_best = max(numba_best or 0.0, row["edge_item_iters_per_s"])
                bw = triad.get(row["threads"])
                row["bandwidth_fraction"] = row["traffic_gb_s"] / bw if bw else None
            if backend == "cupy":
                row["ratio_to_numba"] = row["edge_item_iters_per_s"] / numba_best if numba_best else None
            yield row
    if profile:
        from .profile import pass_profile
        for problem in problems:
            yield dict(kind="profile", backend="numba", threads=1, dtype="float64",
                       **pass_profile(problem, seconds=seconds))
    limit = {} if solve_time_limit is None else dict(time_limit=float(solve_time_limit))
    for bits, seeds in ((2, solve_seeds), (3, solve_3x3_seeds), (4, solve_4x4_seeds)):
        for backend in solve_backends if seeds else ():
            settings = dict(multiplier_spec(bits).settings(), split=multiplier_split(bits), **limit)
            yield time_to_solution(f"{bits}x{bits}", list(seeds), settings,
                                   backend=backend, progress=progress)
