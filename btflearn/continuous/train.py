"""Training runs: the projection method and Adam on the same model, split, initialisation and batches.

Every run is reproducible from its seed: the seed fixes the initial parameters (NumPy, the
same for every method) and the order of the mini-batches (NumPy, the same for every method). Batches
are ``batch`` items; a remainder of the training set smaller than a batch is skipped each epoch (it is
a different remainder every epoch). Timing: ``seconds_per_epoch`` is the wall time of the training
steps only (the first call, which compiles, is made and timed before the first epoch and reported as
``compile_seconds``); accuracy is measured after every epoch, outside the timed part.
"""
from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, field

import numpy as np

from btflearn.errors import BtfError

from . import layers
from .layers import record

METHODS = ("projection", "adam", "adam-ste")
ACTIVATIONS = ("relu", "quant")


@dataclass
class Config:
    model: str = "mlp"
    width: int | None = None          # hidden width / channels / state size (zoo defaults 64 / 8 / 32)
    activation: str = "relu"          # relu or quant (a staircase: zero gradient almost everywhere)
    levels: int = 4                   # quantiser levels 0, 1, ..., levels - 1
    epochs: int = 10
    batch: int = 100
    seed: int = 0
    # projection method
    iters: int = 20                   # RRR steps per mini-batch
    beta: float = 1.0
    margin: float = 1.0               # target logit >= margin, the others <= -margin
    fuse: bool | None = None          # one op per dense unit with bias and ReLU; None: model default
    # Adam
    lr: float = 1e-3
    train_size: int = 3000
    extra: dict = field(default_factory=dict)

    def validate(self):
        if self.model not in layers.MODELS:
            raise BtfError(f"unknown model {self.model!r}; choose one of {', '.join(layers.MODELS)}")
        if self.activation not in ACTIVATIONS:
            raise BtfError(f"unknown activation {self.activation!r}; choose relu or quant")
        checks = [
            (self.width is None or self.width >= 1, f"--width must be at least 1, got {self.width}"),
            (self.levels >= 2, f"--levels must be at least 2, got {self.levels}"),
            (self.epochs >= 1, f"--epochs must be at least 1, got {self.epochs}"),
            (1 <= self.batch <= self.train_size,
             f"--batch must be between 1 and the training-set size {self.train_size}, got {self.batch}"),
            (self.iters >= 1, f"--iters must be at least 1, got {self.iters}"),
            (0 < self.beta <= 1, f"--beta must be in (0, 1], got {self.beta}"),
            (self.margin > 0 and math.isfinite(self.margin), f"--margin must be positive, got {self.margin}"),
            (self.lr > 0 and math.isfinite(self.lr), f"--lr must be positive, got {self.lr}"),
            (self.seed >= 0, f"--seed must be non-negative, got {self.seed}"),
        ]
        for ok, message in checks:
            if not ok:
                raise BtfError(message)
        return self

    def act(self):
        return layers.Quant(levels=self.levels) if self.activation == "quant" else "relu"

    def fused(self):
        """Fusing dense units measured better for the MLP and CNN, worse and slower for the RNN."""
        return FUSE_DEFAULT[self.model] if self.fuse is None else bool(self.fuse)


FUSE_DEFAULT = {"mlp": True, "cnn": True, "rnn": False}


def build_model(cfg: Config, classes: int, n_inputs: int):
    model = layers.build(cfg.model, classes=classes, act=cfg.act(), width=cfg.width)
    return model, record(model, (n_inputs,), fuse=cfg.fused())


# compiled pieces shared by runs that differ only in seed (no recompiling per seed)
_COMPILED: dict = {}


def _compiled(kind, key, make):
    key = (kind,) + key
    if key not in _COMPILED:
        if len(_COMPILED) > 16:
            _COMPILED.clear()
        _COMPILED[key] = make()
    return _COMPILED[key]


def _batches(rng, n, batch):
    perm = rng.permutation(n)
    for i in range(0, n - batch + 1, batch):
        yield perm[i:i + batch]


def _accuracy(predict, params, x, y):
    return float(np.mean(np.asarray(predict(params, x)).argmax(1) == y.argmax(1)))


def epochs_to_fraction(curve, fraction=0.99):
    """The first epoch (1-based) whose accuracy reaches ``fraction`` of the best of the run."""
    best = max(curve)
    return next(i + 1 for i, a in enumerate(curve) if a >= fraction * best)


