"""Minimisation between "solved" and "circuit": make an exact model sparse while keeping it exact.

A read-out is exact long before the margins converge, so its nodes are wide threshold gates. Logic
passes re-express every node, one at a time, as the cheapest small gate that keeps the whole network
exact on every training item:

* care set: node n only matters on the items where flipping its value changes an output (items are
  independent, so one forward pass with n flipped on every item gives them all). On the other items (and
  on input patterns that never occur) its value is free: a don't-care;
* cheapest gate: over the nodes below n that are still used, the inputs and the constant, the cheapest
  (in 2-input gates) of constant, COPY/NOT, AND/OR of 2-4 literals, MAJ3, a threshold gate of 3-4
  inputs with small integer weights, MAJ5, that agrees with the node on its care items (support at most 5,
  the gates the sparsity theorem promises for a large margin);
* failing that, the node stays a threshold gate, the narrower of: its own gate minus every in-edge it
  can lose without leaving its care items (smallest |w| first), and a new gate over the nodes below it,
  the sparse separator of its care items (btflearn.separator: a reweighted-L1 linear program, which can
  trade many small weights for a few other inputs; complete truth tables only); when no node gets
  cheaper, the widest nodes are removed outright where all their readers can do without them;
* dead nodes (no path to an output) drop out and give their senders more don't-cares; passes over the
  nodes, outputs first, repeat until nothing changes or the time budget is spent.

Around the passes, RRR continues warm (``btflearn.fit(init=...)``): first the solved network with a larger
margin (sigma 3), then the sparse network in short runs; every exact read-out is minimised again and the
smallest circuit (2-input gates by btflearn's own decomposition) is kept.

Every accepted step is checked with a forward pass on every item; the returned model reproduces the data
exactly (a model that does not, on input, is an error).
"""
from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field

import numpy as np

from .errors import BtfError
from .gate_search import find_and, find_maj3, find_maj5, find_threshold
from .model import Model
from .network import Network

DEFAULT_TIME_LIMIT = 60.0   # seconds; the 3x3 multiplier finishes in a few
MAX_SUPPORT = 5             # widest gate (inputs, constant included) the search builds
MAJ5_BUDGET = 20000         # search nodes spent looking for one MAJ5
RESOLVE_SIGMAS = (8.0,)     # margin parameters of the warm RRR continuations of the sparse net, in turn
ANNEAL_SIGMAS = (3.0, 4.0, 5.0)  # the first continuation (the solved, dense network): these margins in turn
ANNEAL_ITERATIONS = 20000
RESOLVE_CHUNK = 5000        # iterations per continuation
RESOLVE_GAMMA = 1e-4        # metric rate of the continuations
ANCHORS = 2048              # sampled data: random patterns on which the read-out's answers are kept
CONE_INPUTS = 8             # an output that reads at most this many inputs is anchored on all their patterns

# AIG-style cost of each gate kind (2-input ANDs, NOT free): what the search minimises
COST = {"const": 0, "copy": 0, "and2": 1, "and3": 2, "and4": 3, "maj3": 4, "thr3": 4, "thr4": 6, "maj5": 12}
WIDE = 1000                 # cost floor of a general threshold gate (per input on top)


@dataclass
class SparsifyReport:
    seconds: float
    passes: int
    edges_before: int
    edges_after: int
    gates_before: dict
    gates_after: dict
    alive_before: int
    alive_after: int
    stopped: str                      # "converged" or "time limit"
    steps: list = field(default_factory=list)   # one dict per pass
    max_support: int = 0              # widest used node after: nonzero in-edges, the bias edge counted
    anchors: int = 0                  # random patterns on which the read-out's answers were kept
    validation: dict | None = None    # how choose_anchors decided (None: not asked to)

    def to_dict(self) -> dict:
        return {k: getattr(self, k) for k in ("seconds", "passes", "edges_before", "edges_after", "gates_before",
                                              "gates_after", "alive_before", "alive_after", "stopped", "steps",
                                              "max_support", "anchors", "validation")}

    def summary(self) -> str:
        def kinds(d):
            return ", ".join(f"{k} {v}" for k, v in sorted(d.items()) if v)
        return (f"minimised in {self.seconds:.1f} s ({self.passes} passes, {self.stopped}): used nodes "
                f"{self.alive_before} -> {self.alive_after}, edges with nonzero weight {self.edges_before} -> "
                f"{self.edges_after}; widest node {self.max_support} inputs (bias counted); gates "
                f"{kinds(self.gates_after)}")


