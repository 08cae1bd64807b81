"""Solver options shared by every `btflearn solve ...` command, and the runner that reports a fit."""
from __future__ import annotations

import functools
import json
import math
import re
import shutil
import textwrap
import sys
import time
from pathlib import Path

import click

BACKEND_CHOICES = ["auto", "numba", "numpy", "cupy"]


SPEC_KEYS = ("arch", "sigma", "beta", "gamma", "max_iter", "gapstop", "trials", "batch", "dtype")


def _spec_default(specs, key):
    """(click default, --help text) of one spec field: a value, or per size when the specs differ."""
    from btflearn.tasks import RunSpec
    if isinstance(specs, RunSpec):
        value = getattr(specs, key)
        shown = {"gamma": "1/max-iter", "batch": "min(trials, 16)", "arch": "the task's own"}.get(key)
        return value, (shown if value is None and shown else True)
    name, table = specs
    values = {size: getattr(spec, key) for size, spec in table.items()}
    if len(set(values.values())) == 1:
        return _spec_default(next(iter(table.values())), key)
    text = ", ".join(f"{v if v is not None else 'auto'} ({name} {size})" for size, v in values.items())
    return None, text


def solver_options(specs=None, writes_circuit: bool = True):
    """Decorator adding the solver options (--arch --sigma ... --scheduler) with the defaults of ``specs``:
    a btflearn.tasks.RunSpec, or ``(option name, {size: RunSpec})`` for a task whose defaults depend on
    its size (the options then default to None; ``resolve_spec`` fills them in). --help shows them.
    ``writes_circuit``: also --minimise/--no-minimise and --minimise-time (commands that write circuits)."""
    from btflearn.backends import CUPY_MIN_BATCH
    from btflearn.tasks import RunSpec
    specs = specs or RunSpec()
    d = {key: _spec_default(specs, key) for key in SPEC_KEYS}

    def option(name, key, **kw):
        default, shown = d[key]
        return click.option(name, default=default, show_default=shown, **kw)

    def wrap(f):
        opts = [
            option("--arch", "arch",
                   help="Widths like 4-4-4-4, dense:6-12-12-6 (skip connections), or a .wth/.net file."),
            option("--sigma", "sigma", type=float,
                   help="Support parameter: margin delta = sqrt(m/sigma); 3 gives AND/OR/MAJ3 gates."),
            option("--beta", "beta", type=click.FloatRange(0, 1, min_open=True), help="RRR step size."),
            option("--gamma", "gamma", type=click.FloatRange(0, 1, min_open=True),
                   help="Metric adaptation rate, in (0, 1]."),
            option("--max-iter", "max_iter", type=click.IntRange(min=1), help="Iterations per trial."),
            option("--gapstop", "gapstop", type=float,
                   help="Gap below which a trial is checked for an exact solution."),
            option("--trials", "trials", type=click.IntRange(min=1),
                   help="Random restarts (each seeded from (seed, trial)); the first solution wins."),
            click.option("--seed", type=int, default=0, show_default=True, help="Seed of all randomness."),
            option("--batch", "batch", type=click.IntRange(min=1),
                   help="Trials advanced together in one state (speed only: each trial's result is the "
                        "same in any batch; fewer trials per core reach the first solution sooner)."),
            click.option("--time-limit", type=click.FloatRange(0, min_open=True), default=None,
                         help="Stop after this many seconds (resumable with --resume when --out is given)."),
            click.option("--backend", type=click.Choice(BACKEND_CHOICES), default="auto", show_default=True,
                         help=f"auto: numba, or cupy where CuPy sees a CUDA GPU and {CUPY_MIN_BATCH} or "
                              f"more trials run in one batch (--trials and --batch): a GPU runs one or a few "
                              f"trials slower than the CPU (docs/gpu.md)."),
            option("--dtype", "dtype", type=click.Choice(["float64", "float32"]),
                   help="Storage of the replicated state."),
            click.option("--out", type=click.Path(file_okay=False), default=None,
                         help="Directory for model.json, result.json and the exported circuit."),
            click.option("--polish", type=click.IntRange(min=0), default=0, show_default=True,
                         help="After an early verified read-out, iterate up to this many more iterations "
                              "towards a converged gap and keep the verified read-out of smallest gap "
                              "(sparser weights, smaller circuits)."),
            click.option("--all-trials", is_flag=True,
                         help="Run every trial to its end instead of stopping at the first solution "
                              "(for success-rate studies; result.json lists every trial)."),
            click.option("--quiet", is_flag=True, help="No progress display."),
            click.option("--resume", type=click.Path(file_okay=False), default=None,
                         help="Continue the run whose --out directory this is (its checkpoint.npz, saved every "
                              "minute, on Ctrl-C and at --time-limit), with the settings it started with."),
            click.option("--scheduler", default=None,
                         help="Run the trials (a sweep: its points) as Dask tasks: local (one worker per "
                              "core), local:N, or tcp://host:port of a `dask scheduler` (pip install "
                              "'btflearn[dask]'). "
                              "Default: none, in-process."),
        ]
        if writes_circuit:
            opts += [
                click.option("--minimise/--no-minimise", default=True, show_default=True,
                             help="Before writing the circuit, make the solved model sparse while it stays "
                                  "exact (btflearn.sparsify); model.json keeps the read-out, model.min.json "
                                  "the minimised model the circuit is made of."),
                click.option("--minimise-time", type=click.FloatRange(0, min_open=True), default=None,
                             show_default="60; 120 for solve multiplier --bits 4", metavar="S",
                             help="Time budget in seconds of each minimisation stage: the network, then its "
                                  "circuit (resubstitution)."),
                click.option("--minimise-anchors", type=click.IntRange(min=0), default=None,
                             show_default="chosen by validation", metavar="N",
                             help="Sampled data only: the minimised model also keeps the read-out's answers on "
                                  "N random input patterns, so it generalizes as the read-out does; 0: free "
                                  "wherever the training items say nothing (sparser; on unseen items better "
                                  "or worse); an output that reads at most 8 inputs is also kept on all their "
                                  "patterns. Default: 2048 when every output reads at most 8 inputs (the "
                                  "read-out's function is kept), else free or 2048, whichever does better on "
                                  "a held-out fifth of the items."),
            ]
        for opt in reversed(opts):
            f = opt(f)
        return f
    return wrap


