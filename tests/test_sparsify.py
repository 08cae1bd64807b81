"""Minimisation of a solved model: stays exact on every item, ends with small gates, never accepts a
model that fails the data."""
import numpy as np
import pytest

from btflearn import Dataset, Model, Network, fit
from btflearn.errors import BtfError
from btflearn.sparsify import gate_kinds, sparsify
from btflearn.tasks import multiplier


def supports(model):
    """Nonzero in-edges of every node that reaches an output (bias included)."""
    net = model.network
    used = np.zeros(net.n_nodes, dtype=bool)
    used[net.first_output:] = True
    out = {}
    for n in range(net.n_nodes - 1, net.first_btf - 1, -1):
        lo, hi = net.in_start[n], net.in_start[n + 1]
        nz = [int(s) for s, w in zip(net.senders[lo:hi], model.weights[lo:hi]) if w != 0]
        if used[n]:
            out[n] = len(nz)
            used[nz] = True
    return out


def wide_and_model():
    """A dense 3-input, 3-hidden, 1-output net whose output is AND(x1, x2) written with wide real weights
    on every edge (small ones that change nothing), hidden nodes random wide gates."""
    net = Network.layered([3, 3, 1], dense=True)
    rng = np.random.default_rng(1)
    w = rng.uniform(-0.3, 0.3, net.n_edges)
    out = net.n_nodes - 1
    lo, hi = net.in_start[out], net.in_start[out + 1]
    senders = list(net.senders[lo:hi])
    w[lo:hi] = rng.uniform(-0.05, 0.05, hi - lo)
    w[lo + senders.index(0)] = 1.0      # bias -1 times 1: AND needs both inputs true
    w[lo + senders.index(1)] = 1.0
    w[lo + senders.index(2)] = 1.0
    x = np.where((np.arange(8)[:, None] >> np.arange(3)) & 1, 1.0, -1.0)
    y = np.where((x[:, 0] > 0) & (x[:, 1] > 0), 1.0, -1.0)[:, None]
    model = Model(net, w)
    assert np.array_equal(model.predict(x), y)
    return model, Dataset(x, y)


def test_wide_and_becomes_and2_and_hidden_nodes_die():
    model, data = wide_and_model()
    small, report = sparsify(model, data, resolve=False)
    assert np.array_equal(small.predict(data.inputs), data.outputs)
    assert report.gates_after == {"and2": 1}
    assert supports(small) == {small.network.n_nodes - 1: 3}    # bias + x1 + x2
    assert report.alive_before == 4 and report.alive_after == 1
    assert report.edges_after < report.edges_before


def test_dont_care_patterns_are_used():
    # OR(x0, x1) written as a wide gate; the data never shows x0 = x1 = False, so on the items it does
    # show the node is constant True and needs no input at all
    x = np.where((np.arange(8)[:, None] >> np.arange(3)) & 1, 1.0, -1.0)
    keep = ~((x[:, 0] < 0) & (x[:, 1] < 0))
    data = Dataset(x[keep], np.ones((int(keep.sum()), 1)))
    model = Model(Network.layered([3, 1]), np.array([-1.0, 1.0, 1.0, 0.1]))
    assert np.array_equal(model.predict(data.inputs), data.outputs)
    small, report = sparsify(model, data, resolve=False, anchors=0)
    assert np.array_equal(small.predict(data.inputs), data.outputs)
    assert report.gates_after == {"const": 1}
    assert supports(small) == {small.network.n_nodes - 1: 1}   # the bias alone


