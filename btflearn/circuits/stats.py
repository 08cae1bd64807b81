"""Circuit statistics: gates by type, size in 2-input gates, depth."""
from __future__ import annotations

from .decompose import to_two_input
from .ir import KINDS, LogicNetwork, is_complement, is_const

COUNTING = ("2-input gates, NOT free: AND, OR, XOR = 1; MAJ3 = 4 (b&c | a&(b|c)); MAJ5 = 12 and other "
            "threshold gates = the gates of their unate Shannon decomposition; counted on the decomposed "
            "network, equal gates shared")


def circuit_stats(net: LogicNetwork) -> dict:
    """A JSON-ready summary: ``gates`` (IR gates), ``by_type`` (and/or/xor/maj3/maj5/thr/buf),
    ``gates2`` (2-input gates, NOT free; see ``COUNTING``), ``depth`` (IR gate levels), ``depth2`` (levels of
    the 2-input network), ``inverters`` (complemented edges, free), ``inputs``/``outputs``."""
    by_type = {k: 0 for k in KINDS}
    inverters = 0
    for gate in net.gates:
        by_type[gate.kind] += 1
        inverters += sum(1 for f in gate.fanins if is_complement(f) and not is_const(f))
    inverters += sum(1 for o in net.outputs if is_complement(o) and not is_const(o))
    two = to_two_input(net)
    return {
        "inputs": net.n_inputs,
        "outputs": net.n_outputs,
        "gates": net.n_gates,
        "by_type": {k: v for k, v in by_type.items() if v or k != "buf"},
        "gates2": two.n_gates,
        "depth": net.depth(),
        "depth2": two.depth(),
        "inverters": inverters,
    }


def format_stats(stats: dict) -> str:
    """One line: '12 gates (and 5, xor 2, ...), 7 two-input gates, depth 3 (2-input depth 4)'."""
    kinds = ", ".join(f"{k} {v}" for k, v in stats["by_type"].items() if v)
    return (f"{stats['gates']} gates ({kinds or 'none'}), {stats['gates2']} two-input gates (NOT free), "
            f"depth {stats['depth']} (2-input depth {stats['depth2']})")