def resolve_spec(opts: dict, spec) -> dict:
    """Fill the solver options the user left at None with ``spec``'s values (per-size defaults), and the
    minimisation budget where the command has one."""
    for key in SPEC_KEYS:
        if opts.get(key) is None:
            opts[key] = getattr(spec, key)
    if "minimise_time" in opts and opts["minimise_time"] is None:
        opts["minimise_time"] = spec.minimise_time
    return opts


def fit_kwargs(opts: dict) -> dict:
    keys = ("sigma", "beta", "gamma", "max_iter", "gapstop", "trials", "seed", "time_limit", "backend", "dtype",
            "polish", "batch")
    kwargs = {k: opts[k] for k in keys}
    kwargs["stop_on_first"] = not opts.get("all_trials", False)
    return kwargs


class ProgressView:
    """Live view of a run, one line that fits 80 columns: a rich progress bar on a terminal, a line every
    10 s otherwise."""
    LABEL, BAR, ELAPSED = 12, 10, 7  # columns of the task name, the bar and the elapsed time

    def __init__(self, label: str, max_iter: int, quiet: bool):
        self.label, self.max_iter, self.quiet = label[:self.LABEL], max_iter, quiet
        self.tty = sys.stderr.isatty()
        self.last_line = time.perf_counter()
        self.progress = None
        if not quiet and self.tty:
            from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
            self.progress = Progress(TextColumn("{task.description}"), BarColumn(bar_width=self.BAR),
                                     TextColumn("{task.fields[status]}"), TimeElapsedColumn(), transient=False)
            self.task = self.progress.add_task(self.label, total=max_iter, status="starting")
            self.progress.start()

    @staticmethod
    def describe(info, width: int | None = None) -> str:
        """The leading trial's iteration and gap, the best gap, the facts the best running read-out
        reproduces, the trials done (and solved); the best gap is dropped when ``width`` is too narrow."""
        running = info["running"]
        lead = max(running, key=lambda r: r[1]) if running else None
        head = [f"it {lead[1]} gap {lead[2]:.3g}"] if lead else []
        best = [f"best {info['best_gap']:.3g}"]
        fit = [f"fit {100 * info['fit']:.1f}%"] if info.get("fit") is not None else []
        done = [f"{info['finished']}/{info['trials']} done" + (f" {info['solved']} ok" if info["solved"] else "")]
        text = " ".join(head + best + fit + done)
        if width is not None and len(text) > width:
            text = " ".join(head + fit + done)
        return text

    def __call__(self, info):
        if self.quiet:
            return
        if self.progress is not None:
            text = self.describe(info, width=80 - self.LABEL - self.BAR - self.ELAPSED - 3)
            done = max((r[1] for r in info["running"]), default=self.max_iter)
            self.progress.update(self.task, completed=done, status=text)
        elif time.perf_counter() - self.last_line > 10:
            self.last_line = time.perf_counter()
            click.echo(f"[{info['elapsed']:7.1f} s] {self.describe(info, width=80 - 12)}", err=True)

    def close(self):
        if self.progress is not None:
            self.progress.stop()


