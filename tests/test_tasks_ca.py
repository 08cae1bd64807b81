"""Cellular-automaton generators against hand-computed rows, and recover_rule."""
import numpy as np
import pytest

from btflearn import Model, Network
from btflearn.errors import BtfError
from btflearn.tasks import ElementaryCA, LifeLikeCA, recover_rule


def rows(text):
    """'..#.' -> bool array."""
    return np.array([c == "#" for c in text])


def test_rule30_rows_from_single_cell():
    ca = ElementaryCA(30, width=15, steps=1)
    expected = [".......#.......",
                "......###......",
                ".....##..#.....",
                "....##.####....",
                "...##..#...#...",
                "..##.####.###..",
                ".##..#....#..#.",
                "##.####..######"]
    state = rows(expected[0])
    for want in expected[1:]:
        state = ca.step(state)
        assert "".join("#" if b else "." for b in state) == want


def test_rule90_rows_and_wraparound():
    ca = ElementaryCA(90, width=8, steps=1)
    # rule 90: new = left XOR right; hand-computed on a ring of 8, cell 0 wraps to cell 7
    assert "".join("#" if b else "." for b in ca.step(rows("#......."))) == ".#.....#"
    assert "".join("#" if b else "." for b in ca.step(rows(".#.....#"))) == "..#...#."  # cell 0: 1 XOR 1
    # three steps at once equals three single steps
    s = rows("#..#.##.")
    assert np.array_equal(ca.step(s, steps=3), ca.step(ca.step(ca.step(s, 1), 1), 1))


def test_pm1_and_bool_forms_agree_and_dataset_targets():
    ca = ElementaryCA(30, width=16, steps=2)
    ds = ca.sample(50, seed=3)
    assert ds.inputs.shape == (50, 16) and ds.outputs.shape == (50, 16)
    assert set(np.unique(ds.inputs)) <= {-1.0, 1.0}
    bits = ds.inputs > 0
    assert np.array_equal(ca.step(bits), ds.outputs > 0)
    assert np.array_equal(ca.step(ds.inputs), ds.outputs)
    # reproducible from the seed, different for another seed
    assert np.array_equal(ca.sample(50, seed=3).inputs, ds.inputs)
    assert not np.array_equal(ca.sample(50, seed=4).inputs, ds.inputs)


def test_wolfram_table_and_composite_local_table():
    ca = ElementaryCA(30, 16)
    # 111..000 -> 00011110
    assert [int(ca.table[k]) for k in (7, 6, 5, 4, 3, 2, 1, 0)] == [0, 0, 0, 1, 1, 1, 1, 0]
    ca2 = ElementaryCA(30, 16, steps=2)
    table = ca2.local_table()
    assert table.shape == (32,)
    ds = ca2.sample(200, seed=0)
    x = ds.inputs > 0
    for cell in (0, 7, 15):
        hood = ca2.neighbourhood(cell)
        idx = (x[:, hood] * (1 << np.arange(4, -1, -1))).sum(axis=1)
        assert np.array_equal(table[idx], ds.outputs[:, cell] > 0)


def test_radius2_rule_and_errors():
    ca = ElementaryCA(rule=(1 << 32) - 2, width=8, radius=2)  # every pattern but 00000 -> 1
    out = ca.step(rows("#......."))
    assert np.array_equal(out, rows("###...##"))
    with pytest.raises(BtfError):
        ElementaryCA(256, 16)
    with pytest.raises(BtfError):
        ElementaryCA(30, 2)
    with pytest.raises(BtfError):
        ca.step(np.zeros((3, 7)))
    with pytest.raises(BtfError):
        ElementaryCA(30, 8, steps=4).neighbourhood(0)  # 9 cells wrap an 8-ring


def test_life_blinker_and_glider():
    life = LifeLikeCA("B3/S23", shape=(5, 5))
    blinker = np.zeros((5, 5), bool)
    blinker[2, 1:4] = True
    vertical = np.zeros((5, 5), bool)
    vertical[1:4, 2] = True
    assert np.array_equal(life.step(blinker.reshape(-1)).reshape(5, 5), vertical)
    assert np.array_equal(life.step(vertical.reshape(-1)).reshape(5, 5), blinker)
    # glider: after 4 steps the same shape moved one cell down and right (on a 6x6 torus)
    life6 = LifeLikeCA("B3/S23", shape=(6, 6), steps=4)
    g = np.zeros((6, 6), bool)
    for r, c in ((0, 1), (1, 2), (2, 0), (2, 1), (2, 2)):
        g[r, c] = True
    assert np.array_equal(life6.step(g.reshape(-1)).reshape(6, 6), np.roll(g, (1, 1), axis=(0, 1)))
    # wraps around: after 24 steps (6 cells) the glider is back
    assert np.array_equal(life6.step(g.reshape(-1), steps=24).reshape(6, 6), g)


def test_life_block_still_and_rule_parsing():
    life = LifeLikeCA("b3s23", shape=(4, 4))
    assert life.rule == "B3/S23"
    block = np.zeros((4, 4), bool)
    block[1:3, 1:3] = True
    assert np.array_equal(life.step(block.reshape(-1)), block.reshape(-1))
    # on a 4x4 torus a full row of 4 has every cell with 2 row-neighbours + births above/below
    assert life.describe_table(life.local_table()) == "B3/S23"
    assert LifeLikeCA("B36/S23").describe_table(LifeLikeCA("B36/S23").local_table()) == "B36/S23"
    ds = life.sample(20, seed=1)
    assert np.array_equal(life.step(ds.inputs), ds.outputs)
    with pytest.raises(BtfError):
        LifeLikeCA("B9/S23")
    with pytest.raises(BtfError):
        LifeLikeCA("B3/S23", shape=(2, 5))


