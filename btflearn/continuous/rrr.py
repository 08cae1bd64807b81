"""Divide-and-concur with RRR on a recorded graph: the projection method, no gradients anywhere.

Variables (for a mini-batch of B items): every op instance of every item holds private copies of its
operands and of its output; so do parameters (one copy per op use per item). Two constraint sets:

- A ("divide"): each op's copies lie on the op's graph, and each item's output copies lie in the
  margin box (y = +1 -> [margin, cap], y = -1 -> [-cap, -margin]). All these pieces are independent,
  so P_A is the op projections of ``projections.py`` applied in parallel (``jax.vmap``).
- B ("concur"): all copies of a value agree (per item), all copies of a parameter agree (across the
  whole batch), input slots equal the data and constants their value. P_B averages the copies of each
  slot (gather tables and row sums) and hands the mean back to every copy (a gather). Because shape ops
  only moved or repeated indices, this pulls them back exactly: a duplicated value has more copies.

RRR: z <- z + beta (P_A(2 P_B(z) - z) - P_B(z)); the parameters are read from P_B(z).
Mini-batches with warm starts: each batch starts at the point the current parameters define (a forward
pass fills the values, every parameter copy is the current value), runs ``iters`` RRR steps and hands
the concurred parameters to the next batch.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .graph import VALUE
from .projections import OPS


@dataclass
class Group:
    kind: str
    attrs: dict
    operands: list          # [(store kind, (K, n) int array)]
    out: np.ndarray | None  # (K,)


class Program:
    """The static part of the method for one recorded graph: op records merged into groups of identical
    ops (one vmapped projection each), copy counts, clamped slots."""

    def __init__(self, graph, weights: dict | None = None):
        """``weights``: op kind -> metric weight (default 1; "box" for the margin box). A weight is
        constant within an op, so it leaves that op's projection unchanged; the concur step becomes
        the weighted mean of the copies (the projection in that metric)."""
        if graph.output is None:
            raise ValueError("record the graph with graph.record(...) first")
        self.graph = graph
        merged: dict = {}
        for rec in graph.ops:
            merged.setdefault(rec.signature, []).append(rec)
        self.groups = []
        for recs in merged.values():
            r0 = recs[0]
            operands = [(kind, np.concatenate([r.operands[i][1] for r in recs], axis=0))
                        for i, (kind, _) in enumerate(r0.operands)]
            out = None if r0.out is None else np.concatenate([r.out for r in recs])
            self.groups.append(Group(r0.kind, dict(r0.attrs), operands, out))
        self.out_idx = graph.output.idx.ravel()
        self.weights = {k: float(v) for k, v in (weights or {}).items()}
        bad = [k for k, v in self.weights.items() if not v > 0]
        if bad:
            raise ValueError(f"metric weights must be positive: {bad}")
        self.group_w = [self.weights.get(g.kind, 1.0) for g in self.groups]
        self.box_w = self.weights.get("box", 1.0)
        vweight = np.zeros(graph.n_values)
        pweight = np.zeros(graph.n_params)
        for g, w in zip(self.groups, self.group_w):
            for kind, idx in g.operands:
                np.add.at(vweight if kind == VALUE else pweight, idx.ravel(), w)
            if g.out is not None:
                np.add.at(vweight, g.out, w)
        np.add.at(vweight, self.out_idx, self.box_w)      # the copy in the margin box
        self.inv_vcount = 1.0 / np.where(vweight > 0, vweight, 1.0)
        self.inv_pcount = 1.0 / np.where(pweight > 0, pweight, 1.0)
        self.input_idx = graph.input_idx
        self.const_idx = np.asarray(graph.const_idx, dtype=np.int64)
        self.const_val = np.asarray(graph.const_val, dtype=np.float64)
        self.n_values, self.n_params = graph.n_values, graph.n_params
        self._build_tables()

    def _build_tables(self):
        """Gather tables for the concur sums (a gather and a row sum beat a scatter-add on CPU).

        Value copies of one item, in a fixed order (group operands, group outputs, the box copy), form
        one vector of length Cv; ``vtable[s]`` lists the positions of the copies of free slot s (padded
        with Cv, a zero column). Parameter copies, summed over the batch, likewise with ``ptable``.
        Clamped slots (inputs, constants) need no sum. Slot values are put back in place by one gather
        from [free means | inputs | constants] with ``vperm``."""
        vslots, pslots = [], []
        for g in self.groups:
            for kind, idx in g.operands:
                (vslots if kind == VALUE else pslots).append(idx.ravel())
        for g in self.groups:
            if g.out is not None:
                vslots.append(g.out)
        vslots.append(self.out_idx)
        vslots = np.concatenate(vslots) if vslots else np.zeros(0, np.int64)
        pslots = np.concatenate(pslots) if pslots else np.zeros(0, np.int64)
        clamped = np.zeros(self.n_values, bool)
        clamped[self.input_idx] = True
        clamped[self.const_idx] = True
        self.free_idx = np.flatnonzero(~clamped)
        self.vtable = _table(vslots, self.free_idx, self.n_values)
        self.ptable = _table(pslots, np.arange(self.n_params), self.n_params)
        self.vtable_mean = self.inv_vcount[self.free_idx]
        nf, ni = self.free_idx.size, self.input_idx.size
        vperm = np.zeros(self.n_values, np.int64)
        vperm[self.free_idx] = np.arange(nf)
        vperm[self.input_idx] = nf + np.arange(ni)
        vperm[self.const_idx] = nf + ni + np.arange(self.const_idx.size)
        self.vperm = vperm
        self.copies_per_item = int(vslots.size + pslots.size)

    # ------------------------------------------------------------------------------ the pure functions
    def forward_values(self, pars, x):
        """All value slots (B, n_values) from a forward pass: ops in recorded (topological) order."""
        import jax
        import jax.numpy as jnp

        B = x.shape[0]
        vals = jnp.zeros((B, self.n_values), x.dtype)
        vals = vals.at[:, self.input_idx].set(x)
        if self.const_idx.size:
            vals = vals.at[:, self.const_idx].set(jnp.asarray(self.const_val, x.dtype))
        for rec in self.graph.ops:
            ops = [vals[:, idx] if kind == VALUE else jnp.broadcast_to(pars[idx], (B,) + idx.shape)
                   for kind, idx in rec.operands]
            f = OPS[rec.kind].forward
            attrs = dict(rec.attrs)
            y = jax.vmap(jax.vmap(lambda *o: f(list(o), **attrs)))(*ops)
            vals = vals.at[:, rec.out].set(y)
        return vals

    def gather(self, vals, pars):
        """Every copy set to its slot's value: the state (copies per group, output-box copies)."""
        import jax.numpy as jnp

        B = vals.shape[0]
        state = []
        for g in self.groups:
            ops = [vals[:, idx] if kind == VALUE else jnp.broadcast_to(pars[idx], (B,) + idx.shape)
                   for kind, idx in g.operands]
            out = vals[:, g.out] if g.out is not None else None
            state.append((ops, out))
        return state, vals[:, self.out_idx]

    def means(self, z, x):
        """P_B's slot values: the mean of each slot's copies, inputs and constants clamped."""
        import jax.numpy as jnp

        state, box = z
        B = x.shape[0]
        vparts, pparts = [], []

        def w(arr, weight):
            return arr if weight == 1.0 else arr * weight

        for g, gw, (ops, out) in zip(self.groups, self.group_w, state):
            for (kind, _), c in zip(g.operands, ops):
                if kind == VALUE:
                    vparts.append(w(c.reshape(B, -1), gw))
                else:
                    pparts.append(w(jnp.sum(c, axis=0).ravel(), gw))
        for g, gw, (ops, out) in zip(self.groups, self.group_w, state):
            if out is not None:
                vparts.append(w(out, gw))
        vparts.append(w(box, self.box_w))
        vcat = jnp.concatenate(vparts + [jnp.zeros((B, 1), x.dtype)], axis=1)
        free = jnp.sum(vcat[:, self.vtable], axis=-1) * jnp.asarray(self.vtable_mean, x.dtype)
        consts = jnp.broadcast_to(jnp.asarray(self.const_val, x.dtype), (B, self.const_idx.size))
        vals = jnp.concatenate([free, x, consts], axis=1)[:, self.vperm]
        if pparts:
            pcat = jnp.concatenate(pparts + [jnp.zeros((1,), x.dtype)])
            pars = jnp.sum(pcat[self.ptable], axis=-1) * jnp.asarray(self.inv_pcount / B, x.dtype)
        else:
            pars = jnp.zeros((self.n_params,), x.dtype)
        return vals, pars

    def concur(self, z, x):
        """P_B."""
        return self.gather(*self.means(z, x))

    def divide(self, z, lo, hi):
        """P_A: every op instance projected onto its graph, the outputs onto the margin box."""
        import jax
        import jax.numpy as jnp

        state, box = z
        new = []
        for g, (ops, out) in zip(self.groups, state):
            proj = OPS[g.kind].project
            attrs = g.attrs

            def one(ops_, y_, proj=proj, attrs=attrs):
                o, y = proj(list(ops_), y_, **attrs)
                return tuple(o), y

            o, y = jax.vmap(jax.vmap(one))(tuple(ops), out)
            new.append((list(o), y))
        return new, jnp.clip(box, lo, hi)


