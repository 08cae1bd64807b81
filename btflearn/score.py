"""Accuracy of a netlist on a data set (e.g. a PLA sample of the function it should compute)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .dataset import Dataset
from .errors import BtfError


@dataclass
class Score:
    per_bit: float     # share of output bits right
    exact: float       # share of items with every output right
    items: int
    matched: str       # how ports were matched: "by name" or "by position"


def score_network(net, data: Dataset) -> Score:
    """Simulate ``net`` on every item of ``data``. Ports are matched by name when the circuit has the
    data's input and output names, otherwise by position (the counts must agree)."""
    from .circuits.simulate import simulate
    if not np.all(np.isin(data.inputs, (-1.0, 1.0))):
        raise BtfError("a circuit can only be scored on Boolean inputs")
    ins, outs = list(data.input_names), list(data.output_names)
    if sorted(net.input_names) == sorted(ins) and sorted(net.output_names) == sorted(outs):
        got = simulate(net, data.inputs[:, [ins.index(n) for n in net.input_names]])
        got = got[:, [list(net.output_names).index(n) for n in outs]]
        matched = "by name"
    elif net.n_inputs == data.n_inputs and net.n_outputs == data.n_outputs:
        got = simulate(net, data.inputs)
        matched = "by position"
    else:
        raise BtfError(f"the circuit has {net.n_inputs} inputs and {net.n_outputs} outputs, the data "
                       f"{data.n_inputs} and {data.n_outputs}")
    right = got == data.outputs
    return Score(float(right.mean()), float(right.all(axis=1).mean()), data.n_items, matched)
