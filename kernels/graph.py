"""The arrays that describe a network to the kernels (kernels see arrays only, never objects), and the
codes every kernel shares. kernels/cuda/btf_math.cuh repeats the codes as BTF_* macros; a test checks
that they agree."""
from typing import NamedTuple

import numpy as np

# Input modes: position in btflearn.dataset.INPUT_MODES ("data", "binary", "onehot").
INPUT_DATA, INPUT_BINARY, INPUT_ONEHOT = 0, 1, 2
# Status of a trial (slot) in the batched state.
RUNNING, BELOW_GAPSTOP, AT_MAX_ITER = 0, 1, 2


class KernelGraph(NamedTuple):
    recv: np.ndarray       # (E,) receiver of every edge, edges sorted by receiver
    send: np.ndarray       # (E,) sender of every edge
    in_start: np.ndarray   # (V+1,) in-edges of node n are in_start[n]:in_start[n+1]
    out_start: np.ndarray  # (V+1,) out-edges of node s are out_edges[out_start[s]:out_start[s+1]]
    out_edges: np.ndarray  # (E,)
    delta: np.ndarray      # (V,) margin of every node (0 for bias and inputs)
    first_btf: int         # first hidden (or output) node = n_inputs + 1
    first_output: int      # first output node
    support: np.ndarray | None = None  # (V,) int64: weight support s of every node's gate projection, 0 = off


def support_array(network, support) -> np.ndarray:
    """(V,) int64 per-node support for the gate projection: an int for every BTF node, or a (V,) array
    (0 = plain normalisation). Supports wider than a node's in-degree are cut to the in-degree."""
    V = network.n_nodes
    arr = np.zeros(V, dtype=np.int64)
    if np.ndim(support) == 0:
        arr[network.first_btf:] = int(support)
    else:
        arr[:] = np.asarray(support, dtype=np.int64).reshape(V)
    deg = np.diff(np.asarray(network.in_start, dtype=np.int64))
    arr = np.minimum(arr, deg)
    arr[:network.first_btf] = 0
    if np.any(arr < 0):
        raise ValueError("a node's weight support cannot be negative")
    return np.ascontiguousarray(arr)


def kernel_graph(network, sigma: float, support=None) -> KernelGraph:
    """KernelGraph of a btflearn.network.Network with margins delta_n = sqrt(m_n / sigma); ``support``
    (None, an int or a (V,) array) turns on the gate projection of the concurred weights (see
    kernels.reference.support_project)."""
    i64 = lambda a: np.ascontiguousarray(a, dtype=np.int64)  # noqa: E731
    return KernelGraph(i64(network.receivers), i64(network.senders), i64(network.in_start),
                       i64(network.out_start), i64(network.out_edges),
                       np.ascontiguousarray(network.margins(sigma), dtype=np.float64),
                       int(network.first_btf), int(network.first_output),
                       None if support is None else support_array(network, support))
