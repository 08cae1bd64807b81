"""Reference file formats: the shipped files read right, malformed files give errors naming file and line."""
import numpy as np
import pytest

from btflearn import FormatError, Network, parse_arch
from btflearn.data import path
from btflearn.formats import read_dat, read_net, read_wth, write_net
from btflearn.model import Model
from btflearn.tasks import multiplier


def test_shipped_widths_and_data():
    assert read_wth(path("2x2.wth")) == [4, 4, 4, 4]
    assert read_wth(path("3x3.wth")) == [6, 12, 12, 12, 6]
    d = read_dat(path("3x3.dat"))
    assert d.inputs.shape == (64, 6) and d.outputs.shape == (64, 6)
    assert set(np.unique(d.inputs)) == {-1.0, 1.0}
    digits = read_dat(path("mnistjr.dat"))
    assert digits.inputs.shape == (3823, 64) and digits.readout == "argmax"
    assert digits.inputs.min() >= -1 and digits.inputs.max() <= 1
    assert np.all((digits.outputs == 1).sum(axis=1) == 1)
    gen = read_dat(path("mnist4.dat"), n_inputs=16)
    assert gen.input_mode == "onehot" and gen.outputs.shape == (5842, 256)


@pytest.mark.parametrize("bits", [2, 3])
def test_multiplier_matches_the_reference_facts(bits):
    """The reference files list bits most-significant first; ours are least-significant first."""
    ref = read_dat(path(f"{bits}x{bits}.dat"))
    ours = multiplier(bits)

    def facts(inputs, outputs, flip):
        a, b = inputs[:, :bits], inputs[:, bits:]
        if flip:
            a, b, outputs = a[:, ::-1], b[:, ::-1], outputs[:, ::-1]
        return {(tuple(x), tuple(y)) for x, y in zip(np.hstack([a, b]), outputs)}

    assert facts(ours.inputs, ours.outputs, False) == facts(ref.inputs, ref.outputs, True)
    assert len(facts(ours.inputs, ours.outputs, False)) == 4 ** bits


def test_net_round_trip(tmp_path):
    net = parse_arch("dense:3-4-2")
    w = np.random.default_rng(0).normal(size=net.n_edges)
    write_net(tmp_path / "a.net", net, w)
    header = (tmp_path / "a.net").read_text().splitlines()[0]
    assert header == f"{net.n_nodes} 4 2 {net.n_edges}"   # innodes counts the bias node
    net2, w2 = read_net(tmp_path / "a.net")
    assert np.array_equal(net2.receivers, net.receivers) and np.array_equal(w2, w)
    x = np.random.default_rng(1).choice([-1.0, 1.0], size=(20, 3))
    assert np.array_equal(Model(net, w).predict(x), Model(net2, w2).predict(x))


@pytest.mark.parametrize("text,line,message", [
    ("3\n4 4 4\n", 2, "ends early"),
    ("x\n", 1, "integer"),
    ("2\n4 0 4\n", 2, "at least 1"),
])
def test_bad_wth(tmp_path, text, line, message):
    p = tmp_path / "bad.wth"
    p.write_text(text)
    with pytest.raises(FormatError, match=message) as err:
        read_wth(p)
    assert err.value.line == line and "bad.wth" in str(err.value)


@pytest.mark.parametrize("text,line,message", [
    ("2\n2 2\n2 1\n0 1 1\n1 1\n", 5, "ends early"),
    ("1\n2 2\n2 1\n0 3 1\n", 4, "0 or 1"),
    ("1\n0 2\n2 1\n0.5 1.5 1\n", 4, r"\[0, 1\]"),
    ("1\n2 2\n2 1\n0 1 1 1\n", 4, "extra data"),
    ("1\n2 2\n10 1\n0 1 12\n", 4, "class label"),
    ("1\n7 2\n2 1\n0 1 1\n", 2, "input type"),
])
def test_bad_dat(tmp_path, text, line, message):
    p = tmp_path / "bad.dat"
    p.write_text(text)
    with pytest.raises(FormatError, match=message) as err:
        read_dat(p)
    assert err.value.line == line


def test_bad_net(tmp_path):
    p = tmp_path / "bad.net"
    p.write_text("4 2 1 2\n3 0 1.0\n3 1 x\n")
    with pytest.raises(FormatError, match="weight of edge 2") as err:
        read_net(p)
    assert err.value.line == 3
    p.write_text("4 2 1 2\n3 0 1.0\n2 3 1.0\n")
    with pytest.raises(FormatError, match="bad.net"):
        read_net(p)


def test_missing_file_is_a_format_error(tmp_path):
    with pytest.raises(FormatError, match="cannot read"):
        read_wth(tmp_path / "nope.wth")


def test_network_validation():
    with pytest.raises(Exception, match="bias"):
        Network.from_edges(4, 1, 1, [(3, 1), (3, 2), (2, 0), (2, 1)])
    with pytest.raises(Exception, match="topological"):
        Network.from_edges(4, 1, 1, [(2, 3), (2, 0), (3, 0), (3, 1)])
    net = parse_arch("dense:2-3-3-1")
    assert net.n_edges == 3 * 3 + 3 * 6 + 1 * 9   # each layer sees bias + every earlier node
    assert list(net.in_degree[net.first_btf:]) == [3, 3, 3, 6, 6, 6, 9]