RESUMED_SETTINGS = ("sigma", "beta", "gamma", "max_iter", "gapstop", "trials", "seed", "dtype", "polish")
SOLVER_PARAMS = set(SPEC_KEYS) | {"seed", "time_limit", "backend", "dtype", "out", "polish", "all_trials",
                                  "quiet", "resume", "scheduler", "minimise", "minimise_time",
                                  "minimise_anchors", "per_output"}


def _hidden_widths(ctx, param, value):
    if value is None:
        return None
    text = value.strip()
    if text == "0":
        return ()
    if not re.fullmatch(r"\d+(-\d+)*", text) or any(int(w) < 1 for w in text.split("-")):
        raise click.BadParameter(f"{value!r}: give hidden widths like 16-16 (0: no hidden layer)")
    return tuple(int(w) for w in text.split("-"))


def check_per_output_alone():
    """--per-output replaces --arch: both given is a usage error."""
    if click.get_current_context().params.get("arch") is not None:
        raise click.UsageError("--per-output builds each output's network itself: leave out --arch")


def per_output_option(f):
    """--per-output WIDTHS for tasks learned from sampled items (btflearn.output_fit)."""
    return click.option(
        "--per-output", "per_output", default=None, metavar="WIDTHS", callback=_hidden_widths,
        help="Learn each output on its own: a network with these hidden widths (skip connections; 0: one "
             "threshold gate) over the fewest inputs that explain that output on the training items, "
             "instead of one --arch network for all outputs.")(f)


class PerOutputView:
    """Progress of a per-output fit: one ProgressView per output's network."""

    def __init__(self, max_iter: int, quiet: bool):
        self.max_iter, self.quiet, self.view, self.current = max_iter, quiet, None, None

    def __call__(self, output, n_outputs, support, info):
        if output != self.current:
            self.close()
            self.current = output
            self.view = ProgressView(f"out {output + 1}/{n_outputs}", self.max_iter, self.quiet)
            if not self.quiet and self.view.progress is None:   # a log: say whose lines follow
                click.echo(f"output {output + 1} of {n_outputs}: {len(support)} inputs", err=True)
        if info is not None:
            self.view(info)

    def close(self):
        if self.view is not None:
            self.view.close()


def resumable(f):
    """With --resume DIR, a task command gets the task options the run was started with (those the user
    left at their defaults; a different explicit value is an error), so --resume alone continues a run."""
    @functools.wraps(f)
    def wrapper(**params):
        if params.get("resume"):
            from btflearn.rundir import load_task
            ctx = click.get_current_context()
            for name, value in load_task(params["resume"]).get("options", {}).items():
                if name not in params:
                    continue
                if ctx.get_parameter_source(name) == click.core.ParameterSource.DEFAULT:
                    params[name] = value
                elif params[name] != value:
                    flag = "--" + name.replace("_", "-")
                    raise click.UsageError(f"{flag} {params[name]} differs from the run in {params['resume']} "
                                           f"({flag} {value}); leave it out to continue that run")
        return f(**params)
    return wrapper


