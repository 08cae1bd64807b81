"""Recording models as op groups, the concur/divide projections of the composed problem, and RRR
solving a small problem exactly."""
import numpy as np
import pytest

jax = pytest.importorskip("jax")
import jax.numpy as jnp  # noqa: E402

from btflearn.continuous import graph, layers, rrr  # noqa: E402
from btflearn.errors import ArchitectureError  # noqa: E402

RNG = np.random.default_rng(7)


def _forward_both(model, n_in, items=4, seed=0, fuse=True):
    g = layers.record(model, (n_in,), fuse=fuse)
    params = layers.init_params(g, seed)
    params = {k: v + 0.1 * jnp.asarray(RNG.normal(size=v.shape), jnp.float32) for k, v in params.items()}
    x = jnp.asarray(RNG.uniform(-1, 1, size=(items, n_in)), jnp.float32)
    direct = jax.jit(jax.vmap(lambda xi: model(layers.Forward(params), xi)))(x)
    prog = rrr.Program(g)
    vals = jax.jit(prog.forward_values)(layers.params_to_flat(g, params), x)
    return np.asarray(direct), np.asarray(vals[:, prog.out_idx]), g


@pytest.mark.parametrize("name,kwargs,fuse", [
    ("mlp", {}, True), ("cnn", {}, True), ("rnn", {}, True), ("rnn", {}, False), ("cnn", {}, False),
    ("mlp", {"act": layers.Quant(levels=3)}, True),
])
def test_recorded_graph_computes_the_model(name, kwargs, fuse):
    model = layers.build(name, width=6, **kwargs)
    direct, recorded, g = _forward_both(model, 64, fuse=fuse)
    np.testing.assert_allclose(recorded, direct, rtol=1e-5, atol=1e-5)
    assert g.output.shape == (10,)


def test_ops_fed_by_data_are_linear():
    """Unfused: first layers see only data (linear ops); an RNN cell sees data next to its state
    (dot_linear; its first step, from the zero state, is linear); deeper layers are bilinear dots, then
    bias + activation ops. Fused: one op per unit, the bias a weight on the shared constant 1."""
    kinds = {}
    for name in ("mlp", "cnn", "rnn"):
        for fuse in (False, True):
            g = layers.record(layers.build(name, width=4), (64,), fuse=fuse)
            kinds[name, fuse] = [r.kind for r in g.ops]
    assert kinds["mlp", False] == ["linear", "relu_sum", "dot", "sum"]
    assert kinds["cnn", False] == ["linear", "relu_sum", "max", "dot", "sum"]
    assert kinds["rnn", False][:4] == ["linear", "relu_sum", "dot_linear", "relu_sum"]
    assert kinds["rnn", False][-2:] == ["dot", "sum"]
    assert kinds["mlp", True] == ["dot_linear_relu", "dot_linear"]
    assert kinds["cnn", True] == ["dot_linear_relu", "max", "dot_linear"]
    assert kinds["rnn", True] == ["dot_linear_relu"] * 8 + ["dot_linear"]
    quant = layers.build("mlp", width=4, act=layers.Quant(levels=3))
    assert [r.kind for r in layers.record(quant, (64,), fuse=True).ops] == ["linear_quant", "dot_linear"]
    assert [r.kind for r in layers.record(quant, (64,), fuse=False).ops] == ["linear", "quant_sum", "dot", "sum"]
    g = layers.record(layers.build("mlp", width=4), (64,), fuse=True)
    first = g.ops[0]
    assert first.operands[1][1].shape == (4, 0)          # no bilinear part: data and the constant 1 only
    assert first.operands[3][1].shape == (4, 65)


def test_same_padding_conv_and_layer_reuse():
    def model(nn, x):
        h = nn.conv2d("c", x.reshape(4, 4, 2), 3, kernel=3, padding="same", act="relu")
        h = nn.max_pool(h, 2)
        h = nn.dense("d", h.reshape(-1), 5, act="relu")
        h = nn.dense("d2", h, 5, act="relu")
        return nn.dense("d2", h, 5, act="linear")      # reuses d2's parameters
    direct, recorded, g = _forward_both(model, 32)
    np.testing.assert_allclose(recorded, direct, rtol=1e-5, atol=1e-5)
    assert set(g.params) == {"c/w", "c/b", "d/w", "d/b", "d2/w", "d2/b"}
    assert 0.0 in g._shared                              # padding shares one zero constant


def test_conv_patches_match_lax_conv():
    x = jnp.asarray(RNG.normal(size=(6, 5, 2)), jnp.float32)
    w = jnp.asarray(RNG.normal(size=(3 * 3 * 2, 4)), jnp.float32)
    out = layers.Forward({"c/w": w, "c/b": jnp.zeros(4)}).conv2d("c", x, 4, 3, "valid", "linear")
    kernel = w.reshape(3, 3, 2, 4)                                    # (di, dj, c, out) = HWIO
    ref = jax.lax.conv_general_dilated(x[None], kernel, (1, 1), "VALID",
                                       dimension_numbers=("NHWC", "HWIO", "NHWC"))[0]
    np.testing.assert_allclose(np.asarray(out), np.asarray(ref), rtol=1e-5, atol=1e-5)


