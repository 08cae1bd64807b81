"""The CUDA kernels on a GPU, against the NumPy reference (kernels/reference.py) and the Numba backend.

Where CuPy imports and sees a CUDA device, every test here runs the real kernels, compiled by NVRTC
through cupy.RawModule, once with NVRTC's default (fused multiply-adds) and once with --fmad=false.
Elsewhere the same test bodies run on the CPU build of the same source behind the fake cupy of
tests/cuda_harness.py (test ids say which: ``device`` or ``cpu-harness``), so the tests themselves are
checked on every run and a GPU only adds the device. Without a C++ compiler for the harness either,
the module is skipped; with BTFLEARN_CUDA_TESTS=device, a missing device is an error instead.

Tolerances. float64: 1e-9 absolute, as tests/test_cuda_math.py. Without fused multiply-adds the device
rounds as the CPU harness (built with -ffp-contract=off); with them, single operations differ in the
last bit (1e-16 relative) and a few iterations of these small nets keep that far below 1e-9, unless a
rounding flips a discrete choice (a sign or tie of a projection), which these states avoid except where a
tie is exact for both (symmetric states). float32 (the host stores the state in float32): the device
still computes in float64 (CupyBackend uploads exact float64 copies), so it follows a float64 reference
started from the same float32 numbers to 1e-9, and the only float32 error is the download of the state
into the host's float32 arrays: one rounding to nearest, at most half a float32 ulp, 2^-24 relative.
The check allows 2^-23 relative (one ulp) plus 1e-9.

With BTFLEARN_CUDA_REPORT=path the module writes the largest deviation every comparison measured
(JSON), so a device run reports how far the FMA and no-FMA builds are from the reference.
"""
import json
import os
import sys

import numpy as np
import pytest

from btflearn import fit, parse_arch
from btflearn.backends import (AT_MAX_ITER, BELOW_GAPSTOP, RUNNING, KernelSpec, NumpyBackend, cupy_problem,
                               make_backend)
from btflearn.cupy_backend import CupyBackend, kernel_source, nvrtc_options
from btflearn.kernels import reference as ref
from btflearn.kernels.graph import INPUT_BINARY, INPUT_DATA, INPUT_ONEHOT, kernel_graph
from btflearn.tasks import multiplier, random_decoder
from cuda_harness import bilinear_cases, compiler, fake_cupy, start_state, trio_cases, trio_cost

DEVICE_PROBLEM = cupy_problem()   # None: CuPy imports and sees a CUDA device
KIND = "device" if DEVICE_PROBLEM is None else "cpu-harness"
# BTFLEARN_CUDA_TESTS=device: a GPU check, where passing on the CPU harness instead would hide a problem
REQUIRE_DEVICE = os.environ.get("BTFLEARN_CUDA_TESTS") == "device"
if DEVICE_PROBLEM is not None and REQUIRE_DEVICE:
    pytest.fail(f"BTFLEARN_CUDA_TESTS=device, but there is no CUDA device: {DEVICE_PROBLEM}", pytrace=False)
if DEVICE_PROBLEM is not None and compiler() is None:
    pytest.skip(f"no CUDA device ({DEVICE_PROBLEM}) and no C++ compiler to build the CPU harness instead",
                allow_module_level=True)

pytestmark = pytest.mark.cuda
ATOL = 1e-9
F32_RTOL = 2.0 ** -23
FMAD = pytest.mark.parametrize("fmad", [False, True], ids=["no-fmad", "fmad"])
LAYOUT = pytest.mark.parametrize("layout", ["trial", "grid"])
REPORT: dict = {}


@pytest.fixture(scope="module", params=[KIND])
def cuda(request):
    """The cupy module the tests run on: the real one on a GPU, else the CPU harness behind a fake."""
    if KIND == "device":
        import cupy
        return cupy
    return fake_cupy(request.getfixturevalue("cuda_cpu_lib"))


@pytest.fixture
def cupy_module(cuda, monkeypatch):
    """``cuda``, also as what ``import cupy`` gives CupyBackend (the fake's records start empty)."""
    if KIND != "device":
        monkeypatch.setitem(sys.modules, "cupy", cuda)
        cuda.launches.clear()
        cuda.module_options.clear()
    return cuda


