"""Gradient baseline: a ReLU MLP of the same layer widths as the BTF network, trained full-batch with AdamW
on the same training split (JAX + optax, imported lazily). Seconds include JAX compilation
the first time a setting is used (the compiled loop is cached per setting and training-set size).

Loss: per-bit logistic loss on the +-1 targets (sign readout, prediction = sign of the logit), or softmax
cross-entropy over the output units (argmax readout, prediction = argmax). Inputs are the dataset's values
(+-1 Booleans, analog inputs as 2v-1). Weights: He-normal (NumPy generator from ``seed``), biases zero.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from .dataset import Dataset
from .errors import BtfError

BASELINES = ("adamw",)


@dataclass
class BaselineResult:
    method: str
    widths: list
    train_accuracy: tuple   # (per-bit, exact)
    test_accuracy: tuple | None
    seconds: float
    steps: int
    final_loss: float
    settings: dict = field(default_factory=dict)
    params: list = field(default=None, repr=False)  # [(W, b), ...] as NumPy arrays

    def predict(self, inputs, readout: str = "sign") -> np.ndarray:
        return _predict_np(self.params, np.asarray(inputs, dtype=np.float64), readout)


def _import_jax():
    try:
        import jax
        import jax.numpy as jnp
        import optax
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise BtfError(f"the AdamW baseline needs JAX and optax ({exc.name} is missing): "
                       f"pip install 'btflearn[jax]'") from None
    return jax, jnp, optax


def widths_of(arch) -> list[int]:
    """Layer widths of a layered architecture ("16-32-32-16", a list, or a .wth file)."""
    if isinstance(arch, (list, tuple)):
        return [int(w) for w in arch]
    text = str(arch).strip()
    if text.endswith(".wth"):
        from .formats import read_wth
        return read_wth(text)
    if text.startswith("dense:"):
        raise BtfError("the AdamW baseline builds plain layered MLPs; give widths like 16-32-32-16")
    try:
        widths = [int(w) for w in text.split("-")]
    except ValueError:
        raise BtfError(f"cannot read layer widths from {arch!r}") from None
    if len(widths) < 2 or min(widths) < 1:
        raise BtfError(f"cannot read layer widths from {arch!r}")
    return widths


def _predict_np(params, x, readout):
    h = x
    for k, (w, b) in enumerate(params):
        h = h @ w + b
        if k < len(params) - 1:
            h = np.maximum(h, 0.0)
    if readout == "argmax":
        out = -np.ones_like(h)
        out[np.arange(len(h)), np.argmax(h, axis=1)] = 1.0
        return out
    return np.where(h > 0, 1.0, -1.0)


def _accuracy(pred, target):
    right = pred == target
    return float(right.mean()), float(right.all(axis=1).mean())


def adamw_baseline(train: Dataset, test: Dataset | None, arch, steps: int = 3000, lr: float = 3e-3,
                   weight_decay: float = 1e-4, seed: int = 0) -> BaselineResult:
    """Train the AdamW MLP on ``train`` (full batch, ``steps`` updates) and score it on both sets."""
    if train.input_mode != "data":
        raise BtfError("the gradient baseline needs input data (not a free-input decoder task)")
    widths = widths_of(arch)
    if widths[0] != train.n_inputs or widths[-1] != train.n_outputs:
        raise BtfError(f"architecture {'-'.join(map(str, widths))} does not fit the data "
                       f"({train.n_inputs} inputs, {train.n_outputs} outputs)")
    if steps < 1:
        raise BtfError("steps must be positive")
    jax, jnp, optax = _import_jax()
    readout = train.readout
    x = jnp.asarray(train.inputs, dtype=jnp.float32)
    y = jnp.asarray(train.outputs, dtype=jnp.float32)
    rng = np.random.default_rng(seed)  # NumPy init: no JAX compilation for it
    params = [(jnp.asarray(rng.standard_normal((a, b)) * np.sqrt(2.0 / a), dtype=jnp.float32),
               jnp.zeros((b,), dtype=jnp.float32)) for a, b in zip(widths[:-1], widths[1:])]
    train_all = _trainer(len(widths) - 1, readout, int(steps), float(lr), float(weight_decay))
    t0 = time.perf_counter()
    params, last = train_all(params, x, y)
    last = float(last)
    seconds = time.perf_counter() - t0
    np_params = [(np.asarray(w, dtype=np.float64), np.asarray(b, dtype=np.float64)) for w, b in params]
    train_acc = _accuracy(_predict_np(np_params, train.inputs, readout), train.outputs)
    test_acc = (_accuracy(_predict_np(np_params, test.inputs, readout), test.outputs)
                if test is not None else None)
    return BaselineResult("adamw", widths, train_acc, test_acc, seconds, int(steps), last,
                          {"lr": lr, "weight_decay": weight_decay, "seed": seed}, np_params)


_TRAINERS = {}


def _trainer(n_layers, readout, steps, lr, weight_decay):
    """A jitted full-batch AdamW loop (cached per setting, so seeds and same-size splits reuse it)."""
    key = (n_layers, readout, steps, lr, weight_decay)
    if key in _TRAINERS:
        return _TRAINERS[key]
    jax, jnp, optax = _import_jax()

    def forward(p, inp):
        h = inp
        for k, (w, b) in enumerate(p):
            h = h @ w + b
            if k < len(p) - 1:
                h = jax.nn.relu(h)
        return h

    def loss_fn(p, x, y):
        logits = forward(p, x)
        if readout == "argmax":
            return optax.softmax_cross_entropy_with_integer_labels(logits, jnp.argmax(y, axis=1)).mean()
        return optax.sigmoid_binary_cross_entropy(logits, (y + 1.0) / 2.0).mean()

    opt = optax.adamw(lr, weight_decay=weight_decay)

    @jax.jit
    def train_all(p, x, y):
        def body(carry, _):
            q, s = carry
            loss, grads = jax.value_and_grad(loss_fn)(q, x, y)
            updates, s = opt.update(grads, s, q)
            return (optax.apply_updates(q, updates), s), loss

        (p, _), losses = jax.lax.scan(body, (p, opt.init(p)), None, length=steps)
        return p, losses[-1]

    _TRAINERS[key] = train_all
    return train_all


def run_baseline(name: str, train: Dataset, test: Dataset | None, arch, seed: int = 0, **kw) -> BaselineResult:
    if name != "adamw":
        raise BtfError(f"unknown baseline {name!r}; available: {', '.join(BASELINES)}")
    return adamw_baseline(train, test, arch, seed=seed, **kw)
