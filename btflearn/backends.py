"""Backends: who runs the RRR iterations. Each one advances a batch of trials (restarts) held in a
SolverState; the solver above never sees which kernels ran."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .errors import BtfError

RUNNING, BELOW_GAPSTOP, AT_MAX_ITER = 0, 1, 2
ITEM_PARALLEL_MIN = 8192  # edge-items per trial below which one trial runs on one thread
BACKENDS = ("auto", "numba", "numpy", "cupy")


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


class NumpyBackend:
    """The reference kernels: slow, obviously right."""
    name = "numpy"

    def __init__(self, graph, inputs, labels, input_mode, beta, gamma, max_iter):
        from .kernels import reference
        self.ref = reference
        self.graph, self.inputs, self.labels = graph, inputs, labels
        self.input_mode, self.beta, self.gamma, self.max_iter = input_mode, beta, gamma, max_iter

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


class NumbaBackend:
    """Fused Numba kernels, parallel over (trial, item)."""
    name = "numba"

    def __init__(self, graph, inputs, labels, input_mode, beta, gamma, max_iter, by_trial=None):
        from .kernels import numba_kernels
        self.k = numba_kernels
        self.by_trial = by_trial  # None: decide per call from the number of trials and threads
        self.graph = graph
        self.inputs = np.ascontiguousarray(inputs, dtype=np.float64)
        self.labels = np.ascontiguousarray(labels, dtype=np.float64)
        self.input_mode, self.beta, self.gamma, self.max_iter = input_mode, beta, gamma, max_iter
        self._scratch = None

    def layout(self, T, N, E) -> str:
        """"trials" (whole trials per thread) or "items" (every trial's items spread over the threads)."""
        if self.by_trial is not None:
            return "trials" if self.by_trial else "items"
        import numba
        # whole trials per thread when there are enough of them (no barrier per iteration), and for
        # tiny trials, where three barriers per iteration cost more than the work they share and a busy
        # machine makes them collapse (a 2x2 fit measured 100x slower on 2 threads under load)
        return "trials" if T >= numba.get_num_threads() > 1 or N * E < ITEM_PARALLEL_MIN else "items"

    def run(self, st: SolverState, n_iter: int) -> np.ndarray:
        if self._scratch is None or self._scratch[0].shape != st.zw.shape:
            self._scratch = (np.empty_like(st.zw), np.empty_like(st.zw), np.empty_like(st.zy),
                             np.zeros_like(st.zy), np.zeros(st.zw.shape[0]))
        wa, xa, ya, gap_node, pending = self._scratch
        G = self.graph
        gap_out = np.empty((st.zw.shape[0], n_iter))
        kernel = self.k.rrr_run_trials if self.layout(*st.zw.shape) == "trials" else self.k.rrr_run
        kernel(st.zw, st.zx, st.zy, st.g, wa, xa, ya, gap_node, st.wb, G.recv, G.send, G.in_start,
                       G.out_start, G.out_edges, G.delta, G.first_btf, G.first_output, self.inputs,
                       self.labels, self.input_mode, self.beta, self.gamma, st.gapstop, st.iters,
                       self.max_iter, st.status, pending, n_iter, gap_out)
        return gap_out


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


def make_backend(name: str, *args):
    """The backend called ``name`` (auto: CuPy when it imports and a GPU is present, else Numba when it
    imports, else NumPy)."""
    if name not in BACKENDS:
        raise BtfError(f"unknown backend {name!r}; choose one of {', '.join(BACKENDS)}")
    if name == "auto":
        name = "cupy" if cupy_available() else "numba" if numba_available() else "numpy"
    if name == "numba":
        if not numba_available():
            raise BtfError("the numba backend needs numba: pip install numba")
        return NumbaBackend(*args)
    if name == "numpy":
        return NumpyBackend(*args)
    problem = cupy_problem()
    if problem is not None:
        raise BtfError(f"cannot use the cupy backend: {problem}. Use --backend numba or numpy")
    from .cupy_backend import CupyBackend
    return CupyBackend(*args)
