"""A small layer set, interpreted two ways, and the model zoo (MLP, CNN, RNN) for 8x8 digits.

A model is a plain function ``model(nn, x)`` of ONE item ``x``; ``nn`` supplies the layers:

    def mlp(nn, x):
        h = nn.dense("hidden", x, 64, act="relu")
        return nn.dense("out", h, 10, act="linear")

With ``nn = Forward(params)`` and a JAX array ``x`` this computes (used by Adam and for prediction,
batched with ``jax.vmap``); with ``nn = Recorder(graph)`` and a graph ``Var`` it records the elementary
ops for the projection method. Arrays support ``reshape``, indexing and ``nn.concat`` in both.

Layers: ``dense``, ``conv2d`` (via patches, valid or same padding, stride 1), ``max_pool``
(non-overlapping windows), ``rnn_cell`` (h' = act(W [x; h] + b)); activations ``"relu"``, ``"linear"``
or a :class:`Quant` staircase. Parameters are named ``"<layer>/w"`` and ``"<layer>/b"``; calling a layer
name again reuses its parameters (an RNN cell across time steps).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from btflearn.errors import ArchitectureError

from .graph import VALUE, Graph, Var, concatenate


@dataclass(frozen=True)
class Quant:
    """A quantised activation q(u) = low + step * clip(round((u - low)/step), 0, levels - 1)."""

    levels: int = 4
    step: float = 1.0
    low: float = 0.0

    def attrs(self):
        return {"levels": int(self.levels), "step": float(self.step), "low": float(self.low)}


def _check_act(act):
    if isinstance(act, Quant):
        if act.levels < 2 or act.step <= 0:
            raise ArchitectureError(f"a quantiser needs at least 2 levels and a positive step, got {act}")
        return act
    if act not in ("relu", "linear"):
        raise ArchitectureError(f"unknown activation {act!r} (relu, linear or Quant(...))")
    return act


# ------------------------------------------------------------------------- index helpers (static numpy)
def _pad_amount(kernel, padding):
    if padding == "valid":
        return 0, 0
    if padding == "same":
        if kernel[0] % 2 == 0 or kernel[1] % 2 == 0:
            raise ArchitectureError("'same' padding needs an odd kernel size")
        return kernel[0] // 2, kernel[1] // 2
    raise ArchitectureError(f"padding must be 'valid' or 'same', got {padding!r}")


def patch_index(H, W, C, kh, kw):
    """Indices into a flattened (H, W, C) array: row p = (i, j) of the output holds the kh*kw*C window
    in (di, dj, c) order. Shape (Ho*Wo, kh*kw*C), Ho = H - kh + 1, Wo = W - kw + 1."""
    Ho, Wo = H - kh + 1, W - kw + 1
    if Ho < 1 or Wo < 1:
        raise ArchitectureError(f"a {kh}x{kw} kernel does not fit a {H}x{W} input")
    i = np.arange(Ho)[:, None, None, None, None] + np.arange(kh)[None, None, :, None, None]
    j = np.arange(Wo)[None, :, None, None, None] + np.arange(kw)[None, None, None, :, None]
    c = np.arange(C)[None, None, None, None, :]
    flat = (i * W + j) * C + c
    return flat.reshape(Ho * Wo, kh * kw * C), Ho, Wo


def pool_index(H, W, C, ph, pw):
    """Indices into a flattened (H, W, C) array: row (i, j, c) of the output holds its ph*pw window.
    Shape (Ho*Wo*C, ph*pw), Ho = H // ph, Wo = W // pw (a remainder is dropped)."""
    Ho, Wo = H // ph, W // pw
    if Ho < 1 or Wo < 1:
        raise ArchitectureError(f"a {ph}x{pw} pool does not fit a {H}x{W} input")
    i = np.arange(Ho)[:, None, None, None, None] * ph + np.arange(ph)[None, None, None, :, None]
    j = np.arange(Wo)[None, :, None, None, None] * pw + np.arange(pw)[None, None, None, None, :]
    c = np.arange(C)[None, None, :, None, None]
    flat = (i * W + j) * C + c
    return flat.reshape(Ho * Wo * C, ph * pw), Ho, Wo


def _pair(k):
    return (int(k), int(k)) if np.isscalar(k) else (int(k[0]), int(k[1]))


