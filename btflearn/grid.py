"""Experiment grids: many fits of one task, run in process or as Dask tasks, reported as tables.

Two kinds of grid, one machinery (parsing, checking every value first, running the points, warming the
JIT once per process, tables and JSON through btflearn.report):
- a generalization sweep (``run_sweep``): train on the first N items of a pool for every N and seed,
  test on the rest, optionally beside a same-shape AdamW baseline; one row per (method, N, seed);
- a settings grid (``settings_sweep``): solver settings (arch, sigma, beta, gamma, dtype, ...) x seeds,
  one single-trial fit per (setting, seed); the table gives success rates and iterations to solution.
Trial 0 of seed s starts from SeedSequence([s, 0]) and the read-out checks come at fixed iterations, so
every row's outcome and iterations are reproducible (only its seconds vary), in process or on Dask.
"""
from __future__ import annotations

import itertools
import json
import math
import statistics
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from .dataset import Dataset
from .errors import BtfError
from .report import plain, table, to_json

# fit() settings that may vary along a settings-grid axis (or be fixed in base_kwargs)
GRID_KEYS = ("arch", "sigma", "beta", "gamma", "dtype", "max_iter", "gapstop", "polish")
BASE_KEYS = GRID_KEYS + ("time_limit", "backend")
# the grid sets these itself: one trial per run, seeded by the run's seed
RESERVED = ("seed", "trials", "trial_ids", "batch", "stop_on_first", "progress", "checkpoint", "resume")


# ----------------------------------------------------------------------------------------- parsing
def _split(text, what) -> list[str]:
    if isinstance(text, (list, tuple)):
        items = [str(v).strip() for v in text]
    else:
        items = [v.strip() for v in str(text).split(",")]
    if not items or any(not v for v in items):
        raise BtfError(f"{what}: expected a comma-separated list of values, got {text!r}")
    if len(set(items)) != len(items):
        raise BtfError(f"{what}: a value is listed twice in {text!r}")
    return items


def _numbers(text, what, cast, kind) -> list:
    out = []
    for v in _split(text, what):
        try:
            out.append(cast(v))
        except ValueError:
            raise BtfError(f"{what}: {v!r} is not {kind}") from None
    return out


def parse_float_list(text, what="value") -> list[float]:
    """'3,5' -> [3.0, 5.0]; every value finite, none twice ('3,3.0' is a repeat)."""
    out = _numbers(text, what, float, "a number")
    bad = [v for v in out if not math.isfinite(v)]
    if bad:
        raise BtfError(f"{what}: {bad[0]!r} is not a finite number")
    if len(set(out)) != len(out):
        raise BtfError(f"{what}: a value is listed twice in {text!r}")
    return out


def parse_str_list(text, what="value") -> list[str]:
    return _split(text, what)


def parse_seeds(text) -> list[int]:
    """'0-4' -> [0, 1, 2, 3, 4]; '0,2,7-9' -> [0, 2, 7, 8, 9]. Non-negative, each at most once."""
    if isinstance(text, int):
        text = str(text)
    seeds = []
    for part in _split(text, "seeds"):
        lo, sep, hi = part.partition("-")
        try:
            if sep:
                a, b = int(lo), int(hi)
                if b < a:
                    raise BtfError(f"seeds: empty range {part!r}")
                seeds.extend(range(a, b + 1))
            else:
                seeds.append(int(part))
        except ValueError:
            raise BtfError(f"seeds: {part!r} is not a non-negative integer or a range like 0-4") from None
    if any(s < 0 for s in seeds):
        raise BtfError(f"seeds must be non-negative, got {text!r}")
    if len(set(seeds)) != len(seeds):
        raise BtfError(f"seeds: a seed is listed twice in {text!r}")
    return seeds


def parse_int_list(text, what="value") -> list[int]:
    """'64,128,256' -> [64, 128, 256]."""
    return _numbers(text, what, int, "an integer")


