"""The logic IR, the bit-parallel simulator, 2-input decomposition, statistics, covers and recognition."""
import itertools

import numpy as np
import pytest

from btflearn.errors import BtfError
from btflearn.circuits.covers import gate_cover, minimal_true_sets, recognize
from btflearn.circuits.decompose import gate_cost2, to_aig, to_two_input
from btflearn.circuits.ir import CONST0, CONST1, Gate, LogicNetwork, lit, negate
from btflearn.circuits.simulate import all_patterns, pack, simulate, unpack
from btflearn.circuits.stats import circuit_stats


def reference_simulate(net, patterns):
    """Pattern-by-pattern evaluation from the gate definitions (no bit tricks)."""
    out = []
    for row in patterns:
        values = {1 + j: bool(v) for j, v in enumerate(row)}
        for g, gate in enumerate(net.gates):
            values[net.first_gate + g] = gate.evaluate(values)
        out.append([1.0 if ((o >> 1 and values[o >> 1]) ^ bool(o & 1)) else -1.0 for o in net.outputs])
    return np.array(out)


def random_network(seed, n_inputs=6, n_gates=25):
    rng = np.random.default_rng(seed)
    net = LogicNetwork(n_inputs)
    for _ in range(n_gates):
        nodes = net.n_nodes
        kind = rng.integers(6)
        pick = lambda k: [lit(int(n), bool(rng.integers(2))) for n in rng.choice(np.arange(1, nodes), k, replace=False)]
        if kind == 0:
            net.add_and(*pick(2))
        elif kind == 1:
            net.add_or(*pick(2))
        elif kind == 2:
            net.add_xor(*pick(2))
        elif kind == 3:
            net.add_maj(*pick(3))
        elif kind == 4 and nodes > 5:
            net.add_maj(*pick(5))
        else:
            k = int(rng.integers(2, min(5, nodes - 1) + 1))
            fanins = pick(k) + ([CONST0] if rng.integers(2) else [CONST1])
            net.add_threshold(fanins, [int(w) for w in rng.integers(1, 5, size=k + 1)])
    for g in range(8):
        net.add_output(lit(net.n_nodes - 1 - g, bool(g % 2)), f"y{g}")
    return net


def test_gate_kinds():
    net = LogicNetwork(3)
    a, b, c = (net.input_lit(j) for j in range(3))
    assert Gate("thr", (CONST0, a, b), (1, 1, 1)).kind == "and"
    assert Gate("thr", (a, CONST1, negate(b)), (1, 1, 1)).kind == "or"
    assert Gate("thr", (a, b, c), (1, 1, 1)).kind == "maj3"
    assert Gate("thr", (a, b, c, CONST0, CONST1), (1,) * 5).kind == "maj5"
    assert Gate("thr", (a, b, c), (2, 1, 1)).kind == "thr"
    assert Gate("xor", (a, b)).kind == "xor"
    assert Gate("thr", (a,), (1,)).kind == "buf"


@pytest.mark.parametrize("bad", [dict(op="thr", fanins=(2, 4), weights=(1, 0)),
                                 dict(op="thr", fanins=(2, 4), weights=(1, -1)),
                                 dict(op="thr", fanins=(2, 4), weights=(1, 1.5)),
                                 dict(op="thr", fanins=(2, 4), weights=(1,)),
                                 dict(op="xor", fanins=(2, 4, 6)),
                                 dict(op="nand", fanins=(2, 4))])
def test_gate_rejects_malformed(bad):
    with pytest.raises(BtfError):
        Gate(**bad)


def test_network_rejects_forward_references_and_bad_ports():
    net = LogicNetwork(2, ["a", "b"])
    with pytest.raises(BtfError):
        net.add_and(2, lit(3))  # node 3 does not exist yet
    y = net.add_and(2, 4)
    net.add_output(y, "a")
    with pytest.raises(BtfError, match="both an input and an output"):
        net.validate()


