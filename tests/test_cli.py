"""The command line: solves, writes, and fails clearly."""
import json
import subprocess
import sys

import numpy as np
import pytest
from click.testing import CliRunner

from btflearn.cli.main import cli, main


def run(args):
    return subprocess.run([sys.executable, "-c", "from btflearn.cli.main import main; main()", *args],
                          capture_output=True, text=True, timeout=300)


def test_solve_multiplier_writes_a_loadable_model(tmp_path):
    r = run(["solve", "multiplier", "--bits", "2", "--seed", "0", "--quiet", "--out", str(tmp_path)])
    assert r.returncode == 0, r.stderr
    assert "solved" in r.stdout
    doc = json.loads((tmp_path / "model.json").read_text())
    assert doc["inputs"] == 4 and doc["outputs"] == 4
    result = json.loads((tmp_path / "result.json").read_text())
    assert result["solved"] and result["train_exact"] == 1.0


def test_unsolved_exits_nonzero_with_message():
    r = run(["solve", "multiplier", "--bits", "2", "--arch", "4-1-4", "--max-iter", "50", "--trials", "1",
             "--quiet"])
    assert r.returncode == 1
    assert "not solved" in r.stderr and "Traceback" not in r.stderr


def test_bad_input_is_an_error_not_a_traceback(tmp_path):
    bad = tmp_path / "bad.wth"
    bad.write_text("3\n4 4\n")
    data = tmp_path / "d.dat"
    data.write_text("1\n2 4\n2 4\n0 0 0 0 0 0 0 0\n")
    r = run(["train", "--net", str(bad), "--data", str(data), "--quiet"])
    assert r.returncode == 2 and "bad.wth" in r.stderr and "Traceback" not in r.stderr
    r = run(["solve", "multiplier", "--bits", "2", "--arch", "5-4-4", "--quiet"])
    assert r.returncode == 2 and "inputs" in r.stderr


def test_train_on_reference_files(tmp_path):
    from btflearn.data import path
    r = run(["train", "--net", str(path("2x2.wth")), "--data", str(path("2x2.dat")), "--gamma", "1e-3",
             "--trials", "8", "--quiet"])
    assert r.returncode == 0, r.stderr


def test_help_lists_commands():
    out = CliRunner().invoke(cli, ["--help"]).output
    for name in ("solve", "train", "bench", "export", "verify"):
        assert name in out


def test_unwritable_out_fails_before_any_work(tmp_path):
    import time
    t0 = time.perf_counter()
    r = run(["solve", "multiplier", "--bits", "4", "--out", "/proc/nope"])
    assert r.returncode != 0 and time.perf_counter() - t0 < 10
    assert "Traceback" not in r.stderr and "cannot write to /proc/nope" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


def test_a_rerun_never_leaves_a_circuit_beside_another_model(tmp_path):
    solved = run(["solve", "multiplier", "--bits", "2", "--quiet", "--out", str(tmp_path)])
    assert solved.returncode == 0 and (tmp_path / "circuit.v").is_file()
    failed = run(["solve", "multiplier", "--bits", "2", "--arch", "4-1-4", "--max-iter", "5", "--trials", "1",
                  "--quiet", "--out", str(tmp_path)])
    assert failed.returncode == 1 and (tmp_path / "model.json").is_file()
    assert not list(tmp_path.glob("circuit.*")) and not list(tmp_path.glob(".partial-*"))
    assert json.loads((tmp_path / "result.json").read_text())["solved"] is False


