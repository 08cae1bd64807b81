"""Decoder (generative) tasks: the inputs are free and the solver chooses them. Each item is a target
vector; the network must produce it from some code:

- ``code="binary"``: a free +-1 code of ``code_bits`` bits per item (input_mode "binary"); the reference
  rand16 task is 16 random 16-bit vectors from 4 code bits on arch 4-16-16, where a solution must use
  every one of the 16 codes once;
- ``code="onehot"``: one of ``code_bits`` one-hot generators per item (input_mode "onehot"); the shipped
  mnist4 data set (5842 16x16 images of the digit 4, 16 generators, arch 16-256-256) is of this kind.

The input values stored in such a Dataset are placeholders (-1); the solver treats the inputs as free.
"""
from __future__ import annotations

import itertools

import numpy as np

from btflearn.data import path as data_path
from btflearn.dataset import Dataset
from btflearn.errors import BtfError
from btflearn.formats import read_dat

from .spec import RunSpec

SPEC = RunSpec(beta=0.5, gamma=1e-4, max_iter=200_000)  # rand16 solved at 76k-122k iterations, beta 0.5

CODES = ("binary", "onehot")


def decoder(targets, code_bits: int, code: str = "binary", name: str = "decoder") -> Dataset:
    """A decoder task for the given +-1 target rows (N, L)."""
    if code not in CODES:
        raise BtfError(f"code must be one of {CODES}, got {code!r}")
    targets = np.asarray(targets, dtype=np.float64)
    if targets.ndim != 2:
        raise BtfError("targets must be a 2-D array (items x bits)")
    if not isinstance(code_bits, (int, np.integer)) or code_bits < 1:
        raise BtfError(f"code_bits must be a positive integer, got {code_bits!r}")
    capacity = (1 << int(code_bits)) if code == "binary" else int(code_bits)
    if code == "binary" and capacity < len(np.unique(targets, axis=0)):
        raise BtfError(f"{code_bits} code bits give {capacity} codes, fewer than the "
                       f"{len(np.unique(targets, axis=0))} distinct targets")
    return Dataset(-np.ones((targets.shape[0], int(code_bits))), targets, input_mode=code,
                   input_names=[f"z{j}" for j in range(code_bits)],
                   output_names=[f"y{j}" for j in range(targets.shape[1])], name=name)


def random_decoder(n_vectors: int = 16, length: int = 16, code_bits: int = 4, seed: int = 0,
                   code: str = "binary") -> Dataset:
    """``n_vectors`` distinct uniformly random +-1 vectors of ``length`` bits (the reference rand16 task:
    16 x 16 bits from 4 free code bits, arch 4-16-16)."""
    if n_vectors < 1 or length < 1:
        raise BtfError("n_vectors and length must be positive")
    if n_vectors > (1 << min(length, 62)):
        raise BtfError(f"there are only 2^{length} distinct vectors of length {length}")
    rng = np.random.default_rng(seed)
    rows = []
    seen = set()
    while len(rows) < n_vectors:
        r = tuple(rng.integers(0, 2, size=length))
        if r not in seen:
            seen.add(r)
            rows.append(r)
    return decoder(2.0 * np.array(rows, dtype=np.float64) - 1.0, code_bits, code,
                   name=f"rand{n_vectors}x{length}_s{seed}")


def load_mnist4() -> Dataset:
    """The shipped mnist4 generative data set (16 one-hot generators; arch 16a.wth = 16-256-256)."""
    ds = read_dat(data_path("mnist4.dat"), n_inputs=16)
    ds.input_names = [f"g{j}" for j in range(16)]
    ds.output_names = [f"p{r}_{c}" for r in range(16) for c in range(16)]
    ds.name = "mnist4"
    return ds


def all_codes(n_inputs: int, code: str = "binary") -> np.ndarray:
    """Every admissible input of a decoder: all 2^n +-1 codes, or the n one-hot vectors."""
    if code == "binary":
        if n_inputs > 20:
            raise BtfError(f"2^{n_inputs} codes are too many to enumerate")
        return np.array(list(itertools.product((-1.0, 1.0), repeat=n_inputs)))
    if code == "onehot":
        return 2.0 * np.eye(n_inputs) - 1.0
    raise BtfError(f"code must be one of {CODES}, got {code!r}")


def assign_codes(model, dataset: Dataset) -> list[list[int]]:
    """For every item, the indices (into ``all_codes``) of the codes whose model output equals the item's
    target: a decoder is solved when every item has at least one, and the rand16 kind (as many codes as
    items) uses each code exactly once."""
    codes = all_codes(dataset.n_inputs, dataset.input_mode if dataset.input_mode != "data" else "binary")
    out = model.predict(codes)
    return [[int(c) for c in np.flatnonzero(np.all(out == t, axis=1))] for t in dataset.outputs]


def decoder_report(model, dataset: Dataset) -> dict:
    """Solved? and how the codes are used: items reproduced, distinct codes used, whether every item
    has its own code."""
    hits = assign_codes(model, dataset)
    reproduced = sum(1 for h in hits if h)
    used = sorted({c for h in hits for c in h})
    distinct_targets = len(np.unique(dataset.outputs, axis=0))
    return {"items": len(hits), "reproduced": reproduced, "codes_used": len(used),
            "solved": reproduced == len(hits),
            "one_code_per_target": reproduced == len(hits) and len(used) >= distinct_targets}
