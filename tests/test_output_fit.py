"""Fitting by outputs: consistent supports (btflearn.supports) and one network per output, joined
(btflearn.output_fit), from the library and from `btflearn solve ... --per-output`."""
import json
from itertools import combinations

import numpy as np
import pytest
from click.testing import CliRunner

from btflearn.circuits.simulate import all_patterns as all_bits
from btflearn.cli.main import cli
from btflearn.dataset import Dataset
from btflearn.errors import BtfError
from btflearn.model import Model
from btflearn.network import Network
from btflearn.output_fit import fit_outputs, join_outputs
from btflearn.supports import consistent_support


def sparse_task(n_items, seed=0, n_inputs=12):
    """Three outputs of 12 inputs: x3 AND (x7 OR NOT x10), x1 XOR x5, and True."""
    rng = np.random.default_rng(seed)
    x = rng.choice((-1.0, 1.0), size=(n_items, n_inputs))
    b = x > 0
    y = np.stack([b[:, 3] & (b[:, 7] | ~b[:, 10]), b[:, 1] ^ b[:, 5], np.ones(n_items, bool)], axis=1)
    return Dataset(x, np.where(y, 1.0, -1.0), name="sparse")


def all_patterns(n):
    return np.where(all_bits(n), 1.0, -1.0)


def consistent(x, y, inputs):
    cells = {}
    for row, out in zip(x[:, inputs] > 0, y > 0):
        if cells.setdefault(row.tobytes(), out) != out:
            return False
    return True


def test_the_support_of_a_sparse_function_is_found_from_its_items():
    data = sparse_task(200)
    assert consistent_support(data.inputs, data.outputs[:, 0]) == [3, 7, 10]
    assert consistent_support(data.inputs, data.outputs[:, 1]) == [1, 5]
    assert consistent_support(data.inputs, data.outputs[:, 2]) == []     # constant on the items
    assert consistent_support(data.inputs > 0, data.outputs[:, 1] > 0) == [1, 5]   # bools work too


def test_no_input_of_a_support_can_be_dropped():
    rng = np.random.default_rng(3)
    for trial in range(5):
        x = all_patterns(10)[rng.choice(1024, size=40, replace=False)]   # distinct items
        y = rng.choice((-1.0, 1.0), size=40)      # a random function: large supports
        support = consistent_support(x, y)
        assert consistent(x, y, support)
        for j in support:
            assert not consistent(x, y, [k for k in support if k != j])
        for a, b in combinations(support, 2):     # nor can two be traded for one other input
            rest = [k for k in support if k not in (a, b)]
            assert not any(consistent(x, y, rest + [j]) for j in range(10) if j not in support)


def test_contradictory_items_are_named():
    x = np.array([[1.0, -1.0], [1.0, -1.0], [-1.0, 1.0]])
    with pytest.raises(BtfError, match="items 0 and 1 have the same inputs"):
        consistent_support(x, np.array([1.0, -1.0, 1.0]))
    with pytest.raises(BtfError, match="needs"):
        consistent_support(x, np.ones(2))


def test_fit_outputs_learns_each_output_over_its_support():
    data = sparse_task(200)
    result = fit_outputs(data, hidden=(4,), sigma=3.0, beta=0.3, gamma=1e-3, max_iter=5000, trials=4, seed=0)
    assert result.solved and result.model.accuracy(data) == (1.0, 1.0)
    assert result.model.hyperparameters["supports"] == [[3, 7, 10], [1, 5], []]
    # each output reads only its support: right on all 4096 patterns, not just the 200 items
    x = all_patterns(12)
    b = x > 0
    truth = np.stack([b[:, 3] & (b[:, 7] | ~b[:, 10]), b[:, 1] ^ b[:, 5], np.ones(len(x), bool)], axis=1)
    assert np.array_equal(result.model.predict(x) > 0, truth)
    net = result.model.network
    read = {int(s) - 1 for s, w in zip(net.senders, result.model.weights) if 1 <= s <= 12 and w != 0}
    assert read == {1, 3, 5, 7, 10}     # inputs are nodes 1..12; the constant output reads none


