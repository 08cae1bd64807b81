"""The learned models and circuits kept in examples/ still do what their pages say."""
from pathlib import Path

import numpy as np

from btflearn.circuits.export import read_netlist
from btflearn.circuits.simulate import simulate
from btflearn.model import load_model
from btflearn.tasks import multiplier

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def test_the_learned_5x5_multiplier_multiplies_by_a_plain_forward_pass():
    model = load_model(EXAMPLES / "multiplier5" / "model.json")
    assert model.network.arch == "split:3,4,8,9"
    assert model.hyperparameters["split"] == ["a3", "a4", "b3", "b4"]
    assert model.accuracy(multiplier(5)) == (1.0, 1.0)


def test_the_5x5_circuit_computes_a_times_b_on_every_input():
    data = multiplier(5)
    for name in ("circuit.blif", "circuit.v"):
        net = read_netlist(EXAMPLES / "multiplier5" / name)
        assert np.array_equal(simulate(net, data.inputs), data.outputs), name
