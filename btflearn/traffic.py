"""Bytes one RRR iteration of the Numba kernels moves to and from memory, counted from the kernel source
(kernels/numba_kernels.py: rrr_run / rrr_run_trials, block_pass, node_concur, block_weight_update,
_close_iteration). THIS MODEL MUST FOLLOW THE KERNEL: when a pass starts or stops touching an array,
change the table in ``iteration_bytes`` with it.

The model is a lower bound: every array a pass touches moves once per pass (caches ignored: nothing is
assumed to survive from one pass to the next, and within a pass every repeated touch is assumed to hit
a cache). An array a pass reads costs its rows once if the pass reads values it did not write itself;
an array a pass writes costs its rows once more (the write-back). No write-allocate reads, as STREAM
counts (btflearn.bandwidth).

Per trial and item, with E edges, V nodes (bias, inputs, BTF nodes), Vb = V - first_btf BTF nodes,
Vs = first_output senders (bias, inputs, hidden nodes), s the state's itemsize (8 or 4):

  pass 1, block_pass: zw read (E); zx read + write (2E); wa, xa written (E each; xa is read back only
                      in this pass); zy read + write (2V); g read (V) and its BTF rows written by the
                      pending metric update (Vb); ya written (V); gap_node read by the metric update
                      and written (2 Vb)                                            all at itemsize s
                      num written (V), den written (Vs); the data: inputs (n_in) and labels (n_out)
                      read                                                            float64 always
  pass 2, node_concur: zw, wa read (2E); g read (Vb)                                          s
  pass 3, block_weight_update: zw read + write (2E); wa read (E); gap_node read + write (2 Vb)  s
                      item_gap written (1)                                                   float64
  close: item_gap read (1)                                                                   float64

so 10 E s + (4 V + 6 Vb) s + 8 (V + Vs + n_in + n_out + 2) bytes per item. Per trial, not per item:
the concurred weights wb (E float64) written by pass 2 and read by pass 3.

Not counted: the plan scratch pl, pi ((19 + 5) rows x block items, float64/int64), reused at every node
of a block so it stays in the first-level caches; the graph's index arrays (E + V int64 per trial,
read from cache); the transposes into and out of the kernel layout at each backend call (amortised
over the iterations of a call). Scratch that stays float64 with a float32 state: num, den, pl, pi,
item_gap, wb and the data."""
from __future__ import annotations

from .kernels.graph import INPUT_DATA


def iteration_bytes(edges: int, nodes: int, first_btf: int, first_output: int, items: int, itemsize: int,
                    input_mode: int = INPUT_DATA) -> dict:
    """Bytes per RRR iteration of one trial in each pass (pass1, pass2, pass3, close) and their total,
    under the model of the module docstring. ``itemsize``: 8 for a float64 state, 4 for float32."""
    if itemsize not in (4, 8):
        raise ValueError(f"state itemsize must be 4 or 8 bytes, got {itemsize!r}")
    E, V, N, s = edges, nodes, items, itemsize
    if not 0 < first_btf <= first_output < V or E <= 0 or N <= 0:
        raise ValueError("a graph needs edges, items, a bias/input block, then BTF nodes and outputs")
    Vb, Vs = V - first_btf, first_output
    n_in, n_out = first_btf - 1, V - first_output
    data = (n_in if input_mode == INPUT_DATA else 0) + n_out  # binary/onehot inputs read zy, counted
    per_item = {
        "pass1": s * (E + 2 * E + E + E + 2 * V + V + Vb + V + 2 * Vb) + 8 * (V + Vs + data),
        "pass2": s * (2 * E + Vb),
        "pass3": s * (2 * E + E + 2 * Vb) + 8,
        "close": 8,
    }
    per_trial = {"pass2": 8 * E, "pass3": 8 * E}  # wb
    out = {k: v * N + per_trial.get(k, 0) for k, v in per_item.items()}
    out["total"] = sum(out.values())
    return out


def graph_iteration_bytes(graph, items: int, itemsize: int, trials: int = 1,
                          input_mode: int = INPUT_DATA) -> int:
    """Total bytes per RRR iteration of ``trials`` trials on a kernels.graph.KernelGraph."""
    E, V = len(graph.send), len(graph.in_start) - 1
    return trials * iteration_bytes(E, V, graph.first_btf, graph.first_output, items, itemsize,
                                    input_mode)["total"]
