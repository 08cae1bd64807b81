"""The RRR solver: restarts, checkpoints, verification. Backend-agnostic (see backends.py).

A trial is *solved* only when its concurred weights reproduce every training item in a plain forward
pass; a gap below ``gapstop`` only triggers that check.
"""
from __future__ import annotations

import math
import signal
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from . import checkpoint as ckpt
from .backends import AT_MAX_ITER, BELOW_GAPSTOP, RUNNING, SolverState, make_backend
from .dataset import Dataset
from .errors import BtfError
from .model import Model
from .network import Network, parse_arch

DEFAULTS = dict(sigma=3.0, beta=0.2, max_iter=10_000, gapstop=0.01)


@dataclass
class TrialResult:
    trial: int
    seed: list                 # the SeedSequence entropy [seed, trial] this trial started from
    solved: bool
    iterations: int
    gap: float                 # reported gap at the last iteration
    best_gap: float
    seconds: float             # wall time from this trial's start to its end (shared cores)
    per_bit: float             # training accuracy of the trial's final weights
    exact: float
    gap_history: list = field(default_factory=list)  # [(iteration, gap)] at geometric checkpoints
    weights: np.ndarray | None = field(default=None, repr=False)
    codes: np.ndarray | None = field(default=None, repr=False)  # learned inputs of free-input tasks
    first_solved_at: int | None = None   # iteration of the first verified read-out (before polishing)


@dataclass
class FitResult:
    solved: bool
    model: Model | None        # the first verified solution, else the most accurate trial
    trials: list               # TrialResult per trial that ran
    iterations: int            # iterations of the returned model's trial
    seconds: float
    per_bit: float
    exact: float
    hyperparameters: dict
    backend: str
    codes: np.ndarray | None = None  # for free-input tasks: the inputs the model was solved with

    def summary(self) -> str:
        state = "solved" if self.solved else "NOT solved"
        n_solved = sum(t.solved for t in self.trials)
        return (f"{state}: {self.iterations} iterations, per-bit {self.per_bit:.4f}, exact {self.exact:.4f}, "
                f"{len(self.trials)} trial(s) run, {n_solved} solved, {self.seconds:.2f} s ({self.backend})")


def trial_rng(seed: int, trial: int) -> np.random.Generator:
    """Every trial's randomness comes from (seed, trial): runs are reproducible trial by trial."""
    return np.random.default_rng(np.random.SeedSequence([int(seed), int(trial)]))


def _checkpoints(k: int = 1):
    """Geometric history iterations 1, 2, ..., 10, 11, 12, 13, 15, ... (ratio 1.1), from k on."""
    while True:
        yield k
        k = max(k + 1, int(math.ceil(k * 1.1)))


def _early(solution):
    """finish() arguments for a trial's recorded early solution."""
    iteration, model, accuracy, codes, gap = solution
    return accuracy, model, codes, iteration, gap


class _Slot:
    def __init__(self, trial, seed, start, next_tick=1):
        self.trial, self.seed, self.start = trial, seed, start
        self.history, self.best = [], math.inf
        self.ticks = _checkpoints(next_tick)
        self.next_tick = next(self.ticks)
        self.last_gap = math.inf
        self.solution = None      # (iteration, model, accuracy, codes, gap) of the first verified read-out
        self.polish_until = 0

    def to_meta(self, now):
        sol = None if self.solution is None else dict(iteration=self.solution[0], accuracy=list(self.solution[2]),
                                                      gap=self.solution[4])
        return dict(trial=self.trial, seed=self.seed, seconds=now - self.start, history=self.history,
                    best=_finite(self.best), next_tick=self.next_tick, last_gap=_finite(self.last_gap),
                    solution=sol, polish_until=self.polish_until)

    @staticmethod
    def from_meta(m, now, extra, k, make_model):
        s = _Slot(m["trial"], m["seed"], now - m["seconds"], m["next_tick"])
        s.history = [tuple(h) for h in m["history"]]
        s.best, s.last_gap = _unfinite(m["best"]), _unfinite(m["last_gap"])
        s.polish_until = m["polish_until"]
        if m["solution"] is not None:
            sol = m["solution"]
            codes = extra.get(f"slot{k}_codes")
            s.solution = (sol["iteration"], make_model(extra[f"slot{k}_weights"]), tuple(sol["accuracy"]), codes,
                          sol["gap"])
        return s