@pytest.fixture(scope="module", autouse=True)
def deviation_report():
    yield
    path = os.environ.get("BTFLEARN_CUDA_REPORT")
    if path:
        with open(path, "w") as f:
            json.dump(dict(kind=KIND, device=_device_info(), max_abs_deviation=REPORT), f, indent=1)


def _device_info() -> dict:
    if KIND != "device":
        return {}
    import cupy
    info = dict(cupy=cupy.__version__)
    try:
        props = cupy.cuda.runtime.getDeviceProperties(0)
        name = props.get("name", b"")
        info.update(name=name.decode() if isinstance(name, bytes) else str(name),
                    compute_capability=f"{props.get('major')}.{props.get('minor')}",
                    runtime=cupy.cuda.runtime.runtimeGetVersion(), driver=cupy.cuda.runtime.driverGetVersion())
    except Exception as exc:  # noqa: BLE001  the report is a by-product; the tests decide
        info["error"] = repr(exc)
    return info


@pytest.fixture
def close(request):
    """close(what, got, want, rtol=0): assert |got - want| <= ATOL + rtol |want| and record the largest
    deviation under the test's id; close.note(what, value) records a value."""
    entry = REPORT.setdefault(request.node.name, {})

    def check(what, got, want, rtol=0.0):
        got, want = np.asarray(got, dtype=np.float64), np.asarray(want, dtype=np.float64)
        assert got.shape == want.shape, (what, got.shape, want.shape)
        assert np.all(np.isfinite(got)), what
        dev = float(np.max(np.abs(got - want))) if got.size else 0.0
        entry[what] = max(entry.get(what, 0.0), dev)
        np.testing.assert_allclose(got, want, rtol=rtol, atol=ATOL, err_msg=what)
    check.note = entry.__setitem__
    return check


def _nvrtc_ptx(source, options):
    """PTX of ``source`` from CuPy's NVRTC bindings for compute_90 (no device needed)."""
    try:
        from cupy.cuda import nvrtc
        prog = nvrtc.createProgram(source, "btf.cu", [], [])
    except Exception as exc:  # noqa: BLE001  no CuPy, or no NVRTC library
        (pytest.fail if REQUIRE_DEVICE else pytest.skip)(f"needs CuPy's NVRTC ({type(exc).__name__}: {exc})")
    try:
        nvrtc.compileProgram(prog, list(options) + ["-arch=compute_90"])
        ptx = nvrtc.getPTX(prog)
    except Exception:
        raise AssertionError(nvrtc.getProgramLog(prog))
    finally:
        nvrtc.destroyProgram(prog)
    return ptx.decode() if isinstance(ptx, bytes) else ptx


def test_nvrtc_compiles_the_kernels_with_and_without_fused_multiply_adds():
    """The fmad setting reaches the code: NVRTC's default fuses double multiply-adds, --fmad=false none."""
    for name in ("rrr_kernels.cu", "projection_kernels.cu"):
        fused = _nvrtc_ptx(kernel_source(name), nvrtc_options(True)).count("fma.rn.f64")
        plain = _nvrtc_ptx(kernel_source(name), nvrtc_options(False)).count("fma.rn.f64")
        assert fused > 0 and plain == 0, (name, fused, plain)


# ----------------------------------------------------------------------------- single projections
def _pack(cases, cp):
    """Cases (w, x, a[, b]) as the device arrays of projection_kernels.cu (rows of ld entries)."""
    n, ld = len(cases), max(len(c[0]) for c in cases)
    w, x = np.zeros((n, ld)), np.zeros((n, ld))
    for k, c in enumerate(cases):
        w[k, :len(c[0])], x[k, :len(c[0])] = c[0], c[1]
    m = np.array([len(c[0]) for c in cases], dtype=np.int64)
    a = np.array([c[2] for c in cases], dtype=np.float64)
    b = np.array([c[3] if len(c) > 3 else 0.0 for c in cases], dtype=np.float64)
    dev = [cp.asarray(v) for v in (w, x, m, a, b)]
    outs = [cp.zeros((n, ld), dtype=np.float64), cp.zeros((n, ld), dtype=np.float64), cp.zeros(n, dtype=np.float64)]
    return dev + [np.int64(n), np.int64(ld)] + outs


