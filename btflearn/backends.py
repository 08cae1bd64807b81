"""Backends: who runs the RRR iterations. Each one advances a batch of trials (restarts) held in a
SolverState; the solver above never sees which kernels ran.

The protocol (``Backend``): built from a KernelSpec; ``run(state, n_iter)`` advances every RUNNING slot
by up to n_iter iterations and returns their gaps; ``sync_state(state)`` brings a device's copy of the
state home (a no-op on the host); ``working_bytes()`` and ``layout(T, N, E)`` describe the backend's
own memory and work split for the benches.
"""
from __future__ import annotations

import weakref
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from .errors import BtfError
from .kernels.graph import AT_MAX_ITER, BELOW_GAPSTOP, INPUT_DATA, RUNNING, KernelGraph

ITEM_BLOCK_MIN = 1024  # items per block below which a trial is not split over threads (see layout)
BACKENDS = ("auto", "numba", "numpy", "cupy")
# backend "auto" runs a batch (trials advanced together in one state) on the GPU from this many trials
# on, on Numba below. docs/gpu.md, an H200 against 16 Numba threads on its host: one trial on the GPU
# ran at 0.02-0.12x of the best Numba row (at best 0.34-0.64x of one Numba thread), and the 4x4's one
# network with two trials made about 65 iterations per second (Numba: 168-182 on 2 cores); batches of
# 26 (5x5), 43 (4x4), 1106 (3x3) and 4096 (2x2) trials ran 2.2-18.5x faster than Numba's best. 26 is
# the smallest batch measured to win; none between 2 and 26 was measured.
CUPY_MIN_BATCH = 26


class KernelSpec(NamedTuple):
    """What every backend runs: the network's arrays, the data and the RRR constants."""
    graph: KernelGraph
    inputs: np.ndarray        # (N, n_in) data (ignored for free inputs)
    labels: np.ndarray        # (N, n_out)
    input_mode: int           # INPUT_DATA / INPUT_BINARY / INPUT_ONEHOT
    beta: float
    gamma: float
    max_iter: int


@dataclass
class SolverState:
    """The replicated divide-and-concur state of T trials (slots) and the per-slot bookkeeping."""
    zw: np.ndarray            # (T, N, E)
    zx: np.ndarray            # (T, N, E)
    zy: np.ndarray            # (T, N, V)
    g: np.ndarray             # (T, N, V) metric
    wb: np.ndarray            # (T, E) concurred weights of the last iteration
    iters: np.ndarray         # (T,) iterations done
    status: np.ndarray        # (T,) RUNNING / BELOW_GAPSTOP / AT_MAX_ITER
    gapstop: np.ndarray       # (T,) per-slot threshold

    @staticmethod
    def empty(T, N, E, V, dtype=np.float64):
        return SolverState(np.zeros((T, N, E), dtype), np.zeros((T, N, E), dtype), np.zeros((T, N, V), dtype),
                           np.ones((T, N, V), dtype), np.zeros((T, E)), np.zeros(T, np.int64),
                           np.full(T, AT_MAX_ITER, np.int64), np.zeros(T))


class Backend:
    """The backend protocol, with the host defaults (see the module docstring)."""
    name = "?"

    def __init__(self, spec: KernelSpec):
        self.graph, self.inputs, self.labels, self.input_mode, self.beta, self.gamma, self.max_iter = spec

    def run(self, st: "SolverState", n_iter: int) -> np.ndarray:
        """Advance every RUNNING slot by up to ``n_iter`` iterations; (T, n_iter) gaps, -1 where a slot did
        not run. Updates st.iters, st.status (BELOW_GAPSTOP, AT_MAX_ITER) and st.wb."""
        raise NotImplementedError

    def sync_state(self, st: "SolverState") -> None:
        """Make ``st`` hold the current state (host backends work on it directly)."""

    def working_bytes(self) -> int:
        """Bytes the backend holds between calls beside the SolverState."""
        return 0

    def layout(self, T: int, N: int, E: int) -> str | None:
        """How the work is split over threads or blocks (None: one way only)."""
        return None


