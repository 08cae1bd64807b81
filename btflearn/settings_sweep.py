"""Solver-settings sweeps: a grid of settings x seeds, one single-trial fit per (setting, seed).

Every grid point (one value per axis: arch, sigma, beta, gamma, dtype, ...) runs
``fit(dataset, trials=1, seed=s, **base, **point)`` for each seed s. Trial 0 of seed s starts from
``SeedSequence([s, 0])`` and the read-out checks come at fixed iterations, so a run's outcome and
iteration counts are reproducible (only its seconds vary), in-process or on a Dask scheduler.

``SettingsSweepResult.table()`` gives, per grid point: success rate (solved/seeds), median and min/max
iterations to the first verified solution among the solved runs, the median seconds of the solved runs
(trial start to its end), the median final and best gap of the unsolved runs and the total time.
"""
from __future__ import annotations

import itertools
import json
import math
import numbers
import statistics
import time
from dataclasses import asdict, dataclass, field

from .errors import BtfError

DTYPES = ("float64", "float32")
# fit() settings that may vary along a grid axis (or be fixed in base_kwargs)
GRID_KEYS = ("arch", "sigma", "beta", "gamma", "dtype", "max_iter", "gapstop", "polish")
BASE_KEYS = GRID_KEYS + ("time_limit", "backend")
# the sweep sets these itself: one trial per run, seeded by the run's seed
RESERVED = ("seed", "trials", "trial_ids", "batch", "stop_on_first", "progress", "checkpoint", "resume")


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
        if markdown:
            lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
            return "\n".join(lines + ["| " + " | ".join(r) + " |" for r in body])
        n_axes = len(axes)
        widths = [max([len(h)] + [len(r[k]) for r in body]) for k, h in enumerate(head)]

        def fmt(r):
            return "  ".join(c.ljust(w) if k < n_axes else c.rjust(w) for k, (c, w) in enumerate(zip(r, widths)))
        return "\n".join([fmt(head)] + [fmt(r) for r in body])

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
        return json.dumps(self.to_dict(), indent=1)

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


def _finite(x):
    return float(x) if x is not None and math.isfinite(x) else None


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


def parse_float_list(text, what="value") -> list[float]:
    """'3,5' -> [3.0, 5.0]; every value finite."""
    out = []
    for v in _split(text, what):
        try:
            x = float(v)
        except ValueError:
            raise BtfError(f"{what}: {v!r} is not a number") from None
        if not math.isfinite(x):
            raise BtfError(f"{what}: {v!r} is not a finite number")
        out.append(x)
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


# ----------------------------------------------------------------------------------------- the sweep

def grid_points(grid: dict) -> list[dict]:
    """The Cartesian product of the axes, first axis slowest."""
    keys = list(grid)
    return [dict(zip(keys, values)) for values in itertools.product(*(grid[k] for k in keys))]


def _check_setting(dataset, name, value):
    if name == "arch":
        from .network import parse_arch
        net = parse_arch(value)
        if net.n_inputs != dataset.n_inputs or net.n_outputs != dataset.n_outputs:
            raise BtfError(f"architecture {value} has {net.n_inputs} inputs and {net.n_outputs} outputs but "
                           f"the data has {dataset.n_inputs} and {dataset.n_outputs}")
    elif name == "dtype":
        if value not in DTYPES:
            raise BtfError(f"unknown dtype {value!r}; choose from {', '.join(DTYPES)}")
    elif name in ("max_iter", "polish"):
        if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < (name == "max_iter"):
            raise BtfError(f"{name} must be an integer >= {1 if name == 'max_iter' else 0}, got {value!r}")
    elif name == "backend":
        if not isinstance(value, str):
            raise BtfError(f"backend must be a name, got {value!r}")
    elif name in ("sigma", "beta", "gamma", "gapstop", "time_limit"):
        if value is None and name in ("gamma", "time_limit"):
            return  # gamma None: 1/max_iter; no time limit
        if not isinstance(value, numbers.Real) or isinstance(value, bool) or not math.isfinite(value):
            raise BtfError(f"{name} must be a finite number, got {value!r}")
        if name == "gamma" and value < 0:
            raise BtfError(f"gamma must be non-negative, got {value!r}")
        if name != "gamma" and value <= 0:
            raise BtfError(f"{name} must be positive, got {value!r}")
        if name == "beta" and value > 1:
            raise BtfError(f"beta must lie in (0, 1], got {value!r}")


def _plain(name, value):
    """JSON-ready Python values (NumPy scalars, Networks and paths become int, float, str)."""
    if value is None:
        return None
    if name in ("max_iter", "polish"):
        return int(value)
    if name in ("sigma", "beta", "gamma", "gapstop", "time_limit"):
        return float(value)
    if name == "arch" and not isinstance(value, str):
        return getattr(value, "arch", None) or str(value)
    return str(value)


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
    if scheduler is not None:
        from .distributed import map_points
        runs = map_points(scheduler, settings_run, jobs, shared=dataset, progress=progress, describe=label)
        where = scheduler if isinstance(scheduler, str) else type(scheduler).__name__
    else:
        runs = []
        for n, job in enumerate(jobs, 1):
            rec = settings_run(dataset, *job)
            runs.append(rec)
            if progress is not None:
                progress(f"{label(job)}: {_outcome(rec)}")
        where = None
    return SettingsSweepResult(task or dataset.name, grid, seeds, base, runs, time.perf_counter() - t0, where)


_WARM = set()  # (dtype, backend) whose kernels this process has run


def settings_run(dataset, point: int, settings: dict, seed: int, base: dict) -> RunRecord:
    """One run of a settings sweep: trial 0 of ``seed`` with the grid point's settings."""
    from .solver import fit

    kwargs = dict(base)
    kwargs.update(settings)
    warm = (kwargs.get("dtype", "float64"), kwargs.get("backend", "auto"))
    if warm not in _WARM:  # compile (or load) the kernels first: not part of the first run's seconds
        short = {k: v for k, v in kwargs.items() if k != "time_limit"}
        short["max_iter"] = 1
        fit(dataset, seed=int(seed), trials=1, **short)
        _WARM.add(warm)
    t0 = time.perf_counter()
    res = fit(dataset, seed=int(seed), trials=1, stop_on_first=True, **kwargs)
    wall = time.perf_counter() - t0
    t = res.trials[0]
    max_iter = int(kwargs.get("max_iter", res.hyperparameters["max_iter"]))
    first = t.first_solved_at if (t.solved and t.first_solved_at is not None) else t.iterations
    return RunRecord(point, int(seed), bool(t.solved), int(first), int(t.iterations), float(t.seconds), wall,
                     _finite(t.gap), _finite(t.best_gap), float(t.per_bit), float(t.exact),
                     bool(not t.solved and t.iterations < max_iter), res.backend, res.model)


def _settings_text(settings: dict, keys) -> str:
    return " ".join(f"{k}={_fmt_value(settings[k])}" for k in keys)


def _outcome(rec: RunRecord) -> str:
    if rec.solved:
        return f"solved at {rec.iterations} iterations, {rec.seconds:.2f} s"
    gap = "-" if rec.gap is None else f"{rec.gap:.4f}"
    best = "-" if rec.best_gap is None else f"{rec.best_gap:.4f}"
    why = "time limit" if rec.timed_out else "max_iter"
    return f"not solved ({why}) after {rec.iterations} iterations, gap {gap} (best {best}), {rec.seconds:.2f} s"
