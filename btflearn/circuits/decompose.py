"""Decomposition of IR gates into 2-input gates (AND/OR/XOR, NOT free) and into an AIG (AND only).

A threshold gate over literals x_i with positive weights w_i and 0/1 threshold T is positive unate in
every x_i, so its Shannon expansion needs no multiplexer:

    f(i, t) = [sum_{j >= i} w_j x_j >= t] = f(i+1, t) | (x_i & f(i+1, t - w_i)),   f(i+1, t) <= f(i+1, t-w_i)

That is at most two 2-input gates per node of the threshold gate's decision diagram (one when a child is
constant). Thresholds are canonicalised to the smallest achievable suffix sum >= t so equal subfunctions
are shared. MAJ3 comes out as 4 gates (b&c | a&(b|c)), MAJ5 as 12, AND/OR as 1. Wide gates with large
weights, whose diagram can be exponential, use a carry-save adder of the weighted bits and a comparator
with t instead (whichever is smaller when both are feasible).
"""
from __future__ import annotations

from bisect import bisect_left
from functools import lru_cache

from ..errors import BtfError
from .ir import CONST0, CONST1, Gate, LogicNetwork, is_const, negate, sweep


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
        if self.aig:  # ~(a & b) & ~(~a & ~b): a & b is the carry of a half or full adder, so shared
            return self.and2(negate(self.and2(a, b)), negate(self.and2(negate(a), negate(b))))
        flip = (a & 1) ^ (b & 1)
        a, b = a & ~1, b & ~1  # xor(~a, b) = ~xor(a, b)
        key = ("xor", min(a, b), max(a, b))
        if key not in self.table:
            self.table[key] = self.net.add_xor(min(a, b), max(a, b))
        return self.table[key] ^ flip

    def threshold(self, lits, weights, t) -> int:
        """[sum of weights of true literals >= t] from 2-input gates: the unate Shannon decomposition or
        a carry-save adder and comparator, whichever is smaller (wide gates with large weights only get
        the adder: their decision diagram can be exponential)."""
        weights = [int(w) for w in weights]
        if t <= 0:
            return CONST1
        if t > sum(weights):
            return CONST0
        return _choose(tuple(weights), int(t), self.aig)(self, lits, weights, t)

    def gate(self, gate: Gate, fanins) -> int:
        """Rebuild ``gate`` over the already-mapped fanin literals."""
        if gate.op == "xor":
            return self.xor2(*fanins)
        lits, ws, t = Gate("thr", tuple(fanins), gate.weights).threshold01()
        return self.threshold(lits, ws, t)


@lru_cache(maxsize=4096)
def _choose(weights: tuple, t: int, aig: bool):
    """The smaller decomposition for a threshold gate shape (cached: stats and writers ask repeatedly)."""
    k = len(weights)
    feasible = k <= 12 or sum(weights) <= 4096  # suffix subset sums stay few
    if feasible and (k <= 2 or (k <= 5 and len(set(weights)) == 1)):
        return _shannon  # AND/OR/MAJ3/MAJ5: the decision diagram is best
    if not feasible:
        return _adder
    adder = _scratch_cost(_adder, weights, t, aig)
    if _shannon_states(weights, t, cap=adder) > adder:
        return _adder
    return _shannon if _scratch_cost(_shannon, weights, t, aig) <= adder else _adder


def _scratch_cost(method, weights, t, aig) -> int:
    scratch = LogicNetwork(len(weights))
    out = method(HashingBuilder(scratch, aig), [scratch.input_lit(i) for i in range(len(weights))], list(weights), t)
    scratch.add_output(out, "y")
    return sweep(scratch).n_gates


def _suffix_sums(ws):
    sums = [None] * (len(ws) + 1)  # achievable sums of every suffix, sorted
    sums[len(ws)] = [0]
    for i in range(len(ws) - 1, -1, -1):
        sums[i] = sorted(set(sums[i + 1]) | {x + ws[i] for x in sums[i + 1]})
    return sums