def test_life_neighbourhood_table():
    ds = LifeLikeCA().neighbourhood_table()
    assert ds.inputs.shape == (512, 9) and ds.outputs.shape == (512, 1)
    # centre dead with 3 live neighbours (nmm, nm0, nmp) -> born; same with centre alive -> survives
    x = np.full(9, -1.0)
    x[[0, 1, 2]] = 1
    k = int(((x > 0) * (1 << np.arange(8, -1, -1))).sum())
    assert ds.outputs[k, 0] == 1
    x[4] = 1
    x[2] = -1  # centre alive, 2 neighbours -> survives
    k = int(((x > 0) * (1 << np.arange(8, -1, -1))).sum())
    assert ds.outputs[k, 0] == 1
    x[1] = -1  # centre alive, 1 neighbour -> dies
    k = int(((x > 0) * (1 << np.arange(8, -1, -1))).sum())
    assert ds.outputs[k, 0] == -1


def _hand_model_rule90(width):
    """A 1-hidden-layer BTF network that computes rule 90 (left XOR right) at every cell, built by hand:
    hidden a_i = AND(l, ~r), b_i = AND(~l, r), out = OR(a_i, b_i)."""
    s = np.sqrt(3.0)
    edges, weights = [], []
    n_in = width
    hid0 = 1 + width
    out0 = hid0 + 2 * width
    for i in range(width):
        l, r = 1 + (i - 1) % width, 1 + (i + 1) % width
        for k, (wl, wr) in enumerate(((1, -1), (-1, 1))):
            node = hid0 + 2 * i + k
            for snd, w in ((0, 1.0), (l, wl), (r, wr)):
                edges.append((node, snd))
                weights.append(w * s)
        node = out0 + i
        for snd, w in ((0, -1.0), (hid0 + 2 * i, 1.0), (hid0 + 2 * i + 1, 1.0)):
            edges.append((node, snd))
            weights.append(w * s)
    net = Network.from_edges(out0 + width, n_in, width, edges)
    by = dict(zip(edges, weights))
    return Model(net, np.array([by[(int(r), int(s_))] for r, s_ in zip(net.receivers, net.senders)]))


def test_recover_rule_on_hand_built_model_exhaustive_and_sampled():
    ca = ElementaryCA(90, width=12)
    model = _hand_model_rule90(12)
    assert model.accuracy(ca.sample(100))[1] == 1.0
    rec = recover_rule(model, ca)
    assert rec.exhaustive and rec.n_contexts == 2 ** 9
    assert rec.all_match and rec.learned_rule(0) == "rule 90"
    assert "12 of 12 cells implement rule 90" in rec.summary()
    # the same model read as rule 102 (= centre XOR right) matches nowhere
    rec102 = recover_rule(model, ElementaryCA(102, width=12))
    assert not rec102.matches.any() and rec102.learned_rule(3) == "rule 90"
    # sampled contexts when the ring is too big to enumerate
    rec_s = recover_rule(model, ca, n_contexts=64, exhaustive_limit=2 ** 8)
    assert not rec_s.exhaustive and rec_s.n_contexts == 64 and rec_s.all_match


def test_recover_rule_detects_context_dependence():
    ca = ElementaryCA(90, width=12)
    model = _hand_model_rule90(12)
    # rewire output 5's second AND to look at cell 9 instead of cell 6: cell 5 now depends on its context
    w = model.weights.copy()
    net = model.network
    recv, send = list(net.receivers), list(net.senders)
    node = 1 + 12 + 2 * 5 + 1
    edges = [(int(r), int(s)) for r, s in zip(recv, send)]
    edges = [(r, (1 + 9) if (r == node and s == 1 + 6) else s) for r, s in edges]
    net2 = Network.from_edges(net.n_nodes, 12, 12, edges)
    by = {e: wt for e, wt in zip(edges, w)}
    model2 = Model(net2, np.array([by[(int(r), int(s))] for r, s in zip(net2.receivers, net2.senders)]))
    rec = recover_rule(model2, ca)
    assert not rec.matches[5] and rec.matches[[0, 1, 2, 3, 4, 6, 7, 8, 9, 10, 11]].all()
    assert rec.learned_rule(5).startswith("context-dependent")
    assert rec.wrong_patterns(5)


def test_local_network_reads_only_its_window():
    ca = ElementaryCA(30, width=8)
    net = ca.local_network(window=5, hidden=3, layers=2)
    assert net.arch == "local:5x3x2" and net.n_inputs == 8 and net.n_outputs == 8
    assert net.n_nodes == 1 + 8 + 2 * 8 * 3 + 8
    # which inputs can reach each output: exactly its 5-cell window on the ring
    reach = {n: set() for n in range(net.n_nodes)}
    for n in range(1, 9):
        reach[n] = {n - 1}
    for r, s in zip(net.receivers, net.senders):  # edges sorted by receiver, senders numbered lower
        reach[r] |= reach[s]
    for cell in range(8):
        assert reach[net.first_output + cell] == {(cell + off) % 8 for off in range(-2, 3)}
    for bad in (dict(window=4), dict(window=9), dict(hidden=0), dict(layers=0)):
        with pytest.raises(BtfError):
            ca.local_network(**bad)