# ----------------------------------------------------------------------------------------- running

_WARM = set()  # (dtype, backend) whose kernels this process has run


def warm_up(dataset, kwargs: dict):
    """Compile (or load) the kernels a fit with ``kwargs`` uses, once per process, so that the JIT is
    not part of the first row's seconds."""
    from .solver import fit
    # the trial count picks the kernel layout (whole trials per thread, or one trial's items split)
    key = (kwargs.get("dtype", "float64"), kwargs.get("backend", "auto"), kwargs.get("trials", 1))
    if key not in _WARM:
        short = {k: v for k, v in kwargs.items() if k not in ("time_limit", "seed")}
        fit(dataset, **dict(short, max_iter=1))
        _WARM.add(key)


def run_points(fn, shared, points: list, scheduler=None, progress=None, describe=str) -> list:
    """``[fn(shared, *point) for point in points]``, in process or one Dask task per point (the results
    in the order of ``points`` either way). ``progress(message)`` is called as each point finishes."""
    if scheduler is not None:
        from .distributed import map_points
        return map_points(scheduler, fn, points, shared=shared, progress=progress, describe=describe)
    out = []
    for point in points:
        out.append(fn(shared, *point))
        if progress is not None:
            progress(f"{describe(point)}: {_outcome(out[-1])}")
    return out


def _outcome(value) -> str:
    if isinstance(value, RunRecord):
        return value.outcome()
    return ", ".join(f"{r.method} {r.summary()}" for r in value)


# ----------------------------------------------------------------------------------------- generalization
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

    def summary(self) -> str:
        test = "" if self.test_per_bit is None else f", test per-bit {self.test_per_bit:.4f}"
        return f"N={self.n_train} seed {self.seed}: {'solved' if self.solved else 'not solved'}{test}"


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
        return table(head, body, markdown)

    def to_dict(self) -> dict:
        return {"task": self.task, "arch": self.arch, "settings": self.settings,
                "summary": self.summary_rows(),
                "rows": [{k: v for k, v in asdict(r).items() if k != "model"} for r in self.rows]}

    def to_json(self) -> str:
        return to_json(self.to_dict())

    def save(self, directory, task=None) -> list[str]:
        """sweep.json, every BTF model as model_N{n}_s{seed}.json and, for a cellular automaton ``task``,
        the local rule read back from each model (rule_N{n}_s{seed}.txt). Returns the file names."""
        out = Path(directory)
        out.mkdir(parents=True, exist_ok=True)
        (out / "sweep.json").write_text(self.to_json() + "\n")
        written = ["sweep.json"]
        for row in self.rows:
            if row.model is None:
                continue
            stem = f"N{row.n_train}_s{row.seed}"
            row.model.save(out / f"model_{stem}.json")
            written.append(f"model_{stem}.json")
            if task is not None and hasattr(task, "neighbourhood"):
                try:
                    from .tasks import recover_rule
                    text = recover_rule(row.model, task).summary()
                except BtfError as exc:  # no separate local rule (e.g. it wraps the ring): say why
                    text = f"no local rule read back: {exc}"
                (out / f"rule_{stem}.txt").write_text(text + "\n")
                written.append(f"rule_{stem}.txt")
        return written


