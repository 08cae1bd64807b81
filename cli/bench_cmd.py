"""`btflearn bench`: throughput and time to solution, side by side in one run."""
from __future__ import annotations

import json
import os
import statistics

import click


def _parse_list(text, cast=str):
    return [cast(t) for t in text.split(",") if t.strip()]


@click.command()
@click.option("--problems", default="2x2,3x3,5x32", show_default=True,
              help="Throughput problems: 2x2 (4-4-4-4), 3x3 (6-12-12-12-6), 5x32 (32-wide, 5 layers, 256 "
                   "items), 4x4 (dense:8-24-24-24-8, 256 facts), 5x5 (dense:8-32-32-32-10 on one of the 5x5's "
                   "cofactors of a0, b0: 256 facts); empty for none.")
@click.option("--backends", "backends", default=None,
              help="Comma-separated backends to time: numpy, numba, cupy (default: numpy,numba, plus cupy when "
                   "CuPy and a CUDA GPU are present).")
@click.option("--cuda-layouts", default="auto", show_default=True,
              help="Launch layouts of the cupy rows, one set of rows each: trial (one block per trial, a "
                   "chunk of iterations per launch), grid (four launches per iteration), auto (the "
                   "backend's choice).")
@click.option("--dtypes", default="float64,float32", show_default=True, help="State storage types to time.")
@click.option("--seconds", type=float, default=1.0, show_default=True, help="Timing per throughput row.")
@click.option("--solve-seeds", default="0-9", show_default=True,
              help="Seeds for the 2x2 time-to-solution rows (a range a-b or a list).")
@click.option("--solve-3x3-seeds", default="", show_default=True,
              help="Seeds for the 3x3 time-to-solution rows (minutes each; empty to skip).")
@click.option("--solve-4x4-seeds", default="", show_default=True,
              help="Seeds for the 4x4 time-to-solution rows with the `solve multiplier --bits 4` defaults "
                   "(seconds each; empty to skip).")
@click.option("--solve-backends", default="auto", show_default=True,
              help="Backends of the time-to-solution rows, one row each (auto: as fit picks it, numba for "
                   "the multipliers' few trials; each row names the backend that ran).")
@click.option("--solve-time-limit", type=click.FloatRange(min=0, min_open=True), default=None, metavar="S",
              help="Stop each seed's fit after S seconds (an unsolved seed counts as such).")
@click.option("--profile", is_flag=True,
              help="Also split one Numba iteration (1 thread) into its passes: projections, value concur, "
                   "weight concur, weight update.")
@click.option("--cold-start", "cold", is_flag=True,
              help="Also time a first run's kernel compilation: `solve multiplier --bits 3` as a fresh process "
                   "with an empty Numba cache: with nothing compiled, after the install, and warm.")
@click.option("--bandwidth-mb", type=float, default=256.0, show_default=True,
              help="Size of each array of the memory-bandwidth measurement (copy, triad) that Numba rows "
                   "are compared with; 0 skips it.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list of rows.")
@click.option("--json-out", type=click.Path(dir_okay=False), default=None, metavar="PATH",
              help="Also write the JSON list of rows here, rewritten after every row (a run cut short "
                   "keeps the rows it measured).")
def bench(problems, backends, cuda_layouts, dtypes, seconds, solve_seeds, solve_3x3_seeds, solve_4x4_seeds,
          solve_backends, solve_time_limit, profile, cold, bandwidth_mb, as_json, json_out):
    """Edge x item x iterations per second (NumPy reference, Numba on 1 thread and all threads) and the
    time to a verified multiplier solution over seeds."""
    from btflearn.backends import cupy_available
    from btflearn.bench import run_bench
    from btflearn.grid import parse_seeds

    if backends is None:
        backends = "numpy,numba" + (",cupy" if cupy_available() else "")
    rows = []
    if json_out:
        _write_json(json_out, rows)  # a bad path fails before the first row, not after it
    for row in run_bench(_parse_list(problems), _parse_list(backends), _parse_list(dtypes), seconds,
                         parse_seeds(solve_seeds) if solve_seeds else [],
                         parse_seeds(solve_3x3_seeds) if solve_3x3_seeds else [], profile, cold,
                         solve_4x4_seeds=parse_seeds(solve_4x4_seeds) if solve_4x4_seeds else [],
                         progress=None if as_json else _solve_progress, bandwidth_mb=bandwidth_mb,
                         cuda_layouts=_parse_list(cuda_layouts), solve_backends=_parse_list(solve_backends),
                         solve_time_limit=solve_time_limit):
        rows.append(row)
        if json_out:
            _write_json(json_out, rows)
        if not as_json:
            click.echo(format_row(row))
    if as_json:
        click.echo(json.dumps(rows, indent=1, default=str))


