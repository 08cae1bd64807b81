"""Truth tables to circuits by Shannon expansion (btflearn.circuits.bdd)."""
import numpy as np
import pytest

from btflearn.circuits.bdd import table_literal
from btflearn.circuits.decompose import to_aig
from btflearn.circuits.ir import LogicNetwork
from btflearn.circuits.simulate import all_patterns, simulate


def circuit(table, k, order=None):
    net = LogicNetwork(k, [f"x{j}" for j in range(k)], [], "t")
    order = list(range(k)) if order is None else order
    net.add_output(table_literal(table, net, [net.input_lit(j) for j in order]), "y")
    return net


@pytest.mark.parametrize("k", [0, 1, 2, 5, 8])
def test_random_and_constant_tables_are_reproduced(k):
    rng = np.random.default_rng(k)
    for table in (rng.random(1 << k) < 0.5, np.zeros(1 << k, bool), np.ones(1 << k, bool)):
        got = simulate(circuit(table, k), all_patterns(k))[:, 0] > 0
        assert np.array_equal(got, table)


def test_shared_and_complemented_subfunctions_are_built_once():
    p = all_patterns(12)
    parity = p.sum(axis=1) % 2 == 1
    assert to_aig(circuit(parity, 12)).n_gates <= 3 * 11     # one XOR per input after the first
    majority = p[:, :9].sum(axis=1) >= 5                      # inputs 9-11 unread
    assert to_aig(circuit(majority, 12)).n_gates < 3 * 9 * 5


def test_the_input_order_is_the_callers():
    rng = np.random.default_rng(7)
    table = rng.random(64) < 0.5
    order = [5, 0, 3, 1, 2, 4]                  # bit j of the table's index is input order[j]
    p = all_patterns(6)
    index = sum(p[:, order[j]].astype(int) << j for j in range(6))
    assert np.array_equal(simulate(circuit(table, 6, order), p)[:, 0] > 0, table[index])
    with pytest.raises(ValueError, match="has 64 entries"):
        circuit(table[:10], 6)
