"""The projections are exact, and the Numba kernels equal the NumPy reference (the specification)."""
import numpy as np
import pytest

from btflearn import parse_arch
from btflearn.backends import AT_MAX_ITER, RUNNING, KernelSpec, NumbaBackend, NumpyBackend, SolverState
from btflearn.kernels import numba_kernels as nk
from btflearn.kernels import reference as ref
from btflearn.kernels.graph import INPUT_BINARY, INPUT_DATA, INPUT_ONEHOT, kernel_graph
from btflearn.tasks import multiplier


def numba_bilinear(w, x, c):
    wo, xo = np.empty_like(w), np.empty_like(x)
    nk.bilinear_project_into(w, x, float(c), wo, xo)
    return wo, xo


def numba_btf(w, x, y, delta):
    m = len(w)
    wo, xo = np.empty(m), np.empty(m)
    yo = nk.btf_project_into(w, x, float(y), float(delta), wo, xo)
    return wo, xo, yo


def degenerate_pairs(rng, m):
    """(w, x) pairs where the projection's special cases live."""
    v = rng.normal(size=m)
    z = np.zeros(m)
    return [(v, v.copy()), (v, -v), (z, z.copy()), (z, v), (v, z.copy()), (v * 1e-20, -v * 1e-20),
            (v, -v + 1e-16 * rng.normal(size=m))]


# ----------------------------------------------------------------------------- bilinear projection
def random_cases(rng, count):
    for k in range(count):
        m = int(rng.integers(1, 7))
        w, x = rng.normal(size=m) * rng.choice([0.1, 1, 5]), rng.normal(size=m)
        yield w, x, float(rng.normal() * 3)


def test_bilinear_lands_on_the_level_set_and_is_idempotent():
    rng = np.random.default_rng(1)
    for w, x, c in random_cases(rng, 400):
        wp, xp = ref.bilinear_project(w, x, c)
        assert np.all(np.isfinite(wp)) and np.all(np.isfinite(xp))
        assert wp @ xp == pytest.approx(c, abs=1e-9 * max(1.0, abs(c)))
        wq, xq = ref.bilinear_project(wp, xp, c)
        assert np.allclose(wq, wp, atol=1e-9) and np.allclose(xq, xp, atol=1e-9)


def test_bilinear_no_sampled_feasible_point_is_nearer():
    rng = np.random.default_rng(2)
    for w, x, c in random_cases(rng, 60):
        m = len(w)
        wp, xp = ref.bilinear_project(w, x, c)
        best = np.sum((wp - w) ** 2) + np.sum((xp - x) ** 2)
        for _ in range(300):
            # random feasible points near the projection: perturb, then rescale onto w.x = c
            w2 = wp + rng.normal(size=m) * rng.choice([1e-3, 1e-1, 1])
            x2 = xp + rng.normal(size=m) * rng.choice([1e-3, 1e-1, 1])
            p2 = w2 @ x2
            if p2 * c <= 0:
                continue
            f = np.sqrt(c / p2)
            w2, x2 = w2 * f, x2 * f
            assert np.sum((w2 - w) ** 2) + np.sum((x2 - x) ** 2) >= best - 1e-9


def test_root_solve_converges_in_a_few_newton_steps(monkeypatch):
    """Newton converges quadratically: 16 steps reach the root. Guards a bug where a step at the
    root landed on the bracket end, counted as leaving the bracket, and restarted by bisection (about
    40 steps per solve, measured on running 3x3 states)."""
    rng = np.random.default_rng(7)
    P = rng.uniform(0.1, 20, 4000)
    Q = rng.uniform(0.1, 20, 4000)
    C = 0.5 * (P - Q) + rng.uniform(1e-3, 5, 4000)          # H(1) < 0: the root lies in (0, 1)
    # the cases seen to trigger the restart (P, Q, C taken from a running 3x3 state)
    P = np.r_[P, 2.5658690960634543, 3.409571901570766, 8.893578244050952]
    Q = np.r_[Q, 11.211700451129083, 9.979334976757173, 16.907313967343278]
    C = np.r_[C, 1.5275252316519468, 1.5275252316519468, 2.0816659994661326]
    monkeypatch.setattr(ref, "NEWTON_MAXIT", 16)
    s = ref._solve_pole(P, Q, C)
    residual = 0.5 * (P / s**2 - Q / (2 - s) ** 2) - C
    scale = 0.5 * (P / s**2 + Q / (2 - s) ** 2) + np.abs(C)
    assert np.all((s > 0) & (s <= 1)) and np.max(np.abs(residual) / scale) < 1e-10


