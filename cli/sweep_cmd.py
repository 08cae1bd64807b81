"""`btflearn sweep TASK --n 64,128,256 [--seeds 0,1,2] [--baseline adamw] [--plot FILE.png] [--json]`:
a generalization table over training-set sizes and seeds. The sweep itself is btflearn.grid.run_sweep;
the task options are the ones of `btflearn solve TASK` (cli/task_cmds.py).

`btflearn sweep multiplier --bits 3 --sigma 3,5 --gamma 1e-4,1e-5 --seeds 0-4`: solver settings x seeds,
one single-trial fit per run (btflearn.grid.settings_sweep)."""
from __future__ import annotations


import textwrap

import click

from .options import check_per_output_alone, fit_kwargs, per_output_option, solver_options
from .task_cmds import BUILDERS, SPECS


@click.group()
def sweep():
    """Generalization table: train on the first N items of a pool (N from --n), test on the rest.
    `sweep multiplier`: a grid of solver settings x seeds on the multiplier."""


def _sweep_options(default_n, default_pool):
    def wrap(f):
        opts = [
            click.option("--n", "ns", default=default_n, show_default=True,
                         help="Comma-separated training-set sizes."),
            click.option("--seeds", default=None,
                         help="Solver seeds: a list and/or ranges, e.g. 0-4 or 0,3,7-9 (default: --seed)."),
            click.option("--pool", type=click.IntRange(min=2), default=default_pool, show_default=True,
                         help="Items generated; each run tests on the items after its first N."),
            click.option("--baseline", type=click.Choice(["adamw"]), default=None,
                         help="Also train a same-shape ReLU MLP with full-batch AdamW on each split."),
            click.option("--baseline-steps", type=click.IntRange(min=1), default=3000, show_default=True,
                         help="AdamW steps."),
            click.option("--baseline-lr", type=float, default=3e-3, show_default=True, help="AdamW learning rate."),
            click.option("--plot", "plot_path", type=click.Path(dir_okay=False), default=None,
                         help="Write a PNG: test accuracy vs N and the gap vs iterations (needs matplotlib)."),
            click.option("--json", "as_json", is_flag=True, help="Print the full result as JSON."),
            # --out (from the solver options) writes sweep.json, every BTF model as model_N{n}_s{seed}.json
            # and, for cellular automata, the rule read back from it (rule_N{n}_s{seed}.txt)
        ]
        for opt in reversed(opts):
            f = opt(f)
        return f
    return wrap


def _run(task_name, pool, arch, ns, seeds, baseline, baseline_steps, baseline_lr, plot_path, as_json, out,
         opts, task=None):
    from btflearn.grid import parse_int_list, parse_seeds, run_sweep
    from btflearn.plots import plot_sweep

    if opts.get("resume"):
        raise click.UsageError("--resume continues a `btflearn solve` run; a sweep is rerun instead")
    seed_list = parse_seeds(seeds) if seeds is not None else [opts["seed"]]
    quiet = opts.get("quiet", False)

    scheduler = opts.get("scheduler")

    def progress(msg):
        if not quiet:  # with a scheduler the message comes as each point finishes
            click.echo(msg if scheduler else f"running {msg}", err=True)

    kw = fit_kwargs(opts)
    if opts.get("per_output") is not None:
        check_per_output_alone()
        kw["per_output"] = opts["per_output"]
    result = run_sweep(pool, arch, parse_int_list(ns, "--n"), seed_list, kw, baseline,
                       dict(steps=baseline_steps, lr=baseline_lr), progress=progress, task=task_name,
                       scheduler=scheduler)
    if as_json:
        click.echo(result.to_json())
    else:
        click.echo(f"{result.task}: arch {result.arch}, pool {pool.n_items} items, "
                   f"solver {', '.join(f'{k}={v}' for k, v in result.settings['fit'].items() if v is not None)}")
        click.echo(result.table())
    if out is not None:
        written = result.save(out, task)
        click.echo(textwrap.fill(f"wrote {', '.join(written)} to {out}", 79, break_long_words=False,
                                 subsequent_indent="  "), err=True)
    if plot_path:
        plot_sweep(result, plot_path)
        click.echo(f"wrote {plot_path}", err=True)
    return result