def run_sweep(pool: Dataset, arch, ns, seeds=(0,), fit_options: dict | None = None,
              baseline: str | None = None, baseline_options: dict | None = None, progress=None,
              task: str | None = None, scheduler=None) -> SweepResult:
    """For every N in ``ns`` and seed in ``seeds``: train on ``pool.split(N)[0]`` (the first N items) and
    test on the rest. ``fit_options`` go to ``btflearn.fit`` (its ``seed`` is set to each seed; with
    ``per_output``, hidden widths, to ``btflearn.output_fit.fit_outputs``: ``arch`` then shapes only the
    baseline);
    ``baseline`` ("adamw" or None) adds a gradient-trained MLP of the same widths on the same split.
    ``progress(message)`` is called before each run (as each point finishes with a scheduler).
    ``scheduler`` (``"local:N"``, ``"tcp://host:8786"``, a distributed.Client; see btflearn.distributed)
    runs every (N, seed) point as one Dask task; the rows come back in the same order."""
    ns = sorted(set(parse_int_list(ns, "training-set sizes")))
    seeds = parse_seeds(seeds)
    if ns[0] < 1 or ns[-1] > pool.n_items:
        raise BtfError(f"training-set sizes must lie in 1..{pool.n_items} (the pool size), got {ns}")
    if baseline is not None:
        from .baselines import BASELINES
        if baseline not in BASELINES:
            raise BtfError(f"unknown baseline {baseline!r}; available: {', '.join(BASELINES)}")
    fit_options = dict(fit_options or {})
    fit_options.pop("seed", None)
    points = [(arch, n, seed, fit_options, baseline, baseline_options) for n in ns for seed in seeds]
    per_point = run_points(sweep_point, pool, points, scheduler, progress,
                           describe=lambda p: f"N={p[1]} seed={p[2]}")
    rows = [row for point_rows in per_point for row in point_rows]
    settings = {"ns": ns, "seeds": seeds, "pool": pool.n_items, "fit": plain(fit_options),
                "baseline": baseline, "baseline_options": plain(baseline_options or {})}
    arch_name = arch if isinstance(arch, str) else getattr(arch, "arch", str(arch))
    if fit_options.get("per_output") is not None:
        arch_name = "per-output " + ("-".join(map(str, fit_options["per_output"])) or "0")
    return SweepResult(task or pool.name, str(arch_name), rows, settings)


def sweep_point(pool: Dataset, arch, n: int, seed: int, fit_options: dict, baseline=None,
                baseline_options=None) -> list:
    """One unit of a sweep: the BTF row (and the baseline row) of training on the first ``n`` items of
    ``pool`` with solver seed ``seed``, tested on the rest."""
    from .solver import fit

    train, test = pool.split(n)
    rows = []
    options = dict(fit_options)
    per_output = options.pop("per_output", None)
    warm_up(train, dict(options, arch=arch))
    t0 = time.perf_counter()
    if per_output is None:
        res = fit(train, arch=arch, seed=seed, **options)
    else:   # one network per output over its consistent support (btflearn.output_fit)
        from .output_fit import fit_outputs
        res = fit_outputs(train, hidden=per_output, seed=seed, **options)
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
        t0 = time.perf_counter()
        b = run_baseline(baseline, train, test, arch, seed=seed, **(baseline_options or {}))
        seconds = time.perf_counter() - t0
        te_b = b.test_accuracy or (None, None)
        rows.append(SweepRow(baseline, n, seed, b.train_accuracy[1] == 1.0, b.train_accuracy[0],
                             b.train_accuracy[1], te_b[0], te_b[1], b.steps, seconds,
                             0 if test is None else test.n_items))
    return rows


# ----------------------------------------------------------------------------------------- settings grid
@dataclass
class RunRecord:
    point: int               # index of the grid point in SettingsSweepResult.points
    seed: int
    solved: bool
    iterations: int          # solved: iterations to the first verified read-out; else iterations run
    final_iterations: int    # iterations the trial ran (differs from `iterations` only with polish)
    seconds: float           # the trial's wall time, start to end (to its solution when solved, polish 0)
    wall_seconds: float      # the whole fit call (set-up, compilation, read-out checks included)
    gap: float | None        # gap at the last iteration (None: not finite)
    best_gap: float | None
    per_bit: float
    exact: float
    timed_out: bool          # stopped by time_limit before max_iter, unsolved
    backend: str = ""
    model: object = field(default=None, repr=False, compare=False)  # the trial's Model (not in JSON)

    def outcome(self) -> str:
        if self.solved:
            return f"solved at {self.iterations} iterations, {self.seconds:.2f} s"
        gap = "-" if self.gap is None else f"{self.gap:.4f}"
        best = "-" if self.best_gap is None else f"{self.best_gap:.4f}"
        why = "time limit" if self.timed_out else "max_iter"
        return (f"not solved ({why}) after {self.iterations} iterations, gap {gap} (best {best}), "
                f"{self.seconds:.2f} s")