def _check_hwc(x, what):
    if len(x.shape) != 3:
        raise ArchitectureError(f"{what} takes an (H, W, C) array, got shape {tuple(x.shape)}")


# ------------------------------------------------------------------------------------------ recording
class Recorder:
    """Records layers as elementary ops on a :class:`~btflearn.continuous.graph.Graph`.

    ``fuse=True`` (the default) records a dense unit with ReLU as ONE op, ``dot_linear_relu`` (its bias
    a weight on a constant-1 input), and one without activation as ``dot_linear`` / ``linear``: half
    the depth, so the projection method carries information through the net twice as fast.
    ``fuse=False`` records dot products, then the bias and activation as a separate op."""

    def __init__(self, graph, fuse: bool = True):
        self.g = graph
        self.fuse = fuse

    def zeros(self, shape):
        return self.g.constant(shape, 0.0)

    def concat(self, xs, axis=0):
        return concatenate(list(xs), axis)

    def _activate(self, d: Var, b: Var, act):
        act = _check_act(act)
        if act == "linear":
            return self.g.op("sum", [d, b])
        if act == "relu":
            return self.g.op("relu_sum", [d, b])
        return self.g.op("quant_sum", [d, b], attrs=act.attrs())

    def _affine(self, name, rows: Var, units, act):
        """act(rows @ W + b) for each row of the (P, n) value array ``rows``: P*units ops.

        Entries of a row that are data or constants make the op exactly linear in them: rows are
        grouped by which columns are fixed; a group with no fixed column is bilinear (``dot``), one
        with only fixed columns ``linear``, else ``dot_linear``. Fused (relu / linear activations):
        the bias joins the fixed part as a weight on the constant 1, and a ReLU unit is one
        ``dot_linear_relu`` op; a quantised unit fed only by data is one ``linear_quant`` op."""
        act = _check_act(act)
        P, n = rows.shape
        W = self.g.param(f"{name}/w", (n, units), fan_in=n)
        b = self.g.param(f"{name}/b", (units,), fan_in=0)
        fixed = self.g.is_clamped(rows)
        # a quantiser fuses only into data-fed units (closed form); elsewhere it stays a separate op
        fuse = self.fuse and (act in ("relu", "linear") or bool(fixed.all()))
        one = self.g.constant((), 1.0) if fuse else None
        out_idx = np.zeros((P, units), np.int64)
        patterns, which = np.unique(fixed, axis=0, return_inverse=True)
        for k, pattern in enumerate(patterns):
            sel = np.flatnonzero(np.ravel(which) == k)
            K = sel.size * units
            cols_c, cols_v = np.flatnonzero(pattern), np.flatnonzero(~pattern)

            def per_unit(cols):       # weight columns, the same for every row: (K, len(cols))
                return np.broadcast_to(W.idx[cols].T[None], (sel.size, units, cols.size)).reshape(K, -1)

            def per_row(cols):        # row entries, the same for every unit: (K, len(cols))
                block = rows.idx[sel][:, cols]
                return np.broadcast_to(block[:, None, :], (sel.size, units, cols.size)).reshape(K, -1)

            a_c, c = per_unit(cols_c), per_row(cols_c)
            a_v, b_v = per_unit(cols_v), per_row(cols_v)
            if fuse:
                bias = np.broadcast_to(b.idx[None], (sel.size, units)).reshape(K, 1)
                a_c = np.concatenate([a_c, bias], axis=1)
                c = np.concatenate([c, np.full((K, 1), one.idx.item())], axis=1)
            P_, V_ = W.kind, rows.kind
            attrs = None
            if fuse and act == "relu":
                kind, ops = "dot_linear_relu", [(P_, a_c), (P_, a_v), (V_, b_v), (V_, c)]
            elif fuse and isinstance(act, Quant):
                kind, ops, attrs = "linear_quant", [(P_, a_c), (V_, c)], act.attrs()
            elif cols_v.size == 0:
                kind, ops = "linear", [(P_, a_c), (V_, c)]
            elif a_c.shape[1] == 0:
                kind, ops = "dot", [(P_, a_v), (V_, b_v)]
            else:
                kind, ops = "dot_linear", [(P_, a_c), (P_, a_v), (V_, b_v), (V_, c)]
            d = self.g.op(kind, [Var(self.g, k_, i_) for k_, i_ in ops], attrs=attrs)
            out_idx[sel] = d.idx.reshape(sel.size, units)
        out = Var(self.g, VALUE, out_idx.reshape(-1))
        if not fuse:
            bias = Var(self.g, b.kind, np.broadcast_to(b.idx[None], (P, units)).reshape(-1))
            out = self._activate(out, bias, act)
        return out.reshape(P, units)

    def dense(self, name, x, units, act="relu"):
        return self._affine(name, x.reshape(1, -1), int(units), act).reshape(-1)

    def conv2d(self, name, x, channels, kernel=3, padding="valid", act="relu"):
        _check_hwc(x, "conv2d")
        kh, kw = _pair(kernel)
        ph, pw = _pad_amount((kh, kw), padding)
        H, W, C = x.shape
        if ph or pw:
            padded = self.zeros((H + 2 * ph, W + 2 * pw, C))
            idx = padded.idx.copy()
            idx[ph:ph + H, pw:pw + W] = x.idx
            x = Var(self.g, x.kind, idx)
            H, W = H + 2 * ph, W + 2 * pw
        pidx, Ho, Wo = patch_index(H, W, C, kh, kw)
        rows = Var(self.g, x.kind, x.idx.reshape(-1)[pidx])
        return self._affine(name, rows, int(channels), act).reshape(Ho, Wo, int(channels))

    def max_pool(self, x, window=2):
        _check_hwc(x, "max_pool")
        ph, pw = _pair(window)
        H, W, C = x.shape
        pidx, Ho, Wo = pool_index(H, W, C, ph, pw)
        out = self.g.op("max", [Var(self.g, x.kind, x.idx.reshape(-1)[pidx])])
        return out.reshape(Ho, Wo, C)

    def rnn_cell(self, name, x, h, units, act="relu"):
        if h is None:
            h = self.zeros((int(units),))
        return self.dense(name, self.concat([x.reshape(-1), h.reshape(-1)]), units, act)


