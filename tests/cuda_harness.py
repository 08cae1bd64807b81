"""What the CUDA tests share (tests/test_cuda_math.py, tests/test_cuda_device.py): the CPU build of the
kernel source (kernels/cuda/cpu_harness.cpp, loaded with ctypes), a fake ``cupy`` module that runs it,
the projection cases (random and degenerate) and the start states of whole runs.

The CPU harness includes rrr_kernels.cu and projection_kernels.cu with the CUDA built-ins emulated, so
the host C++ compiler builds the exact source the GPU runs; the fake cupy hands CupyBackend (and the
device tests) those CPU kernels behind cupy's API, so one test body runs either on a GPU or here.
"""
from __future__ import annotations

import ctypes
import os
import shutil
import subprocess
import types

import numpy as np

from btflearn import parse_arch
from btflearn.backends import RUNNING, SolverState
from btflearn.cupy_backend import KERNELS, cuda_source_dir
from btflearn.kernels import reference as ref
from btflearn.kernels.graph import kernel_graph

CUDA = cuda_source_dir()
CASE_KERNELS = ("btf_bilinear_cases_kernel", "btf_trio_cases_kernel")   # projection_kernels.cu


def compiler():
    for name in (os.environ.get("CXX"), "c++", "g++", "clang++"):
        if name and shutil.which(name):
            return shutil.which(name)
    return None


# ----------------------------------------------------------------------------------- the CPU build
P, I64, F64 = "p", "i", "d"
# BTF_KERNEL_PARAMS of rrr_kernels.cu: (kind, dtype of the array) for the 23 pointers, then scalars
KERNEL_SIGNATURE = ([(P, np.float64)] * 10 + [(P, np.int64)] * 4 + [(P, np.float64)] + [(P, np.int64)]
                    + [(P, np.float64)] * 2 + [(P, np.int64)] * 2
                    + [(P, np.float64)] * 3 + [(I64, None)] * 9 + [(F64, None)] * 2 + [(I64, None)])
# BTF_CASE_PARAMS of projection_kernels.cu: w, x, m, a, b, n_cases, ld, wo, xo, out
CASE_SIGNATURE = ([(P, np.float64)] * 2 + [(P, np.int64)] + [(P, np.float64)] * 2 + [(I64, None)] * 2
                  + [(P, np.float64)] * 3)
SIGNATURES = dict({name: KERNEL_SIGNATURE for name in KERNELS}, **{name: CASE_SIGNATURE for name in CASE_KERNELS})
CTYPE = {P: ctypes.c_void_p, I64: ctypes.c_longlong, F64: ctypes.c_double}


def build_cpu_lib(folder):
    """Compile cpu_harness.cpp into ``folder`` and load it; None without a C++ compiler. Warnings are
    errors (the same source must also pass nvcc and NVRTC cleanly)."""
    cxx = compiler()
    if cxx is None:
        return None
    out = os.path.join(str(folder), "btf_cuda_cpu.so")
    cmd = [cxx, "-O2", "-std=c++11", "-shared", "-fPIC", "-ffp-contract=off", "-Wall", "-Wextra", "-Werror",
           str(CUDA / "cpu_harness.cpp"), "-o", out]
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert res.returncode == 0 and not res.stderr.strip(), res.stderr
    so = ctypes.CDLL(out)
    dp = ctypes.POINTER(ctypes.c_double)
    so.btf_cpu_bilinear.restype = ctypes.c_double
    so.btf_cpu_bilinear.argtypes = [dp, dp, ctypes.c_longlong, ctypes.c_double, dp, dp]
    so.btf_cpu_trio.restype = ctypes.c_double
    so.btf_cpu_trio.argtypes = [dp, dp, ctypes.c_longlong, ctypes.c_double, ctypes.c_double, dp, dp]
    so.btf_cpu_rrr_run.restype = None
    so.btf_cpu_rrr_run.argtypes = [ctypes.c_int] + [CTYPE[kind] for kind, _ in KERNEL_SIGNATURE]
    for name, signature in SIGNATURES.items():
        fn = getattr(so, "cpu_" + name)
        fn.restype = None
        fn.argtypes = [ctypes.c_uint, ctypes.c_uint] + [CTYPE[kind] for kind, _ in signature]
    return so


def _ptr(a):
    return a.ctypes.data_as(ctypes.POINTER(ctypes.c_double))


def cpu_bilinear(lib, w, x, c):
    w, x = np.ascontiguousarray(w, dtype=np.float64), np.ascontiguousarray(x, dtype=np.float64)
    wo, xo = np.empty_like(w), np.empty_like(x)
    cost = lib.btf_cpu_bilinear(_ptr(w), _ptr(x), len(w), float(c), _ptr(wo), _ptr(xo))
    return wo, xo, cost


def cpu_trio(lib, w, x, y, delta):
    w, x = np.ascontiguousarray(w, dtype=np.float64), np.ascontiguousarray(x, dtype=np.float64)
    wo, xo = np.empty_like(w), np.empty_like(x)
    yo = lib.btf_cpu_trio(_ptr(w), _ptr(x), len(w), float(y), float(delta), _ptr(wo), _ptr(xo))
    return wo, xo, yo


def kernel_args(args, signature=KERNEL_SIGNATURE):
    """ctypes values for a kernel's parameters, checking kinds, dtypes and contiguity as the GPU needs
    them (pointers: C-contiguous arrays of the declared dtype; scalars: numpy int64 / float64)."""
    assert len(args) == len(signature), f"{len(args)} kernel arguments, expected {len(signature)}"
    out = []
    for k, (a, (kind, dtype)) in enumerate(zip(args, signature)):
        if kind == P:
            assert isinstance(a, np.ndarray) and a.dtype == dtype and a.flags.c_contiguous, (k, type(a))
            out.append(a.ctypes.data)
        elif kind == I64:
            assert isinstance(a, np.int64), (k, type(a))
            out.append(int(a))
        else:
            assert isinstance(a, np.float64), (k, type(a))
            out.append(float(a))
    return out


