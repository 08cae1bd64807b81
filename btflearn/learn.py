"""Learning a circuit from a sample of a Boolean function (a training and a validation split, as in the
IWLS 2020 contest): BTF networks trained by ``btflearn.fit``, every choice made on validation accuracy.

Training on all items with a wide network is slow (cost grows with items x edges) and, on a function that
does not generalize, fits noise. So the learner
1. selects inputs greedily (the joint table that best predicts validation) and tries the top k of them;
2. trains a screen of networks (wide threshold gates, Shannon splits into one gate or one small
   network per cofactor, a layer of counting gates, deeper sparse nets) on the distinct patterns of
   those inputs, in time slices, keeping the weights of the slice with the best validation accuracy
   and stopping a run when validation has not improved for a few slices;
3. spends what is left of the budget on more seeds of the best setting, and takes a majority vote of the
   three best networks when that scores better on validation;
4. turns the winner into a circuit over all the inputs, checked against the model's own predictions on
   every training and validation item, and falls back to the next candidate when the circuit has more AND
   nodes than allowed. A constant (the majority output) is always a candidate.
"""
from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from .arch import parse_arch
from .dataset import Dataset
from .errors import BtfError
from .coarsen import coarsened
from .learn_circuit import circuit_of, gate_ands, vote
from .selection import select_inputs, strongest_interaction, table_accuracy

SLICE_S = 1.0             # shortest training slice between validation checks
PATIENCE = 6              # slices without a better validation accuracy before a run stops
RUN_PATIENCE = 6          # extra-seed runs without a better validation accuracy before the search stops
SIGNAL_Z = 3.0            # a model must beat the constant by this many standard errors of the validation
                          # accuracy, else the function is taken not to generalize and the search stops
MAX_ITER = 6000           # iterations of one run (its metric rate is 1 / MAX_ITER)
MAX_GATE_INPUTS = 256     # inputs of the widest single threshold gate tried
LINEAR_SIGMA = 300.0      # margin sqrt(m / sigma) small enough for exponential weights (comparators)
SELECTION_SHARE = 0.2     # share of the time limit for each of the two input selections
CIRCUIT_RESERVE = 0.12    # share of the time limit kept for building and checking the circuit
LEAF_INPUTS = 5           # a Shannon split leaves cofactors of this many inputs (32 patterns: fit in
SPLIT_K = (6, 11)         # a few hundred iterations), for tables of this many inputs (2-64 cofactors)
GATE_SPLIT = 3            # a split into one threshold gate per cofactor selects by this many inputs
WIDE_SIGMA = 10.0         # margin of a split's gates over all inputs (pixels: many weak inputs, no carry)


@dataclass
class Setting:
    """One kind of run: the top ``k`` inputs, hidden ``widths``, ``items`` training items."""
    k: int
    widths: tuple
    items: int
    sigma: float = 3.0
    dense: bool = False   # every layer sees every earlier one (skip connections)
    counting: bool = False  # start the hidden layer as counting gates (``counting_start``)
    split: int = 0          # one network per cofactor of the first ``split`` inputs (btflearn.shannon)

    def arch(self, n_out: int) -> str:  # no hidden widths: one threshold gate per output
        spec = "-".join(str(w) for w in (self.k - self.split, *self.widths, n_out))
        return "dense:" + spec if self.dense and self.widths else spec

    def describe(self, n_out: int = 1) -> str:
        start = " counting" if self.counting else ""
        split = f"split {self.split}: {1 << self.split} x " if self.split else ""
        return f"{split}{self.arch(n_out)}{start} n={self.items} s={self.sigma:g}"


@dataclass
class Candidate:
    """A trained model (over ``inputs``, columns of the full data) and its scores."""
    setting: Setting | None
    seed: int
    inputs: np.ndarray
    model: object = field(repr=False)   # a btflearn Model, or None for the constant candidate
    valid: float
    train: float
    iterations: int
    seconds: float
    constant: np.ndarray | None = None  # +-1 per output for the constant candidate
    levels: int | None = None           # weights rounded to integers of at most this size
    kept: int | None = None             # inputs kept per gate (btflearn.coarsen)
    cofactors: object = field(default=None, repr=False)  # a split's leaves (btflearn.shannon.Cofactors)

    def predict(self, inputs: np.ndarray) -> np.ndarray:
        if self.model is None:
            return np.tile(self.constant, (inputs.shape[0], 1))
        return self.model.predict(inputs[:, self.inputs])

    def label(self, n_out: int) -> str:
        if self.model is None:
            return "constant"
        rounded = f" |w|<={self.levels}" if self.levels else ""
        kept = f" {self.kept} in/gate" if self.kept else ""
        return f"{self.setting.describe(n_out)} seed {self.seed}{rounded}{kept}"


