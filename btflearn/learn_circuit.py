"""The circuit of what ``btflearn.learn`` chose: one candidate network or a majority of several
(``Candidate`` objects: ``model``, ``inputs``, ``constant``, ``predict``), placed on the full input list
and checked against the members' own predictions; a wrong circuit is an error, never a result."""
from __future__ import annotations

import numpy as np

from .coarsen import reads_only_inputs
from .dataset import Dataset
from .errors import BtfError

MAX_TABLE_INPUTS = 16     # a circuit reading at most this many inputs is built on their whole truth table
MAX_EXTRACT_TABLE_INPUTS = 12  # extracted over that table too when it reads at most this many
MAX_EXTRACT_TABLE_NODES = 300  # and its networks have at most this many BTF nodes in all (a Shannon
                               # split of 64 cofactors has 2000: 25 s to extract, 57,128 ANDs; BDD 660)
TABLE_RESUB_S = 8.0       # seconds of resubstitution for such a circuit
ANDS_PER_FINE_INPUT = 40  # a gate on the inputs with fine (not integer) weights is 42-97 AND nodes per
                          # input as extracted (196 inputs: 8000-16,500; 32-40 inputs: 2300-3100)
ANDS_PER_WEIGHT_BIT = 6   # an integer gate is 6.1-6.6 AND nodes per set bit of its |w| (its adder: a
                          # full adder is 7 ANDs and takes one bit off a column; 8-leaf pixel splits)


def majority(preds: list) -> np.ndarray:
    return np.where(np.sum(preds, axis=0) > 0, 1.0, -1.0)


def candidate_network(c, target, patterns: np.ndarray) -> list:
    """Add the circuit of candidate ``c`` (extracted over ``patterns``, the full-width +-1 items) to the
    LogicNetwork ``target`` (all inputs); returns its output literals."""
    from .circuits.extract import extract
    from .circuits.ir import CONST0, CONST1
    from .circuits.simplify import simplify
    if c.model is None:
        return [CONST1 if v > 0 else CONST0 for v in c.constant]
    sub = np.unique(patterns[:, c.inputs], axis=0)
    net = simplify(extract(c.model, sub).network)
    return embed(net, target, [target.input_lit(int(j)) for j in c.inputs])


def embed(net, target, input_literals) -> list:
    """Copy the gates of ``net`` into ``target`` with net's input j driven by ``input_literals[j]``;
    returns the literals of net's outputs in ``target``."""
    from .circuits.ir import Gate
    mapping = [0] + list(input_literals)
    for gate in net.gates:
        fanins = tuple(mapping[f >> 1] ^ (f & 1) for f in gate.fanins)
        mapping.append(target.add_gate(Gate(gate.op, fanins, gate.weights)))
    return [mapping[o >> 1] ^ (o & 1) for o in net.outputs]


def build_circuit(members: list, data_like: Dataset, patterns: np.ndarray, name: str):
    """The checked LogicNetwork of one candidate or a majority of an odd number of them."""
    from .circuits.ir import LogicNetwork
    from .circuits.simplify import simplify
    net = LogicNetwork(data_like.n_inputs, list(data_like.input_names), [], name)
    outs = [candidate_network(c, net, patterns) for c in members]
    for j, oname in enumerate(data_like.output_names):
        lits = [o[j] for o in outs]
        net.add_output(lits[0] if len(lits) == 1 else net.add_maj(*lits), oname)
    return simplify(net)


def read_inputs(members: list) -> list:
    """The inputs some member's network reads through an edge of nonzero weight, in the order the
    members list them (most relevant first). A split whose cofactors are all constants reads only
    its select inputs, and a sparse gate only the inputs it kept."""
    used = []
    for c in members:
        if c.model is not None:
            net, w = c.model.network, c.model.weights
            from_input = (net.senders > 0) & (net.senders <= net.n_inputs)
            live = set((net.senders[from_input & (w != 0)] - 1).tolist())
            used += [int(j) for k, j in enumerate(c.inputs) if k in live and int(j) not in used]
    return used


