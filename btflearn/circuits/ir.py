"""The logic-network IR: a majority-inverter graph extended with MAJ5, integer threshold gates and XOR2.

Signals are *literals* (the AIGER convention): ``2 * node + complement``. Node 0 is the constant False,
so literal 0 is False and literal 1 is True; nodes ``1..n_inputs`` are the primary inputs (the same
numbering as a btflearn model), and gate ``g`` is node ``1 + n_inputs + g``. Gates are kept in a
topological order (every fanin is an earlier node). NOT is never a gate: it is the complement bit of a
literal, so an inverter costs nothing.

A gate is one of two operations:

* ``"thr"``: a threshold gate with positive integer weights over literals, in the +-1 domain of the
  model: the output is True iff ``sum_i w_i * v_i > 0`` where ``v_i`` is +1 if literal i is True and -1
  otherwise (a zero sum is False, as in the model). MAJ3 is ``thr`` with three unit weights;
  AND(a, b) = MAJ(0, a, b) and OR(a, b) = MAJ(1, a, b) are MAJ3 gates with a constant fanin; MAJ5 has
  five unit weights; a one-fanin ``thr`` is a buffer (``simplify`` removes those).
* ``"xor"``: the exclusive or of two literals (it is not a threshold function; readers and ABC results
  use it; extraction never makes one).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from ..errors import BtfError

CONST0 = 0  # literal of constant False
CONST1 = 1  # literal of constant True

# Gate kinds reported by ``Gate.kind`` (and counted by ``stats``).
KINDS = ("and", "or", "xor", "maj3", "maj5", "thr", "buf")


def lit(node: int, complement: bool = False) -> int:
    return 2 * int(node) + int(bool(complement))


def node_of(literal: int) -> int:
    return int(literal) >> 1


def is_complement(literal: int) -> bool:
    return bool(int(literal) & 1)


def negate(literal: int) -> int:
    return int(literal) ^ 1


def is_const(literal: int) -> bool:
    return int(literal) < 2


@dataclass(frozen=True)
class Gate:
    op: str                    # "thr" or "xor"
    fanins: tuple              # literals
    weights: tuple = ()        # positive ints, one per fanin ("thr" only)

    def __post_init__(self):
        if self.op == "xor":
            if len(self.fanins) != 2 or self.weights:
                raise BtfError("an xor gate has two fanins and no weights")
        elif self.op == "thr":
            if not self.fanins or len(self.weights) != len(self.fanins):
                raise BtfError("a threshold gate needs one positive weight per fanin")
            if not all(type(w) is int and w > 0 for w in self.weights):  # fast path: plain ints
                try:
                    ints = tuple(int(w) for w in self.weights)
                except (TypeError, ValueError):
                    ints = None
                if ints is None or any(i != w or i <= 0 for i, w in zip(ints, self.weights)):
                    raise BtfError(f"threshold weights must be positive integers, got {self.weights}")
                object.__setattr__(self, "weights", ints)
        else:
            raise BtfError(f"unknown gate operation {self.op!r}")

    @property
    def kind(self) -> str:
        """and / or / xor / maj3 / maj5 / thr / buf (see the module docstring)."""
        if self.op == "xor":
            return "xor"
        n = len(self.fanins)
        if n == 1:
            return "buf"
        unit = len(set(self.weights)) == 1
        if n == 3 and unit:
            consts = [f for f in self.fanins if is_const(f)]
            if len(consts) == 1:
                return "and" if consts[0] == CONST0 else "or"
            if not consts:
                return "maj3"
        if n == 5 and unit:
            return "maj5"
        return "thr"

    def inputs(self) -> list:
        """The non-constant fanin literals."""
        return [f for f in self.fanins if not is_const(f)]

    def threshold01(self):
        """The gate as a 0/1 threshold function over its non-constant fanin literals:
        (literals, weights, T) with output = [sum of weights of true literals >= T] (constants folded)."""
        if self.op != "thr":
            raise BtfError("threshold01 applies to threshold gates only")
        total = sum(self.weights)
        t = total // 2 + 1  # sum w v > 0  <=>  2 sum_{true} w - W > 0  <=>  sum_{true} w >= floor(W/2) + 1
        lits, ws = [], []
        for f, w in zip(self.fanins, self.weights):
            if f == CONST1:
                t -= w
            elif f != CONST0:
                lits.append(f)
                ws.append(int(w))
        return lits, ws, t

    def evaluate(self, values: dict) -> bool:
        """Value of the gate given a dict node -> bool (slow; for tests and small tables)."""
        def val(f):
            return (False if node_of(f) == 0 else values[node_of(f)]) ^ is_complement(f)
        if self.op == "xor":
            return val(self.fanins[0]) ^ val(self.fanins[1])
        return sum(w if val(f) else -w for f, w in zip(self.fanins, self.weights)) > 0


@dataclass
class LogicNetwork:
    """A gate-level network: inputs, gates in topological order, output literals and port names."""
    n_inputs: int
    input_names: list = None
    output_names: list = field(default_factory=list)
    name: str = "circuit"
    gates: list = field(default_factory=list)
    outputs: list = field(default_factory=list)

    def __post_init__(self):
        if self.input_names is None:
            self.input_names = [f"x{j}" for j in range(self.n_inputs)]
        if len(self.input_names) != self.n_inputs:
            raise BtfError("input_names do not match n_inputs")

    # -- sizes and nodes ---------------------------------------------------------------------------
    @property
    def n_outputs(self) -> int:
        return len(self.outputs)

    @property
    def n_gates(self) -> int:
        return len(self.gates)

    @property
    def n_nodes(self) -> int:
        return 1 + self.n_inputs + len(self.gates)

    @property
    def first_gate(self) -> int:
        return 1 + self.n_inputs

    def input_lit(self, j: int) -> int:
        return lit(1 + j)

    def gate_of(self, node: int) -> Gate:
        return self.gates[node - self.first_gate]

    def is_gate(self, node: int) -> bool:
        return node >= self.first_gate

    # -- construction ------------------------------------------------------------------------------
    def add_gate(self, gate: Gate) -> int:
        """Append a gate (its fanins must be existing nodes) and return its literal."""
        limit = self.n_nodes
        for f in gate.fanins:
            if not 0 <= node_of(f) < limit:
                raise BtfError(f"gate fanin literal {f} refers to a node that does not exist yet")
        self.gates.append(gate)
        return lit(self.n_nodes - 1)

    def add_and(self, a: int, b: int) -> int:
        return self.add_gate(Gate("thr", (CONST0, a, b), (1, 1, 1)))

    def add_or(self, a: int, b: int) -> int:
        return self.add_gate(Gate("thr", (CONST1, a, b), (1, 1, 1)))

    def add_xor(self, a: int, b: int) -> int:
        return self.add_gate(Gate("xor", (a, b)))

    def add_maj(self, *lits: int) -> int:
        if len(lits) % 2 != 1:
            raise BtfError("a majority gate needs an odd number of fanins")
        return self.add_gate(Gate("thr", tuple(lits), (1,) * len(lits)))

    def add_threshold(self, lits, weights) -> int:
        return self.add_gate(Gate("thr", tuple(int(x) for x in lits), tuple(int(w) for w in weights)))

    def add_output(self, literal: int, name: str | None = None) -> None:
        if not 0 <= node_of(literal) < self.n_nodes:
            raise BtfError(f"output literal {literal} refers to a node that does not exist")
        self.outputs.append(int(literal))
        self.output_names.append(name if name is not None else f"y{len(self.outputs) - 1}")

    # -- structure ---------------------------------------------------------------------------------
    def levels(self) -> list:
        """Logic level of every node: 0 for constants and inputs, 1 + max over fanins for gates."""
        level = [0] * self.n_nodes
        for g, gate in enumerate(self.gates):
            level[self.first_gate + g] = 1 + max((level[node_of(f)] for f in gate.fanins), default=0)
        return level

    def depth(self) -> int:
        level = self.levels()
        return max((level[node_of(o)] for o in self.outputs), default=0)

    def fanout_counts(self) -> list:
        count = [0] * self.n_nodes
        for gate in self.gates:
            for f in gate.fanins:
                count[node_of(f)] += 1
        for o in self.outputs:
            count[node_of(o)] += 1
        return count

    def validate(self) -> None:
        """Raise BtfError unless the network is well formed (topological, ports consistent)."""
        if len(self.output_names) != len(self.outputs):
            raise BtfError("output_names do not match the outputs")
        for g, gate in enumerate(self.gates):
            node = self.first_gate + g
            for f in gate.fanins:
                if not 0 <= node_of(f) < node:
                    raise BtfError(f"gate node {node} has fanin literal {f} that is not an earlier node")
        for o in self.outputs:
            if not 0 <= node_of(o) < self.n_nodes:
                raise BtfError(f"output literal {o} refers to a node that does not exist")
        names = list(self.input_names) + list(self.output_names)
        if len(set(self.input_names)) != len(self.input_names) or \
                len(set(self.output_names)) != len(self.output_names):
            raise BtfError(f"port names must be unique: {names}")
        if set(self.input_names) & set(self.output_names):
            raise BtfError("a port cannot be both an input and an output: "
                           f"{sorted(set(self.input_names) & set(self.output_names))}")

    def copy(self) -> "LogicNetwork":
        return LogicNetwork(self.n_inputs, list(self.input_names), list(self.output_names), self.name,
                            list(self.gates), list(self.outputs))

    def like(self) -> "LogicNetwork":
        """An empty network with the same inputs, name and no outputs."""
        return LogicNetwork(self.n_inputs, list(self.input_names), [], self.name)

    def __repr__(self) -> str:
        return (f"LogicNetwork({self.name!r}: {self.n_inputs} inputs, {len(self.gates)} gates, "
                f"{len(self.outputs)} outputs)")


def sweep(net: LogicNetwork) -> LogicNetwork:
    """Drop gates that reach no output (renumbering the rest)."""
    live = [False] * net.n_nodes
    for o in net.outputs:
        live[node_of(o)] = True
    for node in range(net.n_nodes - 1, net.first_gate - 1, -1):
        if live[node]:
            for f in net.gate_of(node).fanins:
                live[node_of(f)] = True
    out = net.like()
    mapping = list(range(0, 2 * net.first_gate, 2))
    for g, gate in enumerate(net.gates):
        node = net.first_gate + g
        if live[node]:
            mapping.append(out.add_gate(Gate(gate.op, tuple(mapping[node_of(f)] ^ (f & 1) for f in gate.fanins),
                                             gate.weights)))
        else:
            mapping.append(None)
    for o, name in zip(net.outputs, net.output_names):
        out.add_output(mapping[node_of(o)] ^ (o & 1), name)
    return out
