"""Plots of finished runs (optional: needs matplotlib, ``pip install 'btflearn[plot]'``)."""
from __future__ import annotations

import json
from pathlib import Path

from .errors import BtfError, FormatError


def read_gap_histories(path) -> list[tuple[str, list, bool]]:
    """(label, [(iteration, gap)], solved) per trial of a ``result.json`` written by ``solve --out``."""
    path = Path(path)
    try:
        report = json.loads(path.read_text())
        trials = report["trials"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise FormatError(path, f"not a btflearn result.json ({exc})") from None
    name = path.parent.name or path.stem
    out = []
    for t in trials:
        history = t.get("gap_history")
        if not history:
            raise FormatError(path, f"trial {t.get('trial')} has no gap_history (written by an older btflearn)")
        label = name if len(trials) == 1 else f"{name} trial {t['trial']}"
        out.append((label, [tuple(h) for h in history], bool(t.get("solved"))))
    return out


def plot_gap(results, path, title: str | None = None) -> str:
    """The RRR gap against iterations (log-log) of every trial in the given result.json files."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise BtfError("plotting needs matplotlib: pip install 'btflearn[plot]'") from None
    curves = [c for r in results for c in read_gap_histories(r)]
    fig, ax = plt.subplots(figsize=(7, 4.2))
    for label, history, solved in curves:
        it, gap = zip(*history)
        ax.plot(it, gap, lw=1.2, label=label + (" (solved)" if solved else ""))
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("RRR iteration")
    ax.set_ylabel("gap")
    ax.set_title(title or "gap against iterations")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return str(path)