def resume_settings(path: Path, opts: dict, arch):
    """Put the checkpointed run's solver settings into ``opts`` (a resumed run continues as it was
    started, whatever the defaults); returns its architecture."""
    from btflearn.checkpoint import read_meta

    meta = read_meta(path)
    hyper = meta["hyperparameters"]
    if meta["trial_list"] != list(range(hyper["trials"])):
        raise click.UsageError(f"{path} holds a run of selected trials; resume it from Python")
    changed = [f"{k} {opts[k]!r} -> {hyper[k]!r}" for k in RESUMED_SETTINGS if opts.get(k) != hyper[k]]
    opts.update({k: hyper[k] for k in RESUMED_SETTINGS})
    opts["batch"] = len(meta["slots"])
    if not opts.get("quiet"):
        running = [f"trial {m['trial']} at iteration {it}"
                   for m, it in zip(meta["slots"], meta["slot_iterations"]) if m is not None]
        click.echo(f"resuming {path}: {len(meta['results'])} trial(s) finished, {', '.join(running) or 'none'} "
                   f"running, {meta['elapsed']:.0f} s so far"
                   + (f"; the checkpoint's settings replace: {', '.join(changed)}" if changed else ""), err=True)
    return hyper["arch"] or arch


def resume_dir(out, opts: dict):
    """The directory --resume continues in; --out, when given too, must name the same one."""
    if out is not None and Path(out).resolve() != Path(opts["resume"]).resolve():
        raise click.UsageError("--resume continues in its own directory; leave out --out or give the same one")
    return out or opts["resume"]


def run_task(dataset, test_dataset, arch, opts: dict, out, require_exact: bool = True):
    """Fit, report, write outputs. Exits 1 (click.ClickException) when an exact solution was required
    and not found, 130 on Ctrl-C (after saving the checkpoint of a run with --out)."""
    from btflearn import rundir
    from btflearn.arch import parse_arch
    from btflearn.backends import numba_kernels_cached
    from btflearn.errors import Interrupted
    from btflearn.network import Network
    from btflearn.problem import Problem
    from btflearn.report import fit_report
    from btflearn.solver import fit

    ctx = click.get_current_context()
    resume_cmd = f"{ctx.command_path} --resume {out or opts.get('resume')}"
    checkpoint = None
    per_output = opts.get("per_output")
    if per_output is not None:
        if opts.get("resume") or opts.get("scheduler"):
            raise click.UsageError("--per-output runs in process from the start: leave out --resume and "
                                   "--scheduler")
        check_per_output_alone()
    if opts.get("resume"):
        out = resume_dir(out, opts)
        if opts.get("scheduler"):
            raise click.UsageError("--resume runs in-process; leave out --scheduler")
        resumed = resume_settings(Path(out) / rundir.CHECKPOINT, opts, arch)
        if not (isinstance(arch, Network) and resumed == arch.arch):  # a Network built by the task stays
            arch = resumed
    net = parse_arch(arch)
    # every setting checked before anything is written (a bad option leaves no --out folder behind)
    Problem.build(dataset, net, **{k: opts[k] for k in ("sigma", "beta", "gamma", "max_iter", "gapstop",
                                                         "dtype", "polish")})
    if out is not None:
        rundir.check_writable(out)  # before any work: an unwritable --out fails now, not after the run
        if not opts.get("scheduler") and per_output is None:
            checkpoint = Path(out) / rundir.CHECKPOINT
            if checkpoint.exists() and not opts.get("resume"):
                raise click.UsageError(f"{out} holds the checkpoint of an unfinished run: continue it with "
                                       f"--resume {out}, or delete {checkpoint} to start afresh")
            if not opts.get("resume"):  # the record of how the run began; ctx.params holds defaults on resume
                rundir.save_task(out, ctx.info_name,
                                 {k: v for k, v in ctx.params.items() if k not in SOLVER_PARAMS})
    quiet = opts.get("quiet")
    if not quiet and per_output is not None:
        click.echo(textwrap.fill(f"task {dataset.name}: {dataset.n_items} items, one network per output "
                                 f"(hidden {'-'.join(map(str, per_output)) or 'none'}) over the inputs that "
                                 f"explain it", 79, subsequent_indent="  ", break_long_words=False), err=True)
    elif not quiet:
        click.echo(f"task {dataset.name}: {dataset.n_items} items, {net.arch or 'network'}: {net.n_nodes} nodes, "
                   f"{net.n_edges} edges", err=True)
        if opts["backend"] in ("auto", "numba") and not numba_kernels_cached(opts["dtype"]):
            click.echo("compiling kernels (first run only, about ten seconds)", err=True)
    if per_output is None:
        view = ProgressView(dataset.name, opts["max_iter"], quiet)
    else:
        view = PerOutputView(opts["max_iter"], quiet)
    try:
        if per_output is None:
            result = fit(dataset, arch=net, progress=view, checkpoint=checkpoint,
                         resume=bool(opts.get("resume")), scheduler=opts.get("scheduler"), **fit_kwargs(opts))
        else:
            from btflearn.output_fit import fit_outputs
            result = fit_outputs(dataset, hidden=per_output, progress=view, **fit_kwargs(opts))
    except KeyboardInterrupt as exc:
        view.close()
        if isinstance(exc, Interrupted) and out is not None:   # the run so far, without minimising it
            report = dict(fit_report(exc.result, dataset, test_dataset), interrupted=True)
            write_outputs(Path(out), exc.result, dataset, report, dict(opts, minimise=False, quiet=True),
                          test_dataset)
        saved = checkpoint is not None and checkpoint.exists()
        click.echo("interrupted" + (f"; the run is saved: continue it with\n  {resume_cmd}" if saved else ""),
                   err=True)
        sys.exit(130)
    finally:
        view.close()
    click.echo(result.summary())
    report = fit_report(result, dataset, test_dataset)
    if test_dataset is not None:
        click.echo(f"test accuracy on {test_dataset.n_items} items: per-bit {report['test_per_bit']:.4f}, "
                   f"exact {report['test_exact']:.4f}")
    if out is not None:
        write_outputs(Path(out), result, dataset, report, opts, test_dataset)
    stopped = checkpoint is not None and checkpoint.exists()  # the time limit stopped a resumable run
    if stopped:
        click.echo(f"stopped at the time limit; the run is saved: continue it with\n  {resume_cmd} "
                   f"[--time-limit SECONDS]", err=True)
    if require_exact and not result.solved:
        hint = "continue it with --resume (above)" if stopped else \
            "try more --trials, --max-iter or another --arch/--seed"
        raise click.ClickException(f"not solved: best trial reached per-bit accuracy {result.per_bit:.4f} "
                                   f"(exact {result.exact:.4f}); {hint}")
    return result, report