# ----------------------------------------------------------------------------------------- computing
class Forward:
    """Computes the same layers with JAX arrays for one item (``jax.vmap`` it over a batch).
    ``ste=True`` gives quantisers a straight-through gradient (identity inside the quantiser's range)."""

    def __init__(self, params, ste: bool = False):
        import jax.numpy as jnp

        self.p, self.ste, self.jnp = params, ste, jnp

    def zeros(self, shape):
        return self.jnp.zeros(shape)

    def concat(self, xs, axis=0):
        return self.jnp.concatenate(list(xs), axis)

    def _activate(self, u, act):
        import jax

        jnp = self.jnp
        act = _check_act(act)
        if act == "linear":
            return u
        if act == "relu":
            return jnp.maximum(u, 0.0)
        from .projections import quantize

        q = quantize(u, act.levels, act.step, act.low)
        if not self.ste:
            return q
        edge_lo = act.low - 0.5 * act.step
        edge_hi = act.low + (act.levels - 0.5) * act.step
        uc = jnp.clip(u, edge_lo, edge_hi)
        return uc + jax.lax.stop_gradient(q - uc)

    def _affine(self, name, rows, act):
        return self._activate(rows @ self.p[f"{name}/w"] + self.p[f"{name}/b"], act)

    def dense(self, name, x, units, act="relu"):
        return self._affine(name, x.reshape(-1), act)

    def conv2d(self, name, x, channels, kernel=3, padding="valid", act="relu"):
        _check_hwc(x, "conv2d")
        kh, kw = _pair(kernel)
        ph, pw = _pad_amount((kh, kw), padding)
        if ph or pw:
            x = self.jnp.pad(x, ((ph, ph), (pw, pw), (0, 0)))
        H, W, C = x.shape
        pidx, Ho, Wo = patch_index(H, W, C, kh, kw)
        rows = x.reshape(-1)[pidx]
        return self._affine(name, rows, act).reshape(Ho, Wo, int(channels))

    def max_pool(self, x, window=2):
        _check_hwc(x, "max_pool")
        ph, pw = _pair(window)
        H, W, C = x.shape
        pidx, Ho, Wo = pool_index(H, W, C, ph, pw)
        return self.jnp.max(x.reshape(-1)[pidx], axis=1).reshape(Ho, Wo, C)

    def rnn_cell(self, name, x, h, units, act="relu"):
        if h is None:
            h = self.zeros((int(units),))
        return self.dense(name, self.concat([x.reshape(-1), h.reshape(-1)]), units, act)


