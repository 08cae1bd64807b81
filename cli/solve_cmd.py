"""`btflearn solve TASK ...`: one subcommand per task."""
from __future__ import annotations

import click

from .options import run_task, solver_options


@click.group()
def solve():
    """Learn a circuit for a task and verify it (exit status 1 when not solved)."""


@solve.command()
@click.option("--bits", type=click.IntRange(1, 8), default=2, show_default=True, help="Bits per operand.")
@solver_options()
def multiplier(bits, arch, out, **opts):
    """Discover an exact BITS x BITS-bit multiplier from its full truth table."""
    from btflearn.tasks import multiplier as make, MULTIPLIER_ARCH, MULTIPLIER_SETTINGS

    defaults = MULTIPLIER_SETTINGS.get(bits, {})
    ctx = click.get_current_context()
    for key, value in defaults.items():  # per-bits defaults where the user left the option alone
        if ctx.get_parameter_source(key) == click.core.ParameterSource.DEFAULT:
            opts[key] = value
    if arch is None:
        if bits not in MULTIPLIER_ARCH:
            raise click.UsageError(f"no default architecture for {bits} bits: give --arch")
        arch = MULTIPLIER_ARCH[bits]
    if out is None and bits >= 4 and not opts.get("resume"):
        out = f"runs/multiplier{bits}"   # hours-long runs: always checkpointed somewhere
        click.echo(f"writing checkpoints and results to {out} (--out to choose)", err=True)
    run_task(make(bits), None, arch, opts, out)


def _register_task_commands():
    try:
        from . import task_cmds
    except ImportError:
        return
    for name in getattr(task_cmds, "COMMANDS", ()):
        solve.add_command(getattr(task_cmds, name))


_register_task_commands()
