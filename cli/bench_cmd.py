"""`btflearn bench`: throughput and time to solution, side by side in one run."""
from __future__ import annotations

import json

import click


GPU_BATCH = -1  # placeholder: trials per GPU throughput row, sized per problem


def _parse_list(text, cast=str):
    return [cast(t) for t in text.split(",") if t.strip()]


@click.command()
@click.option("--problems", default="2x2,3x3,5x32", show_default=True,
              help="Throughput problems: 2x2 (4-4-4-4), 3x3 (6-12-12-12-6), 5x32 (32-wide, 5 layers, 256 "
                   "items), 4x4 (dense:8-24-24-24-8, 256 facts).")
@click.option("--backends", "--backend", "backends", default=None,
              help="Comma-separated backends to time: numpy, numba, cupy (default: numpy,numba, plus cupy when "
                   "CuPy and a CUDA GPU are present).")
@click.option("--dtypes", default="float64,float32", show_default=True, help="State storage types to time.")
@click.option("--seconds", type=float, default=1.0, show_default=True, help="Timing per throughput row.")
@click.option("--solve-seeds", default="0-9", show_default=True,
              help="Seeds for the 2x2 time-to-solution rows (a range a-b or a list).")
@click.option("--solve-3x3-seeds", default="", show_default=True,
              help="Seeds for the 3x3 time-to-solution rows (minutes each; empty to skip).")
@click.option("--profile", is_flag=True,
              help="Also split one Numba iteration (1 thread) into its passes: projections, value concur, "
                   "weight concur, weight update.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list of rows.")
def bench(problems, backends, dtypes, seconds, solve_seeds, solve_3x3_seeds, profile, as_json):
    """Edge x item x iterations per second (NumPy reference, Numba on 1 thread and all threads) and the
    time to a verified multiplier solution over seeds."""
    import numba

    from btflearn.backends import BACKENDS, cupy_available, cupy_problem
    from btflearn.bench import throughput, time_to_solution
    from btflearn.errors import BtfError
    from btflearn.grid import parse_seeds
    from btflearn.tasks import multiplier_spec

    if backends is None:
        backends = "numpy,numba" + (",cupy" if cupy_available() else "")
    for backend in _parse_list(backends):
        if backend not in BACKENDS:
            raise BtfError(f"unknown backend {backend!r}; choose from {', '.join(BACKENDS)}")
    if "cupy" in _parse_list(backends) and cupy_problem() is not None:
        raise BtfError(f"cannot use the cupy backend: {cupy_problem()}. Use --backends numpy,numba")
    rows = []
    all_threads = numba.config.NUMBA_NUM_THREADS
    configs = []  # (backend, threads, dtype, trials); the NumPy reference first, it is the ratio's base
    for backend in _parse_list(backends):
        if backend == "numba":
            configs += [("numba", t, d, 1) for t in sorted({1, all_threads}) for d in _parse_list(dtypes)]
            if all_threads > 1:  # batched restarts, one trial per thread (the layout without barriers)
                configs += [("numba", all_threads, d, all_threads) for d in _parse_list(dtypes)]
        elif backend == "cupy":  # one trial, and batched restarts (the GPU's use: many trials at once)
            configs += [("cupy", None, "float64", 1), ("cupy", None, "float64", GPU_BATCH)]
        else:
            configs.append((backend, None, "float64", 1))
    for problem in _parse_list(problems):
        base = numba_best = None
        for backend, threads, dtype, trials in configs:
            if trials == GPU_BATCH:  # about 2^25 edge x items of state (~2 GB with its scratch), <= 4096 trials
                from btflearn.bench import problem_size
                trials = int(min(4096, max(1, 2 ** 25 // problem_size(problem))))
            row = throughput(problem, backend, threads, trials=trials, seconds=seconds, dtype=dtype)
            base = row["edge_item_iters_per_s"] if backend == "numpy" else base
            row["ratio_to_numpy"] = row["edge_item_iters_per_s"] / base if base else None
            if backend == "numba":
                numba_best = max(numba_best or 0.0, row["edge_item_iters_per_s"])
            if backend == "cupy":  # against the best Numba row of this run (same machine's CPU)
                row["ratio_to_numba"] = row["edge_item_iters_per_s"] / numba_best if numba_best else None
            rows.append(row)
            if not as_json:
                ratio = f"{row['ratio_to_numpy']:7.1f}x" if row["ratio_to_numpy"] else "     -  "
                layout = f" ({row['layout']})" if row.get("layout") and row["threads"] > 1 else ""
                click.echo(f"{problem:5s} {backend:6s} {dtype:7s} threads {row['threads']} trials {trials}{layout}  "
                           f"{row['edge_item_iters_per_s']:10.3g} edge-item-iter/s  {ratio} numpy  "
                           f"{row['state_bytes_per_edge_item']:.0f} B/edge-item"
                           + (f"  {row['ratio_to_numba']:.1f}x best numba" if row.get("ratio_to_numba") else ""))
    if profile:
        from btflearn.profile import pass_profile
        for problem in _parse_list(problems):
            row = dict(kind="profile", backend="numba", threads=1, dtype="float64",
                       **pass_profile(problem, seconds=seconds))
            rows.append(row)
            if not as_json:
                click.echo(f"{problem:5s} profile (numba, 1 thread): "
                           + ", ".join(f"{name} {p['share']:.0%}" for name, p in row["passes"].items()))
    for bits, seed_text in ((2, solve_seeds), (3, solve_3x3_seeds)):
        if not seed_text:
            continue
        settings = multiplier_spec(bits).settings()
        row = time_to_solution(f"{bits}x{bits}", parse_seeds(seed_text), settings)
        rows.append(row)
        if not as_json:
            med = row["median_seconds_to_solution"]
            click.echo(f"{bits}x{bits} solve  {row['arch']}  success {row['success_rate']:.0%} of "
                       f"{len(row['seeds'])} seeds, time to verified solution median "
                       f"{med if med is None else round(med, 3)} s (min {row['min_seconds'] and round(row['min_seconds'], 3)}, "
                       f"max {row['max_seconds'] and round(row['max_seconds'], 3)})")
    if as_json:
        click.echo(json.dumps(rows, indent=1, default=str))
