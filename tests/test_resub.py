"""Care-set resubstitution (btflearn.circuits.resub) and exact synthesis (btflearn.circuits.exact)."""
import numpy as np
import pytest

import btflearn
from btflearn.circuits import LogicNetwork, export_all, extract_circuit, simulate
from btflearn.circuits.decompose import to_aig
from btflearn.circuits.exact import smallest_aig
from btflearn.circuits.ir import CONST0
from btflearn.circuits.care_aig import Aig, aig_of
from btflearn.circuits.resub import resubstitute
from btflearn.circuits.simulate import all_patterns
from btflearn.errors import BtfError
from btflearn.tasks import multiplier


def ands(net):
    return to_aig(net).n_gates


def test_wide_threshold_gate_that_is_an_and_on_its_items_becomes_one_gate():
    # [3 x0 + 3 x1 + x2 + x3 + x4 >= 6]: x0 & x1, except where exactly one of x0, x1 and all of x2..x4 hold
    net = LogicNetwork(5)
    x = [net.input_lit(j) for j in range(5)]
    net.add_output(net.add_threshold(x + [CONST0], [3, 3, 1, 1, 1, 1]), "y")
    patterns = all_patterns(5)
    differs = (patterns[:, 0] ^ patterns[:, 1]) & patterns[:, 2] & patterns[:, 3] & patterns[:, 4]
    items = patterns[~differs]
    expected = simulate(net, items)
    assert ands(net) > 1
    small, report = resubstitute(net, items, expected, shuffles=0)
    assert small.n_gates == 1 and small.gates[0].kind == "and"
    assert sorted(small.gates[0].fanins) == sorted([CONST0] + x[:2])
    assert np.array_equal(simulate(small, items), expected)
    assert report.ands_before > report.ands_after == 1
    # right on the items it was given, and only there: the two left-out patterns now differ
    assert not np.array_equal(simulate(small, patterns[differs]), simulate(net, patterns[differs]))



def test_progress_hears_every_pass_and_ends_at_the_result():
    net = LogicNetwork(5)
    x = [net.input_lit(j) for j in range(5)]
    net.add_output(net.add_threshold(x + [CONST0], [3, 3, 1, 1, 1, 1]), "y")
    items = all_patterns(5)[:24]
    steps = []
    small, report = resubstitute(net, items, simulate(net, items), shuffles=0, progress=steps.append)
    assert len(steps) >= report.passes > 0 and {s["stage"] for s in steps} == {"resubstitution"}
    assert all(s["best"] <= min(s["ands"], report.ands_before) for s in steps)
    assert [s["best"] for s in steps] == sorted((s["best"] for s in steps), reverse=True)
    assert steps[-1]["best"] == report.ands_after == ands(small)

def test_care_set_leaves_out_items_where_a_gate_is_not_observed():
    # y = AND(g, x2) with g = AND(x0, x1): g matters exactly where x2 is True
    net = LogicNetwork(3)
    x0, x1, x2 = (net.input_lit(j) for j in range(3))
    g = net.add_and(x0, x1)
    net.add_output(net.add_and(g, x2), "y")
    patterns = all_patterns(3)
    values = [int("".join("1" if b else "0" for b in patterns[::-1, j]), 2) for j in range(3)]
    aig = aig_of(net, values, (1 << 8) - 1)
    assert isinstance(aig, Aig)
    node_g = aig.outputs[0] >> 1
    node_g = next(n for n in range(len(aig.fin)) if aig.fin[n] is not None and n != node_g)
    assert aig.care(node_g) == values[2]
    assert aig.care(aig.outputs[0] >> 1) == (1 << 8) - 1


