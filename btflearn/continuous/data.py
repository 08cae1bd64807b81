"""The shipped optdigits set (``mnistjr.dat``: 3823 8x8 digits) with a fixed train/test split.

Inputs are 2v - 1 in [-1, 1] (64 values, row-major 8x8), targets one-hot +-1 (10 classes). The split is
fixed and documented: the first ``n_train`` items (default 3000) train, the remaining 823 test; the
file's order is not sorted by class (every class has 285-308 training and 69-95 test items).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from btflearn.errors import BtfError

DATASETS = ("optdigits",)
N_TRAIN = 3000


@dataclass
class Split:
    x_train: np.ndarray   # (n, 64) float32 in [-1, 1]
    y_train: np.ndarray   # (n, 10) float32 +-1
    x_test: np.ndarray
    y_test: np.ndarray
    name: str

    @property
    def classes(self):
        return self.y_train.shape[1]


def load(name: str = "optdigits", n_train: int = N_TRAIN, n_test: int | None = None) -> Split:
    """The fixed split; ``n_train`` takes the first items for training (a smaller value keeps the same
    test set), ``n_test`` optionally keeps only the first test items."""
    if name not in DATASETS:
        raise BtfError(f"unknown data set {name!r}; choose one of {', '.join(DATASETS)}")
    from btflearn.data import path
    from btflearn.formats import read_dat

    ds = read_dat(path("mnistjr.dat"))
    n = ds.inputs.shape[0]
    if not 1 <= n_train <= N_TRAIN:
        raise BtfError(f"--train-size must be between 1 and {N_TRAIN} (the rest of the {n} items are the "
                       f"test set), got {n_train}")
    x = ds.inputs.astype(np.float32)
    y = ds.outputs.astype(np.float32)
    x_test, y_test = x[N_TRAIN:], y[N_TRAIN:]
    if n_test is not None:
        if n_test < 1:
            raise BtfError(f"the test set size must be positive, got {n_test}")
        x_test, y_test = x_test[:n_test], y_test[:n_test]
    return Split(x[:n_train], y[:n_train], x_test, y_test, name)