def fake_cupy(lib, devices=1):
    """A module that quacks like cupy for CupyBackend and the device tests: arrays are NumPy copies
    ("device" memory), RawModule kernels are the CPU builds of the same kernels, launched over their
    grid. It records the launched kernel names (``launches``) and each RawModule's options
    (``module_options``)."""
    cp = types.ModuleType("cupy")
    cp.ndarray = np.ndarray
    cp.asarray = lambda a, dtype=None: np.array(a, dtype=dtype, copy=True)
    cp.asnumpy = lambda a: np.array(a, copy=True)
    cp.empty = lambda shape, dtype=np.float64: np.empty(shape, dtype)
    cp.zeros = lambda shape, dtype=np.float64: np.zeros(shape, dtype)
    cp.launches = []
    cp.module_options = []

    class RawModule:
        def __init__(self, code, options=(), **kw):
            assert '#include "btf_math.cuh"' not in code and "btf_trial_run" in code  # self-contained for NVRTC
            assert isinstance(options, tuple) and all(isinstance(o, str) for o in options), options
            cp.source = code
            cp.module_options.append(options)

        def get_function(self, name):
            fn, signature = getattr(lib, "cpu_" + name), SIGNATURES[name]

            def launch(grid, block, args):
                assert len(grid) == 1 and len(block) == 1 and 1 <= block[0] <= 1024 and grid[0] >= 1
                cp.launches.append(name)
                fn(int(grid[0]), int(block[0]), *kernel_args(args, signature))
            return launch

    def device_count():
        if isinstance(devices, Exception):
            raise devices
        return devices

    cp.RawModule = RawModule
    cp.cuda = types.SimpleNamespace(runtime=types.SimpleNamespace(getDeviceCount=device_count))
    return cp


# ------------------------------------------------------------------------------------------ cases
def degenerate_pairs(rng, m):
    """(w, x) pairs where the projection's special cases live: on the pole/axes (w = +-x, zeros),
    tiny vectors, a pole vector that is zero up to rounding."""
    v = rng.normal(size=m)
    z = np.zeros(m)
    e0 = np.eye(m)[0]
    return [(v, v.copy()), (v, -v), (z, z.copy()), (z, v), (v, z.copy()), (v * 1e-20, -v * 1e-20),
            (v, -v + 1e-16 * rng.normal(size=m)), (e0, e0.copy()), (e0, -e0), (e0, np.roll(e0, 1))]


def bilinear_cases(rng):
    """(w, x, c) cases of the bilinear projection: random, degenerate pairs at several levels, the level
    already met, an unreachable level."""
    cases = []
    for _ in range(300):
        m = int(rng.integers(1, 8))
        cases.append((rng.normal(size=m) * rng.choice([1e-3, 0.1, 1, 5]), rng.normal(size=m),
                      float(rng.normal() * 3)))
    for m in (1, 2, 5):
        for w, x in degenerate_pairs(rng, m):
            for c in (-2.0, -0.1, 0.0, 0.1, 2.0, float(w @ x)):   # last: the level already met
                cases.append((w, x, c))
    cases.append((np.array([1.0, 0.0]), np.array([-1.0, 0.0]), 1.0))  # unreachable level (limit point)
    return cases


def trio_cases(rng):
    """(w, x, y, delta) cases of the trio projection: random, degenerate pairs with several y, margins met
    exactly (y p = delta) and exactly missed on the other sign, exact ties between the signs."""
    cases = [(rng.normal(size=m), rng.normal(size=m), float(rng.uniform(-1.5, 1.5)), np.sqrt(m / 3.0))
             for m in rng.integers(1, 9, size=400)]
    for m in (2, 3, 5):
        delta = np.sqrt(m / 3.0)
        for w, x in degenerate_pairs(rng, m):
            for y in (-1.0, -0.3, 0.0, 0.3, 1.0):
                cases.append((w, x, y, delta))
        w = np.full(m, 1.0)
        x = np.full(m, delta / m)
        for y in (-1.0, 0.0, 0.5, 1.0):
            cases += [(w, x, y, float(w @ x)), (w, -x, y, float(w @ x))]
    cases.append((np.array([1.0, 1.0, 0.0]), np.array([1.0, 1.0, 1.0]), 0.5, 2.0))
    return cases


def trio_cost(w, x, y, wp, xp, yp):
    """Squared distance from (w, x, y) to a candidate (wp, xp, yp) of the trio projection."""
    return (yp - y) ** 2 + np.sum((wp - w) ** 2) + np.sum((xp - x) ** 2)


# ------------------------------------------------------------------------------------ whole runs
def start_state(arch, data, T, seed, mode, dtype=np.float64):
    """(kernel graph, SolverState) of T running trials from the reference's seeded initial state."""
    net = parse_arch(arch)
    graph = kernel_graph(net, 3.0)
    st = SolverState.empty(T, data.n_items, net.n_edges, net.n_nodes, np.dtype(dtype))
    st.zw[:], st.zx[:], st.zy[:], st.g[:] = ref.initial_state(np.random.default_rng(seed), T, data.n_items, graph,
                                                              data.inputs, data.outputs, mode)
    st.status[:] = RUNNING
    st.gapstop[:] = 0.0
    return graph, st
