"""Compile the RRR kernels ahead of a first run (the install does it: btflearn.build_backend)."""
from __future__ import annotations

import time

import numpy as np


def precompile(dtypes=("float64", "float32"), log=print) -> float:
    """Compile the Numba RRR kernels for ``dtypes`` into their cache folder (btflearn.kernels.cache) by
    running each on a tiny problem, so the signatures are exactly those of a run; both layouts a run
    may use (whole trials per thread, and a trial's items split over threads). Returns the seconds it
    took."""
    from .dataset import Dataset
    from .kernels import numba_kernels as k
    from .solver import fit

    def bits(values):  # 4 bits of each value, +-1
        return np.where((values[:, None] >> np.arange(4)) & 1, 1.0, -1.0)
    pattern = np.arange(16)
    data = Dataset(bits(pattern), bits((pattern & 3) * (pattern >> 2)), name="2x2 multiplier")
    start = time.perf_counter()
    for dtype in dtypes:
        t0 = time.perf_counter()
        fit(data, "4-4-4-4", max_iter=4, trials=1, dtype=dtype, backend="numba")
        for sig in list(k.rrr_run_trials.signatures):
            if str(sig[0].dtype) == dtype and sig not in k.rrr_run.signatures:
                k.rrr_run.compile(sig)  # the same arguments
        log(f"btflearn: compiled the {dtype} kernels in {time.perf_counter() - t0:.1f} s")
    return time.perf_counter() - start