@dataclass
class LearnResult:
    network: object           # the LogicNetwork over all inputs
    members: list             # the Candidates voted (one for a single model)
    train_accuracy: float
    valid_accuracy: float
    ands: int
    seconds: float
    candidates: list          # every Candidate tried, best first
    settings: dict
    validation: str           # "given" or "held out N items of train"
    stopped: str              # why the search ended
    table_valid: float | None = None  # the selected inputs' table on validation: a yardstick, not a model

    def summary(self) -> dict:
        return {
            "inputs": self.network.n_inputs,
            "outputs": self.network.n_outputs,
            "train_accuracy": self.train_accuracy,
            "valid_accuracy": self.valid_accuracy,
            "ands": self.ands,
            "seconds": round(self.seconds, 2),
            "validation": self.validation,
            "stopped": self.stopped,
            "table_valid": self.table_valid,
            "chosen": [m.label(self.network.n_outputs) for m in self.members],
            "inputs_used": sorted({int(j) for m in self.members for j in m.inputs}),
            "settings": self.settings,
            "candidates": [dict(label=c.label(self.network.n_outputs), valid=c.valid, train=c.train,
                                iterations=c.iterations, seconds=round(c.seconds, 2))
                           for c in self.candidates],
        }


# -- pieces ------------------------------------------------------------------------------------------

def accuracy(pred: np.ndarray, data: Dataset) -> float:
    return float((pred == data.outputs).mean())


def constant_candidate(train: Dataset, valid: Dataset) -> Candidate:
    const = np.where(train.outputs.mean(axis=0) > 0, 1.0, -1.0)
    c = Candidate(None, 0, np.zeros(0, dtype=int), None, 0.0, 0.0, 0, 0.0, const)
    c.valid, c.train = accuracy(c.predict(valid.inputs), valid), accuracy(c.predict(train.inputs), train)
    return c


def columns(data: Dataset, inputs, rows=None) -> Dataset:
    rows = slice(None) if rows is None else rows
    return Dataset(data.inputs[rows][:, inputs], data.outputs[rows],
                   input_names=[data.input_names[j] for j in inputs], output_names=list(data.output_names),
                   name=data.name)


def distinct(data: Dataset) -> Dataset:
    """One item per distinct input pattern, labelled by the majority of its items (ties: True). On a few
    inputs this shrinks the training set a lot, and resolves contradictory items the way the best
    possible circuit over those inputs would."""
    patterns, inv = np.unique(data.inputs, axis=0, return_inverse=True)
    inv = inv.reshape(-1)
    votes = np.zeros((len(patterns), data.n_outputs))
    np.add.at(votes, inv, data.outputs)
    return Dataset(patterns, np.where(votes >= 0, 1.0, -1.0), input_names=list(data.input_names),
                   output_names=list(data.output_names), name=data.name)


