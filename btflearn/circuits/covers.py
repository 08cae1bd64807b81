"""Sum-of-products covers of IR gates (for the BLIF and Verilog writers) and truth-table recognition of
small functions as IR gates (for the readers).

The cover of a threshold gate is the set of its minimal true sets: with the weights sorted descending,
adding inputs until the weight reaches the threshold T gives each minimal set exactly once (the last
input added is the lightest, so dropping any input falls below T).
"""
from __future__ import annotations

import itertools

import numpy as np

from .decompose import HashingBuilder
from .ir import CONST0, CONST1, Gate, LogicNetwork, negate, node_of

MAX_CUBES = 256


def minimal_true_sets(weights, threshold, limit=MAX_CUBES):
    """Index sets S (tuples, ascending) with sum(weights[S]) >= threshold, minimal; None if more than
    ``limit``. ``threshold <= 0`` gives [()] (constant True); an unreachable threshold gives []."""
    if threshold <= 0:
        return [()]
    order = sorted(range(len(weights)), key=lambda i: (-weights[i], i))
    ws = [weights[i] for i in order]
    suffix = np.concatenate([np.cumsum(ws[::-1])[::-1], [0]]) if ws else np.array([0])
    found = []

    def dfs(i, total, chosen):
        if len(found) > limit:
            return
        if total >= threshold:
            found.append(tuple(sorted(order[j] for j in chosen)))
            return
        for j in range(i, len(ws)):
            if total + suffix[j] < threshold:
                return
            dfs(j + 1, total + ws[j], chosen + [j])

    dfs(0, 0, [])
    return None if len(found) > limit else found


def gate_cover(gate: Gate, limit=MAX_CUBES):
    """(input literals, cubes) with the gate = OR over cubes; a cube is a string over the inputs with
    '1' (net true), '0' (net false) or '-'; the inputs are given as uncomplemented literals of distinct
    nodes. None when the gate has repeated fanin nodes or needs more than ``limit`` cubes."""
    if gate.op == "xor":
        a, b = gate.fanins
        if node_of(a) == node_of(b) or a < 2 or b < 2:
            return None
        same = (a & 1) == (b & 1)
        return [a & ~1, b & ~1], (["10", "01"] if same else ["11", "00"])
    lits, ws, t = gate.threshold01()
    if len({node_of(f) for f in lits}) != len(lits):
        return None
    sets = minimal_true_sets(ws, t, limit)
    if sets is None:
        return None
    cubes = []
    for s in sets:
        cube = ["-"] * len(lits)
        for i in s:
            cube[i] = "0" if lits[i] & 1 else "1"
        cubes.append("".join(cube))
    return [f & ~1 for f in lits], cubes


def prepare_for_writing(net: LogicNetwork, limit=MAX_CUBES) -> LogicNetwork:
    """``net`` itself if every gate has a cover of at most ``limit`` cubes, else a copy in which the other
    gates are replaced by their 2-input decomposition."""
    if all(gate_cover(g, limit) is not None for g in net.gates):
        return net
    out = net.like()
    builder = HashingBuilder(out)
    mapping = list(range(0, 2 * net.first_gate, 2))
    for gate in net.gates:
        fanins = tuple(mapping[node_of(f)] ^ (f & 1) for f in gate.fanins)
        g = Gate(gate.op, fanins, gate.weights)
        if gate_cover(g, limit) is not None and all(f >= 2 for f in fanins if gate.op == "xor"):
            mapping.append(out.add_gate(g))
        else:
            mapping.append(builder.gate(gate, fanins))
    for o, name in zip(net.outputs, net.output_names):
        out.add_output(mapping[node_of(o)] ^ (o & 1), name)
    return out


# -- recognition ------------------------------------------------------------------------------------

def _inputs_table(k):
    """(2^k, k) bools: input i of row p is bit i of p."""
    return ((np.arange(1 << k)[:, None] >> np.arange(k)) & 1).astype(bool)


def recognize(table, lits):
    """An IR gate for the function ``table`` (length 2^k bools; bit i of the row index = input i) over
    input literals ``lits``: a literal (constant, copy, inversion) or (Gate, flip) for AND/OR (with
    complemented inputs), XOR/XNOR, MAJ3 or MAJ5 (with complemented inputs); None otherwise."""
    table = np.asarray(table, dtype=bool)
    k = len(lits)
    if table.shape != (1 << k,):
        raise ValueError("truth table length does not match the inputs")
    if table.all():
        return CONST1
    if not table.any():
        return CONST0
    x = _inputs_table(k)
    relevant = [i for i in range(k) if np.any(table[x[:, i]] != table[~x[:, i]])]
    # the reduced table over the relevant inputs
    sub = _inputs_table(len(relevant))
    rows = np.zeros(1 << len(relevant), dtype=np.int64)
    for j, i in enumerate(relevant):
        rows |= sub[:, j].astype(np.int64) << i
    t = table[rows]
    ls = [lits[i] for i in relevant]
    r = len(ls)
    if r == 1:
        return ls[0] if t[1] else negate(ls[0])
    if r == 2:
        a, b = ls
        if t.sum() == 1:  # AND of the true minterm's literals
            p = int(np.flatnonzero(t)[0])
            return Gate("thr", (CONST0, a ^ (1 - (p & 1)), b ^ (1 - (p >> 1 & 1))), (1, 1, 1)), 0
        if t.sum() == 3:  # OR: the false minterm complemented
            p = int(np.flatnonzero(~t)[0])
            return Gate("thr", (CONST1, a ^ (p & 1), b ^ (p >> 1 & 1)), (1, 1, 1)), 0
        if t[1] and t[2] and not t[0] and not t[3]:
            return Gate("xor", (a, b)), 0
        if t[0] and t[3] and not t[1] and not t[2]:
            return Gate("xor", (a, b)), 1
        return None
    if r in (3, 5):
        xs = _inputs_table(r)
        for flips in itertools.product((0, 1), repeat=r):
            votes = (xs ^ np.array(flips, dtype=bool)).sum(axis=1)
            if np.array_equal(votes > r // 2, t):
                return Gate("thr", tuple(f ^ c for f, c in zip(ls, flips)), (1,) * r), 0
    return None
