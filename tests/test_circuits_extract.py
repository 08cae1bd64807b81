"""Extraction (gate search), simplification and export_all on hand-made and trained models."""
import numpy as np
import pytest

from btflearn import Dataset, Model, Network, NotSolvedError
from btflearn.errors import BtfError
from btflearn.tasks import multiplier
from btflearn.circuits import export_all, extract_circuit, no_circuit_reason, read_netlist, simulate
from btflearn.circuits.extract import extract, fit_gate
from btflearn.circuits.handmade import BtfBuilder, multiplier_model
from btflearn.circuits.ir import CONST0, CONST1, Gate, LogicNetwork, lit, negate
from btflearn.circuits.simplify import simplify
from btflearn.circuits.simulate import all_patterns
from btflearn.circuits.stats import circuit_stats


def node_table(weights):
    """All patterns of a node whose first input is the bias (-1) and the rest free: (X, y)."""
    m = len(weights)
    x = np.where(all_patterns(m - 1), 1.0, -1.0)
    x = np.concatenate([-np.ones((x.shape[0], 1)), x], axis=1)
    s = x @ np.asarray(weights, dtype=float)
    return x, np.where(s > 0, 1.0, -1.0)


LITS = [CONST0, 2, 4, 6, 8, 10, 12]


def fit(weights):
    x, y = node_table(weights)
    return fit_gate(x, y, np.asarray(weights, dtype=float), LITS[:len(weights)])


def test_fit_constant_copy_and_not():
    assert fit([3.0, 0.5, 0.4]).kind == "const" and fit([3.0, 0.5, 0.4]).value is False
    assert fit([-3.0, 0.5, 0.4]).value is True
    f = fit([0.1, 2.0, 0.3, -0.2])
    assert f.kind == "copy" and f.value == 2 and f.describe() == "COPY"
    f = fit([0.1, 0.3, -2.0, 0.2])
    assert f.kind == "copy" and f.value == negate(4) and f.describe() == "NOT"


def test_fit_and_or_through_the_bias():
    f = fit([1.3, 1.2, -1.25, 0.05])  # sign(-1.3 + a - b): AND(a, ~b) = MAJ(False, a, ~b)
    assert f.kind == "maj" and f.value.kind == "and"
    assert set(f.value.fanins) == {CONST0, 2, negate(4)}
    f = fit([-1.2, 0.02, 1.3, 1.1])  # sign(1.2 + b + c): OR(b, c) = MAJ(True, b, c)
    assert f.value.kind == "or" and set(f.value.fanins) == {CONST1, 4, 6}


def test_fit_maj3_and_maj5_ignore_small_weights():
    f = fit([0.05, 1.0, 1.1, -0.9, 0.1, -0.08])
    assert f.value.kind == "maj3" and set(f.value.fanins) == {2, 4, negate(6)} and f.support == 3
    f = fit([0.02, 1.0, 1.1, 0.9, 1.05, -0.95, 0.1])
    assert f.value.kind == "maj5" and negate(10) in f.value.fanins and f.support == 5


def test_fit_threshold_gate_with_integer_weights():
    # sign(2a + b + c + d - 0.5): not a +-1 majority of any support; weights (2, 1, 1, 1)
    f = fit([0.5, 2.0, 1.0, 1.0, 1.0])
    assert f.kind == "thr" and f.value.kind == "thr"
    assert sorted(f.value.weights) == [1, 1, 1, 2]
    x, y = node_table([0.5, 2.0, 1.0, 1.0, 1.0])
    net = LogicNetwork(4)
    net.add_output(net.add_gate(f.value), "y")
    assert np.array_equal(simulate(net, x[:, 1:]).ravel(), y)


def test_fit_only_needs_the_patterns_seen():
    # sign(-0.1 + a + b + c) is MAJ3 on all inputs, but where a = b it is a copy of a
    x, y = node_table([0.1, 1.0, 1.0, 1.0])
    seen = x[:, 1] == x[:, 2]
    f = fit_gate(x[seen], y[seen], np.array([0.1, 1.2, 1.0, 0.9]), LITS[:4])
    assert f.kind == "copy" and f.value == 2


