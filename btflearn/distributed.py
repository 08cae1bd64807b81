"""Restarts and sweep points on Dask distributed (the optional ``dask`` extra).

Random restarts and sweep points are independent, so they are plain Dask tasks: one task per trial
(``fit(..., scheduler=...)`` runs each trial as ``fit(..., trial_ids=[k], batch=1)`` on a worker) or per
sweep point. Trial k starts from ``SeedSequence([seed, k])``
wherever it runs, so a distributed run gives the same per-trial results as an in-process one.

``scheduler`` is ``"local"`` (a LocalCluster with one worker process per core), ``"local:N"`` (N worker
processes), an address such as ``"tcp://host:8786"`` (an existing ``dask scheduler``), or a
``distributed.Client`` the caller owns (left open).

Every task runs Numba on one thread: N single-threaded workers use N cores, and one trial's results do
not depend on the thread count (the kernels are deterministic either way).
"""
from __future__ import annotations

import contextlib
import logging
import math
import os
import signal
import threading
import time
import uuid

from .errors import BtfError
from .trials import assemble

CONNECT_TIMEOUT = 5.0    # seconds to reach a scheduler address before giving up
CHECK_EVERY = 1.0        # seconds between a running trial's progress reports / stop checks
RETRIES = 2              # re-runs of a task whose worker died or raised


class _Stopped(Exception):
    """Raised inside a running trial when the driver has asked the run to stop."""


def _require_distributed():
    try:
        import distributed
    except ImportError:
        raise BtfError("--scheduler needs Dask distributed: pip install 'btflearn[dask]'") from None
    return distributed


def parse_scheduler(spec) -> tuple[str, object]:
    """``"local"`` -> ("local", cores), ``"local:N"`` -> ("local", N), an address -> ("address", address).
    A bare ``host:port`` gets ``tcp://``."""
    text = str(spec).strip()
    if text == "local" or text.startswith("local:"):
        if text == "local":
            try:
                return "local", len(os.sched_getaffinity(0))
            except AttributeError:
                return "local", os.cpu_count() or 1
        count = text.split(":", 1)[1]
        if not count.isdigit() or int(count) < 1:
            raise BtfError(f"scheduler {text!r}: expected local:N with N a positive number of workers")
        return "local", int(count)
    if "://" not in text:
        host, _, port = text.rpartition(":")
        if not host or not port.isdigit():
            raise BtfError(f"scheduler {text!r}: expected local, local:N or an address like tcp://host:8786")
        text = "tcp://" + text
    return "address", text


def local_cluster(n_workers: int):
    """A LocalCluster of ``n_workers`` single-threaded worker processes on 127.0.0.1, no dashboard."""
    distributed = _require_distributed()
    # dashboard off; the scheduler's small HTTP server (health, metrics) gets a free loopback port
    # instead of 8787, so several local clusters never compete for one port. The worker processes start
    # with SIGINT ignored: Ctrl-C reaches the driver alone, which cancels the work and closes them.
    with _sigint_ignored():
        return distributed.LocalCluster(
            n_workers=int(n_workers), threads_per_worker=1, processes=True, host="127.0.0.1",
            dashboard_address=None, scheduler_kwargs={"dashboard": False, "dashboard_address": "127.0.0.1:0"},
            silence_logs=logging.ERROR, env={"NUMBA_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"})


@contextlib.contextmanager
def _sigint_ignored():
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    old = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, old)


@contextlib.contextmanager
def connect(scheduler, timeout: float = CONNECT_TIMEOUT):
    """Yield a Client for ``scheduler``; close what this call started (never a Client passed in)."""
    distributed = _require_distributed()
    if isinstance(scheduler, distributed.Client):
        yield scheduler
        return
    kind, value = parse_scheduler(scheduler)
    cluster = None
    if kind == "local":
        try:
            cluster = local_cluster(value)
            client = distributed.Client(cluster, set_as_default=False)
        except Exception as exc:
            if cluster is not None:
                cluster.close()
            raise BtfError(f"could not start a local Dask cluster of {value} workers: {exc}") from exc
    else:
        try:
            client = distributed.Client(value, timeout=timeout, set_as_default=False)
        except (OSError, TimeoutError) as exc:
            raise BtfError(f"cannot reach the Dask scheduler at {value} within {timeout:g} s ({exc}); "
                           f"is `dask scheduler` running there and the port open?") from None
    try:
        yield client
    finally:
        with contextlib.suppress(Exception):
            client.close(timeout=10)
        if cluster is not None:
            with contextlib.suppress(Exception):
                cluster.close(timeout=10)


def _scheduler_name(client) -> str:
    try:
        return str(client.scheduler.address)
    except Exception:
        return "?"


def _one_numba_thread():
    try:
        import numba
        numba.set_num_threads(1)  # per calling thread: one trial, one core
    except Exception:
        pass


