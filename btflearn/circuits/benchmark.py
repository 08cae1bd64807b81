"""The circuit benchmark: what learning gives, what minimisation adds, what ABC adds, and the baselines,
on small exact tasks (2x2/3x3/4x4 multipliers, the Life rule, rule 30 on a ring with a local net).

Per task one row: the solve (or a saved model.json), the learned circuit's gates by type, its 2-input
gate count and its AIG size, the same after btflearn's minimisation (``btflearn.sparsify``) and after
care-set resubstitution of that circuit (``btflearn.circuits.resub``; complete truth tables only), ABC's
collapse baseline (the function rebuilt from its truth table: owes nothing to learning) and a reference
written from the specification, all through the same ABC script (``eda.AIG_SCRIPT``, no collapse unless
said). Every circuit is simulated against the task's data before it is counted.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from ..errors import BtfError
from .export import extract_circuit
from .references import elementary_ca_circuit, life_rule_circuit, multiplier_circuit
from .simulate import simulate

TASK_NAMES = ("multiplier2", "multiplier3", "multiplier4", "life", "rule30")


@dataclass
class BenchTask:
    name: str
    dataset: object
    reference: object              # LogicNetwork from the specification
    arch: object                   # arch string or Network for fit
    settings: dict = field(default_factory=dict)
    complete: bool = True          # the dataset is the whole truth table
    split: list = field(default_factory=list)   # inputs whose cofactors get a network each (btflearn.split_fit)


def bench_task(name: str, seed: int = 0) -> BenchTask:
    """The benchmark's task called ``name`` (one of TASK_NAMES) with its default solver settings."""
    if name.startswith("multiplier") and name[len("multiplier"):].isdigit():
        from ..tasks import multiplier, multiplier_spec, multiplier_split
        bits = int(name[len("multiplier"):])
        spec = multiplier_spec(bits)
        if spec.arch is None:
            raise BtfError(f"no default architecture for a {bits}-bit multiplier")
        settings = {k: v for k, v in spec.settings().items() if k not in ("arch", "batch")}
        return BenchTask(name, multiplier(bits), multiplier_circuit(bits), spec.arch, settings,
                         split=multiplier_split(bits))
    if name == "life":
        from ..tasks import LifeLikeCA
        from ..tasks.life import LOCAL_SPEC
        data = LifeLikeCA("B3/S23").neighbourhood_table()
        settings = {k: v for k, v in LOCAL_SPEC.settings().items() if k not in ("arch", "batch")}
        return BenchTask(name, data, life_rule_circuit(data.input_names), LOCAL_SPEC.arch, settings)
    if name == "rule30":
        from ..tasks import ElementaryCA
        task = ElementaryCA(30, 16, 1)
        data = task.sample(256, seed=seed)
        return BenchTask(name, data, elementary_ca_circuit(30, 16, data.input_names, data.output_names),
                         task.local_network(5, 4), dict(sigma=3.0, gamma=1e-4, max_iter=50_000), complete=False)
    raise BtfError(f"unknown benchmark task {name!r}: choose from {', '.join(TASK_NAMES)}")


def _check(net, dataset, what):
    if not np.array_equal(simulate(net, dataset.inputs), dataset.outputs):
        raise BtfError(f"internal error: the {what} does not reproduce its data")


def bench_row(task: BenchTask, model=None, minimise_time: float | None = None, seed: int = 0,
              abc: bool = True, progress=None) -> dict:
    """One benchmark row for ``task``: solve it (unless ``model`` is given), extract, minimise, count."""
    from ..model import Model
    from ..sparsify import DEFAULT_TIME_LIMIT, sparsify
    from ..split_fit import fit_task
    from .stats import circuit_stats
    from . import eda

    row = {"task": task.name, "items": int(task.dataset.n_items), "complete": task.complete}
    if model is None:
        t0 = time.perf_counter()
        run = fit_task(task.dataset, task.split, arch=task.arch, seed=seed, **task.settings)
        row["solve_seconds"] = round(time.perf_counter() - t0, 2)
        if not run.solved:
            row["error"] = "not solved"
            return row
        model = run.model
    elif not isinstance(model, Model):
        raise BtfError("model must be a btflearn Model")
    raw = extract_circuit(model, task.dataset).network
    t0 = time.perf_counter()
    small, report = sparsify(model, task.dataset, time_limit=minimise_time or DEFAULT_TIME_LIMIT, seed=seed,
                             progress=progress)
    row["minimise_seconds"] = round(time.perf_counter() - t0, 2)
    row["minimise"] = report.summary()
    circuit = extract_circuit(small, task.dataset).network
    t0 = time.perf_counter()
    resubbed = extract_circuit(small, task.dataset, resub=True, resub_time=minimise_time)
    row["resub_seconds"] = round(time.perf_counter() - t0, 2)
    _check(task.reference, task.dataset, "reference circuit")
    for key, net in (("learned", raw), ("minimised", circuit), ("resub", resubbed.network),
                     ("reference", task.reference)):
        _check(net, task.dataset, f"{key} circuit")
        stats = circuit_stats(net)
        row[key] = {"by_type": {k: v for k, v in stats["by_type"].items() if v}, "gates2": stats["gates2"]}
    row["minimised"]["node_kinds"] = report.gates_after
    if abc and eda.find_abc() is not None:
        row["learned"]["aig"] = eda.aig_ands(raw)
        row["minimised"]["aig"] = eda.aig_ands(circuit)
        row["resub"]["aig"] = eda.aig_ands(resubbed.network)
        row["reference"]["aig"] = eda.aig_ands(task.reference)
        row["collapse_aig"] = eda.aig_ands(circuit, collapse=True) if task.complete else None
        if task.complete:
            from .blif import write_blif
            row["cec_reference"] = all(
                eda.abc_cec(("reference.blif", write_blif(task.reference)), ("learned.blif", write_blif(net))).equivalent
                for net in (circuit, resubbed.network))
    return row


def _kinds(by_type: dict) -> str:
    return " ".join(f"{k} {v}" for k, v in by_type.items()) or "-"


def format_table(rows) -> str:
    """A Markdown table of benchmark rows."""
    head = ("| task | solve s | learned: gates (2-input) | AIG | minimised: gates (2-input) | AIG | minimise s "
            "| + resub: gates (2-input) | AIG | resub s | ABC collapse AIG | reference (2-input) | AIG | "
            "cec vs reference |")
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for r in rows:
        if "error" in r:
            lines.append(f"| {r['task']} | {r.get('solve_seconds', '-')} | {r['error']} |" + " |" * 11)
            continue

        def aig(part):
            return str(part.get("aig", "-"))

        collapse = r.get("collapse_aig")
        cec = r.get("cec_reference")
        lines.append(
            f"| {r['task']} | {r.get('solve_seconds', 'saved')} | {_kinds(r['learned']['by_type'])} "
            f"({r['learned']['gates2']}) | {aig(r['learned'])} | {_kinds(r['minimised']['by_type'])} "
            f"({r['minimised']['gates2']}) | {aig(r['minimised'])} | {r['minimise_seconds']} | "
            f"{_kinds(r['resub']['by_type'])} ({r['resub']['gates2']}) | {aig(r['resub'])} | {r['resub_seconds']} | "
            f"{'-' if collapse is None else collapse} | {r['reference']['gates2']} | {aig(r['reference'])} | "
            f"{'-' if cec is None else ('equivalent' if cec else 'DIFFERS')} |")
    return "\n".join(lines)
