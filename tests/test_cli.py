"""The command line: solves, writes, and fails clearly."""
import json
import subprocess
import sys

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
