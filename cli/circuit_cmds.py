"""``btflearn export`` and ``btflearn verify``: circuits out of a model, and netlists checked against a
task's truth table. Thin: parse, call btflearn.circuits, print."""
from __future__ import annotations

import re
import sys
from pathlib import Path

import click

from .options import minimise_progress

FORMAT_CHOICES = ["blif", "verilog", "aiger", "aig", "dot"]
TASKS = ["multiplier"]


def _dataset(task, bits, data, n_inputs=None, required=True):
    """The truth table named on the command line, or None when none was named and not ``required``."""
    from btflearn.errors import BtfError
    if task and data:
        raise BtfError("give either --task or --data, not both")
    if data:
        from btflearn.formats import read_dat
        return read_dat(data, n_inputs=n_inputs)
    if task:
        if task == "multiplier":
            if bits is None:
                raise BtfError("--task multiplier needs --bits N")
            from btflearn.tasks import multiplier
            return multiplier(bits)
        raise BtfError(f"unknown task {task!r}: choose from {', '.join(TASKS)}")
    if bits is not None:
        raise BtfError("--bits needs --task")
    if required:
        raise BtfError("name the truth table: --task multiplier --bits N, or --data FILE.dat")
    return None


def _dataset_for_model(model):
    """The task a model was trained on, when its name or hyperparameters say so (multiplierN)."""
    hyper = model.hyperparameters or {}
    bits = None
    if hyper.get("task") == "multiplier" and isinstance(hyper.get("bits"), int):
        bits = hyper["bits"]
    else:
        m = re.fullmatch(r"multiplier(\d+)", str(model.name))
        if m:
            bits = int(m.group(1))
    if bits is None or not 1 <= bits <= 8:
        return None
    from btflearn.tasks import multiplier
    data = multiplier(bits)
    if list(data.input_names) != list(model.input_names) or list(data.output_names) != list(model.output_names):
        return None
    return data


def _check_writable(path: Path):
    """Refuse an output path that cannot be written, before any work and without creating anything."""
    import os
    from btflearn.errors import BtfError
    parent = path.parent if str(path.parent) else Path(".")
    if path.exists() and not path.is_file():
        raise BtfError(f"cannot write {path}: it exists and is not a file")
    if not parent.exists():
        raise BtfError(f"cannot write {path}: the folder {parent} does not exist")
    if not parent.is_dir():
        raise BtfError(f"cannot write {path}: {parent} is not a folder")
    if not os.access(path if path.exists() else parent, os.W_OK):
        raise BtfError(f"cannot write {path}: permission denied")


@click.command("export")
@click.argument("model_path", metavar="MODEL", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--format", "-f", "fmt", type=click.Choice(FORMAT_CHOICES),
              help="Netlist format (default: from the -o suffix, else verilog).")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the netlist here (default: standard output).")
@click.option("--optimize", is_flag=True, help="Also run the circuit through ABC without collapse (2-input "
              "gate mapping), write that to NAME.abc.SUFFIX beside -o, re-verify, and report AIG sizes side by "
              "side: learned, learned + ABC, and ABC from the truth table alone (the baseline).")
@click.option("--minimise/--no-minimise", default=True, show_default=True, help="Make the model sparse first "
              "(btflearn.sparsify: small gates, still exact on every item); needs the truth table (task or data).")
@click.option("--minimise-time", type=click.FloatRange(min=0.1), default=None, metavar="S",
              help="Time budget in seconds of each minimisation stage: the network, then its circuit "
                   "(resubstitution) [default: 60].")
@click.option("--task", type=click.Choice(TASKS), help="Truth table to extract over and verify against "
              "(default: the model's own task when its name says so, else all inputs of the model).")
@click.option("--bits", type=int, help="Operand width for --task multiplier.")
@click.option("--data", type=click.Path(exists=True, dir_okay=False), help="A .dat file to extract over instead.")
def export(model_path, fmt, output, optimize, minimise, minimise_time, task, bits, data):
    """Export MODEL (a model.json) as a verified netlist.

    The circuit is extracted from the model, simplified, and simulated against the truth table; the
    written text is read back and simulated again. A model that does not reproduce its data is an error
    and nothing is written.
    """
    from btflearn import load_model
    from btflearn.circuits import export as ex
    from btflearn.errors import BtfError

    if output:
        _check_writable(output)
    model = load_model(model_path)
    if fmt is None:
        fmt = (ex.format_for(output) if output else None) or "verilog"
    dataset = _dataset(task, bits, data, n_inputs=model.network.n_inputs, required=False)
    note = None
    if dataset is None:
        dataset = _dataset_for_model(model)
        if dataset is not None:
            note = f"truth table: {dataset.name} (from the model's name)"
        else:
            note = (f"no task given: the circuit is checked against the model's own outputs on all "
                    f"2^{model.network.n_inputs} inputs")
    text, abc_text, report = ex.export_model(model, dataset, fmt, minimise_time=minimise_time if minimise else 0,
                                             optimize=optimize, progress=minimise_progress())
    if note:
        report.insert(0, note)
    if output:
        try:
            output.write_bytes(text) if isinstance(text, bytes) else output.write_text(text)
        except OSError as exc:
            raise BtfError(f"cannot write {output}: {exc.strerror or exc}") from None
        report.append(f"wrote {output} ({fmt})")
        if abc_text is not None:
            abc_path = output.with_name(output.stem + ".abc" + output.suffix)
            abc_path.write_bytes(abc_text) if isinstance(abc_text, bytes) else abc_path.write_text(abc_text)
            report.append(f"wrote {abc_path} ({fmt}, after ABC)")
        click.echo("\n".join(report))
    else:
        click.echo("\n".join(report), err=True)
        click.echo(abc_text if abc_text is not None else text, nl=False)