def _write_json(path, rows):
    """The rows so far, replacing the file in one step (a reader never sees half a list)."""
    tmp = f"{path}.tmp"
    with open(tmp, "w") as f:
        f.write(json.dumps(rows, indent=1, default=str) + "\n")
    os.replace(tmp, path)


def _solve_progress(seed, solved, seconds, iterations):
    click.echo(f"  seed {seed}: {'solved' if solved else 'NOT solved'} at {iterations} iterations, "
               f"{seconds:.1f} s", err=True)


def format_row(row: dict) -> str:
    """One bench row as a line of text."""
    if row["kind"] == "cold_start":
        return (f"{row['problem']} cold start: first run after install {row['first_seconds']:.1f} s, warm "
                f"{row['warm_seconds']:.1f} s: overhead {row['compile_overhead_seconds']:.1f} s "
                f"(compiling: {row['compile_seconds']:.1f} s, paid at install)")
    if row["kind"] == "profile":
        return (f"{row['problem']:5s} profile (numba, 1 thread): "
                + ", ".join(f"{name} {p['share']:.0%}" for name, p in row["passes"].items()))
    if row["kind"] == "solve":
        med, lo, hi = (row[k] and round(row[k], 1) for k in ("median_seconds_to_solution", "min_seconds",
                                                               "max_seconds"))
        its = row["iterations"]
        split = row["settings"].get("split")
        return (f"{row['problem']} solve  {row['arch']} {row['dtype']}, {row['trials']} trial(s), "
                f"{row['backend']}, {row['threads']} thread(s)\n"
                + (f"  one network per cofactor of {','.join(split)}\n" if split else "") +
                f"  solved {sum(row['solved'])} of {len(row['seeds'])} seeds; "
                f"seconds to solution: median {med} (min {lo}, max {hi})\n"
                f"  iterations: median {statistics.median(its):.0f} (min {min(its)}, max {max(its)})")
    if row["kind"] == "bandwidth":
        threads = f"{row['threads']} thread" + ("s" if row["threads"] > 1 else "")
        return (f"memory {threads}: copy {row['copy_gb_s']:.1f} GB/s, triad {row['triad_gb_s']:.1f} GB/s "
                f"({row['size_mb']:.0f} MB arrays)")
    shown = row.get("layout") and (row["threads"] > 1 or row["backend"] == "cupy")
    head = (f"{row['problem']:5s} {row['backend']:6s} {row['dtype']:7s} threads {row['threads']} "
            f"trials {row['trials']}" + (f" ({row['layout']})" if shown else "")
            + f"  {row['edge_item_iters_per_s']:.3g} edge-item-iter/s")
    # held: resident bytes; moved: the traffic model's bytes per iteration (btflearn.traffic)
    held = f"{row['state_bytes_per_edge_item']:.0f} B held"
    parts = [f"{row['ratio_to_numpy']:.1f}x numpy"] if row["ratio_to_numpy"] else []
    if "traffic_gb_s" in row:
        frac = row.get("bandwidth_fraction")
        parts.append(f"{held}, {row['traffic_bytes_per_edge_item']:.0f} B moved per edge-item: "
                     f"{row['traffic_gb_s']:.1f} GB/s" + (f" = {frac:.0%} of triad" if frac else ""))
    else:
        parts.append(f"{held} per edge-item")
    if row.get("ratio_to_numba"):
        parts.append(f"{row['ratio_to_numba']:.1f}x best numba")
    return head + "\n    " + "  ".join(parts)
