"""Binary AIGER (.aig): the encoding byte by byte, read-back + simulation, export wiring, and the files
read by ABC and yosys."""
import numpy as np
import pytest

from btflearn.circuits import eda, simulate
from btflearn.circuits.aiger import read_aig, read_aiger, write_aig, write_aiger
from btflearn.circuits.export import FORMATS, export_all, read_netlist, render_checked
from btflearn.circuits.handmade import multiplier_model
from btflearn.circuits.ir import LogicNetwork, negate
from btflearn.circuits.simulate import all_patterns
from btflearn.errors import FormatError
from btflearn.tasks import multiplier

needs_abc = pytest.mark.needs_tool("abc")      # skipped on a developer machine without it, fails under CI
needs_yosys = pytest.mark.needs_tool("yosys")


def small_network():
    net = LogicNetwork(3, ["a", "b", "c"], name="small")
    a, b, c = (net.input_lit(j) for j in range(3))
    g = net.add_and(a, negate(b))
    net.add_output(net.add_or(g, c), "y")
    net.add_output(negate(g), "z")
    return net


def test_binary_encoding_of_a_small_circuit():
    data = write_aig(small_network())
    # AND 4 = a & ~b (literals 2, 5), then OR(g, c) = ~AND(~g, ~c) (literals 9, 7) as AND 5 = 9 & 7
    head = b"aig 5 3 0 2 2\n11\n9\n"
    assert data.startswith(head)
    assert data[len(head):len(head) + 4] == bytes([8 - 5, 5 - 2, 10 - 9, 9 - 7])
    assert b"i0 a\ni1 b\ni2 c\no0 y\no1 z\nc\n" in data


def test_varints_longer_than_one_byte_round_trip():
    # a chain of 200 ANDs over 150 inputs: deltas above 127 need two bytes
    net = LogicNetwork(150)
    acc = net.input_lit(0)
    for j in range(1, 150):
        acc = net.add_and(acc, negate(net.input_lit(j)) if j % 3 else net.input_lit(j))
    net.add_output(acc, "y")
    net.add_output(net.add_and(net.input_lit(0), acc), "w")
    data = write_aig(net)
    assert any(b >= 0x80 for b in data[data.index(b"\n", data.index(b"\n", data.index(b"\n") + 1) + 1) + 1:][:400])
    back = read_aig("chain.aig", data)
    rng = np.random.default_rng(0)
    x = rng.random((500, 150)) > 0.2
    x[:50, :] = np.array([bool(j % 3 == 0) or j == 0 for j in range(150)])  # inputs that make the chain true
    np.testing.assert_array_equal(simulate(back, x), simulate(net, x))
    assert (simulate(net, x)[:, 0] > 0).any()


@pytest.mark.parametrize("bits", [2, 3])
def test_multiplier_round_trip_matches_the_truth_table(bits):
    data = multiplier(bits)
    from btflearn.circuits.export import extract_circuit
    net = extract_circuit(multiplier_model(bits, seed=1), data).network
    back = read_aig("m.aig", write_aig(net))
    assert back.input_names == data.input_names and back.output_names == data.output_names
    np.testing.assert_array_equal(simulate(back, data.inputs), data.outputs)
    # the ASCII and binary files hold the same AIG
    ascii_back = read_aiger("m.aag", write_aiger(net))
    assert back.n_gates == ascii_back.n_gates
    # read_aig also takes the ASCII form
    np.testing.assert_array_equal(simulate(read_aig("m.aag", write_aiger(net).encode()), data.inputs),
                                  data.outputs)


def test_export_writes_a_checked_aig(tmp_path):
    data = multiplier(2)
    assert FORMATS["aig"][0] == ".aig"
    stats = export_all(multiplier_model(2, seed=0), data, tmp_path)
    path = tmp_path / "circuit.aig"
    assert stats["files"]["aig"] == str(path) and path.read_bytes().startswith(b"aig ")
    net = read_netlist(path)
    np.testing.assert_array_equal(simulate(net, data.inputs), data.outputs)
    # a circuit that is wrong on its truth table is never rendered
    wrong = data.outputs.copy()
    wrong[3, 1] *= -1
    with pytest.raises(Exception, match="does not reproduce"):
        render_checked(net, "aig", data.inputs, wrong)


@pytest.mark.parametrize("data, message", [
    (b"aig 1 1 0 1 0\n", "ends early"),
    (b"aig 3 1 0 1 1\n2\n\x01", "M = I \\+ A"),
    (b"aig 2 1 0 1 1\n4\n\x04", "ends inside AND gate 0"),
    (b"aig 2 1 0 1 1\n4\n\x00\x00", "bad deltas"),
    (b"aig 2 1 0 1 1\n4\n\x05\x00", "bad deltas"),
    (b"aig 2 1 1 1 0\n", "latches"),
    (b"aig 2 1 0 1 1\n9\n\x02\x00", "exceeds the maximum"),
    (b"xyz", "not an AIGER file"),
])
def test_malformed_binary_files(data, message):
    with pytest.raises(FormatError, match=message):
        read_aig("bad.aig", data)


def test_unreadable_file(tmp_path):
    with pytest.raises(FormatError, match="cannot read"):
        read_netlist(tmp_path / "none.aig")


@needs_abc
def test_abc_reads_the_aig_and_proves_it_equal_to_the_reference(tmp_path):
    import subprocess
    data = multiplier(3)
    from btflearn.circuits.export import extract_circuit
    net = extract_circuit(multiplier_model(3, seed=1), data).network
    aig = write_aig(net)
    (tmp_path / "m.aig").write_bytes(aig)
    run = subprocess.run([eda.find_abc(), "-c", "&r m.aig; &ps"], cwd=tmp_path, capture_output=True,
                         text=True, timeout=60)
    n_and = int(aig.split(b"\n", 1)[0].split()[5])
    assert f"and = {n_and:5d}".replace(" ", "") in run.stdout.replace(" ", "") and "i/o =" in run.stdout
    reference = eda.reference_aig(eda.multiplier_reference(3))
    assert eda.abc_cec(("ref.aig", reference), ("m.aig", aig)).equivalent
    bad = aig.replace(b"o0 p0", b"o0 p1").replace(b"o1 p1", b"o1 p0")  # swap two outputs' names
    assert not eda.abc_cec(("ref.aig", reference), ("m.aig", bad)).equivalent


@needs_yosys
def test_yosys_reads_the_aig_and_proves_it():
    data = multiplier(2)
    from btflearn.circuits.export import extract_circuit
    net = extract_circuit(multiplier_model(2, seed=0), data).network
    assert eda.yosys_equiv(("reference.v", eda.multiplier_reference(2)), ("c.aig", write_aig(net))).equivalent
    other = extract_circuit(multiplier_model(2, seed=0), data).network
    other.outputs[0] = negate(other.outputs[0])
    assert not eda.yosys_equiv(("reference.v", eda.multiplier_reference(2)), ("c.aig", write_aig(other))).equivalent


def test_all_patterns_of_a_wide_or_survive_the_round_trip():
    net = LogicNetwork(6)
    net.add_output(net.add_maj(*[net.input_lit(j) for j in range(5)]), "m")
    x = all_patterns(6)
    np.testing.assert_array_equal(simulate(read_aig("w.aig", write_aig(net)), x), simulate(net, x))
