"""End to end: train the 2x2 multiplier with btflearn.fit, export its circuit, prove it with yosys."""
import numpy as np
import pytest

import btflearn
from btflearn.tasks import multiplier
from btflearn.circuits import eda, export_all, read_netlist, simulate


@pytest.mark.slow
@pytest.mark.needs_tool("yosys")
def test_trained_2x2_multiplier_exports_a_proved_circuit(tmp_path):
    data = multiplier(2)
    # seed 3 with 4 trials solved in every run we made (runs are not bit-reproducible: 4 trials give headroom)
    result = btflearn.fit(data, arch="4-4-4-4", seed=3, max_iter=20000, trials=4)
    assert result.solved
    stats = export_all(result.model, data, tmp_path)
    # one gate per BTF node (12 in 4-4-4-4); at sigma = 3 most are copies and AND/OR (MAJ3 with the bias)
    kinds = stats["extracted_nodes"]
    assert sum(kinds.values()) == 12
    assert sum(kinds.get(k, 0) for k in ("copy", "not", "and", "or", "maj3")) >= 8
    assert stats["gates2"] >= 7  # the optimum for a 2x2 multiplier, NOT free
    for name in ("circuit.v", "circuit.blif", "circuit.aag"):
        net = read_netlist(tmp_path / name)
        assert np.array_equal(simulate(net, data.inputs), data.outputs)
        proof = eda.yosys_equiv(("reference.v", eda.multiplier_reference(2)),
                                (name, (tmp_path / name).read_text()))
        assert proof.equivalent
