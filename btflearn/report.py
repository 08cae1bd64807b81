"""Reports of runs: the result.json of a fit (written and read back here only), plain tables, JSON values.

Every table btflearn prints (sweeps, grids) goes through ``table``; every JSON file goes through
``to_json``; plots and tools read result.json through ``read_result``.
"""
from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

from .errors import FormatError

RESULT_FILE = "result.json"


def plain(value):
    """A JSON-ready version of ``value``: NumPy scalars and arrays become Python numbers and lists,
    non-finite floats None, Networks their arch string, anything else unknown its str()."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items() if not callable(v)}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return plain(value.tolist())
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value) if math.isfinite(value) else None
    if value is None or isinstance(value, str):
        return value
    return getattr(value, "arch", None) or str(value)


def to_json(value) -> str:
    return json.dumps(plain(value), indent=1)


def table(head: list, body: list, markdown: bool = False, left: int = 1) -> str:
    """A text table (the first ``left`` columns left-aligned, the rest right-aligned) or a Markdown one."""
    if markdown:
        lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        return "\n".join(lines + ["| " + " | ".join(r) + " |" for r in body])
    widths = [max([len(h)] + [len(r[k]) for r in body]) for k, h in enumerate(head)]

    def fmt(r):
        return "  ".join(c.ljust(w) if k < left else c.rjust(w) for k, (c, w) in enumerate(zip(r, widths)))
    return "\n".join([fmt(head)] + [fmt(r) for r in body])


def fit_report(result, dataset, test=None) -> dict:
    """The result.json of a fit: outcome, settings, every trial (with its gap history) and, given a test
    set, the test accuracy of the returned model."""
    report = {"task": dataset.name, "solved": result.solved, "iterations": result.iterations,
              "seconds": round(result.seconds, 3), "train_per_bit": result.per_bit,
              "train_exact": result.exact, "backend": result.backend,
              "hyperparameters": result.hyperparameters,
              "trials": [{"trial": t.trial, "solved": t.solved, "iterations": t.iterations,
                          "seconds": round(t.seconds, 3), "gap": t.gap, "best_gap": t.best_gap,
                          "per_bit": t.per_bit, "exact": t.exact, "gap_history": t.gap_history}
                         for t in result.trials]}
    if result.scheduler:  # a Dask run: where each trial ran
        report["scheduler"] = result.scheduler
        for row in report["trials"]:
            row["worker"] = result.workers.get(row["trial"])
        if result.cancelled:
            report["cancelled_trials"] = result.cancelled
    if test is not None:
        per_bit, exact = result.model.accuracy(test)
        report.update(test_per_bit=per_bit, test_exact=exact, test_items=test.n_items)
    return report


def write_result(directory, report: dict) -> Path:
    path = Path(directory) / RESULT_FILE
    path.write_text(json.dumps(report, indent=1, default=float) + "\n")
    return path


def read_result(path) -> dict:
    """A result.json (or the one in a directory); FormatError when it is not one."""
    path = Path(path)
    if path.is_dir():
        path = path / RESULT_FILE
    try:
        report = json.loads(path.read_text())
        if not isinstance(report.get("trials"), list):
            raise KeyError("trials")
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise FormatError(path, f"not a btflearn result.json ({exc})") from None
    return report


def gap_histories(path) -> list[tuple[str, list, bool]]:
    """(label, [(iteration, gap)], solved) per trial of a result.json written by ``solve --out``."""
    path = Path(path)
    report = read_result(path)
    name = path.parent.name or path.stem
    out = []
    for t in report["trials"]:
        history = t.get("gap_history")
        if not history:
            raise FormatError(path, f"trial {t.get('trial')} has no gap_history")
        label = name if len(report["trials"]) == 1 else f"{name} trial {t['trial']}"
        out.append((label, [tuple(h) for h in history], bool(t.get("solved"))))
    return out
