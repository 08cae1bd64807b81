"""The gradient baseline: optax Adam on the same model function, softmax cross-entropy.

``ste=True`` trains quantised activations with the straight-through estimator (the forward pass is the
staircase, the backward pass the identity inside the quantiser's range); without it the gradient
through a quantiser is the true one, zero almost everywhere.
"""
from __future__ import annotations

from .layers import Forward


def logits_fn(model, ste: bool = False):
    """``f(params, x)`` -> (B, classes) for a batch ``x`` of items."""
    import jax

    def f(params, x):
        return jax.vmap(lambda xi: model(Forward(params, ste=ste), xi))(x)

    return f


def make_adam_step(model, lr: float, ste: bool = False):
    """(optimizer, jitted ``step(params, opt_state, x, y) -> (params, opt_state, loss)``); y is +-1."""
    import jax
    import optax

    opt = optax.adam(lr)
    f = logits_fn(model, ste)

    def loss(params, x, y):
        return optax.softmax_cross_entropy(f(params, x), (y > 0).astype(x.dtype)).mean()

    @jax.jit
    def step(params, opt_state, x, y):
        value, grads = jax.value_and_grad(loss)(params, x, y)
        updates, opt_state = opt.update(grads, opt_state, params)
        return optax.apply_updates(params, updates), opt_state, value

    return opt, step