# ------------------------------------------------------------------------------------------ model zoo
def mlp(hidden=(64,), classes=10, act="relu"):
    """Dense layers of widths ``hidden`` with ``act``, then a linear layer to the class scores."""
    hidden = tuple(int(h) for h in hidden)

    def model(nn, x):
        h = x.reshape(-1)
        for i, units in enumerate(hidden):
            h = nn.dense(f"dense{i}", h, units, act)
        return nn.dense("out", h, classes, "linear")

    return model


def cnn(channels=8, kernel=3, pool=2, classes=10, act="relu", side=8):
    """An (side x side x 1) image, one conv layer (valid padding) with ``act``, max-pool, linear out."""

    def model(nn, x):
        h = nn.conv2d("conv", x.reshape(side, side, 1), int(channels), kernel, "valid", act)
        h = nn.max_pool(h, pool)
        return nn.dense("out", h.reshape(-1), classes, "linear")

    return model


def rnn(hidden=32, classes=10, act="relu", steps=8):
    """The input read as ``steps`` rows (an 8x8 digit row by row), a simple RNN cell
    h_t = act(W [x_t; h_{t-1}] + b) from h_0 = 0, then a linear layer on the last state."""

    def model(nn, x):
        seq = x.reshape(steps, -1)
        h = None
        for t in range(steps):
            h = nn.rnn_cell("cell", seq[t], h, int(hidden), act)
        return nn.dense("out", h, classes, "linear")

    return model


MODELS = {"mlp": mlp, "cnn": cnn, "rnn": rnn}


def build(name: str, classes: int = 10, act="relu", width: int | None = None):
    """A zoo model by name; ``width`` is the hidden width (mlp), channel count (cnn) or state size (rnn)."""
    if name not in MODELS:
        raise ArchitectureError(f"unknown model {name!r}; choose one of {', '.join(MODELS)}")
    if width is not None and int(width) < 1:
        raise ArchitectureError(f"width must be a positive integer, got {width}")
    if name == "mlp":
        return mlp(hidden=(width or 64,), classes=classes, act=act)
    if name == "cnn":
        return cnn(channels=width or 8, classes=classes, act=act)
    return rnn(hidden=width or 32, classes=classes, act=act)


# ------------------------------------------------------------------------------------------ parameters
def init_params(graph, seed: int, dtype=np.float32):
    """He-normal weights (std sqrt(2 / fan_in)) and zero biases, one array per named parameter, drawn
    with NumPy from ``seed`` in sorted name order (the same for every method)."""
    import jax.numpy as jnp

    rng = np.random.default_rng(int(seed))
    params = {}
    for name, spec in sorted(graph.params.items()):
        if spec.fan_in > 0:
            w = rng.standard_normal(spec.idx.shape) * np.sqrt(2.0 / spec.fan_in)
        else:
            w = np.zeros(spec.idx.shape)
        params[name] = jnp.asarray(w, dtype)
    return params


def params_to_flat(graph, params):
    import jax.numpy as jnp

    first = next(iter(params.values()), None)
    flat = np.zeros(graph.n_params, np.float32 if first is None else np.asarray(first).dtype)
    for name, spec in graph.params.items():
        flat[spec.idx.ravel()] = np.asarray(params[name]).ravel()
    return jnp.asarray(flat)


def flat_to_params(graph, flat):
    return {name: flat[spec.idx] for name, spec in graph.params.items()}


def record(model, input_shape, fuse: bool = True) -> Graph:
    """Run ``model(nn, x)`` with the recording interpreter; returns the graph (output in ``graph.output``).
    ``fuse``: a dense unit with ReLU (or no activation) is one op with its bias (see layers.Recorder)."""
    g = Graph()
    x = g.input(tuple(input_shape))
    out = model(Recorder(g, fuse=fuse), x)
    if not isinstance(out, Var) or out.kind != VALUE:
        raise ArchitectureError("a model must return an array computed from its input")
    if out.ndim != 1:
        out = out.reshape(-1)
    g.output = out
    return g