@dataclass
class _Gate:
    kind: str           # const/copy/and2/and3/and4/maj3/maj5 or "thr"
    fanins: list        # node numbers (0 = the bias, value -1)
    weights: list       # real weights, one per fanin
    price: int | None = None   # 2-input gates of a small threshold gate (from its decomposition)

    @property
    def cost(self) -> int:
        if self.price is not None:
            return self.price
        if self.kind in COST:
            return COST[self.kind]
        return WIDE + sum(1 for f, w in zip(self.fanins, self.weights) if w != 0 and f != 0)


class _State:
    """The network as one gate per BTF node with the +-1 value of every node on every item."""

    def __init__(self, model: Model, inputs: np.ndarray, outputs: np.ndarray, separators=None):
        net = model.network
        self.n_nodes, self.n_inputs, self.first_btf, self.first_output = (
            net.n_nodes, net.n_inputs, net.first_btf, net.first_output)
        self.targets = outputs
        self.small_thresholds = True   # also search threshold gates of 3-4 inputs with small integer weights
        self._score = None             # cached (2-input gates, summed gate cost), see _score
        self.observability = True      # don't-cares also where a node's value cannot reach an output
        # sparse_separator answers by their problem, shared by the states of one minimisation: passes
        # and starts pose most problems again
        self.separators = {} if separators is None else separators
        self.gates = {}
        for n in range(net.first_btf, net.n_nodes):
            lo, hi = net.in_start[n], net.in_start[n + 1]
            w = model.weights[lo:hi]
            keep = [j for j in range(hi - lo) if w[j] != 0 or net.senders[lo + j] == 0]
            self.gates[n] = _Gate("thr", [int(net.senders[lo + j]) for j in keep], [float(w[j]) for j in keep])
        self.values = np.zeros((inputs.shape[0], net.n_nodes))
        self.values[:, 0] = -1.0
        self.values[:, 1:net.n_inputs + 1] = inputs
        self.forward(self.first_btf)

    def eval(self, gate: _Gate, values=None) -> np.ndarray:
        values = self.values if values is None else values
        return np.where(values[:, gate.fanins] @ np.asarray(gate.weights) > 0, 1.0, -1.0)

    def forward(self, start: int, values=None) -> np.ndarray:
        values = self.values if values is None else values
        for n in range(start, self.n_nodes):
            values[:, n] = self.eval(self.gates[n], values)
        return values

    def exact(self) -> bool:
        return np.array_equal(self.values[:, self.first_output:], self.targets)

    def alive(self) -> np.ndarray:
        """Nodes with a path to an output (inputs and the bias count as alive)."""
        alive = np.zeros(self.n_nodes, dtype=bool)
        alive[:self.first_btf] = True
        alive[self.first_output:] = True
        for n in range(self.n_nodes - 1, self.first_btf - 1, -1):
            if alive[n]:
                for f, w in zip(self.gates[n].fanins, self.gates[n].weights):
                    if w != 0:
                        alive[f] = True
        return alive

    def care(self, n: int) -> np.ndarray:
        """Items on which flipping node n changes some output."""
        if n >= self.first_output:
            care = np.zeros(self.values.shape[0], dtype=bool)
            # an output is its own care: every item; its flip changes later outputs too
            care[:] = True
            return care
        trial = self.values.copy()
        trial[:, n] = -trial[:, n]
        self.forward(n + 1, trial)
        return np.any(trial[:, self.first_output:] != self.values[:, self.first_output:], axis=1)


def _majority(lits, cols, kind, flip):
    fanins = [lits[j][0] for j in cols]
    weights = [float(lits[j][1]) * (-1.0 if flip else 1.0) for j in cols]
    return _Gate(kind, fanins, weights)


