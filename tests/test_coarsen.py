"""Small integer gates from wide fine-weight ones (btflearn.coarsen)."""
import numpy as np

from btflearn.coarsen import rounded_gate, sparse_gate
from btflearn.dataset import Dataset


def gate_rows(rng, n_rows, n_inputs):
    """Random weights (bias first) and the senders' values: the bias node's -1, then +-1 inputs."""
    w = rng.normal(size=n_inputs + 1)
    x = np.hstack([-np.ones((n_rows, 1)), np.where(rng.random((n_rows, n_inputs)) < 0.5, 1.0, -1.0)])
    return w, np.arange(n_inputs + 1) != 0, x


def test_an_input_constant_on_the_items_moves_into_the_bias_exactly():
    w, real, x = gate_rows(np.random.default_rng(0), 300, 20)
    x[:, 3], x[:, 8] = 1.0, -1.0
    out = sparse_gate(w, real, x, None)
    assert out[3] == 0 and out[8] == 0 and np.count_nonzero(out[real]) == 18
    assert np.allclose(x @ out, x @ w)          # every sum as it was, on every item


def test_keep_holds_the_largest_contributions_and_moves_the_mean_of_the_rest():
    rng = np.random.default_rng(1)
    w, real, x = gate_rows(rng, 400, 30)
    x[:, 5] = np.where(rng.random(400) < 0.97, 1.0, -1.0)   # a large weight on a nearly constant input
    w[5] = 10.0
    out = sparse_gate(w, real, x, 6)
    contribution = np.abs(w) * x.std(axis=0)
    kept = np.flatnonzero(out[real]) + 1
    assert len(kept) == 6 and set(kept) == set(np.argsort(-np.where(real, contribution, 0))[:6])
    assert np.array_equal(out[kept], w[kept])
    assert abs(np.mean(x @ out - x @ w)) < 1e-9  # the dropped inputs' mean contributions went to the bias


def test_zero_weights_stay_zero_and_do_not_set_the_rounding_scale():
    w, real, x = gate_rows(np.random.default_rng(2), 500, 24)
    w[1:13] = 0.0
    r = rounded_gate(w, real, 2, x)
    assert np.all(r[1:13] == 0) and np.abs(r[13:]).max() == 2
    # the nonzero weights alone set the scale: the same gate without the zero inputs rounds the same
    keep = np.r_[0, 13:25]
    assert np.array_equal(rounded_gate(w[keep], real[keep], 2, x[:, keep]), r[keep])


def test_a_split_makes_each_leaf_sparse_on_its_own_items(tmp_path):
    """x5 = x0 on every item, so inside each cofactor of x0 it is constant: every made-small leaf gate
    has weight 0 on it (on all items together it is not constant at all)."""
    from btflearn.coarsen import coarsened
    from btflearn.learn import Setting, train_early_stopped

    rng = np.random.default_rng(3)
    bits = rng.random((1500, 12)) < 0.5
    bits[:, 5] = bits[:, 0]
    y = np.where(bits[:, 0], bits[:, 1:4].sum(axis=1) >= 2, bits[:, 6:9].sum(axis=1) >= 2)
    data = Dataset.from_bits(bits, y[:, None], name="mux")
    train, valid = data.subset(np.arange(1000)), data.subset(np.arange(1000, 1500))
    split = train_early_stopped(train, valid, Setting(12, (), 1000, 10.0, split=1), np.arange(12), 0, 4.0,
                                tmp_path)
    assert split.valid >= 0.95
    net = split.model.network
    x5 = np.flatnonzero(net.senders == 1 + 5)   # edges from input 5 (node 6): only the leaf gates read it
    assert len(x5) == 2 and np.all(split.model.weights[x5] != 0)
    variants = coarsened(split, train, valid)
    assert {(v.kept, v.levels) for v in variants} == {(None, level) for level in (1, 2, 4, 8)}
    for v in variants:
        assert np.all(v.model.weights[x5] == 0)
    assert max(v.valid for v in variants) >= 0.95
