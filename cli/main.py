"""The ``btflearn`` command line: a thin click layer over the library.

Commands live in their own modules and are imported only when run, so ``btflearn --help`` starts fast
(no NumPy/Numba/JAX import at start-up).
"""
from __future__ import annotations

import importlib
import sys

import click

# command name -> (module, attribute, one-line help shown by --help without importing the module)
COMMANDS = {
    "solve": ("btflearn.cli.solve_cmd", "solve", "Learn a circuit for a task (multiplier, ...)."),
    "train": ("btflearn.cli.train_cmd", "train", "Train on the reference .wth/.dat files."),
    "bench": ("btflearn.cli.bench_cmd", "bench", "Measure kernel throughput and time to solution."),
    "export": ("btflearn.cli.circuit_cmds", "export", "Export a model.json as a verified netlist."),
    "verify": ("btflearn.cli.circuit_cmds", "verify", "Simulate a netlist against a task's truth table."),
    "train-continuous": ("btflearn.cli.continuous_cmds", "train_continuous",
                         "Train continuous MLP/CNN/RNN nets by projections (JAX) vs Adam."),
    "sweep": ("btflearn.cli.sweep_cmd", "sweep", "Generalization over training-set sizes; solver-settings grids."),
    "plot-gap": ("btflearn.cli.plot_cmd", "plot_gap", "Plot the gap against iterations of finished runs."),
    "circuit-bench": ("btflearn.cli.circuit_bench_cmd", "circuit_bench",
                      "Learned circuits vs ABC and references (gates, AIG ANDs, minimisation time)."),
    "learn": ("btflearn.cli.learn_cmds", "learn", "Learn a circuit (AIGER) from a PLA sample of a function."),
    "score": ("btflearn.cli.learn_cmds", "score", "Accuracy of a netlist on a PLA file."),
    "learn-suite": ("btflearn.cli.learn_cmds", "learn_suite", "Learn every exNN PLA pair of a folder; one table."),
}


class LazyGroup(click.Group):
    def list_commands(self, ctx):
        return sorted(COMMANDS)

    def get_command(self, ctx, name):
        if name not in COMMANDS:
            return None
        module, attr, _ = COMMANDS[name]
        return getattr(importlib.import_module(module), attr)

    def format_commands(self, ctx, formatter):
        rows = [(name, COMMANDS[name][2]) for name in self.list_commands(ctx)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option("0.1.0", prog_name="btflearn")
def cli():
    """btflearn: learn Boolean circuits from examples with Boolean threshold functions."""


def main(argv=None):
    from btflearn.errors import BtfError  # light: no NumPy
    try:
        return cli.main(args=argv, standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except BtfError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        sys.exit(130)
