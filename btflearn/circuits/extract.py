"""Extraction: from a trained BTF model to a LogicNetwork with one gate per model node.

For every BTF node the simplest gate that reproduces the node's output on every pattern of its inputs
that the training set produces (all patterns, for a complete truth table) is chosen, in this order:

1. a constant (the node never changes);
2. the sorting-based +-1 search: sort the in-edges by |w| descending and try the top s edges with weights
   sign(w) for s = 1, 3, 5, ...: s = 1 is a COPY/NOT of one input, s = 3 is MAJ3 (AND/OR when the bias is
   among the three: AND(a, b) = MAJ(False, a, b), OR(a, b) = MAJ(True, a, b)), s = 5 is MAJ5, larger s a
   majority with unit weights. By the support theorem a node trained with margin sqrt(m/sigma) has such
   a representation with s <= the largest odd integer <= sigma (all inputs seen);
3. otherwise a threshold gate with small integer weights: the smallest top-|w| support (up to 16 edges)
   whose weights, rounded at the smallest scale q = 1..16 (q / max|w|), reproduce the node; failing that
   all edges, at scales 32, 64, ... .

Negative weights become complemented edges; the bias (value -1) is the constant False literal.
"""
from __future__ import annotations

from dataclasses import dataclass
from math import gcd

import numpy as np

from ..errors import BtfError
from .ir import CONST0, Gate, LogicNetwork, lit, negate

MAX_SMALL_SUPPORT = 16  # widest support tried with scales 1..16 before rounding all edges


@dataclass
class GateFit:
    """The gate found for one node: ``constant`` (True/False), ``copy`` (a literal) or ``gate``."""
    kind: str                 # "const", "copy", "maj" or "thr"
    value: object             # bool, literal, or Gate
    support: int              # number of fanins used

    def describe(self) -> str:
        if self.kind == "const":
            return f"constant {'True' if self.value else 'False'}"
        if self.kind == "copy":
            return "NOT" if self.value & 1 else "COPY"
        return self.value.kind.upper()


def _sign(x: np.ndarray) -> np.ndarray:
    return np.where(x > 0, 1.0, -1.0)


def fit_gate(patterns: np.ndarray, target: np.ndarray, weights: np.ndarray, literals) -> GateFit:
    """The simplest gate over ``literals`` (one per column of ``patterns``) that reproduces ``target``.

    ``patterns`` (P, m) are the +-1 values of the node's inputs (a constant -1 column for the bias),
    ``target`` (P,) the node's +-1 output on each pattern, ``weights`` (m,) the node's real weights.
    """
    patterns = np.asarray(patterns, dtype=np.float64)
    target = np.asarray(target, dtype=np.float64)
    weights = np.asarray(weights, dtype=np.float64)
    literals = [int(x) for x in literals]
    m = len(literals)
    if patterns.ndim != 2 or patterns.shape[1] != m or weights.shape != (m,) or target.shape[0] != patterns.shape[0]:
        raise BtfError("fit_gate: patterns, weights and literals do not agree")
    if np.all(target == target[0]):
        return GateFit("const", bool(target[0] > 0), 0)
    order = np.argsort(-np.abs(weights), kind="stable")
    signs = np.where(weights >= 0, 1.0, -1.0)
    signed_lits = [literals[j] if signs[j] > 0 else negate(literals[j]) for j in range(m)]
    # +-1 weights on the top-s edges, s odd (running sums: one pass over a 200-input gate's patterns)
    sums = np.cumsum(patterns[:, order] * signs[order], axis=1)
    for s in range(1, m + 1, 2):
        idx = order[:s]
        if np.array_equal(_sign(sums[:, s - 1]), target):
            if s == 1:
                return GateFit("copy", signed_lits[idx[0]], 1)
            return GateFit("maj", Gate("thr", tuple(signed_lits[j] for j in idx), (1,) * s), s)
    # integer weights: smallest support first (up to MAX_SMALL_SUPPORT edges), then smallest scale
    scale = np.abs(weights).max()
    for s in range(2, min(m, MAX_SMALL_SUPPORT) + 1):
        idx = order[:s]
        for q in range(1, 17):
            gate = _rounded(patterns, target, weights, signed_lits, idx, q / scale)
            if gate is not None:
                return GateFit("thr", gate, len(gate.fanins))
    # integer weights (a gate being simplified) reproduce their own table as they are: finer scales only
    # inflate them, and a rescaled tie (a sum of exactly 0) may round to the wrong side
    integral = np.array_equal(weights, np.rint(weights))
    if not integral and np.array_equal(2 * weights, np.rint(2 * weights)):
        # integer weights and a half-integer bias (btflearn.coarsen keeps sums off 0 so): doubled, every
        # weight keeps its bits, where the scale 32 / max|w| below would give each weight more of them
        gate = _rounded(patterns, target, weights, signed_lits, order, 2.0)
        if gate is not None:
            return GateFit("thr", gate, len(gate.fanins))
    q = 32
    while q <= 1 << 24:
        factor = 1.0 if integral and q >= scale else q / scale
        gate = _rounded(patterns, target, weights, signed_lits, order, factor)
        if gate is not None:
            return GateFit("thr", gate, len(gate.fanins))
        q *= 2
    raise BtfError("no integer threshold gate reproduces this node (is a weighted sum exactly zero?)")


