"""The RRR solver: ``fit`` and the in-process runner that advances a batch of trials on a backend.

A trial is *solved* only when its concurred weights reproduce every training item in a plain forward
pass; a gap below ``gapstop`` only triggers that check. Where trials run is the runner's business: this
module runs them in process; ``scheduler=`` hands them to Dask (btflearn.distributed), one task per
trial, and both merge their trials with the same rule (btflearn.trials).
"""
from __future__ import annotations

import math
import signal
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import checkpoint as ckpt
from .backends import KernelSpec, SolverState, make_backend
from .dataset import Dataset
from .errors import BtfError, Interrupted
from .kernels.graph import AT_MAX_ITER, BELOW_GAPSTOP, INPUT_DATA, RUNNING
from .model import Model
from .problem import Problem, Settings
from .trials import FitResult, TrialResult, assemble, trial_list, trial_rng

__all__ = ["fit", "FitResult", "TrialResult", "trial_rng"]
MAX_BATCH = 16  # trials advanced together by default


def fit(dataset: Dataset, arch="4-4-4-4", sigma: float = Settings.sigma, beta: float = Settings.beta,
        gamma: float | None = None, max_iter: int = Settings.max_iter, gapstop: float = Settings.gapstop,
        trials: int = 1, seed: int = 0, time_limit: float | None = None, backend: str = "auto",
        batch: int | None = None, stop_on_first: bool = True, progress=None,
        dtype: str = "float64", polish: int = 0, trial_ids=None, checkpoint=None,
        checkpoint_every: float = 60.0, resume: bool = False, init=None, scheduler=None,
        support=None) -> FitResult:
    """Train a BTF network on ``dataset`` by RRR.

    arch: width string (``"4-4-4-4"``, ``"dense:6-12-12-6"``), .wth/.net path, or a Network.
    gamma: metric rate in (0, 1]; None means 1/max_iter. trials: restarts, each seeded from (seed, trial).
    batch: how many trials advance together (default: all, at most 16). stop_on_first: stop at the
    first verified solution. progress: called with a dict after every chunk of iterations.
    backend: "numba", "numpy", "cupy", or "auto": Numba, or CuPy on a GPU for a batch of at least
    btflearn.backends.CUPY_MIN_BATCH trials (btflearn.backends.resolve_backend, docs/gpu.md).
    polish: a read-out can reproduce every item while the gap is still large (weights not yet sparse);
    with polish > 0 such a trial keeps iterating for up to ``polish`` more iterations (or until a verified
    read-out has its gap below gapstop), and its result is the verified read-out of smallest gap met on
    the way (cleaner circuits, better generalization).
    dtype: storage of the replicated state, "float64" or "float32" (the projections' scalar maths stays
    in float64 either way; float32 halves the memory traffic).
    trial_ids: run exactly these trial indices (default ``range(trials)``); trial k starts from
    (seed, k) whatever else runs beside it, so a subset gives the same per-trial results.
    checkpoint: a file the run saves itself to every ``checkpoint_every`` seconds, on Ctrl-C and when the
    time limit stops it; resume=True continues from that file (same data, network and settings; the
    continued run gives the same trials and iteration counts as an uninterrupted one). The file is removed
    when the run ends normally. Ctrl-C raises btflearn.errors.Interrupted (a KeyboardInterrupt) after saving;
    its ``result`` is the run so far.
    init: warm start from these weights (an (E,) array or a Model of the same network): every trial
    starts with w = init on every item and x, y = the values of init's forward pass, instead of the
    random start (used to continue a solution under other settings, e.g. a larger margin).
    support: gate projection of the concurred weights (an int for every node, or a (V,) array, 0 = off):
    a node with support s concurs onto the nearest majority gate of support s (s weights at
    +-sqrt(m/s), the rest 0), so a late phase converges to gates instead of being rounded after.
    scheduler: run each trial as a Dask task ("local", "local:N", "tcp://host:port" or a Client; see
    btflearn.distributed); the result is merged exactly as in process.
    """
    problem = Problem.build(dataset, arch, sigma=sigma, beta=beta, gamma=gamma, max_iter=max_iter,
                            gapstop=gapstop, dtype=dtype, polish=polish, support=support)
    problem.graph  # noqa: B018  (builds the kernel graph now: a bad support is an error before any work)
    ids = trial_list(trials, trial_ids)
    if time_limit is not None and not time_limit > 0:
        raise BtfError(f"time_limit must be positive, got {time_limit!r}")
    if scheduler is not None:
        if checkpoint is not None or resume:
            raise BtfError("checkpoints and resume are for in-process runs; a distributed run has none")
        if init is not None:
            raise BtfError("a warm start (init) runs in process; leave out the scheduler")
        from .distributed import run_on_dask
        return run_on_dask(problem, ids, seed, scheduler, time_limit, stop_on_first, progress, backend)
    if resume and checkpoint is None:
        raise BtfError("resume needs the checkpoint file to resume from")
    run = InProcessRun(problem, ids, seed, min(len(ids), batch or MAX_BATCH), backend, init)
    fp = ckpt.fingerprint(dataset, problem.network) if checkpoint is not None else None
    if resume:
        ckpt.restore_run(checkpoint, run, fp)
    else:
        run.start_all()
    call_start = last_save = time.perf_counter()  # a resumed run gets the time limit afresh
    keep_checkpoint = False
    with _InterruptGuard(checkpoint is not None) as guard:
        while run.running():
            if checkpoint is not None and (guard.hit or time.perf_counter() - last_save > checkpoint_every):
                ckpt.save_run(checkpoint, run, fp)
                last_save = time.perf_counter()
                if guard.hit:
                    keep_checkpoint = True
                    break
            solved = run.step(stop_on_first)
            if progress is not None:
                progress(run.progress_info())
            if solved:
                break
            if time_limit is not None and time.perf_counter() - call_start > time_limit:
                if checkpoint is not None and run.running():
                    ckpt.save_run(checkpoint, run, fp)  # resumable with a larger budget
                    keep_checkpoint = True
                break
    run.close()
    if checkpoint is not None and not keep_checkpoint:
        Path(checkpoint).unlink(missing_ok=True)
    result = assemble(problem, run.results, len(ids), seed, time.perf_counter() - run.t0, run.engine.name)
    if guard.hit:
        raise Interrupted(f"interrupted; checkpoint saved to {checkpoint}", result)
    return result