@dataclass
class SettingsSweepResult:
    task: str
    grid: dict               # axis -> list of values, in grid order (the first axis varies slowest)
    seeds: list
    base: dict               # fit() settings shared by every run
    runs: list               # RunRecord per (point, seed), in grid order, seeds innermost
    wall_seconds: float = 0.0
    scheduler: str | None = None

    @property
    def points(self) -> list[dict]:
        return grid_points(self.grid)

    def varied_axes(self) -> list[str]:
        """Axes with more than one value (all axes when none varies)."""
        varied = [k for k, v in self.grid.items() if len(v) > 1]
        return varied or list(self.grid)

    def summary_rows(self) -> list[dict]:
        out = []
        for i, settings in enumerate(self.points):
            runs = [r for r in self.runs if r.point == i]
            solved = [r for r in runs if r.solved]
            unsolved = [r for r in runs if not r.solved]
            its = [r.iterations for r in solved]
            out.append(dict(
                point=i, settings=settings, runs=len(runs), solved=len(solved),
                success_rate=len(solved) / len(runs) if runs else None,
                iterations_median=_median(its), iterations_min=min(its, default=None),
                iterations_max=max(its, default=None),
                seconds_median=_median([r.seconds for r in solved]),
                gap_median=_median([r.gap for r in unsolved if r.gap is not None]),
                best_gap_median=_median([r.best_gap for r in unsolved if r.best_gap is not None]),
                timed_out=sum(r.timed_out for r in unsolved),
                total_seconds=sum(r.wall_seconds for r in runs)))
        return out

    def table(self, markdown: bool = False) -> str:
        axes = self.varied_axes()
        rows = self.summary_rows()
        show_limit = any(s["timed_out"] for s in rows)
        head = axes + ["solved", "median it", "min-max it", "median s", "unsolved gap", "unsolved best",
                       "total s"] + (["timed out"] if show_limit else [])
        body = []
        for s in rows:
            lo_hi = "-" if s["iterations_min"] is None else f"{s['iterations_min']}-{s['iterations_max']}"
            line = [_fmt_value(s["settings"][a]) for a in axes] + [
                f"{s['solved']}/{s['runs']}", _fmt_num(s["iterations_median"], 0), lo_hi,
                _fmt_num(s["seconds_median"], 2), _fmt_num(s["gap_median"], 4), _fmt_num(s["best_gap_median"], 4),
                f"{s['total_seconds']:.1f}"]
            if show_limit:
                line.append(str(s["timed_out"]))
            body.append(line)
        return table(head, body, markdown, left=len(axes))

    def describe(self) -> str:
        """One line: task, seeds and the settings that every run shares."""
        fixed = {k: v[0] for k, v in self.grid.items() if len(v) == 1 and k not in self.varied_axes()}
        fixed.update({k: v for k, v in self.base.items() if v is not None})
        seeds = ",".join(str(s) for s in self.seeds)
        shared = ", ".join(f"{k}={_fmt_value(v)}" for k, v in fixed.items())
        return (f"{self.task}: {len(self.points)} setting(s) x {len(self.seeds)} seed(s) [{seeds}], "
                f"one trial per run; {shared}")

    def to_dict(self) -> dict:
        runs = []
        for r in self.runs:
            d = asdict(r)
            d.pop("model")
            runs.append(d)
        return {"task": self.task, "grid": self.grid, "seeds": self.seeds, "base": self.base,
                "wall_seconds": self.wall_seconds, "scheduler": self.scheduler,
                "summary": self.summary_rows(), "runs": runs}

    def to_json(self) -> str:
        return to_json(self.to_dict())

    def save(self, directory) -> int:
        """sweep.json, table.md and models/p{point}_s{seed}.json of every solved run; returns how many."""
        path = Path(directory)
        (path / "models").mkdir(parents=True, exist_ok=True)
        (path / "sweep.json").write_text(self.to_json() + "\n")
        (path / "table.md").write_text(self.describe() + "\n\n" + self.table(markdown=True) + "\n")
        saved = 0
        for run in self.runs:
            if run.solved and run.model is not None:
                run.model.save(path / "models" / f"p{run.point}_s{run.seed}.json")
                saved += 1
        return saved

    @classmethod
    def from_dict(cls, data: dict) -> "SettingsSweepResult":
        return cls(data["task"], {k: list(v) for k, v in data["grid"].items()}, list(data["seeds"]),
                   dict(data["base"]), [RunRecord(**r) for r in data["runs"]], data.get("wall_seconds", 0.0),
                   data.get("scheduler"))

    @classmethod
    def from_json(cls, text: str) -> "SettingsSweepResult":
        return cls.from_dict(json.loads(text))