def test_extract_handmade_multipliers_with_distractors():
    for bits in (2, 3):
        data = multiplier(bits)
        model = multiplier_model(bits, seed=bits, distractors=3)
        assert model.accuracy(data) == (1.0, 1.0)
        ex = extract(model, data.inputs)
        counts = ex.summary()
        # every node comes back as the gate it was built as: AND/OR/MAJ3 and output COPY nodes
        assert counts["copy"] == 2 * bits
        assert set(counts) <= {"and", "or", "maj3", "copy"}
        assert np.array_equal(simulate(ex.network, data.inputs), data.outputs)
        net = simplify(ex.network)
        assert np.array_equal(simulate(net, data.inputs), data.outputs)
        assert all(g.kind != "buf" for g in net.gates)
    # 4 partial products, two half adders (XOR = 3 nodes, carry AND), the last carry shared with the XOR
    st = circuit_stats(simplify(extract(multiplier_model(2), multiplier(2).inputs).network))
    assert st["gates"] == 10 and st["by_type"]["and"] == 8 and st["by_type"]["or"] == 2 and st["gates2"] == 10


def test_extract_threshold_node_from_xor2():
    b = BtfBuilder(["a", "b"], name="xor")
    y = b.xor2(b.input("a"), b.input("b"))
    model = b.build([("y", y)])
    data = Dataset.from_bits([[0, 0], [0, 1], [1, 0], [1, 1]], [[0], [1], [1], [0]],
                             input_names=["a", "b"], output_names=["y"])
    circuit = extract_circuit(model, data)
    kinds = {f.describe() for f in circuit.extraction.fits.values()}
    assert "THR" in kinds and "AND" in kinds
    assert circuit.stats()["by_type"]["thr"] == 1
    assert np.array_equal(simulate(circuit.network, data.inputs), data.outputs)


def test_simplify_constants_copies_duplicates_and_dead_gates():
    net = LogicNetwork(3, ["a", "b", "c"])
    a, b, c = (net.input_lit(j) for j in range(3))
    dead = net.add_and(a, c)                        # reaches no output
    g1 = net.add_and(a, b)
    g2 = net.add_and(b, a)                          # duplicate of g1
    g3 = net.add_or(negate(a), negate(b))           # = ~g1
    const = net.add_and(a, negate(a))               # constant False
    copy = net.add_gate(Gate("thr", (negate(g2),), (1,)))  # NOT chain: ~~g2
    copy2 = net.add_gate(Gate("thr", (negate(copy),), (1,)))
    k = net.add_or(const, c)                        # OR(0, c) = c
    m = net.add_maj(g1, g1, c)                      # MAJ(x, x, c) = x
    net.add_output(g3, "y0")
    net.add_output(copy2, "y1")
    net.add_output(k, "y2")
    net.add_output(m, "y3")
    assert dead
    out = simplify(net)
    patterns = all_patterns(3)
    assert np.array_equal(simulate(out, patterns), simulate(net, patterns))
    assert out.n_gates == 1 and out.gates[0].kind == "and"
    g = lit(out.first_gate)
    assert out.outputs == [negate(g), g, c, g]


def test_simplify_drops_irrelevant_inputs_and_chooses_polarity():
    net = LogicNetwork(3, ["a", "b", "c"])
    a, b, c = (net.input_lit(j) for j in range(3))
    t = net.add_threshold([a, b, c], [5, 1, 1])     # = a
    o = net.add_or(negate(t), negate(b))            # used inverted only: becomes AND(a, b)
    net.add_output(negate(o), "y")
    out = simplify(net)
    assert out.n_gates == 1 and out.gates[0].kind == "and" and set(out.gates[0].inputs()) == {a, b}
    assert out.outputs == [lit(out.first_gate)]
    assert np.array_equal(simulate(out, all_patterns(3)), simulate(net, all_patterns(3)))


