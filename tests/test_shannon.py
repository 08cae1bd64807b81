"""The Shannon split (btflearn.shannon): cofactor networks joined by a multiplexer of threshold gates, and
the learner's split candidate (btflearn.learn.train_split)."""
import numpy as np
import pytest

from btflearn import Dataset
from btflearn.arch import parse_arch
from btflearn.errors import BtfError
from btflearn.model import Model
from btflearn.shannon import cofactor_index, join_cofactors


def random_leaves(rng, s, n_rest, n_out):
    leaves = []
    for c in range(1 << s):
        if c % 3 == 1:
            leaves.append(np.where(rng.random(n_out) < 0.5, 1.0, -1.0))   # a constant cofactor
        else:
            net = parse_arch(f"dense:{n_rest}-4-{n_out}")
            leaves.append(Model(net, rng.normal(size=net.n_edges)))
    return leaves


@pytest.mark.parametrize("s, n_rest, n_out", [(1, 3, 1), (2, 4, 2), (3, 5, 1)])
def test_the_joined_network_computes_each_cofactor_network_on_its_cofactor(s, n_rest, n_out):
    rng = np.random.default_rng(s)
    leaves = random_leaves(rng, s, n_rest, n_out)
    leaves[-1] = -np.ones(n_out)              # a False cofactor: no term at all
    model = join_cofactors(leaves, range(s), s + n_rest, n_out)
    x = np.where(rng.random((2000, s + n_rest)) < 0.5, 1.0, -1.0)
    values, sums = model.node_sums(x)
    got = model.predict(x)
    code = cofactor_index(x, range(s))
    assert set(code.tolist()) == set(range(1 << s))
    for c, leaf in enumerate(leaves):
        rows = code == c
        want = leaf.predict(x[rows, s:]) if isinstance(leaf, Model) else np.tile(leaf, (rows.sum(), 1))
        assert np.array_equal(got[rows], want), c
    first_join = 1 + s + n_rest + sum(leaf.network.n_btf for leaf in leaves if isinstance(leaf, Model))
    assert first_join < model.network.n_nodes - n_out     # terms, then the outputs' ORs
    assert np.all(sums[:, first_join:] != 0)  # the multiplexer's gates never sit at 0


def test_any_inputs_can_select_the_cofactor():
    rng = np.random.default_rng(7)
    select = [4, 1]
    leaves = random_leaves(rng, 2, 3, 2)
    model = join_cofactors(leaves, select, 5, 2)
    x = np.where(rng.random((500, 5)) < 0.5, 1.0, -1.0)
    code = cofactor_index(x, select)
    assert np.array_equal(code, (x[:, 4] > 0) + 2 * (x[:, 1] > 0))
    for c, leaf in enumerate(leaves):
        rows = code == c
        rest = x[rows][:, [0, 2, 3]]
        want = leaf.predict(rest) if isinstance(leaf, Model) else np.tile(leaf, (rows.sum(), 1))
        assert np.array_equal(model.predict(x[rows]), want), c


def test_all_false_cofactors_give_a_constant_false_output():
    model = join_cofactors([-np.ones(2), -np.ones(2)], [2], 3, 2)
    x = np.where(np.random.default_rng(0).random((50, 3)) < 0.5, 1.0, -1.0)
    assert np.all(model.predict(x) == -1.0)


def test_a_split_needs_one_leaf_per_cofactor_of_the_right_shape():
    net = parse_arch("2-2-1")
    leaf = Model(net, np.ones(net.n_edges))
    with pytest.raises(BtfError, match="needs 4 cofactors"):
        join_cofactors([leaf, leaf], [0, 1], 4, 1)
    with pytest.raises(BtfError, match="needs 3 inputs"):
        join_cofactors([leaf, leaf], [0], 4, 1)
    with pytest.raises(BtfError, match="values of \\+-1"):
        join_cofactors([leaf, np.array([0.5])], [0], 3, 1)
    for select in ([], [0, 0], [3]):
        with pytest.raises(BtfError, match="distinct inputs"):
            join_cofactors([leaf, leaf], select, 3, 1)


def random_function(seed, n_inputs=12, relevant=8):
    """A random truth table of ``relevant`` of ``n_inputs`` inputs: most of its Walsh weight is on
    products of several inputs, where one network of its inputs fits slowly."""
    rng = np.random.default_rng(seed)
    table = rng.random(1 << relevant) < 0.5
    return lambda x: table[(x[:, :relevant] * (1 << np.arange(relevant))).sum(1)]


def sample(f, n, seed, n_inputs=12):
    x = np.random.default_rng(seed).random((n, n_inputs)) < 0.5
    return Dataset.from_bits(x, f(x)[:, None], name="random")