@pytest.mark.parametrize("n", [1, 63, 64, 65, 200])
def test_pack_unpack_round_trip(n):
    rng = np.random.default_rng(n)
    bits = rng.integers(0, 2, size=(n, 5)).astype(bool)
    words = pack(bits)
    assert words.shape == (5, (n + 63) // 64) and words.dtype == np.uint64
    assert np.array_equal(unpack(words, n), bits)
    # pattern p is bit p % 64 of word p // 64
    p = n - 1
    assert bool((int(words[2, p // 64]) >> (p % 64)) & 1) == bits[p, 2]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_simulator_matches_gate_definitions(seed):
    net = random_network(seed)
    patterns = all_patterns(6)[::-1][:50]  # 50 patterns: a partial last word
    expected = reference_simulate(net, patterns)
    assert np.array_equal(simulate(net, patterns), expected)
    assert np.array_equal(simulate(net, patterns, fast=False), expected)
    assert np.array_equal(simulate(net, np.where(patterns, 1.0, -1.0)), expected)


def test_threshold_zero_sum_is_false():
    net = LogicNetwork(2)
    net.add_output(net.add_threshold([2, 4], [1, 1]), "y")  # a + b > 0: a zero sum (a != b) is False
    out = simulate(net, all_patterns(2))[:, 0]
    assert list(out) == [-1, -1, -1, 1]


@pytest.mark.parametrize("seed", [3, 4])
def test_decompositions_compute_the_same_function(seed):
    net = random_network(seed)
    patterns = all_patterns(6)
    expected = simulate(net, patterns)
    two = to_two_input(net)
    aig = to_aig(net)
    assert all(g.kind in ("and", "or", "xor") for g in two.gates)
    assert all(g.kind == "and" for g in aig.gates)
    assert np.array_equal(simulate(two, patterns), expected)
    assert np.array_equal(simulate(aig, patterns), expected)


def test_two_input_cost_per_gate_kind():
    a, b, c, d, e = 2, 4, 6, 8, 10
    assert gate_cost2(Gate("thr", (CONST0, a, b), (1, 1, 1))) == 1
    assert gate_cost2(Gate("thr", (CONST1, a, negate(b)), (1, 1, 1))) == 1
    assert gate_cost2(Gate("xor", (a, b))) == 1
    assert gate_cost2(Gate("thr", (a, b, c), (1, 1, 1))) == 4
    assert gate_cost2(Gate("thr", (a, b, c, d, e), (1,) * 5)) == 12
    # a & (b | c | d) | b & c & d
    assert gate_cost2(Gate("thr", (a, b, c, d), (2, 1, 1, 1))) == 6


def test_stats_of_a_known_network():
    # full adder: s = a ^ b ^ c (two XORs), carry = MAJ(a, b, c); an inverted output
    net = LogicNetwork(3, ["a", "b", "c"])
    a, b, c = (net.input_lit(j) for j in range(3))
    s = net.add_xor(net.add_xor(a, b), c)
    carry = net.add_maj(a, b, negate(c))
    net.add_output(s, "s")
    net.add_output(negate(carry), "nc")
    st = circuit_stats(net)
    assert st["gates"] == 3
    assert st["by_type"]["xor"] == 2 and st["by_type"]["maj3"] == 1
    assert st["gates2"] == 2 + 4
    assert st["depth"] == 2 and st["depth2"] == 3
    assert st["inverters"] == 2
    assert (st["inputs"], st["outputs"]) == (3, 2)


def test_minimal_true_sets():
    assert sorted(minimal_true_sets([1, 1, 1], 2)) == [(0, 1), (0, 2), (1, 2)]
    assert sorted(minimal_true_sets([2, 1, 1], 2)) == [(0,), (1, 2)]
    assert minimal_true_sets([1, 1], 0) == [()]
    assert minimal_true_sets([1, 1], 3) == []
    assert minimal_true_sets([1] * 20, 10, limit=100) is None  # C(20, 10) sets


def test_gate_cover_of_and_with_complement_and_maj3():
    inputs, cubes = gate_cover(Gate("thr", (CONST0, 2, 5), (1, 1, 1)))
    assert inputs == [2, 4] and cubes == ["10"]
    inputs, cubes = gate_cover(Gate("thr", (2, 4, 6), (1, 1, 1)))
    assert sorted(cubes) == ["-11", "1-1", "11-"]
    assert gate_cover(Gate("thr", (2, 3, 6), (1, 1, 1))) is None  # a and ~a: repeated node


def table_of(fn, k):
    return np.array([bool(fn(*[(p >> i) & 1 for i in range(k)])) for p in range(1 << k)])


def test_recognize_small_functions():
    lits = [2, 4, 6, 8, 10]
    assert recognize(table_of(lambda a, b: 0, 2), lits[:2]) == CONST0
    assert recognize(table_of(lambda a, b: not b, 2), lits[:2]) == 5
    gate, flip = recognize(table_of(lambda a, b: a and not b, 2), lits[:2])
    assert gate.kind == "and" and set(gate.inputs()) == {2, 5} and flip == 0
    gate, flip = recognize(table_of(lambda a, b: not (a and b), 2), lits[:2])  # NAND = OR(~a, ~b)
    assert gate.kind == "or" and set(gate.inputs()) == {3, 5} and flip == 0
    gate, flip = recognize(table_of(lambda a, b: a == b, 2), lits[:2])  # XNOR
    assert gate.kind == "xor" and flip == 1
    gate, _ = recognize(table_of(lambda a, b, c: a + (1 - b) + c >= 2, 3), lits[:3])
    assert gate.kind == "maj3" and set(gate.fanins) == {2, 5, 6}
    gate, _ = recognize(table_of(lambda a, b, c, d, e: a + b + c + d + (1 - e) >= 3, 5), lits)
    assert gate.kind == "maj5" and 11 in gate.fanins
    # an irrelevant input is dropped: AND(a, c) over (a, b, c)
    gate, _ = recognize(table_of(lambda a, b, c: a and c, 3), lits[:3])
    assert gate.kind == "and" and set(gate.inputs()) == {2, 6}
    assert recognize(table_of(lambda a, b, c: a ^ b ^ c, 3), lits[:3]) is None


def test_recognized_gates_compute_their_table():
    checked = 0
    for k in (2, 3):
        for table in itertools.product((False, True), repeat=1 << k):
            found = recognize(np.array(table), [2 * (1 + i) for i in range(k)])
            if found is None or isinstance(found, int):
                continue
            net = LogicNetwork(k)
            net.add_output(net.add_gate(found[0]) ^ found[1], "y")
            assert np.array_equal(simulate(net, all_patterns(k))[:, 0] > 0, np.array(table))
            checked += 1
    # k = 2: the 8 AND/OR-type functions and XOR/XNOR; k = 3: 8 MAJ3 polarities and 3 x 10 functions of
    # two of the three inputs
    assert checked == 10 + (8 + 30)


def test_wide_threshold_gates_decompose_through_an_adder():
    # 24 inputs with weights up to 1000: the decision diagram is huge, the adder and comparator is not
    rng = np.random.default_rng(11)
    weights = [int(w) for w in rng.integers(1, 1000, size=24)]
    net = LogicNetwork(24)
    net.add_output(net.add_threshold([net.input_lit(j) for j in range(24)] + [CONST0], weights + [7]), "y")
    two = to_two_input(net)
    assert 100 < two.n_gates < 3000
    patterns = rng.integers(0, 2, size=(4000, 24)).astype(bool)
    assert np.array_equal(simulate(two, patterns), simulate(net, patterns))
    assert np.array_equal(simulate(to_aig(net), patterns), simulate(net, patterns))


@pytest.mark.parametrize("seed", range(6))
def test_choose_polarity_keeps_the_function_and_flips_gates_read_complemented(seed):
    from btflearn.circuits.ir import node_of
    from btflearn.circuits.simplify import choose_polarity
    net = random_network(seed, n_gates=40)
    out = choose_polarity(net)
    patterns = all_patterns(net.n_inputs)
    assert np.array_equal(simulate(out, patterns), simulate(net, patterns))
    # a self-dual gate read complemented more often than not (outputs count twice) ends up read plain
    for node in range(out.first_gate, out.n_nodes):
        gate = out.gate_of(node)
        if gate.op != "thr" or sum(gate.weights) % 2 == 0:
            continue
        reads = [f for g in out.gates for f in g.fanins if node_of(f) == node]
        reads += [o for o in out.outputs if node_of(o) == node] * 2
        assert sum(1 if f & 1 else -1 for f in reads) <= 0


def test_choose_polarity_turns_an_inverted_or_of_inverted_inputs_into_and():
    from btflearn.circuits.simplify import choose_polarity
    net = LogicNetwork(2)
    g = net.add_or(negate(net.input_lit(0)), negate(net.input_lit(1)))
    net.add_output(negate(g), "y")
    out = choose_polarity(net)
    assert out.outputs == [g] and out.gate_of(g >> 1).kind == "and"
    assert set(out.gate_of(g >> 1).fanins) >= {net.input_lit(0), net.input_lit(1)}


def test_simplify_keeps_threshold_gates_whose_sums_tie_at_zero():
    # integer gates whose weighted sum is 0 on some patterns (read False); re-deriving such a gate from
    # its truth table must keep them False (a rescaled copy may tip a tie)
    from btflearn.circuits.simplify import simplify
    rng = np.random.default_rng(0)
    patterns = all_patterns(10)
    ties = 0
    for _ in range(300):
        k = int(rng.integers(4, 11))
        w = rng.integers(1, 61, size=k) * rng.choice([-1, 1], size=k)
        const = int(rng.integers(-40, 41)) or 1
        net = LogicNetwork(10)
        lits = [net.input_lit(j) ^ int(c < 0) for j, c in enumerate(w)] + [CONST1 if const > 0 else CONST0]
        net.add_output(net.add_threshold(lits, [abs(int(c)) for c in w] + [abs(const)]), "y")
        expected = simulate(net, patterns)
        assert np.array_equal(simulate(simplify(net), patterns), expected)
        x = np.where(patterns[:, :k], 1, -1)
        ties += int(np.any(x @ w + const == 0))
    assert ties > 50