def _finite(x):   # JSON has no infinity
    return None if x is None or not math.isfinite(x) else float(x)


def _unfinite(x):
    return math.inf if x is None else float(x)


class _InterruptGuard:
    """Ctrl-C sets a flag that the solver loop checks between chunks (the state is then consistent and
    can be checkpointed) instead of raising inside a kernel call. Main thread only."""

    def __init__(self, active):
        self.active = active and threading.current_thread() is threading.main_thread()
        self.hit = False

    def __enter__(self):
        if self.active:
            self.previous = signal.signal(signal.SIGINT, self._handler)
        return self

    def _handler(self, signum, frame):
        if self.hit:  # a second Ctrl-C: stop at once
            raise KeyboardInterrupt
        self.hit = True

    def __exit__(self, *exc):
        if self.active:
            signal.signal(signal.SIGINT, self.previous)
        return False


def _warm_start(init, net: Network, dataset: Dataset):
    """(w, x, hidden y) of every item for a start from the weights ``init``, or None without one."""
    if init is None:
        return None
    weights = np.asarray(init.weights if isinstance(init, Model) else init, dtype=np.float64)
    if weights.shape != (net.n_edges,) or not np.all(np.isfinite(weights)):
        raise BtfError(f"init must be {net.n_edges} finite weights of this network, got shape {weights.shape}")
    if dataset.input_mode != "data":
        raise BtfError("init (a warm start) needs fixed data inputs; free-input tasks start at random")
    values, _ = Model(net, weights).node_sums(dataset.inputs)
    return (np.broadcast_to(weights, (dataset.n_items, net.n_edges)), values[:, net.senders],
            values[:, net.first_btf:net.first_output])


