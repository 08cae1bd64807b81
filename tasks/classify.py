"""Classification with analog inputs and one-hot outputs read by argmax: optdigits (the shipped
mnistjr.dat: UCI optdigits 8x8 digits, 3823 items, 64 inputs in [0,1] entering as 2v-1, 10 classes).
Training uses the first N items in file order and tests on the rest."""
from __future__ import annotations

import numpy as np

from btflearn.data import path as data_path
from btflearn.dataset import Dataset
from btflearn.errors import BtfError
from btflearn.formats import read_dat

from .spec import RunSpec

OPTDIGITS_ARCH = "64-64-10"
SPEC = RunSpec(arch=OPTDIGITS_ARCH, sigma=5.0, gamma=1e-3)  # sigma 5: the reference's optdigits runs


def optdigits() -> Dataset:
    """The shipped optdigits data (mnistjr.dat), argmax readout."""
    ds = read_dat(data_path("mnistjr.dat"))
    ds.input_names = [f"p{r}_{c}" for r in range(8) for c in range(8)]
    ds.output_names = [f"digit{d}" for d in range(10)]
    ds.name = "optdigits"
    return ds


def classification(inputs, labels, n_classes: int | None = None, name: str = "classify") -> Dataset:
    """A classification Dataset from inputs in [0,1] (N, d) and integer labels (N,)."""
    inputs = np.asarray(inputs, dtype=np.float64)
    labels = np.asarray(labels)
    if inputs.ndim != 2 or labels.shape != (inputs.shape[0],):
        raise BtfError("inputs must be (N, d) and labels (N,)")
    if np.any((inputs < 0) | (inputs > 1)):
        raise BtfError("analog inputs must lie in [0, 1]")
    if np.any(labels != np.round(labels)) or labels.min() < 0:
        raise BtfError("labels must be non-negative integers")
    labels = labels.astype(int)
    n_classes = int(labels.max()) + 1 if n_classes is None else int(n_classes)
    if n_classes < 2 or labels.max() >= n_classes:
        raise BtfError(f"labels must lie in 0..{n_classes - 1} with at least two classes")
    out = -np.ones((len(labels), n_classes))
    out[np.arange(len(labels)), labels] = 1.0
    return Dataset(2.0 * inputs - 1.0, out, readout="argmax",
                   output_names=[f"class{c}" for c in range(n_classes)], name=name)