def test_move_lower_bound_never_exceeds_the_exact_move():
    """The kernel skips a sign's root solve when a lower bound on its move already loses; the bound must
    hold for every state, or a wrong sign would be chosen."""
    rng = np.random.default_rng(11)
    worst = 0.0
    for w, x, c in random_cases(rng, 3000):
        wn, xn = ref.bilinear_project(w, x, c)
        exact = np.sum((wn - w) ** 2 + (xn - x) ** 2)
        A, B, p = 0.5 * np.sum((w + x) ** 2), 0.5 * np.sum((x - w) ** 2), float(w @ x)
        bound = nk._move_lower_bound(A, B, p, c)
        assert bound <= exact * (1 + 1e-12) + 1e-300
        worst = max(worst, bound / exact if exact > 0 else 0.0)
    assert worst > 0.5  # and it is not vacuous


def test_bilinear_degenerate_cases_are_exact_and_finite():
    rng = np.random.default_rng(3)
    for m in (1, 2, 5):
        for w, x in degenerate_pairs(rng, m):
            for c in (-2.0, -0.1, 0.0, 0.1, 2.0):
                wp, xp = ref.bilinear_project(w, x, c)
                assert np.all(np.isfinite(wp)) and np.all(np.isfinite(xp))
                assert wp @ xp == pytest.approx(c, abs=1e-9)
                wn, xn = numba_bilinear(w, x, c)
                np.testing.assert_allclose(wn, wp, atol=1e-9)
                np.testing.assert_allclose(xn, xp, atol=1e-9)


def test_bilinear_unreachable_level_takes_the_limit_point():
    # w = -x makes w.x = -|w|^2 and no finite Lagrange multiplier reaches c > -|V|^2/8: the nearest
    # point halves V and puts the rest along the all-ones direction (w + x = 0 has no direction).
    w = np.array([1.0, 0.0])
    wp, xp = ref.bilinear_project(w, -w, 1.0)
    assert wp @ xp == pytest.approx(1.0)
    # the move is the minimum over the whole family: compare with a brute-force scan
    cost = np.sum((wp - w) ** 2) + np.sum((xp + w) ** 2)
    thetas = np.linspace(0, 2 * np.pi, 721)
    for a in np.linspace(0.01, 3, 300):
        # points with w'.x' = 1 written as w' = (U' - V')/sqrt2, x' = (U' + V')/sqrt2
        V = (-2 * w / np.sqrt(2)) * a
        r2 = 2.0 + V @ V
        U = np.sqrt(r2) * np.stack([np.cos(thetas), np.sin(thetas)], axis=1)
        w2, x2 = (U - V) / np.sqrt(2), (U + V) / np.sqrt(2)
        assert np.min(np.sum((w2 - w) ** 2, 1) + np.sum((x2 + w) ** 2, 1)) >= cost - 1e-9


# ----------------------------------------------------------------------------- BTF trio projection
def test_btf_result_is_feasible_idempotent_and_nearest():
    rng = np.random.default_rng(4)
    for _ in range(150):
        m = int(rng.integers(2, 6))
        delta = np.sqrt(m / 3.0)
        w, x = rng.normal(size=m), rng.normal(size=m)
        y = float(rng.uniform(-1.5, 1.5))
        wp, xp, yp = ref.btf_project(w, x, y, delta)
        assert yp in (-1.0, 1.0)
        assert yp * (wp @ xp) >= delta - 1e-9
        wq, xq, yq = ref.btf_project(wp, xp, yp, delta)
        assert yq == yp and np.allclose(wq, wp, atol=1e-9) and np.allclose(xq, xp, atol=1e-9)
        best = (yp - y) ** 2 + np.sum((wp - w) ** 2) + np.sum((xp - x) ** 2)
        for _ in range(100):
            s = rng.choice([-1.0, 1.0])
            w2, x2 = w + rng.normal(size=m) * 0.7, x + rng.normal(size=m) * 0.7
            if s * (w2 @ x2) < delta:
                w2, x2 = ref.bilinear_project(w2, x2, s * delta)
            assert (s - y) ** 2 + np.sum((w2 - w) ** 2) + np.sum((x2 - x) ** 2) >= best - 1e-9