def _cheapest(state: _State, n: int, care: np.ndarray, usable: np.ndarray, budget: int):
    """The cheapest small gate for node n that agrees with its value on the care items, or None."""
    target = state.values[care, n] > 0
    if target.size == 0 or target.all() or not target.any():
        value = bool(target.all()) if target.size else True
        # True = sign(+1): the bias (-1) with weight -1; False: weight +1 (an input edge with weight 0
        # keeps the network's "one real input per node" rule)
        return _Gate("const", [0, 1], [-1.0 if value else 1.0, 0.0])
    if not state.observability:   # sampled data: a node is re-expressed over the inputs it learned to read
        own = np.zeros_like(usable)
        own[[f for f, w in zip(state.gates[n].fanins, state.gates[n].weights) if w != 0]] = True
        usable = usable & own
    nodes = [0] + [m for m in range(1, n) if usable[m]]
    # literals: (node, sign) for both polarities; the bias node has value -1 so (0, -1) is True
    lits = [(m, s) for m in nodes for s in (1, -1)]
    signs = np.array([s for _, s in lits], dtype=np.float64)
    lit_values = (state.values[care][:, [m for m, _ in lits]] * signs) > 0   # (P, K) literal truth
    for flip in (False, True):   # gate computes target (flip False) or its complement
        t = target ^ flip
        agree = lit_values == t[:, None]
        copy = np.flatnonzero(agree.all(axis=0))
        copy = [j for j in copy if lits[j][0] != 0]
        if copy:
            m, s = lits[copy[0]]
            return _Gate("copy", [0, m], [0.0, float(s) * (-1.0 if flip else 1.0)])
    best = None
    for flip in (False, True):
        t = target ^ flip
        real = [j for j, (m, _) in enumerate(lits) if m != 0]
        cols = find_and(lit_values[:, real], t, [lits[j] for j in real], min(4, MAX_SUPPORT - 1))
        if cols is not None:
            k = len(cols)
            # AND of k literals: sum of literals - (k - 1) > 0; the bias (-1) carries weight k - 1
            sign = -1.0 if flip else 1.0
            gate = _Gate(f"and{k}", [0] + [lits[real[j]][0] for j in cols],
                         [sign * (k - 1)] + [sign * lits[real[j]][1] for j in cols])
            if best is None or gate.cost < best.cost:
                best = gate
    if best is not None and best.cost <= COST["and2"]:
        return best
    agree = lit_values == target[:, None]
    if best is None or best.cost > COST["maj3"]:
        cols = find_maj3(agree)
        if cols is not None and len({lits[j][0] for j in cols}) == 3:
            gate = _majority(lits, cols, "maj3", False)
            if best is None or gate.cost < best.cost:
                best = gate
    if state.small_thresholds and (best is None or best.cost > 2):
        cand = _threshold_candidates(state, n, usable)
        for k, limit in ((3, 28), (4, 20)):
            if best is not None and best.cost <= k - 1:
                break
            found = find_threshold(state.values[care][:, cand[:limit]], target, k)
            if found is not None:
                cols, w, b, price = found
                gate = _Gate(f"thr{k}", [0] + [cand[c] for c in cols], [-float(b)] + [float(x) for x in w], price)
                if best is None or gate.cost < best.cost:
                    best = gate
    if best is None and MAX_SUPPORT >= 5:
        cols = find_maj5(agree, budget)
        if cols is not None and len({lits[j][0] for j in cols}) == 5:
            best = _majority(lits, cols, "maj5", False)
    return best


def _threshold_candidates(state: _State, n: int, usable: np.ndarray) -> list:
    """Nodes a small threshold gate for n may read, most promising first: n's own fanins by |w|, then
    the inputs, then the other used nodes (latest first)."""
    gate = state.gates[n]
    own = [f for _, f in sorted(((-abs(w), f) for f, w in zip(gate.fanins, gate.weights) if f != 0 and w != 0))]
    rest = [m for m in range(1, state.first_btf) if m not in own and usable[m]]
    rest += [m for m in range(n - 1, state.first_btf - 1, -1) if usable[m] and m not in own]
    return own + rest


