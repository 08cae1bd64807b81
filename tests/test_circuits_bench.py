"""Reference circuits from the specification, and the circuit benchmark's rows and table."""
import numpy as np
import pytest

from btflearn.circuits import eda, simulate
from btflearn.circuits.benchmark import bench_row, bench_task, format_table
from btflearn.circuits.handmade import multiplier_model
from btflearn.circuits.references import elementary_ca_circuit, life_rule_circuit, multiplier_circuit
from btflearn.errors import BtfError
from btflearn.tasks import ElementaryCA, LifeLikeCA, multiplier


@pytest.mark.parametrize("bits", [1, 2, 3, 4])
def test_multiplier_reference_is_a_multiplier(bits):
    data = multiplier(bits)
    assert np.array_equal(simulate(multiplier_circuit(bits), data.inputs), data.outputs)


@pytest.mark.parametrize("rule", ["B3/S23", "B36/S23"])
def test_life_reference_is_the_rule(rule):
    data = LifeLikeCA(rule).neighbourhood_table()
    birth, survive = (tuple(int(c) for c in part[1:]) for part in rule.split("/"))
    net = life_rule_circuit(data.input_names, birth, survive)
    assert np.array_equal(simulate(net, data.inputs), data.outputs)


@pytest.mark.parametrize("rule", [30, 110, 0])
def test_elementary_reference_is_the_rule(rule):
    task = ElementaryCA(rule, 8, 1)
    data = task.all_states()
    net = elementary_ca_circuit(rule, 8, data.input_names, data.output_names)
    assert np.array_equal(simulate(net, data.inputs), data.outputs)


def test_bench_row_of_a_saved_model_and_the_table():
    task = bench_task("multiplier2")
    row = bench_row(task, multiplier_model(2, seed=1, distractors=2), minimise_time=10)
    assert "solve_seconds" not in row and row["minimise_seconds"] < 30
    assert row["minimised"]["gates2"] <= row["learned"]["gates2"]
    assert row["reference"]["gates2"] >= 7
    if eda.find_abc() is not None:
        assert row["cec_reference"] is True and row["minimised"]["aig"] <= row["learned"]["aig"]
        assert row["collapse_aig"] >= 1
    table = format_table([row, {"task": "multiplier3", "error": "not solved"}])
    assert table.count("\n") == 3 and "| multiplier2 | saved |" in table and "not solved" in table


def test_unknown_task_is_an_error():
    with pytest.raises(BtfError, match="unknown benchmark task"):
        bench_task("adder")
    with pytest.raises(BtfError, match="no default architecture"):
        bench_task("multiplier9")