class _TrialHook:
    """fit's progress callback inside a worker: every CHECK_EVERY seconds it reports the trial's
    iteration and gap to the driver (a worker event) and stops the trial when the driver set the stop
    Event (first solution found elsewhere, Ctrl-C)."""

    def __init__(self, worker, trial, stop_name, topic):
        self.worker, self.trial, self.stop_name, self.topic = worker, trial, stop_name, topic
        self.last = -math.inf

    def __call__(self, info):
        now = time.monotonic()
        if now - self.last < CHECK_EVERY:
            return
        self.last = now
        from distributed import Event
        if Event(self.stop_name).is_set():
            raise _Stopped(f"trial {self.trial} stopped by the driver")
        for trial, iters, gap in info["running"]:
            self.worker.log_event(self.topic, dict(trial=int(trial), iters=int(iters), gap=float(gap),
                                                   best=float(info["best_gap"]), fit=info.get("fit")))


def _run_trial(problem, trial, seed, deadline, stop_name, topic, backend):
    """One Dask task: trial ``trial`` alone, exactly as it runs inside a batch of an in-process fit.
    Returns (TrialResult or None when the deadline had passed before it started, backend, worker)."""
    from distributed import get_worker

    from .solver import fit

    worker = get_worker()
    _one_numba_thread()
    time_limit = None
    if deadline is not None:
        time_limit = deadline - time.time()
        if time_limit <= 0:  # the run's time limit passed while this trial waited: it never starts
            return None, None, worker.address
    s = problem.settings
    res = fit(problem.dataset, problem.network, sigma=s.sigma, beta=s.beta, gamma=s.gamma, max_iter=s.max_iter,
              gapstop=s.gapstop, dtype=s.dtype, polish=s.polish, support=s.support, seed=seed,
              trial_ids=[trial], batch=1,
              time_limit=time_limit, backend=backend, progress=_TrialHook(worker, trial, stop_name, topic))
    return res.trials[0], res.backend, worker.address


def fit_distributed(dataset, arch, scheduler, **fit_kwargs):
    """``btflearn.fit(dataset, arch, scheduler=scheduler, ...)``: one Dask task per trial."""
    from .solver import fit
    return fit(dataset, arch, scheduler=scheduler, **fit_kwargs)


def run_on_dask(problem, trial_ids, seed, scheduler, time_limit=None, stop_on_first=True, progress=None,
                backend="auto"):
    """The trials ``trial_ids`` of ``problem`` as Dask tasks on ``scheduler`` (see the module docstring).

    The result is merged exactly like an in-process run (btflearn.trials.assemble); ``result.workers``
    maps each trial to the worker that ran it. With ``stop_on_first`` the first verified solution
    cancels the other trials (those still queued never start; those running stop at their next check
    and are listed in ``result.cancelled``). A worker that dies has its trial re-run elsewhere (Dask
    retries). ``time_limit`` bounds the whole run: a trial stops at the deadline and one not started by
    then never starts. ``progress`` gets the same dict as ``fit``'s. Ctrl-C cancels the submitted trials
    and closes what was started.
    """
    distributed = _require_distributed()
    with connect(scheduler) as client:
        run = _DaskRun(client, distributed, problem, trial_ids, progress)
        try:
            run.submit(seed, None if time_limit is None else time.time() + float(time_limit), backend)
            run.collect(stop_on_first)
        except BaseException:  # Ctrl-C, a failed trial: cancel what was submitted, then close
            with contextlib.suppress(Exception):
                run.cancel_rest()
            raise
        finally:
            run.close()
        seconds = time.perf_counter() - run.t0
    return assemble(problem, run.results, len(trial_ids), seed, seconds, run.backend,
                    scheduler=run.where, workers=run.workers, cancelled=run.cancelled)