def _trim(state: _State, n: int, care: np.ndarray) -> _Gate | None:
    """The node's own threshold gate minus every in-edge it can lose without changing its care items."""
    gate = state.gates[n]
    want = state.values[care, n]
    weights = list(gate.weights)
    order = sorted((j for j, f in enumerate(gate.fanins) if f != 0 and weights[j] != 0),
                   key=lambda j: abs(weights[j]))
    changed = False
    for j in order:
        if sum(1 for i, f in enumerate(gate.fanins) if f != 0 and weights[i] != 0) <= 1:
            break
        old = weights[j]
        weights[j] = 0.0
        trial = _Gate("thr", gate.fanins, weights)
        if np.array_equal(state.eval(trial, state.values[care]), want):
            changed = True
        else:
            weights[j] = old
    if not changed:
        return None
    keep = [j for j, f in enumerate(gate.fanins) if weights[j] != 0 or f == 0]
    return _Gate("thr", [gate.fanins[j] for j in keep], [weights[j] for j in keep])


def _refit(state: _State, n: int, care: np.ndarray, usable: np.ndarray) -> _Gate | None:
    """A new threshold gate for node n over the used nodes below it with few inputs, agreeing with the
    node on its care items (the sparse separator of btflearn.separator), or None."""
    from .separator import sparse_separator
    if not state.observability:
        # sampled data: a new gate also decides every unseen input, and did so worse (3-layer AND/OR
        # teacher, N=128: 77.1% per-bit on test items with re-fits vs 78.5% without, read-out 79.6%)
        return None
    cands = [0] + [m for m in range(1, n) if usable[m]]
    rows, target = state.values[care][:, cands], state.values[care, n]
    key = hashlib.blake2b(np.asarray(rows.shape).tobytes() + np.packbits(rows > 0).tobytes()
                          + np.packbits(target > 0).tobytes(), digest_size=16).digest()
    if key not in state.separators:   # an LP takes 1-2 s at a thousand rows; most recur unchanged
        state.separators[key] = sparse_separator(rows, target, bias=0)
    w = state.separators[key]
    if w is None:
        return None
    keep = [j for j, m in enumerate(cands) if w[j] != 0 or m == 0]
    return _Gate("thr", [cands[j] for j in keep], [float(w[j]) for j in keep])


def gate_kinds(model: Model, alive_only: bool = True) -> dict:
    """Counts of the gate kinds of a model's nodes as sparsify classifies them (used nodes only)."""
    state = _State(model, np.zeros((1, model.network.n_inputs)) - 1, np.zeros((1, model.network.n_outputs)))
    return _kinds(state, state.alive() if alive_only else None)


def _kinds(state: _State, alive=None) -> dict:
    out = {}
    for n, gate in state.gates.items():
        if alive is not None and not alive[n]:
            continue
        kind = gate.kind
        if kind == "thr":
            kind = f"thr{sum(1 for w in gate.weights if w != 0)}"
        out[kind] = out.get(kind, 0) + 1
    return out


def _edges(state: _State, alive) -> int:
    return sum(sum(1 for w in g.weights if w != 0) for n, g in state.gates.items() if alive[n])


def _cost(state: _State, alive=None) -> int:
    alive = state.alive() if alive is None else alive
    return sum(g.cost for n, g in state.gates.items() if alive[n])


def _logic_passes(state: _State, deadline, max_passes: int, progress, log: list, stage: str) -> bool:
    """Re-express the used nodes, outputs first, until a pass changes nothing; False if out of time."""
    state._score = None
    for _ in range(max_passes):
        changed = 0
        for n in range(state.n_nodes - 1, state.first_btf - 1, -1):
            if deadline is not None and time.perf_counter() > deadline:
                return False
            alive = state.alive()
            if not alive[n]:
                continue
            care = state.care(n) if state.observability else np.ones(state.values.shape[0], dtype=bool)
            gate = _cheapest(state, n, care, alive, MAJ5_BUDGET)
            if (gate is None or gate.cost >= state.gates[n].cost) and state.gates[n].kind == "thr":
                wide = [g for g in (_trim(state, n, care), _refit(state, n, care, alive)) if g is not None]
                gate = min(wide, key=lambda g: g.cost, default=None)
            if gate is None or gate.cost >= state.gates[n].cost:
                continue
            old_gate, old_values = state.gates[n], state.values.copy()
            state.gates[n] = gate
            state.forward(n)
            if state.exact():
                changed += 1
            else:   # cannot happen by the care-set argument; kept as the guard that makes it a guarantee
                state.gates[n], state.values = old_gate, old_values
        if changed == 0:   # no single node gets cheaper: try removing the widest nodes outright
            for n in sorted((m for m, g in state.gates.items() if g.cost >= WIDE and state.alive()[m]),
                            key=lambda m: -state.gates[m].cost):
                if deadline is not None and time.perf_counter() > deadline:
                    return False
                changed += _eliminate(state, n)
        _note(state, log, progress, stage, changed=changed)
        if changed == 0:
            return True
    return True