def train_early_stopped(train: Dataset, valid: Dataset, setting: Setting, inputs, seed: int,
                        budget: float, workdir, slice_s: float = SLICE_S) -> Candidate:
    """One run of ``setting`` on the distinct patterns of the chosen ``inputs`` (a random ``items`` of
    them at most) in slices of at least ``slice_s`` seconds, keeping the weights with the best validation
    accuracy; stops when the run ends, ``budget`` seconds are spent (after one slice at least), or
    validation has not improved for PATIENCE slices."""
    from .solver import fit
    if setting.split:
        return train_split(train, valid, setting, inputs, seed, budget, workdir, slice_s)
    t0 = time.perf_counter()
    rng = np.random.default_rng([seed, setting.items, setting.k])
    sub = distinct(columns(train, inputs))
    if sub.n_items > setting.items:
        sub = sub.subset(np.sort(rng.permutation(sub.n_items)[:setting.items]))
    val_x = valid.inputs[:, inputs]
    arch = setting.arch(train.n_outputs)
    slice_s = max(slice_s, budget / 30)
    ckpt = Path(workdir) / f"run-{seed}-{setting.k}-{setting.items}.npz"
    ckpt.unlink(missing_ok=True)
    init = counting_start(parse_arch(arch), sub) if setting.counting else None
    best = None
    stale = 0
    resume = False
    while True:
        left = budget - (time.perf_counter() - t0)
        if best is not None and left <= 0.05:
            break
        result = fit(sub, arch=arch, sigma=setting.sigma, max_iter=MAX_ITER, seed=seed,
                     time_limit=max(min(slice_s, left), 0.05), checkpoint=ckpt, resume=resume,
                     checkpoint_every=1e9, init=None if resume else init)
        resume = True
        score = float((result.model.predict(val_x) == valid.outputs).mean())
        if best is None or score > best[0]:
            best, stale = (score, result.model, result.per_bit, result.iterations), 0
        else:
            stale += 1
        if not ckpt.exists() or stale >= PATIENCE or result.solved:
            break
    ckpt.unlink(missing_ok=True)
    score, model, train_acc, iterations = best
    return Candidate(setting, seed, np.asarray(inputs), model, score, train_acc, iterations,
                     time.perf_counter() - t0)


def train_split(train: Dataset, valid: Dataset, setting: Setting, inputs, seed: int, budget: float,
                workdir, slice_s: float = SLICE_S) -> Candidate:
    """A Shannon split (btflearn.shannon): the first ``setting.split`` of the chosen ``inputs`` select a
    cofactor, and each cofactor's distinct patterns train their own network of ``setting`` over the
    other inputs, early-stopped on the validation items of that cofactor (on its training patterns
    when it has none), in what is left of ``budget`` shared among the cofactors still to train. A
    cofactor whose training items all agree, or that has none, is a constant (the overall majority
    when it has none), and so is one the budget ran out before (its items' majority): 64 cofactors
    each trained for a minimal slice would overrun a small budget by seconds. The networks are joined
    into one by a multiplexer of threshold gates."""
    from .shannon import Cofactors, cofactor_datasets, join_cofactors
    t0 = time.perf_counter()
    s = setting.split
    inputs = np.asarray(inputs)
    table = distinct(columns(train, inputs))
    leaf_setting = replace(setting, k=setting.k - s, split=0, items=table.n_items)

    def majority(data):  # the answer of most of its items, per output (ties True)
        return np.where(data.outputs.mean(axis=0) >= 0, 1.0, -1.0)
    parts = cofactor_datasets(table, range(s))
    held = cofactor_datasets(columns(valid, inputs), range(s))
    todo = [c for c, part in enumerate(parts) if part is not None and len(np.unique(part.outputs, axis=0)) > 1]
    leaves, rows, iterations = [], [], 0
    for c, part in enumerate(parts):
        if c not in todo:
            leaves.append(majority(train) if part is None else part.outputs[0])
            rows.append(None)
            continue
        left = budget - (time.perf_counter() - t0)
        if left <= 0:
            leaves.append(majority(part))
            rows.append(None)
            continue
        share = max(left / (len(todo) - todo.index(c)), 0.05)
        leaf = train_early_stopped(part, part if held[c] is None else held[c], leaf_setting,
                                   np.arange(len(inputs) - s), seed, share, workdir, min(slice_s, share))
        leaves.append(leaf.model)
        rows.append(part.inputs)
        iterations += leaf.iterations

    def join(models):
        return join_cofactors(models, range(s), len(inputs), train.n_outputs, list(table.input_names),
                              list(table.output_names), name=train.name)
    model = join(leaves)
    score = accuracy(model.predict(valid.inputs[:, inputs]), valid)
    return Candidate(setting, seed, inputs, model, score, accuracy(model.predict(table.inputs), table),
                     iterations, time.perf_counter() - t0, cofactors=Cofactors(leaves, rows, join))


