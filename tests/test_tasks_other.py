"""Autoencoder, decoder and classification tasks."""
import numpy as np
import pytest

from btflearn import Model, Network
from btflearn.data import path
from btflearn.errors import BtfError
from btflearn.formats import read_dat
from btflearn.tasks import (all_codes, assign_codes, autoencoder, autoencoder_arch, classification,
                            decoder, decoder_report, load_autoencoder, load_mnist4, optdigits, random_decoder)


def test_autoencoder_random_and_shipped():
    ds = autoencoder(4, seed=1)
    assert ds.inputs.shape == (16, 16) and np.array_equal(ds.inputs, ds.outputs)
    assert len(np.unique(ds.inputs, axis=0)) == 16
    assert np.array_equal(autoencoder(4, seed=1).inputs, ds.inputs)
    assert not np.array_equal(autoencoder(4, seed=2).inputs, ds.inputs)
    for size in (8, 16, 32):
        ref = load_autoencoder(size)
        assert ref.inputs.shape == (size, size) and np.array_equal(ref.inputs, ref.outputs)
    # first row of auto16.dat: 1 1 1 1 0 1 1 0 1 1 1 0 0 1 0 0
    assert list((load_autoencoder(16).inputs[0] > 0).astype(int)) == [1, 1, 1, 1, 0, 1, 1, 0, 1, 1, 1, 0, 0, 1, 0, 0]
    assert autoencoder_arch(16) == "16-4-16-16" and autoencoder_arch(32) == "32-5-32-32"
    with pytest.raises(BtfError):
        load_autoencoder(12)


def test_decoder_tasks():
    ds = random_decoder(16, 16, 4, seed=0)
    assert ds.input_mode == "binary" and ds.inputs.shape == (16, 4) and ds.outputs.shape == (16, 16)
    assert len(np.unique(ds.outputs, axis=0)) == 16
    oh = random_decoder(5, 8, 5, code="onehot")
    assert oh.input_mode == "onehot"
    with pytest.raises(BtfError):
        random_decoder(16, 16, 3)  # 8 codes for 16 vectors
    m4 = load_mnist4()
    assert m4.input_mode == "onehot" and m4.inputs.shape == (5842, 16) and m4.outputs.shape == (5842, 256)
    assert all_codes(3).shape == (8, 3) and np.array_equal(all_codes(4, "onehot"), 2 * np.eye(4) - 1)


def test_assign_codes_on_a_hand_decoder():
    # 2 code bits -> 2 outputs copying them: every target is produced by exactly one code
    s = np.sqrt(3.0)
    net = Network.layered([2, 2])
    w = np.zeros(net.n_edges)
    for node, src in ((3, 1), (4, 2)):
        lo = net.in_start[node]
        w[lo + list(net.senders[lo:net.in_start[node + 1]]).index(src)] = s
    model = Model(net, w)
    ds = decoder(np.array([[1, 1], [-1, 1], [1, -1], [-1, -1]], float), 2)
    hits = assign_codes(model, ds)
    assert sorted(h[0] for h in hits) == [0, 1, 2, 3]
    rep = decoder_report(model, ds)
    assert rep["solved"] and rep["one_code_per_target"] and rep["codes_used"] == 4


def test_optdigits_argmax_classification():
    ds = optdigits()
    assert ds.readout == "argmax" and ds.inputs.shape == (3823, 64) and ds.outputs.shape == (3823, 10)
    assert np.all((ds.outputs > 0).sum(axis=1) == 1)
    assert ds.inputs.min() >= -1 and ds.inputs.max() <= 1 and len(np.unique(ds.inputs)) > 2  # analog
    assert np.array_equal(ds.outputs, read_dat(path("mnistjr.dat")).outputs)
    # a model that always puts the largest sum on class 3 predicts class 3 everywhere
    net = Network.layered([64, 10])
    w = np.zeros(net.n_edges)
    for c in range(10):
        w[net.in_start[65 + c]] = -1.0 if c == 3 else 1.0  # bias value -1: class 3 gets +1
    model = Model(net, w, readout="argmax")
    per_bit, exact = model.accuracy(ds)
    assert exact == pytest.approx(np.mean(ds.outputs[:, 3] > 0))
    c = classification(np.array([[0.0, 1.0], [0.5, 0.2], [1.0, 0.0]]), [0, 2, 1])
    assert c.readout == "argmax" and c.outputs.shape == (3, 3) and c.inputs[0, 0] == -1.0
    with pytest.raises(BtfError):
        classification(np.array([[2.0]]), [0])
