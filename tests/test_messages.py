"""What a user sees on bad input: one clear line naming the file and the problem, no traceback, nothing
written; and equivalence proofs that are right for partial truth tables and odd file names."""
import json
import re
from pathlib import Path

import numpy as np
import pytest

from btflearn import BtfError, Network, load_model
from btflearn import checkpoint
from conftest import run_cli as run  # noqa: E402  (tests/ is on sys.path)
from btflearn.circuits import eda, read_netlist, simulate
from btflearn.circuits.blif import read_blif
from btflearn.errors import FormatError
from btflearn.formats import read_dat
from btflearn.tasks import multiplier

pytest_plugins = ["pytester"]




@pytest.fixture
def model_file(tmp_path, circ_trained_2x2):
    path = tmp_path / "model.json"
    circ_trained_2x2[0].save(path)
    return path


def edited(model_file, tmp_path, change):
    data = json.loads(model_file.read_text())
    change(data)
    path = tmp_path / "edited.json"
    path.write_text(json.dumps(data))
    return path


# -- model.json -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("value", ["seventeen", 17.5, None, -3, True])
def test_a_non_integer_size_field_names_the_field_and_the_file(model_file, tmp_path, value):
    path = edited(model_file, tmp_path, lambda d: d.update(nodes=value))
    with pytest.raises(FormatError) as err:
        load_model(path)
    message = str(err.value)
    assert message.startswith(f"{path}: ") and "field 'nodes' must be a whole number" in message
    assert "int()" not in message and "literal" not in message


def test_a_malformed_edge_names_the_edge(model_file, tmp_path):
    path = edited(model_file, tmp_path, lambda d: d["edges"][3].__setitem__(1, "two"))
    with pytest.raises(FormatError, match=r"edge 4 of \"edges\" must be \[receiver, sender, weight\]"):
        load_model(path)


@pytest.mark.parametrize("end", [0, 1])
def test_an_edge_to_a_missing_node_says_the_node_does_not_exist(model_file, tmp_path, end):
    path = edited(model_file, tmp_path, lambda d: d["edges"][-1].__setitem__(end, 999))
    with pytest.raises(FormatError) as err:
        load_model(path)
    message = str(err.value)
    assert "node 999, which does not exist (the network has nodes 0..16)" in message
    assert "topological" not in message


def test_network_from_edges_distinguishes_missing_nodes_from_order(tmp_path):
    with pytest.raises(BtfError, match="node 7, which does not exist"):
        Network.from_edges(5, 2, 1, [(3, 0), (3, 1), (4, 0), (4, 7)])
    with pytest.raises(BtfError, match="into the bias node or an input node"):
        Network.from_edges(5, 2, 1, [(2, 0), (3, 0), (3, 1), (4, 0), (4, 3)])
    with pytest.raises(BtfError, match="topological order"):
        Network.from_edges(5, 2, 1, [(3, 0), (3, 4), (4, 0), (4, 1)])


def test_a_net_file_with_an_edge_to_a_missing_node(tmp_path):
    from btflearn.formats import read_net
    path = tmp_path / "bad.net"
    path.write_text("4 3 1 3\n3 0 1.0\n3 1 1.0\n3 9 1.0\n")
    with pytest.raises(FormatError, match=r"bad.net: edge 3 <- 9 refers to node 9, which does not exist"):
        read_net(path)


def test_cli_reports_a_bad_model_in_one_line(model_file, tmp_path, capsys):
    path = edited(model_file, tmp_path, lambda d: d.update(nodes="seventeen"))
    code, out, err = run(["export", path, "-o", tmp_path / "c.v"], capsys)
    assert code == 2 and err.strip() == f"error: {path}: field 'nodes' must be a whole number, found \"seventeen\""
    assert not (tmp_path / "c.v").exists()


# -- checkpoints ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("content", [bytes(range(256)) * 3, b"hello\n", b"PK\x03\x04 truncated zip"])
def test_a_garbage_checkpoint_is_not_a_btflearn_checkpoint(tmp_path, content):
    path = tmp_path / "checkpoint.npz"
    path.write_bytes(content)
    for read in (checkpoint.load, checkpoint.read_meta):
        with pytest.raises(FormatError) as err:
            read(path)
        message = str(err.value)
        assert message == f"{path}: not a readable btflearn checkpoint (damaged, or another kind of file)"
        assert "pickle" not in message