def run_split_task(dataset, select: list, arch, opts: dict, out):
    """``run_task`` for a split (btflearn.split_fit): one network of ``arch`` per cofactor of the inputs
    ``select``, run one after another, each checkpointed in OUT/cofactors (a cofactor solved before is
    kept, the one running continues: --resume OUT), then joined, reported and written as one model."""
    from btflearn import rundir
    from btflearn.report import fit_report
    from btflearn.split_fit import fit_split

    ctx = click.get_current_context()
    if opts.get("resume"):
        out = resume_dir(out, opts)
    if opts.get("scheduler"):
        raise click.UsageError("a split runs its cofactors in process; leave out --scheduler")
    folder = None
    if out is not None:
        rundir.check_writable(out)
        folder = Path(out) / "cofactors"
        settings = folder / "settings.json"   # a resumed split continues with the settings it began with
        if opts.get("resume"):
            if not settings.exists():
                raise click.UsageError(f"{out} holds no split run to continue")
            saved = json.loads(settings.read_text())
            arch = saved.pop("arch")
            opts.update(saved)
        elif folder.exists():
            raise click.UsageError(f"{out} holds the cofactors of an unfinished run: continue it with "
                                   f"--resume {out}, or delete {folder} to start afresh")
        else:
            rundir.save_task(out, ctx.info_name,
                             {k: v for k, v in ctx.params.items() if k not in SOLVER_PARAMS})
            folder.mkdir(parents=True)
            settings.write_text(json.dumps(dict({k: opts[k] for k in RESUMED_SETTINGS}, arch=str(arch))))
    quiet = opts.get("quiet")
    views = {}

    def progress(c, n, info):
        if c not in views:
            for view in views.values():
                view.close()
            if not quiet:
                fixed = ", ".join(f"{name}={c >> i & 1}" for i, name in enumerate(select))
                click.echo(f"cofactor {c + 1} of {n} ({fixed})", err=True)
            views[c] = ProgressView(f"cofactor {c + 1}", opts["max_iter"], quiet)
        views[c](info)

    if not quiet:
        click.echo(f"task {dataset.name}: {dataset.n_items} items, one {arch} network per cofactor of "
                   f"{', '.join(select)}", err=True)
    try:
        result = fit_split(dataset, select, checkpoint_dir=folder, resume=bool(opts.get("resume")),
                           progress=progress, arch=arch, **fit_kwargs(opts))
    except KeyboardInterrupt:
        saved = folder is not None and folder.exists()
        click.echo("interrupted" + (f"; continue the run with\n  {ctx.command_path} --resume {out}"
                                    if saved else ""), err=True)
        sys.exit(130)
    finally:
        for view in views.values():
            view.close()
    click.echo(result.summary())
    report = fit_report(result, dataset, None)
    # the time limit stopped the run (in a cofactor, whose checkpoint is left, or between two): it can go on
    limit = opts.get("time_limit")
    stopped = folder is not None and not result.solved and (
        any(folder.glob("cofactor-*.npz")) or (limit is not None and result.seconds >= limit))
    if out is not None and not stopped:
        write_outputs(Path(out), result, dataset, report, opts)
        shutil.rmtree(folder)   # model.json holds every cofactor's network now
    if stopped:
        raise click.ClickException(f"not solved within the time limit: continue it with --resume {out}")
    if not result.solved:
        raise click.ClickException(f"not solved: a cofactor was not solved (per-bit accuracy "
                                   f"{result.per_bit:.4f}); try more --trials, --max-iter or another "
                                   f"--arch/--seed")
    return result, report