def fit(dataset: Dataset, arch="4-4-4-4", sigma: float = DEFAULTS["sigma"], beta: float = DEFAULTS["beta"],
        gamma: float | None = None, max_iter: int = DEFAULTS["max_iter"], gapstop: float = DEFAULTS["gapstop"],
        trials: int = 1, seed: int = 0, time_limit: float | None = None, backend: str = "auto",
        batch: int | None = None, stop_on_first: bool = True, progress=None,
        dtype: str = "float64", polish: int = 0, trial_ids=None, checkpoint=None,
        checkpoint_every: float = 60.0, resume: bool = False, init=None, support=None) -> FitResult:
    """Train a BTF network on ``dataset`` by RRR.

    arch: width string (``"4-4-4-4"``, ``"dense:6-12-12-6"``), .wth/.net path, or a Network.
    gamma: metric rate; None means 1/max_iter. trials: restarts, each seeded from (seed, trial).
    batch: how many trials advance together (default: all, at most 16). stop_on_first: stop at the
    first verified solution. progress: called with a dict after every chunk of iterations.
    polish: a read-out can reproduce every item while the gap is still large (weights not yet sparse);
    with polish > 0 such a trial keeps iterating for up to ``polish`` more iterations, and the first
    verified read-out with the gap below gapstop replaces the early one (cleaner circuits).
    dtype: storage of the replicated state, "float64" or "float32" (the projections' scalar maths stays
    in float64 either way; float32 halves the memory traffic).
    trial_ids: run exactly these trial indices (default ``range(trials)``); trial k starts from
    (seed, k) whatever else runs beside it, so a subset gives the same per-trial results (used to
    spread the trials of one run over several processes or machines).
    checkpoint: a file the run saves itself to every ``checkpoint_every`` seconds, on Ctrl-C and when the
    time limit stops it; resume=True continues from that file (same data, network and settings; the
    continued run gives the same trials and iteration counts as an uninterrupted one). The file is removed
    when the run ends normally. Ctrl-C raises KeyboardInterrupt after saving.
    init: warm start from these weights (an (E,) array or a Model of the same network): every trial
    starts with w = init on every item and x, y = the values of init's forward pass, instead of the
    random start (used to continue a solution under other settings, e.g. a larger margin).
    support: gate projection of the concurred weights (an int for every node, or a (V,) array, 0 = off):
    a node with support s concurs onto the nearest majority gate of support s (s weights at
    +-sqrt(m/s), the rest 0), so a late phase converges to gates instead of being rounded after.
    """
    if not isinstance(dataset, Dataset):
        raise BtfError("fit expects a btflearn.Dataset")
    net: Network = parse_arch(arch)
    if net.n_inputs != dataset.n_inputs or net.n_outputs != dataset.n_outputs:
        raise BtfError(f"architecture {net.arch or arch} has {net.n_inputs} inputs and {net.n_outputs} "
                       f"outputs but the data has {dataset.n_inputs} and {dataset.n_outputs}")
    for name, value in (("sigma", sigma), ("beta", beta), ("gapstop", gapstop)):
        if not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
            raise BtfError(f"{name} must be a positive number, got {value!r}")
    if not 0 < beta <= 1:
        raise BtfError(f"beta must lie in (0, 1], got {beta}")
    if int(polish) < 0:
        raise BtfError(f"polish must be a non-negative number of iterations, got {polish!r}")
    if int(max_iter) < 1 or int(trials) < 1:
        raise BtfError("max_iter and trials must be at least 1")
    if gamma is None:
        gamma = 1.0 / max_iter
    if not (math.isfinite(gamma) and gamma >= 0):
        raise BtfError(f"gamma must be a non-negative number, got {gamma!r}")
    if dtype not in ("float64", "float32"):
        raise BtfError(f"dtype must be float64 or float32, got {dtype!r}")
    if time_limit is not None and not time_limit > 0:
        raise BtfError(f"time_limit must be positive, got {time_limit!r}")
    if resume and checkpoint is None:
        raise BtfError("resume needs the checkpoint file to resume from")
    max_iter, trials = int(max_iter), int(trials)
    trial_list = list(range(trials)) if trial_ids is None else [int(k) for k in trial_ids]
    if not trial_list or min(trial_list) < 0 or len(set(trial_list)) != len(trial_list):
        raise BtfError(f"trial_ids must be distinct non-negative integers, got {trial_ids!r}")
    trials = len(trial_list)
    warm = _warm_start(init, net, dataset)
    from .dataset import INPUT_MODES
    from .kernels.graph import kernel_graph
    from .kernels.reference import initial_state, project_inputs

    graph = kernel_graph(net, sigma, support)
    input_mode = INPUT_MODES.index(dataset.input_mode)
    N, E, V = dataset.n_items, net.n_edges, net.n_nodes
    T = min(trials, batch or 16)
    hyper = dict(arch=net.arch, sigma=sigma, beta=beta, gamma=gamma, max_iter=max_iter, gapstop=gapstop,
                 trials=trials, seed=seed, dtype=dtype, polish=int(polish))
    if support is not None:
        hyper["support"] = support if np.ndim(support) == 0 else [int(v) for v in graph.support]
    eng = make_backend(backend, graph, dataset.inputs, dataset.outputs, input_mode, beta, gamma, max_iter)
    st = SolverState.empty(T, N, E, V, np.dtype(dtype))
    t0 = time.perf_counter()
    slots: list[_Slot | None] = [None] * T
    results: list[TrialResult] = []
    next_trial = 0
    fp = ckpt.fingerprint(dataset, net) if checkpoint is not None else None

    def make_model(weights):
        return Model(net, np.asarray(weights, dtype=np.float64), dataset.input_names, dataset.output_names,
                     dataset.readout, dataset.name)

    def save_checkpoint():
        if hasattr(eng, "sync_state"):  # device backends: bring the state home first
            eng.sync_state(st)
        now = time.perf_counter()
        extra = {}
        for k, s in enumerate(slots):
            if s is not None and s.solution is not None:
                extra[f"slot{k}_weights"] = s.solution[1].weights
                if s.solution[3] is not None:
                    extra[f"slot{k}_codes"] = s.solution[3]
        done = []
        for j, r in enumerate(results):
            extra[f"result{j}_weights"] = r.weights
            if r.codes is not None:
                extra[f"result{j}_codes"] = r.codes
            d = asdict(r)
            d.pop("weights"), d.pop("codes")
            d.update(gap=_finite(d["gap"]), best_gap=_finite(d["best_gap"]))
            done.append(d)
        meta = dict(fingerprint=fp, hyperparameters=hyper, trial_list=trial_list, next_trial=next_trial,
                    slot_iterations=st.iters.tolist(),
                    elapsed=now - t0, slots=[None if s is None else s.to_meta(now) for s in slots],
                    results=done)
        ckpt.save(checkpoint, meta, st, extra)

    def start(slot_index):
        nonlocal next_trial
        trial = trial_list[next_trial]
        next_trial += 1
        zw, zx, zy, g = initial_state(trial_rng(seed, trial), 1, N, graph, dataset.inputs, dataset.outputs,
                                      input_mode)
        if warm is not None:
            zw[0], zx[0], zy[0, :, net.first_btf:net.first_output] = warm
        st.zw[slot_index], st.zx[slot_index], st.zy[slot_index], st.g[slot_index] = zw[0], zx[0], zy[0], g[0]
        st.iters[slot_index], st.status[slot_index], st.gapstop[slot_index] = 0, RUNNING, gapstop
        slots[slot_index] = _Slot(trial, [int(seed), trial], time.perf_counter())

    def codes_of(slot_index):
        if input_mode == 0:
            return None
        return project_inputs(st.zy[slot_index, :, 1:net.n_inputs + 1], dataset.inputs, input_mode)

    def evaluate(slot_index):
        model = make_model(st.wb[slot_index].copy())
        codes = codes_of(slot_index)
        data = dataset if codes is None else Dataset(codes, dataset.outputs, readout=dataset.readout)
        return model, model.accuracy(data), codes

    def finish(slot_index, solved, accuracy, model, codes, iterations=None, gap=None):
        s = slots[slot_index]
        if not s.history or s.history[-1][0] != int(st.iters[slot_index]):
            s.history.append((int(st.iters[slot_index]), s.last_gap))
        if gap is not None:  # an early solution: report the gap it was read out at
            s.last_gap = gap
        iterations = int(st.iters[slot_index]) if iterations is None else iterations
        first = s.solution[0] if s.solution else (iterations if solved else None)
        results.append(TrialResult(s.trial, s.seed, solved, iterations, s.last_gap, s.best,
                                   time.perf_counter() - s.start, accuracy[0], accuracy[1], s.history,
                                   model.weights, codes, first))
        slots[slot_index] = None
        st.status[slot_index] = AT_MAX_ITER

    if resume:
        meta, saved, extra = ckpt.load(checkpoint)
        ckpt.check_compatible(checkpoint, meta, fp, hyper)
        if saved["zw"].shape != st.zw.shape:
            raise BtfError(f"checkpoint {checkpoint} advanced {saved['zw'].shape[0]} trials together; "
                           f"resume with batch={saved['zw'].shape[0]}")
        for name, value in saved.items():
            getattr(st, name)[...] = value
        now = time.perf_counter()
        t0 = now - meta["elapsed"]
        next_trial = meta["next_trial"]
        slots = [None if m is None else _Slot.from_meta(m, now, extra, k, make_model)
                 for k, m in enumerate(meta["slots"])]
        for j, d in enumerate(meta["results"]):
            d.update(gap=_unfinite(d["gap"]), best_gap=_unfinite(d["best_gap"]),
                     gap_history=[tuple(h) for h in d["gap_history"]],
                     weights=extra[f"result{j}_weights"], codes=extra.get(f"result{j}_codes"))
            results.append(TrialResult(**d))
    else:
        for k in range(T):
            start(k)
    # Read-outs are checked every `chunk` iterations. The chunk depends only on the size of one trial
    # (never on timing or batch size), so a seed gives the same trials and iteration counts every run.
    # About 2e6 edge-item iterations per trial between checks: the check (a forward pass) stays a few
    # percent of the work, and small problems still stop within a fraction of a second of a solution.
    chunk = 2 ** int(math.log2(min(max(2e6 / (N * E), 4), 256)))
    stop = keep_checkpoint = False
    call_start = last_save = time.perf_counter()  # a resumed run gets the time limit afresh
    guard = _InterruptGuard(checkpoint is not None)
    with guard:
        while not stop and any(s is not None for s in slots):
            if checkpoint is not None and (guard.hit or time.perf_counter() - last_save > checkpoint_every):
                save_checkpoint()
                last_save = time.perf_counter()
                if guard.hit:
                    raise KeyboardInterrupt(f"interrupted; checkpoint saved to {checkpoint}")
            gap_out = eng.run(st, chunk)
            for k, s in enumerate(slots):
                if s is None:
                    continue
                done = int(st.iters[k])
                row = gap_out[k]
                ran = row[row >= 0]
                first = done - len(ran) + 1
                if len(ran):
                    s.last_gap = float(ran[-1])
                    s.best = min(s.best, float(ran.min()))
                    while s.next_tick <= done:
                        s.history.append((s.next_tick, float(ran[s.next_tick - first])))
                        s.next_tick = next(s.ticks)
                model, accuracy, codes = evaluate(k)
                exact = accuracy[1] == 1.0
                if exact and s.solution is None and polish and s.last_gap >= gapstop:
                    s.solution = (done, model, accuracy, codes, s.last_gap)  # verified; polish towards a small gap
                    s.polish_until = done + int(polish)
                if exact and (s.last_gap < gapstop or not polish):
                    finish(k, True, accuracy, model, codes)
                elif s.solution is not None and (done >= s.polish_until or st.status[k] == AT_MAX_ITER):
                    # polishing budget spent: the latest verified read-out (the early one if the current fails)
                    finish(k, True, *((accuracy, model, codes) if exact else _early(s.solution)))
                elif st.status[k] == BELOW_GAPSTOP:
                    # small gap but not yet a verified solution: keep going with a tighter threshold
                    st.gapstop[k] *= 0.5
                    st.status[k] = RUNNING
                elif st.status[k] == AT_MAX_ITER:
                    finish(k, False, accuracy, model, codes)
                if slots[k] is None and results[-1].solved and stop_on_first:
                    stop = True
                if slots[k] is None and not stop and next_trial < trials:
                    start(k)
            elapsed = time.perf_counter() - t0
            if progress is not None:
                live = [(s.trial, int(st.iters[k]), s.last_gap) for k, s in enumerate(slots) if s is not None]
                progress(dict(elapsed=elapsed, running=live, finished=len(results), trials=trials,
                              solved=sum(r.solved for r in results),
                              best_gap=min([s.best for s in slots if s is not None] +
                                           [r.best_gap for r in results] + [math.inf]),
                              max_iter=max_iter))
            if time_limit is not None and time.perf_counter() - call_start > time_limit:
                stop = True
                if checkpoint is not None and any(s is not None for s in slots):
                    save_checkpoint()  # resumable with a larger budget
                    keep_checkpoint = True
    for k, s in enumerate(slots):  # time limit or first solution: close the trials still running
        if s is not None:
            model, accuracy, codes = evaluate(k)
            if accuracy[1] < 1.0 and s.solution is not None:
                finish(k, True, *_early(s.solution))
            else:
                finish(k, accuracy[1] == 1.0, accuracy, model, codes)
    if checkpoint is not None and not keep_checkpoint:
        Path(checkpoint).unlink(missing_ok=True)
    solved = [r for r in results if r.solved]  # in the order they were found
    best = solved[0] if solved else max(results, key=lambda r: (r.exact, r.per_bit, -r.trial))
    results.sort(key=lambda r: r.trial)
    model = Model(net, best.weights, dataset.input_names, dataset.output_names, dataset.readout, dataset.name,
                  hyperparameters=hyper, seed=int(seed), iterations=best.iterations)
    model.hyperparameters["trial"] = best.trial
    return FitResult(bool(solved), model, results, best.iterations, time.perf_counter() - t0, best.per_bit,
                     best.exact, hyper, eng.name, best.codes)