# -- export -o ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("where", ["missing folder", "file as folder", "no permission"])
def test_export_to_an_unwritable_path_fails_before_any_work(model_file, tmp_path, capsys, monkeypatch, where):
    from btflearn.circuits import export as ex
    import os

    def no_work(*args, **kwargs):
        raise AssertionError("export did work before checking its output path")

    monkeypatch.setattr(ex, "extract_circuit", no_work)
    if where == "missing folder":
        target, reason = tmp_path / "nowhere" / "c.v", "does not exist"
    elif where == "file as folder":
        target, reason = model_file / "c.v", "is not a folder"
    else:
        target, reason = tmp_path / "locked" / "c.v", "permission denied"
        target.parent.mkdir()
        real_access = os.access
        monkeypatch.setattr(os, "access", lambda p, mode: False if Path(p) == target.parent else real_access(p, mode))
    before = sorted(tmp_path.rglob("*"))
    code, out, err = run(["export", model_file, "-o", target], capsys)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith(f"error: cannot write {target}: ") and reason in err
    assert sorted(tmp_path.rglob("*")) == before


# -- verify and --prove ---------------------------------------------------------------------------------

def write_dat(path, dataset, rows):
    ins, outs = (dataset.inputs[rows] > 0).astype(int), (dataset.outputs[rows] > 0).astype(int)
    lines = [str(len(rows)), f"2 {ins.shape[1]}", f"2 {outs.shape[1]}"]
    lines += [" ".join(map(str, np.concatenate([i, o]))) for i, o in zip(ins, outs)]
    path.write_text("\n".join(lines) + "\n")
    return path


def xy_blif(net_text):
    """The 2x2 multiplier's BLIF with the .dat port names (x0..x3 in, y0..y3 out)."""
    names = {"a0": "x0", "a1": "x1", "b0": "x2", "b1": "x3", "p0": "y0", "p1": "y1", "p2": "y2", "p3": "y3"}
    return re.sub(r"\b(a0|a1|b0|b1|p[0-3])\b", lambda m: names[m.group(1)], net_text)


def wrong_p3_blif(text):
    """Flip the first cube of p3's cover: the multiplier goes wrong on a few inputs only."""
    lines = text.splitlines()
    idx = next(i for i, line in enumerate(lines) if line.startswith(".names") and line.split()[-1] == "p3")
    cube = lines[idx + 1]
    lines[idx + 1] = cube[:-3] + ("0" if cube[-3] == "1" else "1") + " 1"
    return "\n".join(lines) + "\n"


@pytest.fixture
def blif_texts(model_file, tmp_path, capsys):
    good = tmp_path / "good.blif"
    assert run(["export", model_file, "-o", good], capsys)[0] == 0
    return good.read_text(), wrong_p3_blif(good.read_text())


@pytest.mark.needs_tool("yosys")
def test_prove_on_a_partial_truth_table_covers_its_care_set_only(blif_texts, tmp_path, capsys):
    data = multiplier(2)
    bad = tmp_path / "bad.blif"
    bad.write_text(xy_blif(blif_texts[1]))
    got = simulate(read_netlist(bad), data.inputs)
    wrong_rows = np.flatnonzero(np.any(got != data.outputs, axis=1))
    assert 0 < len(wrong_rows) < 8
    part = write_dat(tmp_path / "part.dat", data, [r for r in range(16) if r not in wrong_rows])
    # right on every listed item, wrong only where the file says nothing: proved on the care set
    code, out, _ = run(["verify", bad, "--data", part, "--prove"], capsys)
    listed = 16 - len(wrong_rows)
    assert code == 0 and "PROVED: yosys" in out
    assert f"on its care set, the {listed} input patterns it lists" in out
    assert f"lists {listed} of the 2^4 input patterns" in out
    # the care-set reference still catches a netlist that is wrong inside the care set
    care = sorted(set(range(12)) | {int(wrong_rows[0])})
    with_wrong = write_dat(tmp_path / "with_wrong.dat", data, care)
    reference = eda.care_set_reference(read_dat(with_wrong))
    proof = eda.yosys_equiv(("reference.v", reference), ("bad.blif", bad.read_text()))
    assert not proof.equivalent
    row = int(np.flatnonzero([all(proof.inputs[f"x{j}"] == (data.inputs[r, j] > 0) for j in range(4))
                              for r in range(16)])[0])
    assert row in set(care) & set(wrong_rows.tolist())  # a counterexample inside the care set


