"""`btflearn solve TASK ...`: one subcommand per task."""
from __future__ import annotations

import click

from .options import resolve_spec, resumable, run_split_task, run_task, solver_options


@click.group()
def solve():
    """Learn a circuit for a task and verify it (exit status 1 when not solved)."""


def _multiplier_specs():
    from btflearn.tasks import MULTIPLIER_SPECS
    return ("--bits", MULTIPLIER_SPECS)


@solve.command()
@click.option("--bits", type=click.IntRange(1, 8), default=2, show_default=True, help="Bits per operand.")
@click.option("--split", default=None, metavar="INPUTS",
              help="Learn one network (--arch) per cofactor of these inputs, e.g. a0,b0, joined by a "
                   "multiplexer of threshold gates; 'none' for one network [default: a3,b3 "
                   "for 4 bits, a3,a4,b3,b4 for 5, else none].")
@solver_options(_multiplier_specs())
@resumable
def multiplier(bits, split, out, **opts):
    """Discover an exact BITS x BITS-bit multiplier from its full truth table."""
    from btflearn.tasks import multiplier as make, multiplier_spec, multiplier_split

    select = multiplier_split(bits) if split is None else [] if split == "none" else split.split(",")
    resolve_spec(opts, multiplier_spec(bits, select))
    if opts["arch"] is None and not opts.get("resume"):
        where = f"a split on {','.join(select)}" if select else f"{bits} bits"
        raise click.UsageError(f"no default architecture for {where}: give --arch")
    if out is None and bits >= 4 and not opts.get("resume"):
        out = f"runs/multiplier{bits}"   # long runs: always checkpointed somewhere
        click.echo(f"writing checkpoints and results to {out} (--out to choose)", err=True)
    if select:
        run_split_task(make(bits), select, opts.pop("arch"), opts, out)
    else:
        run_task(make(bits), None, opts.pop("arch"), opts, out)


def _register_task_commands():
    try:
        from . import task_cmds
    except ImportError:
        return
    for name in getattr(task_cmds, "COMMANDS", ()):
        solve.add_command(getattr(task_cmds, name))


_register_task_commands()
