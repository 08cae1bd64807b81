"""Random logic teachers (logic-network inference): layered circuits whose input/output map is to be learned.

Each non-input node of a layered network (default 32 wide) is, independently:
- kind "andor": with probability p a 2-input AND/OR gate: weights +-sqrt(m/3) on the bias and on two random
  nodes of the layer below (bias weight +sqrt(m/3) gives AND, -sqrt(m/3) gives OR, since the bias value
  is -1; a negative input weight negates that input); otherwise a COPY: +-sqrt(m) on one lower node
  (-sqrt(m) is a NOT);
- kind "maj": with probability p a 3-input majority: +-sqrt(m/3) on three lower nodes, zero bias weight;
  otherwise a COPY as above.
m is the in-degree of the node in the full layered network (bias included), so every weight vector has
|w|^2 = m like a trained one, and all other weights are 0. Signs are uniformly random. The senders are
wired so that every node of the lower layer feeds at least one node above whenever the layer above has
enough input slots (slots are filled in random order, each preferring a lower node not used yet).
Data: uniformly random +-1 inputs through the teacher.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from btflearn.dataset import Dataset
from btflearn.errors import BtfError
from btflearn.model import Model
from btflearn.network import Network

from .spec import RunSpec

SPEC = RunSpec(gamma=1e-3)  # the reference settings for teacher circuits

KINDS = ("andor", "maj")


@dataclass(frozen=True)
class Gate:
    """One teacher node: ``op`` in AND, OR, COPY, MAJ; ``senders`` node numbers (network numbering);
    ``negated`` per sender whether it enters complemented (a COPY of a complemented input is a NOT)."""
    node: int
    op: str
    senders: tuple
    negated: tuple

    def __str__(self):
        args = ", ".join(("~" if n else "") + f"n{s}" for s, n in zip(self.senders, self.negated))
        return f"n{self.node} = {self.op}({args})"


class RandomLogicTeacher:
    """A random layered teacher circuit, ``widths`` from input to output (e.g. [32, 32, 32, 32] for 3
    layers)."""

    def __init__(self, widths=(32, 32, 32, 32), kind: str = "andor", p: float = 0.5, seed: int = 0):
        widths = [int(w) for w in widths]
        if len(widths) < 2 or any(w < 1 for w in widths):
            raise BtfError(f"a teacher needs at least two positive layer widths, got {widths}")
        if kind not in KINDS:
            raise BtfError(f"kind must be one of {KINDS}, got {kind!r}")
        if not 0.0 <= p <= 1.0:
            raise BtfError(f"p must lie in [0, 1], got {p}")
        fan = 2 if kind == "andor" else 3
        if p > 0 and min(widths[:-1]) < fan:
            raise BtfError(f"{kind} gates need at least {fan} nodes in every layer below a gate")
        self.widths, self.kind, self.p, self.seed = widths, kind, float(p), seed
        rng = np.random.default_rng(seed)
        net = Network.layered(widths)
        weights = np.zeros(net.n_edges)
        starts = np.concatenate([[1], 1 + np.cumsum(widths)])
        gates = []
        for layer in range(1, len(widths)):
            lower = np.arange(starts[layer - 1], starts[layer])
            nodes = np.arange(starts[layer], starts[layer + 1])
            is_gate = rng.random(len(nodes)) < p
            fans = np.where(is_gate, fan, 1)
            senders = self._wire(rng, lower, fans)
            for node, g, snd in zip(nodes, is_gate, senders):
                lo, hi = net.in_start[node], net.in_start[node + 1]
                m = hi - lo
                edge_of = {int(s): e for e, s in zip(range(lo, hi), net.senders[lo:hi])}
                signs = rng.choice((-1.0, 1.0), size=len(snd))
                if g:
                    mag = np.sqrt(m / 3.0)
                    for s, sg in zip(snd, signs):
                        weights[edge_of[s]] = sg * mag
                    if kind == "andor":
                        bias_sign = rng.choice((-1.0, 1.0))
                        weights[edge_of[0]] = bias_sign * mag
                        op = "AND" if bias_sign > 0 else "OR"
                    else:
                        op = "MAJ"
                    gates.append(Gate(int(node), op, tuple(int(s) for s in snd), tuple(bool(x < 0) for x in signs)))
                else:
                    weights[edge_of[snd[0]]] = signs[0] * np.sqrt(m)
                    gates.append(Gate(int(node), "COPY", (int(snd[0]),), (bool(signs[0] < 0),)))
        self.network = net
        self.gates = gates
        self.model = Model(net, weights, input_names=[f"x{j}" for j in range(widths[0])],
                           output_names=[f"y{j}" for j in range(widths[-1])], name=self.name)

    @staticmethod
    def _wire(rng, lower, fans):
        """Senders for each node (distinct within a node), covering every lower node when the slots
        allow: slots are visited in random order and each takes an unused lower node it does not have
        yet if there is one."""
        slots = [(i, k) for i, f in enumerate(fans) for k in range(f)]
        order = rng.permutation(len(slots))
        chosen = [[] for _ in fans]
        unused = set(int(x) for x in lower)
        for idx in order:
            i = slots[idx][0]
            fresh = [x for x in lower if int(x) in unused and int(x) not in chosen[i]]
            pool = fresh or [x for x in lower if int(x) not in chosen[i]]
            pick = int(rng.choice(pool))
            chosen[i].append(pick)
            unused.discard(pick)
        return [sorted(c) for c in chosen]

    @property
    def name(self) -> str:
        return f"teacher_{self.kind}_{'-'.join(map(str, self.widths))}_p{self.p:g}_s{self.seed}"

    def __repr__(self):
        return f"RandomLogicTeacher(widths={self.widths}, kind={self.kind!r}, p={self.p}, seed={self.seed})"

    def sample(self, n_items: int, seed: int = 0) -> Dataset:
        """``n_items`` uniformly random +-1 inputs and the teacher's outputs."""
        if not isinstance(n_items, (int, np.integer)) or n_items < 1:
            raise BtfError(f"n_items must be a positive integer, got {n_items!r}")
        rng = np.random.default_rng(seed)
        x = rng.choice((-1.0, 1.0), size=(int(n_items), self.widths[0]))
        return Dataset(x, self.model.predict(x), input_names=list(self.model.input_names),
                       output_names=list(self.model.output_names), name=self.name)

    def counts(self) -> dict:
        """How many nodes of each op the teacher has."""
        out = {}
        for g in self.gates:
            out[g.op] = out.get(g.op, 0) + 1
        return out

    def default_arch(self) -> str:
        return "-".join(map(str, self.widths))