def test_shape_ops_only_move_indices():
    g = graph.Graph()
    x = g.input((2, 3))
    assert x.reshape(3, 2).idx.ravel().tolist() == x.idx.ravel().tolist()
    assert x.T.idx[2, 1] == x.idx[1, 2]
    z = g.constant((2,))
    c = graph.concatenate([x[0], z])
    assert c.shape == (5,) and g.n_values == 7
    w = g.param("w", (3,), fan_in=3)
    with pytest.raises(ArchitectureError):
        graph.concatenate([x[0], w])
    with pytest.raises(ArchitectureError):
        g.param("w", (4,), fan_in=4)
    with pytest.raises(ArchitectureError):
        x.reshape(4, 2)


def test_bad_layers_are_clear_errors():
    with pytest.raises(ArchitectureError, match="padding"):
        layers.record(lambda nn, x: nn.conv2d("c", x.reshape(4, 4, 1), 2, 3, padding="full"), (16,))
    with pytest.raises(ArchitectureError, match="does not fit"):
        layers.record(lambda nn, x: nn.conv2d("c", x.reshape(2, 2, 1), 2, 3), (4,))
    with pytest.raises(ArchitectureError, match="activation"):
        layers.record(lambda nn, x: nn.dense("d", x, 2, act="tanh"), (4,))
    with pytest.raises(ArchitectureError, match="unknown model"):
        layers.build("transformer")


def _make_small_problem(seed=0, items=6):
    model = layers.mlp(hidden=(5,), classes=3)
    g = layers.record(model, (4,))
    prog = rrr.Program(g)
    pars = layers.params_to_flat(g, layers.init_params(g, seed))
    x = jnp.asarray(np.random.default_rng(seed).uniform(-1, 1, size=(items, 4)), jnp.float32)
    y = -np.ones((items, 3), np.float32)
    y[np.arange(items), np.arange(items) % 3] = 1
    return model, g, prog, pars, x, jnp.asarray(y)


_SMALL = {}


def _small_problem():
    if not _SMALL:
        _SMALL["problem"] = _make_small_problem()
    return _SMALL["problem"]


def _jitted(prog):
    if "jitted" not in _SMALL:
        _SMALL["jitted"] = (jax.jit(lambda p, x: prog.gather(prog.forward_values(p, x), p)),
                            jax.jit(prog.concur), jax.jit(prog.divide), jax.jit(prog.means))
    return _SMALL["jitted"]


def _random_state(z, scale=1.0):
    leaves, tree = jax.tree_util.tree_flatten(z)
    return jax.tree_util.tree_unflatten(
        tree, [leaf + scale * jnp.asarray(RNG.normal(size=leaf.shape), leaf.dtype) for leaf in leaves])


def _sqdist(a, b):
    return sum(float(jnp.sum((u - v) ** 2)) for u, v in zip(jax.tree_util.tree_leaves(a),
                                                           jax.tree_util.tree_leaves(b)))


def test_concur_is_the_averaging_projection():
    _, g, prog, pars, x, y = _small_problem()
    start, concur, _, means = _jitted(prog)
    z = _random_state(start(pars, x))
    pb = concur(z, x)
    # idempotent, and a projection onto a subspace: z - P_B(z) is orthogonal to any consensus move
    assert _sqdist(concur(pb, x), pb) < 1e-9
    other = start(pars * 0.5, x)
    inner = sum(float(jnp.sum((a - b) * (c - b))) for a, b, c in zip(
        jax.tree_util.tree_leaves(z), jax.tree_util.tree_leaves(pb), jax.tree_util.tree_leaves(other)))
    assert abs(inner) < 1e-3
    # parameters: the plain mean of all copies over the batch; inputs clamped to the data
    vals, p = means(z, x)
    k, dot_group = next((k, gr) for k, gr in enumerate(prog.groups) if gr.operands[0][0] == "param")
    w_copies = z[0][k][0][0]                        # (B, K, n) copies of the first op's weights
    idx = dot_group.operands[0][1]
    np.testing.assert_allclose(np.asarray(p)[idx[0, 0]],
                               np.mean(np.asarray(w_copies)[:, 0, 0]), rtol=1e-5)
    np.testing.assert_allclose(np.asarray(vals)[:, prog.input_idx], np.asarray(x))


def test_divide_is_idempotent_and_keeps_consistent_points():
    _, g, prog, pars, x, y = _small_problem()
    start, _, divide, _ = _jitted(prog)
    lo, hi = rrr.margin_box(y, 1.0, jnp.inf)
    z0 = start(pars, x)
    pa0 = divide(z0, lo, hi)
    # a forward pass is on every op's graph: only the margin box may move it
    assert _sqdist(pa0[0], z0[0]) < 1e-8
    z = _random_state(z0)
    pa = divide(z, lo, hi)
    assert _sqdist(divide(pa, lo, hi), pa) < 1e-6


def test_rrr_solves_a_small_problem_exactly():
    """Six items, a 4-5-3 ReLU net: RRR finds parameters meeting every margin (no gradients), and the
    distance between the two projections shrinks towards 0."""
    model, g, prog, pars, x, y = _small_problem()
    solve = rrr.make_batch_solver(prog, iters=50, beta=0.5, margin=1.0)
    gaps = []
    for iters in (50, 1000):
        new, gap = solve(pars, x, y, iters=iters)
        gaps.append(float(gap))
    assert gaps[1] < 0.1 * gaps[0] and gaps[1] < 0.03
    logits = np.asarray(jax.vmap(lambda xi: model(layers.Forward(layers.flat_to_params(g, new)), xi))(x))
    yy = np.asarray(y)
    assert np.all(logits * yy >= 0.95), logits * yy
