"""The benchmark rows carry what the issue asks for, and the CLI starts without heavy imports."""
import json
import subprocess
import sys

import pytest

from btflearn.bench import throughput, time_to_solution


def test_throughput_rows():
    numba_row = throughput("2x2", "numba", threads=1, seconds=0.1, repeats=2)
    numpy_row = throughput("2x2", "numpy", seconds=0.1, repeats=2)
    for row in (numba_row, numpy_row):
        assert {"problem", "backend", "threads", "dtype", "edge_item_iters_per_s"} <= set(row)
        assert row["edge_item_iters_per_s"] > 0 and row["edges"] == 60 and row["items"] == 16
    assert numba_row["threads"] == 1


def test_time_to_solution_row():
    row = time_to_solution("2x2", [0], dict(arch="4-4-4-4", gamma=1e-3, max_iter=10_000, trials=8))
    assert row["success_rate"] == 1.0 and row["median_seconds_to_solution"] > 0
    assert row["iterations"][0] <= 10_000


def test_four_bit_rows_solve_by_cofactors_like_the_cli():
    from btflearn.bench import run_bench
    rows = list(run_bench([], ["numba"], ["float64"], solve_4x4_seeds=[0], bandwidth_mb=0))
    (row,) = rows
    assert row["settings"]["split"] == ["a3", "b3"] and row["arch"] == "dense:6-12-12-12-8"
    assert row["solved"] == [True]        # the 6-input network ran on the cofactors