def test_on_sampled_data_anchors_keep_the_read_outs_answers_where_the_data_says_nothing(monkeypatch):
    # the same OR and data: random anchor patterns, labelled by the read-out, include x0 = x1 = False,
    # where the read-out answers False: the constant no longer fits, OR does
    import btflearn.sparsify as sp
    x = np.where((np.arange(8)[:, None] >> np.arange(3)) & 1, 1.0, -1.0)
    keep = ~((x[:, 0] < 0) & (x[:, 1] < 0))
    data = Dataset(x[keep], np.ones((int(keep.sum()), 1)))
    model = Model(Network.layered([3, 1]), np.array([-1.0, 1.0, 1.0, 0.1]))
    small, report = sparsify(model, data, resolve=False, anchors=sp.ANCHORS)
    assert np.array_equal(small.predict(x), model.predict(x))     # every pattern, seen or not
    assert supports(small) == {small.network.n_nodes - 1: 3}      # bias, x0, x1: x2 dropped
    assert report.edges_after < report.edges_before and report.anchors == sp.ANCHORS
    # a complete truth table has nothing unseen: no anchors, no validation
    calls = []
    original = sp.anchored
    monkeypatch.setattr(sp, "anchored", lambda *a: calls.append(a) or original(*a))
    _, report = sparsify(model, Dataset(x, model.predict(x)), resolve=False)
    assert calls == [] and report.anchors == 0 and report.validation is None
    sparsify(model, data, resolve=False, anchors=16, seed=3)
    assert len(calls) == 1 and calls[0][2:] == (16, 3)


def test_by_default_free_minimisation_is_kept_where_it_does_as_well_on_held_out_items():
    # y = x0 AND x1 over 10 inputs (more than an output is anchored on exhaustively), 40 of the 1024
    # patterns, written as a wide gate: the free minimisation finds AND2, right on every held-out item,
    # so it is chosen (0 anchors) and generalizes exactly
    import btflearn.sparsify as sp
    assert 10 > sp.CONE_INPUTS
    x = np.where((np.arange(1024)[:, None] >> np.arange(10)) & 1, 1.0, -1.0)
    w = np.array([1.0, 1.0, 1.0, 0.05, -0.04, 0.03, 0.02, 0.05, -0.04, 0.03, 0.02])   # bias -1, x0..x9
    model = Model(Network.layered([10, 1]), w)
    seen = np.random.default_rng(0).permutation(1024)[:40]
    data = Dataset(x[seen], model.predict(x[seen]))
    small, report = sparsify(model, data, resolve=False)
    assert report.anchors == 0 and report.validation["held_out"] == 8
    assert report.validation["free_per_bit"] == 1.0 >= report.validation["anchored_per_bit"]
    assert np.array_equal(small.predict(x), model.predict(x)) and supports(small) == {11: 3}


def test_outputs_of_few_inputs_keep_the_read_outs_function_by_default():
    # the same wide AND gate over 6 inputs: its output reads at most CONE_INPUTS inputs, so every
    # pattern of them is an anchor and no validation runs; the minimised gate computes the read-out's
    # function on all 64 patterns (40 seen), and still drops what it can (the 0.02 edge decides nothing)
    import btflearn.sparsify as sp
    x = np.where((np.arange(64)[:, None] >> np.arange(6)) & 1, 1.0, -1.0)
    model = Model(Network.layered([6, 1]), np.array([1.0, 1.0, 1.0, 0.05, -0.04, 0.03, 0.02]))
    assert sp.input_cones(model) == [[0, 1, 2, 3, 4, 5]]
    seen = np.random.default_rng(0).permutation(64)[:40]
    data = Dataset(x[seen], model.predict(x[seen]))
    small, report = sparsify(model, data, resolve=False)
    assert report.anchors == sp.ANCHORS and report.validation is None
    assert np.array_equal(small.predict(x), model.predict(x))
    assert report.edges_after < report.edges_before
    # a zero weight is no path: the cone of a node that ignores an input leaves it out
    assert sp.input_cones(Model(Network.layered([3, 1]), np.array([1.0, 1.0, 0.0, 1.0]))) == [[0, 2]]


