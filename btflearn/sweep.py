"""Generalization sweeps: train on the first N items of a pool for several N and seeds, test on the rest.

One row per (method, N, seed): BTF rows come from ``btflearn.fit`` (the same data, arch and solver options
for every N), baseline rows from ``btflearn.baselines`` on the same split. ``SweepResult.table()`` averages
the rows of each (method, N) over the seeds; ``plot_sweep`` draws test accuracy vs N and the RRR gap vs
iterations (matplotlib, the optional ``plot`` extra).
"""
from __future__ import annotations

import json
import math
import time
from dataclasses import asdict, dataclass, field

import numpy as np

from .dataset import Dataset
from .errors import BtfError


@dataclass
class SweepRow:
    method: str              # "btf" or a baseline name ("adamw")
    n_train: int
    seed: int
    solved: bool             # btf: exact on every training item; baseline: the same test on its training fit
    train_per_bit: float
    train_exact: float
    test_per_bit: float | None
    test_exact: float | None
    iterations: int | None   # btf: RRR iterations of the returned model; baseline: optimizer steps
    seconds: float
    n_test: int
    gap_history: list = field(default_factory=list)  # btf: [(iteration, gap)] of the returned trial
    model: object = field(default=None, repr=False, compare=False)  # btf: the fitted Model (not in JSON)


@dataclass
class SweepResult:
    task: str
    arch: str
    rows: list
    settings: dict

    def groups(self) -> list[tuple[str, int, list]]:
        keys = []
        for r in self.rows:
            if (r.method, r.n_train) not in keys:
                keys.append((r.method, r.n_train))
        keys.sort(key=lambda k: (k[0] != "btf", k[0], k[1]))
        return [(m, n, [r for r in self.rows if r.method == m and r.n_train == n]) for m, n in keys]

    def summary_rows(self) -> list[dict]:
        """One dict per (method, N): means over seeds (test values None when there is no test set)."""
        out = []
        for method, n, rows in self.groups():
            def mean(attr):
                vals = [getattr(r, attr) for r in rows if getattr(r, attr) is not None]
                return float(np.mean(vals)) if vals else None
            out.append(dict(method=method, n_train=n, runs=len(rows), solved=sum(r.solved for r in rows),
                            train_per_bit=mean("train_per_bit"), train_exact=mean("train_exact"),
                            test_per_bit=mean("test_per_bit"), test_exact=mean("test_exact"),
                            test_per_bit_min=min((r.test_per_bit for r in rows if r.test_per_bit is not None),
                                                 default=None),
                            test_per_bit_max=max((r.test_per_bit for r in rows if r.test_per_bit is not None),
                                                 default=None),
                            iterations=mean("iterations"), seconds=mean("seconds"), n_test=rows[0].n_test))
        return out

    def table(self, markdown: bool = False) -> str:
        """The generalization table: per (method, N) the mean over seeds of test per-bit and exact
        accuracy, train accuracy, iterations (BTF) / steps (baseline) and seconds."""
        head = ["method", "N", "runs", "solved", "test per-bit", "test exact", "train per-bit", "train exact",
                "iterations", "seconds"]

        def pct(v):
            return "-" if v is None else f"{100 * v:.1f}%"

        body = []
        for s in self.summary_rows():
            it = "-" if s["iterations"] is None else f"{s['iterations']:.0f}"
            body.append([s["method"], str(s["n_train"]), str(s["runs"]), f"{s['solved']}/{s['runs']}",
                         pct(s["test_per_bit"]), pct(s["test_exact"]), pct(s["train_per_bit"]),
                         pct(s["train_exact"]), it, f"{s['seconds']:.1f}"])
        if markdown:
            lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
            lines += ["| " + " | ".join(r) + " |" for r in body]
            return "\n".join(lines)
        widths = [max(len(h), *(len(r[k]) for r in body)) if body else len(h) for k, h in enumerate(head)]
        fmt = lambda r: "  ".join(c.rjust(w) if k > 0 else c.ljust(w) for k, (c, w) in enumerate(zip(r, widths)))
        return "\n".join([fmt(head)] + [fmt(r) for r in body])

    def to_dict(self) -> dict:
        return {"task": self.task, "arch": self.arch, "settings": self.settings,
                "summary": self.summary_rows(),
                "rows": [{k: v for k, v in asdict(r).items() if k != "model"} for r in self.rows]}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=1, default=_json_default)


def _json_default(o):
    if isinstance(o, (np.integer,)):
        return int(o)
    if isinstance(o, (np.floating,)):
        return float(o)
    if isinstance(o, np.ndarray):
        return o.tolist()
    raise TypeError(type(o))


def parse_int_list(text) -> list[int]:
    """'64,128,256' -> [64, 128, 256]."""
    if isinstance(text, (list, tuple)):
        return [int(v) for v in text]
    try:
        vals = [int(v) for v in str(text).replace(" ", "").split(",") if v]
    except ValueError:
        raise BtfError(f"expected comma-separated integers, got {text!r}") from None
    if not vals:
        raise BtfError(f"expected comma-separated integers, got {text!r}")
    return vals