def test_a_split_fits_a_random_function_of_its_inputs_exactly(tmp_path):
    from btflearn.learn import Setting, distinct, columns, train_split
    from btflearn.learn_circuit import circuit_of
    from btflearn.selection import table_accuracy
    f = random_function(0)
    train, valid = sample(f, 3000, 1), sample(f, 1000, 2)
    inputs = np.arange(8)
    c = train_split(train, valid, Setting(8, (16, 16), 256, 5.0, True, split=3), inputs, 0, 30.0, tmp_path)
    assert c.train == 1.0                                  # every cofactor's network is exact
    assert distinct(columns(train, inputs)).n_items == 256 and c.valid == 1.0
    assert c.valid == table_accuracy(train, valid, inputs)
    assert c.label(1).startswith("split 3: 8 x dense:5-16-16-1")
    patterns = np.unique(np.concatenate([train.inputs, valid.inputs]), axis=0)
    net, ands = circuit_of([c], train, patterns, 10.0, 5000)   # checked against the model on patterns
    from btflearn.circuits.simulate import simulate
    assert np.array_equal(simulate(net, valid.inputs), valid.outputs) and ands > 0


def test_the_learner_splits_a_random_function_of_nine_inputs():
    from btflearn.learn import learn
    f = random_function(3, relevant=9)
    result = learn(sample(f, 5000, 4), sample(f, 2000, 5), time_limit=40, seed=0)
    assert result.members[0].setting.split == 9 - 5, result.summary()["chosen"]
    # 512 cells, about 10 items each: nearly all seen, so nearly exact on unseen items
    assert result.valid_accuracy >= 0.97


def split_settings():
    return dict(arch="dense:4-8-8-8-6", sigma=5.0, beta=0.3, gamma=3e-3, max_iter=100_000, trials=2, seed=0)


def test_fitting_by_cofactors_solves_the_3x3_multiplier_and_resumes_to_the_same_model(tmp_path):
    from btflearn.split_fit import fit_split
    from btflearn.tasks import multiplier
    data = multiplier(3)
    whole = fit_split(data, ["a0", "b0"], **split_settings())
    assert whole.solved and whole.model.accuracy(data) == (1.0, 1.0)
    assert whole.model.network.arch == "split:0,3" and whole.model.hyperparameters["split"] == ["a0", "b0"]
    assert whole.iterations > 0 and whole.model.iterations == whole.iterations
    stopped = fit_split(data, ["a0", "b0"], checkpoint_dir=tmp_path, time_limit=1e-3, **split_settings())
    assert not stopped.solved and stopped.model.network.n_inputs == 6     # the run so far, all inputs
    resumed = fit_split(data, ["a0", "b0"], checkpoint_dir=tmp_path, resume=True, **split_settings())
    assert resumed.solved and np.array_equal(resumed.model.weights, whole.model.weights)
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"cofactor-{c}.json" for c in range(4)]


def test_a_split_names_existing_distinct_inputs():
    from btflearn.split_fit import fit_split
    from btflearn.tasks import multiplier
    with pytest.raises(BtfError, match="no input named 'c0'"):
        fit_split(multiplier(2), ["c0"], **split_settings())
    with pytest.raises(BtfError, match="distinct inputs"):
        fit_split(multiplier(2), ["a0", "a0"], **split_settings())


def test_solve_multiplier_by_cofactors_stops_resumes_and_writes_a_checked_model(tmp_path):
    import json
    from click.testing import CliRunner
    from btflearn.cli.main import cli
    from btflearn.model import load_model
    from btflearn.tasks import multiplier
    out = tmp_path / "m3"
    args = ["solve", "multiplier", "--bits", "3", "--split", "a0,b0", "--arch", "dense:4-8-8-8-6",
            "--gamma", "3e-3", "--out", str(out), "--no-minimise"]
    stopped = CliRunner().invoke(cli, args + ["--time-limit", "0.001"])
    assert stopped.exit_code == 1 and f"--resume {out}" in stopped.output
    assert not (out / "model.json").exists() and (out / "cofactors").is_dir()
    again = CliRunner().invoke(cli, args)
    assert again.exit_code == 2 and "unfinished run" in again.output
    resumed = CliRunner().invoke(cli, ["solve", "multiplier", "--resume", str(out), "--no-minimise"])
    assert resumed.exit_code == 0, resumed.output
    assert "cofactor 4 of 4 (a0=1, b0=1)" in resumed.output
    model = load_model(out / "model.json")
    assert model.accuracy(multiplier(3)) == (1.0, 1.0) and model.network.arch == "split:0,3"
    assert json.loads((out / "result.json").read_text())["solved"] is True
    assert (out / "circuit.blif").exists() and not (out / "cofactors").exists()
