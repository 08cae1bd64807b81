"""A Shannon split of a BTF network: one network per cofactor of the function on s of its inputs,
joined into a single BTF network by a multiplexer of threshold gates.

A function of 9-11 inputs whose Walsh weight sits on products of four or more of them looks random to a
network of a few dozen nodes, and the projections fit only 60% of its patterns in minutes (IWLS 2020
ex40). Fixing s of its inputs leaves 2^s functions of k - s inputs (the cofactors); one of five inputs
has 32 patterns and fits in a few hundred iterations. The join adds, per cofactor c and output o, the
term AND(the s literals that select c, the cofactor's output o) and, per output, the OR of its terms.
Both are threshold gates with weights +-1:

* AND of L literals: sum of the literals - (L - 1) > 0, i.e. a bias weight L - 1 (the bias node is -1);
* OR of T terms: sum of the terms + (T - 1) > 0, i.e. a bias weight -(T - 1);

so no weighted sum is ever 0, and the joined network computes each cofactor's network exactly on its
cofactor. A cofactor may also be a constant: True gives a term of the s select literals alone, False
gives no term.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from .dataset import Dataset
from .errors import BtfError
from .model import Model
from .network import Network


@dataclass
class Cofactors:
    """The parts of a split model, kept to rework its leaves and join them again."""
    models: list      # per cofactor: its Model, or its +-1 constant per output
    rows: list        # per cofactor: the leaf's training inputs (None for a constant)
    join: Callable    # leaves -> the joined Model (``join_cofactors`` with the split's select)


def cofactor_index(inputs: np.ndarray, select) -> np.ndarray:
    """The cofactor of every row: bit j is set when input ``select[j]`` is True."""
    select = list(select)
    return ((np.asarray(inputs)[:, select] > 0) @ (1 << np.arange(len(select)))).astype(np.int64)


def cofactor_datasets(dataset: Dataset, select) -> list:
    """The items of each cofactor of the inputs ``select`` (c as in ``cofactor_index``), over the other
    inputs in their order; None for a cofactor without items."""
    select = [int(j) for j in select]
    rest = [j for j in range(dataset.n_inputs) if j not in select]
    code = cofactor_index(dataset.inputs, select)
    out = []
    for c in range(1 << len(select)):
        rows = code == c
        out.append(Dataset(dataset.inputs[rows][:, rest], dataset.outputs[rows],
                           input_names=[dataset.input_names[j] for j in rest],
                           output_names=list(dataset.output_names), name=f"{dataset.name}.c{c}")
                   if rows.any() else None)
    return out


def check_select(select, n_inputs: int) -> list:
    """``select`` as a list of input positions; BtfError unless 1 to n_inputs - 1 distinct ones."""
    select = [int(j) for j in select]
    if not 1 <= len(select) < n_inputs or len(set(select)) != len(select) or \
            not all(0 <= j < n_inputs for j in select):
        raise BtfError(f"a split selects 1 to {n_inputs - 1} distinct inputs of {n_inputs}, got {select}")
    return select


def join_cofactors(leaves: list, select, n_inputs: int, n_outputs: int, input_names=None,
                   output_names=None, name: str = "shannon") -> Model:
    """One Model over ``n_inputs`` whose inputs ``select`` (s positions) choose the cofactor:
    ``leaves[c]`` (c as in ``cofactor_index``) is a Model over the other n_inputs - s inputs, in their
    order, or one +-1 value per output (a constant cofactor)."""
    select = check_select(select, n_inputs)
    s = len(select)
    if len(leaves) != 1 << s:
        raise BtfError(f"a split on {s} of {n_inputs} inputs needs {1 << s} cofactors, got {len(leaves)}")
    rest = [j for j in range(n_inputs) if j not in select]
    edges, weights = [], []
    next_node = 1 + n_inputs
    leaf_out = []                 # per cofactor: the node of each output, or the constant +-1
    for leaf in leaves:
        if not isinstance(leaf, Model):
            const = np.asarray(leaf, dtype=float).reshape(-1)
            if const.shape != (n_outputs,) or not np.all(np.isin(const, (-1.0, 1.0))):
                raise BtfError(f"a constant cofactor needs {n_outputs} values of +-1")
            leaf_out.append([float(v) for v in const])
            continue
        net = leaf.network
        if net.n_inputs != n_inputs - s or net.n_outputs != n_outputs:
            raise BtfError(f"a cofactor network needs {n_inputs - s} inputs and {n_outputs} outputs, "
                           f"got {net.n_inputs} and {net.n_outputs}")
        # the leaf's bias stays 0, its input j is node 1 + rest[j], its BTF nodes follow in order
        mapping = np.concatenate([[0], 1 + np.asarray(rest, dtype=np.int64),
                                  next_node + np.arange(net.n_btf)])
        edges += zip(mapping[net.receivers].tolist(), mapping[net.senders].tolist())
        weights += leaf.weights.tolist()
        leaf_out.append([int(mapping[n]) for n in range(net.first_output, net.n_nodes)])
        next_node += net.n_btf
    terms = [[] for _ in range(n_outputs)]
    for c, outs in enumerate(leaf_out):
        literals = [(1 + j, 1.0 if c >> i & 1 else -1.0) for i, j in enumerate(select)]
        for o, out in enumerate(outs):
            if isinstance(out, float) and out < 0:
                continue          # a False cofactor adds no term
            fanins = literals + ([] if isinstance(out, float) else [(out, 1.0)])
            edges.append((next_node, 0))
            weights.append(len(fanins) - 1.0)
            for sender, w in fanins:
                edges.append((next_node, sender))
                weights.append(w)
            terms[o].append(next_node)
            next_node += 1
    for o in range(n_outputs):
        node = next_node + o
        if not terms[o]:          # False everywhere: -1 from the bias, nothing from input 1
            edges += [(node, 0), (node, 1)]
            weights += [1.0, 0.0]
            continue
        edges.append((node, 0))
        weights.append(-(len(terms[o]) - 1.0))
        for t in terms[o]:
            edges.append((node, t))
            weights.append(1.0)
    n_nodes = next_node + n_outputs
    edges = np.asarray(edges, dtype=np.int64)
    net = Network.from_edges(n_nodes, n_inputs, n_outputs, edges,
                             arch="split:" + ",".join(map(str, select)))
    order = np.lexsort((edges[:, 1], edges[:, 0]))   # from_edges sorts edges by receiver, then sender
    return Model(net, np.asarray(weights)[order], input_names, output_names, name=name)