def test_bench_json_cli():
    out = subprocess.run([sys.executable, "-c", "from btflearn.cli.main import main; main()", "bench",
                          "--problems", "2x2", "--backends", "numba", "--seconds", "0.1", "--solve-seeds", "",
                          "--bandwidth-mb", "0", "--json"], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    rows = [r for r in json.loads(out.stdout) if r["kind"] == "throughput"]
    assert rows and all(r["problem"] == "2x2" and r["backend"] == "numba" for r in rows)


def test_cli_start_imports_no_heavy_modules():
    code = ("import sys; from btflearn.cli.main import cli; "
            "print(sorted(m for m in ('numpy', 'numba', 'jax', 'rich') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "[]"


def test_pass_profile_splits_one_iteration():
    from btflearn.profile import pass_profile
    row = pass_profile("2x2", seconds=0.2, repeats=2, warmup=50)
    shares = [p["share"] for p in row["passes"].values()]
    assert len(shares) == 4 and all(0 <= s <= 1 for s in shares) and abs(sum(shares) - 1) < 1e-9
    assert row["passes"]["projections (P_A of every trio)"]["seconds"] > 0
    assert row["edge_item_iters_per_s"] == row["items"] * row["edges"] / row["seconds_per_iter"]


def test_throughput_rows_start_from_the_same_running_state():
    import numpy as np

    from btflearn.backends import KernelSpec, make_backend
    from btflearn.bench import PROBLEMS, _prepared_state
    from btflearn.kernels.graph import kernel_graph
    from btflearn.arch import parse_arch
    arch, make = PROBLEMS["2x2"]
    net, data = parse_arch(arch), make()
    G = kernel_graph(net, 3.0)
    a = _prepared_state(net, data, G, 2, "float64", warm=30)
    b = _prepared_state(net, data, G, 2, "float32", warm=30)
    start = _prepared_state(net, data, G, 2, "float64", warm=0)
    assert b.zw.dtype == np.float32 and np.allclose(a.zw, b.zw, atol=1e-6)
    make_backend("numpy", KernelSpec(G, data.inputs, data.outputs, 0, 0.2, 1e-4, 10 ** 9)).run(start, 30)
    assert np.allclose(a.zw, start.zw, atol=1e-9) and np.allclose(a.zy, start.zy, atol=1e-9)
    a.zw[:] = 0  # rows get copies: the cached state is untouched
    assert np.abs(_prepared_state(net, data, G, 2, "float64", warm=30).zw).sum() > 0


def test_cold_start_row_times_nothing_compiled_then_the_installed_kernels_then_warm(monkeypatch):
    import subprocess

    from btflearn import bench
    from btflearn.kernels.cache import ENV
    calls = []

    def fake_run(cmd, env, capture_output, text):
        calls.append((env["NUMBA_CACHE_DIR"], env.get(ENV)))
        return subprocess.CompletedProcess(cmd, 0, "", "")
    monkeypatch.setenv(ENV, "/somewhere/else")
    monkeypatch.setattr(subprocess, "run", fake_run)
    row = bench.cold_start(3, repeats=2)
    assert row["kind"] == "cold_start" and row["problem"] == "3x3" and row["repeats"] == 2
    # per repeat one empty NUMBA_CACHE_DIR for all three runs, a new one per repeat; the first run gets an
    # empty kernel folder of its own, the next two the installed one (the caller's setting dropped)
    assert len(calls) == 6 and calls[0][0] == calls[1][0] == calls[2][0] != calls[3][0]
    assert calls[0][1] not in (None, "/somewhere/else") and calls[1][1] is None and calls[2][1] is None
    assert row["compile_overhead_seconds"] == row["first_seconds"] - row["warm_seconds"]
    assert row["compile_seconds"] == row["uncompiled_seconds"] - row["warm_seconds"]


def test_traffic_model_counts_a_tiny_net_by_hand():
    from btflearn.traffic import iteration_bytes
    # net 2-1: nodes bias, 2 inputs, 1 output (V 4, first_btf = first_output = 3), 3 edges, 4 items.
    # Per item: (E,N) arrays: zw 1 + zx 2 + wa 1 + xa 1 (pass 1), zw 1 + wa 1 (pass 2), zw 2 + wa 1
    # (pass 3) = 10 touches x 3 edges; (V,N) state arrays: zy 2x4, g 4 + 1 written, ya 4, gap_node 2
    # (pass 1), g 1 (pass 2), gap_node 2 (pass 3) = 22 rows; float64 whatever the state: num 4, den 3,
    # inputs 2, labels 1, item_gap 2 = 12 rows. Per trial: wb written and read back, 2 x 3 float64.
    for itemsize in (8, 4):
        per_item = 10 * 3 * itemsize + 22 * itemsize + 12 * 8
        assert iteration_bytes(3, 4, 3, 3, 4, itemsize)["total"] == 4 * per_item + 2 * 3 * 8
    assert iteration_bytes(3, 4, 3, 3, 4, 8)["total"] == 2096
    passes = iteration_bytes(3, 4, 3, 3, 4, 8)
    assert sum(v for k, v in passes.items() if k != "total") == passes["total"]
    with pytest.raises(ValueError):
        iteration_bytes(3, 4, 3, 3, 4, 2)


def test_traffic_model_reads_the_kernel_graph():
    from btflearn.arch import parse_arch
    from btflearn.kernels.graph import kernel_graph
    from btflearn.traffic import graph_iteration_bytes, iteration_bytes
    G = kernel_graph(parse_arch("2-1"), 3.0)
    assert graph_iteration_bytes(G, 4, 8) == iteration_bytes(3, 4, 3, 3, 4, 8)["total"]
    assert graph_iteration_bytes(G, 4, 4, trials=3) == 3 * iteration_bytes(3, 4, 3, 3, 4, 4)["total"]


def test_stream_bandwidth_is_positive_and_checks_its_size():
    import math

    from btflearn.bandwidth import stream_bandwidth
    from btflearn.errors import BtfError
    row = stream_bandwidth(1, size_mb=4, repeats=2)
    for key in ("copy_gb_s", "triad_gb_s"):
        assert math.isfinite(row[key]) and row[key] > 0
    assert row["threads"] == 1 and row["size_mb"] == 4.0
    for bad in (0, -5, 0.5, float("nan"), float("inf"), 1e9, "64", True):
        with pytest.raises(BtfError):
            stream_bandwidth(1, size_mb=bad)
    with pytest.raises(BtfError):
        stream_bandwidth(0, size_mb=4)
    with pytest.raises(BtfError):
        stream_bandwidth(1, size_mb=4, repeats=0)


def test_bench_rows_report_traffic_and_bandwidth_fraction():
    from btflearn.bench import run_bench
    from btflearn.cli.bench_cmd import format_row
    rows = list(run_bench(["2x2"], ["numba"], ["float32"], seconds=0.05, bandwidth_mb=4))
    bandwidth = [r for r in rows if r["kind"] == "bandwidth"]
    numba_rows = [r for r in rows if r["kind"] == "throughput"]
    assert bandwidth and bandwidth[0]["threads"] == 1 and numba_rows
    row = numba_rows[0]
    moved = row["traffic_bytes_per_iter"]
    assert moved == row["traffic_bytes_per_edge_item"] * row["trials"] * row["items"] * row["edges"]
    assert abs(row["traffic_gb_s"] - moved / row["seconds_per_iter"] / 1e9) < 1e-9 * row["traffic_gb_s"]
    triad = {b["threads"]: b["triad_gb_s"] for b in bandwidth}
    assert row["bandwidth_fraction"] == row["traffic_gb_s"] / triad[row["threads"]]
    text = "\n".join(format_row(r) for r in rows)
    assert "B moved per edge-item" in text and "of triad" in text and "triad" in format_row(bandwidth[0])
    assert max(len(line) for line in text.splitlines()) <= 80


def test_bench_rejects_a_bad_bandwidth_size_before_measuring():
    from btflearn.bench import run_bench
    from btflearn.errors import BtfError
    with pytest.raises(BtfError, match="bandwidth array size"):
        next(run_bench(["2x2"], ["numba"], ["float64"], bandwidth_mb=-1, cold=True))


def test_pass_profile_runs_short_item_blocks():
    from btflearn.errors import BtfError
    from btflearn.profile import pass_profile
    row = pass_profile("2x2", seconds=0.1, repeats=2, warmup=20, block=8)
    assert row["block"] == 8 and row["items_timed"] == 16 and row["seconds_per_iter"] > 0
    assert pass_profile("2x2", seconds=0.1, repeats=2, warmup=20, block=8, blocks=1)["items_timed"] == 8
    with pytest.raises(BtfError, match="block"):
        pass_profile("2x2", seconds=0.1, repeats=2, warmup=20, block=0)


def test_parallel_region_cost_is_measured():
    import math

    from btflearn.profile import parallel_region_seconds
    cost = parallel_region_seconds(1, regions=2000, repeats=2)
    assert math.isfinite(cost) and 0 < cost < 0.01
