"""Each op projection: the result is on the graph, projecting again changes nothing, and no point on the
graph among many random samples (global and next to the answer) is nearer. Small dimensions, float64."""
import numpy as np
import pytest

jax = pytest.importorskip("jax")
import jax.numpy as jnp  # noqa: E402

from btflearn.continuous import projections as P  # noqa: E402

RNG = np.random.default_rng(20250605)
N_QUERIES = 300
N_SAMPLES = 400


@pytest.fixture(autouse=True)
def x64():
    with jax.enable_x64(True):
        yield


def _batched(fn, **static):
    return jax.jit(jax.vmap(lambda *a: fn(*a, **static)))


def _no_nearer(dist_proj, sampler, dist_of, tol=1e-9):
    """``sampler(k)`` -> points on the graph (batched over queries); none may be nearer than the answer."""
    for k in range(N_SAMPLES):
        d = dist_of(sampler(k))
        worse = d < dist_proj * (1 - 1e-9) - tol
        assert not worse.any(), f"sample {k}: a point on the graph is nearer by {np.max(dist_proj - d)}"


# ------------------------------------------------------------------------------------------------ dot
@pytest.mark.parametrize("n,scale", [(1, 1.0), (2, 0.3), (3, 1.0), (3, 5.0), (5, 1.0)])
def test_dot_projection(n, scale):
    proj = _batched(P.project_dot)
    A = RNG.normal(size=(N_QUERIES, n)) * scale
    B = RNG.normal(size=(N_QUERIES, n)) * scale
    Z = RNG.normal(size=N_QUERIES) * 3 * scale * scale
    a, b, z = map(np.asarray, proj(A, B, Z))
    assert np.all(np.isfinite(a)) and np.all(np.isfinite(b)) and np.all(np.isfinite(z))
    np.testing.assert_allclose(np.sum(a * b, 1), z, atol=1e-10 * max(1, scale ** 2))
    a2, b2, z2 = map(np.asarray, proj(a, b, z))
    np.testing.assert_allclose(a2, a, atol=1e-10 * scale)
    np.testing.assert_allclose(z2, z, atol=1e-10 * max(1, scale ** 2))
    dist = ((a - A) ** 2).sum(1) + ((b - B) ** 2).sum(1) + (z - Z) ** 2

    def sampler(k):
        local = k % 2 == 0
        s = (0.02 if k % 4 == 0 else 0.3) * scale
        ap = (a if local else A) + RNG.normal(size=A.shape) * (s if local else 2 * scale)
        bp = (b if local else B) + RNG.normal(size=B.shape) * (s if local else 2 * scale)
        return ap, bp, np.sum(ap * bp, 1)

    _no_nearer(dist, sampler, lambda p: ((p[0] - A) ** 2).sum(1) + ((p[1] - B) ** 2).sum(1) + (p[2] - Z) ** 2)


def test_dot_degenerate_cases():
    """a = -b (U = 0) with a large target has no interior root: the limit t = 1 is taken explicitly;
    a = b (V = 0) with a very negative target is its mirror; a = b = 0 too. Compared with brute force."""
    from scipy.optimize import minimize

    cases = [(np.array([1.0, 2, 3]), -np.array([1.0, 2, 3]), 5.0), (np.zeros(3), np.zeros(3), 3.0),
             (np.zeros(2), np.zeros(2), 0.5), (np.array([1.0, 0]), np.array([1.0, 0]), -6.0),
             (np.array([0.5, -1.0]), np.array([-0.5, 1.0 + 1e-9]), 4.0), (np.array([2.0]), np.array([-2.0]), 9.0)]
    proj = jax.jit(P.project_dot)
    for A, B, Z in cases:
        a, b, z = map(np.asarray, proj(A, B, Z))
        assert abs(a @ b - z) < 1e-9
        d = ((a - A) ** 2).sum() + ((b - B) ** 2).sum() + (z - Z) ** 2
        n = A.size

        def f(v):
            return ((v[:n] - A) ** 2).sum() + ((v[n:] - B) ** 2).sum() + (v[:n] @ v[n:] - Z) ** 2

        best = min(minimize(f, RNG.normal(size=2 * n) * 2).fun for _ in range(10))
        assert d <= best + 1e-7, (A, B, Z, d, best)


