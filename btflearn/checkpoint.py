"""Checkpoints of a running fit: everything needed to continue a run exactly where it stopped.

A checkpoint is one .npz file (no pickle): the replicated state of every slot, the per-slot
bookkeeping and the finished trials as JSON, and a fingerprint of the data, network and settings so a
checkpoint is never resumed against a different problem. Files are written to a temporary name and
renamed, so a crash while saving leaves the previous checkpoint intact.
"""
from __future__ import annotations

import hashlib
import json
import math
import os
import time
import zipfile
from dataclasses import asdict
from pathlib import Path

import numpy as np

from .errors import BtfError, FormatError

FORMAT = "btflearn.checkpoint/1"
STATE_FIELDS = ("zw", "zx", "zy", "g", "wb", "iters", "status", "gapstop")


def fingerprint(dataset, net) -> str:
    """Hash of what a run learns: the items, how inputs and outputs are read, and the network's edges."""
    h = hashlib.sha256()
    for array in (dataset.inputs, dataset.outputs, net.receivers, net.senders):
        a = np.ascontiguousarray(array)
        h.update(str((a.dtype.str, a.shape)).encode())
        h.update(a.tobytes())
    h.update(f"{dataset.input_mode}/{dataset.readout}/{net.n_nodes}/{net.n_inputs}/{net.n_outputs}".encode())
    return h.hexdigest()


def save(path, meta: dict, state, arrays: dict) -> Path:
    """Write ``meta`` (JSON-able), the SolverState fields and extra named arrays atomically."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    payload = {f"state_{k}": getattr(state, k) for k in STATE_FIELDS}
    payload.update({f"extra_{k}": v for k, v in arrays.items()})
    with open(tmp, "wb") as f:
        np.savez(f, meta=np.frombuffer(json.dumps(dict(meta, format=FORMAT)).encode(), dtype=np.uint8),
                 **payload)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    return path


def load(path):
    """(meta, state fields dict, extra arrays dict) of a checkpoint; FormatError if it is not one."""
    return _read(path, arrays=True)


def check_compatible(path, meta: dict, fp: str, hyper: dict):
    """Refuse to resume a checkpoint of another problem or with other settings, naming what differs."""
    if meta["fingerprint"] != fp:
        raise BtfError(f"checkpoint {path} belongs to another data set or network; "
                       "resume with the same task options and architecture")
    keys = sorted(set(meta["hyperparameters"]) | set(hyper))
    diff = [f"{k}: checkpoint {meta['hyperparameters'].get(k)!r}, now {hyper.get(k)!r}" for k in keys
            if meta["hyperparameters"].get(k) != hyper.get(k)]
    if diff:
        raise BtfError(f"checkpoint {path} was made with other settings ({'; '.join(diff)})")


def read_meta(path) -> dict:
    """Only the JSON part of a checkpoint (settings, progress), without loading the state."""
    return _read(path, arrays=False)[0]


def _read(path, arrays: bool):
    path = Path(path)
    if not path.is_file():
        raise BtfError(f"no checkpoint at {path}")
    try:
        with np.load(path, allow_pickle=False) as z:
            meta = json.loads(z["meta"].tobytes().decode())
            if meta.get("format") != FORMAT:
                raise FormatError(path, f"not a {FORMAT} file (format {meta.get('format')!r})")
            if not arrays:
                return meta, None, None
            state = {k: z[f"state_{k}"] for k in STATE_FIELDS}
            extra = {k[len("extra_"):]: z[k] for k in z.files if k.startswith("extra_")}
    except (OSError, ValueError, KeyError, UnicodeDecodeError, EOFError, zipfile.BadZipFile):
        # NumPy's own text here (e.g. advice to allow pickle) would mislead: say what the file is not.
        raise FormatError(path, "not a readable btflearn checkpoint (damaged, or another kind of file)") from None
    return meta, state, extra


# -- the layout of a running fit (btflearn.solver.InProcessRun) ----------------------------------------
def _finite(x):   # JSON has no infinity
    return None if x is None or not math.isfinite(x) else float(x)


def _unfinite(x):
    return math.inf if x is None else float(x)


def save_run(path, run, fp: str) -> Path:
    """Save an in-process run: its state, every slot's bookkeeping and the finished trials."""
    run.engine.sync_state(run.state)  # device backends: bring the state home first
    now = time.perf_counter()
    extra, slots, done = {}, [], []
    for k, s in enumerate(run.slots):
        if s is None:
            slots.append(None)
            continue
        sol = None
        if s.solution is not None:
            sol = dict(iteration=s.solution.iteration, accuracy=list(s.solution.accuracy), gap=s.solution.gap)
            extra[f"slot{k}_weights"] = s.solution.model.weights
            if s.solution.codes is not None:
                extra[f"slot{k}_codes"] = s.solution.codes
        slots.append(dict(trial=s.trial, seed=s.seed, seconds=now - s.start, history=s.history,
                          best=_finite(s.best), next_tick=s.next_tick, last_gap=_finite(s.last_gap),
                          solution=sol, first_exact=s.first_exact, polish_until=s.polish_until))
    for j, r in enumerate(run.results):
        extra[f"result{j}_weights"] = r.weights
        if r.codes is not None:
            extra[f"result{j}_codes"] = r.codes
        d = asdict(r)
        d.pop("weights"), d.pop("codes")
        d.update(gap=_finite(d["gap"]), best_gap=_finite(d["best_gap"]))
        done.append(d)
    meta = dict(fingerprint=fp, hyperparameters=run.problem.hyperparameters(len(run.trial_ids), run.seed),
                trial_list=run.trial_ids, next_trial=run.next_trial, slot_iterations=run.state.iters.tolist(),
                elapsed=now - run.t0, slots=slots, results=done)
    return save(path, meta, run.state, extra)


