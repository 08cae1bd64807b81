"""The sparse separator: an exact threshold gate on the rows it is given, sparse when a sparse one exists."""
import itertools

import numpy as np
import pytest

from btflearn.errors import BtfError
from btflearn.separator import sparse_separator


def table(k):
    """Every +-1 pattern of k inputs, with the bias column (-1) first."""
    x = np.array(list(itertools.product((-1.0, 1.0), repeat=k)))
    return np.hstack([-np.ones((len(x), 1)), x])


def test_finds_the_planted_gate_among_distractors():
    rng = np.random.default_rng(0)
    v = np.hstack([-np.ones((300, 1)), rng.choice((-1.0, 1.0), size=(300, 40))])
    t = np.where(2 * v[:, 3] + v[:, 7] - v[:, 12] + v[:, 20] - 1 > 0, 1.0, -1.0)  # 4 of 40 inputs matter
    w = sparse_separator(v, t, bias=0)
    assert w is not None and np.array_equal(np.sign(v @ w), t)
    assert set(np.flatnonzero(w[1:]) + 1) == {3, 7, 12, 20}


def test_every_sum_is_off_zero_on_unseen_patterns_too():
    v = table(6)
    t = np.where(v[:, 1:].sum(axis=1) >= 0, 1.0, -1.0)  # ties (sum 0) are +1: the bias must break them
    seen = np.arange(0, 64, 3)                          # a third of the patterns
    w = sparse_separator(v[seen], t[seen], bias=0)
    assert w is not None and np.array_equal(np.sign(v[seen] @ w), t[seen])
    assert np.all(np.abs(v @ w) >= 0.5)                 # defined everywhere: never a zero sum
    assert np.allclose(w * 2, np.rint(w * 2))           # integers, and a half on the bias


def test_a_function_no_threshold_gate_computes_is_none():
    v = table(2)
    xor = v[:, 1] * v[:, 2]
    assert sparse_separator(v, xor, bias=0) is None
    assert sparse_separator(v[[0, 1, 3]], xor[[0, 1, 3]], bias=0) is not None  # without one pattern it is


def test_degenerate_inputs():
    assert np.array_equal(sparse_separator(np.zeros((0, 3)), np.zeros(0)), np.zeros(3))
    v = table(3)
    w = sparse_separator(v, np.ones(len(v)), bias=0)   # a constant: the bias alone
    assert np.array_equal(np.flatnonzero(w), [0]) and np.all(v @ w > 0)
    with pytest.raises(BtfError):
        sparse_separator(v, np.ones(3))