@dataclass
class Readout:
    """The concurred weights of a slot at one iteration, checked by a forward pass."""
    iteration: int
    model: Model
    accuracy: tuple            # (per-bit, exact) on the training items
    codes: np.ndarray | None   # the inputs of a free-input task, as read out
    gap: float

    @property
    def exact(self) -> bool:
        return self.accuracy[1] == 1.0


def _checkpoints(k: int = 1):
    """Geometric history iterations 1, 2, ..., 10, 11, 12, 13, 15, ... (ratio 1.1), from k on."""
    while True:
        yield k
        k = max(k + 1, int(math.ceil(k * 1.1)))


class Slot:
    """The bookkeeping of the trial running in one slot of the batched state."""

    def __init__(self, trial, seed, start, next_tick=1):
        self.trial, self.seed, self.start = trial, seed, start
        self.history, self.best = [], math.inf
        self.ticks = _checkpoints(next_tick)
        self.next_tick = next(self.ticks)
        self.last_gap = math.inf
        self.last_fit = None                   # fraction of items the latest read-out reproduces exactly
        self.solution: Readout | None = None   # while polishing: the verified read-out of smallest gap
        self.first_exact: int | None = None    # iteration of the first verified read-out
        self.polish_until = 0

    def keep_if_converged(self, r: "Readout"):
        """Take the verified read-out ``r`` as the slot's solution if none is kept or its gap is smaller:
        the further the gap has converged, the sparser the weights (on the teacher tasks polished
        read-outs also score better on test items, docs/results.md)."""
        if self.solution is None or r.gap < self.solution.gap:
            self.solution = r

    def record(self, done: int, gaps: np.ndarray):
        """Take in the gaps of the iterations that ended at ``done``."""
        if not len(gaps):
            return
        first = done - len(gaps) + 1
        self.last_gap = float(gaps[-1])
        self.best = min(self.best, float(gaps.min()))
        while self.next_tick <= done:
            self.history.append((self.next_tick, float(gaps[self.next_tick - first])))
            self.next_tick = next(self.ticks)