def _median(values):
    return float(statistics.median(values)) if values else None


def _fmt_num(v, digits):
    if v is None:
        return "-"
    if digits == 0:
        return str(int(v)) if float(v).is_integer() else f"{v:.1f}"
    return f"{v:.{digits}f}"


def _fmt_value(v):
    return f"{v:g}" if isinstance(v, float) else str(v)


def grid_points(grid: dict) -> list[dict]:
    """The Cartesian product of the axes, first axis slowest."""
    keys = list(grid)
    return [dict(zip(keys, values)) for values in itertools.product(*(grid[k] for k in keys))]


def _check_setting(dataset, name, value):
    """One grid value, checked by the rules every fit uses (btflearn.problem)."""
    from .backends import BACKENDS
    from .problem import Problem, Settings
    if name == "arch":
        Problem.build(dataset, value)
    elif name == "backend":
        if value not in BACKENDS:
            raise BtfError(f"unknown backend {value!r}; choose one of {', '.join(BACKENDS)}")
    elif name == "time_limit":
        if value is not None and not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
            raise BtfError(f"time_limit must be a positive number of seconds, got {value!r}")
    elif name in ("max_iter", "polish") and (not isinstance(value, (int, np.integer)) or isinstance(value, bool)):
        raise BtfError(f"{name} must be an integer, got {value!r}")
    else:
        Settings(**{name: value}).validated()


def _plain(name, value):
    """A setting as a JSON-ready value of its kind (NumPy scalars, Networks and paths included)."""
    if value is None:
        return None
    if name in ("max_iter", "polish"):
        return int(value)
    if name in ("sigma", "beta", "gamma", "gapstop", "time_limit"):
        return float(value)
    return plain(value) if name == "arch" else str(value)


def check_sweep(dataset, grid: dict, seeds, base_kwargs: dict | None = None) -> tuple[dict, list, dict]:
    """Check every setting of a sweep before anything runs; returns the grid, seeds and shared settings
    as plain JSON-ready values. Raises BtfError naming the first bad value."""
    from .dataset import Dataset

    if not isinstance(dataset, Dataset):
        raise BtfError("settings_sweep expects a btflearn.Dataset")
    if not isinstance(grid, dict) or not grid:
        raise BtfError("the grid needs at least one axis")
    base = dict(base_kwargs or {})
    for key in list(grid) + list(base):
        if key in RESERVED:
            raise BtfError(f"{key!r} is set by the sweep itself (one trial per run, seeded by the run's seed)")
    unknown = [k for k in grid if k not in GRID_KEYS] + [k for k in base if k not in BASE_KEYS]
    if unknown:
        raise BtfError(f"unknown setting(s) {', '.join(map(repr, unknown))}; grid axes: {', '.join(GRID_KEYS)}")
    both = [k for k in grid if k in base]
    if both:
        raise BtfError(f"{', '.join(both)} given both as a grid axis and as a shared setting")
    if "arch" not in grid and "arch" not in base:
        raise BtfError("give the architecture (arch) as a grid axis or a shared setting")
    grid = {k: list(v) if isinstance(v, (list, tuple)) else [v] for k, v in grid.items()}
    for key, values in grid.items():
        if not values:
            raise BtfError(f"grid axis {key!r} has no values")
        for v in values:
            _check_setting(dataset, key, v)
        grid[key] = values = [_plain(key, v) for v in values]
        if len(set(values)) != len(values):
            raise BtfError(f"grid axis {key!r} lists a value twice: {values}")
    for key, v in base.items():
        _check_setting(dataset, key, v)
        base[key] = _plain(key, v)
    seeds = parse_seeds(",".join(map(str, seeds)) if isinstance(seeds, (list, tuple)) else seeds)
    return grid, seeds, base


