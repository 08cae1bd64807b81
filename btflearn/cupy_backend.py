"""The GPU backend: the CUDA C kernels of kernels/cuda (btf_math.cuh + rrr_kernels.cu) loaded with
cupy.RawModule, the replicated state kept on the device for a whole fit.

The Backend protocol of btflearn.backends: ``CupyBackend(spec).run(st, n_iter) -> gap_out (T, n_iter)``
(-1 where a slot did not run). Traffic per call:
up, the per-slot bookkeeping the solver owns (iters, status, gapstop: T numbers each) and the full
state of the slots the solver (re)started since the last call (host ``iters == 0`` and ``RUNNING``);
down, only what the solver reads (wb, iters, status, gap_out, and the input values when the inputs
are free). The host copies of zw/zx/zy/g are therefore stale between calls; ``sync_state(st)`` copies
the device state back when it is wanted.

Device layout: item-fastest, (T, E, N) and (T, V, N) (see btf_math.cuh), float64 whatever the host
dtype. The maths is tested on every CI run through the CPU build of the same source
(tests/test_cuda_math.py); the figures measured on a GPU are in docs/gpu.md.
"""
from __future__ import annotations

import weakref
from pathlib import Path

import numpy as np

from .backends import Backend, KernelSpec, restarted
from .errors import BtfError
from .kernels.graph import INPUT_DATA

KERNELS = ("btf_prepare_kernel", "btf_item_pass_kernel", "btf_node_concur_kernel", "btf_weight_update_kernel",
           "btf_close_kernel", "btf_flush_kernel", "btf_trial_kernel")
LAYOUTS = ("auto", "trial", "grid")
GRID_BLOCK = 128
# layout "auto": the grid from this many trial-items (trials x items per trial) on, one block per trial
# below. docs/gpu.md, the H200's bench rows: one trial of 16 and of 64 items ran 1.49x and 1.03x faster
# one block per trial; one trial of 256 items ran 1.13-1.15x faster on the grid, and so did every
# batch of 26-4096 trials (1.02-1.92x; the 4x4's 43 trials tied, 0.8% the other way). No point
# between 64 and 256 trial-items was measured.
GRID_MIN_TRIAL_ITEMS = 256
NO_FMAD = ("--fmad=false",)   # NVRTC option: no contraction of a*b+c into fused multiply-adds


def cuda_source_dir() -> Path:
    """The folder holding btf_math.cuh, rrr_kernels.cu and cpu_harness.cpp (package data)."""
    from . import kernels
    return Path(kernels.__file__).resolve().parent / "cuda"


def kernel_source(name: str = "rrr_kernels.cu") -> str:
    """A .cu file of kernels/cuda (default rrr_kernels.cu) with btf_math.cuh inlined: one self-contained
    string for NVRTC (no include path)."""
    folder = cuda_source_dir()
    header = (folder / "btf_math.cuh").read_text()
    source = (folder / name).read_text()
    include = '#include "btf_math.cuh"'
    if include not in source:
        raise BtfError(f"{folder / name} does not include btf_math.cuh")
    return source.replace(include, header, 1)


def nvrtc_options(fmad: bool = True) -> tuple:
    """NVRTC options of the kernels: none (NVRTC's default, --fmad=true) or NO_FMAD."""
    return () if fmad else NO_FMAD


