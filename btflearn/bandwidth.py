"""This machine's memory bandwidth, measured STREAM-style (copy a = b, triad a = b + q c) over arrays
much larger than the last-level cache, so that kernel throughput can be read as a fraction of it.

Bytes are counted as STREAM counts them: every element read or written once (copy 16 B, triad 24 B per
float64 element), no write-allocate reads. The kernel traffic model (btflearn.traffic) counts the same
way, so the two are comparable."""
from __future__ import annotations

import math
import statistics
import time

import numpy as np

from .errors import BtfError

MAX_ARRAY_MB = 8192  # one array; three are allocated for the triad


def _kernels():
    from numba import njit, prange

    @njit(cache=True, parallel=True)
    def copy(a, b):
        for i in prange(a.shape[0]):
            a[i] = b[i]

    @njit(cache=True, parallel=True)
    def triad(a, b, c, q):
        for i in prange(a.shape[0]):
            a[i] = b[i] + q * c[i]

    return copy, triad


def check_size(size_mb) -> None:
    """Raise BtfError unless ``size_mb`` is a usable array size in MB."""
    if isinstance(size_mb, bool) or not isinstance(size_mb, (int, float)) or not math.isfinite(size_mb) \
            or not 1 <= size_mb <= MAX_ARRAY_MB:
        raise BtfError(f"bandwidth array size must be a number of MB from 1 to {MAX_ARRAY_MB}, got {size_mb!r}")


def stream_bandwidth(threads: int | None = None, size_mb: float = 256.0, repeats: int = 5) -> dict:
    """Copy and triad bandwidth in GB/s (1e9 B/s) on ``threads`` Numba threads (default: all), each the
    median of ``repeats`` passes over float64 arrays of ``size_mb`` MB (1e6 B) each.

    Arrays well above the last-level cache (several times) measure the memory; small ones measure a
    cache. The arrays are touched once before timing (page faults and the JIT compile stay outside)."""
    import numba
    check_size(size_mb)
    if isinstance(repeats, bool) or not isinstance(repeats, int) or repeats < 1:
        raise BtfError(f"bandwidth repeats must be a positive integer, got {repeats!r}")
    most = numba.config.NUMBA_NUM_THREADS
    threads = most if threads is None else threads
    if isinstance(threads, bool) or not isinstance(threads, int) or not 1 <= threads <= most:
        raise BtfError(f"bandwidth threads must be from 1 to {most} (NUMBA_NUM_THREADS), got {threads!r}")
    n = int(size_mb * 1e6) // 8
    copy, triad = _kernels()
    # every array written by the kernels' own threads first, so pages land where they are used
    a, b, c = np.empty(n), np.empty(n), np.empty(n)
    previous = numba.get_num_threads()
    numba.set_num_threads(threads)
    try:
        triad(b, a, a, 0.0)
        b[:] = 1.0  # a was garbage: start from finite values
        triad(c, b, b, 1.0)
        triad(a, b, c, 0.5)
        copy(a, b)
        times = {"copy": [], "triad": []}
        for _ in range(repeats):
            t0 = time.perf_counter()
            copy(a, b)
            times["copy"].append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            triad(a, b, c, 0.5)
            times["triad"].append(time.perf_counter() - t0)
    finally:
        numba.set_num_threads(previous)
    if not a[0] == 2.0:  # b + 0.5 c with b = 1, c = 2: the triad really ran
        raise BtfError(f"bandwidth triad computed {a[0]} instead of 2.0")
    return dict(kind="bandwidth", threads=threads, size_mb=n * 8 / 1e6, repeats=repeats,
                copy_gb_s=2 * 8 * n / statistics.median(times["copy"]) / 1e9,
                triad_gb_s=3 * 8 * n / statistics.median(times["triad"]) / 1e9)
