"""Learning circuits from PLA samples: `btflearn learn`, `btflearn score` and `btflearn learn-suite` on
small functions the tests make themselves (a rule over a few of 12 inputs, and pure noise)."""
import json

import numpy as np
import pytest
from click.testing import CliRunner

from btflearn import Dataset
from btflearn.circuits.export import read_netlist
from btflearn.circuits.simulate import simulate
from btflearn.cli.main import cli
from btflearn.learn import columns, learn
from btflearn.learn_suite import category, find_pairs, format_table, run_suite, summarize
from btflearn.selection import rank_inputs, select_inputs, strongest_interaction, table_accuracy
from btflearn.pla import read_pla, write_pla
from btflearn.score import score_network


def rule(x):
    """(x3 and x7) or not x10, over 12 inputs."""
    return (x[:, 3] & x[:, 7]) | ~x[:, 10]


def sample(n, seed, labels=rule):
    rng = np.random.default_rng(seed)
    x = rng.random((n, 12)) < 0.5
    return Dataset.from_bits(x, labels(x)[:, None], input_names=[f"i{j}" for j in range(12)],
                             output_names=["f"], name="rule")


def test_mutual_information_ranks_the_relevant_inputs_first():
    assert set(rank_inputs(sample(2000, 0))[:3]) == {3, 7, 10}


def test_learn_cli_writes_a_checked_circuit_and_score_agrees(tmp_path):
    write_pla(sample(400, 1), tmp_path / "ex01.train.pla")
    write_pla(sample(400, 2), tmp_path / "ex01.valid.pla.gz")
    out = tmp_path / "out"
    run = CliRunner().invoke(cli, ["learn", str(tmp_path / "ex01.train.pla"), "--valid",
                                   str(tmp_path / "ex01.valid.pla.gz"), "--out", str(out), "--time-limit", "12"])
    assert run.exit_code == 0, run.output
    result = json.loads((out / "result.json").read_text())
    assert result["valid_accuracy"] >= 0.98 and result["seconds"] <= 12 + 3
    assert sorted(p.name for p in out.iterdir()) == ["circuit.aag", "circuit.aig", "circuit.blif", "circuit.v",
                                                     "result.json"]
    assert (out / "circuit.aig").read_bytes().startswith(b"aig ")
    net = read_netlist(out / "circuit.aig")
    assert net.input_names == [f"i{j}" for j in range(12)] and net.output_names == ["f"]
    valid = read_pla(tmp_path / "ex01.valid.pla.gz")
    assert score_network(net, valid).per_bit == pytest.approx(result["valid_accuracy"])
    test = sample(1000, 3)
    assert score_network(net, test).per_bit >= 0.97  # it generalizes to items it never saw
    run = CliRunner().invoke(cli, ["score", str(out / "circuit.aig"), str(tmp_path / "ex01.valid.pla.gz")])
    assert run.exit_code == 0 and f"{100 * result['valid_accuracy']:.2f}% of output bits right on 400" in run.output
    assert len(run.output.splitlines()[1]) <= 80


def test_learn_progress_lines_fit_80_columns(capsys):
    from btflearn.cli.learn_cmds import _say
    line = "inputs by greedy selection: " + ", ".join(str(j) for j in range(100, 160)) + " (best table: 60)"
    _say(line)
    printed = capsys.readouterr().err.splitlines()
    assert len(printed) > 1 and max(len(p) for p in printed) <= 80
    assert " ".join(p.strip() for p in printed) == line   # wrapped, nothing lost


def test_learn_on_noise_stops_early_and_gives_a_small_circuit():
    def noise(x):
        return np.random.default_rng(5).random(len(x)) < 0.5
    train, valid = sample(400, 4, noise), sample(400, 6, noise)
    result = learn(train, valid, time_limit=60, slice_s=0.3)
    assert "beats the constant" in result.stopped
    assert result.seconds < 30
    assert abs(result.valid_accuracy - 0.5) < 0.1
    assert result.ands == 0 and [m.label(1) for m in result.members] == ["constant"]