class NumpyBackend(Backend):
    """The reference kernels: slow, obviously right."""
    name = "numpy"

    def __init__(self, spec: KernelSpec):
        super().__init__(spec)
        from .kernels import reference
        self.ref = reference

    def run(self, st: SolverState, n_iter: int) -> np.ndarray:
        gap_out = np.full((st.zw.shape[0], n_iter), -1.0)
        for it in range(n_iter):
            run = np.flatnonzero(st.status == RUNNING)
            if run.size == 0:
                break
            zw, zx, zy, g, wb, _, gap = self.ref.rrr_step(
                st.zw[run], st.zx[run], st.zy[run], st.g[run], self.graph, self.inputs, self.labels,
                self.beta, self.gamma, self.input_mode)
            st.zw[run], st.zx[run], st.zy[run], st.g[run], st.wb[run] = zw, zx, zy, g, wb
            gap_out[run, it] = gap
            st.iters[run] += 1
            st.status[run[gap < st.gapstop[run]]] = BELOW_GAPSTOP
            st.status[run[(gap >= st.gapstop[run]) & (st.iters[run] >= self.max_iter)]] = AT_MAX_ITER
        return gap_out


class NumbaBackend(Backend):
    """Fused Numba kernels (items innermost), parallel over trials and blocks of items.

    The state lives in the kernels' own layout, (T, E, N) and (T, V, N), between calls, as on a GPU:
    transposing the whole state in and out at every chunk of a few iterations cost a third of the 4x4's
    time. A call copies in only the slots the solver (re)started (``iters == 0`` and RUNNING), or all
    of them for a new SolverState; the host's zw/zx/zy/g are stale until ``sync_state`` (except the
    input values, which the read-out of free inputs needs)."""
    name = "numba"

    def __init__(self, spec: KernelSpec, by_trial=None, block_size=None):
        super().__init__(spec)
        from .kernels import numba_kernels
        self.k = numba_kernels
        self.by_trial = by_trial  # None: decide per call from the number of trials and threads
        self.block_size = block_size  # items per block; None: see block()
        self.inputs = np.ascontiguousarray(spec.inputs, dtype=np.float64)
        self.labels = np.ascontiguousarray(spec.labels, dtype=np.float64)
        self._scratch = None
        self._state = None  # weak reference to the SolverState the resident copy belongs to

    def layout(self, T, N, E) -> str:
        """"trials" (whole trials per thread) or "items" (every trial's items spread over the threads)."""
        if self.by_trial is not None:
            return "trials" if self.by_trial else "items"
        import numba
        # whole trials per thread (no barrier inside a chunk), unless there are fewer trials than threads
        # and a trial's items still fill long blocks when split: every row of a block costs a fixed
        # overhead, so halving the blocks of a 3x3/4x4/512-item trial lost more (26-40% on one thread)
        # than a second core gained; 2048 items on 2 threads ran 1.44x faster split
        threads = numba.get_num_threads()
        split = T < threads and N // -(-threads // T) >= ITEM_BLOCK_MIN
        return "items" if split else "trials"

    def block(self, T, N, layout) -> int:
        """Items per block: a whole trial (the longest SIMD loops) unless the items layout needs more
        blocks than trials to keep every thread busy; multiples of 8 (one AVX-512 register)."""
        import numba
        if self.block_size is not None:
            return self.block_size
        parts = 1 if layout == "trials" else -(-numba.get_num_threads() // T)
        per_part = -(-N // parts)
        return min(N, (per_part + 7) // 8 * 8)

    def working_bytes(self) -> int:
        """Bytes of the kernel-layout copies and scratch held between calls."""
        return sum(a.nbytes for a in self._scratch[1:]) if self._scratch is not None else 0

    def _support(self, V):
        """Per-node weight support of the gate projection (zeros: off)."""
        return np.zeros(V, dtype=np.int64) if self.graph.support is None else self.graph.support

    def sync_state(self, st: SolverState) -> None:
        """Copy the resident state back into ``st`` ((T, E, N) -> (T, N, E)), except the slots the solver
        restarted since the last call: the host holds their new start."""
        if self._scratch is None or self._state is None or self._state() is not st:
            return
        zw, zx = self._scratch[1:3]
        zy, g = self._scratch[5:7]
        for k in np.flatnonzero(~restarted(st)):
            for dst, src in ((st.zw, zw), (st.zx, zx), (st.zy, zy), (st.g, g)):
                dst[k] = src[k].T

    def run(self, st: SolverState, n_iter: int) -> np.ndarray:
        T, N, E = st.zw.shape
        V = st.zy.shape[2]
        key = (T, N, E, V, st.zw.dtype)
        new_layout = self._scratch is None or self._scratch[0] != key
        fresh = new_layout or self._state is None or self._state() is not st
        if new_layout:
            from .kernels.numba_kernels import PLAN_INT_ROWS, PLAN_ROWS
            dt = st.zw.dtype
            self._scratch = (key,) + tuple(aligned((T, E, N), dt) for _ in range(4)) + tuple(
                aligned((T, V, N), dt) for _ in range(4)) + (
                np.zeros(T), aligned((T, V, N)), aligned((T, V, N)), aligned((T, PLAN_ROWS, N)),
                aligned((T, PLAN_INT_ROWS, N), np.int64), aligned((T, N)))
        zw, zx, wa, xa, zy, g, ya, gap_node, pending = self._scratch[1:10]
        self._state = weakref.ref(st)
        slots = range(T) if fresh else np.flatnonzero(restarted(st))
        for k in slots:
            for dst, src in ((zw, st.zw), (zx, st.zx), (zy, st.zy), (g, st.g)):
                dst[k] = src[k].T
        G = self.graph
        gap_out = np.empty((T, n_iter))
        layout = self.layout(T, N, E)
        per_trial = (zw, zx, zy, g, wa, xa, ya, gap_node, st.wb)
        shared = (G.send, G.in_start, G.delta, G.first_btf, G.first_output, self.inputs, self.labels,
                  self.input_mode, self.beta, self.gamma)
        if layout == "items":
            self.k.rrr_run(*per_trial, *shared, st.gapstop, st.iters, self.max_iter, st.status, pending, n_iter,
                           gap_out, self.block(T, N, layout), *self._scratch[10:], self._support(V))
        else:
            def run_trials(a, b):  # trials a..b-1 on the calling thread (the kernel releases the GIL)
                self.k.rrr_run_trials(*(x[a:b] for x in per_trial), *shared, st.gapstop[a:b], st.iters[a:b],
                                      self.max_iter, st.status[a:b], pending[a:b], n_iter, gap_out[a:b],
                                      self.block(T, N, layout), *(x[a:b] for x in self._scratch[10:]),
                                      self._support(V))
            _on_threads(run_trials, T)
        if self.input_mode != INPUT_DATA:  # the read-out projects the learned input values
            st.zy[:, :, :G.first_btf] = zy[:, :G.first_btf, :].transpose(0, 2, 1)
        return gap_out


def restarted(st: SolverState) -> np.ndarray:
    """Slots the solver (re)started since a backend's last call (iters 0, RUNNING): their start state is
    on the host, so a backend that keeps its own copy of the state takes it from there."""
    return (st.iters == 0) & (st.status == RUNNING)


def _on_threads(run, T):
    """run(a, b) for contiguous groups of the T trials, one group per Numba thread (numba.get_num_threads,
    which callers set per thread), the first group on the calling thread."""
    import numba
    parts = min(T, numba.get_num_threads())
    bounds = [T * i // parts for i in range(parts + 1)]
    if parts == 1:
        return run(0, T)
    with ThreadPoolExecutor(parts - 1) as pool:
        others = [pool.submit(run, a, b) for a, b in zip(bounds[1:-1], bounds[2:])]
        run(bounds[0], bounds[1])
        for job in others:
            job.result()


def aligned(shape, dtype=np.float64, line=64) -> np.ndarray:
    """A C-contiguous zero array whose data starts on a cache line (NumPy only promises 16 bytes)."""
    nbytes = int(np.prod(shape)) * np.dtype(dtype).itemsize
    buf = np.zeros(nbytes + line, np.uint8)
    start = -buf.ctypes.data % line
    return buf[start:start + nbytes].view(dtype).reshape(shape)


def numba_available() -> bool:
    try:
        import numba  # noqa: F401
    except ImportError:
        return False
    return True


def cupy_problem() -> str | None:
    """Why the cupy backend cannot run here (None when it can): CuPy must import and see a CUDA device."""
    try:
        import cupy
    except Exception as exc:  # ImportError, or CUDA libraries that fail to load
        return f"CuPy is not installed or does not import ({exc}); install it with pip install 'btflearn[gpu]'"
    try:
        count = int(cupy.cuda.runtime.getDeviceCount())
    except Exception as exc:  # no driver, no device, driver too old
        return f"CuPy imports but finds no usable CUDA device ({exc})"
    if count <= 0:
        return "CuPy imports but finds no CUDA device"
    return None


def cupy_available() -> bool:
    """True when CuPy imports and at least one CUDA device is present."""
    return cupy_problem() is None


def resolve_backend(name: str, batch: int = 1) -> str:
    """The backend that ``name`` runs a batch of ``batch`` trials on: ``name`` itself, or for "auto"
    Numba, unless a CUDA device is present (CuPy imports and sees one) and the batch holds at least
    CUPY_MIN_BATCH trials (or Numba does not import: the NumPy reference is slower still); NumPy when
    neither Numba nor a GPU is there."""
    if name not in BACKENDS:
        raise BtfError(f"unknown backend {name!r}; choose one of {', '.join(BACKENDS)}")
    if name != "auto":
        return name
    numba_here = numba_available()
    if numba_here and batch < CUPY_MIN_BATCH:
        return "numba"   # CuPy is not even imported: a small batch runs faster on the CPU
    if cupy_available():
        return "cupy"
    return "numba" if numba_here else "numpy"


def make_backend(name: str, spec: KernelSpec, batch: int = 1, **options) -> Backend:
    """The backend called ``name`` for ``spec``, "auto" resolved for a batch of ``batch`` trials
    (resolve_backend). ``options`` go to the backend (e.g. NumbaBackend's by_trial)."""
    name = resolve_backend(name, batch)
    if name == "numba":
        if not numba_available():
            raise BtfError("the numba backend needs numba: pip install numba")
        return NumbaBackend(spec, **options)
    if name == "numpy":
        return NumpyBackend(spec, **options)
    problem = cupy_problem()
    if problem is not None:
        raise BtfError(f"cannot use the cupy backend: {problem}. Use --backend numba or numpy")
    from .cupy_backend import CupyBackend
    return CupyBackend(spec, **options)


def numba_kernels_cached(dtype: str = "float64") -> bool:
    """True when this process has compiled the Numba kernels for ``dtype`` or their on-disk cache holds
    them (a first run compiles for about ten seconds; the CLI says so before it starts)."""
    try:
        from .kernels import numba_kernels
    except ImportError:
        return True  # no Numba: nothing to compile
    # a run uses one of the two layouts (whole trials per thread, the usual one, or items split)
    dispatchers = (numba_kernels.rrr_run_trials, numba_kernels.rrr_run)
    if any(any(dtype in str(sig[0]) for sig in d.signatures) for d in dispatchers):
        return True
    try:  # numba's cache index (a private API; when it changes, assume a compile)
        return any(any(dtype in str(key[0]) for key in d._cache._cache_file._load_index()) for d in dispatchers)
    except Exception:
        return False