def counting_start(net, data: Dataset) -> np.ndarray:
    """Weights of a one-hidden-layer network whose hidden nodes are counting gates [popcount >= t] over
    all k inputs, at thresholds t spread over 1..k (each of 1..k when there are k hidden nodes), with
    each output node the least-squares linear read-out of ``data``'s outputs from the hidden values. The
    steps [popcount >= t] are a basis of the functions of the popcount, so a symmetric function is one
    threshold gate over them; from a random start the projections seldom find the thresholds (parity
    needs every one)."""
    from .model import Model
    k = net.n_inputs
    hidden = range(net.first_btf, net.first_output)
    thresholds = np.round(np.linspace(1, k, len(hidden))).astype(int)
    weights = np.ones(net.n_edges)
    for node in hidden:  # x . 1 >= 2t - k - 1 on the +-1 inputs; the bias node's value is -1
        lo, hi = net.in_start[node], net.in_start[node + 1]
        weights[lo:hi][net.senders[lo:hi] == 0] = 2.0 * thresholds[node - net.first_btf] - k - 1
    values, _ = Model(net, weights).node_sums(data.inputs)
    for o, node in enumerate(range(net.first_output, net.n_nodes)):
        lo, hi = net.in_start[node], net.in_start[node + 1]
        w = np.linalg.lstsq(values[:, net.senders[lo:hi]], data.outputs[:, o], rcond=None)[0]
        # on a popcount that never occurs the weights can cancel exactly; circuit extraction needs every
        # sum off 0, so the bias moves by a hair (read-outs are about +-1; only a sum below 1e-3 flips)
        weights[lo:hi] = w - 1e-3 * (net.senders[lo:hi] == 0)
    for node in range(net.first_btf, net.n_nodes):   # |w|^2 = m
        lo, hi = net.in_start[node], net.in_start[node + 1]
        weights[lo:hi] *= np.sqrt((hi - lo) / np.dot(weights[lo:hi], weights[lo:hi]))
    return weights


def plan(n_inputs: int, n_items: int, best_k: int) -> tuple[list, list]:
    """The screen and the capacity stage. Screen: one threshold gate with a small margin (it fits
    comparators and carries) on the first 32 inputs, and on all of them when there are more (pixels);
    such gates, one per cofactor of the first 3 selected inputs (a top sum bit is a XOR b XOR a carry,
    and the carry a threshold gate), and on more than 32 inputs such gates over all of them with a wider
    margin (pixels);
    on 6-11 selected inputs, a Shannon split into networks of 5 inputs, one per cofactor of the others
    (functions that look random to one network of their inputs: btflearn.shannon); a layer of gates as
    wide as the inputs (sigma = their number: counting gates, so symmetric functions); then networks
    on the first ``best_k`` selected inputs (the size of the best table) and a few more. With sigma =
    3 every node is about a MAJ3, so an output node of a one-hidden-layer network can only combine
    about three hidden nodes: depth (dense skip layers) and sigma = 5 give the capacity. Capacity
    stage: the best setting with more items, and wider."""
    items = min(1024, n_items)
    k2 = min(n_inputs, best_k + 4)
    wide = min(n_inputs, 32)
    screen = [Setting(wide, (), min(2048, n_items), LINEAR_SIGMA),
              Setting(wide, (16,), items, float(wide), counting=True),
              Setting(best_k, (16, 16), items, 3.0, True),
              Setting(best_k, (16,), items, 5.0),
              Setting(best_k, (16, 16), items, 5.0, True),
              Setting(k2, (16, 16), items, 3.0, True)]
    if wide >= 2 * GATE_SPLIT:   # a gate per cofactor: a top sum bit is a XOR b XOR carry (a threshold)
        screen.insert(1, Setting(wide, (), n_items, LINEAR_SIGMA, split=GATE_SPLIT))
    if SPLIT_K[0] <= best_k <= SPLIT_K[1]:
        screen.insert(1, Setting(best_k, (16, 16), min(1 << best_k, n_items), 5.0, True,
                                 split=best_k - LEAF_INPUTS))
    if n_inputs > wide:
        every = min(n_inputs, MAX_GATE_INPUTS)
        screen[1:1] = [Setting(every, (), min(2048, n_items), LINEAR_SIGMA),
                       Setting(every, (), n_items, WIDE_SIGMA, split=GATE_SPLIT)]
    capacity = [(items * 2, None), (items, (32, 16))]
    return screen, capacity


# -- the learner --------------------------------------------------------------------------------------