@sweep.command("ca")
@SPECS["ca"].decorate
@_sweep_options("64,128,256", 10_256)
@per_output_option
@solver_options(SPECS["ca"].defaults, writes_circuit=False)
def sweep_ca(rule, width, steps, radius, data_seed, ns, seeds, pool, baseline, baseline_steps, baseline_lr,
             plot_path, as_json, arch, out, **opts):
    """Elementary CA: rule, ring width and steps as in `btflearn solve ca`."""
    task, data, default_arch = BUILDERS["ca"](rule, width, steps, radius, data_seed, pool)
    _run(task.name, data, arch or default_arch, ns, seeds, baseline, baseline_steps, baseline_lr, plot_path,
         as_json, out, opts, task)


@sweep.command("life")
@SPECS["life"].decorate
@_sweep_options("128,256,512", 10_512)
@per_output_option
@solver_options(SPECS["life"].defaults, writes_circuit=False)
def sweep_life(rule, shape, steps, data_seed, ns, seeds, pool, baseline, baseline_steps, baseline_lr,
               plot_path, as_json, arch, out, **opts):
    """Life-like CA on a torus, as in `btflearn solve life`."""
    task, data, default_arch = BUILDERS["life"](rule, shape, steps, data_seed, pool)
    _run(task.name, data, arch or default_arch, ns, seeds, baseline, baseline_steps, baseline_lr, plot_path,
         as_json, out, opts, task if steps == 1 else None)


@sweep.command("logic")
@SPECS["logic"].decorate
@_sweep_options("64,128,256,512", 10_000)
@per_output_option
@solver_options(SPECS["logic"].defaults, writes_circuit=False)
def sweep_logic(kind, layers, width, p, teacher_seed, data_seed, ns, seeds, pool, baseline, baseline_steps,
                baseline_lr, plot_path, as_json, arch, out, **opts):
    """Random teacher circuit, as in `btflearn solve logic` (reference: pool of 10,000 items)."""
    teacher, data, default_arch = BUILDERS["logic"](kind, layers, width, p, teacher_seed, data_seed, pool)
    _run(teacher.name, data, arch or default_arch, ns, seeds, baseline, baseline_steps, baseline_lr, plot_path,
         as_json, out, opts)


@sweep.command("classify")
@SPECS["classify"].decorate
@_sweep_options("128,256,512", None)
@solver_options(SPECS["classify"].defaults, writes_circuit=False)
def sweep_classify(data, ns, seeds, pool, baseline, baseline_steps, baseline_lr, plot_path, as_json, arch,
                   out, **opts):
    """Classification (optdigits); the pool is the whole shipped file (--pool truncates it). Exact
    accuracy is the classification accuracy."""
    _, items, default_arch = BUILDERS["classify"](data)
    if pool is not None:
        items = items.subset(slice(0, min(pool, items.n_items)))
    _run(items.name, items, arch or default_arch, ns, seeds, baseline, baseline_steps, baseline_lr, plot_path,
         as_json, out, opts)


@sweep.command("multiplier")
@click.option("--bits", type=click.IntRange(1, 8), default=2, show_default=True, help="Bits per operand.")
@click.option("--arch", default=None, show_default="the --bits default",
              help="Comma-separated architectures (a grid axis), e.g. dense:6-12-12-12-6,6-12-12-12-6.")
@click.option("--sigma", default=None, show_default="the --bits default", help="Comma-separated sigmas.")
@click.option("--beta", default=None, show_default="the --bits default", help="Comma-separated RRR step sizes.")
@click.option("--gamma", default=None, show_default="the --bits default, else 1/max-iter",
              help="Comma-separated metric rates.")
@click.option("--dtype", default=None, show_default="the --bits default",
              help="Comma-separated: float64, float32.")
@click.option("--seeds", default="0", show_default=True,
              help="Solver seeds: a list and/or ranges, e.g. 0-4 or 0,3,7-9. Each run is trial 0 of its seed.")
@click.option("--max-iter", type=click.IntRange(min=1), default=None, show_default="the --bits default",
              help="Iterations per run.")
@click.option("--gapstop", type=click.FloatRange(min=0, min_open=True), default=0.01, show_default=True,
              help="Gap below which a run is checked for an exact solution.")
