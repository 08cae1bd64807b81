"""``btflearn train-continuous``: MLP / CNN / RNN trained by projections (no gradients) next to Adam.

JAX is imported only when the command runs, so ``btflearn --help`` stays fast.
"""
from __future__ import annotations

import json

import click

from btflearn.errors import BtfError

MODELS = ("mlp", "cnn", "rnn")
METHODS = ("projection", "adam", "adam-ste")


def _require_jax():
    try:
        import jax  # noqa: F401
        import optax  # noqa: F401
    except ImportError as exc:
        raise BtfError(f"the continuous backend needs JAX and optax ({exc}); "
                       "install them with: pip install 'btflearn[jax]'") from exc


def _parse_methods(text, activation):
    if text is None:
        return ["projection", "adam", "adam-ste"] if activation == "quant" else ["projection", "adam"]
    methods = [m.strip() for m in text.split(",") if m.strip()]
    bad = [m for m in methods if m not in METHODS]
    if bad or not methods:
        raise BtfError(f"--methods takes a comma-separated list of {', '.join(METHODS)}; got {text!r}")
    if len(set(methods)) != len(methods):
        raise BtfError(f"--methods lists a method twice: {text!r}")
    return methods


@click.command("train-continuous")
@click.option("--model", type=click.Choice(MODELS), default="mlp", show_default=True,
              help="Architecture: mlp (64-W-10), cnn (3x3 conv, W channels, 2x2 max-pool, dense) or "
                   "rnn (the 8 rows of a digit as a sequence, W-unit ReLU cell, dense).")
@click.option("--data", "data_name", type=click.Choice(["optdigits"]), default="optdigits", show_default=True,
              help="Shipped data set (optdigits: 3823 8x8 digits; first 3000 train, last 823 test).")
@click.option("--methods", default=None,
              help="Comma-separated: projection, adam, adam-ste. [default: projection,adam; "
                   "with --activation quant also adam-ste]")
@click.option("--width", type=int, default=None,
              help="Hidden units (mlp, 64), channels (cnn, 8), state (rnn, 32).")
@click.option("--activation", type=click.Choice(["relu", "quant"]), default="relu", show_default=True,
              help="Hidden activation; quant is a staircase 0..levels-1 (gradient zero almost everywhere).")
@click.option("--levels", type=int, default=4, show_default=True, help="Quantiser levels.")
@click.option("--epochs", type=int, default=10, show_default=True,
              help="Passes over the training items.")
@click.option("--batch", type=int, default=100, show_default=True, help="Mini-batch size (both methods).")
@click.option("--seed", type=int, default=0, show_default=True, help="First seed (init and batch order).")
@click.option("--seeds", "n_seeds", type=int, default=1, show_default=True,
              help="Number of seeds: seed, seed+1, ...; results are averaged (mean and sample std).")
@click.option("--iters", type=int, default=20, show_default=True, help="Projection: RRR steps per mini-batch.")
@click.option("--beta", type=float, default=1.0, show_default=True, help="Projection: RRR step size in (0, 1].")
@click.option("--margin", type=float, default=1.0, show_default=True,
              help="Projection: target logit >= margin, other logits <= -margin.")
@click.option("--fuse/--no-fuse", default=None,
              help="Projection: record each dense unit with its bias and ReLU as one op. [default: on for "
                   "mlp and cnn, off for rnn]")
@click.option("--lr", type=float, default=1e-3, show_default=True, help="Adam learning rate.")
@click.option("--train-size", type=int, default=3000, show_default=True,
              help="Use the first N training items (the test set stays the same).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object per method.")
@click.option("--verbose", "-v", is_flag=True, help="Print accuracy after every epoch (to stderr).")
def train_continuous(model, data_name, methods, width, activation, levels, epochs, batch, seed, n_seeds,
                     iters, beta, margin, fuse, lr, train_size, as_json, verbose):
    """Train a continuous network by projections (divide-and-concur with RRR, no gradients) and with
    Adam, on the same model, split, initialisation and mini-batches, and compare them."""
    method_list = _parse_methods(methods, activation)
    if n_seeds < 1:
        raise BtfError(f"--seeds must be at least 1, got {n_seeds}")
    _require_jax()
    from btflearn.continuous import data
    from btflearn.continuous.train import Config, run, summarize

    cfg = Config(model=model, width=width, activation=activation, levels=levels, epochs=epochs, batch=batch,
                 seed=seed, iters=iters, beta=beta, margin=margin, fuse=fuse, lr=lr,
                 train_size=train_size).validate()
    split = data.load(data_name, n_train=train_size)
    log = (lambda msg: click.echo(msg, err=True)) if verbose else None
    results = []
    for method in method_list:
        runs = []
        for s in range(seed, seed + n_seeds):
            cfg.seed = s
            runs.append(run(method, cfg, split, log=log))
        results.append(runs[0] if n_seeds == 1 else summarize(runs))
    if as_json:
        for r in results:
            click.echo(json.dumps(r))
        return
    click.echo(f"{model} on {data_name} ({len(split.x_train)} train / {len(split.x_test)} test), "
               f"{epochs} epochs, batch {batch}, seeds {seed}..{seed + n_seeds - 1}")
    click.echo(f"{'method':<11} {'test acc':>16} {'train acc':>10} {'s/epoch':>8} {'epochs to 99%':>14}")
    for r in results:
        acc = f"{100 * r['test_accuracy']:.2f}%"
        if n_seeds > 1:
            acc += f" +- {100 * r['test_accuracy_std']:.2f}"
        click.echo(f"{r['method']:<11} {acc:>16} {100 * r['train_accuracy']:>9.2f}% "
                   f"{r['seconds_per_epoch']:>8.2f} {r['epochs_to_99pct_best']:>14.1f}")