def _table(slots_of_copies, wanted, n_slots):
    """(len(wanted), max count) positions of the copies of each wanted slot, padded with len(copies)."""
    pad = slots_of_copies.size
    order = np.argsort(slots_of_copies, kind="stable")
    counts = np.bincount(slots_of_copies, minlength=n_slots)
    starts = np.concatenate([[0], np.cumsum(counts)])
    width = max(int(counts[wanted].max()) if wanted.size else 0, 1)
    table = np.full((wanted.size, width), pad, np.int64)
    for r, s in enumerate(wanted):
        pos = order[starts[s]:starts[s + 1]]
        table[r, :pos.size] = pos
    return table


def margin_box(y, margin: float, cap: float):
    """The output box for +-1 targets y: [margin, cap] where y = +1, [-cap, -margin] where y = -1."""
    import jax.numpy as jnp

    lo = jnp.where(y > 0, margin, -cap)
    hi = jnp.where(y > 0, cap, -margin)
    return lo, hi


def make_batch_solver(prog: Program, iters: int, beta: float = 1.0, margin: float = 1.0,
                      cap: float = float("inf")):
    """A jitted ``solve(pars, x, y, iters=iters) -> (pars', gap)``: RRR steps on one mini-batch from the
    warm start that ``pars`` defines; ``gap`` is |P_A(r) - P_B(z)| at the last step (0 at a solution),
    per item. ``iters`` may be changed per call without recompiling."""
    import jax
    import jax.numpy as jnp

    default_iters = int(iters)

    def solve(pars, x, y, iters):
        lo, hi = margin_box(y, margin, cap)
        z = prog.gather(prog.forward_values(pars, x), pars)

        def step(_, carry):
            z, _gap = carry
            pb = prog.concur(z, x)
            r = jax.tree_util.tree_map(lambda b, zz: 2.0 * b - zz, pb, z)
            pa = prog.divide(r, lo, hi)
            diff = jax.tree_util.tree_map(lambda a, b: a - b, pa, pb)
            gap = sum(jnp.sum(d * d) for d in jax.tree_util.tree_leaves(diff))
            z = jax.tree_util.tree_map(lambda zz, d: zz + beta * d, z, diff)
            return z, gap

        z, gap = jax.lax.fori_loop(0, iters, step, (z, jnp.zeros((), x.dtype)))
        _, new_pars = prog.means(z, x)
        return new_pars, jnp.sqrt(gap / x.shape[0])

    compiled = jax.jit(solve)

    def call(pars, x, y, iters=default_iters):
        return compiled(pars, x, y, jnp.asarray(iters, jnp.int32))

    return call