def _eliminate(state: _State, n: int) -> int:
    """Re-express every reader of node n without it (the cheapest small gate, else its own gate minus
    the edge from n), keeping every item exact; keep the result if the used gates cost less. 1 if kept."""
    before = _cost(state)
    saved_gates, saved_values = dict(state.gates), state.values.copy()
    readers = [c for c in range(n + 1, state.n_nodes)
               if any(f == n and w != 0 for f, w in zip(state.gates[c].fanins, state.gates[c].weights))]
    for c in readers:
        alive = state.alive()
        if not alive[c]:
            continue
        usable = alive.copy()
        usable[n] = False
        care = state.care(c) if state.observability else np.ones(state.values.shape[0], dtype=bool)
        gate = _cheapest(state, c, care, usable, MAJ5_BUDGET)
        if gate is None:
            old = state.gates[c]
            weights = [0.0 if f == n else w for f, w in zip(old.fanins, old.weights)]
            trial = _Gate("thr", old.fanins, weights)
            if old.kind != "thr" or not np.array_equal(state.eval(trial, state.values[care]), state.values[care, c]):
                state.gates, state.values = saved_gates, saved_values
                return 0
            gate = trial
        state.gates[c] = gate
        state.forward(c)
    if state.exact() and not state.alive()[n] and _cost(state) < before:
        return 1
    state.gates, state.values = saved_gates, saved_values
    return 0


def _score(state: _State) -> tuple:
    """How a whole network is compared: 2-input gates (NOT free) of its simplified circuit by btflearn's
    own decomposition (circuits.stats), then the summed gate costs. Cached on the state."""
    if getattr(state, "_score", None) is None:
        from .circuits.extract import extract
        from .circuits.simplify import simplify
        from .circuits.stats import circuit_stats
        model = _to_model(state, None)
        net = simplify(extract(model, state.values[:, 1:state.n_inputs + 1]).network)
        state._score = (circuit_stats(net)["gates2"], _cost(state))
    return state._score


def _best_logic(model, inputs, targets, deadline, max_passes, progress, log, stage, observability=True,
                separators=None):
    """Logic passes from ``model`` with unit-weight gates only and with small threshold gates too (which
    one ends cheaper depends on the start); the cheaper state and whether the passes finished in time."""
    best = None
    for small in (False, True):
        state = _State(model, inputs, targets, separators)
        state.small_thresholds = small
        state.observability = observability
        finished = _logic_passes(state, deadline, max_passes, progress, log, stage + (" +thr" if small else ""))
        if best is None or _score(state) < _score(best[0]):
            best = (state, finished)
        if not finished:
            return best[0], False
    return best


def _note(state, log, progress, stage, **extra):
    alive = state.alive()
    step = {"stage": stage, "alive": int(alive[state.first_btf:].sum()), "edges": _edges(state, alive),
            "cost": _cost(state, alive), "gates": _kinds(state, alive), **extra}
    log.append(step)
    if progress is not None:
        progress(dict(step))


