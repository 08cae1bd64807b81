"""The and-inverter graph that care-set resubstitution (btflearn.circuits.resub) edits: AND nodes with
the simulation value of every node on every item (a Python int, bit i = item i), structural hashing,
levels, fanouts, care sets and fanout-free cones, and the conversions from and to a LogicNetwork."""
from __future__ import annotations

import heapq

import numpy as np

from .decompose import to_aig
from .ir import CONST0, LogicNetwork, node_of


def bits_to_int(words: np.ndarray) -> int:
    return int.from_bytes(np.ascontiguousarray(words, dtype="<u8").tobytes(), "little")


class Aig:
    """A mutable AIG with simulation values: node 0 is False, 1..n the inputs, then AND nodes (any
    order; levels keep simulation topological). Literals are 2 * node + complement."""

    def __init__(self, n_inputs: int, input_values, mask: int):
        self.n_inputs = n_inputs
        self.mask = mask
        self.fin = [None] * (1 + n_inputs)          # (a, b) literals of AND nodes
        self.val = [0] + [int(v) & mask for v in input_values]
        self.lev = [0] * (1 + n_inputs)
        self.fout = [set() for _ in range(1 + n_inputs)]
        self.oref = [0] * (1 + n_inputs)
        self.alive = [True] * (1 + n_inputs)
        self.table = {}
        self.outputs = []
        # numpy mirrors for the searches that compare a node with every divisor at once
        self.n_words = max(1, (mask.bit_length() + 63) // 64)
        self.words = np.zeros((2 * len(self.fin) + 16, self.n_words), dtype=np.uint64)
        self.live = np.zeros(self.words.shape[0], dtype=bool)
        for n, v in enumerate(self.val):
            self._store(n, v)
        self.live[:len(self.fin)] = True

    def _store(self, n: int, v: int):
        if n >= self.words.shape[0]:
            grow = self.words.shape[0]
            self.words = np.concatenate([self.words, np.zeros_like(self.words[:grow])])
            self.live = np.concatenate([self.live, np.zeros(grow, dtype=bool)])
        self.words[n] = np.frombuffer(v.to_bytes(8 * self.n_words, "little"), dtype="<u8")

    def copy(self) -> "Aig":
        out = Aig.__new__(Aig)
        out.n_inputs, out.mask = self.n_inputs, self.mask
        out.fin, out.val, out.lev, out.oref, out.alive = (list(self.fin), list(self.val), list(self.lev),
                                                          list(self.oref), list(self.alive))
        out.fout = [set(f) for f in self.fout]
        out.table = dict(self.table)
        out.n_words, out.words, out.live = self.n_words, self.words.copy(), self.live.copy()
        out.outputs = list(self.outputs)
        return out

    # -- basic access ------------------------------------------------------------------------------
    def lval(self, literal: int) -> int:
        v = self.val[literal >> 1]
        return v ^ self.mask if literal & 1 else v

    def n_ands(self) -> int:
        return sum(1 for n, f in enumerate(self.fin) if f is not None and self.alive[n])

    def refs(self, node: int) -> int:
        return len(self.fout[node]) + self.oref[node]

    # -- construction ------------------------------------------------------------------------------
    @staticmethod
    def _trivial(a: int, b: int):
        if a > b:
            a, b = b, a
        if a == CONST0 or a == b ^ 1:
            return CONST0
        if a == 1 or a == b:
            return b
        return None

    def lookup(self, a: int, b: int):
        """The literal of AND(a, b) if it is trivial or already exists, else None."""
        t = self._trivial(a, b)
        if t is not None:
            return t
        n = self.table.get((min(a, b), max(a, b)))
        return 2 * n if n is not None else None

    def add_and(self, a: int, b: int) -> int:
        found = self.lookup(a, b)
        if found is not None:
            return found
        a, b = min(a, b), max(a, b)
        n = len(self.fin)
        self.fin.append((a, b))
        self.val.append(self.lval(a) & self.lval(b))
        self.lev.append(1 + max(self.lev[a >> 1], self.lev[b >> 1]))
        self.fout.append(set())
        self.oref.append(0)
        self.alive.append(True)
        self._store(n, self.val[n])
        self.live[n] = True
        self.fout[a >> 1].add(n)
        self.fout[b >> 1].add(n)
        self.table[(a, b)] = n
        return 2 * n

    def add_output(self, literal: int):
        self.outputs.append(literal)
        self.oref[literal >> 1] += 1

    # -- structure ---------------------------------------------------------------------------------
    def tfo(self, g: int) -> set:
        seen = {g}
        stack = [g]
        while stack:
            for m in self.fout[stack.pop()]:
                if m not in seen:
                    seen.add(m)
                    stack.append(m)
        return seen

    def freed(self, g: int, keep=()) -> int:
        """How many AND nodes die when g loses its fanouts, ``keep`` (nodes) held alive."""
        return len(self.cone(g, keep))

    def cone(self, g: int, keep=()) -> set:
        """The AND nodes that die when g loses its fanouts (its maximum fanout-free cone), ``keep``
        held alive."""
        keep = set(keep)
        if g in keep:
            return set()
        dec = {}
        dead, stack = {g}, [g]
        while stack:
            n = stack.pop()
            for f in self.fin[n]:
                m = f >> 1
                if self.fin[m] is None or m in keep:
                    continue
                dec[m] = dec.get(m, 0) + 1
                if dec[m] == self.refs(m):
                    dead.add(m)
                    stack.append(m)
        return dead

    def _kill(self, n: int):
        stack = [n]
        while stack:
            n = stack.pop()
            if not self.alive[n] or self.fin[n] is None or self.refs(n):
                continue
            self.alive[n] = False
            self.live[n] = False
            a, b = self.fin[n]
            if self.table.get((a, b)) == n:
                del self.table[(a, b)]
            for f in (a, b):
                self.fout[f >> 1].discard(n)
                stack.append(f >> 1)

    def replace(self, g: int, r: int):
        """Every reader of node g reads literal r instead (r must not depend on g); dead logic goes,
        trivial and duplicate readers are merged, levels and values of the fanout are updated."""
        subst = {g: r}      # node -> the literal that replaces it (chains resolved by ``resolve``)
        if self.table.get(self.fin[g]) == g:
            # g only agrees with r on its care set: no reader may be merged into g
            del self.table[self.fin[g]]

        def resolve(literal):
            while literal >> 1 in subst:
                literal = subst[literal >> 1] ^ (literal & 1)
            return literal

        work, touched = [g], set()
        while work:
            old = work.pop()
            new = resolve(2 * old)
            for i, o in enumerate(self.outputs):
                if o >> 1 == old:
                    self.outputs[i] = new ^ (o & 1)
                    self.oref[new >> 1] += 1
            self.oref[old] = 0
            for n in list(self.fout[old]):
                if n in subst:
                    continue  # replaced itself: its readers move when it is processed
                a, b = self.fin[n]
                if self.table.get((a, b)) == n:
                    del self.table[(a, b)]
                self.fout[a >> 1].discard(n)
                self.fout[b >> 1].discard(n)
                a, b = resolve(a), resolve(b)
                a, b = min(a, b), max(a, b)
                self.fin[n] = (a, b)
                self.fout[a >> 1].add(n)
                self.fout[b >> 1].add(n)
                t = self._trivial(a, b)
                m = self.table.get((a, b), n)
                if t is None and m != n and m not in subst:
                    t = 2 * m
                if t is not None:
                    subst[n] = t
                    work.append(n)
                else:
                    self.table[(a, b)] = n
                touched.add(n)
        for old in subst:  # only now, when no reader is left anywhere
            self._kill(old)
        touched = [n for n in touched if self.alive[n] and n not in subst]
        self._relevel(touched)
        self._resimulate(touched)

    def _relevel(self, start):
        stack = list(start)
        while stack:
            n = stack.pop()
            a, b = self.fin[n]
            lev = 1 + max(self.lev[a >> 1], self.lev[b >> 1])
            if lev != self.lev[n]:
                self.lev[n] = lev
                stack.extend(self.fout[n])

    def _resimulate(self, start):
        heap = [(self.lev[n], n) for n in set(start)]
        heapq.heapify(heap)
        queued = set(start)
        while heap:
            _, n = heapq.heappop(heap)
            queued.discard(n)
            a, b = self.fin[n]
            v = self.lval(a) & self.lval(b)
            if v != self.val[n]:
                self.val[n] = v
                self._store(n, v)
                for m in self.fout[n]:
                    if m not in queued:
                        queued.add(m)
                        heapq.heappush(heap, (self.lev[m], m))

    # -- observability -----------------------------------------------------------------------------
    def care(self, g: int) -> int:
        """Items on which flipping node g changes some output."""
        new = {g: self.val[g] ^ self.mask}
        heap = [(self.lev[m], m) for m in self.fout[g]]
        heapq.heapify(heap)
        queued = set(self.fout[g])
        while heap:
            _, n = heapq.heappop(heap)
            a, b = self.fin[n]
            va = new.get(a >> 1, self.val[a >> 1])
            vb = new.get(b >> 1, self.val[b >> 1])
            if a & 1:
                va ^= self.mask
            if b & 1:
                vb ^= self.mask
            v = va & vb
            if v != self.val[n]:
                new[n] = v
                for m in self.fout[n]:
                    if m not in queued:
                        queued.add(m)
                        heapq.heappush(heap, (self.lev[m], m))
        care = 0
        for o in self.outputs:
            n = o >> 1
            if n in new:
                care |= new[n] ^ self.val[n]
        return care & self.mask


def tfi(aig: Aig, g: int, limit: int) -> list:
    """Nodes of g's transitive fanin, nearest first (breadth first), at most ``limit``."""
    seen, order, queue = {g}, [], [g]
    while queue and len(order) < limit:
        nxt = []
        for n in queue:
            if aig.fin[n] is None:
                continue
            for f in aig.fin[n]:
                m = f >> 1
                if m not in seen and m != 0:
                    seen.add(m)
                    order.append(m)
                    nxt.append(m)
        queue = nxt
    return order[:limit]


def aig_of(net: LogicNetwork, input_values, mask) -> Aig:
    src = to_aig(net)
    aig = Aig(net.n_inputs, input_values, mask)
    mapping = list(range(0, 2 * (1 + net.n_inputs), 2))
    for gate in src.gates:
        a, b = [mapping[node_of(f)] ^ (f & 1) for f in gate.inputs()]
        mapping.append(aig.add_and(a, b))
    for o in src.outputs:
        aig.add_output(mapping[node_of(o)] ^ (o & 1))
    return aig


def network_of(aig: Aig, like: LogicNetwork) -> LogicNetwork:
    from .simplify import simplify
    out = like.like()
    order = sorted((n for n in range(len(aig.fin)) if aig.fin[n] is not None and aig.alive[n]),
                   key=lambda n: (aig.lev[n], n))
    mapping = {n: 2 * n for n in range(1 + aig.n_inputs)}
    for n in order:
        a, b = aig.fin[n]
        mapping[n] = out.add_and(mapping[a >> 1] ^ (a & 1), mapping[b >> 1] ^ (b & 1))
    for o, name in zip(aig.outputs, like.output_names):
        out.add_output(mapping[o >> 1] ^ (o & 1), name)
    return simplify(out)