def test_trained_models_extract_to_small_circuits(circ_trained_2x2):
    data = multiplier(2)
    c0 = extract_circuit(circ_trained_2x2[0], data)
    st = c0.stats()
    assert st["by_type"] == {"and": 7, "or": 1, "xor": 0, "maj3": 0, "maj5": 0, "thr": 0}
    assert st["gates2"] == 8 and st["depth"] == 3 and st["complete_truth_table"]
    c2 = extract_circuit(circ_trained_2x2[2], data)
    assert c2.stats()["by_type"]["thr"] == 2  # small-margin nodes are reported as threshold gates
    for c in (c0, c2):
        assert np.array_equal(simulate(c.network, data.inputs), data.outputs)


def test_extract_without_dataset_uses_every_input(circ_trained_2x2):
    model = circ_trained_2x2[0]
    circuit = extract_circuit(model)
    assert circuit.complete and circuit.inputs.shape == (16, 4)
    x = np.where(all_patterns(4), 1.0, -1.0)
    assert np.array_equal(simulate(circuit.network, x), model.predict(x))


def test_extract_on_a_training_subset_matches_the_model_there():
    data = multiplier(3)
    model = multiplier_model(3, seed=5)
    train = data.subset(slice(0, 40))
    circuit = extract_circuit(model, train)
    assert not circuit.complete and circuit.stats()["patterns"] == 40
    assert np.array_equal(simulate(circuit.network, train.inputs), train.outputs)


def test_export_all_writes_five_verified_files(tmp_path, circ_trained_2x2):
    data = multiplier(2)
    stats = export_all(circ_trained_2x2[0], data, tmp_path / "out")
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == \
        ["circuit.aag", "circuit.aig", "circuit.blif", "circuit.dot", "circuit.v"]
    assert stats["gates2"] == 8 and stats["gates"] == 8 and stats["patterns"] == 16
    assert set(stats["files"]) == {"blif", "verilog", "aiger", "aig", "dot"}
    for name in ("circuit.blif", "circuit.v", "circuit.aag", "circuit.aig"):
        net = read_netlist(tmp_path / "out" / name)
        assert net.input_names == ["a0", "a1", "b0", "b1"] and net.output_names == ["p0", "p1", "p2", "p3"]
        assert np.array_equal(simulate(net, data.inputs), data.outputs)
    assert "digraph" in (tmp_path / "out" / "circuit.dot").read_text()


def test_unsolved_model_is_an_error_and_writes_nothing(tmp_path, circ_trained_2x2):
    model = circ_trained_2x2[0]
    weights = model.weights.copy()
    weights[-1] *= -1  # corrupt one output weight
    broken = Model(model.network, weights, model.input_names, model.output_names, name=model.name)
    assert broken.accuracy(multiplier(2))[1] < 1
    with pytest.raises(NotSolvedError, match="does not reproduce"):
        export_all(broken, multiplier(2), tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_models_without_a_circuit_are_rejected():
    net = Network.layered([2, 2])
    argmax = Model(net, np.ones(net.n_edges), readout="argmax")
    data = Dataset([[1, -1], [-1, 1]], [[1, -1], [-1, 1]], readout="argmax")
    with pytest.raises(BtfError, match="sign readout"):
        extract_circuit(argmax, data)
    assert "sign readout" in no_circuit_reason(argmax, data)
    analog = Dataset([[0.5, -1], [-1, 1]], [[1, -1], [-1, 1]])
    with pytest.raises(BtfError, match="Boolean"):
        extract_circuit(Model(net, np.ones(net.n_edges)), analog)
    free = Dataset([[-1, -1], [-1, -1]], [[1, -1], [-1, 1]], input_mode="binary")
    assert "free" in no_circuit_reason(Model(net, np.ones(net.n_edges)), free)
    # an unsolved but Boolean model has a circuit in principle: export_all reports NotSolvedError
    assert no_circuit_reason(Model(net, np.ones(net.n_edges)), Dataset([[1, -1]], [[1, 1]])) is None
