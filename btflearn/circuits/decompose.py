"""Decomposition of IR gates into 2-input gates (AND/OR/XOR, NOT free) and into an AIG (AND only).

A threshold gate over literals x_i with positive weights w_i and 0/1 threshold T is positive unate in
every x_i, so its Shannon expansion needs no multiplexer:

    f(i, t) = [sum_{j >= i} w_j x_j >= t] = f(i+1, t) | (x_i & f(i+1, t - w_i)),   f(i+1, t) <= f(i+1, t-w_i)

That is at most two 2-input gates per node of the threshold gate's decision diagram (one when a child is
constant). Thresholds are canonicalised to the smallest achievable suffix sum >= t so equal subfunctions
are shared. MAJ3 comes out as 4 gates (b&c | a&(b|c)), AND/OR as 1.
"""
from __future__ import annotations

from functools import lru_cache

from ..errors import BtfError
from .ir import CONST0, CONST1, Gate, LogicNetwork, is_const, negate


class HashingBuilder:
    """Builds 2-input gates into a LogicNetwork with constant folding and structural hashing."""

    def __init__(self, net: LogicNetwork, aig: bool = False):
        self.net = net
        self.aig = aig  # only AND gates (OR and XOR through De Morgan)
        self.table = {}

    def and2(self, a: int, b: int) -> int:
        if a == CONST0 or b == CONST0 or a == negate(b):
            return CONST0
        if a == CONST1 or a == b:
            return b
        if b == CONST1:
            return a
        key = ("and", min(a, b), max(a, b))
        if key not in self.table:
            self.table[key] = self.net.add_and(min(a, b), max(a, b))
        return self.table[key]

    def or2(self, a: int, b: int) -> int:
        if self.aig:
            return negate(self.and2(negate(a), negate(b)))
        if a == CONST1 or b == CONST1 or a == negate(b):
            return CONST1
        if a == CONST0 or a == b:
            return b
        if b == CONST0:
            return a
        key = ("or", min(a, b), max(a, b))
        if key not in self.table:
            self.table[key] = self.net.add_or(min(a, b), max(a, b))
        return self.table[key]

    def xor2(self, a: int, b: int) -> int:
        if is_const(a):
            return b ^ a
        if is_const(b):
            return a ^ b
        if a == b:
            return CONST0
        if a == negate(b):
            return CONST1
        flip = (a & 1) ^ (b & 1)
        a, b = a & ~1, b & ~1  # xor(~a, b) = ~xor(a, b)
        if self.aig:
            out = negate(self.and2(negate(self.and2(a, negate(b))), negate(self.and2(negate(a), b))))
            return out ^ flip
        key = ("xor", min(a, b), max(a, b))
        if key not in self.table:
            self.table[key] = self.net.add_xor(min(a, b), max(a, b))
        return self.table[key] ^ flip

    def threshold(self, lits, weights, t) -> int:
        """[sum of weights of true literals >= t] from 2-input gates."""
        order = sorted(range(len(lits)), key=lambda i: (-weights[i], i))
        lits = [lits[i] for i in order]
        ws = [int(weights[i]) for i in order]
        n = len(ws)
        # achievable sums of every suffix, for canonical thresholds
        sums = [None] * (n + 1)
        sums[n] = [0]
        for i in range(n - 1, -1, -1):
            sums[i] = sorted(set(sums[i + 1]) | {s + ws[i] for s in sums[i + 1]})

        @lru_cache(maxsize=None)
        def build(i, t):
            if t <= 0:
                return CONST1
            if t > sums[i][-1]:
                return CONST0
            lo = build(i + 1, canon(i + 1, t))
            hi = build(i + 1, canon(i + 1, t - ws[i]))
            return self.or2(lo, self.and2(lits[i], hi))

        def canon(i, t):
            if t <= 0:
                return 0
            for s in sums[i]:
                if s >= t:
                    return s
            return sums[i][-1] + 1

        return build(0, canon(0, t))

    def gate(self, gate: Gate, fanins) -> int:
        """Rebuild ``gate`` over the already-mapped fanin literals."""
        if gate.op == "xor":
            return self.xor2(*fanins)
        lits, ws, t = Gate("thr", tuple(fanins), gate.weights).threshold01()
        return self.threshold(lits, ws, t)


def _rebuild(net: LogicNetwork, aig: bool) -> LogicNetwork:
    out = net.like()
    builder = HashingBuilder(out, aig=aig)
    mapping = list(range(0, 2 * (1 + net.n_inputs), 2))  # node -> literal in ``out``
    for gate in net.gates:
        fanins = [mapping[f >> 1] ^ (f & 1) for f in gate.fanins]
        mapping.append(builder.gate(gate, fanins))
    for o, name in zip(net.outputs, net.output_names):
        out.add_output(mapping[o >> 1] ^ (o & 1), name)
    return out


def to_two_input(net: LogicNetwork) -> LogicNetwork:
    """The same function with only 2-input AND/OR/XOR gates (complemented edges free)."""
    return _rebuild(net, aig=False)


def to_aig(net: LogicNetwork) -> LogicNetwork:
    """The same function as an and-inverter graph (only AND gates: MAJ(0, a, b))."""
    out = _rebuild(net, aig=True)
    if any(g.kind != "and" for g in out.gates):
        raise BtfError("internal error: AIG conversion left a non-AND gate")
    return out


def gate_cost2(gate: Gate) -> int:
    """Number of 2-input gates the decomposition uses for one gate whose fanins are distinct inputs."""
    kind = gate.kind
    if kind in ("and", "or", "xor"):
        return 1
    if kind == "buf":
        return 0
    scratch = LogicNetwork(len(gate.fanins))
    fanins = [CONST0 if f == CONST0 else CONST1 if f == CONST1 else scratch.input_lit(i)
              for i, f in enumerate(gate.fanins)]
    HashingBuilder(scratch).gate(gate, fanins)
    return scratch.n_gates