def test_a_skewed_output_is_learned_when_a_model_gets_every_validation_item_right():
    # x0..x3 all True on 7% of 256 items: with 64 held out, the constant gets ~93% and no accuracy can
    # beat it by three standard errors (that bar lies above 100%): a perfect model is the evidence
    rng = np.random.default_rng(0)
    x = rng.choice((-1.0, 1.0), size=(256, 12))
    b = x > 0
    data = Dataset(x, np.where((b[:, 0] & b[:, 1] & b[:, 2] & b[:, 3])[:, None], 1.0, -1.0))
    result = learn(data, None, time_limit=4, seed=0)
    assert result.valid_accuracy == 1.0 and "constant" not in result.stopped
    assert result.members[0].setting is not None


def test_and_cap_and_held_out_validation():
    train = sample(500, 7)
    result = learn(train, None, time_limit=8, max_ands=0, slice_s=0.3)
    assert result.ands == 0 and "held out 125" in result.validation
    got = simulate(result.network, train.inputs)
    assert got.shape == (500, 1)
    # with no ANDs allowed the best circuit is a wire or a constant
    assert len(result.network.gates) == 0


def test_score_matches_ports_by_name_or_position_and_rejects_a_misfit(tmp_path):
    from btflearn.circuits.ir import LogicNetwork
    from btflearn.errors import BtfError
    data = sample(64, 8)
    net = LogicNetwork(12, [f"i{j}" for j in range(12)][::-1], name="c")
    net.add_output(net.add_or(net.add_and(net.input_lit(11 - 3), net.input_lit(11 - 7)),
                              net.input_lit(11 - 10) ^ 1), "f")
    assert score_network(net, data).per_bit == 1.0 and score_network(net, data).matched == "by name"
    net.input_names = [f"a{j}" for j in range(12)]
    assert score_network(net, data).matched == "by position" and score_network(net, data).per_bit < 1.0
    with pytest.raises(BtfError, match="12 inputs"):
        score_network(net, Dataset(data.inputs[:, :5], data.outputs))


def test_suite_runs_resumes_and_tabulates(tmp_path):
    folder = tmp_path / "data"
    (folder / "train").mkdir(parents=True)
    (folder / "valid").mkdir()
    write_pla(sample(300, 9), folder / "train" / "ex31.train.pla.gz")
    write_pla(sample(300, 10), folder / "valid" / "ex31.valid.pla.gz")
    write_pla(sample(50, 11), folder / "train" / "ex32.train.pla")   # its valid split has another shape:
    write_pla(columns(sample(50, 12), range(11)), folder / "valid" / "ex32.valid.pla")  # it fails, alone
    assert [p[0] for p in find_pairs(folder)] == ["ex31", "ex32"]
    out = tmp_path / "results"
    result = run_suite(folder, out, time_limit=6, jobs=1)
    assert list(result["failed"]) == ["ex32"] and "11 inputs" in result["failed"]["ex32"]
    assert [r["function"] for r in result["rows"]] == ["ex31"]
    row = result["rows"][0]
    assert row["function"] == "ex31" and row["category"] == "comparators" and row["inputs"] == 12
    assert row["valid"] >= 0.95 and (out / "ex31" / "circuit.aig").exists()
    assert result["max_ands"] == row["ands"] and result["and_cap"] == 5000
    first = (out / "ex31" / "result.json").read_text()
    again = run_suite(folder, out, time_limit=6, jobs=1)  # finished functions are skipped
    assert (out / "ex31" / "result.json").read_text() == first and again["rows"] == result["rows"]
    table = (out / "table.md").read_text()
    assert "| ex31 | comparators | 12 |" in table and "mean validation accuracy" in table
    assert max(len(line) for line in table.splitlines()) <= 80
    run = CliRunner().invoke(cli, ["learn-suite", str(folder), "--out", str(out), "--time-limit", "6"])
    assert run.exit_code == 1 and "ex32" in run.output and "| ex31 |" in run.output