def run(method: str, cfg: Config, split, log=None) -> dict:
    """Train one model with one method; returns a JSON-ready summary with the per-epoch curve."""
    import jax
    import jax.numpy as jnp

    from .adam import logits_fn, make_adam_step

    if method not in METHODS:
        raise BtfError(f"unknown method {method!r}; choose from {', '.join(METHODS)}")
    cfg.validate()
    arch = (cfg.model, cfg.width, cfg.activation, cfg.levels, cfg.fused(), split.classes, split.x_train.shape[1])
    model, graph = _compiled("model", arch, lambda: build_model(cfg, split.classes, split.x_train.shape[1]))
    params = layers.init_params(graph, cfg.seed)
    predict = _compiled("predict", arch, lambda: jax.jit(logits_fn(model)))
    x_tr, y_tr = jnp.asarray(split.x_train), jnp.asarray(split.y_train)
    rng = np.random.default_rng(cfg.seed)

    if method == "projection":
        from .rrr import Program, make_batch_solver

        solve = _compiled("projection", arch + (cfg.beta, cfg.margin), lambda: make_batch_solver(
            Program(graph), cfg.iters, beta=cfg.beta, margin=cfg.margin))
        state = layers.params_to_flat(graph, params)

        def step(state, idx):
            new, _gap = solve(state, x_tr[idx], y_tr[idx], cfg.iters)
            return new

        def current(state):
            return layers.flat_to_params(graph, state)
    else:
        opt, adam_step = _compiled("adam", arch + (cfg.lr, method), lambda: make_adam_step(
            model, cfg.lr, ste=(method == "adam-ste")))
        state = (params, opt.init(params))

        def step(state, idx):
            p, s, _loss = adam_step(state[0], state[1], x_tr[idx], y_tr[idx])
            return (p, s)

        def current(state):
            return state[0]

    t0 = time.perf_counter()
    jax.block_until_ready(step(state, np.arange(cfg.batch)))     # compile (result discarded)
    compile_s = time.perf_counter() - t0

    curve_test, curve_train, times = [], [], []
    for epoch in range(cfg.epochs):
        t0 = time.perf_counter()
        for idx in _batches(rng, len(split.x_train), cfg.batch):
            state = step(state, idx)
        jax.block_until_ready(state)
        times.append(time.perf_counter() - t0)
        p = current(state)
        curve_train.append(_accuracy(predict, p, split.x_train, split.y_train))
        curve_test.append(_accuracy(predict, p, split.x_test, split.y_test))
        if log:
            log(f"{method:>10} {cfg.model} seed {cfg.seed} epoch {epoch + 1:3d}: train {curve_train[-1]:.4f} "
                f"test {curve_test[-1]:.4f} ({times[-1]:.2f} s)")
    hyper = {"iters": cfg.iters, "beta": cfg.beta, "margin": cfg.margin, "fused": cfg.fused()} \
        if method == "projection" \
        else {"lr": cfg.lr}
    return {
        "method": method, "model": cfg.model, "activation": cfg.activation, "seed": cfg.seed,
        "test_accuracy": curve_test[-1], "train_accuracy": curve_train[-1],
        "best_test_accuracy": max(curve_test), "epochs_to_99pct_best": epochs_to_fraction(curve_test),
        "seconds_per_epoch": float(np.mean(times)), "compile_seconds": compile_s,
        "epochs": cfg.epochs, "batch": cfg.batch, "train_size": len(split.x_train),
        "test_size": len(split.x_test), "n_params": graph.n_params, **hyper,
        "test_curve": curve_test,
    }


def summarize(runs: list) -> dict:
    """One record per method over several seeds: means, sample standard deviations, per-seed values."""
    first = runs[0]
    out = {k: v for k, v in first.items() if k not in ("seed", "test_curve")}
    for key in ("test_accuracy", "train_accuracy", "best_test_accuracy", "epochs_to_99pct_best",
                "seconds_per_epoch", "compile_seconds"):
        vals = np.array([r[key] for r in runs], dtype=float)
        out[key] = float(vals.mean())
        out[key + "_std"] = float(vals.std(ddof=1)) if len(vals) > 1 else 0.0
    out["seeds"] = [r["seed"] for r in runs]
    out["test_accuracy_per_seed"] = [r["test_accuracy"] for r in runs]
    return out


def config_dict(cfg: Config) -> dict:
    return asdict(cfg)