def sparsify(model: Model, dataset, time_limit: float | None = DEFAULT_TIME_LIMIT, progress=None,
             seed: int = 0, resolve: bool = True, sigmas=RESOLVE_SIGMAS, chunk: int = RESOLVE_CHUNK,
             patience: int = 4, backend: str = "auto", max_passes: int = 20,
             anneal: int = ANNEAL_ITERATIONS, observability: bool | None = None, anchors: int | None = None):
    """A sparse model equivalent to ``model`` on every item of ``dataset`` and a SparsifyReport.

    ``model`` must reproduce ``dataset`` exactly (sign readout, +-1 inputs). Two stages alternate:
    logic passes (every node re-expressed as the cheapest small gate that keeps every item exact, see the
    module docstring) and, with ``resolve``, a warm RRR continuation of the sparse network (``chunk``
    iterations at margin parameter sigma, cycling through ``sigmas``) whose exact read-out is minimised
    again and kept when its gates cost less. It stops after ``patience`` continuations in a row that did
    not help, or at ``time_limit`` seconds (None: no limit); the best model so far is returned.
    ``progress`` is called with a dict after every step; ``seed`` seeds the continuations.
    ``observability``: also treat as don't-cares the items on which a node's value does not reach an
    output. None (default): only for a complete truth table; on sampled data a node keeps its value on
    every training item, since a choice made there also decides unseen inputs (measured: with them, rule
    30 at 64 items lost test accuracy).
    ``anchors``: on sampled data, the minimised model must also give the read-out's answers on this many
    uniformly random input patterns (0: free wherever the items say nothing). Free minimisation found
    rule 30 exactly from a 99.75% read-out, and lost 1.1-1.7 points on the AND/OR teacher
    (docs/minimisation.md). Outputs that read at most CONE_INPUTS inputs are also anchored on every
    pattern of them (``anchored``). None (default): 0 on a complete truth table; on sampled data, when
    every output reads at most CONE_INPUTS inputs, anchored (the minimised model computes the read-out's
    function exactly); else chosen by validation (choose_anchors, half the time budget), then minimised
    on every item with the choice.
    """
    if getattr(model, "readout", "sign") != "sign" or dataset.readout != "sign":
        raise BtfError("sparsify needs sign readout: argmax outputs are not a Boolean circuit")
    inputs = np.asarray(dataset.inputs, dtype=np.float64)
    if not np.all(np.isin(inputs, (-1.0, 1.0))):
        raise BtfError("sparsify needs Boolean (+-1) inputs")
    if inputs.shape[1] != model.network.n_inputs or dataset.n_outputs != model.network.n_outputs:
        raise BtfError("the model and the dataset have different numbers of inputs or outputs")
    if time_limit is not None and not time_limit > 0:
        raise BtfError(f"time_limit must be positive, got {time_limit!r}")
    t0 = time.perf_counter()
    deadline = None if time_limit is None else t0 + time_limit
    if observability is None:
        n_in = inputs.shape[1]
        observability = n_in <= 24 and len({row.tobytes() for row in inputs > 0}) == 1 << n_in
    targets = np.asarray(dataset.outputs, dtype=np.float64)
    state = _State(model, inputs, targets)
    if not state.exact():
        raise BtfError("sparsify needs a model that reproduces every item of its data (it keeps it exact)")
    validation = None
    if anchors is None and observability:
        anchors = 0
    elif anchors is None and all(len(c) <= CONE_INPUTS for c in input_cones(model)):
        anchors = ANCHORS   # every output's function is kept whole: nothing for a validation to decide
    elif anchors is None:
        _note(state, [], progress, "validating free vs anchored")
        options = dict(resolve=resolve, sigmas=sigmas, chunk=chunk, patience=patience, backend=backend,
                       max_passes=max_passes, anneal=anneal)
        anchors, validation = choose_anchors(model, dataset, None if time_limit is None else time_limit / 2,
                                             seed, **options)
    if anchors:
        dataset = anchored(model, dataset, int(anchors), seed)
        inputs, targets = dataset.inputs, np.asarray(dataset.outputs, dtype=np.float64)
        state = _State(model, inputs, targets)
    alive = state.alive()
    report = SparsifyReport(0.0, 0, _edges(state, alive), 0, _kinds(state, alive),
                            {}, int(alive[state.first_btf:].sum()), 0, "converged", anchors=int(anchors),
                            validation=validation)
    if validation is not None:
        _note(state, report.steps, progress, "validation: " + ("anchored" if anchors else "free"), **validation)
    starts = [model]
    if resolve and anneal:
        from .solver import fit
        # at most a third of the budget: the logic passes are what must finish. The largest margin whose
        # continuation still ends exact becomes a second start.
        stop = None if deadline is None else time.perf_counter() + (deadline - time.perf_counter()) / 3
        for sigma in ANNEAL_SIGMAS:
            left = None if stop is None else stop - time.perf_counter()
            if left is not None and left < 0.5:
                break
            run = fit(dataset, arch=model.network, init=model, sigma=sigma, gamma=RESOLVE_GAMMA,
                      max_iter=anneal + 1, polish=anneal, gapstop=1e-9, seed=seed, time_limit=left,
                      backend=backend)
            exact = run.solved and run.iterations > anneal and np.array_equal(run.model.predict(inputs), targets)
            _note(state, report.steps, progress, f"anneal sigma {sigma:g}" + ("" if exact else ": lost exactness"))
            if exact:
                starts.append(run.model)
                break
    state, finished, separators = None, True, {}
    for start in starts:   # the solved model and its annealed continuation, each minimised; the cheaper wins
        trial, finished = _best_logic(start, inputs, targets, deadline, max_passes, progress, report.steps, "logic",
                                      observability, separators)
        if state is None or _score(trial) < _score(state):
            state = trial
        if not finished:
            break
    best, best_cost, best_state = _to_model(state, model), _score(state), state
    stale, k = 0, 0
    while resolve and finished and stale < patience:
        left = None if deadline is None else deadline - time.perf_counter()
        if left is not None and left < 0.5:
            finished = False
            break
        from .solver import fit
        sigma = float(sigmas[k % len(sigmas)])
        run = fit(dataset, arch=best.network, init=best, sigma=sigma, gamma=RESOLVE_GAMMA,
                  max_iter=chunk + 1, polish=chunk, gapstop=1e-9, seed=seed + k, time_limit=left,
                  backend=backend)
        k += 1
        if not run.solved or not np.array_equal(run.model.predict(inputs), targets):
            stale += 1
            _note(best_state, report.steps, progress, f"resolve sigma {sigma:g}: lost exactness", kept=False)
            continue
        trial, finished = _best_logic(run.model, inputs, targets, deadline, max_passes, progress, report.steps,
                                      f"resolve sigma {sigma:g}", observability, separators)
        cost = _score(trial)
        if cost < best_cost:
            best_state, best, best_cost, stale = trial, _to_model(trial, model), cost, 0
        else:
            stale += 1
    out = best
    if not np.array_equal(out.predict(inputs), targets):
        raise BtfError("internal error: the minimised model does not reproduce the data")
    final = best_state
    alive = final.alive()
    report.seconds = time.perf_counter() - t0
    report.passes = len(report.steps)
    report.edges_after = _edges(final, alive)
    report.gates_after = _kinds(final, alive)
    report.alive_after = int(alive[final.first_btf:].sum())
    report.max_support = max((sum(1 for w in g.weights if w != 0) for n, g in final.gates.items() if alive[n]),
                             default=0)
    report.stopped = "converged" if finished else "time limit"
    return out, report