def test_categories_and_summary():
    assert category("ex05") == "adders (2 MSBs)" and category("ex89") == "MNIST pixel groups"
    assert category("other") == "other"
    rows = [dict(function="ex00", category="a", inputs=3, valid=0.9, ands=10, seconds=1.0),
            dict(function="ex01", category="a", inputs=3, valid=0.7, ands=30, seconds=2.0)]
    s = summarize(rows)
    assert s["mean_valid"] == pytest.approx(0.8) and s["max_ands"] == 30 and s["mean_ands"] == 20
    assert s["categories"]["a"]["functions"] == 2 and s["mean_table"] is None   # rows without a yardstick
    assert "80.00%" in format_table(rows, s) and "| 1 | - |" in format_table(rows, s)
    rows[0]["table"] = 0.95   # the mean is over the rows that have one
    s = summarize(rows)
    assert s["categories"]["a"]["mean_table"] == pytest.approx(0.95) and "95.00%" in format_table(rows, s)


def test_the_table_yardstick_is_the_majority_of_each_cell():
    rng = np.random.default_rng(3)
    train, valid = sample(400, 20), sample(300, 21)
    train = Dataset(train.inputs, np.where(rng.random((400, 1)) < 0.7, train.outputs, -train.outputs))
    inputs = [10, 3, 7]   # the rule's inputs; 30% of the training labels flipped
    votes, total = {}, float(train.outputs.sum())
    for row, y in zip(train.inputs[:, inputs], train.outputs[:, 0]):
        votes[tuple(row)] = votes.get(tuple(row), 0.0) + y
    pred = [1.0 if votes.get(tuple(r), total) >= 0 else -1.0 for r in valid.inputs[:, inputs]]
    expected = float(np.mean(np.array(pred) == valid.outputs[:, 0]))
    assert table_accuracy(train, valid, inputs) == pytest.approx(expected)
    assert table_accuracy(train, valid, inputs) > 0.95                # the majority of a cell undoes the noise
    assert table_accuracy(train, valid, [0, 1]) < 0.8                 # inputs the rule does not read
    assert table_accuracy(valid, valid, range(12)) == 1.0             # one item per cell: the table is exact


def test_greedy_selection_finds_inputs_that_matter_only_together():
    def f(x):  # x5 and x7 alone tell nothing about the output; given x2 they do
        return x[:, 2] ^ (x[:, 5] & x[:, 7])
    train, valid = sample(1600, 11, f), sample(1600, 12, f)
    order, losses = select_inputs(train, valid, k_max=5)
    assert list(order[:3]) in ([2, 5, 7], [2, 7, 5]) and int(np.argmin(losses)) == 2  # 3-input table is best
    assert sorted(order) == list(range(12))


def test_distinct_patterns_take_the_majority_label():
    from btflearn.learn import distinct
    data = Dataset([[1, -1], [1, -1], [1, -1], [-1, 1]], [[1], [-1], [1], [-1]])
    d = distinct(data)
    assert d.n_items == 2
    table = {tuple(r): o[0] for r, o in zip(d.inputs, d.outputs)}
    assert table == {(1.0, -1.0): 1.0, (-1.0, 1.0): -1.0}


def test_a_symmetric_function_is_learned_by_a_layer_of_counting_gates():
    def outside(x):  # true when at most 3 or at least 9 of the 12 inputs are set
        count = x.sum(axis=1)
        return (count <= 3) | (count >= 9)
    result = learn(sample(1500, 8, outside), sample(1500, 9, outside), time_limit=20, seed=0)
    # the constant scores 0.85 and networks on the 7 selected inputs about 0.89 (counting needs all 12)
    assert result.members[0].setting.sigma == 12 and result.valid_accuracy >= 0.9, result.summary()["chosen"]
    assert score_network(result.network, sample(2000, 10, outside)).per_bit >= 0.88


