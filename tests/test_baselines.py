"""The AdamW MLP baseline."""
import builtins

import numpy as np
import pytest

from btflearn import Dataset
from btflearn.baselines import adamw_baseline, run_baseline, widths_of
from btflearn.errors import BtfError
from btflearn.tasks import ElementaryCA, optdigits, random_decoder


def test_widths_of():
    assert widths_of("16-32-32-16") == [16, 32, 32, 16]
    assert widths_of([4, 4]) == [4, 4]
    from btflearn.data import path
    assert widths_of(str(path("30_2.wth"))) == [16, 48, 48, 48, 16]
    with pytest.raises(BtfError):
        widths_of("dense:4-4-4")


def test_adamw_fits_its_training_set_and_is_reproducible():
    pytest.importorskip("optax")
    ca = ElementaryCA(232, width=8)
    train, test = ca.sample(600, seed=0).split(100)
    r = adamw_baseline(train, test, "8-16-8", steps=300, lr=1e-2, seed=0)
    assert r.train_accuracy[0] > 0.95
    assert r.test_accuracy is not None and r.test_accuracy[0] > 0.9
    assert np.array_equal(r.predict(test.inputs), np.where(r.predict(test.inputs) > 0, 1.0, -1.0))
    r2 = adamw_baseline(train, test, "8-16-8", steps=300, lr=1e-2, seed=0)
    assert r2.test_accuracy == r.test_accuracy
    with pytest.raises(BtfError):
        adamw_baseline(train, test, "8-16-7")


def test_adamw_argmax_classification():
    pytest.importorskip("optax")
    train, test = optdigits().split(256)
    r = run_baseline("adamw", train, test, "64-32-10", steps=200, lr=1e-2)
    assert r.test_accuracy[1] > 0.7  # exact = class accuracy for argmax readout
    pred = r.predict(test.inputs, readout="argmax")
    assert np.all((pred > 0).sum(axis=1) == 1)


def test_baseline_errors(monkeypatch):
    with pytest.raises(BtfError):
        adamw_baseline(random_decoder(4, 6, 2), None, "2-6-6")
    with pytest.raises(BtfError):
        run_baseline("sgd", *ElementaryCA(30, 8).sample(20).split(10), "8-8")
    real_import = builtins.__import__

    def no_optax(name, *args, **kw):
        if name == "optax":
            raise ImportError("no optax", name="optax")
        return real_import(name, *args, **kw)

    monkeypatch.setattr(builtins, "__import__", no_optax)
    with pytest.raises(BtfError, match="optax"):
        adamw_baseline(*ElementaryCA(30, 8).sample(20).split(10), "8-8")
