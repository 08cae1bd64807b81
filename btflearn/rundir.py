"""The run directory of ``btflearn solve ... --out DIR``: what it holds and how it is written.

DIR/task.json     the task and its options (so ``--resume DIR`` rebuilds the same data)
DIR/checkpoint.npz  the state of an unfinished run (btflearn.checkpoint)
DIR/model.json    the returned model          DIR/result.json  the run's report (btflearn.report)
DIR/model.min.json  the minimised model (btflearn.sparsify), exact on the same items
DIR/circuit.*     the verified netlists of the (minimised) solved model

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


def save_run(directory, result, dataset, report: dict, minimise_time: float | None = None, progress=None,
             note=lambda text: None, test=None, anchors: int | None = None) -> list[str]:
    """Write a fit's outputs: model.json, result.json (``report``, completed here with the circuit and
    minimisation statistics) and, for a solved model whose circuit can be written, the minimised model
    (unless ``minimise_time`` is 0) and its verified netlists (shrunk by care-set resubstitution, unless
    ``minimise_time`` is 0; each stage gets ``minimise_time`` seconds, None = 60). With a ``test`` set,
    the minimised model's test accuracy is reported beside the read-out's. ``anchors``: see
    btflearn.sparsify. ``note(text)`` hears why no circuit was written; ``progress`` gets the
    minimisation's steps. Returns the file names."""
    from .circuits import export_all, no_circuit_reason
    from .dataset import Dataset
    from .report import write_result

    out = Path(directory)

    def write(folder):
        result.model.save(folder / "model.json")
        if result.solved:
            data = dataset
            if result.codes is not None:  # free inputs: the circuit maps the learned codes to the outputs
                data = Dataset(result.codes, dataset.outputs, readout=dataset.readout, name=dataset.name,
                               output_names=dataset.output_names)
            reason = no_circuit_reason(result.model, data)
            if reason:
                report["circuit"] = f"not exported: {reason}"
                note(f"no circuit written: {reason}")
            else:
                model = result.model
                if minimise_time != 0:
                    from .sparsify import DEFAULT_TIME_LIMIT, sparsify
                    model, done = sparsify(model, data, time_limit=minimise_time or DEFAULT_TIME_LIMIT,
                                           progress=progress, seed=int(result.hyperparameters.get("seed", 0)),
                                           anchors=anchors)
                    model.save(folder / "model.min.json")
                    report["minimise"] = done.to_dict()
                    if test is not None:
                        report["minimise"]["test_per_bit"], report["minimise"]["test_exact"] = model.accuracy(test)
                report["circuit"] = export_all(model, data, folder, resub=minimise_time != 0, progress=progress,
                                               resub_time=minimise_time or None)
                report["circuit"]["files"] = {k: str(out / Path(v).name)
                                              for k, v in report["circuit"].get("files", {}).items()}
        write_result(folder, report)

    return write_outputs(out, write)