def test_a_wide_gate_rounded_to_small_weights_is_kept_as_a_smaller_candidate():
    from btflearn.arch import parse_arch
    from btflearn.coarsen import coarsened
    from btflearn.learn import Candidate, Setting
    from btflearn.learn_circuit import and_count, build_circuit
    from btflearn.model import Model

    rng = np.random.default_rng(0)
    net = parse_arch("40-1")
    planted = np.zeros(net.n_edges)
    planted[net.senders[net.in_start[net.first_btf]:] == 0] = 0.5       # bias: a majority of 9 inputs
    inputs = net.senders[net.in_start[net.first_btf]:] - 1
    planted[np.isin(inputs, np.arange(9))] = 1.0
    noisy = planted * 37.0 + rng.normal(0, 4.0, net.n_edges)   # fine weights: nearly the same function
    data = Dataset.from_bits(rng.random((3000, 40)) < 0.5, np.zeros((3000, 1), bool))
    truth = Model(net, planted).predict(data.inputs)
    data = Dataset(data.inputs, truth, name="maj9")
    original = Candidate(Setting(40, (), 3000, 300.0), 0, np.arange(40), Model(net, noisy), 0.0, 0.0, 1, 0.0)
    rounded = {c.levels: c for c in coarsened(original, data, data)}
    assert original.predict(data.inputs).tolist() != truth.tolist()
    assert sorted(rounded) == [1, 2, 4, 8] and rounded[1].valid == 1.0
    bias = net.senders == 0
    w = rounded[1].model.weights
    assert set(np.unique(w[~bias])) <= {-1.0, 0.0, 1.0} and np.count_nonzero(w[~bias]) <= 9
    for c in rounded.values():   # integer weights: the bias is off by a half so that no sum is 0
        assert np.all(np.abs(c.model.node_sums(data.inputs)[1][:, -1]) >= 0.5)
    patterns = np.unique(data.inputs, axis=0)
    assert and_count(build_circuit([rounded[1]], data, patterns, "g")) < \
        and_count(build_circuit([original], data, patterns, "g"))


def test_the_walsh_screen_finds_a_sum_bit_that_greedy_selection_cannot_see():
    rng = np.random.default_rng(3)
    x = rng.random((3000, 24)) < 0.5
    carry = (x[:, 4].astype(int) * 2 + x[:, 9] + x[:, 20].astype(int) * 2 + x[:, 2]) >= 3   # a 2-bit carry
    y = x[:, 5] ^ x[:, 17] ^ carry                                   # the sum bit above it
    data = Dataset.from_bits(x[:2000], y[:2000, None])
    valid = Dataset.from_bits(x[2000:], y[2000:, None])
    triple = strongest_interaction(data)
    assert triple is not None and len(triple) == 3 and {5, 17} < set(triple) and set(triple) - {5, 17} <= {4, 20}
    greedy, _ = select_inputs(data, valid, k_max=3)
    assert not {5, 17} <= set(greedy[:3].tolist())          # no single input tells anything
    order, losses = select_inputs(data, valid, k_max=6, start=triple)
    assert set(order[:6].tolist()) == {2, 4, 5, 9, 17, 20} and losses[5] < 0.05   # from 0.69
    noise = Dataset.from_bits(x[:2000], rng.random((2000, 1)) < 0.5)
    assert strongest_interaction(noise) is None


def test_the_walsh_screen_finds_the_two_inputs_of_a_xor():
    rng = np.random.default_rng(5)
    x = rng.random((3000, 40)) < 0.5
    y = (x[:, 7] ^ x[:, 31]) ^ (rng.random(3000) < 0.03)   # the sign bit of a product, 3% label noise
    data = Dataset.from_bits(x[:2000], y[:2000, None])
    valid = Dataset.from_bits(x[2000:], y[2000:, None])
    assert strongest_interaction(data) == (7, 31)
    greedy, losses = select_inputs(data, valid, k_max=2)
    assert set(greedy[:2].tolist()) != {7, 31} and min(losses) > 0.6     # neither input alone says anything
    order, losses = select_inputs(data, valid, k_max=3, start=(7, 31))
    assert losses[1] < 0.2