def test_ctrl_c_exits_130_and_says_how_to_resume(tmp_path):
    import signal
    import time
    proc = subprocess.Popen([sys.executable, "-c", "from btflearn.cli.main import main; main()", "solve",
                             "multiplier", "--bits", "3", "--arch", "6-2-6", "--max-iter", "10000000",
                             "--trials", "1", "--out", str(tmp_path)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 120
    while not (tmp_path / "task.json").exists() and time.time() < deadline:
        time.sleep(0.2)
    time.sleep(2)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "interrupted" in err and "Traceback" not in err
    if (tmp_path / "checkpoint.npz").exists():  # saved once the solver loop had started
        assert f"--resume {tmp_path}" in err


def test_ctrl_c_writes_the_run_so_far_beside_its_checkpoint(tmp_path, monkeypatch):
    import os
    import signal

    from btflearn.cli.options import ProgressView
    from btflearn.model import load_model
    calls = []
    show = ProgressView.__call__

    def press_ctrl_c(self, info):  # a real SIGINT once the solver loop runs
        calls.append(info)
        if len(calls) == 5:
            os.kill(os.getpid(), signal.SIGINT)
        return show(self, info)

    monkeypatch.setattr(ProgressView, "__call__", press_ctrl_c)
    r = CliRunner().invoke(cli, ["solve", "multiplier", "--bits", "3", "--arch", "6-2-6", "--max-iter",
                                 "10000000", "--trials", "1", "--out", str(tmp_path)])
    assert r.exit_code == 130, r.output
    assert f"--resume {tmp_path}" in r.output and (tmp_path / "checkpoint.npz").is_file()
    report = json.loads((tmp_path / "result.json").read_text())
    assert report["interrupted"] is True and report["solved"] is False and report["iterations"] > 0
    assert load_model(tmp_path / "model.json").network.arch == "6-2-6"


def test_progress_line_fits_80_columns():
    from btflearn.cli.options import ProgressView
    view = ProgressView
    width = 80 - view.LABEL - view.BAR - view.ELAPSED - 3
    info = dict(running=[(15, 1_000_000, 12.3456)], finished=15, trials=16, solved=3, best_gap=0.123456,
                elapsed=1e5)
    assert len(view.describe(info, width)) <= width
    text = view.describe(dict(info, fit=0.99902), width)  # the fit wins over the best gap when narrow
    assert len(text) <= width and "fit 99.9%" in text and "best" not in text, text
    assert "best 0.123" in view.describe(dict(info, fit=0.99902)), "room enough: everything"


def test_a_first_run_says_it_compiles(monkeypatch):
    from types import SimpleNamespace

    from btflearn import backends
    from btflearn.kernels import numba_kernels as nk

    class Index:
        def __init__(self, keys):
            self._cache = SimpleNamespace(_cache_file=SimpleNamespace(_load_index=lambda: keys))

    cold = Index({})
    cold.signatures = []
    warm = Index({((f"Array(float32, 3, 'C')",), "cpu"): None})
    warm.signatures = []
    monkeypatch.setattr(nk, "rrr_run", cold)
    monkeypatch.setattr(nk, "rrr_run_trials", cold)
    assert not backends.numba_kernels_cached("float64")
    r = CliRunner().invoke(cli, ["solve", "multiplier", "--bits", "2", "--backend", "numpy", "--max-iter", "1"])
    assert "compiling" not in r.output  # the NumPy backend compiles nothing
    monkeypatch.setattr(nk, "rrr_run_trials", warm)
    assert backends.numba_kernels_cached("float32") and not backends.numba_kernels_cached("float64")
    monkeypatch.undo()  # the real kernels, said to be uncompiled
    monkeypatch.setattr(backends, "numba_kernels_cached", lambda dtype: False)
    r = CliRunner().invoke(cli, ["solve", "multiplier", "--bits", "2", "--backend", "numba", "--max-iter", "1"])
    assert r.exit_code == 1 and "compiling kernels (first run only" in r.output and "NOT solved" in r.output


def test_solve_minimises_before_writing_the_circuit(tmp_path):
    r = run(["solve", "multiplier", "--bits", "2", "--quiet", "--out", str(tmp_path / "m")])
    assert r.returncode == 0, r.stderr
    report = json.loads((tmp_path / "m" / "result.json").read_text())
    assert report["minimise"]["alive_after"] <= report["minimise"]["alive_before"]
    from btflearn import load_model
    from btflearn.tasks import multiplier
    small = load_model(tmp_path / "m" / "model.min.json")
    assert small.accuracy(multiplier(2)) == (1.0, 1.0)
    assert report["circuit"]["gates"] <= report["minimise"]["alive_after"]
    r = run(["solve", "multiplier", "--bits", "2", "--quiet", "--no-minimise", "--out", str(tmp_path / "raw")])
    assert r.returncode == 0 and not (tmp_path / "raw" / "model.min.json").exists()
    assert "minimise" not in json.loads((tmp_path / "raw" / "result.json").read_text())


def test_minimised_model_is_scored_on_the_test_items(tmp_path):
    r = run(["solve", "ca", "--rule", "232", "--width", "8", "--arch", "8-8", "--n-train", "64", "--n-test",
             "100", "--max-iter", "2000", "--quiet", "--no-recover", "--out", str(tmp_path)])
    assert r.returncode == 0, r.stderr
    report = json.loads((tmp_path / "result.json").read_text())
    from btflearn import load_model
    from btflearn.tasks import ElementaryCA
    test = ElementaryCA(232, 8, 1).sample(164, seed=0).split(64)[1]
    small = load_model(tmp_path / "model.min.json")
    assert small.accuracy(test) == (report["minimise"]["test_per_bit"], report["minimise"]["test_exact"])
    assert "minimised model on the test items" in r.stdout
    # every output reads at most 8 cells: by default all 256 states are anchors, no validation runs,
    # and the minimised model answers as the read-out does on every state
    every = np.where((np.arange(256)[:, None] >> np.arange(8)) & 1, 1.0, -1.0)
    assert report["minimise"]["anchors"] == 2048 and report["minimise"]["validation"] is None
    assert np.array_equal(small.predict(every), load_model(tmp_path / "model.json").predict(every))
    # --minimise-anchors 0: free wherever the 64 training states say nothing, as asked
    kept = tmp_path / "free"
    r = run(["solve", "ca", "--rule", "232", "--width", "8", "--arch", "8-8", "--n-train", "64", "--n-test",
             "100", "--max-iter", "2000", "--quiet", "--no-recover", "--minimise-anchors", "0", "--out", str(kept)])
    assert r.returncode == 0, r.stderr
    report = json.loads((kept / "result.json").read_text())
    assert report["minimise"]["anchors"] == 0 and report["minimise"]["validation"] is None
    free = load_model(kept / "model.min.json")
    train = ElementaryCA(232, 8, 1).sample(164, seed=0).split(64)[0]
    assert free.accuracy(train) == (1.0, 1.0)   # exact on its items


def test_a_bad_option_leaves_no_out_folder(tmp_path):
    r = run(["solve", "multiplier", "--bits", "2", "--arch", "4-4-3", "--out", str(tmp_path / "new")])
    assert r.returncode == 2 and "has 4 inputs and 3 outputs" in r.stderr and "Traceback" not in r.stderr
    assert not (tmp_path / "new").exists()
