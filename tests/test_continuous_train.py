"""Training on the shipped optdigits split: the projection method learns (MLP, quantised MLP, CNN, RNN),
runs are reproducible from the seed, and the ``train-continuous`` command reports and rejects clearly."""
import builtins
import json

import numpy as np
import pytest

pytest.importorskip("jax")
pytest.importorskip("optax")

from click.testing import CliRunner  # noqa: E402

from btflearn.cli.continuous_cmds import train_continuous  # noqa: E402
from btflearn.continuous import data  # noqa: E402
from btflearn.continuous.train import Config, epochs_to_fraction, run, summarize  # noqa: E402
from btflearn.errors import BtfError  # noqa: E402


@pytest.fixture(scope="module")
def small_split():
    return data.load(n_train=1000, n_test=400)


def test_split_is_fixed_and_documented():
    sp = data.load()
    assert sp.x_train.shape == (3000, 64) and sp.x_test.shape == (823, 64)
    assert sp.y_train.shape == (3000, 10) and set(np.unique(sp.y_train)) == {-1.0, 1.0}
    assert np.all(np.abs(sp.x_train) <= 1)
    sub = data.load(n_train=500)
    np.testing.assert_array_equal(sub.x_train, sp.x_train[:500])
    np.testing.assert_array_equal(sub.x_test, sp.x_test)
    with pytest.raises(BtfError, match="train-size"):
        data.load(n_train=3500)
    with pytest.raises(BtfError, match="unknown data set"):
        data.load("cifar")


def test_projection_mlp_learns_and_is_reproducible(small_split):
    cfg = Config(model="mlp", width=32, epochs=2, batch=100, iters=10, seed=3, train_size=1000)
    r1 = run("projection", cfg, small_split)
    assert r1["test_accuracy"] > 0.85, r1
    assert r1["method"] == "projection" and r1["model"] == "mlp" and len(r1["test_curve"]) == 2
    r2 = run("projection", cfg, small_split)
    assert r2["test_curve"] == r1["test_curve"]          # same seed, same run


def test_quantised_hidden_layer_gets_no_gradient_but_is_trained_by_projection(small_split):
    """A staircase activation: the true gradient to the hidden weights is exactly zero (Adam can only
    train the output layer); the projection method moves them and learns the task."""
    import jax
    import jax.numpy as jnp
    import optax

    from btflearn.continuous import layers, rrr
    from btflearn.continuous.adam import logits_fn
    from btflearn.continuous.train import build_model

    cfg = Config(model="mlp", width=32, activation="quant", levels=4, epochs=2, batch=100, iters=10,
                 seed=0, train_size=1000)
    model, g = build_model(cfg, 10, 64)
    params = layers.init_params(g, 0)
    x, y = jnp.asarray(small_split.x_train[:100]), jnp.asarray(small_split.y_train[:100])

    def loss(p):
        return optax.softmax_cross_entropy(logits_fn(model)(p, x), (y > 0).astype(x.dtype)).mean()

    grads = jax.grad(loss)(params)
    assert float(jnp.abs(grads["dense0/w"]).max()) == 0.0
    assert float(jnp.abs(grads["out/w"]).max()) > 0.0
    solve = rrr.make_batch_solver(rrr.Program(g), iters=10)
    new, _ = solve(layers.params_to_flat(g, params), x, y)
    moved = layers.flat_to_params(g, new)["dense0/w"] - params["dense0/w"]
    assert float(jnp.abs(moved).max()) > 1e-5
    r = run("projection", cfg, small_split)
    assert r["test_accuracy"] > 0.6, r               # chance is 0.1


@pytest.mark.parametrize("model,width", [("cnn", 4), ("rnn", 8)])
def test_cnn_and_rnn_train_by_projection(model, width):
    split = data.load(n_train=300, n_test=300)
    cfg = Config(model=model, width=width, epochs=1, batch=50, iters=10, seed=0, train_size=300)
    r = run("projection", cfg, split)
    assert r["test_accuracy"] > 0.2, r               # chance is 0.1; one short epoch
    assert r["seconds_per_epoch"] > 0 and r["fused"] == (model == "cnn")


def test_summary_and_epochs_to_99():
    assert epochs_to_fraction([0.5, 0.9, 0.955, 0.96]) == 3
    runs = [{"method": "adam", "model": "mlp", "seed": s, "test_accuracy": a, "train_accuracy": a,
             "best_test_accuracy": a, "epochs_to_99pct_best": 2, "seconds_per_epoch": 1.0,
             "compile_seconds": 0.5, "test_curve": [a]} for s, a in [(0, 0.9), (1, 0.92)]]
    out = summarize(runs)
    assert out["test_accuracy"] == pytest.approx(0.91) and out["seeds"] == [0, 1]
    assert out["test_accuracy_std"] == pytest.approx(np.std([0.9, 0.92], ddof=1))


def test_cli_json_one_object_per_method():
    res = CliRunner().invoke(train_continuous, [   # the MLP test's shapes: its compiled solver is reused
        "--model", "mlp", "--width", "32", "--epochs", "1", "--train-size", "300", "--batch", "100",
        "--iters", "5", "--methods", "projection,adam", "--seeds", "2", "--json"])
    assert res.exit_code == 0, res.output
    rows = [json.loads(line) for line in res.output.strip().splitlines()]
    assert [r["method"] for r in rows] == ["projection", "adam"]
    for r in rows:
        assert {"method", "model", "test_accuracy", "train_accuracy", "seconds_per_epoch",
                "test_accuracy_std", "seeds"} <= set(r)
        assert r["model"] == "mlp" and r["seeds"] == [0, 1] and 0 <= r["test_accuracy"] <= 1


@pytest.mark.parametrize("args,message", [
    (["--batch", "0"], "--batch"),
    (["--train-size", "100", "--batch", "200"], "--batch"),
    (["--beta", "1.5"], "--beta"),
    (["--iters", "0"], "--iters"),
    (["--epochs", "0"], "--epochs"),
    (["--margin", "-1"], "--margin"),
    (["--methods", "projection,sgd"], "--methods"),
    (["--seeds", "0"], "--seeds"),
    (["--levels", "1", "--activation", "quant"], "--levels"),
])
def test_cli_bad_options_are_clear_errors(args, message):
    res = CliRunner().invoke(train_continuous, args)
    assert isinstance(res.exception, BtfError) and message in str(res.exception)


def test_cli_bad_choice_rejected_by_click():
    res = CliRunner().invoke(train_continuous, ["--model", "transformer"])
    assert res.exit_code == 2 and "transformer" in res.output


def test_missing_jax_names_the_extra(monkeypatch):
    real_import = builtins.__import__

    def fake_import(name, *args, **kwargs):
        if name == "jax" or name.startswith("jax."):
            raise ImportError("No module named 'jax'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", fake_import)
    res = CliRunner().invoke(train_continuous, ["--epochs", "1"])
    assert isinstance(res.exception, BtfError)
    assert "pip install 'btflearn[jax]'" in str(res.exception)
