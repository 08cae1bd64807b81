"""`btflearn sweep TASK --n 64,128,256 [--seeds 0,1,2] [--baseline adamw] [--plot FILE.png] [--json]`:
a generalization table over training-set sizes and seeds. The sweep itself is btflearn.sweep.run_sweep;
the task options are the ones of `btflearn solve TASK` (cli/task_cmds.py)."""
from __future__ import annotations

import sys
from pathlib import Path

import click

from .options import fit_kwargs, solver_options
from .task_cmds import BUILDERS, SPECS


@click.group()
def sweep():
    """Generalization table: train on the first N items of a pool (N from --n), test on the rest."""


def _sweep_options(default_n, default_pool):
    def wrap(f):
        opts = [
            click.option("--n", "ns", default=default_n, show_default=True,
                         help="Comma-separated training-set sizes."),
            click.option("--seeds", default=None, help="Comma-separated solver seeds (default: --seed)."),
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
    from btflearn.sweep import parse_int_list, plot_sweep, run_sweep

    if opts.get("resume"):
        raise click.UsageError("--resume continues a `btflearn solve` run; a sweep is rerun instead")
    seed_list = parse_int_list(seeds) if seeds is not None else [opts["seed"]]
    quiet = opts.get("quiet", False)

    scheduler = opts.get("scheduler")

    def progress(msg):
        if not quiet:  # with a scheduler the message comes as each point finishes
            click.echo(msg if scheduler else f"running {msg}", err=True)

    kw = fit_kwargs(opts)
    result = run_sweep(pool, arch, parse_int_list(ns), seed_list, kw, baseline,
                       dict(steps=baseline_steps, lr=baseline_lr), progress=progress, task=task_name,
                       scheduler=scheduler)
    if as_json:
        click.echo(result.to_json())
    else:
        click.echo(f"{result.task}: arch {result.arch}, pool {pool.n_items} items, "
                   f"solver {', '.join(f'{k}={v}' for k, v in result.settings['fit'].items() if v is not None)}")
        click.echo(result.table())
    if out is not None:
        Path(out).mkdir(parents=True, exist_ok=True)
        (Path(out) / "sweep.json").write_text(result.to_json() + "\n")
        written = ["sweep.json"]
        for row in result.rows:
            if row.model is None:
                continue
            stem = f"N{row.n_train}_s{row.seed}"
            row.model.save(Path(out) / f"model_{stem}.json")
            written.append(f"model_{stem}.json")
            if task is not None and hasattr(task, "neighbourhood"):
                try:
                    from btflearn.tasks import recover_rule
                    text = recover_rule(row.model, task).summary()
                except Exception as exc:  # no separate local rule (e.g. it wraps the ring): say why
                    text = f"no local rule read back: {exc}"
                (Path(out) / f"rule_{stem}.txt").write_text(text + "\n")
                written.append(f"rule_{stem}.txt")
        click.echo(f"wrote {', '.join(written)} to {out}", err=True)
    if plot_path:
        plot_sweep(result, plot_path)
        click.echo(f"wrote {plot_path}", err=True)
    return result


@sweep.command("ca")
@SPECS["ca"].decorate
@_sweep_options("64,128,256", 10_256)
@solver_options(SPECS["ca"].defaults)
def sweep_ca(rule, width, steps, radius, data_seed, ns, seeds, pool, baseline, baseline_steps, baseline_lr,
             plot_path, as_json, arch, out, **opts):
    """Elementary CA: rule, ring width and steps as in `btflearn solve ca`."""
    task, data, default_arch = BUILDERS["ca"](rule, width, steps, radius, data_seed, pool)
    _run(task.name, data, arch or default_arch, ns, seeds, baseline, baseline_steps, baseline_lr, plot_path,
         as_json, out, opts, task)


@sweep.command("life")
@SPECS["life"].decorate
@_sweep_options("128,256,512", 10_512)
@solver_options(SPECS["life"].defaults)
def sweep_life(rule, shape, steps, data_seed, ns, seeds, pool, baseline, baseline_steps, baseline_lr,
               plot_path, as_json, arch, out, **opts):
    """Life-like CA on a torus, as in `btflearn solve life`."""
    task, data, default_arch = BUILDERS["life"](rule, shape, steps, data_seed, pool)
    _run(task.name, data, arch or default_arch, ns, seeds, baseline, baseline_steps, baseline_lr, plot_path,
         as_json, out, opts, task if steps == 1 else None)


@sweep.command("logic")
@SPECS["logic"].decorate
@_sweep_options("64,128,256,512", 10_000)
@solver_options(SPECS["logic"].defaults)
def sweep_logic(kind, layers, width, p, teacher_seed, data_seed, ns, seeds, pool, baseline, baseline_steps,
                baseline_lr, plot_path, as_json, arch, out, **opts):
    """Random teacher circuit, as in `btflearn solve logic` (reference: pool of 10,000 items)."""
    teacher, data, default_arch = BUILDERS["logic"](kind, layers, width, p, teacher_seed, data_seed, pool)
    _run(teacher.name, data, arch or default_arch, ns, seeds, baseline, baseline_steps, baseline_lr, plot_path,
         as_json, out, opts)


@sweep.command("classify")
@SPECS["classify"].decorate
@_sweep_options("128,256,512", None)
@solver_options(SPECS["classify"].defaults)
def sweep_classify(data, ns, seeds, pool, baseline, baseline_steps, baseline_lr, plot_path, as_json, arch,
                   out, **opts):
    """Classification (optdigits); the pool is the whole shipped file (--pool truncates it). Exact
    accuracy is the classification accuracy."""
    _, items, default_arch = BUILDERS["classify"](data)
    if pool is not None:
        items = items.subset(slice(0, min(pool, items.n_items)))
    _run(items.name, items, arch or default_arch, ns, seeds, baseline, baseline_steps, baseline_lr, plot_path,
         as_json, out, opts)