def table_circuit(members: list, data_like: Dataset, name: str, time_limit: float, max_ands: int | None = None):
    """The circuit of ``members`` (one candidate or a majority) built on the complete truth table of
    the inputs they read (at most MAX_TABLE_INPUTS), so that it computes the same function everywhere,
    unseen inputs included: the table's BDD (btflearn.circuits.bdd) or, on at most
    MAX_EXTRACT_TABLE_INPUTS inputs and MAX_EXTRACT_TABLE_NODES nodes, the extracted networks if
    smaller, then shrunk by care-set resubstitution on that table (which checks its result on every
    pattern) when the circuit is within ``max_ands`` (a few seconds of it do not bring a BDD of
    thousands of gates under the cap: ex89's 9007 ANDs stayed 9007 after 3.5 s). Returns (circuit,
    its AND count), or None when the members read too many inputs."""
    from .circuits.bdd import table_literal
    from .circuits.ir import LogicNetwork
    from .circuits.resub import resubstitute
    from .circuits.simulate import all_patterns
    used = read_inputs(members)
    if len(used) > MAX_TABLE_INPUTS:
        return None
    table = np.full((1 << len(used), data_like.n_inputs), -1.0)
    table[:, used] = np.where(all_patterns(len(used)), 1.0, -1.0)
    expected = vote(members, table)
    net = LogicNetwork(data_like.n_inputs, list(data_like.input_names), [], name)
    for j, oname in enumerate(data_like.output_names):
        net.add_output(table_literal(expected[:, j] > 0, net, [net.input_lit(i) for i in used]), oname)
    ands = and_count(net)   # counting converts to an AIG: seconds on thousands of gates, so once each
    nodes = sum(c.model.network.n_btf for c in members if c.model is not None)
    if len(used) <= MAX_EXTRACT_TABLE_INPUTS and nodes <= MAX_EXTRACT_TABLE_NODES:  # 2^16 patterns: 17 s
        extracted = build_circuit(members, data_like, table, name)
        extracted_ands = and_count(extracted)
        if extracted_ands < ands:
            net, ands = extracted, extracted_ands
    check_circuit(net, members, table)
    if time_limit > 0 and (max_ands is None or ands <= max_ands):
        net, _ = resubstitute(net, table, expected, time_limit=time_limit)
        ands = and_count(net)
    return net, ands


def gate_ands(members: list) -> int:
    """A cheap lower estimate of the AND nodes of the members' gates on the inputs: ANDS_PER_FINE_INPUT
    per input of a gate with fine weights, ANDS_PER_WEIGHT_BIT per set bit of an integer gate's |w|
    (its adder). Extracting a wide gate takes seconds, so a candidate this estimate puts over the cap
    is passed over without being built. 0 for members read on their truth table (``table_circuit``),
    whose circuit does not grow with the weights."""
    if len(read_inputs(members)) <= MAX_TABLE_INPUTS:
        return 0
    ands = 0
    for c in members:
        if c.model is None:
            continue
        net, w = c.model.network, c.model.weights
        for node in range(net.first_btf, net.n_nodes):
            lo, hi = net.in_start[node], net.in_start[node + 1]
            if not reads_only_inputs(net, node):
                continue
            real = w[lo:hi][net.senders[lo:hi] != 0]
            if np.any(real != np.round(real)):
                ands += ANDS_PER_FINE_INPUT * len(real)
            else:
                ands += ANDS_PER_WEIGHT_BIT * sum(bin(int(abs(v))).count("1") for v in real)
    return ands


def and_count(net) -> int:
    from .circuits.decompose import to_aig
    return to_aig(net).n_gates


def vote(members: list, patterns: np.ndarray) -> np.ndarray:
    """The prediction of one candidate, or the majority of several, on ``patterns``."""
    preds = [m.predict(patterns) for m in members]
    return preds[0] if len(preds) == 1 else majority(preds)


def check_circuit(net, members: list, patterns: np.ndarray) -> np.ndarray:
    """The members' (majority) prediction on ``patterns``; BtfError unless the circuit reproduces it."""
    from .circuits.simulate import simulate
    expected = vote(members, patterns)
    got = simulate(net, patterns)
    if not np.array_equal(got, expected):
        raise BtfError("internal error: the circuit differs from the learned model on its items")
    return expected


def circuit_of(members: list, data_like: Dataset, patterns: np.ndarray, time_left: float,
               max_ands: int) -> tuple:
    """(circuit, AND count) of ``members``: on the truth table of the inputs they read when it is small
    enough (``table_circuit``), else extracted over ``patterns`` (the full-width items). A circuit within
    ``max_ands`` has been checked against the members on ``patterns``."""
    # resubstitution's own setup and the conversion of its result take about as long again as its
    # passes on a circuit of thousands of gates, and later candidates need time too
    resub_s = min(time_left / 4, TABLE_RESUB_S)
    built = table_circuit(members, data_like, data_like.name, resub_s if resub_s >= 1.0 else 0.0, max_ands)
    if built is None:
        net = build_circuit(members, data_like, patterns, data_like.name)
        built = net, and_count(net)
    if built[1] <= max_ands:
        check_circuit(built[0], members, patterns)
    return built