@pytest.mark.needs_tool("yosys")
def test_a_proof_counterexample_shows_expected_and_actual_outputs(blif_texts):
    data = multiplier(2)
    proof = eda.yosys_equiv(("reference.v", eda.multiplier_reference(2)), ("bad.blif", blif_texts[1]))
    assert not proof.equivalent
    a = proof.inputs["a0"] + 2 * proof.inputs["a1"]
    b = proof.inputs["b0"] + 2 * proof.inputs["b1"]
    assert sum(proof.expected[f"p{k}"] << k for k in range(4)) == a * b
    row = int(np.flatnonzero((data.inputs > 0) @ (1 << np.arange(4)) == a + 4 * b)[0])
    actual = simulate(read_blif("bad.blif", blif_texts[1]), data.inputs[row:row + 1])
    assert [proof.got[f"p{k}"] for k in range(4)] == list((actual[0] > 0).astype(int))
    assert proof.got != proof.expected


@pytest.mark.needs_tool("yosys")
def test_verify_prove_fail_prints_expected_and_actual(blif_texts, tmp_path, capsys, monkeypatch):
    """Should the simulation and the proof ever disagree, the proof's FAIL shows outputs too."""
    from btflearn.circuits import export as ex
    monkeypatch.setattr(ex, "compare_with_dataset", lambda net, data: ex.Comparison(True, data.n_items))
    bad = tmp_path / "bad.blif"
    bad.write_text(blif_texts[1])
    code, out, _ = run(["verify", bad, "--task", "multiplier", "--bits", "2", "--prove"], capsys)
    assert code == 1 and "FAIL: yosys finds" in out
    counter = re.search(r"counterexample: (.*)\n\s+expected (.*), got (.*) \(wrong outputs: (.*)\)", out)
    assert counter, out
    inputs, expected, got = (dict(kv.split("=") for kv in part.split()) for part in counter.groups()[:3])
    a, b = int(inputs["a0"]) + 2 * int(inputs["a1"]), int(inputs["b0"]) + 2 * int(inputs["b1"])
    assert sum(int(expected[f"p{k}"]) << k for k in range(4)) == a * b
    assert expected != got and counter.group(4)


@pytest.mark.needs_tool("yosys")
@pytest.mark.parametrize("name", ["my circuit.blif", "odd;name $(x).v"])
def test_prove_a_netlist_whose_path_has_spaces_and_shell_characters(model_file, tmp_path, capsys, name):
    folder = tmp_path / "a folder"
    folder.mkdir()
    netlist = folder / name
    assert run(["export", model_file, "-o", netlist], capsys)[0] == 0
    code, out, err = run(["verify", netlist, "--task", "multiplier", "--bits", "2", "--prove"], capsys)
    assert code == 0, err
    assert "PROVED: yosys" in out
    if eda.find_abc():
        assert "PROVED: ABC cec" in out


# -- CI: a missing proof tool fails instead of skipping ------------------------------------------------

def test_needs_tool_fails_under_ci_and_skips_elsewhere(pytester, monkeypatch):
    pytester.makeconftest((Path(__file__).parent / "conftest.py").read_text())
    pytester.makepyfile(test_tool="""
        import pytest

        @pytest.mark.needs_tool("abc")
        def test_uses_abc():
            pass
    """)
    monkeypatch.setattr(eda, "find_abc", lambda: None)
    monkeypatch.setenv("CI", "true")
    pytester.runpytest_inprocess("-p", "no:cacheprovider").assert_outcomes(errors=1)
    monkeypatch.delenv("CI")
    pytester.runpytest_inprocess("-p", "no:cacheprovider").assert_outcomes(skipped=1)
