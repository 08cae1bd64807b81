"""The n-bit x n-bit multiplier: all 2^(2n) facts."""
from __future__ import annotations

from dataclasses import replace

import numpy as np

from btflearn.dataset import Dataset
from btflearn.errors import BtfError

from .spec import RunSpec

# Defaults per operand width (measured; docs/results.md and docs/speed.md have the runs):
# 2 bits: the reference 4-4-4-4; with gamma 1e-3 about two thirds of starts solve within 1e4 iterations,
#   so 8 restarts almost always do; batches of 4 (two per core) reach the first solution sooner than 8.
# 3 bits: 6-12-12-12-6 at sigma 3 does not solve; skip connections (every layer sees all earlier
#   layers) with sigma 5 (MAJ5 gates allowed) do. A faster metric (gamma 3e-3 instead of 1e-4) and a
#   longer step (beta 0.3) solve 12 of 12 seeds at a median of 2432 iterations instead of 6624.
# 4 bits: split on a3 and b3, each cofactor (64 facts of the other 6 inputs) is about a 3x3 multiplier
#   (a3 = b3 = 0: exactly one) and the 3x3's network solves it in seconds; the joined circuit is an order
#   of magnitude smaller than the one network's, and smaller than a0 and b0's cofactors give (seeds 0-4
#   at sigma 5: median 143 AIG ANDs against 202). At sigma 3 (AND/OR/MAJ3 margins) the cofactors still
#   solve, and sparser: median 127 (docs/minimisation.md).
#   The one network (--split none):
#   dense:8-32-32-32-8 at sigma 5 (narrower or deeper dense nets plateaued at gap 0.21-0.27), gamma 1e-3
#   and beta 0.3 (14k-22k iterations where gamma 1e-4 and beta 0.2 took 33k-80k), float32 (solves as
#   often, about 1.5x faster).
# 5 bits: one network for all 1024 facts (dense:10-64-64-64-10, the 4x4's one network twice as wide)
#   did not converge in 354,000 iterations. Split on a0 and b0, each of the four cofactors (256 facts)
#   is about a 4x4 multiplier, which the 4x4's one-network settings solve in about 12 minutes in all,
#   to a circuit of 80,392 AIG ANDs. Split on the top two bits of each operand instead, each of the 16
#   cofactors (64 facts of a0-a2, b0-b2) is about a 3x3 multiplier and the 3x3's network solves it:
#   46 s in all for seed 0, 2,570 AIG ANDs (docs/multiplier5.md).
# Two trials use both cores and the first solution wins. Runs of 4 bits and more checkpoint in --out.
# 4-bit runs minimise 120 s per stage (network, then circuit), not 60: the 4x4's seed-0 cofactor model
# ends at 130 AIG ANDs with 60 s and at 124 with 120 s, resubstitution still improving at its limit.
ONE_NETWORK = {
    2: RunSpec(arch="4-4-4-4", gamma=1e-3, max_iter=10_000, trials=8, batch=4),
    3: RunSpec(arch="dense:6-12-12-12-6", sigma=5.0, beta=0.3, gamma=3e-3, max_iter=100_000, trials=2),
    4: RunSpec(arch="dense:8-32-32-32-8", sigma=5.0, beta=0.3, gamma=1e-3, max_iter=1_000_000, trials=2,
               dtype="float32", minimise_time=120.0),
}
BY_COFACTORS = {   # bits -> (the inputs split on, the spec of each cofactor's network)
    4: (["a3", "b3"], RunSpec(arch="dense:6-12-12-12-8", sigma=3.0, beta=0.3, gamma=3e-3,
                              max_iter=100_000, trials=2, minimise_time=120.0)),
    5: (["a3", "a4", "b3", "b4"], RunSpec(arch="dense:6-12-12-12-10", sigma=5.0, beta=0.3, gamma=3e-3,
                                          max_iter=100_000, trials=2)),
}
# what `btflearn solve multiplier --bits N` runs
SPECS = {**ONE_NETWORK, **{bits: spec for bits, (_, spec) in BY_COFACTORS.items()}}


def multiplier_split(bits: int) -> list:
    """The inputs whose cofactors the default run for ``bits`` learns separately (none: one network)."""
    return list(BY_COFACTORS[bits][0]) if int(bits) in BY_COFACTORS else []


def multiplier_spec(bits: int, split=None) -> RunSpec:
    """The defaults for ``bits``-bit operands, learned by cofactors of the inputs ``split`` (None: the
    default split; []: one network). A split other than the default has no default network (give one),
    and neither have wider operands."""
    bits = int(bits)
    select = multiplier_split(bits) if split is None else list(split)
    generic = RunSpec(sigma=5.0, gamma=1e-4, max_iter=1_000_000)
    if not select:
        return ONE_NETWORK.get(bits, generic)
    if bits in BY_COFACTORS:
        default, spec = BY_COFACTORS[bits]
        return spec if select == default else replace(spec, arch=None)
    return generic


def multiplier(bits: int) -> Dataset:
    """Every product a*b of two ``bits``-bit numbers. Inputs a0..a{n-1}, b0..b{n-1}, outputs
    p0..p{2n-1}, index 0 the least significant bit; items ordered by (a, b)."""
    if not isinstance(bits, (int, np.integer)) or not 1 <= bits <= 8:
        raise BtfError(f"the multiplier takes 1 to 8 bits per operand, got {bits!r}")
    n = int(bits)
    a, b = np.divmod(np.arange(1 << (2 * n)), 1 << n)
    p = a * b
    shifts = np.arange(n)
    inputs = np.concatenate([(a[:, None] >> shifts) & 1, (b[:, None] >> shifts) & 1], axis=1)
    outputs = (p[:, None] >> np.arange(2 * n)) & 1
    return Dataset.from_bits(inputs, outputs,
                             input_names=[f"a{j}" for j in range(n)] + [f"b{j}" for j in range(n)],
                             output_names=[f"p{j}" for j in range(2 * n)], name=f"multiplier{n}")
