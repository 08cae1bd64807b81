"""``btflearn circuit-bench``: learned circuits against ABC and references, one table from one run.
Thin: parse, call btflearn.circuits.benchmark, print."""
from __future__ import annotations

import json
from pathlib import Path

import click


@click.command("circuit-bench")
@click.option("--tasks", default="multiplier2,multiplier3,life,rule30", show_default=True,
              help="Comma-separated: multiplier2, multiplier3, multiplier4, life, rule30 (4x4 solving takes "
                   "minutes: give a saved model with --model instead).")
@click.option("--model", "models", multiple=True, metavar="TASK=PATH",
              help="Use this model.json for TASK instead of solving (repeatable).")
@click.option("--seed", type=int, default=0, show_default=True, help="Solver and data seed.")
@click.option("--minimise-time", type=click.FloatRange(min=0.1), default=None, metavar="S",
              help="Time budget in seconds of each minimisation stage per task: the network, then its "
                   "circuit (resubstitution) [default: 60].")
@click.option("--json", "json_out", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write the rows as JSON here.")
def circuit_bench(tasks, models, seed, minimise_time, json_out):
    """Solve (or load) each task, minimise, and count: gates by type, 2-input gates and AIG ANDs of the
    learned circuit, of the minimised one, of that after care-set resubstitution, ABC's collapse baseline
    and a reference from the specification (AIG counts: ABC strash; dch; resyn2, no collapse; needs ABC on PATH)."""
    from btflearn import load_model
    from btflearn.circuits import eda
    from btflearn.circuits.benchmark import bench_row, bench_task, format_table
    from btflearn.errors import BtfError

    given = {}
    for item in models:
        name, sep, path = item.partition("=")
        if not sep:
            raise BtfError(f"--model takes TASK=PATH, got {item!r}")
        given[name.strip()] = load_model(path)
    names = [t.strip() for t in tasks.split(",") if t.strip()]
    for name in given:
        if name not in names:
            names.append(name)
    if eda.find_abc() is None:
        click.echo(f"note: {eda.ABC_MISSING}; AIG columns left empty", err=True)
    rows = []
    for name in names:
        task = bench_task(name, seed=seed)
        click.echo(f"{name}: {'saved model' if name in given else 'solving'} ...", err=True)
        row = bench_row(task, given.get(name), minimise_time=minimise_time, seed=seed)
        click.echo(f"{name}: {row.get('minimise', row.get('error'))}", err=True)
        rows.append(row)
    click.echo(format_table(rows))
    if json_out:
        json_out.write_text(json.dumps(rows, indent=1) + "\n")
        click.echo(f"wrote {json_out}")