def test_a_majority_over_few_inputs_is_shrunk_on_their_whole_truth_table():
    from btflearn.arch import parse_arch
    from btflearn.learn import Candidate, Setting
    from btflearn.learn_circuit import and_count, build_circuit, majority, read_inputs, table_circuit
    from btflearn.model import Model

    rng = np.random.default_rng(1)
    data = sample(600, 11)
    members = []
    for s in range(3):   # three random 6-8-1 networks over different inputs: 10 inputs in all
        net = parse_arch("6-8-1")
        inputs = np.array([0, 1, 2, 3, 4, 5]) + 3 * (s > 0) + (s > 1)
        members.append(Candidate(Setting(6, (8,), 600, 3.0), s, inputs, Model(net, rng.normal(size=net.n_edges)),
                                 0.0, 0.0, 1, 0.0))
    assert read_inputs(members) == list(range(10))
    net, ands = table_circuit(members, data, "vote", time_limit=5.0)
    assert ands == and_count(net)
    unseen = np.where(np.random.default_rng(2).random((4000, 12)) < 0.5, 1.0, -1.0)
    assert np.array_equal(simulate(net, unseen), majority([m.predict(unseen) for m in members]))
    patterns = np.unique(data.inputs, axis=0)
    assert and_count(net) < and_count(build_circuit(members, data, patterns, "vote"))
    unshrunk = table_circuit(members, data, "vote", time_limit=0.0)[1]
    assert and_count(net) < unshrunk    # the resubstitution did something ...
    over_cap, _ = table_circuit(members, data, "vote", time_limit=5.0, max_ands=unshrunk - 1)
    assert and_count(over_cap) == unshrunk   # ... which is skipped for a start over the AND cap
    from btflearn.learn_circuit import MAX_TABLE_INPUTS
    k = MAX_TABLE_INPUTS + 1
    over = parse_arch(f"{k}-8-1")
    wide = Candidate(Setting(k, (8,), 600, 3.0), 0, np.arange(k), Model(over, rng.normal(size=over.n_edges)),
                     0.0, 0.0, 1, 0.0)
    assert table_circuit([wide], Dataset.from_bits(rng.random((10, 20)) < 0.5, np.zeros((10, 1), bool)), "w",
                         1.0) is None


def test_counting_gates_start_every_symmetric_function(tmp_path):
    from btflearn.arch import parse_arch
    from btflearn.learn import Setting, counting_start, train_early_stopped
    from btflearn.model import Model
    rng = np.random.default_rng(2)
    k = 10
    table = rng.random(k + 1) < 0.5            # f(x) = table[popcount(x)]: a random symmetric function
    x = rng.random((1500, k)) < 0.5
    y = table[x.sum(1)]
    train = Dataset.from_bits(x[:1000], y[:1000, None])
    valid = Dataset.from_bits(x[1000:], y[1000:, None])
    net = parse_arch(f"{k}-{k}-1")
    weights = counting_start(net, train)
    values, sums = Model(net, weights).node_sums(train.inputs)
    popcount = x[:1000].sum(1)
    for t, node in enumerate(range(net.first_btf, net.n_nodes - 1), start=1):   # hidden t: popcount >= t
        assert np.array_equal(values[:, node] > 0, popcount >= t)
        assert np.all(np.abs(sums[:, node]) > 0)
    for node in range(net.first_btf, net.n_nodes):
        lo, hi = net.in_start[node], net.in_start[node + 1]
        assert np.isclose(np.dot(weights[lo:hi], weights[lo:hi]), hi - lo)
    assert np.array_equal(values[:, -1] > 0, y[:1000])        # the read-out fits the training items
    c = train_early_stopped(train, valid, Setting(k, (k,), 1000, float(k), counting=True), np.arange(k), 0,
                            5.0, tmp_path)
    assert c.valid == 1.0 and "counting" in c.label(1)