@click.command("verify")
@click.argument("netlist", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--task", type=click.Choice(TASKS), help="The task whose truth table the netlist must compute.")
@click.option("--bits", type=int, help="Operand width for --task multiplier.")
@click.option("--data", type=click.Path(exists=True, dir_okay=False), help="A .dat file to check against instead.")
@click.option("--prove", is_flag=True, help="Also prove equivalence with yosys (miter + SAT) against a "
              "behavioural reference, and with ABC cec where ABC is on PATH.")
def verify(netlist, task, bits, data, prove):
    """Simulate NETLIST (.blif, .v or .aag) on every item of a truth table; exit 1 on a mismatch."""
    from btflearn.circuits import export as ex
    from btflearn.circuits.stats import circuit_stats, format_stats

    dataset = _dataset(task, bits, data)
    net = ex.read_netlist(netlist)
    result = ex.compare_with_dataset(net, dataset)
    click.echo(f"{netlist}: {format_stats(circuit_stats(net))}")
    if not result.ok:
        wrong = ", ".join(result.wrong_outputs())
        click.echo(f"FAIL: {netlist} differs from {dataset.name} (item {result.row} of {result.patterns})")
        click.echo(f"  counterexample: {ex.words_of(result.inputs)}")
        click.echo(f"  expected {ex.words_of(result.expected)}, got {ex.words_of(result.got)} "
                   f"(wrong outputs: {wrong})")
        sys.exit(1)
    click.echo(f"PASS: {netlist} matches {dataset.name} on all {result.patterns} items "
               f"({dataset.n_outputs} outputs each)")
    if prove:
        _prove(netlist, dataset, task, bits)


def _prove(netlist, dataset, task, bits):
    from btflearn.circuits import eda
    from btflearn.circuits.export import read_netlist

    listed, n_inputs = eda.distinct_inputs(dataset), len(dataset.input_names)
    partial = task != "multiplier" and listed < 2 ** n_inputs
    if task == "multiplier":
        reference, kind = eda.multiplier_reference(bits), "behavioural a*b"
    elif partial:
        # A partial truth table says nothing outside its items: prove the netlist on its care set only.
        reference, kind = eda.care_set_reference(dataset), f"{dataset.name} truth table"
    else:
        reference, kind = eda.truth_table_reference(dataset), "truth-table case statement"
    gate = (netlist.name, netlist.read_bytes() if netlist.suffix.lower() == ".aig" else netlist.read_text())
    result = eda.yosys_equiv(("reference.v", reference), gate)
    if not result.equivalent:
        click.echo(f"FAIL: yosys finds {netlist} differs from the {kind} reference")
        click.echo(f"  counterexample: {_bits(result.inputs)}")
        click.echo(f"  expected {_bits(result.expected)}, got {_bits(result.got)} (wrong outputs: "
                   f"{', '.join(k for k in result.expected if result.got.get(k) != result.expected[k])})")
        sys.exit(1)
    if partial:
        click.echo(f"PROVED: yosys miter -equiv + sat -prove: equal to the {kind} on its care set, the "
                   f"{listed} input patterns it lists")
        click.echo(f"note: {dataset.name} lists {listed} of the 2^{n_inputs} input patterns and says nothing "
                   f"about the others; ABC cec compares whole functions, so it does not apply")
        return
    click.echo(f"PROVED: yosys miter -equiv + sat -prove: equivalent to the {kind} reference")
    if eda.find_abc() is None:
        click.echo(f"note: {eda.ABC_MISSING}; skipped ABC cec")
        return
    how = ""
    if netlist.suffix.lower() == ".aag":  # ABC reads binary AIGER only: give it btflearn's BLIF of the file
        from btflearn.circuits.blif import write_blif
        gate, how = ("netlist.blif", write_blif(read_netlist(netlist))), " (on btflearn's BLIF rendering of the .aag)"
    cec = eda.abc_cec(("reference.aig", eda.reference_aig(reference)), gate)
    if not cec.equivalent:
        click.echo(f"FAIL: ABC cec finds {netlist} differs from the reference{how}: {cec.detail}")
        sys.exit(1)
    click.echo(f"PROVED: ABC cec: equivalent{how}")


def _bits(values: dict) -> str:
    return " ".join(f"{name}={value}" for name, value in values.items()) or "(none reported)"
