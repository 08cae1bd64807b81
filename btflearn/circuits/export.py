"""From a model to checked netlist files: extraction, simplification, verification against the truth
table, and writing. Every netlist text is read back with btflearn's own reader and simulated against the
truth table before it is written (DOT, a drawing, has no reader: it is drawn from the verified network);
a wrong circuit is an error, never a file."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import BtfError, FormatError, NotSolvedError
from .aiger import read_aig, read_aiger, write_aig, write_aiger
from .blif import read_blif, write_blif
from .dot import write_dot
from .extract import Extraction, extract
from .ir import LogicNetwork
from .simplify import simplify
from .simulate import all_patterns, simulate
from .stats import circuit_stats, format_stats
from .verilog import read_verilog, write_verilog

# format -> (file suffix, writer, reader)
FORMATS = {
    "blif": (".blif", write_blif, read_blif),
    "verilog": (".v", write_verilog, read_verilog),
    "aiger": (".aag", write_aiger, read_aiger),
    "aig": (".aig", write_aig, read_aig),  # binary AIGER: bytes, not text
    "dot": (".dot", write_dot, None),
}
SUFFIXES = {".blif": "blif", ".v": "verilog", ".verilog": "verilog", ".aag": "aiger", ".aig": "aig", ".dot": "dot",
            ".gv": "dot"}
MAX_EXHAUSTIVE_INPUTS = 20


def format_for(path) -> str | None:
    return SUFFIXES.get(Path(str(path)).suffix.lower())


def read_netlist(path, fmt: str | None = None) -> LogicNetwork:
    """Read a .blif, .v, .aag or .aig netlist (by suffix unless ``fmt`` is given)."""
    fmt = fmt or format_for(path)
    if fmt not in FORMATS or FORMATS[fmt][2] is None:
        raise FormatError(path, "unknown netlist format: use a .blif, .v, .aag or .aig file")
    return FORMATS[fmt][2](path)


# -- checks -----------------------------------------------------------------------------------------

def check_solved(model, dataset) -> None:
    """Raise NotSolvedError unless ``model`` reproduces every output bit of ``dataset``."""
    if dataset.n_inputs != model.network.n_inputs or dataset.n_outputs != model.network.n_outputs:
        raise BtfError(f"the model has {model.network.n_inputs} inputs and {model.network.n_outputs} outputs, "
                       f"the dataset {dataset.n_inputs} and {dataset.n_outputs}")
    pred = model.predict(dataset.inputs)
    wrong = pred != dataset.outputs
    if wrong.any():
        items = np.flatnonzero(wrong.any(axis=1))
        raise NotSolvedError(
            f"model {model.name!r} does not reproduce {dataset.name!r}: {int(wrong.sum())} of {wrong.size} output "
            f"bits wrong on {items.size} of {dataset.n_items} items (first: item {int(items[0])}); only a model "
            f"that reproduces its data exactly has a circuit, so no netlist was written")


def no_circuit_reason(model, dataset=None) -> str | None:
    """Why ``model`` has no Boolean circuit over ``dataset`` (argmax readout, free or analog inputs), or
    None when ``extract_circuit``/``export_all`` apply (whether the model is solved is checked there)."""
    try:
        _circuit_inputs(model, dataset, check=False)
    except NotSolvedError:
        return None
    except BtfError as exc:
        return str(exc)
    return None


def _circuit_inputs(model, dataset, check=True):
    if getattr(model, "readout", "sign") != "sign" or (dataset is not None and dataset.readout != "sign"):
        raise BtfError("circuit export needs sign readout: argmax outputs are not a Boolean circuit")
    if dataset is not None and dataset.input_mode != "data":
        raise BtfError(f"circuit export needs data inputs; {dataset.name!r} has free ({dataset.input_mode}) "
                       f"inputs")
    if dataset is None:
        n = model.network.n_inputs
        if n > MAX_EXHAUSTIVE_INPUTS:
            raise BtfError(f"the model has {n} inputs: give the dataset (task or data file) to extract over, "
                           f"all 2^{n} inputs are too many")
        inputs = np.where(all_patterns(n), 1.0, -1.0)
        return inputs, model.predict(inputs)
    if not np.all(np.isin(dataset.inputs, (-1.0, 1.0))):
        raise BtfError("circuit export needs Boolean inputs; this dataset has analog values")
    if check:
        check_solved(model, dataset)
    return dataset.inputs, dataset.outputs


@dataclass
class Circuit:
    """A verified circuit: the simplified ``network``, the raw ``extraction``, and the patterns it was
    checked on (``inputs`` +-1, ``expected`` +-1 outputs)."""
    network: LogicNetwork
    extraction: Extraction
    inputs: np.ndarray
    expected: np.ndarray
    complete: bool
    resub: object = None            # ResubReport when care-set resubstitution ran

    def stats(self) -> dict:
        if getattr(self, "_stats", None) is None:
            self._stats = circuit_stats(self.network)
        out = dict(self._stats)
        out["extracted_nodes"] = self.extraction.summary()
        out["patterns"] = int(self.inputs.shape[0])
        out["complete_truth_table"] = self.complete
        if self.resub is not None:
            out["resub"] = self.resub.to_dict()
        return out

    def describe(self) -> str:
        scope = "every input" if self.complete else f"{self.inputs.shape[0]} training items"
        return f"{self.network.name}: {format_stats(self.stats())}; simulated on {scope}"


def extract_circuit(model, dataset=None, resub=False, resub_time: float | None = None, progress=None) -> Circuit:
    """Extract, simplify and verify the circuit of ``model``: over ``dataset`` (NotSolvedError unless the
    model reproduces it), or with no dataset over all 2^n inputs against the model's own forward pass.

    ``resub``: then shrink it by care-set resubstitution (``btflearn.circuits.resub``, ``resub_time``
    seconds, None = its default), True: only when the patterns are the complete truth table (on sampled
    data a choice made on the training items also decides unseen inputs), "always": on sampled data too.
    ``progress`` hears the resubstitution's passes."""
    if resub not in (False, True, "always"):
        raise BtfError(f"resub must be False, True or 'always', got {resub!r}")
    inputs, expected = _circuit_inputs(model, dataset)
    extraction = extract(model, inputs)
    network = simplify(extraction.network)
    for net, what in ((extraction.network, "extracted"), (network, "simplified")):
        if not np.array_equal(simulate(net, inputs), expected):
            raise BtfError(f"internal error: the {what} circuit differs from the model on its patterns")
    n = model.network.n_inputs
    complete = len({row.tobytes() for row in (inputs > 0)}) == 1 << n if n <= MAX_EXHAUSTIVE_INPUTS else False
    report = None
    if resub == "always" or (resub and complete):
        from .resub import DEFAULT_TIME, resubstitute
        network, report = resubstitute(network, inputs, expected,
                                       time_limit=DEFAULT_TIME if resub_time is None else resub_time,
                                       progress=progress)
        if not np.array_equal(simulate(network, inputs), expected):
            raise BtfError("internal error: the resubstituted circuit differs from the model on its patterns")
    return Circuit(network, extraction, inputs, expected, complete, report)