def test_minimising_a_per_output_model_keeps_its_function():
    # every output reads at most 3 inputs, so by default all their patterns are anchors: the minimised
    # model reads no new input and answers as the read-out does on all 4096 patterns, not just the items
    from btflearn.sparsify import input_cones, sparsify
    data = sparse_task(200)
    model = fit_outputs(data, hidden=(4,), sigma=3.0, beta=0.3, gamma=1e-3, max_iter=5000, trials=4,
                        seed=0).model
    small, report = sparsify(model, data, time_limit=10, seed=0)
    assert report.validation is None and report.edges_after < report.edges_before
    assert all(set(after) <= set(before) for before, after in zip(input_cones(model), input_cones(small)))
    x = all_patterns(12)
    assert np.array_equal(small.predict(x), model.predict(x))


def test_join_outputs_checks_its_parts():
    part = Model(Network.layered([2, 1]), np.array([0.0, 1.0, 1.0]))
    with pytest.raises(BtfError, match="needs 3 inputs"):
        join_outputs([([0, 1, 2], part)], 4)
    with pytest.raises(BtfError, match="outside"):
        join_outputs([([0, 9], part)], 4)
    with pytest.raises(BtfError, match="constant output"):
        join_outputs([([], 0.5)], 4)
    joined = join_outputs([([2, 0], part), ([], 1.0), ([], -1.0)], 4)
    x = all_patterns(4)
    out = joined.predict(x)
    assert np.array_equal(out[:, 0], part.predict(x[:, [2, 0]])[:, 0])
    assert np.all(out[:, 1] == 1.0) and np.all(out[:, 2] == -1.0)


def test_fit_outputs_refuses_an_arch():
    with pytest.raises(BtfError, match="hidden widths"):
        fit_outputs(sparse_task(50), arch="12-3")


def test_solve_logic_per_output_writes_the_joined_model(tmp_path):
    out = tmp_path / "run"
    r = CliRunner().invoke(cli, ["solve", "logic", "--layers", "2", "--width", "8", "--n-train", "128",
                                 "--n-test", "500", "--per-output", "8", "--max-iter", "5000", "--trials", "2",
                                 "--no-minimise", "--out", str(out)])
    assert r.exit_code == 0, r.output
    result = json.loads((out / "result.json").read_text())
    assert result["solved"] and result["train_exact"] == 1.0
    assert len(result["hyperparameters"]["supports"]) == 8
    assert result["hyperparameters"]["per_output"] == [8]
    assert "test accuracy" in r.output
    assert "one network per output (hidden 8)" in r.output and "output 8 of 8: " in r.output   # a log says which


@pytest.mark.parametrize("args, message", [
    (["--per-output", "8-x"], "hidden widths like 16-16"),
    (["--per-output", "8", "--arch", "8-8-8"], "leave out --arch"),
    (["--per-output", "8", "--scheduler", "local"], "leave out --resume and --scheduler"),
])
def test_per_output_option_errors(args, message):
    r = CliRunner().invoke(cli, ["solve", "logic", "--layers", "2", "--width", "8", "--n-train", "32", *args])
    assert r.exit_code == 2 and message in r.output, r.output


def test_sweep_logic_per_output_tabulates_each_n():
    r = CliRunner().invoke(cli, ["sweep", "logic", "--layers", "2", "--width", "8", "--n", "48,96", "--seeds", "0",
                                 "--per-output", "8", "--max-iter", "3000", "--trials", "2", "--json"])
    assert r.exit_code == 0, r.output
    doc = json.loads(r.output[r.output.index("{"):])
    assert doc["arch"] == "per-output 8" and [row["n_train"] for row in doc["rows"]] == [48, 96]
    assert all(row["train_per_bit"] > 0.9 for row in doc["rows"])
    r = CliRunner().invoke(cli, ["sweep", "logic", "--n", "48", "--per-output", "8", "--arch", "32-32"])
    assert r.exit_code == 2 and "leave out --arch" in r.output
