"""Small integer gates from wide fine-weight ones: the circuit of a threshold gate is an adder of its
weighted inputs (6-7 AND nodes per set bit of the integer weights), so a gate over 196 pixels with
fine weights is thousands of AND nodes; with a few dozen inputs and weights of magnitude 1-4 it is a
few hundred, often at nearly the same accuracy.

A gate is made smaller in two exact-where-it-can-be steps, each judged on the items the gate actually
decides (a split's leaf gate on its cofactor's items only):

* **sparse** (``sparse_gate``): an input constant on those items adds a constant to the sum, so its
  weight moves into the bias, exactly; keeping only the ``keep`` inputs of largest |w| x std(input),
  the others' mean contributions move into the bias too (approximately);
* **rounded** (``rounded_gate``): the weights scaled and rounded to integers of magnitude at most L.
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np

from .model import Model

LEVELS = (1, 2, 4, 8)          # the integer weight bounds tried
KEEP_INPUTS = (None, 90, 60, 40)  # the inputs kept per gate (None: every non-constant one)
ROUNDING_QUANTILES = (1.0, 0.99, 0.97, 0.95, 0.9, 0.8, 0.7, 0.5)


def rounded_gate(w: np.ndarray, real: np.ndarray, level: int, x: np.ndarray) -> np.ndarray:
    """The weights ``w`` of one gate (``real``: not the bias) as integers of magnitude at most ``level``,
    the bias unbounded: scaled so that the largest |w|, or a quantile of them (the larger ones then
    clipped), becomes ``level``, at the scale whose gate decides like ``w`` on the most rows of ``x``
    (its senders' values on the items). The largest |w| suits exponential weights (a carry: the top
    bits decide), a quantile many weights of one size with a few outliers (pixels). Weights that are 0
    stay 0 and do not count in the quantiles."""
    want = x @ w > 0
    live = real & (w != 0)
    best = None
    for q in ROUNDING_QUANTILES:
        top = float(np.quantile(np.abs(w[live]), q)) if live.any() else 0.0
        if top <= 0:
            continue
        r = w * (level / top)
        r[real] = np.clip(np.round(r[real]), -level, level)
        # integer sums can be 0 (which reads False); half a unit more bias keeps that answer and keeps
        # every sum off 0, as the circuit extraction requires
        r[~real] = np.round(r[~real]) + 0.5
        agree = int(np.count_nonzero((x @ r > 0) == want))
        if best is None or agree > best[0]:
            best = (agree, r)
    return w.copy() if best is None else best[1]


def sparse_gate(w: np.ndarray, real: np.ndarray, x: np.ndarray, keep: int | None) -> np.ndarray:
    """``w`` with the weights of inputs constant on the rows of ``x`` (the senders' values) and, when
    ``keep`` is set, of all but the ``keep`` inputs of largest |w| x std moved into the bias (their
    mean contribution: exact for the constant ones). Without a bias edge ``w`` is returned as it is."""
    bias = np.flatnonzero(~real)
    if len(bias) != 1 or len(x) == 0:
        return w.copy()
    mean, std = x.mean(axis=0), x.std(axis=0)
    drop = real & (std == 0)
    if keep is not None:
        contribution = np.where(real & ~drop, np.abs(w) * std, np.inf)
        weakest = np.argsort(contribution, kind="stable")[:max(int(np.sum(real & ~drop)) - keep, 0)]
        drop[weakest] = True
    out = w.copy()
    out[bias[0]] += np.sum(w[drop] * mean[drop]) / mean[bias[0]]   # the bias node's value is constant
    out[drop] = 0.0
    return out


def reads_only_inputs(net, node: int) -> bool:
    """Whether BTF ``node`` of Network ``net`` is a gate on the inputs (its senders: inputs and bias)."""
    return bool(np.all(net.senders[net.in_start[node]:net.in_start[node + 1]] < net.first_btf))


def coarse_model(model: Model, values: np.ndarray, level: int, keep: int | None) -> Model:
    """``model`` with every gate on the inputs made sparse and rounded to |w| <= ``level`` on the items
    whose node values (``model.node_sums``) are ``values``; the other nodes (a multiplexer over such
    gates) keep their weights. A gate on the inputs reads only the inputs and the bias, whose values
    do not depend on the weights, so one forward pass serves every level and ``keep``."""
    net = model.network
    weights = model.weights.copy()
    for node in range(net.first_btf, net.n_nodes):
        lo, hi = net.in_start[node], net.in_start[node + 1]
        if reads_only_inputs(net, node):
            real, x = net.senders[lo:hi] != 0, values[:, net.senders[lo:hi]]
            weights[lo:hi] = rounded_gate(sparse_gate(weights[lo:hi], real, x, keep), real, level, x)
    return Model(net, weights, model.input_names, model.output_names, name=model.name)


def widest_gate(model: Model) -> int:
    net = model.network
    return max((int(np.sum(net.senders[net.in_start[n]:net.in_start[n + 1]] != 0))
                for n in range(net.first_btf, net.n_nodes) if reads_only_inputs(net, n)), default=0)


def coarsened(c, train, valid, levels=LEVELS, keeps=KEEP_INPUTS) -> list:
    """Copies of a one-layer candidate (``btflearn.learn.Candidate``: threshold gates on the inputs, or a
    split into such gates) with its gates made sparse (``keeps``) and rounded (``levels``), scored on
    ``train`` and ``valid``. A split's gates are treated per leaf on the leaf's own training items and
    joined again (``c.cofactors``); its multiplexer keeps its weights."""
    if c.setting is None or c.setting.widths or c.levels:
        return []
    models = c.cofactors.models if c.cofactors is not None else [c.model]
    rows = c.cofactors.rows if c.cofactors is not None else [train.inputs[:, c.inputs]]
    widest = max((widest_gate(m) for m in models if isinstance(m, Model)), default=0)
    values = [m.node_sums(x)[0] if isinstance(m, Model) else None for m, x in zip(models, rows)]
    out = []
    for keep in keeps:
        if keep is not None and keep >= widest:
            continue
        for level in levels:
            coarse = [coarse_model(m, v, level, keep) if isinstance(m, Model) else m
                      for m, v in zip(models, values)]
            model = c.cofactors.join(coarse) if c.cofactors is not None else coarse[0]
            r = replace(c, model=model, levels=level, kept=keep, cofactors=None, seconds=0.0)
            r.valid = float(np.mean(r.predict(valid.inputs) == valid.outputs))
            r.train = float(np.mean(r.predict(train.inputs) == train.outputs))
            out.append(r)
    return out