def restore_run(path, run, fp: str):
    """Put a saved run back into a freshly built ``run`` of the same problem and settings."""
    from .solver import Readout, Slot
    from .trials import TrialResult

    meta, saved, extra = load(path)
    check_compatible(path, meta, fp, run.problem.hyperparameters(len(run.trial_ids), run.seed))
    if saved["zw"].shape != run.state.zw.shape:
        raise BtfError(f"checkpoint {path} advanced {saved['zw'].shape[0]} trials together; "
                       f"resume with batch={saved['zw'].shape[0]}")
    for name, value in saved.items():
        getattr(run.state, name)[...] = value
    now = time.perf_counter()
    run.t0 = now - meta["elapsed"]
    run.next_trial = meta["next_trial"]
    for k, m in enumerate(meta["slots"]):
        if m is None:
            run.slots[k] = None
            continue
        s = Slot(m["trial"], m["seed"], now - m["seconds"], m["next_tick"])
        s.history = [tuple(h) for h in m["history"]]
        s.best, s.last_gap = _unfinite(m["best"]), _unfinite(m["last_gap"])
        s.polish_until = m["polish_until"]
        if m["solution"] is not None:
            sol = m["solution"]
            s.solution = Readout(sol["iteration"], run.problem.model(extra[f"slot{k}_weights"]),
                                 tuple(sol["accuracy"]), extra.get(f"slot{k}_codes"), sol["gap"])
            # a checkpoint without the field kept the first verified read-out as the solution
            s.first_exact = m.get("first_exact", sol["iteration"])
        run.slots[k] = s
    for j, d in enumerate(meta["results"]):
        d.update(gap=_unfinite(d["gap"]), best_gap=_unfinite(d["best_gap"]),
                 gap_history=[tuple(h) for h in d["gap_history"]],
                 weights=extra[f"result{j}_weights"], codes=extra.get(f"result{j}_codes"))
        run.results.append(TrialResult(**d))