def settings_sweep(dataset, grid: dict, seeds, base_kwargs: dict | None = None, progress=None,
                   scheduler=None, task: str | None = None) -> SettingsSweepResult:
    """Run one single-trial ``fit`` per (grid point, seed).

    grid: axis -> list of values, axes from GRID_KEYS (arch, sigma, beta, gamma, dtype, max_iter, gapstop,
    polish); every list non-empty. seeds: a list of non-negative ints or a string like "0-4".
    base_kwargs: the fit() settings shared by every run (GRID_KEYS plus time_limit, a per-run limit, and
    backend); ``arch`` must be in one or the other. Every value is checked before the first run.
    progress(message) is called as each run finishes. scheduler ("local:N", "tcp://host:8786", a
    distributed.Client): one Dask task per run (btflearn.distributed.map_points); the runs come back in
    grid order and give the same outcomes and iterations as in-process."""
    grid, seeds, base = check_sweep(dataset, grid, seeds, base_kwargs)
    points = grid_points(grid)
    jobs = [(i, settings, seed, base) for i, settings in enumerate(points) for seed in seeds]
    total = len(jobs)
    number = {(job[0], job[2]): n for n, job in enumerate(jobs, 1)}
    shown = [k for k, v in grid.items() if len(v) > 1] or list(grid)  # progress names the varied axes

    def label(job):
        i, settings, seed, _ = job
        return f"[{number[i, seed]}/{total}] {_settings_text(settings, shown)} seed {seed}"

    t0 = time.perf_counter()
    runs = run_points(settings_run, dataset, jobs, scheduler, progress, describe=label)
    where = None if scheduler is None else scheduler if isinstance(scheduler, str) else type(scheduler).__name__
    return SettingsSweepResult(task or dataset.name, grid, seeds, base, runs, time.perf_counter() - t0, where)


def settings_run(dataset, point: int, settings: dict, seed: int, base: dict) -> RunRecord:
    """One run of a settings sweep: trial 0 of ``seed`` with the grid point's settings."""
    from .solver import fit

    kwargs = dict(base)
    kwargs.update(settings)
    warm_up(dataset, kwargs)
    t0 = time.perf_counter()
    res = fit(dataset, seed=int(seed), trials=1, stop_on_first=True, **kwargs)
    wall = time.perf_counter() - t0
    t = res.trials[0]
    max_iter = int(kwargs.get("max_iter", res.hyperparameters["max_iter"]))
    first = t.first_solved_at if (t.solved and t.first_solved_at is not None) else t.iterations
    return RunRecord(point, int(seed), bool(t.solved), int(first), int(t.iterations), float(t.seconds), wall,
                     plain(t.gap), plain(t.best_gap), float(t.per_bit), float(t.exact),
                     bool(not t.solved and t.iterations < max_iter), res.backend, res.model)


def _settings_text(settings: dict, keys) -> str:
    return " ".join(f"{k}={_fmt_value(settings[k])}" for k in keys)