def check_network(net: LogicNetwork, inputs, expected, what="circuit") -> None:
    got = simulate(net, inputs)
    if got.shape != np.shape(expected) or not np.array_equal(got, expected):
        bad = np.flatnonzero(np.any(got != expected, axis=1))[0] if got.shape == np.shape(expected) else 0
        raise BtfError(f"the {what} does not reproduce the truth table (first wrong item {int(bad)}); "
                       f"nothing was written")


def render_checked(net: LogicNetwork, fmt: str, inputs, expected, comment: str | None = None) -> str:
    """The netlist text in ``fmt``, after reading it back and simulating it against (inputs, expected)."""
    if fmt not in FORMATS:
        raise BtfError(f"unknown format {fmt!r}: use one of {', '.join(FORMATS)}")
    check_network(net, inputs, expected)
    suffix, writer, reader = FORMATS[fmt]
    text = writer(net, comment=comment)
    if reader is not None:
        back = reader(f"<{fmt} text>{suffix}", text)
        if list(back.input_names) != list(net.input_names) or list(back.output_names) != list(net.output_names):
            raise BtfError(f"internal error: the {fmt} text does not keep the port names")
        check_network(back, inputs, expected, what=f"{fmt} netlist as written")
    return text


def export_all(model, dataset, out_dir, resub=False, progress=None, resub_time: float | None = None) -> dict:
    """Extract the circuit of ``model``, verify it on ``dataset``, write ``out_dir``/circuit.blif,
    circuit.v, circuit.aag, circuit.aig and circuit.dot, and return the gate statistics (``circuit_stats`` plus
    ``extracted_nodes``, ``patterns``, ``complete_truth_table``, ``resub`` when it ran, and ``files``).
    ``resub``, ``resub_time``, ``progress``: as in ``extract_circuit``. Raises NotSolvedError, and writes nothing,
    when the model does not reproduce the dataset."""
    circuit = extract_circuit(model, dataset, resub=resub, resub_time=resub_time, progress=progress)
    comment = circuit.describe()
    texts = {fmt: render_checked(circuit.network, fmt, circuit.inputs, circuit.expected, comment)
             for fmt in FORMATS}
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    files = {}
    for fmt, text in texts.items():
        path = out_dir / ("circuit" + FORMATS[fmt][0])
        path.write_bytes(text) if isinstance(text, bytes) else path.write_text(text)
        files[fmt] = str(path)
    stats = circuit.stats()
    stats["files"] = files
    return stats


