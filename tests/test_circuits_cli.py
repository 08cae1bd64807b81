"""``btflearn export`` and ``btflearn verify``."""
import json
import re

import numpy as np
import pytest

from btflearn import Model
from conftest import run_cli as run  # noqa: E402  (tests/ is on sys.path)
from btflearn.tasks import multiplier
from btflearn.circuits import eda, read_netlist, simulate




@pytest.fixture
def circ_model_file(tmp_path, circ_trained_2x2):
    path = tmp_path / "run" / "model.json"
    path.parent.mkdir()
    circ_trained_2x2[0].save(path)
    return path


def test_export_to_stdout_defaults_to_verilog(circ_model_file, capsys):
    code, out, err = run(["export", circ_model_file], capsys)
    assert code == 0
    assert out.splitlines()[1] == "module multiplier2(a0, a1, b0, b1, p0, p1, p2, p3);"
    assert "truth table: multiplier2" in err and "8 two-input gates" in err


@pytest.mark.parametrize("fmt, suffix, first", [("blif", ".blif", "#"), ("aiger", ".aag", "aag"),
                                                ("dot", ".dot", "//"), ("verilog", ".v", "//")])
def test_export_formats_to_files(circ_model_file, tmp_path, capsys, fmt, suffix, first):
    target = tmp_path / f"net{suffix}"
    code, out, _ = run(["export", circ_model_file, "--format", fmt, "-o", target], capsys)
    assert code == 0 and f"wrote {target} ({fmt})" in out
    assert target.read_text().startswith(first)
    if fmt != "dot":
        data = multiplier(2)
        assert np.array_equal(simulate(read_netlist(target), data.inputs), data.outputs)


def test_export_infers_the_format_from_the_suffix(circ_model_file, tmp_path, capsys):
    target = tmp_path / "net.blif"
    assert run(["export", circ_model_file, "-o", target], capsys)[0] == 0
    assert ".model multiplier2" in target.read_text()


def test_export_of_an_unsolved_model_fails_cleanly(circ_model_file, tmp_path, capsys):
    data = json.loads(circ_model_file.read_text())
    data["edges"][-1][2] *= -1
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps(data))
    target = tmp_path / "net.v"
    code, out, err = run(["export", broken, "-o", target], capsys)
    assert code == 2
    assert "error: model 'multiplier2' does not reproduce 'multiplier2'" in err and "Traceback" not in err
    assert not target.exists()


def test_export_without_a_known_task_checks_every_input(tmp_path, capsys, circ_trained_2x2):
    model = circ_trained_2x2[0]
    renamed = Model(model.network, model.weights, model.input_names, model.output_names, name="mystery")
    path = tmp_path / "m.json"
    renamed.save(path)
    code, out, err = run(["export", path, "-f", "blif"], capsys)
    assert code == 0 and "all 2^4 inputs" in err and ".model mystery" in out


def test_export_with_explicit_task_mismatch_is_an_error(circ_model_file, capsys):
    code, _, err = run(["export", circ_model_file, "--task", "multiplier", "--bits", "3"], capsys)
    assert code == 2 and "error:" in err


@pytest.mark.needs_tool("abc")
def test_export_optimize_reports_before_and_after(circ_model_file, tmp_path, capsys):
    target = tmp_path / "opt.v"
    code, out, _ = run(["export", circ_model_file, "--optimize", "-o", target], capsys)
    assert code == 0
    assert "before ABC: 8 gates" in out and "after ABC:  7 gates" in out and "ABC cec: equivalent" in out
    data = multiplier(2)
    assert np.array_equal(simulate(read_netlist(target), data.inputs), data.outputs)


def test_export_optimize_without_abc_says_so(circ_model_file, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(eda, "find_abc", lambda: None)
    target = tmp_path / "opt.v"
    code, _, err = run(["export", circ_model_file, "--optimize", "-o", target], capsys)
    assert code == 2 and "ABC is not on PATH" in err
    assert not target.exists()


def test_verify_pass_and_fail(circ_model_file, tmp_path, capsys):
    good = tmp_path / "good.blif"
    assert run(["export", circ_model_file, "-o", good], capsys)[0] == 0
    code, out, _ = run(["verify", good, "--task", "multiplier", "--bits", "2"], capsys)
    assert code == 0 and "PASS" in out and "all 16 items" in out
    text = good.read_text()
    # make p3 = a1&b1 & ~(a0&b0): wrong exactly when a = b = 3
    bad = tmp_path / "bad.blif"
    lines = text.splitlines()
    idx = next(i for i, line in enumerate(lines) if line.startswith(".names") and line.split()[-1] == "p3")
    lines[idx + 1] = lines[idx + 1][:-3] + ("0" if lines[idx + 1][-3] == "1" else "1") + " 1"
    bad.write_text("\n".join(lines) + "\n")
    code, out, _ = run(["verify", bad, "--task", "multiplier", "--bits", "2"], capsys)
    assert code == 1
    assert "FAIL" in out and "counterexample: a=" in out and "wrong outputs:" in out


def test_verify_needs_a_matching_task(circ_model_file, tmp_path, capsys):
    good = tmp_path / "good.v"
    run(["export", circ_model_file, "-o", good], capsys)
    code, _, err = run(["verify", good, "--task", "multiplier", "--bits", "3"], capsys)
    assert code == 2 and "ports do not match" in err
    code, _, err = run(["verify", good, "--task", "multiplier"], capsys)
    assert code == 2 and "--bits" in err


@pytest.mark.needs_tool("yosys")
def test_verify_prove_with_tools(circ_model_file, tmp_path, capsys):
    good = tmp_path / "good.aag"
    run(["export", circ_model_file, "-o", good], capsys)
    code, out, _ = run(["verify", good, "--task", "multiplier", "--bits", "2", "--prove"], capsys)
    assert code == 0 and "PROVED: yosys" in out


@pytest.mark.needs_tool("abc")
def test_export_optimize_keeps_learning_and_abc_apart(circ_model_file, tmp_path, capsys):
    target = tmp_path / "c.blif"
    code, out, _ = run(["export", circ_model_file, "--optimize", "--no-minimise", "-o", target], capsys)
    assert code == 0 and "minimised in" not in out
    line = next(x for x in out.splitlines() if x.startswith("AIG ANDs"))
    learned, improved, baseline = (int(v) for v in re.findall(r"(?:learned|ABC \(no collapse\)|\(collapse\)) (\d+)", line))
    assert improved <= learned and baseline >= 1
    data = multiplier(2)
    for path in (target, tmp_path / "c.abc.blif"):   # btflearn's circuit and ABC's, both verified
        assert np.array_equal(simulate(read_netlist(path), data.inputs), data.outputs)
    assert eda.aig_ands(read_netlist(target)) == learned


def test_minimise_time_bounds_both_stages(tmp_path, capsys):
    # the 3x3 read-out takes tens of seconds to minimise and resubstitute in full: a short budget stops both
    out = tmp_path / "m3"
    code, _, err = run(["solve", "multiplier", "--bits", "3", "--seed", "0", "--minimise-time", "0.5",
                        "--out", out, "--quiet"], capsys)
    assert code == 0, err
    result = json.loads((out / "result.json").read_text())
    assert result["minimise"]["stopped"] == "time limit" and result["minimise"]["seconds"] < 5
    resub = result["circuit"]["resub"]
    assert resub["stopped"] == "time limit" and resub["seconds"] < 5 and resub["ands_after"] <= resub["ands_before"]
    assert np.array_equal(simulate(read_netlist(out / "circuit.blif"), multiplier(3).inputs), multiplier(3).outputs)
