"""Binary autoencoder: 2^k random binary vectors of length 2^k, each mapped to itself through a k-wide
bottleneck (reference architecture 2^k - k - 2^k - 2^k, e.g. 16-4-16-16 for auto16)."""
from __future__ import annotations

import numpy as np

from btflearn.data import path as data_path
from btflearn.dataset import Dataset
from btflearn.errors import BtfError
from btflearn.formats import read_dat

from .spec import RunSpec

SHIPPED = (8, 16, 32)
SPEC = RunSpec(gamma=1e-4, max_iter=100_000)  # auto16: 5 of 5 reference starts within 1e5 iterations


def autoencoder(k: int, seed: int = 0) -> Dataset:
    """2^k distinct uniformly random +-1 vectors of length 2^k (drawn from ``seed``), targets = inputs."""
    if not isinstance(k, (int, np.integer)) or not 1 <= k <= 10:
        raise BtfError(f"k must be an integer 1..10 (2^k vectors of length 2^k), got {k!r}")
    n = 1 << int(k)
    rng = np.random.default_rng(seed)
    rows, seen = [], set()
    while len(rows) < n:  # distinct vectors, in the order drawn
        r = tuple(int(b) for b in rng.integers(0, 2, size=n))
        if r not in seen:
            seen.add(r)
            rows.append(r)
    bits = np.array(rows)
    return Dataset.from_bits(bits, bits, input_names=[f"x{j}" for j in range(n)],
                             output_names=[f"y{j}" for j in range(n)], name=f"auto{n}_s{seed}")


def load_autoencoder(size: int) -> Dataset:
    """A shipped reference autoencoder data set: ``size`` 8, 16 or 32 (auto8/16/32.dat)."""
    if size not in SHIPPED:
        raise BtfError(f"shipped autoencoder sizes are {SHIPPED}, got {size!r}")
    ds = read_dat(data_path(f"auto{size}.dat"))
    ds.input_names = [f"x{j}" for j in range(size)]
    ds.output_names = [f"y{j}" for j in range(size)]
    ds.name = f"auto{size}"
    return ds


def autoencoder_arch(size: int) -> str:
    """The reference architecture for vectors of length ``size`` = 2^k: size-k-size-size."""
    k = int(size).bit_length() - 1
    if size != 1 << k:
        raise BtfError(f"autoencoder vectors have length 2^k, got {size}")
    return f"{size}-{k}-{size}-{size}"
