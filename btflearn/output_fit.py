"""Fitting by outputs: one small network per output, over the inputs that explain that output on the
training items (btflearn.supports), joined into one model.

One network for all outputs must find, among all the inputs, the few each output depends on, and with a
few hundred items it fits them with many: a dense student of the 3-layer AND/OR teacher reproduces its
256 items and scores 94% per bit on unseen ones (98-99% after long runs). The consistent support of each
output is found from the items directly (as a rule it is the teacher's own), and a network over those
inputs alone has nothing else to fit. Each output's network is trained on the distinct patterns of its
inputs, with its own trials; the joined model is an ordinary BTF network (model.json, minimisation,
circuit extraction and verification take it like any other).
"""
from __future__ import annotations

import time

import numpy as np

from .dataset import Dataset
from .errors import BtfError
from .model import Model
from .network import Network
from .supports import consistent_support


def output_dataset(dataset: Dataset, output: int, inputs) -> Dataset:
    """The distinct patterns of ``inputs`` among the items, with their value of ``output`` (consistent:
    items that agree on ``inputs`` agree on it)."""
    x = dataset.inputs[:, inputs]
    _, first = np.unique(x, axis=0, return_index=True)
    first = np.sort(first)
    name = dataset.output_names[output]
    return Dataset(x[first], dataset.outputs[first][:, [output]],
                   input_names=[dataset.input_names[j] for j in inputs], output_names=[name],
                   name=f"{dataset.name}:{name}")


def fit_outputs(dataset: Dataset, hidden=(8, 8), progress=None, **fit_kwargs):
    """``btflearn.fit`` once per output: over the output's consistent support, a network of ``hidden``
    widths with skip connections (dense; ``()``: one threshold gate), then the joined model. An output
    that is constant on the items needs no network. ``fit_kwargs`` go to every fit (arch excepted);
    ``time_limit`` bounds the whole run. ``progress``: called with (output, number of outputs, its
    support, fit's progress dict or None before it starts). Returns a FitResult whose model is the joined
    one (solved when every output's network is), with the outputs' trials in ``trials``."""
    from .solver import fit
    from .trials import joined_result
    if "arch" in fit_kwargs:
        raise BtfError("fit_outputs builds each output's network itself: give hidden widths, not arch")
    if dataset.readout != "sign" or not np.all(np.isin(dataset.inputs, (-1.0, 1.0))):
        raise BtfError("fitting by outputs needs Boolean (+-1) inputs and a sign readout")
    hidden = tuple(int(w) for w in hidden)
    if any(w < 1 for w in hidden):
        raise BtfError(f"hidden widths must be positive, got {hidden}")
    t0 = time.perf_counter()
    time_limit = fit_kwargs.pop("time_limit", None)
    parts, results, solved = [], [], True
    for j in range(dataset.n_outputs):
        support = consistent_support(dataset.inputs, dataset.outputs[:, j])
        if progress is not None:
            progress(j, dataset.n_outputs, support, None)
        if not support:
            parts.append((support, float(dataset.outputs[0, j])))
            continue
        left = None if time_limit is None else time_limit - (time.perf_counter() - t0)
        if left is not None and left <= 0:
            parts.append((support, -1.0))    # not trained: the time limit is spent
            solved = False
            continue
        net = Network.layered([len(support), *hidden, 1], dense=True)
        report = None if progress is None else (lambda step, j=j, s=support: progress(j, dataset.n_outputs, s, step))
        result = fit(output_dataset(dataset, j, support), arch=net, progress=report, time_limit=left,
                     **fit_kwargs)
        results.append(result)
        parts.append((support, result.model))
        solved = solved and result.solved
    model = join_outputs(parts, dataset.n_inputs, list(dataset.input_names), list(dataset.output_names),
                         dataset.name)
    return joined_result(model, dataset, results, solved, time.perf_counter() - t0, fit_kwargs.get("seed"),
                         sum(r.iterations for r in results), per_output=list(hidden),
                         supports=[[int(j) for j in s] for s, _ in parts])


def join_outputs(parts: list, n_inputs: int, input_names=None, output_names=None, name: str = "outputs") -> Model:
    """One Model over ``n_inputs`` from one part per output: (support, Model over those inputs in that
    order with one output) or (support, +-1) for a constant output. The parts' hidden nodes keep their
    order, output j is the joined network's output j."""
    n_outputs = len(parts)
    n_hidden = sum(part.network.n_btf - 1 for _, part in parts if isinstance(part, Model))
    first_output = 1 + n_inputs + n_hidden
    edges, weights, next_node = [], [], 1 + n_inputs
    for j, (support, part) in enumerate(parts):
        out = first_output + j
        if not isinstance(part, Model):
            if part not in (-1.0, 1.0):
                raise BtfError(f"a constant output is +-1, got {part!r}")
            edges += [(out, 0), (out, 1)]          # the bias node is -1: weight -1 gives True
            weights += [-part, 0.0]
            continue
        net = part.network
        if net.n_inputs != len(support) or net.n_outputs != 1:
            raise BtfError(f"output {j}'s network needs {len(support)} inputs and one output, got "
                           f"{net.n_inputs} and {net.n_outputs}")
        if any(not 0 <= s < n_inputs for s in support):
            raise BtfError(f"output {j}'s support names an input outside 0..{n_inputs - 1}")
        mapping = np.concatenate([[0], 1 + np.asarray(support, dtype=np.int64),
                                  next_node + np.arange(net.n_btf - 1), [out]])
        edges += zip(mapping[net.receivers].tolist(), mapping[net.senders].tolist())
        weights += part.weights.tolist()
        next_node += net.n_btf - 1
    edges = np.asarray(edges, dtype=np.int64)
    network = Network.from_edges(first_output + n_outputs, n_inputs, n_outputs, edges, arch="per-output")
    order = np.lexsort((edges[:, 1], edges[:, 0]))   # from_edges sorts edges by receiver, then sender
    return Model(network, np.asarray(weights, dtype=np.float64)[order], input_names, output_names, name=name)
