"""The n-bit x n-bit multiplier: all 2^(2n) facts."""
from __future__ import annotations

import numpy as np

from btflearn.dataset import Dataset
from btflearn.errors import BtfError

# Default architectures and solver settings per operand width (the CLI applies the settings where the
# user gave no option).
# 2 bits: the reference 4-4-4-4; with gamma 1e-3 about two thirds of starts solve within 1e4 iterations
#   (27 of 40 measured), so 8 restarts almost always do. Batches of 4 (two per core on 2 cores) reach the
#   first solution sooner than all 8 at once: median 0.42 vs 0.73-0.78 s over seeds 0-9, measured side by
#   side under load 4 (a trial's own result does not depend on the batch).
# 3 bits: the reference 6-12-12-12-6 at sigma 3 did not solve in the authors' runs; with skip connections
#   (every layer sees all earlier layers) and sigma 5 (MAJ5 gates allowed) 4 of 4 starts solved within
#   11k iterations (6144, 10809, 6826, 7746), gamma 1e-4.
# 4 bits: dense:8-32-32-32-8 (4776 edges), sigma 5, gamma 1e-4 solved the 4x4 exactly with seed 0 at
#   80,500 iterations (24-28 min on one core); seeds 0-4 all solved (33k-80k iterations, 9-25 min); narrower dense:8-24-24-24-8 and deeper dense:8-20-20-20-20-8
#   plateaued at gap ~0.21-0.27 (see README, "The 4x4 multiplier"). Long runs are checkpointed in --out
#   (default runs/multiplier4); --resume continues.
DEFAULT_ARCH = {2: "4-4-4-4", 3: "dense:6-12-12-12-6", 4: "dense:8-32-32-32-8"}
DEFAULT_SETTINGS = {
    2: dict(max_iter=10_000, gamma=1e-3, trials=8, batch=4),
    3: dict(sigma=5.0, max_iter=100_000, gamma=1e-4, trials=2),
    4: dict(sigma=5.0, max_iter=1_000_000, gamma=1e-4, trials=1),
}


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
