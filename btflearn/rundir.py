"""The run directory of ``btflearn solve ... --out DIR``: what it holds and how it is written.

DIR/task.json     the task and its options (so ``--resume DIR`` rebuilds the same data)
DIR/checkpoint.npz  the state of an unfinished run (btflearn.checkpoint)
DIR/model.json    the returned model          DIR/result.json  the run's report (btflearn.report)
DIR/circuit.*     the verified netlists of a solved model

Outputs are written into a hidden folder inside DIR and then moved into place, and circuit files that the
new model does not produce are removed, so DIR never holds a model beside a circuit of another run.
"""
from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

from .errors import BtfError, FormatError

CHECKPOINT = "checkpoint.npz"
TASK_FILE = "task.json"
CIRCUIT_STEM = "circuit"


def check_writable(directory) -> Path:
    """Create ``directory`` if needed and make sure files can be written there, before any work starts."""
    path = Path(directory)
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path, prefix=".btflearn-write-test-"):
            pass
    except OSError as exc:
        raise BtfError(f"cannot write to {path}: {exc.strerror or exc}") from None
    return path


def save_task(directory, command: str, options: dict):
    """Record the task a run learns (its command and task options) beside its checkpoint."""
    text = json.dumps({"command": command, "options": options}, indent=1, default=str) + "\n"
    _replace(Path(directory) / TASK_FILE, text)


def load_task(directory) -> dict:
    """The {"command", "options"} a run in ``directory`` was started with; {} when none was recorded."""
    path = Path(directory) / TASK_FILE
    if not path.exists():
        return {}
    try:
        task = json.loads(path.read_text())
        if not isinstance(task.get("options"), dict):
            raise ValueError("no options")
    except (OSError, ValueError, AttributeError) as exc:
        raise FormatError(path, f"not a btflearn task record ({exc})") from None
    return task


def write_outputs(directory, write) -> list[str]:
    """Call ``write(folder)`` to produce the run's files in a fresh hidden folder, then move them into
    ``directory`` together, removing circuit files the new run did not write. Returns the file names."""
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=out, prefix=".partial-"))
    try:
        write(tmp)
        names = sorted(p.name for p in tmp.iterdir())
        for stale in out.glob(CIRCUIT_STEM + ".*"):
            if stale.name not in names:
                stale.unlink()
        for name in names:
            os.replace(tmp / name, out / name)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return names


def _replace(path: Path, text: str):
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)
