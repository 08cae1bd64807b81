"""The GPU kernels' maths, checked without a GPU (tests/test_cuda_device.py runs the same comparisons
on a GPU where there is one).

kernels/cuda/cpu_harness.cpp includes rrr_kernels.cu (and through it btf_math.cuh) with the CUDA
built-ins emulated, so the host C++ compiler builds the exact kernel source the GPU runs. Here it is
compiled into a temporary shared library, loaded with ctypes and compared with the NumPy reference
(kernels/reference.py) to 1e-9: single projections on random and degenerate inputs, whole RRR runs
iteration by iteration in both launch layouts and all input modes. A fake ``cupy`` module that runs
those CPU kernels then drives btflearn.cupy_backend.CupyBackend through make_backend and fit (upload of
restarted slots, downloads, launch arguments). nvcc, when on PATH, compiles the CUDA source with
warnings as errors.
"""
import os
import re
import shutil
import subprocess
import sys
import types

import numpy as np
import pytest

from btflearn import fit, parse_arch
from btflearn import backends
from btflearn.backends import (AT_MAX_ITER, CUPY_MIN_BATCH, RUNNING, KernelSpec, NumbaBackend, NumpyBackend,
                               cupy_available, make_backend, resolve_backend)
from btflearn.cupy_backend import GRID_MIN_TRIAL_ITEMS, NO_FMAD, CupyBackend, kernel_source
from btflearn.errors import BtfError
from btflearn.kernels import reference as ref
from btflearn.kernels.graph import INPUT_BINARY, INPUT_DATA, INPUT_ONEHOT, kernel_graph
from btflearn.tasks import multiplier, random_decoder
from cuda_harness import (CUDA, bilinear_cases, cpu_bilinear, cpu_trio, fake_cupy, kernel_args, start_state,
                          trio_cases, trio_cost)


@pytest.fixture(scope="module")
def lib(cuda_cpu_lib):
    return cuda_cpu_lib


# ------------------------------------------------------------------------------------------ cases
def test_constants_and_status_codes_match_the_reference():
    text = (CUDA / "btf_math.cuh").read_text()
    define = lambda name: float(re.search(rf"#define {name} (\S+)", text).group(1))  # noqa: E731
    assert define("BTF_NEWTON_MAXIT") == ref.NEWTON_MAXIT
    assert define("BTF_NEWTON_RTOL") == ref.NEWTON_RTOL
    assert define("BTF_DEGENERATE") == ref.DEGENERATE
    assert (define("BTF_RUNNING"), define("BTF_BELOW_GAPSTOP"), define("BTF_AT_MAX_ITER")) == (0, 1, 2)
    assert (define("BTF_INPUT_DATA"), define("BTF_INPUT_BINARY"), define("BTF_INPUT_ONEHOT")) == \
        (INPUT_DATA, INPUT_BINARY, INPUT_ONEHOT)


