"""The network graph: a DAG of Boolean threshold function (BTF) nodes.

Node numbering follows the authors' ``.net`` format: node 0 is the constant bias node (value -1, False),
nodes 1..n_inputs are the inputs, then the hidden nodes, and the last ``n_outputs`` nodes are the outputs.
Node order is a topological order (every sender has a smaller number than its receiver). Every BTF node
(hidden or output) receives an edge from the bias node. Edges are stored sorted by receiver, so the
in-edges of a node (its "trio" in the solver) are contiguous: ``in_start[n]:in_start[n+1]``.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .errors import ArchitectureError


@dataclass(frozen=True)
class Network:
    n_nodes: int
    n_inputs: int
    n_outputs: int
    receivers: np.ndarray  # (E,) int64, sorted
    senders: np.ndarray    # (E,) int64
    in_start: np.ndarray   # (V+1,) CSR offsets of the in-edges of every node
    out_start: np.ndarray  # (V+1,) CSR offsets into out_edges
    out_edges: np.ndarray  # (E,) edge ids grouped by sender
    arch: str = ""

    # -- sizes -------------------------------------------------------------------------------------
    @property
    def n_edges(self) -> int:
        return int(self.receivers.shape[0])

    @property
    def first_btf(self) -> int:
        """Number of the first BTF node (the first hidden node, or the first output)."""
        return self.n_inputs + 1

    @property
    def first_output(self) -> int:
        return self.n_nodes - self.n_outputs

    @property
    def n_btf(self) -> int:
        return self.n_nodes - self.first_btf

    @property
    def in_degree(self) -> np.ndarray:
        """m_n: the number of in-edges of every node, the bias edge included (0 for bias and inputs)."""
        return np.diff(self.in_start)

    def margins(self, sigma: float) -> np.ndarray:
        """delta_n = sqrt(m_n / sigma) for every node (0 where there are no in-edges)."""
        if not sigma > 0:
            raise ArchitectureError(f"sigma must be positive, got {sigma}")
        return np.sqrt(self.in_degree / float(sigma))

    def describe(self) -> str:
        return (f"{self.arch or 'network'}: {self.n_nodes} nodes ({self.n_inputs} inputs, "
                f"{self.n_btf - self.n_outputs} hidden, {self.n_outputs} outputs), {self.n_edges} edges")

    # -- construction ------------------------------------------------------------------------------
    @staticmethod
    def from_edges(n_nodes: int, n_inputs: int, n_outputs: int, edges, arch: str = "") -> "Network":
        """Build from (receiver, sender) pairs; validates the DAG conventions above."""
        edges = np.asarray(list(edges), dtype=np.int64).reshape(-1, 2)
        if n_inputs < 0 or n_outputs < 1 or n_nodes < n_inputs + 1 + n_outputs:
            raise ArchitectureError(f"{n_nodes} nodes cannot hold the bias, {n_inputs} inputs and "
                                    f"{n_outputs} outputs")
        recv, send = edges[:, 0], edges[:, 1]
        missing = np.flatnonzero((recv < 0) | (recv >= n_nodes) | (send < 0) | (send >= n_nodes))
        if missing.size:
            r, s = (int(v) for v in edges[missing[0]])
            node = r if not 0 <= r < n_nodes else s
            raise ArchitectureError(f"edge {r} <- {s} refers to node {node}, which does not exist "
                                    f"(the network has nodes 0..{n_nodes - 1})")
        into = np.flatnonzero(recv < n_inputs + 1)
        if into.size:
            r, s = (int(v) for v in edges[into[0]])
            raise ArchitectureError(f"edge {r} <- {s} points into the bias node or an input node (nodes "
                                    f"0..{n_inputs}), which take no inputs")
        if np.any(send >= recv):
            raise ArchitectureError("every edge must run from a lower-numbered sender to a higher-numbered "
                                    "receiver (node order is a topological order)")
        order = np.lexsort((send, recv))
        recv, send = recv[order], send[order]
        if np.any((np.diff(recv) == 0) & (np.diff(send) == 0)):
            raise ArchitectureError("duplicate edge")
        in_start = np.searchsorted(recv, np.arange(n_nodes + 1)).astype(np.int64)
        for n in range(n_inputs + 1, n_nodes):
            lo, hi = in_start[n], in_start[n + 1]
            if hi == lo or send[lo] != 0:
                raise ArchitectureError(f"node {n} has no edge from the bias node 0")
            if hi - lo < 2:
                raise ArchitectureError(f"node {n} has no input besides the bias")
        out_edges = np.argsort(send, kind="stable").astype(np.int64)
        out_start = np.searchsorted(send[out_edges], np.arange(n_nodes + 1)).astype(np.int64)
        return Network(int(n_nodes), int(n_inputs), int(n_outputs), recv, send, in_start, out_start,
                       out_edges, arch)

    @staticmethod
    def layered(widths, dense: bool = False) -> "Network":
        """Layers of the given widths, input first. Each node sees the bias and every node of the layer
        below; with ``dense`` it sees every node of every earlier layer (skip connections)."""
        widths = [int(w) for w in widths]
        if len(widths) < 2 or any(w < 1 for w in widths):
            raise ArchitectureError(f"a layered architecture needs at least two positive widths, got {widths}")
        starts = np.concatenate([[1], 1 + np.cumsum(widths)])
        edges = []
        for layer in range(1, len(widths)):
            below = range(starts[0] if dense else starts[layer - 1], starts[layer])
            for r in range(starts[layer], starts[layer + 1]):
                edges.append((r, 0))
                edges.extend((r, s) for s in below)
        name = ("dense:" if dense else "") + "-".join(map(str, widths))
        return Network.from_edges(int(starts[-1]), widths[0], widths[-1], edges, arch=name)