def test_a_top_sum_bit_is_learned_as_one_threshold_gate_per_cofactor(tmp_path):
    """s6 of a + b (7-bit a, b) is a6 XOR b6 XOR carry6, and carry6 = [a mod 64 + b mod 64 >= 64] is one
    threshold gate: split on (a6, b6, one more input), every cofactor is that gate or its complement."""
    from btflearn.coarsen import coarsened
    from btflearn.learn import LINEAR_SIGMA, Setting, train_early_stopped

    rng = np.random.default_rng(1)
    bits = ((np.arange(1 << 14)[:, None] >> np.arange(14)) & 1).astype(bool)   # a: bits 0-6, b: 7-13
    a, b = bits[:, :7] @ (1 << np.arange(7)), bits[:, 7:] @ (1 << np.arange(7))
    data = Dataset.from_bits(bits, (((a + b) >> 6) & 1).astype(bool)[:, None], name="s6")
    order = rng.permutation(data.n_items)
    train, valid = data.subset(np.sort(order[:3000])), data.subset(np.sort(order[3000:]))
    inputs = [6, 13, 5] + [j for j in range(14) if j not in (6, 13, 5)]
    split = train_early_stopped(train, valid, Setting(14, (), 3000, LINEAR_SIGMA, split=3), inputs, 0, 8.0,
                                tmp_path)
    single = train_early_stopped(train, valid, Setting(14, (), 3000, LINEAR_SIGMA), inputs, 0, 4.0, tmp_path)
    assert split.valid >= 0.95 and single.valid < 0.8
    net = split.model.network
    on_inputs = [n for n in range(net.first_btf, net.n_nodes)
                 if np.all(net.senders[net.in_start[n]:net.in_start[n + 1]] < net.first_btf)]
    assert len(on_inputs) == 8                          # one gate per cofactor, then the multiplexer
    on_edge = np.isin(net.receivers, on_inputs)
    for rounded in coarsened(split, train, valid):
        w = rounded.model.weights
        assert np.array_equal(w[~on_edge], split.model.weights[~on_edge])   # the multiplexer as it was
        real = on_edge & (net.senders != 0)
        assert np.all(w[real] == np.round(w[real])) and np.abs(w[real]).max() <= rounded.levels


def test_a_gate_with_one_outlier_weight_is_rounded_at_a_quantile_not_at_the_largest_weight():
    """3 x0 + x1 + ... + x30: scaled by its largest weight, rounding to |w| <= 1 keeps x0 alone (it
    decides about 70% of the items like the gate); at the scale of a quantile it keeps all 31 (86%)."""
    from btflearn.arch import parse_arch
    from btflearn.coarsen import coarsened, rounded_gate
    from btflearn.learn import Candidate, Setting
    from btflearn.model import Model

    rng = np.random.default_rng(2)
    net = parse_arch("31-1")
    inputs = net.senders - 1
    w = np.where(inputs == 0, 3.0, 1.0) + rng.normal(0, 0.05, net.n_edges)
    w[net.senders == 0] = 0.5
    x = rng.random((4000, 31)) < 0.5
    gate = Model(net, w)
    data = Dataset(Dataset.from_bits(x, np.zeros((4000, 1), bool)).inputs, gate.predict(
        Dataset.from_bits(x, np.zeros((4000, 1), bool)).inputs), name="outlier")
    by_largest = np.round(w / np.abs(w[net.senders != 0]).max())
    by_largest[net.senders == 0] += 0.5
    largest = np.mean(Model(net, by_largest).predict(data.inputs) == data.outputs)
    c = Candidate(Setting(31, (), 4000, 300.0), 0, np.arange(31), gate, 0.0, 0.0, 1, 0.0)
    rounded = {r.levels: r for r in coarsened(c, data, data)}
    assert largest < 0.8 and rounded[1].valid > largest + 0.1
    assert set(np.unique(rounded[1].model.weights[net.senders != 0])) == {1.0}
    values = np.hstack([-np.ones((4000, 1)), data.inputs])[:, net.senders]
    assert np.array_equal(rounded_gate(w, net.senders != 0, 1, values), rounded[1].model.weights)