def test_header_is_plain_c99_too(tmp_path):
    cc = shutil.which(os.environ.get("CC") or "cc") or shutil.which("gcc")
    if cc is None:
        pytest.skip("no C compiler")
    src = tmp_path / "c99.c"
    src.write_text('#include "btf_math.cuh"\nint main(void) { return btf_trio_project(0, 0, 1, 0, 0.0, 0.0, 0, 0, 1) > 0; }\n')
    res = subprocess.run([cc, "-std=c99", "-Wall", "-Wextra", "-Werror", "-I", str(CUDA), "-c", str(src), "-o",
                          str(tmp_path / "c99.o")], capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stderr


def test_bilinear_equals_reference_on_random_and_degenerate_inputs(lib):
    cases = bilinear_cases(np.random.default_rng(11))
    for w, x, c in cases:
        wr, xr = ref.bilinear_project(w, x, c)
        wc, xc, cost = cpu_bilinear(lib, w, x, c)
        assert np.all(np.isfinite(wc)) and np.all(np.isfinite(xc)) and np.isfinite(cost)
        np.testing.assert_allclose(wc, wr, rtol=0, atol=1e-9)
        np.testing.assert_allclose(xc, xr, rtol=0, atol=1e-9)
        assert cost == pytest.approx(np.sum((wr - w) ** 2) + np.sum((xr - x) ** 2), abs=1e-9)


def test_trio_projection_equals_reference_on_random_and_degenerate_states(lib):
    cases = trio_cases(np.random.default_rng(12))
    for w, x, y, delta in cases:
        wr, xr, yr = ref.btf_project(w, x, y, delta)
        wc, xc, yc = cpu_trio(lib, w, x, y, delta)
        assert np.all(np.isfinite(wc)) and np.all(np.isfinite(xc)) and yc in (-1.0, 1.0)
        if yc != yr:
            # only an exact tie between the two signs may break differently under rounding
            assert trio_cost(w, x, y, wc, xc, yc) == pytest.approx(trio_cost(w, x, y, wr, xr, yr), abs=1e-12)
            continue
        np.testing.assert_allclose(wc, wr, rtol=0, atol=1e-9)
        np.testing.assert_allclose(xc, xr, rtol=0, atol=1e-9)


def test_margin_met_exactly_keeps_the_trio_bit_for_bit(lib):
    w, x = np.array([1.0, 1.0, 0.0]), np.array([1.0, 1.0, 1.0])
    wc, xc, yc = cpu_trio(lib, w, x, 0.5, 2.0)
    assert yc == 1.0 and np.array_equal(wc, w) and np.array_equal(xc, x)
    wc, xc, yc = cpu_trio(lib, w, -x, 0.0, 2.0)
    assert yc == -1.0 and np.array_equal(wc, w) and np.array_equal(xc, -x)
    z = np.zeros(3)
    for y in (0.0, 1.0):   # an exact tie between the signs goes to +1, as in the reference
        wr, xr, yr = ref.btf_project(z, z, y, 1.0)
        wc, xc, yc = cpu_trio(lib, z, z, y, 1.0)
        assert yc == yr == 1.0 and np.allclose(wc, wr, atol=1e-12) and np.allclose(xc, xr, atol=1e-12)


# ------------------------------------------------------------------------------------ whole runs
class CpuRun:
    """btf_cpu_rrr_run on a device-layout copy of a SolverState (item axis last)."""

    def __init__(self, lib, graph, st, inputs, labels, mode, beta, gamma, max_iter, trial_layout):
        self.lib, self.graph, self.mode = lib, graph, mode
        self.beta, self.gamma, self.max_iter, self.trial_layout = beta, gamma, max_iter, trial_layout
        T, N, E = st.zw.shape
        V = st.zy.shape[2]
        tr = lambda a: np.ascontiguousarray(a.transpose(0, 2, 1))  # noqa: E731
        self.d = dict(zw=tr(st.zw), zx=tr(st.zx), zy=tr(st.zy), g=tr(st.g), wa=np.zeros((T, E, N)),
                      xa=np.zeros((T, E, N)), ya=np.zeros((T, V, N)), gap_node=np.zeros((T, V, N)),
                      wb=np.zeros((T, E)), item_gap=np.zeros((T, N)), pending=np.zeros(T))
        self.iters = st.iters.astype(np.int64).copy()
        self.status = st.status.astype(np.int64).copy()
        self.gapstop = st.gapstop.astype(np.float64).copy()
        n_in = graph.first_btf - 1
        inputs = np.asarray(inputs, np.float64)
        self.inputs = np.ascontiguousarray(inputs if inputs.size == N * n_in else np.zeros((N, n_in)))
        self.labels = np.ascontiguousarray(labels, dtype=np.float64)
        self.shape = (T, N, E, V)

    def run(self, n_iter):
        T, N, E, V = self.shape
        G, d = self.graph, self.d
        gap_out = np.empty((T, max(n_iter, 1)))
        args = (d["zw"], d["zx"], d["zy"], d["g"], d["wa"], d["xa"], d["ya"], d["gap_node"], d["wb"], d["item_gap"],
                G.recv, G.in_start, G.out_start, G.out_edges, G.delta,
                np.zeros(V, np.int64) if G.support is None else G.support, self.inputs, self.labels, self.iters,
                self.status, self.gapstop, d["pending"], gap_out, *map(np.int64, (
                    T, N, E, V, G.first_btf, G.first_output, self.mode, self.max_iter, gap_out.shape[1])),
                np.float64(self.beta), np.float64(self.gamma), np.int64(n_iter))
        self.lib.btf_cpu_rrr_run(int(self.trial_layout), *kernel_args(args))
        return gap_out[:, :n_iter]

    def host(self, key):
        return self.d[key].transpose(0, 2, 1)


def _assert_same_state(run, st, frozen_slot=None):
    for key in ("zw", "zx", "zy", "g"):
        got = run.host(key)
        assert np.all(np.isfinite(got))
        np.testing.assert_allclose(got, getattr(st, key), rtol=0, atol=1e-9, err_msg=key)
    live = [t for t in range(st.zw.shape[0]) if t != frozen_slot]
    np.testing.assert_allclose(run.d["wb"][live], st.wb[live], rtol=0, atol=1e-9)
    assert list(run.iters) == list(st.iters) and list(run.status) == list(st.status)


@pytest.mark.parametrize("trial_layout", [0, 1], ids=["grid", "trial"])
@pytest.mark.parametrize("arch,mode", [("4-4-4-4", INPUT_DATA), ("dense:4-5-3-4", INPUT_DATA),
                                       ("4-6-4", INPUT_BINARY), ("4-6-4", INPUT_ONEHOT)])
def test_rrr_run_matches_reference_iteration_by_iteration(lib, arch, mode, trial_layout):
    data = multiplier(2)
    graph, st = start_state(arch, data, 3, 7, mode)
    st.status[1] = AT_MAX_ITER            # a stopped trial must not move
    frozen = st.zw[1].copy()
    args = (graph, data.inputs, data.outputs, mode, 0.3, 1e-2, 10 ** 9)
    run = CpuRun(lib, *args[:1], st, *args[1:], trial_layout=trial_layout)
    reference = NumpyBackend(KernelSpec(*args))
    for _ in range(4):                    # one iteration per call: state after every iteration
        gap_c = run.run(1)
        gap_r = reference.run(st, 1)
        np.testing.assert_allclose(gap_c, gap_r, rtol=0, atol=1e-9)
        _assert_same_state(run, st, frozen_slot=1)
    gap_c = run.run(7)                    # several iterations in one call (pending metric updates)
    gap_r = reference.run(st, 7)
    np.testing.assert_allclose(gap_c, gap_r, rtol=0, atol=1e-9)
    assert np.all(gap_c[1] == -1.0) and np.all(gap_c[[0, 2]] > 0)
    _assert_same_state(run, st, frozen_slot=1)
    assert np.array_equal(run.host("zw")[1], frozen) and list(run.iters) == [11, 0, 11]


@pytest.mark.parametrize("trial_layout", [0, 1], ids=["grid", "trial"])
def test_gate_projection_matches_reference(lib, trial_layout):
    """The support (gate) projection of the concurred weights, mixed supports per node, one node off."""
    data = multiplier(2)
    net = parse_arch("dense:4-5-3-4")
    support = np.zeros(net.n_nodes, dtype=np.int64)
    support[net.first_btf:] = [3, 5, 1, 3, 3, 5, 3, 0, 3, 5, 3, 7]
    _, st = start_state("dense:4-5-3-4", data, 2, 11, INPUT_DATA)
    graph = kernel_graph(net, 3.0, support)
    args = (graph, data.inputs, data.outputs, INPUT_DATA, 0.3, 1e-2, 10 ** 9)
    run = CpuRun(lib, *args[:1], st, *args[1:], trial_layout=trial_layout)
    gap_c = run.run(5)
    gap_r = NumpyBackend(KernelSpec(*args)).run(st, 5)
    np.testing.assert_allclose(gap_c, gap_r, rtol=0, atol=1e-9)
    _assert_same_state(run, st)
    n = net.first_btf + 1   # support 5: five equal nonzero weights
    lo, hi = net.in_start[n], net.in_start[n + 1]
    w = run.d["wb"][0, lo:hi]
    assert np.count_nonzero(w) == 5 and np.allclose(np.abs(w[w != 0]), np.sqrt((hi - lo) / 5))


@pytest.mark.parametrize("trial_layout", [0, 1], ids=["grid", "trial"])
def test_rrr_run_stopping_rules_match_reference(lib, trial_layout):
    """max_iter and gapstop end trials inside a call, as the reference backend's bookkeeping does."""
    data = multiplier(2)
    graph, st = start_state("4-4-4-4", data, 3, 3, INPUT_DATA)
    st.iters[:] = [0, 5, 0]
    st.gapstop[:] = [0.0, 0.0, 10.0]     # trial 2 stops after its first iteration
    args = (graph, data.inputs, data.outputs, INPUT_DATA, 0.2, 1e-3, 9)
    run = CpuRun(lib, *args[:1], st, *args[1:], trial_layout=trial_layout)
    gap_c = run.run(6)
    gap_r = NumpyBackend(KernelSpec(*args)).run(st, 6)
    np.testing.assert_allclose(gap_c, gap_r, rtol=0, atol=1e-9)
    assert list(run.iters) == [6, 9, 1] and list(run.status) == [RUNNING, AT_MAX_ITER, 1]
    assert np.all(gap_c[1, 4:] == -1.0) and np.all(gap_c[2, 1:] == -1.0)
    _assert_same_state(run, st)


# ------------------------------------------------------------------- CupyBackend on a fake cupy
@pytest.mark.parametrize("layout", ["trial", "grid"])
@pytest.mark.parametrize("mode", [INPUT_DATA, INPUT_ONEHOT])
def test_cupy_backend_runs_the_kernels_like_the_reference(lib, monkeypatch, layout, mode):
    cp = fake_cupy(lib)
    monkeypatch.setitem(sys.modules, "cupy", cp)
    data = multiplier(2)
    arch = "4-4-4-4" if mode == INPUT_DATA else "4-6-4"
    graph, st_c = start_state(arch, data, 3, 5, mode)
    _, st_r = start_state(arch, data, 3, 5, mode)
    for st in (st_c, st_r):
        st.status[1] = AT_MAX_ITER
    args = (graph, data.inputs, data.outputs, mode, 0.2, 1e-2, 10 ** 9)
    eng = CupyBackend(KernelSpec(*args), layout=layout)
    reference = NumpyBackend(KernelSpec(*args))
    for n in (1, 5, 3):
        np.testing.assert_allclose(eng.run(st_c, n), reference.run(st_r, n), rtol=0, atol=1e-9)
        np.testing.assert_allclose(st_c.wb[[0, 2]], st_r.wb[[0, 2]], rtol=0, atol=1e-9)
        assert list(st_c.iters) == list(st_r.iters) and list(st_c.status) == list(st_r.status)
        if mode != INPUT_DATA:  # free inputs: their values come down for the solver's read-out
            n_in = graph.first_btf - 1
            np.testing.assert_allclose(st_c.zy[..., 1:n_in + 1], st_r.zy[..., 1:n_in + 1], rtol=0, atol=1e-9)
    launched = set(cp.launches)
    assert ("btf_trial_kernel" in launched) == (layout == "trial")
    assert ("btf_item_pass_kernel" in launched) == (layout == "grid")
    # restart slot 1 the way the solver does (host state, iters 0, RUNNING): only it is uploaded
    _, fresh = start_state(arch, data, 1, 99, mode)
    for st in (st_c, st_r):
        st.zw[1], st.zx[1], st.zy[1], st.g[1] = fresh.zw[0], fresh.zx[0], fresh.zy[0], fresh.g[0]
        st.iters[1], st.status[1] = 0, RUNNING
    st_c.zw[0] = 123.0  # stale host copy of a running slot: must not be uploaded
    np.testing.assert_allclose(eng.run(st_c, 4), reference.run(st_r, 4), rtol=0, atol=1e-9)
    eng.sync_state(st_c)                                             # host copy current, then
    st_c.zw[0], st_r.zw[0] = st_r.zw[0] * 0.5, st_r.zw[0] * 0.5   # a host edit of a running slot ...
    eng.mark_dirty([0])                                             # ... is uploaded when marked
    np.testing.assert_allclose(eng.run(st_c, 2), reference.run(st_r, 2), rtol=0, atol=1e-9)
    eng.sync_state(st_c)
    for key in ("zw", "zx", "zy", "g"):
        np.testing.assert_allclose(getattr(st_c, key), getattr(st_r, key), rtol=0, atol=1e-9, err_msg=key)


def test_auto_layout_follows_the_measured_threshold(lib, monkeypatch):
    """layout "auto": one block per trial below GRID_MIN_TRIAL_ITEMS trials x items, the grid from there
    on; at every (trials, items) point of the H200's bench rows (docs/gpu.md) it picks the layout that
    ran faster there (the 4x4's batch of 43, a tie, goes to the grid)."""
    cp = fake_cupy(lib)
    monkeypatch.setitem(sys.modules, "cupy", cp)
    data = multiplier(2)
    args = (kernel_graph(parse_arch("4-4-4-4"), 3.0), data.inputs, data.outputs, INPUT_DATA, 0.2, 1e-3, 10 ** 9)
    eng = CupyBackend(KernelSpec(*args))
    measured = {(1, 16): "trial", (4096, 16): "grid", (1, 64): "trial", (1106, 64): "grid",
                (1, 256): "grid", (43, 256): "grid", (26, 256): "grid"}
    assert {point: eng.layout(*point, 60) for point in measured} == measured
    assert GRID_MIN_TRIAL_ITEMS == 256
    assert (eng.layout(15, 16, 60), eng.layout(16, 16, 60)) == ("trial", "grid")   # the threshold itself
    assert (eng.layout(3, 64, 60), eng.layout(4, 64, 60)) == ("trial", "grid")
    # a layout asked for is kept whatever the size
    trial, grid = CupyBackend(KernelSpec(*args), layout="trial"), CupyBackend(KernelSpec(*args), layout="grid")
    assert (trial.layout(4096, 16, 60), grid.layout(1, 16, 60)) == ("trial", "grid")
    # and a run launches the kernels of the layout chosen: 15 trials of the 2x2's 16 items, then 16
    for T, layout in ((15, "trial"), (16, "grid")):
        cp.launches.clear()
        _, st = start_state("4-4-4-4", data, T, 1, INPUT_DATA)
        CupyBackend(KernelSpec(*args)).run(st, 2)
        assert ("btf_trial_kernel" in cp.launches, "btf_item_pass_kernel" in cp.launches) == \
            (layout == "trial", layout == "grid")


def test_fmad_setting_reaches_nvrtc(lib, monkeypatch):
    """NVRTC's default (fused multiply-adds) unless fmad=False, which passes --fmad=false; make_backend
    hands the keyword through."""
    cp = fake_cupy(lib)
    monkeypatch.setitem(sys.modules, "cupy", cp)
    data = multiplier(2)
    spec = KernelSpec(kernel_graph(parse_arch("4-4-4-4"), 3.0), data.inputs, data.outputs, INPUT_DATA, 0.2, 1e-3, 10)
    engines = [CupyBackend(spec), CupyBackend(spec, fmad=False), make_backend("cupy", spec, fmad=False),
               make_backend("cupy", spec, layout="grid", fmad=True)]
    assert cp.module_options == [(), ("--fmad=false",), ("--fmad=false",), ()]
    assert [e.fmad for e in engines] == [True, False, False, True] and NO_FMAD == ("--fmad=false",)
    assert [e.options for e in engines] == cp.module_options


def test_fit_with_the_cupy_backend_equals_numba(lib, monkeypatch):
    """The solver drives CupyBackend (restarted slots uploaded, read-outs from downloaded weights) to the
    same trials as the Numba backend; a free-input task exercises the input-value download."""
    monkeypatch.setitem(sys.modules, "cupy", fake_cupy(lib))
    for data, arch in ((multiplier(2), "4-4-4-4"), (random_decoder(6, 6, 3, seed=1), "3-6-6")):
        kw = dict(arch=arch, max_iter=120, trials=4, batch=2, seed=3, stop_on_first=False, gamma=1e-2)
        r_cupy = fit(data, backend="cupy", **kw)
        r_numba = fit(data, backend="numba", **kw)
        assert r_cupy.backend == "cupy" and len(r_cupy.trials) == 4
        for a, b in zip(r_cupy.trials, r_numba.trials):
            assert (a.trial, a.iterations, a.solved) == (b.trial, b.iterations, b.solved)
            assert a.gap == pytest.approx(b.gap, abs=1e-7)
            np.testing.assert_allclose(a.weights, b.weights, rtol=0, atol=1e-7)
            if b.codes is not None:
                np.testing.assert_array_equal(a.codes, b.codes)


# ------------------------------------------------------------------------------------- selection
def test_selection_without_cupy(monkeypatch):
    monkeypatch.setitem(sys.modules, "cupy", None)   # import cupy raises ImportError
    args = (None, np.zeros((1, 1)), np.zeros((1, 1)), 0, 0.2, 1e-3, 10)
    assert not cupy_available()
    assert isinstance(make_backend("auto", KernelSpec(*args)), NumbaBackend)
    assert isinstance(make_backend("auto", KernelSpec(*args), batch=CUPY_MIN_BATCH), NumbaBackend)
    with pytest.raises(BtfError, match="CuPy is not installed"):
        make_backend("cupy", KernelSpec(*args))


@pytest.mark.parametrize("devices,message", [(0, "finds no CUDA device"),
                                             (RuntimeError("cudaErrorNoDevice"), "no usable CUDA device")])
def test_selection_with_cupy_but_no_gpu(monkeypatch, devices, message):
    cp = types.ModuleType("cupy")
    cp.cuda = types.SimpleNamespace(runtime=types.SimpleNamespace(
        getDeviceCount=(lambda: (_ for _ in ()).throw(devices)) if isinstance(devices, Exception) else lambda: devices))
    monkeypatch.setitem(sys.modules, "cupy", cp)
    args = (None, np.zeros((1, 1)), np.zeros((1, 1)), 0, 0.2, 1e-3, 10)
    assert not cupy_available()
    assert isinstance(make_backend("auto", KernelSpec(*args)), NumbaBackend)
    assert isinstance(make_backend("auto", KernelSpec(*args), batch=4096), NumbaBackend)
    with pytest.raises(BtfError, match=message):
        make_backend("cupy", KernelSpec(*args))


def test_auto_picks_cupy_for_a_large_batch_when_a_device_is_present(lib, monkeypatch):
    """auto with a GPU: Numba below CUPY_MIN_BATCH trials in one state (one or two trials on the GPU are
    latency-bound, docs/gpu.md), CuPy from there on; fit resolves it with its batch, the bench with its
    trials. A small batch does not even ask CuPy for a device."""
    cp = fake_cupy(lib, devices=1)
    asked = []
    count = cp.cuda.runtime.getDeviceCount
    cp.cuda.runtime.getDeviceCount = lambda: asked.append(1) or count()
    monkeypatch.setitem(sys.modules, "cupy", cp)
    data = multiplier(2)
    spec = KernelSpec(kernel_graph(parse_arch("4-4-4-4"), 3.0), data.inputs, data.outputs, 0, 0.2, 1e-3, 10)
    assert CUPY_MIN_BATCH == 26
    assert [make_backend("auto", spec, batch=b).name for b in (1, 2, 16, 25)] == ["numba"] * 4
    assert make_backend("auto", spec).name == "numba" and not asked    # the default batch: one trial
    assert [make_backend("auto", spec, batch=b).name for b in (26, 43, 4096)] == ["cupy"] * 3
    assert asked and cupy_available()
    # a backend asked for by name is kept, whatever the batch
    assert [resolve_backend(name, b) for name in ("numba", "numpy", "cupy") for b in (1, 4096)] == \
        ["numba", "numba", "numpy", "numpy", "cupy", "cupy"]
    # fit's batch is min(trials, batch or 16)
    kw = dict(arch="4-4-4-4", max_iter=4, seed=0, stop_on_first=False)
    assert fit(data, trials=30, **kw).backend == "numba"
    assert fit(data, trials=26, batch=26, **kw).backend == "cupy"
    from btflearn.bench import throughput
    assert throughput("2x2", "auto", trials=26, seconds=0.02, repeats=1, warm=0)["backend"] == "cupy"
    # without Numba the GPU runs any batch (the alternative is the NumPy reference)
    monkeypatch.setattr(backends, "numba_available", lambda: False)
    assert resolve_backend("auto", 1) == "cupy"


def test_bench_cupy_without_gpu_is_a_clear_error():
    if cupy_available():
        pytest.skip("a GPU is present")
    out = subprocess.run([sys.executable, "-c", "from btflearn.cli.main import main; main()", "bench",
                          "--backends", "cupy", "--problems", "2x2", "--seconds", "0.1", "--solve-seeds", ""],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 2, (out.stdout, out.stderr)
    assert "error: cannot use the cupy backend" in out.stderr and "Traceback" not in out.stderr


# ------------------------------------------------------------------------------------------- nvcc
def test_nvcc_compiles_the_kernels_without_warnings(tmp_path):
    nvcc = shutil.which("nvcc")
    if nvcc is None:
        pytest.skip("nvcc is not on PATH")
    # the files as shipped (CupyBackend hands NVRTC the same text with the header inlined); the test
    # kernels of projection_kernels.cu with fused multiply-adds off, as the device tests also build them
    for name, extra in (("rrr_kernels.cu", []), ("projection_kernels.cu", ["--fmad=false"])):
        res = subprocess.run([nvcc, "-c", "-arch=sm_90", "-std=c++11", "-Werror", "all-warnings", *extra,
                              "-Xcompiler", "-Wall,-Wextra,-Werror", str(CUDA / name), "-o",
                              str(tmp_path / (name + ".o"))], capture_output=True, text=True, timeout=300)
        assert res.returncode == 0, res.stderr
        assert "warning" not in (res.stdout + res.stderr).lower(), res.stdout + res.stderr
    for name in ("rrr_kernels.cu", "projection_kernels.cu"):
        source = kernel_source(name)
        assert '#include "btf_math.cuh"' not in source and "#define BTF_MATH_CUH" in source


def test_bench_throughput_row_for_cupy(lib, monkeypatch):
    from btflearn.bench import throughput
    monkeypatch.setitem(sys.modules, "cupy", fake_cupy(lib))
    row = throughput("2x2", "cupy", trials=3, seconds=0.05, repeats=2)
    assert row["backend"] == "cupy" and row["trials"] == 3 and row["edge_item_iters_per_s"] > 0
    assert row["layout"] == "trial" and row["nvrtc_options"] == []
    # held: the host state (21 B per edge-item for the 2x2) and the device's copy with its scratch
    assert row["state_bytes_per_edge_item"] > 50
    assert throughput("2x2", "cupy", trials=2, seconds=0.05, repeats=2, layout="grid")["layout"] == "grid"


def test_bench_cupy_rows_per_layout_with_ratios_json_and_a_cupy_solve(lib, monkeypatch, tmp_path, capsys):
    """bench --backends cupy,numba --cuda-layouts trial,grid: one trial and a batch per layout, each with
    its ratio to the best Numba row, written to --json-out; --solve-backends cupy times the solve on it."""
    import json

    from btflearn import bench
    from btflearn.cli.bench_cmd import format_row
    from conftest import run_cli
    cp = fake_cupy(lib)
    monkeypatch.setitem(sys.modules, "cupy", cp)
    monkeypatch.setattr(bench, "GPU_STATE", 5 * bench.problem_size("2x2"))   # a batch of 5 trials
    out = tmp_path / "rows.json"
    code, text, err = run_cli(["bench", "--problems", "2x2", "--backends", "cupy,numba", "--dtypes", "float64",
                               "--cuda-layouts", "trial,grid", "--seconds", "0.05", "--bandwidth-mb", "0",
                               "--solve-seeds", "0", "--solve-backends", "cupy", "--json-out", out], capsys)
    assert code == 0, err
    rows = json.loads(out.read_text())
    gpu = [(r["layout"], r["trials"]) for r in rows if r["kind"] == "throughput" and r["backend"] == "cupy"]
    assert gpu == [("trial", 1), ("trial", 5), ("grid", 1), ("grid", 5)]
    numba_best = max(r["edge_item_iters_per_s"] for r in rows if r.get("backend") == "numba")
    for r in rows:
        if r["kind"] == "throughput" and r["backend"] == "cupy":
            assert r["ratio_to_numba"] == r["edge_item_iters_per_s"] / numba_best
    solve = [r for r in rows if r["kind"] == "solve"]
    assert len(solve) == 1 and solve[0]["backend"] == "cupy" and solve[0]["problem"] == "2x2"
    assert "btf_trial_kernel" in cp.launches and "btf_item_pass_kernel" in cp.launches
    lines = text.splitlines()
    assert "(grid)" in text and "(trial)" in text and "cupy," in text
    assert max(map(len, lines)) <= 80, [line for line in lines if len(line) > 80]
    wide = dict(rows[-2], problem="5x5", trials=4096, edge_item_iters_per_s=1.23e10, ratio_to_numba=123.4,
                ratio_to_numpy=1234.5)
    assert all(len(line) <= 80 for line in format_row(wide).splitlines())


def test_bench_unknown_cuda_layout_is_a_clear_error(capsys):
    from conftest import run_cli
    code, _, err = run_cli(["bench", "--problems", "2x2", "--backends", "numpy", "--cuda-layouts", "diagonal",
                            "--solve-seeds", ""], capsys)
    assert code == 2 and "unknown CUDA layout 'diagonal'" in err


def test_bench_5x5_problem_is_one_cofactor_network():
    from btflearn.arch import parse_arch
    from btflearn.bench import PROBLEMS, problem_size
    arch, make = PROBLEMS["5x5"]
    data = make()
    assert (data.n_items, data.n_inputs, data.n_outputs) == (256, 8, 10)
    assert parse_arch(arch).n_edges == 4986 and problem_size("5x5") == 256 * 4986
    # a0 = b0 = 1: the product is odd, and the rest of the items are every (a >> 1, b >> 1)
    assert np.all(data.outputs[:, 0] > 0) and len({tuple(r) for r in data.inputs}) == 256