def test_dot_float32_never_nan():
    proj = _batched(P.project_dot)
    with jax.enable_x64(False):
        cases = np.array([[1e18, -1e18, 1e30], [1e-20, -1e-20, 5.0], [0.0, 0.0, 0.0], [3.0, -3.0, 1e6],
                          [1e-30, 1e-30, -1e6], [2.0, 2.0, 4.0], [1e3, 1e-3, -1e3]], np.float32)
        n = 4
        A = np.repeat(cases[:, :1], n, 1)
        B = np.repeat(cases[:, 1:2], n, 1)
        a, b, z = proj(jnp.asarray(A), jnp.asarray(B), jnp.asarray(cases[:, 2]))
        assert a.dtype == jnp.float32
        for arr in (a, b, z):
            assert np.all(np.isfinite(np.asarray(arr)))
        ok = np.abs(np.sum(np.asarray(a) * np.asarray(b), 1) - np.asarray(z))
        assert np.all(ok[1:] <= 1e-3 * np.maximum(1, np.abs(np.asarray(z)[1:])))


@pytest.mark.parametrize("nc,nv", [(2, 1), (3, 2), (1, 3)])
def test_dot_linear_projection(nc, nv):
    """a_c . c + a_v . b_v = z with c constant (the data part of an RNN cell's input)."""
    proj = _batched(P.project_dot_linear)
    AC, AV, BV = (RNG.normal(size=(N_QUERIES, k)) for k in (nc, nv, nv))
    BV[: N_QUERIES // 5] = -AV[: N_QUERIES // 5]                       # U = 0 (degenerate) rows
    C = RNG.normal(size=(N_QUERIES, nc))
    Z = RNG.normal(size=N_QUERIES) * 4
    ac, av, bv, z = map(np.asarray, proj(AC, AV, BV, C, Z))
    np.testing.assert_allclose((ac * C).sum(1) + (av * bv).sum(1), z, atol=1e-9)
    again = [np.asarray(o) for o in proj(ac, av, bv, C, z)]
    for o, ref in zip(again, (ac, av, bv, z)):
        np.testing.assert_allclose(o, ref, atol=1e-9)
    dist = ((ac - AC) ** 2).sum(1) + ((av - AV) ** 2).sum(1) + ((bv - BV) ** 2).sum(1) + (z - Z) ** 2

    def sampler(k):
        local = k % 2 == 0
        s = 0.05 if local else 2.0
        acp = (ac if local else AC) + RNG.normal(size=AC.shape) * s
        avp = (av if local else AV) + RNG.normal(size=AV.shape) * s
        bvp = (bv if local else BV) + RNG.normal(size=BV.shape) * s
        return acp, avp, bvp, (acp * C).sum(1) + (avp * bvp).sum(1)

    _no_nearer(dist, sampler, lambda p: ((p[0] - AC) ** 2).sum(1) + ((p[1] - AV) ** 2).sum(1)
               + ((p[2] - BV) ** 2).sum(1) + (p[3] - Z) ** 2)


def test_linear_projection_is_the_hyperplane_projection():
    proj = _batched(P.project_linear)
    A, C = RNG.normal(size=(50, 3)), RNG.normal(size=(50, 3))
    Z = RNG.normal(size=50)
    a, z = map(np.asarray, proj(A, C, Z))
    np.testing.assert_allclose((a * C).sum(1), z, atol=1e-12)
    # the move is along the normal (c, -1) of the hyperplane a . c - z = 0
    move = np.concatenate([a - A, (z - Z)[:, None]], 1)
    normal = np.concatenate([C, -np.ones((50, 1))], 1)
    cos = np.abs((move * normal).sum(1)) / (np.linalg.norm(move, axis=1) * np.linalg.norm(normal, axis=1) + 1e-300)
    assert np.all((cos > 1 - 1e-9) | (np.linalg.norm(move, axis=1) < 1e-12))


@pytest.mark.parametrize("nc,nv", [(1, 2), (2, 1), (3, 0)])
def test_dot_linear_relu_projection(nc, nv):
    """y = relu(a_c . c + a_v . b_v), c constant: a dense unit with bias and ReLU as one op. Both
    pieces of the graph (flat and linear) must be reached."""
    proj = _batched(P.project_dot_linear_relu)
    AC, AV, BV = (RNG.normal(size=(N_QUERIES, k)) for k in (nc, nv, nv))
    C = RNG.normal(size=(N_QUERIES, nc))
    Y = RNG.normal(size=N_QUERIES) * 2
    ac, av, bv, y = map(np.asarray, proj(AC, AV, BV, C, Y))
    s = (ac * C).sum(1) + (av * bv).sum(1)
    np.testing.assert_allclose(y, np.maximum(s, 0), atol=1e-9)
    assert (y == 0).any() and (y > 0).any()
    again = [np.asarray(o) for o in proj(ac, av, bv, C, y)]
    for o, ref in zip(again, (ac, av, bv, y)):
        np.testing.assert_allclose(o, ref, atol=1e-9)
    dist = ((ac - AC) ** 2).sum(1) + ((av - AV) ** 2).sum(1) + ((bv - BV) ** 2).sum(1) + (y - Y) ** 2

    def sampler(k):
        local = k % 2 == 0
        s_ = 0.05 if local else 2.0
        acp = (ac if local else AC) + RNG.normal(size=AC.shape) * s_
        avp = (av if local else AV) + RNG.normal(size=AV.shape) * s_
        bvp = (bv if local else BV) + RNG.normal(size=BV.shape) * s_
        return acp, avp, bvp, np.maximum((acp * C).sum(1) + (avp * bvp).sum(1), 0)

    _no_nearer(dist, sampler, lambda p: ((p[0] - AC) ** 2).sum(1) + ((p[1] - AV) ** 2).sum(1)
               + ((p[2] - BV) ** 2).sum(1) + (p[3] - Y) ** 2)


# ------------------------------------------------------------------------------------ sums and ReLU(sum)
def _check_sum_like(proj, f, m, scale=1.5, static=None, on_graph=None):
    static = static or {}
    projb = _batched(proj, **static)
    X = RNG.normal(size=(N_QUERIES, m)) * scale
    Y = RNG.normal(size=N_QUERIES) * 2 * scale
    x, y = map(np.asarray, projb(X, Y))
    if on_graph is None:
        np.testing.assert_allclose(y, f(x.sum(1)), atol=1e-12)
    else:
        assert np.all(on_graph(x.sum(1), y))
    x2, y2 = map(np.asarray, projb(x, y))
    np.testing.assert_allclose(x2, x, atol=1e-12)
    np.testing.assert_allclose(y2, y, atol=1e-12)
    dist = ((x - X) ** 2).sum(1) + (y - Y) ** 2

    def sampler(k):
        base, s = (x, 0.05) if k % 2 == 0 else (X, 2 * scale)
        xp = base + RNG.normal(size=X.shape) * s
        return xp, f(xp.sum(1))

    _no_nearer(dist, sampler, lambda p: ((p[0] - X) ** 2).sum(1) + (p[1] - Y) ** 2)


@pytest.mark.parametrize("m", [1, 2, 3])
def test_sum_projection(m):
    _check_sum_like(P.project_sum, lambda s: s, m)


@pytest.mark.parametrize("m", [1, 2, 4])
def test_relu_sum_projection(m):
    _check_sum_like(P.project_relu_sum, lambda s: np.maximum(s, 0.0), m)


def test_relu_sum_both_branches_taken():
    proj = jax.jit(P.project_relu_sum)
    x, y = proj(jnp.array([-1.0, 0.2]), 2.0)   # far above the flat branch: linear
    assert float(y) > 0 and abs(float(x.sum()) - float(y)) < 1e-12
    x, y = proj(jnp.array([-1.0, 0.2]), 0.1)   # close to the flat branch
    assert float(y) == 0.0 and float(x.sum()) <= 0


@pytest.mark.parametrize("m,levels,step,low", [(1, 4, 1.0, 0.0), (2, 3, 0.5, -0.5), (3, 2, 2.0, -1.0)])
def test_quant_sum_projection(m, levels, step, low):
    def f(s):
        return low + step * np.clip(np.round((s - low) / step), 0, levels - 1)

    def on_closed_graph(s, y):
        """y is a level v_k and s lies in its (closed) step [v_k - step/2, v_k + step/2], the outer
        steps unbounded: at a jump both levels belong to the closure of the graph."""
        k = np.round((y - low) / step)
        is_level = (np.abs(low + step * k - y) < 1e-12) & (k >= 0) & (k <= levels - 1)
        left_ok = (k == 0) | (s >= y - step / 2 - 1e-12)
        right_ok = (k == levels - 1) | (s <= y + step / 2 + 1e-12)
        return is_level & left_ok & right_ok

    _check_sum_like(P.project_quant_sum, f, m, scale=1.5,
                    static=dict(levels=levels, step=step, low=low), on_graph=on_closed_graph)


def test_linear_quant_projection():
    """y = q(a . c), c constant (a data-fed quantised unit): on the closed graph, idempotent, nearest."""
    levels, step, low = 4, 1.0, 0.0
    proj = _batched(P.project_linear_quant, levels=levels, step=step, low=low)
    A, C = RNG.normal(size=(N_QUERIES, 3)), RNG.normal(size=(N_QUERIES, 3))
    Y = RNG.normal(size=N_QUERIES) * 2 + 1
    a, y = map(np.asarray, proj(A, C, Y))
    s = (a * C).sum(1)
    k = np.round((y - low) / step)
    assert np.all((np.abs(low + step * k - y) < 1e-12) & (k >= 0) & (k < levels))
    assert np.all(((k == 0) | (s >= y - step / 2 - 1e-9)) & ((k == levels - 1) | (s <= y + step / 2 + 1e-9)))
    a2, y2 = map(np.asarray, proj(a, C, y))
    np.testing.assert_allclose(a2, a, atol=1e-12)
    np.testing.assert_allclose(y2, y, atol=1e-12)
    dist = ((a - A) ** 2).sum(1) + (y - Y) ** 2

    def q(u):
        return low + step * np.clip(np.round((u - low) / step), 0, levels - 1)

    def sampler(k):
        base, s_ = (a, 0.05) if k % 2 == 0 else (A, 2.0)
        ap = base + RNG.normal(size=A.shape) * s_
        return ap, q((ap * C).sum(1))

    _no_nearer(dist, sampler, lambda p: ((p[0] - A) ** 2).sum(1) + (p[1] - Y) ** 2)


def test_quantize_is_a_staircase():
    u = jnp.linspace(-3, 6, 1001)
    q = np.asarray(P.quantize(u, levels=4))
    assert set(np.unique(q)) == {0.0, 1.0, 2.0, 3.0}
    assert np.all(np.diff(q) >= 0)
    g = jax.vmap(jax.grad(lambda v: P.quantize(v, levels=4)))(u)
    assert np.all(np.asarray(g) == 0)            # no gradient signal anywhere


# -------------------------------------------------------------------------------------------- max
@pytest.mark.parametrize("n", [2, 3, 4])
def test_max_projection(n):
    projb = _batched(P.project_max)
    X = RNG.normal(size=(N_QUERIES, n))
    X[: N_QUERIES // 4, 1] = X[: N_QUERIES // 4, 0]          # ties
    Y = RNG.normal(size=N_QUERIES) * 1.5
    x, y = map(np.asarray, projb(X, Y))
    np.testing.assert_allclose(y, x.max(1), atol=1e-12)
    x2, y2 = map(np.asarray, projb(x, y))
    np.testing.assert_allclose(x2, x, atol=1e-12)
    dist = ((x - X) ** 2).sum(1) + (y - Y) ** 2

    def sampler(k):
        base, s = (x, 0.05) if k % 2 == 0 else (X, 1.5)
        xp = base + RNG.normal(size=X.shape) * s
        if k % 3 == 0:                                  # points with a tied top-j group
            j = 1 + k % n
            top = np.sort(xp, 1)[:, ::-1]
            xp = np.where(xp >= top[:, j - 1:j], xp.max(1, keepdims=True), xp)
        return xp, xp.max(1)

    _no_nearer(dist, sampler, lambda p: ((p[0] - X) ** 2).sum(1) + (p[1] - Y) ** 2)


def test_max_ties_top_j():
    proj = jax.jit(P.project_max)
    x, y = proj(jnp.array([3.0, 2.0, 0.0]), 1.0)
    # top-2 tie: t = (1 + 3 + 2)/3 = 2 >= 0
    np.testing.assert_allclose(np.asarray(x), [2.0, 2.0, 0.0])
    assert float(y) == 2.0
    x, y = proj(jnp.array([1.0, 0.0]), 3.0)        # output above: raise the largest only
    np.testing.assert_allclose(np.asarray(x), [2.0, 0.0])
    assert float(y) == 2.0


# -------------------------------------------------------------------------------------------- box
def test_box_projection():
    lo = jnp.array([1.0, -jnp.inf, -jnp.inf])
    hi = jnp.array([jnp.inf, -1.0, -1.0])
    x = P.project_box(jnp.array([0.2, 0.5, -3.0]), lo, hi)
    np.testing.assert_allclose(np.asarray(x), [1.0, -1.0, -3.0])
    np.testing.assert_allclose(np.asarray(P.project_box(x, lo, hi)), np.asarray(x))


def test_op_table_roundtrip():
    """The op table's operand splitting matches the plain projections."""
    a, b = jnp.array([0.3, -1.0]), jnp.array([0.7, 0.1])
    ops, y = P.OPS["relu_sum"].project([a, b], 0.4)
    x, y2 = P.project_relu_sum(jnp.concatenate([a, b]), 0.4)
    np.testing.assert_allclose(np.concatenate([np.asarray(o) for o in ops]), np.asarray(x))
    assert float(y) == float(y2)
    assert float(P.OPS["dot"].forward([a, b])) == pytest.approx(float(a @ b))
    c = jnp.array([1.0, -2.0])
    assert float(P.OPS["dot_linear"].forward([a, b, a, c])) == pytest.approx(float(a @ c + b @ a))
    ops, y = P.OPS["dot_linear"].project([a, b, a, c], 5.0)
    np.testing.assert_array_equal(np.asarray(ops[3]), np.asarray(c))     # the constant is not moved