def holdout(train: Dataset, fraction: float, seed: int) -> tuple[Dataset, Dataset]:
    if not 0 < fraction < 1:
        raise BtfError(f"the held-out fraction must lie in (0, 1), got {fraction}")
    n_valid = int(round(train.n_items * fraction))
    if n_valid < 1 or n_valid >= train.n_items:
        raise BtfError(f"{train.n_items} items are too few to hold out a validation split")
    order = np.random.default_rng(seed).permutation(train.n_items)
    return train.subset(np.sort(order[n_valid:])), train.subset(np.sort(order[:n_valid]))


def learn(train: Dataset, valid: Dataset | None = None, time_limit: float = 120.0, max_ands: int = 5000,
          seed: int = 0, holdout_fraction: float = 0.25, ensemble: bool = True, log=None,
          slice_s: float = SLICE_S) -> LearnResult:
    """Learn a circuit for ``train`` (choices judged on ``valid``, or on a held-out part of ``train``)
    within ``time_limit`` seconds and ``max_ands`` AND nodes. ``log`` receives progress lines."""
    t0 = time.perf_counter()
    say = log or (lambda line: None)
    if not time_limit > 0 or int(max_ands) < 0:
        raise BtfError("the time limit must be positive and the AND cap non-negative")
    if not np.all(np.isin(train.inputs, (-1.0, 1.0))) or train.readout != "sign":
        raise BtfError("learning a circuit needs Boolean inputs and outputs")
    if valid is None:
        train, valid = holdout(train, holdout_fraction, seed)
        how = f"held out {valid.n_items} of the training items"
    else:
        if valid.n_inputs != train.n_inputs or valid.n_outputs != train.n_outputs:
            raise BtfError(f"the validation data has {valid.n_inputs} inputs and {valid.n_outputs} outputs, "
                           f"the training data {train.n_inputs} and {train.n_outputs}")
        how = "given"
    n_out = train.n_outputs
    deadline = t0 + time_limit * (1 - CIRCUIT_RESERVE)
    candidates = [constant_candidate(train, valid)]
    say(f"{train.name}: {train.n_items} train, {valid.n_items} valid items, {train.n_inputs} inputs; "
        f"constant: valid {candidates[0].valid:.4f}")
    # selection is a share of the budget (on 512 inputs each greedy pass takes about 12 s)
    order, losses = select_inputs(train, valid, deadline=t0 + SELECTION_SHARE * time_limit)
    together = strongest_interaction(train) if time.perf_counter() < t0 + SELECTION_SHARE * time_limit else None
    if together is not None and set(together) != set(order[:len(together)].tolist()):
        by_screen = select_inputs(train, valid, start=together, deadline=t0 + 2 * SELECTION_SHARE * time_limit)
        if min(by_screen[1]) < min(losses):
            order, losses = by_screen
            say(f"inputs {', '.join(map(str, together))} together predict the outputs (Walsh screen)")
    best_k = 1 + int(np.argmin(losses))
    table_valid = table_accuracy(train, valid, order[:best_k])
    say(f"inputs by greedy selection: {', '.join(map(str, order[:best_k]))} (best table: {best_k})")
    say(f"their table (a yardstick, not a candidate): valid {table_valid:.4f}")
    screen, capacity = plan(train.n_inputs, train.n_items, best_k)
    runs = len(screen) + len(capacity) + 2

    def run(setting, s):
        left = deadline - time.perf_counter()
        if left < 1.0:
            return None
        budget = min(left, (deadline - t0) / runs * (3.0 if setting.split else 1.5))  # 2^s networks
        with tempfile.TemporaryDirectory(prefix="btflearn-learn-") as tmp:
            c = train_early_stopped(train, valid, setting, order[:setting.k], s, budget, tmp, slice_s)
        candidates.append(c)
        candidates.extend(coarsened(c, train, valid))
        # the label last: a long one wraps between its words, the figures stay in their columns
        say(f"[{time.perf_counter() - t0:6.1f}s] valid {c.valid:.4f} train {c.train:.4f} {c.iterations:5d} it  "
            f"{c.label(n_out)}")
        return c

    def best_valid():
        return max(c.valid for c in candidates)

    p0 = min(max(candidates[0].valid, 0.5), 1 - 1 / valid.n_items)
    # capped at 1: on a skewed output and a small validation split, a model that gets every validation
    # item right is the only evidence there can be
    signal = min(p0 + SIGNAL_Z * np.sqrt(p0 * (1 - p0) / valid.n_items), 1.0)
    stopped = "time limit"
    # each kind tried once: the single gates, the split, the counting layer, a plain network
    first_net = next(k for k, setting in enumerate(screen) if setting.dense and not setting.split)
    for k, setting in enumerate(screen):
        if run(setting, seed) is None:
            break
        if k >= first_net and best_valid() < signal:
            stopped = f"no model beats the constant (best {best_valid():.4f} < {signal:.4f})"
            break
    screened = [c for c in candidates if c.setting is not None and c.setting.widths]
    if screened and best_valid() >= signal:
        top = max(screened, key=lambda c: c.valid).setting
        for items, widths in capacity if not top.split else ():  # a split's cofactors fit already
            run(replace(top, widths=widths or top.widths, items=min(items, train.n_items)), seed)
        extra, stale = seed + 1, 0
        while deadline - time.perf_counter() > 2.0:
            before = best_valid()
            top = max(candidates[1:], key=lambda c: c.valid).setting
            if run(top, extra) is None:
                break
            extra += 1
            stale = 0 if best_valid() > before else stale + 1
            if stale >= RUN_PATIENCE:
                stopped = f"{RUN_PATIENCE} more runs without a better validation accuracy"
                break
    say(f"stopped: {stopped}")
    candidates.sort(key=lambda c: -c.valid)
    if best_valid() < signal:  # nothing generalizes: the smallest circuit scores as well
        candidates.sort(key=lambda c: c.model is not None)
    choices = [[c] for c in candidates]
    models = [c for c in candidates if c.model is not None and not c.levels]  # distinct runs vote
    if ensemble and len(models) >= 3 and best_valid() >= signal:
        top3 = models[:3]
        score = accuracy(vote(top3, valid.inputs), valid)
        say(f"majority of the best 3: valid {score:.4f}")
        if score > candidates[0].valid:
            choices.insert(0, top3)
    patterns = np.unique(np.concatenate([train.inputs, valid.inputs]), axis=0)
    for members in choices:
        estimate = gate_ands(members)
        if estimate > max_ands:
            say(f"{_names(members, n_out)}: about {estimate} ANDs or more > {max_ands}, next candidate")
            continue
        net, ands = circuit_of(members, train, patterns, t0 + time_limit - time.perf_counter(), max_ands)
        if ands > max_ands:
            say(f"{_names(members, n_out)}: {ands} ANDs > {max_ands}, next candidate")
            continue
        from .circuits.simulate import simulate
        result = LearnResult(net, members, accuracy(simulate(net, train.inputs), train),
                             accuracy(simulate(net, valid.inputs), valid), ands, time.perf_counter() - t0,
                             candidates,
                             dict(time_limit=time_limit, max_ands=max_ands, seed=seed, ensemble=ensemble,
                                  slice_s=slice_s, patience=PATIENCE, max_iter=MAX_ITER), how, stopped, table_valid)
        say(f"chosen: {_names(members, n_out)}")
        say(f"valid {result.valid_accuracy:.4f}, {ands} ANDs, {result.seconds:.1f} s")
        return result
    raise BtfError("internal error: even the constant circuit was rejected")


def _names(members, n_out) -> str:
    if len(members) == 1:
        return members[0].label(n_out)
    return f"majority of {len(members)}: " + ", ".join(m.label(n_out).split(" n=")[0] for m in members)


def write_result(result: LearnResult, out_dir, inputs: np.ndarray, extra: dict | None = None) -> dict:
    """Write ``out_dir``/circuit.aig, .aag, .blif, .v (each read back and simulated against the circuit's
    own outputs on ``inputs``) and result.json; returns the JSON dictionary."""
    import json
    from .circuits.export import FORMATS, render_checked
    from .circuits.simulate import simulate
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    expected = simulate(result.network, inputs)
    files = {}
    for fmt in ("aig", "aiger", "blif", "verilog"):
        text = render_checked(result.network, fmt, inputs, expected,
                              comment=f"valid accuracy {result.valid_accuracy:.4f}")
        path = out / ("circuit" + FORMATS[fmt][0])
        path.write_bytes(text) if isinstance(text, bytes) else path.write_text(text)
        files[fmt] = path.name
    summary = result.summary()
    summary["files"] = files
    summary.update(extra or {})
    (out / "result.json").write_text(json.dumps(summary, indent=1) + "\n")
    return summary