def test_btf_keeps_a_margin_met_exactly_and_handles_y_zero():
    w = np.array([1.0, 1.0, 0.0])
    x = np.array([1.0, 1.0, 1.0])
    for project in (ref.btf_project, numba_btf):
        wp, xp, yp = project(w, x, 0.5, 2.0)     # y p = 1 > 0 and p = delta exactly: nothing moves
        assert yp == 1.0 and np.array_equal(wp, w) and np.array_equal(xp, x)
        wp, xp, yp = project(w, x, 0.0, 2.0)     # y = 0: both signs tried, +1 keeps (w, x)
        assert yp == 1.0 and np.array_equal(wp, w) and np.array_equal(xp, x)
        wp, xp, yp = project(w, -x, 0.0, 2.0)    # mirror image: -1 keeps
        assert yp == -1.0 and np.array_equal(xp, -x)


def test_numba_trio_projection_equals_reference_on_random_and_degenerate_states():
    rng = np.random.default_rng(5)
    cases = [(rng.normal(size=m), rng.normal(size=m), float(rng.uniform(-1.5, 1.5)), np.sqrt(m / 3.0))
             for m in rng.integers(2, 8, size=300)]
    for m in (2, 3, 5):
        for w, x in degenerate_pairs(rng, m):
            for y in (-1.0, -0.3, 0.0, 0.3, 1.0):
                cases.append((w, x, y, np.sqrt(m / 3.0)))
    for w, x, y, delta in cases:
        wr, xr, yr = ref.btf_project(w, x, y, delta)
        wn, xn, yn = numba_btf(w, x, y, delta)
        assert np.all(np.isfinite(wn)) and np.all(np.isfinite(xn))
        if yn != yr:
            # only an exact tie between the two signs may break differently under rounding
            cost = lambda wp, xp, yp: (yp - y) ** 2 + np.sum((wp - w) ** 2) + np.sum((xp - x) ** 2)  # noqa
            assert cost(wn, xn, yn) == pytest.approx(cost(wr, xr, yr), abs=1e-12)
            assert yn * (wn @ xn) >= delta - 1e-9
            continue
        np.testing.assert_allclose(wn, wr, atol=1e-9)
        np.testing.assert_allclose(xn, xr, atol=1e-9)


# ----------------------------------------------------------------------------- whole iterations
def _state(arch, dataset, T, seed, input_mode=INPUT_DATA):
    net = parse_arch(arch)
    graph = kernel_graph(net, 3.0)
    st = SolverState.empty(T, dataset.n_items, net.n_edges, net.n_nodes)
    z = ref.initial_state(np.random.default_rng(seed), T, dataset.n_items, graph, dataset.inputs,
                          dataset.outputs, input_mode)
    st.zw[:], st.zx[:], st.zy[:], st.g[:] = z
    st.status[:] = RUNNING
    st.gapstop[:] = 0.0
    return graph, st


@pytest.mark.parametrize("by_trial", [False, True])
@pytest.mark.parametrize("arch,bits,mode", [("4-4-4-4", 2, INPUT_DATA), ("dense:4-5-3-4", 2, INPUT_DATA),
                                            ("4-6-4", 2, INPUT_BINARY), ("4-6-4", 2, INPUT_ONEHOT)])