def run_sweep(pool: Dataset, arch, ns, seeds=(0,), fit_options: dict | None = None,
              baseline: str | None = None, baseline_options: dict | None = None, progress=None,
              task: str | None = None, scheduler=None) -> SweepResult:
    """For every N in ``ns`` and seed in ``seeds``: train on ``pool.split(N)[0]`` (the first N items) and
    test on the rest. ``fit_options`` go to ``btflearn.fit`` (its ``seed`` is set to each seed);
    ``baseline`` ("adamw" or None) adds a gradient-trained MLP of the same widths on the same split.
    ``progress(message)`` is called before each run (as each point finishes with a scheduler).
    ``scheduler`` (``"local:N"``, ``"tcp://host:8786"``, a distributed.Client; see btflearn.distributed)
    runs every (N, seed) point as one Dask task; the rows come back in the same order."""
    ns = sorted(set(parse_int_list(ns)))
    seeds = parse_int_list(seeds)
    if ns[0] < 1 or ns[-1] > pool.n_items:
        raise BtfError(f"training-set sizes must lie in 1..{pool.n_items} (the pool size), got {ns}")
    if baseline is not None:
        from .baselines import BASELINES
        if baseline not in BASELINES:
            raise BtfError(f"unknown baseline {baseline!r}; available: {', '.join(BASELINES)}")
    fit_options = dict(fit_options or {})
    fit_options.pop("seed", None)
    points = [(arch, n, seed, fit_options, baseline, baseline_options) for n in ns for seed in seeds]
    if scheduler is not None:
        from .distributed import map_points
        per_point = map_points(scheduler, sweep_point, points, shared=pool, progress=progress,
                               describe=lambda p: f"point N={p[1]} seed={p[2]}")
    else:
        per_point = [sweep_point(pool, *p, progress=progress) for p in points]
    rows = [row for point_rows in per_point for row in point_rows]
    settings = {"ns": ns, "seeds": seeds, "pool": pool.n_items, "fit": _plain(fit_options),
                "baseline": baseline, "baseline_options": _plain(baseline_options or {})}
    arch_name = arch if isinstance(arch, str) else getattr(arch, "arch", str(arch))
    return SweepResult(task or pool.name, str(arch_name), rows, settings)


def sweep_point(pool: Dataset, arch, n: int, seed: int, fit_options: dict, baseline=None,
                baseline_options=None, progress=None) -> list:
    """One unit of a sweep: the BTF row (and the baseline row) of training on the first ``n`` items of
    ``pool`` with solver seed ``seed``, tested on the rest."""
    from .solver import fit

    train, test = pool.split(n)
    rows = []
    if progress:
        progress(f"btf N={n} seed={seed}")
    t0 = time.perf_counter()
    res = fit(train, arch=arch, seed=seed, **fit_options)
    seconds = time.perf_counter() - t0
    tr = res.model.accuracy(train) if train.input_mode == "data" else (res.per_bit, res.exact)
    te = res.model.accuracy(test) if test is not None else (None, None)
    trial = next((t for t in res.trials if t.trial == res.model.hyperparameters.get("trial")),
                 res.trials[0] if res.trials else None)
    hist = [(int(i), float(g)) for i, g in (trial.gap_history if trial is not None else [])
            if math.isfinite(g)]
    rows.append(SweepRow("btf", n, seed, bool(res.solved), tr[0], tr[1], te[0], te[1],
                         int(res.iterations), seconds, 0 if test is None else test.n_items, hist,
                         res.model))
    if baseline is not None:
        from .baselines import run_baseline
        if progress:
            progress(f"{baseline} N={n} seed={seed}")
        t0 = time.perf_counter()
        b = run_baseline(baseline, train, test, arch, seed=seed, **(baseline_options or {}))
        seconds = time.perf_counter() - t0
        te_b = b.test_accuracy or (None, None)
        rows.append(SweepRow(baseline, n, seed, b.train_accuracy[1] == 1.0, b.train_accuracy[0],
                             b.train_accuracy[1], te_b[0], te_b[1], b.steps, seconds,
                             0 if test is None else test.n_items))
    return rows


def _plain(d):
    return {k: (v if isinstance(v, (int, float, str, bool, type(None))) else str(v)) for k, v in d.items()
            if not callable(v)}


def plot_sweep(result: SweepResult, path) -> str:
    """Two panels: mean test accuracy (per-bit, and exact dashed) vs N per method, and the RRR gap vs
    iterations of every BTF run (log-log). Needs matplotlib (``pip install 'btflearn[plot]'``)."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise BtfError("--plot needs matplotlib: pip install 'btflearn[plot]'") from None
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