def choose_anchors(model: Model, dataset, time_limit: float | None, seed: int = 0, **options) -> tuple:
    """Free or anchored minimisation, by validation: a fifth of the items held out, the rest minimised
    both ways (half of ``time_limit`` each); free wins when it gets at least as many held-out bits right.
    The anchored run has the advantage (the read-out that labels its anchors was fitted to the held-out
    items too), so free is chosen only where making the model sparse generalizes by itself. Returns
    (anchors, what was measured)."""
    n = dataset.n_items
    if n < 5:
        return ANCHORS, None  # too few items to hold any out
    held = np.random.default_rng([int(seed), 0x5EED]).permutation(n)[:n // 5]
    rest, check = dataset.subset(np.setdiff1d(np.arange(n), held)), dataset.subset(held)
    budget = None if time_limit is None else time_limit / 2
    right = {}
    for count in (0, ANCHORS):
        small, _ = sparsify(model, rest, time_limit=budget, seed=seed, anchors=count, observability=False,
                            **options)
        right[count] = small.accuracy(check)[0]
    chosen = 0 if right[0] >= right[ANCHORS] else ANCHORS
    return chosen, dict(held_out=len(held), free_per_bit=right[0], anchored_per_bit=right[ANCHORS])


def anchored(model: Model, dataset, count: int, seed: int = 0):
    """``dataset`` and ``count`` uniformly random +-1 input patterns labelled by ``model``'s read-out, and,
    for every output whose cone reads at most CONE_INPUTS inputs (``input_cones``), every pattern of
    those inputs: a model that keeps its answers there computes the read-out's function on that output."""
    from .circuits.simulate import all_patterns
    from .dataset import Dataset
    rng = np.random.default_rng([int(seed), 0xA2C4])
    n = model.network.n_inputs
    extra = [rng.choice((-1.0, 1.0), size=(int(count), n))]
    for cone in sorted({tuple(c) for c in input_cones(model) if len(c) <= CONE_INPUTS}):
        block = np.repeat(rng.choice((-1.0, 1.0), size=(1, n)), 1 << len(cone), axis=0)
        block[:, list(cone)] = np.where(all_patterns(len(cone)), 1.0, -1.0)
        extra.append(block)
    extra = np.vstack(extra)
    return Dataset(np.vstack([dataset.inputs, extra]), np.vstack([dataset.outputs, model.predict(extra)]),
                   dataset.input_mode, dataset.readout, list(dataset.input_names), list(dataset.output_names),
                   dataset.name)


def input_cones(model: Model) -> list:
    """Per output, the inputs (0-based, sorted) with a path of nonzero weights to it."""
    net = model.network
    reads = [[] for _ in range(net.n_nodes)]
    for r, s, w in zip(net.receivers.tolist(), net.senders.tolist(), model.weights.tolist()):
        if w != 0 and s > 0:
            reads[r].append(s)
    cones = []
    for out in range(net.first_output, net.n_nodes):
        seen, stack = {out}, [out]
        while stack:
            for s in reads[stack.pop()]:
                if s not in seen:
                    seen.add(s)
                    stack.append(s)
        cones.append(sorted(s - 1 for s in seen if 1 <= s <= net.n_inputs))
    return cones


def _tie_shift(state: _State, gate: _Gate) -> float:
    """What to add to a gate's bias weight so that no weighted sum on the items is 0. The state reads a
    sum of 0 as -1 (e.g. an OR whose bias was set for one more term than it kept); once the weights are
    scaled, rounding could read it either way. Half the smallest positive sum moves the zeros below 0
    and keeps every other sign (the bias input is -1)."""
    sums = state.values[:, gate.fanins] @ np.asarray(gate.weights)
    if not np.any(sums == 0):
        return 0.0
    positive = sums[sums > 0]
    return float(positive.min()) / 2 if positive.size else 0.5


def _to_model(state: _State, model: Model) -> Model:
    """A Model over the gates' edges (every node: the bias and its nonzero fanins; dead nodes a COPY of
    the first input), weights normalised to |w_n|^2 = m_n."""
    alive = state.alive()
    edges, weights = [], {}
    for n in range(state.first_btf, state.n_nodes):
        gate = state.gates[n] if alive[n] else _Gate("copy", [0, 1], [0.0, 1.0])
        pairs = {0: 0.0}
        for f, w in zip(gate.fanins, gate.weights):
            if w != 0 or f == 0:
                pairs[f] = pairs.get(f, 0.0) + w
        if len(pairs) == 1:          # a constant gate needs one real input edge
            pairs[1] = 0.0
        pairs[0] += _tie_shift(state, gate) if alive[n] else 0.0
        vec = np.array(list(pairs.values()))
        scale = np.sqrt(len(vec)) / np.linalg.norm(vec)
        for f, w in pairs.items():
            edges.append((n, f))
            weights[(n, f)] = w * scale
    arch = "sparse:" + model.network.arch if model is not None and model.network.arch else "sparse"
    net = Network.from_edges(state.n_nodes, state.n_inputs, state.n_nodes - state.first_output, edges, arch=arch)
    if model is None:
        return Model(net, np.array([weights[(int(r), int(s))] for r, s in zip(net.receivers, net.senders)]))
    w = np.array([weights[(int(r), int(s))] for r, s in zip(net.receivers, net.senders)])
    hyper = dict(model.hyperparameters or {})
    hyper["minimised"] = True
    return Model(net, w, list(model.input_names), list(model.output_names), model.readout, model.name, hyper,
                 model.seed, model.iterations)
