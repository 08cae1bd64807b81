"""Simplification of a LogicNetwork, repeated to a fixed point:

* constant propagation and COPY/NOT collapse: every threshold gate is rewritten over its distinct
  non-constant inputs (duplicate and complementary fanins combined, constants folded into one constant
  fanin), inputs that cannot change the output are dropped, and the simplest equivalent gate is chosen
  again on the gate's complete truth table (constant, copy/inversion as an edge attribute, AND/OR, MAJ3,
  MAJ5, threshold);
* merging identical gates (structural hashing; a gate equal to the complement of an existing one becomes
  a complemented edge to it, which holds for threshold gates whose weight sum is odd);
* dropping gates that reach no output.
"""
from __future__ import annotations

import numpy as np

from .extract import fit_gate
from .ir import CONST0, CONST1, Gate, LogicNetwork, is_complement, is_const, lit, negate, node_of, sweep

MAX_EXACT = 12  # gates with at most this many distinct inputs are re-derived from their truth table


def simplify(net: LogicNetwork, max_rounds: int = 20) -> LogicNetwork:
    """A simplified copy of ``net`` computing the same outputs."""
    current = net
    for _ in range(max_rounds):
        new = sweep(rewrite(current))
        if new.gates == current.gates and new.outputs == current.outputs:
            break
        current = new
    return choose_polarity(new)


def choose_polarity(net: LogicNetwork, output_weight: int = 2) -> LogicNetwork:
    """Complement self-dual gates (threshold gates with an odd weight sum: complementing every fanin
    complements the output) that are used complemented more often than not, so that e.g. an output
    ``~OR(~a, ~b)`` becomes ``AND(a, b)``. An inverted output counts ``output_weight`` references."""
    gates = [list(g.fanins) for g in net.gates]
    outputs = list(net.outputs)
    readers = {}   # node -> the fanin lists of the gates that read it
    for fanins in gates:
        for n in {node_of(f) for f in fanins}:
            readers.setdefault(n, []).append(fanins)
    for node in range(net.n_nodes - 1, net.first_gate - 1, -1):
        gate = net.gate_of(node)
        if gate.op != "thr" or sum(gate.weights) % 2 == 0:
            continue
        mine = readers.get(node, [])
        score = sum(1 if f & 1 else -1 for fanins in mine for f in fanins if node_of(f) == node)
        score += sum(output_weight if o & 1 else -output_weight for o in outputs if node_of(o) == node)
        if score <= 0:
            continue
        own = gates[node - net.first_gate]
        own[:] = [negate(f) for f in own]   # in place: the readers index holds these lists
        for fanins in mine:
            fanins[:] = [negate(f) if node_of(f) == node else f for f in fanins]
        outputs = [negate(o) if node_of(o) == node else o for o in outputs]
    out = net.copy()
    out.gates = [Gate(g.op, tuple(f), g.weights) for g, f in zip(net.gates, gates)]
    out.outputs = outputs
    return out


def rewrite(net: LogicNetwork) -> LogicNetwork:
    """One pass of gate normalisation and structural hashing (dead gates are kept; see ``sweep``)."""
    out = net.like()
    mapping = [CONST0] + [lit(1 + j) for j in range(net.n_inputs)]
    table = {}
    for gate in net.gates:
        fanins = [mapping[node_of(f)] ^ (f & 1) for f in gate.fanins]
        result = normalize_xor(fanins) if gate.op == "xor" else normalize_threshold(fanins, gate.weights)
        if isinstance(result, int):
            mapping.append(result)
            continue
        new_gate, flip = result
        key = _key(new_gate)
        if key in table:
            mapping.append(table[key] ^ flip)
            continue
        dual = _dual_key(new_gate)
        if dual is not None and dual in table:
            mapping.append(negate(table[dual]) ^ flip)
            continue
        literal = out.add_gate(new_gate)
        table[key] = literal
        mapping.append(literal ^ flip)
    for o, name in zip(net.outputs, net.output_names):
        out.add_output(mapping[node_of(o)] ^ (o & 1), name)
    return out


def _key(gate: Gate):
    return (gate.op,) + tuple(sorted(zip(gate.fanins, gate.weights or (0,) * len(gate.fanins))))


def _dual_key(gate: Gate):
    """Key of the gate computing the complement, or None when complementing the fanins does not complement
    the output (an even weight sum allows a zero sum, which is False either way)."""
    if gate.op != "thr" or sum(gate.weights) % 2 == 0:
        return None
    return ("thr",) + tuple(sorted(zip((negate(f) for f in gate.fanins), gate.weights)))


def normalize_xor(fanins):
    """A literal, or (Gate, flip) with both fanins uncomplemented and sorted."""
    a, b = fanins
    if is_const(a):
        return b ^ a
    if is_const(b):
        return a ^ b
    if node_of(a) == node_of(b):
        return CONST0 if a == b else CONST1
    flip = (a & 1) ^ (b & 1)
    a, b = a & ~1, b & ~1
    return Gate("xor", (min(a, b), max(a, b))), flip


def normalize_threshold(fanins, weights):
    """A literal, or (Gate, 0): the gate over distinct relevant inputs in its simplest form."""
    coef = {}
    const = 0
    for f, w in zip(fanins, weights):
        sign = -1 if is_complement(f) else 1
        if node_of(f) == 0:
            const += -w * sign  # False is -1, True (the complement) +1
        else:
            coef[node_of(f)] = coef.get(node_of(f), 0) + sign * w
    nodes = [n for n in sorted(coef) if coef[n] != 0]
    w = np.array([coef[n] for n in nodes], dtype=np.int64)
    span = int(np.abs(w).sum())
    if const - span > 0:
        return CONST1
    if const + span <= 0:
        return CONST0
    if len(nodes) > MAX_EXACT:
        return _threshold_gate(nodes, w, const), 0
    k = len(nodes)
    patterns = np.where((np.arange(1 << k)[:, None] >> np.arange(k)) & 1, 1.0, -1.0)
    target = np.where(patterns @ w + const > 0, 1.0, -1.0)
    table = target.reshape((2,) * k)  # axis k-1-i is input i (bit i of the pattern index)
    relevant = [i for i in range(k)
                if not np.array_equal(np.take(table, 0, axis=k - 1 - i), np.take(table, 1, axis=k - 1 - i))]
    if len(relevant) < k:
        patterns, rows = np.unique(patterns[:, relevant], axis=0, return_index=True)
        target = target[rows]
        nodes = [nodes[i] for i in relevant]
        w = w[relevant]
    columns = np.concatenate([patterns, -np.ones((patterns.shape[0], 1))], axis=1)
    fit = fit_gate(columns, target, np.concatenate([w, [-const]]).astype(np.float64),
                   [lit(n) for n in nodes] + [CONST0])
    if fit.kind == "const":
        return CONST1 if fit.value else CONST0
    if fit.kind == "copy":
        return fit.value
    return fit.value, 0


def _threshold_gate(nodes, w, const):
    fanins = [lit(n, c < 0) for n, c in zip(nodes, w)]
    weights = [int(abs(c)) for c in w]
    if const:
        fanins.append(CONST1 if const > 0 else CONST0)
        weights.append(abs(int(const)))
    g = int(np.gcd.reduce(np.array(weights)))
    return Gate("thr", tuple(fanins), tuple(x // g for x in weights))