def test_numba_iterations_equal_reference(arch, bits, mode, by_trial):
    """Both parallel layouts (items in parallel, whole trials in parallel) against the reference."""
    data = multiplier(bits)
    graph, st_ref = _state(arch, data, 3, 7, mode)
    _, st_nb = _state(arch, data, 3, 7, mode)
    st_ref.status[1] = AT_MAX_ITER  # a stopped trial must not move
    st_nb.status[1] = AT_MAX_ITER
    frozen = st_nb.zw[1].copy()
    args = (graph, data.inputs, data.outputs, mode, 0.3, 1e-2, 10 ** 9)
    gaps_ref = NumpyBackend(KernelSpec(*args)).run(st_ref, 6)
    numba = NumbaBackend(KernelSpec(*args), by_trial=by_trial)
    gaps_nb = numba.run(st_nb, 6)
    numba.sync_state(st_nb)  # the state stays in the kernels' layout between calls
    np.testing.assert_allclose(gaps_nb, gaps_ref, atol=1e-9)
    for a, b in ((st_nb.zw, st_ref.zw), (st_nb.zx, st_ref.zx), (st_nb.zy, st_ref.zy), (st_nb.g, st_ref.g)):
        np.testing.assert_allclose(a, b, atol=1e-9)
    np.testing.assert_allclose(st_nb.wb[[0, 2]], st_ref.wb[[0, 2]], atol=1e-9)
    assert np.array_equal(st_nb.zw[1], frozen)
    assert list(st_nb.iters) == [6, 0, 6]
    assert np.all(np.isfinite(st_nb.zw)) and np.all(np.isfinite(st_nb.g))


def test_concur_projection_is_exact():
    """P_B: weights are the metric-weighted item mean rescaled to |w_n|^2 = m_n; values are the
    metric-weighted mean of a node and its copies; outputs are the labels."""
    data = multiplier(2)
    graph, st = _state("4-4-4-4", data, 1, 3)
    rng = np.random.default_rng(0)
    g = rng.uniform(0.5, 2.0, st.g.shape)
    wb, xb, yb = ref.project_B(st.zw, st.zx, st.zy, g, graph, data.outputs)
    n = graph.first_btf + 2
    lo, hi = graph.in_start[n], graph.in_start[n + 1]
    mean = (g[0, :, n, None] * st.zw[0, :, lo:hi]).sum(0) / g[0, :, n].sum()
    np.testing.assert_allclose(wb[0, lo:hi], mean * np.sqrt(hi - lo) / np.linalg.norm(mean))
    s = 1  # an input node: its value and its copies on the out-edges
    outs = np.flatnonzero(graph.send == s)
    gs = np.concatenate([[g[0, 4, s]], g[0, 4, graph.recv[outs]]])
    vs = np.concatenate([[st.zy[0, 4, s]], st.zx[0, 4, outs]])
    assert yb[0, 4, s] == pytest.approx((gs * vs).sum() / gs.sum())
    np.testing.assert_allclose(xb[0, 4, outs], yb[0, 4, s])
    np.testing.assert_array_equal(yb[0, :, graph.first_output:], data.outputs)


def test_no_nan_from_zero_state():
    data = multiplier(2)
    graph, st = _state("4-4-4-4", data, 2, 0)
    st.zw[:] = 0.0
    st.zx[:] = 0.0
    st.zy[..., graph.first_btf:graph.first_output] = 0.0
    numba = NumbaBackend(KernelSpec(graph, data.inputs, data.outputs, INPUT_DATA, 0.2, 1e-3, 10 ** 9))
    numba.run(st, 20)
    numba.sync_state(st)
    for a in (st.zw, st.zx, st.zy, st.g, st.wb):
        assert np.all(np.isfinite(a))


# ----------------------------------------------------------------------------- blocks of items
def test_batched_trio_projections_equal_one_by_one_bit_for_bit():
    """A block's root solves run in lock-step (SIMD); alone (one request) a root is solved by the scalar
    Newton loop. Both must give the same bits, for random trios mixed with degenerate ones, and match
    the reference."""
    rng = np.random.default_rng(21)
    for k in (1, 2, 3, 7, 13):
        cols = [(rng.normal(size=k) * rng.choice([0.1, 1, 5]), rng.normal(size=k), rng.uniform(-1.5, 1.5))
                for _ in range(150)]
        cols += [(w, x, y) for w, x in degenerate_pairs(rng, k) for y in (-1.0, -0.3, 0.0, 0.3, 1.0)]
        W = np.array([c[0] for c in cols]).T.copy()
        X = np.array([c[1] for c in cols]).T.copy()
        y = np.array([c[2] for c in cols])
        delta = np.sqrt(k / 3.0)
        WO, XO = np.empty_like(W), np.empty_like(X)
        yo = nk.btf_project_block(W, X, y, delta, WO, XO)
        assert np.all(np.isfinite(WO)) and np.all(np.isfinite(XO))
        for i, (w, x, yi) in enumerate(cols):
            wn, xn, yn = numba_btf(w, x, yi, delta)
            assert yo[i] == yn and np.array_equal(WO[:, i], wn) and np.array_equal(XO[:, i], xn)
            wr, xr, yr = ref.btf_project(w, x, yi, delta)
            if yr == yn:
                np.testing.assert_allclose(wn, wr, atol=1e-9)
                np.testing.assert_allclose(xn, xr, atol=1e-9)