def minimise_progress(quiet: bool = False, every: float = 5.0):
    """The minimisation's progress callback (btflearn.sparsify, then the circuit's care-set
    resubstitution) for the terminal: a line every ``every`` seconds at most."""
    last = [-math.inf]

    def show(step):
        if not quiet and time.perf_counter() - last[0] > every:
            last[0] = time.perf_counter()
            if step["stage"] == "resubstitution":
                click.echo(f"  resubstitution ({step['order']} order): {step['ands']} AIG ANDs, best "
                           f"{step['best']}", err=True)
            else:
                click.echo(f"  minimising: {step['stage']}: {step['alive']} used nodes, {step['edges']} edges",
                           err=True)
    return show


def write_outputs(out: Path, result, dataset, report, opts: dict, test=None):
    """The run's files (btflearn.rundir.save_run), with the minimisation's progress on stderr."""
    from btflearn.rundir import save_run

    quiet = opts.get("quiet")
    minimise_time = opts.get("minimise_time") if opts.get("minimise", True) else 0
    written = save_run(out, result, dataset, report, minimise_time, minimise_progress(quiet),
                       lambda text: click.echo(text, err=True), test, anchors=opts.get("minimise_anchors"))
    if "minimise" in report:
        m = report["minimise"]
        if not quiet:
            click.echo(f"minimised in {m['seconds']:.1f} s ({m['stopped']}): used nodes {m['alive_before']} -> "
                       f"{m['alive_after']}, edges {m['edges_before']} -> {m['edges_after']}", err=True)
        r = report.get("circuit", {}).get("resub") if isinstance(report.get("circuit"), dict) else None
        if r and not quiet:
            click.echo(f"resubstitution in {r['seconds']:.1f} s ({r['stopped']}): AIG ANDs {r['ands_before']} -> "
                       f"{r['ands_after']}", err=True)
        if "test_per_bit" in m:
            click.echo(f"minimised model on the test items: per-bit {m['test_per_bit']:.4f}, "
                       f"exact {m['test_exact']:.4f}")
    click.echo(textwrap.fill(f"wrote {', '.join(written)} to {out}", 79, break_long_words=False,
                             subsequent_indent="  "))
