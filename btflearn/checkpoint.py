"""Checkpoints of a running fit: everything needed to continue a run exactly where it stopped.

A checkpoint is one .npz file (no pickle): the replicated state of every slot, the per-slot
bookkeeping and the finished trials as JSON, and a fingerprint of the data, network and settings so a
checkpoint is never resumed against a different problem. Files are written to a temporary name and
renamed, so a crash while saving leaves the previous checkpoint intact.
"""
from __future__ import annotations

import hashlib
import json
import os
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
    except (OSError, ValueError, KeyError, UnicodeDecodeError) as exc:
        raise FormatError(path, f"not a readable btflearn checkpoint ({exc})") from None
    return meta, state, extra