@click.option("--polish", type=click.IntRange(min=0), default=0, show_default=True,
              help="Iterations after an early verified read-out (iterations to solution count to that read-out).")
@click.option("--time-limit", type=click.FloatRange(min=0, min_open=True), default=None,
              help="Seconds per run (not for the whole sweep).")
@click.option("--backend", type=click.Choice(["auto", "numba", "numpy", "cupy"]), default="auto",
              show_default=True,
              help="auto: numba where it imports (each run is one trial, which a GPU runs slower than the "
                   "CPU, docs/gpu.md).")
@click.option("--scheduler", default=None,
              help="Run every (setting, seed) as one Dask task: local, local:N or tcp://host:port "
                   "(pip install 'btflearn[dask]'). Default: in-process, one run after another.")
@click.option("--json", "as_json", is_flag=True, help="Print the full result (every run) as JSON.")
@click.option("--markdown", is_flag=True, help="Print the table as Markdown.")
@click.option("--out", type=click.Path(file_okay=False), default=None,
              help="Directory for sweep.json, table.md and the model of every solved run.")
@click.option("--quiet", is_flag=True, help="No progress lines.")
def sweep_multiplier(bits, arch, sigma, beta, gamma, dtype, seeds, max_iter, gapstop, polish, time_limit, backend,
                     scheduler, as_json, markdown, out, quiet):
    """Solver settings on the BITS x BITS multiplier: every comma list is a grid axis; each grid point runs
    one single-trial fit per seed. The table gives per setting the success rate, the median and min-max
    iterations to the first verified solution and the median seconds of the solved runs, the median final
    and best gap of the unsolved runs, and the total time."""
    from btflearn.errors import BtfError
    from btflearn.grid import (check_sweep, grid_points, parse_float_list, parse_seeds,
                                         parse_str_list, settings_sweep)
    from btflearn.tasks import multiplier, multiplier_spec

    spec = multiplier_spec(bits, split=[])   # a sweep runs one network on all facts
    defaults = spec.settings()
    arch = arch or spec.arch
    if arch is None:
        raise click.UsageError(f"no default architecture for {bits} bits: give --arch")

    def axis(text, parse, hint):
        try:
            return parse(text, hint.lstrip("-"))
        except BtfError as exc:
            raise click.BadParameter(str(exc), param_hint=hint) from None

    grid = {"arch": axis(arch, parse_str_list, "--arch"),
            "sigma": axis(sigma if sigma is not None else str(defaults["sigma"]), parse_float_list, "--sigma"),
            "beta": axis(beta if beta is not None else str(defaults["beta"]), parse_float_list, "--beta")}
    gamma = gamma if gamma is not None else defaults["gamma"]
    if gamma is not None:
        grid["gamma"] = axis(str(gamma), parse_float_list, "--gamma")
    grid["dtype"] = axis(dtype or defaults["dtype"], parse_str_list, "--dtype")
    seed_list = axis(seeds, lambda text, _: parse_seeds(text), "--seeds")
    base = dict(max_iter=max_iter or defaults["max_iter"], gapstop=gapstop, polish=polish,
                time_limit=time_limit, backend=backend)
    data = multiplier(bits)
    try:  # every value checked before the first run
        grid, seed_list, base = check_sweep(data, grid, seed_list, base)
    except BtfError as exc:
        raise click.UsageError(str(exc)) from None
    n_runs = len(grid_points(grid)) * len(seed_list)

    def progress(msg):
        if not quiet:
            click.echo(msg, err=True)

    progress(f"{data.name}: {len(grid_points(grid))} setting(s) x {len(seed_list)} seed(s) = {n_runs} run(s), "
             f"{base['max_iter']} iterations at most each" + (f" on {scheduler}" if scheduler else ""))
    result = settings_sweep(data, grid, seed_list, base, progress=progress, scheduler=scheduler)
    if as_json:
        click.echo(result.to_json())
    else:
        click.echo(result.describe())
        click.echo(result.table(markdown=markdown))
    if out is not None:
        saved = result.save(out)
        click.echo(f"wrote sweep.json, table.md and {saved} solved model(s) (models/p<setting>_s<seed>.json) "
                   f"to {out}", err=True)