class InProcessRun:
    """A batch of ``batch`` slots on one backend; trials start in ``trial_ids`` order as slots free up."""

    def __init__(self, problem: Problem, trial_ids, seed, batch, backend, init=None):
        self.problem, self.trial_ids, self.seed = problem, list(trial_ids), seed
        d, net, s = problem.dataset, problem.network, problem.settings
        self.warm = _warm_start(init, net, d)
        self.engine = make_backend(backend, KernelSpec(problem.graph, d.inputs, d.outputs, problem.input_mode,
                                                       s.beta, s.gamma, s.max_iter), batch=batch)
        self.state = SolverState.empty(batch, d.n_items, net.n_edges, net.n_nodes, np.dtype(s.dtype))
        self.slots: list[Slot | None] = [None] * batch
        self.results: list[TrialResult] = []
        self.next_trial = 0
        self.t0 = time.perf_counter()
        self.stopped = False

    def start_all(self):
        for k in range(len(self.slots)):
            self.start(k)

    def running(self) -> bool:
        return not self.stopped and any(s is not None for s in self.slots)

    def start(self, k: int):
        """Start the next trial in slot k from its seeded random state (or the warm start)."""
        p, st = self.problem, self.state
        trial = self.trial_ids[self.next_trial]
        self.next_trial += 1
        d = p.dataset
        zw, zx, zy, g = _initial_state(trial_rng(self.seed, trial), d.n_items, p.graph, d.inputs, d.outputs,
                                       p.input_mode)
        if self.warm is not None:
            zw[0], zx[0], zy[0, :, p.network.first_btf:p.network.first_output] = self.warm
        st.zw[k], st.zx[k], st.zy[k], st.g[k] = zw[0], zx[0], zy[0], g[0]
        st.iters[k], st.status[k], st.gapstop[k] = 0, RUNNING, p.settings.gapstop
        self.slots[k] = Slot(trial, [int(self.seed), trial], time.perf_counter())

    def readout(self, k: int) -> Readout:
        """Slot k's concurred weights, checked by a forward pass (on the learned codes for free inputs)."""
        p, st = self.problem, self.state
        model = p.model(st.wb[k].copy())
        codes = None
        data = p.dataset
        if p.input_mode != INPUT_DATA:
            from .kernels.reference import project_inputs
            codes = project_inputs(st.zy[k, :, 1:p.network.n_inputs + 1], data.inputs, p.input_mode)
            data = Dataset(codes, data.outputs, readout=data.readout)
        return Readout(int(st.iters[k]), model, model.accuracy(data), codes, self.slots[k].last_gap)

    def finish(self, k: int, solved: bool, r: Readout):
        """Close slot k's trial with the read-out ``r`` (the current one, or an earlier verified one)."""
        s, st = self.slots[k], self.state
        if not s.history or s.history[-1][0] != int(st.iters[k]):
            s.history.append((int(st.iters[k]), s.last_gap))
        s.last_gap = r.gap
        first = s.first_exact if s.first_exact is not None else (r.iteration if solved else None)
        self.results.append(TrialResult(s.trial, s.seed, solved, r.iteration, s.last_gap, s.best,
                                        time.perf_counter() - s.start, r.accuracy[0], r.accuracy[1],
                                        s.history, r.model.weights, r.codes, first))
        self.slots[k] = None
        st.status[k] = AT_MAX_ITER

    def step(self, stop_on_first: bool) -> bool:
        """Run one chunk of iterations and decide every slot; True when a solution ends the run."""
        st, polish, gapstop = self.state, self.problem.settings.polish, self.problem.settings.gapstop
        gap_out = self.engine.run(st, self.problem.chunk)
        for k, s in enumerate(self.slots):
            if s is None:
                continue
            row = gap_out[k]
            s.record(int(st.iters[k]), row[row >= 0])
            r = self.readout(k)
            s.last_fit = float(r.accuracy[1])
            if r.exact and polish and s.last_gap >= gapstop:
                if s.first_exact is None:  # verified; polish towards a small gap
                    s.first_exact, s.polish_until = r.iteration, r.iteration + polish
                s.keep_if_converged(r)
            if r.exact and (s.last_gap < gapstop or not polish):
                self.finish(k, True, r)
            elif s.solution is not None and (r.iteration >= s.polish_until or st.status[k] == AT_MAX_ITER):
                # polishing budget spent: the verified read-out of smallest gap met while polishing
                self.finish(k, True, s.solution)
            elif st.status[k] == BELOW_GAPSTOP:
                # small gap but not yet a verified solution: keep going with a tighter threshold
                st.gapstop[k] *= 0.5
                st.status[k] = RUNNING
            elif st.status[k] == AT_MAX_ITER:
                self.finish(k, False, r)
            if self.slots[k] is None and self.results[-1].solved and stop_on_first:
                self.stopped = True
            if self.slots[k] is None and not self.stopped and self.next_trial < len(self.trial_ids):
                self.start(k)
        return self.stopped

    def close(self):
        """Close the trials still running (time limit or first solution) with their current read-out,
        or, while polishing, with the verified read-out of smallest gap (the current one included)."""
        for k, s in enumerate(self.slots):
            if s is not None:
                r = self.readout(k)
                if s.solution is not None:
                    if r.exact:
                        s.keep_if_converged(r)
                    self.finish(k, True, s.solution)
                else:
                    self.finish(k, r.exact, r)

    def progress_info(self) -> dict:
        live = [(s.trial, int(self.state.iters[k]), s.last_gap) for k, s in enumerate(self.slots) if s is not None]
        fits = [s.last_fit for s in self.slots if s is not None and s.last_fit is not None]
        return dict(elapsed=time.perf_counter() - self.t0, running=live, finished=len(self.results),
                    fit=max(fits, default=None),
                    trials=len(self.trial_ids), solved=sum(r.solved for r in self.results),
                    best_gap=min([s.best for s in self.slots if s is not None] +
                                 [r.best_gap for r in self.results] + [math.inf]),
                    max_iter=self.problem.settings.max_iter)


def _initial_state(rng, n_items, graph, inputs, labels, input_mode):
    from .kernels.reference import initial_state
    return initial_state(rng, 1, n_items, graph, inputs, labels, input_mode)


def _warm_start(init, net, dataset: Dataset):
    """(w, x, hidden y) of every item for a start from the weights ``init``, or None without one."""
    if init is None:
        return None
    weights = np.asarray(init.weights if isinstance(init, Model) else init, dtype=np.float64)
    if weights.shape != (net.n_edges,) or not np.all(np.isfinite(weights)):
        raise BtfError(f"init must be {net.n_edges} finite weights of this network, got shape {weights.shape}")
    if dataset.input_mode != "data":
        raise BtfError("init (a warm start) needs fixed data inputs; free-input tasks start at random")
    values, _ = Model(net, weights).node_sums(dataset.inputs)
    return (np.broadcast_to(weights, (dataset.n_items, net.n_edges)),
            np.ascontiguousarray(values[:, net.senders]),
            np.ascontiguousarray(values[:, net.first_btf:net.first_output]))


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