def test_a_wide_gate_is_estimated_below_its_circuit_without_being_built():
    from btflearn.arch import parse_arch
    from btflearn.learn import Candidate, Setting
    from btflearn.learn_circuit import ANDS_PER_FINE_INPUT, ANDS_PER_WEIGHT_BIT, and_count, build_circuit, \
        gate_ands
    from btflearn.model import Model

    rng = np.random.default_rng(3)
    net = parse_arch("40-1")
    bias = net.senders == 0
    fine = Candidate(Setting(40, (), 100, 10.0), 0, np.arange(40), Model(net, rng.normal(size=net.n_edges)),
                     0.0, 0.0, 1, 0.0)
    ints = np.round(3 * fine.model.weights)
    integer = Candidate(Setting(40, (), 100, 10.0), 0, np.arange(40), Model(net, ints + 0.5 * bias),
                        0.0, 0.0, 1, 0.0)
    bits = sum(bin(int(abs(v))).count("1") for v in ints[~bias])
    assert gate_ands([fine]) == 40 * ANDS_PER_FINE_INPUT and gate_ands([integer]) == ANDS_PER_WEIGHT_BIT * bits
    assert gate_ands([fine, integer, fine]) == 80 * ANDS_PER_FINE_INPUT + ANDS_PER_WEIGHT_BIT * bits
    data = Dataset.from_bits(rng.random((3000, 40)) < 0.5, np.zeros((3000, 1), bool))
    # the integer gate's circuit is its adder: at least the estimate (the fine one's scale is a guess)
    assert and_count(build_circuit([integer], data, data.inputs, "g")) >= gate_ands([integer])
    narrow = Candidate(fine.setting, 0, np.arange(12), Model(parse_arch("12-1"), rng.normal(size=13)),
                       0.0, 0.0, 1, 0.0)
    assert gate_ands([narrow]) == 0     # built on its truth table: no extraction of the gate

def test_a_split_of_many_cofactors_stops_training_them_when_its_budget_is_spent(tmp_path):
    """64 cofactors each trained for at least a minimal slice took seconds over a small budget; the
    cofactors the budget does not reach answer their items' majority."""
    import time

    from btflearn.learn import Setting, train_early_stopped

    rng = np.random.default_rng(4)
    bits = rng.random((3000, 11)) < 0.5
    data = Dataset.from_bits(bits, (rng.random((3000, 1)) < 0.5), name="noise")
    train, valid = data.subset(np.arange(2000)), data.subset(np.arange(2000, 3000))
    setting = Setting(11, (16, 16), 2048, 5.0, True, split=6)
    t0 = time.perf_counter()
    c = train_early_stopped(train, valid, setting, np.arange(11), 0, 0.3, tmp_path)
    assert time.perf_counter() - t0 < 1.5
    constants = [m for m in c.cofactors.models if not hasattr(m, "network")]
    assert 0 < len(constants) < 64 and c.model.predict(valid.inputs).shape == (1000, 1)


def test_a_split_into_constant_cofactors_is_built_on_the_table_of_its_select_inputs():
    """The sign bit of a product is a XOR b: split on (a, b, c), every cofactor is a constant and the
    network reads only a, b and c of its 40 inputs, so its circuit is their table's: the XOR's 3 ANDs,
    not a multiplexer of all 3 select inputs."""
    from btflearn.circuits.simulate import simulate
    from btflearn.learn import Candidate, Setting
    from btflearn.learn_circuit import circuit_of, read_inputs
    from btflearn.shannon import join_cofactors

    rng = np.random.default_rng(5)
    data = Dataset.from_bits(rng.random((2000, 40)) < 0.5, np.zeros((2000, 1), bool), name="sign")
    leaves = [np.array([1.0 if (c & 1) ^ (c >> 1 & 1) else -1.0]) for c in range(8)]
    model = join_cofactors(leaves, range(3), 40, 1)
    inputs = np.r_[7, 21, 3, np.setdiff1d(np.arange(40), [7, 21, 3])]
    c = Candidate(Setting(40, (), 2000, 10.0, split=3), 0, inputs, model, 1.0, 1.0, 1, 0.0)
    assert read_inputs([c]) == [7, 21, 3]
    net, ands = circuit_of([c], data, data.inputs, 5.0, 5000)
    xor = np.where(data.inputs[:, 7] != data.inputs[:, 21], 1.0, -1.0)
    assert ands == 3 and np.array_equal(simulate(net, data.inputs)[:, 0], xor)