def _launch_cases(cp, name, cases, fmad):
    module = cp.RawModule(code=kernel_source("projection_kernels.cu"), options=nvrtc_options(fmad))
    args = _pack(cases, cp)
    block = 128
    module.get_function(name)(((len(cases) + block - 1) // block,), (block,), tuple(args))
    return [cp.asnumpy(a) for a in args[-3:]]


@FMAD
def test_bilinear_cases_match_the_reference(cuda, close, fmad):
    cases = bilinear_cases(np.random.default_rng(11))
    wo, xo, cost = _launch_cases(cuda, "btf_bilinear_cases_kernel", cases, fmad)
    for k, (w, x, c) in enumerate(cases):
        wr, xr = ref.bilinear_project(w, x, c)
        m = len(w)
        close("w", wo[k, :m], wr)
        close("x", xo[k, :m], xr)
        close("cost", cost[k], np.sum((wr - w) ** 2) + np.sum((xr - x) ** 2))


@FMAD
def test_trio_cases_match_the_reference(cuda, close, fmad):
    cases = trio_cases(np.random.default_rng(12))
    # exact ties between the signs, and margins met exactly (the trio must stay bit for bit)
    z, w1, x1 = np.zeros(3), np.array([1.0, 1.0, 0.0]), np.array([1.0, 1.0, 1.0])
    cases += [(z, z, 0.0, 1.0), (z, z, 1.0, 1.0), (w1, x1, 0.5, 2.0), (w1, -x1, 0.0, 2.0)]
    wo, xo, yo = _launch_cases(cuda, "btf_trio_cases_kernel", cases, fmad)
    flips = 0
    for k, (w, x, y, delta) in enumerate(cases):
        wr, xr, yr = ref.btf_project(w, x, y, delta)
        m = len(w)
        wc, xc, yc = wo[k, :m], xo[k, :m], yo[k]
        assert yc in (-1.0, 1.0)
        if yc != yr:   # only an exact tie between the two signs may break differently under rounding
            flips += 1
            assert trio_cost(w, x, y, wc, xc, yc) == pytest.approx(trio_cost(w, x, y, wr, xr, yr), abs=1e-12)
            continue
        close("w", wc, wr)
        close("x", xc, xr)
    close.note("sign flips at ties", flips)
    ties = yo[-4:-2]
    assert list(ties) == [1.0, 1.0]                      # exact ties go to +1, as in the reference
    assert np.array_equal(wo[-2, :3], w1) and np.array_equal(xo[-2, :3], x1) and yo[-2] == 1.0
    assert np.array_equal(wo[-1, :3], w1) and np.array_equal(xo[-1, :3], -x1) and yo[-1] == -1.0


# ------------------------------------------------------------------------------ whole runs
# (arch, input mode, multiplier bits or a decoder, block): every input mode; a 3x3 net with 32 threads per
# block, so a block's threads stride over items and nodes (64 items, 42 BTF nodes)
RUNS = pytest.mark.parametrize("arch,mode,bits,block", [
    ("4-4-4-4", INPUT_DATA, 2, None), ("dense:4-5-3-4", INPUT_DATA, 2, None), ("4-6-4", INPUT_BINARY, 2, None),
    ("4-6-4", INPUT_ONEHOT, 2, None), ("6-12-12-12-6", INPUT_DATA, 3, 32)],
    ids=["2x2", "dense", "binary", "onehot", "3x3-block32"])


def _pair(arch, data, T, seed, mode, dtype):
    """(graph, device-side state in ``dtype``, float64 reference state with the same numbers)."""
    graph, st_c = start_state(arch, data, T, seed, mode, dtype)
    _, st_r = start_state(arch, data, T, seed, mode)
    for key in ("zw", "zx", "zy", "g"):
        getattr(st_r, key)[...] = getattr(st_c, key)   # float32 values are exact in float64
    return graph, st_c, st_r


def _compare_runs(close, eng, reference, st_c, st_r, calls, frozen_slot=None):
    """Advance both by each n of ``calls``; after every call the gaps, weights, bookkeeping and the whole
    state (fetched from the device) agree."""
    rtol = F32_RTOL if st_c.zw.dtype == np.float32 else 0.0
    live = [t for t in range(st_c.zw.shape[0]) if t != frozen_slot]
    for n in calls:
        close("gap", eng.run(st_c, n), reference.run(st_r, n))
        assert list(st_c.iters) == list(st_r.iters) and list(st_c.status) == list(st_r.status)
        close("wb", st_c.wb[live], st_r.wb[live])
        eng.sync_state(st_c)
        for key in ("zw", "zx", "zy", "g"):
            close(key, getattr(st_c, key), getattr(st_r, key), rtol)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@FMAD
@LAYOUT
@RUNS
def test_backend_matches_the_reference_iteration_by_iteration(cupy_module, close, arch, mode, bits, block,
                                                               layout, fmad, dtype):
    data = multiplier(bits)
    graph, st_c, st_r = _pair(arch, data, 3, 7, mode, dtype)
    for st in (st_c, st_r):
        st.status[1] = AT_MAX_ITER            # a stopped trial must not move
    frozen = st_c.zw[1].copy()
    spec = KernelSpec(graph, data.inputs, data.outputs, mode, 0.3, 1e-2, 10 ** 9)
    eng = CupyBackend(spec, layout=layout, block=block, fmad=fmad)
    assert eng.layout(*st_c.zw.shape) == layout
    # one iteration per call (the state after every iteration), then several in one call
    _compare_runs(close, eng, NumpyBackend(spec), st_c, st_r, (1, 1, 1, 1, 7), frozen_slot=1)
    assert np.array_equal(st_c.zw[1], frozen) and list(st_c.iters) == [11, 0, 11]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@FMAD
@LAYOUT
def test_stopping_rules_and_restarts_match_the_reference(cupy_module, close, layout, fmad, dtype):
    """max_iter and gapstop end trials inside a call; a slot restarted the solver's way (host state,
    iters 0, RUNNING) is uploaded alone, and a host edit reaches the device when marked dirty."""
    data = multiplier(2)
    graph, st_c, st_r = _pair("4-4-4-4", data, 3, 3, INPUT_DATA, dtype)
    for st in (st_c, st_r):
        st.iters[:] = [0, 5, 0]
        st.gapstop[:] = [0.0, 0.0, 10.0]     # trial 2 stops after its first iteration
    spec = KernelSpec(graph, data.inputs, data.outputs, INPUT_DATA, 0.2, 1e-3, 9)
    eng, reference = CupyBackend(spec, layout=layout, fmad=fmad), NumpyBackend(spec)
    _compare_runs(close, eng, reference, st_c, st_r, (6,))
    assert list(st_c.iters) == [6, 9, 1] and list(st_c.status) == [RUNNING, AT_MAX_ITER, BELOW_GAPSTOP]
    _, fresh, _ = _pair("4-4-4-4", data, 1, 99, INPUT_DATA, dtype)
    for st in (st_c, st_r):                   # restart slot 1
        st.zw[1], st.zx[1], st.zy[1], st.g[1] = fresh.zw[0], fresh.zx[0], fresh.zy[0], fresh.g[0]
        st.iters[1], st.status[1] = 0, RUNNING
    _compare_runs(close, eng, reference, st_c, st_r, (2,))
    st_c.zw[0] *= 0.5                         # a host edit of a running slot (its synced state) ...
    for key in ("zw", "zx", "zy", "g"):       # ... from the same numbers in the reference
        getattr(st_r, key)[0] = getattr(st_c, key)[0]
    eng.mark_dirty([0])
    _compare_runs(close, eng, reference, st_c, st_r, (1, 2))


def _degenerate(graph, st):
    """Slots whose first projections hit the special cases: 0 all-zero w and x, 1 w = x, 2 w = -x,
    3 every margin met exactly (w = e0, x0 = delta sign y), 4 exact ties (w = x = 0, y = 0), 5 tiny
    vectors (1e-20)."""
    lo, hi, first = graph.in_start, graph.in_start[1:], graph.first_btf
    st.zw[0] = st.zx[0] = 0.0
    st.zx[1] = st.zw[1]
    st.zx[2] = -st.zw[2]
    for n in range(first, len(hi)):
        y = st.zy[3, :, n]
        y[y == 0] = 1.0
        st.zw[3, :, lo[n]:hi[n]] = 0.0
        st.zw[3, :, lo[n]] = 1.0
        st.zx[3, :, lo[n]] = graph.delta[n] * np.sign(y)
    st.zw[4] = st.zx[4] = 0.0
    st.zy[4, :, first:] = 0.0
    st.zw[5] *= 1e-20
    st.zx[5] *= -1e-20


@FMAD
@LAYOUT
def test_degenerate_states_match_the_reference(cupy_module, close, layout, fmad):
    data = multiplier(2)
    graph, st_c, st_r = _pair("4-4-4-4", data, 6, 5, INPUT_DATA, "float64")
    _degenerate(graph, st_c)
    for key in ("zw", "zx", "zy", "g"):
        getattr(st_r, key)[...] = getattr(st_c, key)
    spec = KernelSpec(graph, data.inputs, data.outputs, INPUT_DATA, 0.3, 1e-2, 10 ** 9)
    eng = CupyBackend(spec, layout=layout, fmad=fmad)
    _compare_runs(close, eng, NumpyBackend(spec), st_c, st_r, (1, 1, 3))


@FMAD
@LAYOUT
def test_gate_projection_matches_the_reference(cupy_module, close, layout, fmad):
    """The support (gate) projection of the concurred weights: mixed supports per node, one node off."""
    data = multiplier(2)
    net = parse_arch("dense:4-5-3-4")
    support = np.zeros(net.n_nodes, dtype=np.int64)
    support[net.first_btf:] = [3, 5, 1, 3, 3, 5, 3, 0, 3, 5, 3, 7]
    _, st_c, st_r = _pair("dense:4-5-3-4", data, 2, 11, INPUT_DATA, "float64")
    graph = kernel_graph(net, 3.0, support)
    spec = KernelSpec(graph, data.inputs, data.outputs, INPUT_DATA, 0.3, 1e-2, 10 ** 9)
    _compare_runs(close, CupyBackend(spec, layout=layout, fmad=fmad), NumpyBackend(spec), st_c, st_r, (1, 4))
    n = net.first_btf + 1   # support 5: five equal nonzero weights
    w = st_c.wb[0, net.in_start[n]:net.in_start[n + 1]]
    assert np.count_nonzero(w) == 5 and np.allclose(np.abs(w[w != 0]), np.sqrt(len(w) / 5))


# ------------------------------------------------------------------------------------------ fit
FITS = [(lambda: multiplier(2), "4-4-4-4"), (lambda: random_decoder(6, 6, 3, seed=1), "3-6-6")]
FIT_KW = dict(max_iter=120, trials=4, batch=2, seed=3, stop_on_first=False, gamma=1e-2)


@pytest.fixture(scope="module")
def numba_fits():
    return [fit(make(), arch=arch, backend="numba", **FIT_KW) for make, arch in FITS]


def _cupy_options(monkeypatch, **options):
    """Make fit's backend (btflearn.solver.make_backend) a CupyBackend with these options."""
    import btflearn.solver as solver
    monkeypatch.setattr(solver, "make_backend", lambda name, spec, **kw: make_backend(name, spec, **dict(kw, **options)))


@FMAD
@LAYOUT
def test_fit_with_cupy_equals_numba(cupy_module, monkeypatch, close, numba_fits, layout, fmad):
    """The solver drives the device (restarted slots uploaded, read-outs from downloaded weights) to the
    same trials as the Numba backend; the decoder's free inputs exercise the input-value download."""
    _cupy_options(monkeypatch, layout=layout, fmad=fmad)
    for (make, arch), r_numba in zip(FITS, numba_fits):
        r_cupy = fit(make(), arch=arch, backend="cupy", **FIT_KW)
        assert r_cupy.backend == "cupy" and len(r_cupy.trials) == 4
        for a, b in zip(r_cupy.trials, r_numba.trials):
            assert (a.trial, a.iterations, a.solved) == (b.trial, b.iterations, b.solved)
            assert a.gap == pytest.approx(b.gap, abs=1e-7)
            np.testing.assert_allclose(a.weights, b.weights, rtol=0, atol=1e-7)
            close("weights", a.weights, b.weights)
            if b.codes is not None:
                np.testing.assert_array_equal(a.codes, b.codes)
    if KIND != "device":   # the options reached the backend fit built
        assert ("btf_item_pass_kernel" in cupy_module.launches) == (layout == "grid")
        assert cupy_module.module_options[-1] == nvrtc_options(fmad)


@LAYOUT
def test_fit_with_cupy_solves_the_2x2(cupy_module, monkeypatch, layout):
    """A whole run to a verified solution with the 2x2's default settings, in float64 and float32."""
    from btflearn.tasks import multiplier_spec
    _cupy_options(monkeypatch, layout=layout)
    settings = multiplier_spec(2).settings()
    for dtype in ("float64", "float32"):
        r = fit(multiplier(2), backend="cupy", seed=0, **dict(settings, dtype=dtype))
        assert r.solved and r.backend == "cupy", (dtype, r.iterations)

