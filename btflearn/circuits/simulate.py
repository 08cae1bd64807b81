"""Bit-parallel simulation of a LogicNetwork: 64 input patterns per uint64 word.

AND/OR/MAJ3 (three unit weights) and XOR use word-wide bit operations; MAJ5 and general threshold gates
unpack their fanins to one byte per pattern and sum the weights (the definition, so the fast paths can
be tested against it with ``fast=False``).
"""
from __future__ import annotations

import numpy as np

from ..errors import BtfError
from .ir import LogicNetwork

ONES = np.uint64(0xFFFFFFFFFFFFFFFF)


def pack(bits) -> np.ndarray:
    """(N, k) array of bools (or +-1 values, True = +1) -> (k, W) uint64 words, pattern p in bit p % 64
    of word p // 64; unused bits of the last word are 0."""
    bits = np.asarray(bits)
    if bits.ndim != 2:
        raise BtfError(f"patterns must be a 2-D array (patterns x signals), got shape {bits.shape}")
    if bits.dtype != bool:
        bits = bits > 0
    n, k = bits.shape
    n_words = max(1, (n + 63) // 64)
    padded = np.zeros((n_words * 64, k), dtype=bool)
    padded[:n] = bits
    packed = np.packbits(padded, axis=0, bitorder="little")  # (8 W, k) bytes
    return np.ascontiguousarray(packed.T).view("<u8").astype(np.uint64)


def unpack(words: np.ndarray, n: int) -> np.ndarray:
    """(k, W) uint64 words -> (n, k) bools (inverse of ``pack``)."""
    words = np.ascontiguousarray(np.asarray(words, dtype=np.uint64))
    if words.ndim == 1:
        words = words[None, :]
    as_bytes = words.astype("<u8").view(np.uint8)  # (k, 8 W)
    bits = np.unpackbits(as_bytes, axis=1, bitorder="little")[:, :n]
    return bits.T.astype(bool)


def simulate_words(net: LogicNetwork, input_words: np.ndarray, fast: bool = True) -> np.ndarray:
    """Words of every node: (n_nodes, W) uint64, node 0 all zero (False)."""
    input_words = np.asarray(input_words, dtype=np.uint64)
    if input_words.ndim != 2 or input_words.shape[0] != net.n_inputs:
        raise BtfError(f"the circuit has {net.n_inputs} inputs, got words of shape {input_words.shape}")
    n_words = input_words.shape[1]
    values = np.zeros((net.n_nodes, n_words), dtype=np.uint64)
    values[1:1 + net.n_inputs] = input_words

    def val(f):
        return values[f >> 1] ^ ONES if f & 1 else values[f >> 1]

    for g, gate in enumerate(net.gates):
        node = net.first_gate + g
        if gate.op == "xor":
            values[node] = val(gate.fanins[0]) ^ val(gate.fanins[1])
        elif len(gate.fanins) == 1:
            values[node] = val(gate.fanins[0])
        elif fast and len(gate.fanins) == 3 and len(set(gate.weights)) == 1:
            a, b, c = (val(f) for f in gate.fanins)
            values[node] = (a & b) | (c & (a | b))
        else:
            values[node] = _threshold_words(gate, [val(f) for f in gate.fanins])
    return values


def _threshold_words(gate, fanin_words) -> np.ndarray:
    n_words = fanin_words[0].shape[0]
    total = np.zeros(n_words * 64, dtype=np.int64)
    for w, words in zip(gate.weights, fanin_words):
        bits = unpack(words[None, :], n_words * 64)[:, 0]
        total += np.where(bits, int(w), -int(w))
    return pack((total > 0)[:, None])[0]


def simulate(net: LogicNetwork, inputs, fast: bool = True) -> np.ndarray:
    """Outputs (N, n_outputs) as +-1 (True = +1) for inputs (N, n_inputs) given as +-1 or bools."""
    inputs = np.asarray(inputs)
    if inputs.ndim == 1:
        inputs = inputs[None, :]
    if inputs.ndim != 2 or inputs.shape[1] != net.n_inputs:
        raise BtfError(f"the circuit has {net.n_inputs} inputs, got patterns of shape {inputs.shape}")
    bits = inputs if inputs.dtype == bool else inputs > 0
    values = simulate_words(net, pack(bits), fast=fast)
    out = np.stack([values[o >> 1] ^ ONES if o & 1 else values[o >> 1] for o in net.outputs]) \
        if net.outputs else np.zeros((0, values.shape[1]), dtype=np.uint64)
    return np.where(unpack(out, inputs.shape[0]), 1.0, -1.0)


def all_patterns(n_inputs: int) -> np.ndarray:
    """All 2^n input patterns as bools (2^n, n); input j of pattern p is bit j of p."""
    if not 0 <= n_inputs <= 24:
        raise BtfError(f"exhaustive simulation is limited to 24 inputs, got {n_inputs}")
    p = np.arange(1 << n_inputs, dtype=np.int64)
    return ((p[:, None] >> np.arange(n_inputs)) & 1).astype(bool)