class _DaskRun:
    """The driver's side of a distributed fit: submitted trials, their results, live progress."""

    def __init__(self, client, distributed, problem, trial_ids, progress):
        self.client, self.distributed, self.problem = client, distributed, problem
        self.trial_ids, self.progress = list(trial_ids), progress
        run_id = uuid.uuid4().hex[:8]
        self.run_id, self.stop_name, self.topic = run_id, f"btflearn-stop-{run_id}", f"btflearn-progress-{run_id}"
        self.where = _scheduler_name(client)
        self.stop = distributed.Event(self.stop_name, client=client)
        self.live, self.lock = {}, threading.Lock()   # trial -> its latest progress event
        client.subscribe_topic(self.topic, self._on_event)
        self.futures, self.results, self.workers, self.cancelled = {}, [], {}, []
        self.taken = set()    # futures whose result has been taken in
        self.backend, self.stop_sent = None, False
        self.t0 = time.perf_counter()

    def _on_event(self, event):
        msg = event[1]
        with self.lock:
            self.live[msg["trial"]] = msg

    def submit(self, seed, deadline, backend):
        shared = self.client.scatter(self.problem, broadcast=True, hash=False)  # replicated: survives a worker
        for k in self.trial_ids:
            fut = self.client.submit(_run_trial, shared, k, int(seed), deadline, self.stop_name, self.topic,
                                     backend, key=f"btflearn-trial-{k}-{self.run_id}", pure=False,
                                     retries=RETRIES)
            self.futures[fut] = k

    def collect(self, stop_on_first):
        """Take in finished trials as they come; the first solution cancels the rest."""
        pending = self.distributed.as_completed(list(self.futures), loop=self.client.loop)
        last_report = time.perf_counter()
        while not pending.is_empty():
            batch = pending.next_batch(block=False)
            if not batch:
                time.sleep(0.05)
                if time.perf_counter() - last_report > 0.5:
                    last_report = time.perf_counter()
                    self.report()
                continue
            for fut in batch:
                self._take(fut)
                if self.results and self.results[-1].solved and stop_on_first and not self.stop_sent:
                    self.cancelled = sorted(self.futures[f] for f in self.cancel_rest())
            self.report()
            if self.stop_sent:
                break
        # trials that finished before the cancel but were not yet handed out by as_completed
        for fut in self.futures:
            if fut not in self.taken and fut.status == "finished":
                self._take(fut)
        done = {r.trial for r in self.results}
        self.cancelled = [k for k in self.cancelled if k not in done]
        self.report()

    def _take(self, fut):
        """Take in one finished trial."""
        self.taken.add(fut)
        trial_result, backend_used, worker = self._result(fut)
        if trial_result is None:
            return
        self.results.append(trial_result)
        self.workers[trial_result.trial] = worker
        self.backend = self.backend or backend_used

    def _result(self, fut):
        try:
            return fut.result()
        except BtfError:
            raise
        except Exception as exc:
            if type(exc).__name__ in ("KilledWorker", "CancelledError", "FutureCancelledError"):
                raise BtfError(f"trial {self.futures[fut]} could not run on the cluster at {self.where}: "
                               f"{exc}") from exc
            raise

    def report(self):
        if self.progress is None:
            return
        done = {r.trial for r in self.results}
        with self.lock:
            running = sorted((k, m["iters"], m["gap"]) for k, m in self.live.items() if k not in done)
            live_best = [m["best"] for k, m in self.live.items() if k not in done]
            fits = [m["fit"] for k, m in self.live.items() if k not in done and m.get("fit") is not None]
        self.progress(dict(elapsed=time.perf_counter() - self.t0, running=running, finished=len(self.results),
                           fit=max(fits, default=None),
                           trials=len(self.trial_ids), solved=sum(r.solved for r in self.results),
                           best_gap=min(live_best + [r.best_gap for r in self.results] + [math.inf]),
                           max_iter=self.problem.settings.max_iter))

    def cancel_rest(self) -> list:
        rest = [f for f in self.futures if not f.done()]
        if rest:
            self.client.cancel(rest)
        if not self.stop_sent:
            self.stop_sent = True
            with contextlib.suppress(Exception):
                self.stop.set()
        return rest

    def close(self):
        with contextlib.suppress(Exception):
            self.client.unsubscribe_topic(self.topic)
        if not self.stop_sent:  # nothing left running; drop the Event's state on the scheduler
            with contextlib.suppress(Exception):
                self.stop.clear()


def map_points(scheduler, fn, points, shared=None, progress=None, describe=None):
    """Run ``fn(shared, *point)`` for every point as one Dask task each (pure=False, retries) and return
    the results in the order of ``points``. ``shared`` (e.g. the data pool) is sent to every worker once.
    ``progress(message)`` is called as points finish. Ctrl-C cancels what was submitted."""
    distributed = _require_distributed()
    points = list(points)
    out = [None] * len(points)
    with connect(scheduler) as client:
        run_id = uuid.uuid4().hex[:8]
        futures = {}
        try:
            data = client.scatter(shared, broadcast=True, hash=False) if shared is not None else None
            for i, point in enumerate(points):
                fut = client.submit(_run_point, fn, data, tuple(point), key=f"btflearn-point-{i}-{run_id}",
                                    pure=False, retries=RETRIES)
                futures[fut] = i
            for fut in distributed.as_completed(list(futures), loop=client.loop):
                i = futures[fut]
                value, worker = fut.result()
                out[i] = value
                if progress is not None:
                    label = describe(points[i]) if describe else str(points[i])
                    progress(f"finished {label} on {worker}")
        except BaseException:
            with contextlib.suppress(Exception):
                client.cancel([f for f in futures if not f.done()])
            raise
    return out


def _run_point(fn, shared, point):
    from distributed import get_worker
    _one_numba_thread()
    return fn(shared, *point), get_worker().address
