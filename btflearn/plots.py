"""Plots of finished runs (optional: needs matplotlib, ``pip install 'btflearn[plot]'``)."""
from __future__ import annotations

from .errors import BtfError
from .report import gap_histories


def plot_gap(results, path, title: str | None = None) -> str:
    """The RRR gap against iterations (log-log) of every trial in the given result.json files."""
    plt = _pyplot()
    curves = [c for r in results for c in gap_histories(r)]
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


def plot_sweep(result, path) -> str:
    """Two panels: mean test accuracy (per-bit, and exact dashed) vs N per method, and the RRR gap vs
    iterations of every BTF run (log-log). Needs matplotlib (``pip install 'btflearn[plot]'``)."""
    plt = _pyplot()
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.2))
    summary = result.summary_rows()
    for method in dict.fromkeys(s["method"] for s in summary):
        pts = [s for s in summary if s["method"] == method and s["test_per_bit"] is not None]
        if not pts:
            continue
        n = [s["n_train"] for s in pts]
        line, = ax1.plot(n, [100 * s["test_per_bit"] for s in pts], "o-", label=f"{method} per-bit")
        ax1.plot(n, [100 * s["test_exact"] for s in pts], "s--", color=line.get_color(),
                 label=f"{method} exact")
    ax1.set_xscale("log", base=2)
    ax1.set_xlabel("training items N")
    ax1.set_ylabel("test accuracy (%)")
    ax1.set_title(f"{result.task}: {result.arch}")
    ax1.grid(alpha=0.3)
    ax1.legend(fontsize=8)
    for r in result.rows:
        if r.method == "btf" and r.gap_history:
            it, gap = zip(*r.gap_history)
            ax2.plot(it, gap, lw=1, label=f"N={r.n_train} s={r.seed}" + (" solved" if r.solved else ""))
    ax2.set_xscale("log")
    ax2.set_yscale("log")
    ax2.set_xlabel("RRR iteration")
    ax2.set_ylabel("gap")
    ax2.set_title("gap vs iterations")
    ax2.grid(alpha=0.3)
    if ax2.lines:
        ax2.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return str(path)


def _pyplot():
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise BtfError("plotting needs matplotlib: pip install 'btflearn[plot]'") from None
    return plt