def _rounded(patterns, target, weights, signed_lits, idx, factor):
    ints = np.rint(weights[idx] * factor)
    if not np.any(ints):
        return None
    if not np.array_equal(_sign(patterns[:, idx] @ ints), target):
        return None
    keep = [(signed_lits[j], int(abs(w))) for j, w in zip(idx, ints) if w != 0]
    g = 0
    for _, w in keep:
        g = gcd(g, w)
    return Gate("thr", tuple(f for f, _ in keep), tuple(w // g for _, w in keep))


@dataclass
class Extraction:
    """The raw extracted network (one gate per model node that is not constant or a copy) and the fit of
    every BTF node (model node number -> GateFit)."""
    network: LogicNetwork
    fits: dict

    def summary(self) -> dict:
        counts = {}
        for fit in self.fits.values():
            key = fit.describe().lower()
            counts[key] = counts.get(key, 0) + 1
        return counts


def extract(model, inputs, keep_copies: bool = True) -> Extraction:
    """Extract one gate per BTF node of ``model`` from its forward pass on ``inputs`` (N, n_inputs)
    of +-1 values. With ``keep_copies`` COPY/NOT and constant nodes stay in the network as one-input
    buffers (``simplify`` collapses them); otherwise they become literals at once."""
    net = model.network
    inputs = np.asarray(inputs, dtype=np.float64)
    if inputs.ndim != 2 or inputs.shape[1] != net.n_inputs:
        raise BtfError(f"the model takes {net.n_inputs} inputs, got patterns of shape {inputs.shape}")
    if not np.all(np.isin(inputs, (-1.0, 1.0))):
        raise BtfError("circuit extraction needs Boolean (+-1) inputs; analog inputs have no circuit")
    if getattr(model, "readout", "sign") != "sign":
        raise BtfError("circuit extraction needs a model with sign readout (argmax outputs are not a "
                       "Boolean circuit)")
    values, _ = model.node_sums(inputs)
    circuit = LogicNetwork(net.n_inputs, list(model.input_names), [], model.name or "circuit")
    literal = [CONST0] + [lit(1 + j) for j in range(net.n_inputs)]  # model node -> IR literal
    fits = {}
    for node in range(net.first_btf, net.n_nodes):
        lo, hi = net.in_start[node], net.in_start[node + 1]
        senders = net.senders[lo:hi]
        table = np.unique(np.concatenate([values[:, senders], values[:, node:node + 1]], axis=1), axis=0)
        fit = fit_gate(table[:, :-1], table[:, -1], model.weights[lo:hi], [literal[s] for s in senders])
        fits[node] = fit
        if fit.kind == "const":
            out = CONST0 ^ int(fit.value)
            literal.append(circuit.add_gate(Gate("thr", (out,), (1,))) if keep_copies else out)
        elif fit.kind == "copy":
            literal.append(circuit.add_gate(Gate("thr", (fit.value,), (1,))) if keep_copies else fit.value)
        else:
            literal.append(circuit.add_gate(fit.value))
    for j, name in enumerate(model.output_names):
        circuit.add_output(literal[net.first_output + j], name)
    return Extraction(circuit, fits)