def test_replacement_right_only_on_the_care_set_is_used_only_where_unobserved():
    # T = MAJ(x0, x1, ~x2) is AND(x0, x1) where x2 holds (its care set inside y = T & x2), OR elsewhere
    net = LogicNetwork(3)
    x0, x1, x2 = (net.input_lit(j) for j in range(3))
    t = net.add_maj(x0, x1, x2 ^ 1)
    net.add_output(net.add_and(t, x2), "y")
    patterns = all_patterns(3)
    small, _ = resubstitute(net, patterns, simulate(net, patterns), shuffles=0)
    assert ands(small) == 2 < ands(net)
    assert np.array_equal(simulate(small, patterns), simulate(net, patterns))
    # the same gate read directly has every item in its care set: AND(x0, x1) would be wrong there
    direct = LogicNetwork(3)
    d0, d1, d2 = (direct.input_lit(j) for j in range(3))
    direct.add_output(direct.add_maj(d0, d1, d2 ^ 1), "y")
    kept, _ = resubstitute(direct, patterns, simulate(direct, patterns), shuffles=0)
    assert np.array_equal(simulate(kept, patterns), simulate(direct, patterns))
    assert ands(kept) == ands(direct)


def test_a_circuit_that_does_not_reproduce_its_items_is_refused():
    net = LogicNetwork(2)
    net.add_output(net.add_and(net.input_lit(0), net.input_lit(1)), "y")
    patterns = all_patterns(2)
    with pytest.raises(BtfError, match="reproduces"):
        resubstitute(net, patterns, -simulate(net, patterns))
    with pytest.raises(BtfError, match="order"):
        resubstitute(net, patterns, simulate(net, patterns), orders=("sideways",))


def test_solved_2x2_multiplier_stays_exact_and_gets_no_bigger(tmp_path):
    data = multiplier(2)
    run = btflearn.fit(data, arch="4-4-4-4", gamma=1e-3, max_iter=10_000, trials=8, seed=0)
    assert run.solved
    plain = extract_circuit(run.model, data)
    shrunk = extract_circuit(run.model, data, resub=True)
    assert shrunk.resub is not None and plain.resub is None
    assert np.array_equal(simulate(shrunk.network, data.inputs), data.outputs)
    assert ands(shrunk.network) <= ands(plain.network)
    assert shrunk.resub.ands_after <= shrunk.resub.ands_before
    stats = export_all(run.model, data, tmp_path, resub=True)  # every written netlist is re-simulated
    assert stats["resub"]["ands_after"] == shrunk.resub.ands_after and (tmp_path / "circuit.blif").exists()
    raw = export_all(run.model, data, tmp_path / "raw")  # the --no-minimise path: no resubstitution
    assert "resub" not in raw and raw["gates2"] == plain.stats()["gates2"]


def test_sampled_data_is_not_resubstituted_unless_asked():
    from btflearn.circuits.handmade import multiplier_model
    data = multiplier(2)
    model = multiplier_model(2, seed=1, distractors=2)
    sample = btflearn.Dataset(data.inputs[:12], data.outputs[:12], name="sample")
    assert extract_circuit(model, sample, resub=True).resub is None
    forced = extract_circuit(model, sample, resub="always")
    assert forced.resub is not None
    assert np.array_equal(simulate(forced.network, sample.inputs), sample.outputs)
    with pytest.raises(BtfError, match="resub must be"):
        extract_circuit(model, sample, resub="sometimes")


@pytest.mark.parametrize("name, k, func, gates", [
    ("and", 2, lambda m: m == 3, 1),
    ("xor", 2, lambda m: bin(m).count("1") == 1, 3),
    ("maj3", 3, lambda m: bin(m).count("1") >= 2, 4),
    ("xor3", 3, lambda m: bin(m).count("1") % 2 == 1, 6),
])
def test_exact_synthesis_finds_the_known_smallest_aigs(name, k, func, gates):
    on = {m for m in range(1 << k) if func(m)}
    program = smallest_aig(k, on, set(range(1 << k)) - on)
    assert len(program.gates) == gates, name
    assert all(program.evaluate(m) == int(func(m)) for m in range(1 << k))


def test_exact_synthesis_uses_dont_cares():
    # 1 on 0b11, 0 on 0b00; the other two minterms free: one input alone does it
    program = smallest_aig(2, {3}, {0})
    assert program.gates == [] and program.evaluate(3) == 1 and program.evaluate(0) == 0
    with pytest.raises(BtfError, match="both"):
        smallest_aig(2, {1}, {1})
