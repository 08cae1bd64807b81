"""Recording a model's computation graph as groups of elementary ops over flat storage.

A model is ordinary code over arrays (see ``layers.py``). Run with a :class:`Graph` it records, instead
of computing, and every array is a :class:`Var`: an integer array of indices into one of two flat
stores, the per-item *values* (inputs, activations, outputs, constants) or the shared *parameters*.
Shape ops (reshape, indexing, transpose, concatenation, padding with constants, patch extraction) only
rearrange or repeat indices; they never become ops. The projection method later gives every op a
private copy of each operand, so a value that a shape op duplicated is simply one more copy, and the
concur step (averaging all copies of a value into its store slot) pulls shape ops back exactly.

An op record is K independent instances of one elementary op (``projections.OPS``): each operand is a
(K, n) index array of one store, the output a (K,) array of new value slots.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from btflearn.errors import ArchitectureError

VALUE, PARAM = "value", "param"


class Var:
    """A symbolic array: ``idx`` (any shape) indexes the value store or the parameter store."""

    __slots__ = ("graph", "kind", "idx")

    def __init__(self, graph: "Graph", kind: str, idx):
        self.graph, self.kind, self.idx = graph, kind, np.asarray(idx, dtype=np.int64)

    # numpy-like shape handling: pure index bookkeeping
    @property
    def shape(self):
        return self.idx.shape

    @property
    def ndim(self):
        return self.idx.ndim

    @property
    def size(self):
        return self.idx.size

    def reshape(self, *shape):
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        try:
            return Var(self.graph, self.kind, self.idx.reshape(shape))
        except ValueError as exc:
            raise ArchitectureError(f"cannot reshape an array of shape {self.shape} to {shape}") from exc

    def flatten(self):
        return self.reshape(-1)

    def transpose(self, *axes):
        return Var(self.graph, self.kind, self.idx.transpose(*axes))

    @property
    def T(self):
        return self.transpose()

    def __getitem__(self, key):
        return Var(self.graph, self.kind, self.idx[key])

    def __len__(self):
        return len(self.idx)

    def __repr__(self):
        return f"Var({self.kind}, shape={self.shape})"


def concatenate(vars_, axis: int = 0) -> Var:
    kinds = {v.kind for v in vars_}
    if len(kinds) != 1:
        raise ArchitectureError("cannot concatenate values with parameters")
    return Var(vars_[0].graph, kinds.pop(), np.concatenate([v.idx for v in vars_], axis=axis))


@dataclass
class ParamSpec:
    name: str
    idx: np.ndarray          # indices into the parameter store, shaped like the parameter
    fan_in: int              # for the initial scale; 0 means "start at zero" (biases)


@dataclass
class OpRecord:
    kind: str
    operands: list           # [(store kind, (K, n) int array)]
    out: np.ndarray | None   # (K,) value slots, None for pure constraints
    attrs: tuple = ()        # hashable static attributes, e.g. (("levels", 4), ("step", 1.0))

    @property
    def signature(self):
        return (self.kind, self.attrs, tuple((k, i.shape[1]) for k, i in self.operands), self.out is not None)


@dataclass
class Graph:
    """The recorder: allocates value slots and parameters and collects op records in execution order."""

    n_values: int = 0
    n_params: int = 0
    input_idx: np.ndarray | None = None
    const_idx: list = field(default_factory=list)
    const_val: list = field(default_factory=list)
    params: dict = field(default_factory=dict)
    ops: list = field(default_factory=list)
    output: Var | None = None
    _shared: dict = field(default_factory=dict)   # constant value -> its slot

    def _alloc_values(self, shape) -> Var:
        n = int(np.prod(shape, dtype=np.int64))
        idx = np.arange(self.n_values, self.n_values + n).reshape(shape)
        self.n_values += n
        return Var(self, VALUE, idx)

    def input(self, shape) -> Var:
        if self.input_idx is not None:
            raise ArchitectureError("a graph takes one input array")
        v = self._alloc_values(shape)
        self.input_idx = v.idx.ravel()
        return v

    def constant(self, shape, value: float = 0.0) -> Var:
        """A constant array; every entry of one value shares one slot (zeros for padding and an RNN's
        initial state, ones for the input that carries a bias)."""
        value = float(value)
        if value not in self._shared:
            slot = self._alloc_values(()).idx.item()
            self._shared[value] = slot
            self.const_idx.append(slot)
            self.const_val.append(value)
        return Var(self, VALUE, np.full(shape, self._shared[value], dtype=np.int64))

    def param(self, name: str, shape, fan_in: int) -> Var:
        shape = tuple(int(s) for s in shape)
        if name in self.params:
            spec = self.params[name]
            if spec.idx.shape != shape:
                raise ArchitectureError(f"parameter {name!r} reused with shape {shape}, "
                                        f"first created as {spec.idx.shape}")
            return Var(self, PARAM, spec.idx)
        n = int(np.prod(shape, dtype=np.int64))
        idx = np.arange(self.n_params, self.n_params + n).reshape(shape)
        self.n_params += n
        self.params[name] = ParamSpec(name, idx, int(fan_in))
        return Var(self, PARAM, idx)

    def op(self, kind: str, operands, attrs: dict | None = None, out: bool = True) -> Var | None:
        """Record K instances of an elementary op. ``operands`` are Vars shaped (K, n) (or (K,) for
        width 1); returns the (K,) output Var."""
        from .projections import OPS

        if kind not in OPS:
            raise ArchitectureError(f"unknown op {kind!r}")
        ops = []
        K = None
        for v in operands:
            if not isinstance(v, Var):
                raise ArchitectureError(f"op {kind!r} got a {type(v).__name__}, not a recorded array")
            idx = v.idx if v.idx.ndim == 2 else v.idx.reshape(-1, 1)
            if K is None:
                K = idx.shape[0]
            elif idx.shape[0] != K:
                raise ArchitectureError(f"op {kind!r}: operands disagree on the instance count "
                                        f"({idx.shape[0]} vs {K})")
            ops.append((v.kind, idx))
        outv = self._alloc_values((K,)) if out else None
        attrs = tuple(sorted((attrs or {}).items()))
        self.ops.append(OpRecord(kind, ops, None if outv is None else outv.idx, attrs))
        return outv

    def is_clamped(self, var: Var) -> np.ndarray:
        """Which entries of a Var are fixed in every solution: data inputs and constants."""
        if var.kind != VALUE:
            return np.zeros(var.shape, bool)
        fixed = np.asarray(self.const_idx, np.int64)
        if self.input_idx is not None:
            fixed = np.concatenate([fixed, self.input_idx])
        return np.isin(var.idx, fixed)

    # ---------------------------------------------------------------------------------- bookkeeping
    def value_counts(self) -> np.ndarray:
        """How many private copies each value slot has (operands and outputs of ops)."""
        c = np.zeros(self.n_values, dtype=np.int64)
        for rec in self.ops:
            for kind, idx in rec.operands:
                if kind == VALUE:
                    np.add.at(c, idx.ravel(), 1)
            if rec.out is not None:
                np.add.at(c, rec.out, 1)
        return c

    def param_counts(self) -> np.ndarray:
        c = np.zeros(self.n_params, dtype=np.int64)
        for rec in self.ops:
            for kind, idx in rec.operands:
                if kind == PARAM:
                    np.add.at(c, idx.ravel(), 1)
        return c

    def summary(self) -> str:
        kinds = {}
        for rec in self.ops:
            kinds[rec.kind] = kinds.get(rec.kind, 0) + len(rec.out if rec.out is not None else rec.operands[0][1])
        ops = ", ".join(f"{n} {k}" for k, n in kinds.items())
        return f"{self.n_values} values, {self.n_params} parameters, ops per item: {ops}"
