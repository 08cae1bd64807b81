"""Hand-made BTF models from logic gates: the inverse of extraction, for tests and examples.

Signals are model node numbers; ``-s`` is the complement of node ``s`` (inputs are nodes 1..n, the bias
is node 0 and cannot be complemented). Every gate becomes one BTF node with the weights of the design
notes: AND(a, b) = sign(-1 + a + b) (bias weight +1 on the bias value -1), OR(a, b) = sign(1 + a + b),
MAJ3 = sign(a + b + c), COPY = sign(a). Weights are scaled by a random factor, and ``distractors`` extra
small-weight edges from other earlier nodes make the extraction search do real work.
"""
from __future__ import annotations

import numpy as np

from ..errors import BtfError
from ..model import Model
from ..network import Network


class BtfBuilder:
    def __init__(self, input_names, name="handmade", seed=0, distractors=0, noise=0.15):
        self.input_names = list(input_names)
        self.name = name
        self.rng = np.random.default_rng(seed)
        self.distractors = int(distractors)
        self.noise = float(noise)
        self.n_nodes = 1 + len(self.input_names)
        self.edges = []  # (receiver, sender, weight)

    def input(self, name) -> int:
        return 1 + self.input_names.index(name)

    def node(self, terms, bias) -> int:
        """A BTF node sign(bias * (-1) + sum w * x) over (signal, w) terms (complemented signals flip w)."""
        node = self.n_nodes
        self.n_nodes += 1
        scale = self.rng.uniform(0.5, 2.0)
        senders = {0: bias * scale}
        for signal, w in terms:
            s = abs(int(signal))
            if not 0 < s < node:
                raise BtfError(f"signal {signal} is not an earlier node")
            senders[s] = senders.get(s, 0.0) + (w if signal > 0 else -w) * scale
        others = [s for s in range(1, node) if s not in senders]
        picks = self.rng.permutation(others)[:self.distractors]
        for s in picks:
            senders[int(s)] = self.rng.uniform(-self.noise, self.noise) * scale / max(1, self.distractors)
        for s, w in sorted(senders.items()):
            self.edges.append((node, s, w))
        return node

    def and_(self, a, b):
        return self.node([(a, 1.0), (b, 1.0)], 1.0)

    def or_(self, a, b):
        return self.node([(a, 1.0), (b, 1.0)], -1.0)

    def maj(self, *signals):
        return self.node([(s, 1.0) for s in signals], 0.1)

    def threshold(self, terms, bias):
        return self.node(terms, bias)

    def copy(self, a):
        return self.node([(a, 1.0)], 0.1)

    def xor(self, a, b):
        """XOR from three nodes: AND(OR(a, b), NOT AND(a, b))."""
        return self.and_(self.or_(a, b), -self.and_(a, b))

    def xor2(self, a, b):
        """XOR from two nodes: h = AND(a, b); sign(-1 + a + b - 2h) (a threshold gate with weight 2)."""
        h = self.and_(a, b)
        return self.node([(a, 1.0), (b, 1.0), (h, -2.0)], 1.0)

    def build(self, outputs) -> Model:
        """A model whose output nodes (appended last, in order) copy the given (name, signal) pairs."""
        outputs = list(outputs.items()) if isinstance(outputs, dict) else list(outputs)
        saved = self.distractors
        self.distractors = 0
        for _, signal in outputs:
            if signal == 0:
                self.node([(1, 0.0)], 1.0)  # constant False
            else:
                self.copy(signal)
        self.distractors = saved
        net = Network.from_edges(self.n_nodes, len(self.input_names), len(outputs),
                                 [(r, s) for r, s, _ in self.edges], arch="handmade")
        weights = {(r, s): w for r, s, w in self.edges}
        w = np.array([weights[(int(r), int(s))] for r, s in zip(net.receivers, net.senders)])
        return Model(net, w, list(self.input_names), [n for n, _ in outputs], name=self.name)


def multiplier_model(bits: int = 2, seed: int = 0, distractors: int = 0) -> Model:
    """A hand-made BTF array multiplier (inputs a0.., b0.., outputs p0.., LSB first): partial products
    by AND, ripple adders from XOR (three nodes each) and MAJ3 carries."""
    n = int(bits)
    b = BtfBuilder([f"a{j}" for j in range(n)] + [f"b{j}" for j in range(n)], name=f"multiplier{n}",
                   seed=seed, distractors=distractors)
    a_ = [b.input(f"a{j}") for j in range(n)]
    b_ = [b.input(f"b{j}") for j in range(n)]
    acc = [b.and_(a_[i], b_[0]) for i in range(n)]  # weights 2^0 .. 2^(n-1)
    products = [acc[0]]
    acc = acc[1:]  # now weights 2^1 ..
    for j in range(1, n):
        row = [b.and_(a_[i], b_[j]) for i in range(n)]  # weights 2^j .. 2^(j+n-1)
        carry = None
        new = []
        for i in range(n):
            x = acc[i] if i < len(acc) else None
            y = row[i]
            if x is None and carry is None:
                new.append(y)
                continue
            if x is None:
                x, carry_in = carry, None
            else:
                carry_in = carry
            if carry_in is None:  # half adder
                s, carry = b.xor(x, y), b.and_(x, y)
            else:  # full adder
                s, carry = b.xor(b.xor(x, y), carry_in), b.maj(x, y, carry_in)
            new.append(s)
        if carry is not None:
            new.append(carry)
        products.append(new[0])
        acc = new[1:]
    products += acc
    while len(products) < 2 * n:
        products.append(0)  # a constant False output (only for bits == 1)
    return b.build([(f"p{k}", products[k]) for k in range(2 * n)])
