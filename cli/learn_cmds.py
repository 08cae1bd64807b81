"""``btflearn learn``, ``btflearn score`` and ``btflearn learn-suite``: circuits learned from PLA samples
and their accuracy. Thin: parse, call btflearn.learn / btflearn.learn_suite, print."""
from __future__ import annotations

import textwrap
import time
from pathlib import Path

import click


def _say(line: str) -> None:
    """A progress line, wrapped to 80 columns (input lists can be long)."""
    click.echo(textwrap.fill(line, 80, subsequent_indent="  ", break_long_words=False,
                             break_on_hyphens=False), err=True)


@click.command("learn")
@click.argument("train_path", metavar="TRAIN.pla", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--valid", "valid_path", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Validation PLA file (default: hold out a quarter of TRAIN).")
@click.option("--out", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Folder for circuit.aig/.aag/.blif/.v and result.json.")
@click.option("--time-limit", default=120.0, show_default=True, type=click.FloatRange(min=1.0),
              help="Seconds for the whole run, circuit included.")
@click.option("--max-ands", default=5000, show_default=True, type=click.IntRange(min=0),
              help="Most AND nodes the circuit may have.")
@click.option("--seed", default=0, show_default=True, type=int, help="Seed of every random choice.")
@click.option("--no-ensemble", is_flag=True, help="Never take a majority vote of several networks.")
def learn(train_path, valid_path, out, time_limit, max_ands, seed, no_ensemble):
    """Learn a circuit from the sample in TRAIN.pla (BTF networks, choices made on validation).

    Writes OUT/circuit.aig (binary AIGER), circuit.aag, circuit.blif, circuit.v, each checked by reading
    it back and simulating it, and OUT/result.json (accuracies, AND count, settings chosen).
    """
    import numpy as np
    from btflearn.learn import learn as run_learn, write_result
    from btflearn.pla import read_pla
    train = read_pla(train_path)
    valid = read_pla(valid_path) if valid_path else None
    result = run_learn(train, valid, time_limit=time_limit, max_ands=max_ands, seed=seed,
                       ensemble=not no_ensemble, log=_say)
    inputs = train.inputs if valid is None else np.concatenate([train.inputs, valid.inputs])
    write_result(result, out, inputs, extra=dict(train_file=str(train_path),
                                                 valid_file=str(valid_path) if valid_path else None))
    click.echo(f"train {100 * result.train_accuracy:.2f}%  valid {100 * result.valid_accuracy:.2f}%  "
               f"{result.ands} ANDs  {result.seconds:.1f} s  -> {out / 'circuit.aig'}")


@click.command("score")
@click.argument("circuit", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("data", metavar="TEST.pla", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def score(circuit, data):
    """Accuracy of CIRCUIT (.aig, .aag, .blif or .v) on the items of TEST.pla."""
    from btflearn.circuits.decompose import to_aig
    from btflearn.circuits.export import read_netlist
    from btflearn.pla import read_pla
    from btflearn.score import score_network
    net = read_netlist(circuit)
    result = score_network(net, read_pla(data))
    aig = to_aig(net)
    click.echo(f"{circuit}: {aig.n_gates} ANDs, AIG depth {aig.depth()}")
    click.echo(f"{100 * result.per_bit:.2f}% of output bits right on {result.items} items, "
               f"{100 * result.exact:.2f}% of items all right")
    click.echo(f"ports matched {result.matched}")


@click.command("learn-suite")
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--out", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Results folder (one subfolder per function; reruns skip finished ones).")
@click.option("--time-limit", default=120.0, show_default=True, type=click.FloatRange(min=1.0),
              help="Seconds per function.")
@click.option("--max-ands", default=5000, show_default=True, type=click.IntRange(min=0))
@click.option("--jobs", default=1, show_default=True, type=click.IntRange(min=1),
              help="Functions learned at once (one process and one Numba thread each).")
@click.option("--seed", default=0, show_default=True, type=int)
@click.option("--only", help="Comma-separated functions to run, e.g. ex00,ex30.")
def learn_suite(folder, out, time_limit, max_ands, jobs, seed, only):
    """Learn every exNN.train.pla[.gz] under FOLDER (with its exNN.valid.pla[.gz]) and write one table."""
    from btflearn.learn_suite import format_table, run_suite
    t0 = time.perf_counter()
    names = [n.strip() for n in only.split(",") if n.strip()] if only else None
    result = run_suite(folder, out, time_limit=time_limit, max_ands=max_ands, jobs=jobs, seed=seed, only=names,
                       log=_say)
    click.echo(format_table(result["rows"], result))
    click.echo(f"wall time {time.perf_counter() - t0:.0f} s; table in {out / 'table.md'}")
    if result["failed"]:
        raise click.ClickException("failed (rerun to retry them): " + "; ".join(
            f"{name}: {why}" for name, why in sorted(result["failed"].items())))