def test_lockstep_roots_with_many_slow_requests_equal_scalar_newton():
    """Requests that need many steps (bisection after bad Newton steps) keep the lock-step loop going
    past LOCKSTEP_MIN; every root must still be the scalar sequence's."""
    rng = np.random.default_rng(3)
    n = 64
    P = np.r_[rng.uniform(1e-9, 1e-6, n // 2), rng.uniform(0.1, 20, n // 2)]  # near-degenerate: slow
    Q = rng.uniform(0.1, 20, n)
    C = 0.5 * (P - Q) + rng.uniform(1e-3, 5, n)
    scratch = [np.zeros(n) for _ in range(4)]
    S = np.zeros(n)
    nk._solve_batch(P, Q, C, S, *scratch[:3], n)
    steps = np.zeros(n, int)
    for j in range(n):
        s, lo, hi = 1.0, 0.0, 1.0
        for steps[j] in range(1, nk.NEWTON_MAXIT + 1):
            s, lo, hi, done = nk._newton_step.py_func(P[j], Q[j], C[j], s, lo, hi)
            if done:
                break
        assert S[j] == s
    assert np.sum(steps >= 2 * np.median(steps)) > nk.LOCKSTEP_MIN  # the slow ones outlast the batch
    residual = 0.5 * (P / S**2 - Q / (2 - S) ** 2) - C
    assert np.max(np.abs(residual) / (0.5 * (P / S**2 + Q / (2 - S) ** 2) + np.abs(C))) < 1e-10


@pytest.mark.parametrize("by_trial", [False, True])
def test_results_do_not_depend_on_the_block_size(by_trial):
    """Per item every operation is the same whatever the blocking: bit-identical states."""
    data = multiplier(3)
    results = []
    for block in (64, 24, 5, 1):
        graph, st = _state("dense:6-5-5-6", data, 2, 4)
        numba = NumbaBackend(KernelSpec(graph, data.inputs, data.outputs, INPUT_DATA, 0.3, 1e-2, 10 ** 9),
                             by_trial=by_trial, block_size=block)
        gaps = numba.run(st, 15)
        numba.sync_state(st)
        results.append((gaps, st.zw, st.zx, st.zy, st.g, st.wb))
    for other in results[1:]:
        for a, b in zip(results[0], other):
            assert np.array_equal(a, b)


def test_cuda_header_codes_agree_with_kernels_graph():
    """Status codes and input modes are defined once in kernels/graph.py; the CUDA header repeats them."""
    import re
    from pathlib import Path

    from btflearn.kernels import graph
    header = (Path(graph.__file__).parent / "cuda" / "btf_math.cuh").read_text()
    macros = dict(re.findall(r"#define BTF_([A-Z_]+) (\d+)", header))
    names = ("RUNNING", "BELOW_GAPSTOP", "AT_MAX_ITER", "INPUT_DATA", "INPUT_BINARY", "INPUT_ONEHOT")
    assert {n: int(macros[n]) for n in names} == {n: getattr(graph, n) for n in names}
    from btflearn.dataset import INPUT_MODES
    assert [INPUT_MODES.index(m) for m in ("data", "binary", "onehot")] == [
        graph.INPUT_DATA, graph.INPUT_BINARY, graph.INPUT_ONEHOT]


# ----------------------------------------------------------------------------- gate (support) projection
def test_support_projection_is_the_nearest_gate():
    """Against every majority gate of support s (s weights at +-sqrt(m/s), the rest 0): none is nearer."""
    import itertools
    rng = np.random.default_rng(5)
    for m, s in ((4, 1), (5, 3), (6, 3), (6, 5)):
        for _ in range(20):
            w = rng.normal(size=m)
            if rng.random() < 0.3:
                w[rng.integers(m)] = w[0]   # ties: the first index wins
            got = ref.support_project(w, s)
            assert np.count_nonzero(got) == s and np.allclose(np.abs(got[got != 0]), np.sqrt(m / s))
            best = np.inf
            for idx in itertools.combinations(range(m), s):
                for signs in itertools.product((-1.0, 1.0), repeat=s):
                    gate = np.zeros(m)
                    gate[list(idx)] = np.array(signs) * np.sqrt(m / s)
                    best = min(best, np.sum((w - gate) ** 2))
            assert np.sum((w - got) ** 2) <= best + 1e-12
            np.testing.assert_array_equal(ref.support_project(got, s), got)   # idempotent


@pytest.mark.parametrize("by_trial", [False, True])
def test_numba_gate_projection_equals_reference(by_trial):
    data = multiplier(2)
    net = parse_arch("dense:4-5-3-4")
    support = np.zeros(net.n_nodes, dtype=np.int64)
    support[net.first_btf:] = [3, 5, 1, 3, 3, 5, 3, 0, 3, 5, 3, 7]   # mixed, one off, one wider than needed
    graph = kernel_graph(net, 3.0, support)
    assert graph.support[net.first_btf + 11] == 7 and graph.support[0] == 0
    states = []
    for _ in range(2):
        _, st = _state("dense:4-5-3-4", data, 2, 11)
        states.append(st)
    args = (graph, data.inputs, data.outputs, INPUT_DATA, 0.3, 1e-2, 10 ** 9)
    gaps_ref = NumpyBackend(KernelSpec(*args)).run(states[0], 5)
    numba = NumbaBackend(KernelSpec(*args), by_trial=by_trial)
    gaps_nb = numba.run(states[1], 5)
    numba.sync_state(states[1])
    np.testing.assert_allclose(gaps_nb, gaps_ref, atol=1e-9)
    np.testing.assert_allclose(states[1].wb, states[0].wb, atol=1e-12)
    for a, b in ((states[1].zw, states[0].zw), (states[1].zy, states[0].zy), (states[1].g, states[0].g)):
        np.testing.assert_allclose(a, b, atol=1e-9)
    n = net.first_btf   # support 3 on a node: three nonzero weights of equal size
    lo, hi = net.in_start[n], net.in_start[n + 1]
    w = states[1].wb[0, lo:hi]
    assert np.count_nonzero(w) == 3 and np.allclose(np.abs(w[w != 0]), np.sqrt((hi - lo) / 3))


def test_resident_state_follows_restarts_between_calls():
    """The Numba backend keeps the state in its own layout between calls: a slot the solver restarts
    between two calls (iters 0, RUNNING) is taken from the host, the others continue where they were."""
    data = multiplier(2)
    graph, st_ref = _state("4-4-4-4", data, 2, 5)
    _, st_nb = _state("4-4-4-4", data, 2, 5)
    _, fresh = _state("4-4-4-4", data, 2, 9)
    args = (graph, data.inputs, data.outputs, INPUT_DATA, 0.3, 1e-2, 10 ** 9)
    numpy_backend, numba = NumpyBackend(KernelSpec(*args)), NumbaBackend(KernelSpec(*args))
    for st, eng in ((st_ref, numpy_backend), (st_nb, numba)):
        eng.run(st, 4)
        for a, b in ((st.zw, fresh.zw), (st.zx, fresh.zx), (st.zy, fresh.zy), (st.g, fresh.g)):
            a[1] = b[1]   # restart slot 1 from another random state
        st.iters[1] = 0
        eng.run(st, 3)
    numba.sync_state(st_nb)
    assert list(st_nb.iters) == [7, 3]
    for a, b in ((st_nb.zw, st_ref.zw), (st_nb.zx, st_ref.zx), (st_nb.zy, st_ref.zy), (st_nb.g, st_ref.g)):
        np.testing.assert_allclose(a, b, atol=1e-9)
