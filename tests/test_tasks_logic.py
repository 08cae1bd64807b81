"""Random logic teachers: every node really is the gate it claims, wiring and data."""
import itertools

import numpy as np
import pytest

from btflearn.errors import BtfError
from btflearn.tasks import RandomLogicTeacher


def _truth(gate, inputs):
    lits = [(-v if neg else v) for v, neg in zip(inputs, gate.negated)]
    if gate.op == "COPY":
        return lits[0]
    if gate.op == "AND":
        return 1.0 if all(v > 0 for v in lits) else -1.0
    if gate.op == "OR":
        return 1.0 if any(v > 0 for v in lits) else -1.0
    if gate.op == "MAJ":
        return 1.0 if sum(lits) > 0 else -1.0
    raise AssertionError(gate.op)


@pytest.mark.parametrize("kind,ops", [("andor", {"AND", "OR", "COPY"}), ("maj", {"MAJ", "COPY"})])
def test_every_node_is_its_gate(kind, ops):
    t = RandomLogicTeacher([32, 32, 32, 32], kind=kind, p=0.5, seed=1)
    net, w = t.network, t.model.weights
    assert len(t.gates) == 96 and {g.op for g in t.gates} == ops
    for g in t.gates:
        lo, hi = net.in_start[g.node], net.in_start[g.node + 1]
        m = hi - lo
        assert np.isclose(np.sum(w[lo:hi] ** 2), m)  # normalised like a trained node
        nonzero = {int(s) for s, x in zip(net.senders[lo:hi], w[lo:hi]) if x != 0}
        fan_in = set(g.senders) | ({0} if g.op in ("AND", "OR") else set())
        assert nonzero == fan_in
        # the node's BTF equals the gate on every assignment of its senders (other senders irrelevant)
        for vals in itertools.product((-1.0, 1.0), repeat=len(g.senders)):
            x = np.zeros(hi - lo)
            x[0] = -1.0
            for s, v in zip(g.senders, vals):
                x[list(net.senders[lo:hi]).index(s)] = v
            assert np.sign(w[lo:hi] @ x) == _truth(g, vals)


def test_wiring_covers_every_lower_node_and_senders_are_from_the_layer_below():
    for seed in range(5):
        t = RandomLogicTeacher([32] * 6, kind="maj", p=0.5, seed=seed)
        for layer in range(1, 6):
            lower = set(range(1 + 32 * (layer - 1), 1 + 32 * layer))
            gates = [g for g in t.gates if 1 + 32 * layer <= g.node < 1 + 32 * (layer + 1)]
            used = set()
            for g in gates:
                assert set(g.senders) <= lower and len(set(g.senders)) == len(g.senders)
                used |= set(g.senders)
            slots = sum(len(g.senders) for g in gates)
            assert slots < 32 or used == lower


def test_all_copy_teacher_is_a_signed_permutation_when_p_is_zero():
    t = RandomLogicTeacher([8, 8], kind="andor", p=0.0, seed=0)
    assert {g.op for g in t.gates} == {"COPY"}
    assert sorted(g.senders[0] for g in t.gates) == list(range(1, 9))  # every input used exactly once
    ds = t.sample(64, seed=2)
    for j, g in enumerate(t.gates):
        col = ds.inputs[:, g.senders[0] - 1]
        assert np.array_equal(ds.outputs[:, j], -col if g.negated[0] else col)


def test_sample_is_the_teacher_and_reproducible():
    t = RandomLogicTeacher([32, 32, 32, 32], kind="andor", seed=3)
    ds = t.sample(500, seed=7)
    assert np.array_equal(t.model.predict(ds.inputs), ds.outputs)
    assert np.array_equal(RandomLogicTeacher([32, 32, 32, 32], kind="andor", seed=3).model.weights,
                          t.model.weights)
    assert not np.array_equal(RandomLogicTeacher([32, 32, 32, 32], kind="andor", seed=4).model.weights,
                              t.model.weights)
    assert np.array_equal(t.sample(500, seed=7).inputs, ds.inputs)
    # most outputs vary (deep AND/OR chains can be nearly constant, as in the reference teachers)
    assert np.sum(np.abs(ds.outputs.mean(axis=0)) < 1.0) >= 28


def test_errors():
    with pytest.raises(BtfError):
        RandomLogicTeacher([32], kind="andor")
    with pytest.raises(BtfError):
        RandomLogicTeacher([32, 32], kind="xor")
    with pytest.raises(BtfError):
        RandomLogicTeacher([32, 32], p=1.5)