def _canon(sums, i, t):
    """The smallest achievable suffix sum >= t (0 for t <= 0; beyond the maximum: maximum + 1)."""
    if t <= 0:
        return 0
    k = bisect_left(sums[i], t)
    return sums[i][k] if k < len(sums[i]) else sums[i][-1] + 1


def _shannon_states(weights, t, cap) -> int:
    """Number of non-constant nodes of the decision diagram (counting stops above ``cap``)."""
    ws = sorted(weights, reverse=True)
    sums = _suffix_sums(ws)
    level, count = {_canon(sums, 0, t)}, 0
    for i in range(len(ws)):
        live = {x for x in level if 0 < x <= sums[i][-1]}
        count += len(live)
        if count > cap:
            break
        level = {_canon(sums, i + 1, x) for x in live} | {_canon(sums, i + 1, x - ws[i]) for x in live}
    return count


def _shannon(builder, lits, weights, t) -> int:
    """f(i, t) = f(i+1, t) | (x_i & f(i+1, t - w_i)) with thresholds canonicalised to achievable sums."""
    order = sorted(range(len(lits)), key=lambda i: (-weights[i], i))
    lits = [lits[i] for i in order]
    ws = [int(weights[i]) for i in order]
    sums = _suffix_sums(ws)

    def canon(i, t):
        return _canon(sums, i, t)

    @lru_cache(maxsize=None)
    def build(i, t):
        if t <= 0:
            return CONST1
        if t > sums[i][-1]:
            return CONST0
        lo = build(i + 1, canon(i + 1, t))
        hi = build(i + 1, canon(i + 1, t - ws[i]))
        return builder.or2(lo, builder.and2(lits[i], hi))

    return build(0, canon(0, t))


def _adder(builder, lits, weights, t) -> int:
    """Sum the weighted literals in binary with full and half adders (column by column, 3 bits -> sum and
    carry), then compare the sum with the constant t bit by bit from the least significant end."""
    columns = {}
    for f, w in zip(lits, weights):
        j = 0
        while w:
            if w & 1:
                columns.setdefault(j, []).append(f)
            w >>= 1
            j += 1
    bits = []
    j = 0
    while j <= max(columns, default=-1):
        col = columns.get(j, [])
        while len(col) > 1:
            if len(col) >= 3:
                a, b, c = col.pop(0), col.pop(0), col.pop(0)
                ab = builder.xor2(a, b)
                col.append(builder.xor2(ab, c))
                carry = builder.or2(builder.and2(a, b), builder.and2(c, ab))
            else:
                a, b = col.pop(0), col.pop(0)
                col.append(builder.xor2(a, b))
                carry = builder.and2(a, b)
            columns.setdefault(j + 1, []).append(carry)
        bits.append(col[0] if col else CONST0)
        j += 1
    if t >= 1 << len(bits):
        return CONST0
    ge = CONST1  # the empty prefix: equal counts as >=
    for i, s in enumerate(bits):
        ge = builder.and2(s, ge) if (t >> i) & 1 else builder.or2(s, ge)
    return ge


def _rebuild(net: LogicNetwork, aig: bool) -> LogicNetwork:
    out = net.like()
    builder = HashingBuilder(out, aig=aig)
    mapping = list(range(0, 2 * (1 + net.n_inputs), 2))  # node -> literal in ``out``
    for gate in net.gates:
        fanins = [mapping[f >> 1] ^ (f & 1) for f in gate.fanins]
        mapping.append(builder.gate(gate, fanins))
    for o, name in zip(net.outputs, net.output_names):
        out.add_output(mapping[o >> 1] ^ (o & 1), name)
    return sweep(out)


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
    scratch.add_output(HashingBuilder(scratch).gate(gate, fanins), "y")
    return sweep(scratch).n_gates