def test_the_anchored_minimisation_is_chosen_when_free_does_worse_on_held_out_items(monkeypatch):
    import btflearn.sparsify as sp
    x = np.where((np.arange(64)[:, None] >> np.arange(6)) & 1, 1.0, -1.0)
    model = Model(Network.layered([6, 1]), np.array([1.0, 1.0, 1.0, 0.05, -0.04, 0.03, 0.02]))
    data = Dataset(x[:40], model.predict(x[:40]))
    real, seen = sp.sparsify, []

    def free_is_wrong(m, d, anchors=None, **kw):   # the free run answers every item with its opposite
        seen.append((anchors, d.n_items))
        small, rep = real(m, d, anchors=anchors, **kw)
        return (Model(small.network, -small.weights) if anchors == 0 else small), rep
    monkeypatch.setattr(sp, "sparsify", free_is_wrong)
    chosen, measured = sp.choose_anchors(model, data, 10.0, resolve=False)
    assert chosen == sp.ANCHORS and seen == [(0, 32), (sp.ANCHORS, 32)]
    assert measured["free_per_bit"] < measured["anchored_per_bit"] and measured["held_out"] == 8


def test_multiplier2_stays_exact_and_small():
    data = multiplier(2)
    run = fit(data, arch="dense:4-6-4", sigma=8.0, max_iter=20000, trials=8, seed=0, backend="numpy")
    assert run.solved
    small, report = sparsify(run.model, data, time_limit=20, resolve=True, chunk=200, patience=1,
                             backend="numpy", anneal=200)
    assert np.array_equal(small.predict(data.inputs), data.outputs)
    assert max(supports(small).values()) <= 5 and report.max_support == max(supports(small).values())
    assert report.edges_after < report.edges_before
    small_kinds = ("const", "copy", "and2", "and3", "and4", "maj3", "maj5", "thr1", "thr2", "thr3", "thr4", "thr5")
    assert all(k in small_kinds for k in report.gates_after), report.gates_after
    assert "minimised in" in report.summary()
    assert sum(gate_kinds(small).values()) == report.alive_after


def test_refuses_inexact_model_and_bad_input():
    model, data = wide_and_model()
    wrong = Dataset(data.inputs, -data.outputs)
    with pytest.raises(BtfError, match="reproduces every item"):
        sparsify(model, wrong, resolve=False)
    with pytest.raises(BtfError, match="time_limit"):
        sparsify(model, data, time_limit=0)
    with pytest.raises(BtfError, match="Boolean"):
        sparsify(model, Dataset(data.inputs * 0.5, data.outputs), resolve=False)


def test_no_separator_problem_is_solved_twice(monkeypatch):
    import btflearn.separator as separator
    solve, asked = separator.sparse_separator, []

    def counting(rows, target, bias=None):
        asked.append((rows.shape, rows.tobytes(), target.tobytes()))
        return solve(rows, target, bias=bias)
    monkeypatch.setattr(separator, "sparse_separator", counting)
    data = multiplier(3)
    run = fit(data, arch="dense:6-24-24-6", sigma=5.0, beta=0.3, max_iter=30000, seed=0)
    assert run.solved
    small, report = sparsify(run.model, data, time_limit=60, resolve=False)
    assert np.array_equal(small.predict(data.inputs), data.outputs)
    assert len(asked) >= 1 and len(asked) == len(set(asked)), (len(asked), len(set(asked)))


def test_a_gate_whose_sum_is_zero_on_an_item_keeps_its_value_in_the_model():
    # an OR whose bias weight counts one term more than it has: 2 + x1 + x2 is 0 where both are False,
    # which the minimiser reads as False; the model it writes must too, with no sum left at 0
    from btflearn.sparsify import _State, _to_model
    net = Network.from_edges(4, 2, 1, np.array([[3, 0], [3, 1], [3, 2]]))
    x = np.array([[1, 1], [1, -1], [-1, 1], [-1, -1]], dtype=float)
    for bias, w in ((-2.0, 1.0), (-2.2, 1.1), (-6.0, 3.0)):
        model = Model(net, np.array([bias, w, w]))
        state = _State(model, x, np.array([[1.0], [1.0], [1.0], [-1.0]]))
        assert state.exact()
        written = _to_model(state, model)
        values, sums = written.node_sums(x)
        assert np.array_equal(written.predict(x), state.targets)
        assert np.all(sums[:, 3] != 0)
