"""The benchmark rows carry what the issue asks for, and the CLI starts without heavy imports."""
import json
import subprocess
import sys

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


def test_bench_json_cli():
    out = subprocess.run([sys.executable, "-c", "from btflearn.cli.main import main; main()", "bench",
                          "--problems", "2x2", "--backends", "numba", "--seconds", "0.1", "--solve-seeds", "",
                          "--json"], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    rows = json.loads(out.stdout)
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


def test_cold_start_row_times_a_fresh_cache_then_the_filled_one(monkeypatch):
    import subprocess

    from btflearn import bench
    calls = []

    def fake_run(cmd, env, capture_output, text):
        calls.append(env["NUMBA_CACHE_DIR"])
        return subprocess.CompletedProcess(cmd, 0, "", "")
    monkeypatch.setattr(subprocess, "run", fake_run)
    row = bench.cold_start(3, repeats=2)
    assert row["kind"] == "cold_start" and row["problem"] == "3x3" and row["repeats"] == 2
    # each repeat: one empty cache, used twice (cold, then warm); a new one per repeat
    assert len(calls) == 4 and calls[0] == calls[1] != calls[2] == calls[3]
    assert row["compile_overhead_seconds"] == row["cold_seconds"] - row["warm_seconds"]