def export_model(model, dataset, fmt: str, minimise_time: float | None = None, optimize: bool = False,
                 progress=None):
    """One netlist of ``model`` in format ``fmt``, checked on ``dataset`` (None: the model's own outputs on
    all inputs): (text, ABC's text or None, report lines). The model is minimised first
    (btflearn.sparsify, ``minimise_time`` seconds, None = its default, 0 = not at all) when the dataset is
    known, and its circuit shrunk by care-set resubstitution (as long again; not with ``minimise_time``
    0); ``progress`` hears both. ``optimize`` also runs the circuit through ABC without collapse, checks
    it, and reports the AIG sizes of the learned circuit, after ABC, and of ABC from the truth table
    alone (collapse)."""
    report = []
    if minimise_time != 0 and dataset is not None:
        from ..sparsify import DEFAULT_TIME_LIMIT, sparsify
        check_solved(model, dataset)
        model, done = sparsify(model, dataset, time_limit=minimise_time or DEFAULT_TIME_LIMIT, progress=progress)
        report.append(done.summary())
    circuit = extract_circuit(model, dataset, resub=minimise_time != 0, resub_time=minimise_time or None,
                              progress=progress)
    if circuit.resub is not None:
        report.append(circuit.resub.summary())
    report.append(circuit.describe())
    network = circuit.network
    text = render_checked(network, fmt, circuit.inputs, circuit.expected, comment=circuit.describe())
    if not optimize:
        return text, None, report
    # learning and ABC kept apart: the first text is btflearn's own circuit; ABC's improvement of it
    # (no collapse) is the second; the collapse run only gives the baseline number
    from . import eda
    result = eda.abc_optimize(network, collapse=False)
    check_network(result.network, circuit.inputs, circuit.expected, what="ABC-optimised circuit")
    learned, improved, baseline = (eda.aig_ands(network), eda.aig_ands(result.network),
                                   eda.aig_ands(network, collapse=True))
    report += [f"before ABC: {format_stats(result.before)}", f"after ABC:  {format_stats(result.after)}",
               f"ABC script: {result.script}; ABC cec: equivalent; the optimised netlist reproduces the truth "
               f"table on {circuit.inputs.shape[0]} patterns",
               f"AIG ANDs ({eda.AIG_SCRIPT}): learned {learned}; learned + ABC (no collapse) {improved}; "
               f"ABC from the truth table alone (collapse) {baseline}"]
    abc_text = render_checked(result.network, fmt, circuit.inputs, circuit.expected,
                              comment=f"{network.name}: btflearn's circuit improved by ABC (no collapse); "
                                      f"{format_stats(result.after)}")
    return text, abc_text, report


# -- comparing a netlist with a dataset -------------------------------------------------------------

@dataclass
class Comparison:
    ok: bool
    patterns: int
    row: int | None = None          # first failing dataset item
    inputs: dict | None = None      # name -> 0/1 of that item
    expected: dict | None = None    # name -> 0/1
    got: dict | None = None         # name -> 0/1

    def wrong_outputs(self) -> list:
        return [k for k in self.expected if self.expected[k] != self.got[k]] if self.expected else []


def compare_with_dataset(net: LogicNetwork, dataset) -> Comparison:
    """Simulate ``net`` on every item of ``dataset`` (ports matched by name) and report the first
    counterexample."""
    ins, outs = list(dataset.input_names), list(dataset.output_names)
    if sorted(net.input_names) != sorted(ins) or sorted(net.output_names) != sorted(outs):
        extra = sorted(set(net.input_names + net.output_names) - set(ins + outs))
        missing = sorted(set(ins + outs) - set(net.input_names + net.output_names))
        raise BtfError(f"the netlist's ports do not match {dataset.name!r}: "
                       f"missing {missing or 'none'}, unexpected {extra or 'none'}")
    if not np.all(np.isin(dataset.inputs, (-1.0, 1.0))):
        raise BtfError("a netlist can only be simulated on Boolean inputs")
    order_in = [ins.index(n) for n in net.input_names]
    got = simulate(net, dataset.inputs[:, order_in])
    order_out = [list(net.output_names).index(n) for n in outs]
    got = got[:, order_out]
    bad = np.flatnonzero(np.any(got != dataset.outputs, axis=1))
    if bad.size == 0:
        return Comparison(True, dataset.n_items)
    r = int(bad[0])

    def bits(names, row):
        return {n: int(v > 0) for n, v in zip(names, row)}

    return Comparison(False, dataset.n_items, r, bits(ins, dataset.inputs[r]), bits(outs, dataset.outputs[r]),
                      bits(outs, got[r]))


def words_of(bits: dict) -> str:
    """'a=2 b=3' for bit names with a common prefix and an index (a0, a1, ...), else 'x=1 y=0'."""
    import re
    groups, plain = {}, []
    for name, value in bits.items():
        m = re.match(r"^([A-Za-z_]+)(\d+)$", name)
        if m:
            groups.setdefault(m.group(1), {})[int(m.group(2))] = value
        else:
            plain.append(f"{name}={value}")
    parts = [f"{p}={sum(v << i for i, v in g.items())}" for p, g in groups.items()]
    return " ".join(parts + plain)