def _blocks(count: int, block: int) -> int:
    return max(1, (int(count) + block - 1) // block)


class CupyBackend(Backend):
    """CUDA kernels through CuPy, parallel over trials x items (see rrr_kernels.cu).

    layout: "trial" runs a whole chunk of iterations in one launch with one block per trial (no
    launch per iteration); "grid" launches the four passes per iteration over
    (trial, item) / (trial, node) grids; "auto" picks "grid" once trials x items reach
    GRID_MIN_TRIAL_ITEMS, "trial" below (few small trials: one launch per chunk beats four per iteration).

    fmad: True compiles with NVRTC's default, which contracts a*b+c into fused multiply-adds (one
    rounding instead of two: faster, but not the CPU's rounding); False passes --fmad=false, so the
    device rounds every product and sum as the CPU build of the same source and the NumPy reference do
    (the tests compare the two settings)."""
    name = "cupy"

    def __init__(self, spec: KernelSpec, layout="auto", block=None, fmad=True):
        try:
            import cupy
        except Exception as exc:  # ImportError, or a CUDA library that fails to load
            raise BtfError(f"the cupy backend needs CuPy and a CUDA GPU: cannot import cupy ({exc}); "
                           "pip install 'btflearn[gpu]'") from exc
        if layout not in LAYOUTS:
            raise BtfError(f"unknown layout {layout!r}; choose one of {', '.join(LAYOUTS)}")
        super().__init__(spec)
        graph, inputs, labels = spec.graph, spec.inputs, spec.labels
        self.cp = cp = cupy
        self.input_mode, self.beta, self.gamma, self.max_iter = (int(spec.input_mode), float(spec.beta),
                                                                 float(spec.gamma), int(spec.max_iter))
        self.layout_setting, self.block = layout, block
        self.fmad = bool(fmad)
        self.options = nvrtc_options(self.fmad)
        n_in = graph.first_btf - 1
        inputs = np.asarray(inputs, dtype=np.float64)
        labels = np.asarray(labels, dtype=np.float64)
        self.n_items = labels.shape[0]
        if inputs.size != self.n_items * n_in:  # free inputs carry no data: the kernels never read them
            inputs = np.zeros((self.n_items, n_in))
        i64 = lambda a: cp.asarray(np.ascontiguousarray(a, dtype=np.int64))  # noqa: E731
        f64 = lambda a: cp.asarray(np.ascontiguousarray(a, dtype=np.float64))  # noqa: E731
        support = graph.support   # gate projection per node, zeros = off
        support = np.zeros(len(graph.in_start) - 1, dtype=np.int64) if support is None else support
        self._graph_dev = (i64(graph.recv), i64(graph.in_start), i64(graph.out_start), i64(graph.out_edges),
                           f64(graph.delta), i64(support), f64(inputs.reshape(self.n_items, n_in)),
                           f64(labels.reshape(self.n_items, -1)))
        module = cp.RawModule(code=kernel_source(), options=self.options)
        self._k = {name: module.get_function(name) for name in KERNELS}
        self._dev = None
        self._state = None    # weak reference to the SolverState the device copy belongs to
        self._dirty = set()   # slots to upload at the next run besides the restarted ones

    # ------------------------------------------------------------------------------------- transfers
    def _allocate(self, T, N, E, V):
        cp = self.cp
        z = lambda *shape: cp.zeros(shape, dtype=np.float64)  # noqa: E731
        self._dev = dict(shape=(T, N, E, V), zw=z(T, E, N), zx=z(T, E, N), zy=z(T, V, N), g=z(T, V, N),
                         wa=z(T, E, N), xa=z(T, E, N), ya=z(T, V, N), gap_node=z(T, V, N), wb=z(T, E),
                         item_gap=z(T, N), pending=z(T))

    def _upload_slots(self, st, slots):
        cp, d = self.cp, self._dev
        T = st.zw.shape[0]
        for key in ("zw", "zx", "zy", "g"):
            host = np.ascontiguousarray(getattr(st, key)[slots].transpose(0, 2, 1), dtype=np.float64)
            if len(slots) == T:
                d[key][...] = cp.asarray(host)
            else:
                d[key][cp.asarray(slots)] = cp.asarray(host)

    def working_bytes(self) -> int:
        """Device bytes: the state's copy and scratch, and the problem's arrays (the bench's "held")."""
        if self._dev is None:
            return 0
        return (sum(a.nbytes for key, a in self._dev.items() if key != "shape")
                + sum(a.nbytes for a in self._graph_dev))

    def mark_dirty(self, slots=None):
        """Upload these slots (all when None) at the next run: for host-side edits of a running slot's
        state that the restart rule (iters == 0 and RUNNING) does not see, e.g. a resumed checkpoint."""
        if slots is None:
            self._dev = None
        else:
            self._dirty.update(int(k) for k in np.atleast_1d(slots))

    def sync_state(self, st):
        """Copy the device state (zw, zx, zy, g) back into ``st`` (the solver does not need it), except the
        slots restarted since the last call (the host holds their new start)."""
        if self._dev is None:
            return
        cp = self.cp
        keep = ~restarted(st)  # restarted slots: the host has the new start
        for key in ("zw", "zx", "zy", "g"):
            getattr(st, key)[keep] = cp.asnumpy(self._dev[key]).transpose(0, 2, 1)[keep]

    # ------------------------------------------------------------------------------------------ run
    def layout(self, T, N, E) -> str:
        """"trial" (one block per trial, a whole chunk per launch) or "grid" (four launches per iteration)."""
        if self.layout_setting != "auto":
            return self.layout_setting
        return "grid" if T * N >= GRID_MIN_TRIAL_ITEMS else "trial"

    def run(self, st, n_iter: int) -> np.ndarray:
        cp = self.cp
        T, N, E = st.zw.shape
        V = st.zy.shape[2]
        n_iter = int(n_iter)
        fresh = (self._dev is None or self._dev["shape"] != (T, N, E, V) or self._state is None
                 or self._state() is not st)
        if fresh:
            self._allocate(T, N, E, V)
            self._state = weakref.ref(st)
            slots = np.arange(T)
        else:  # slots the solver (re)started since the last call, and slots marked dirty
            upload = restarted(st)
            upload[sorted(k for k in self._dirty if k < T)] = True
            slots = np.flatnonzero(upload)
        self._dirty.clear()
        if len(slots):
            self._upload_slots(st, slots)
        d = self._dev
        iters = cp.asarray(np.ascontiguousarray(st.iters, dtype=np.int64))
        status = cp.asarray(np.ascontiguousarray(st.status, dtype=np.int64))
        gapstop = cp.asarray(np.ascontiguousarray(st.gapstop, dtype=np.float64))
        gap_out = cp.empty((T, max(n_iter, 1)), dtype=np.float64)
        G = self.graph
        recv, in_start, out_start, out_edges, delta, support, inputs, labels = self._graph_dev
        i64, f64 = np.int64, np.float64
        args = (d["zw"], d["zx"], d["zy"], d["g"], d["wa"], d["xa"], d["ya"], d["gap_node"], d["wb"], d["item_gap"],
                recv, in_start, out_start, out_edges, delta, support, inputs, labels, iters, status, gapstop,
                d["pending"],
                gap_out, i64(T), i64(N), i64(E), i64(V), i64(G.first_btf), i64(G.first_output),
                i64(self.input_mode), i64(self.max_iter), i64(gap_out.shape[1]), f64(self.beta), f64(self.gamma))
        k = self._k
        k["btf_prepare_kernel"]((_blocks(T * gap_out.shape[1], GRID_BLOCK),), (GRID_BLOCK,), args + (i64(0),))
        if n_iter > 0:
            if self.layout(T, N, E) == "trial":
                block = self.block or int(min(256, max(32, 1 << (max(N, V - G.first_btf) - 1).bit_length())))
                k["btf_trial_kernel"]((T,), (block,), args + (i64(n_iter),))
            else:
                b = self.block or GRID_BLOCK
                n_btf = V - G.first_btf
                for it in range(n_iter):
                    k["btf_item_pass_kernel"]((_blocks(T * N, b),), (b,), args + (i64(it),))
                    k["btf_node_concur_kernel"]((_blocks(T * n_btf, b),), (b,), args + (i64(it),))
                    k["btf_weight_update_kernel"]((_blocks(T * N, b),), (b,), args + (i64(it),))
                    k["btf_close_kernel"]((_blocks(T, b),), (b,), args + (i64(it),))
                k["btf_flush_kernel"]((_blocks(T * N, b),), (b,), args + (i64(n_iter),))
        # down: what the solver reads
        st.wb[...] = cp.asnumpy(d["wb"])
        st.iters[...] = cp.asnumpy(iters)
        st.status[...] = cp.asnumpy(status)
        if self.input_mode != INPUT_DATA:
            n_in = G.first_btf - 1
            st.zy[:, :, 1:n_in + 1] = cp.asnumpy(d["zy"][:, 1:n_in + 1, :]).transpose(0, 2, 1)
        return cp.asnumpy(gap_out)[:, :n_iter]
