"""Circuits out: extraction of a logic network from a solved BTF model, simplification, a gate-level IR
with a bit-parallel simulator and statistics, netlist writers/readers (BLIF, Verilog, AIGER, DOT) and
checks with real EDA tools (yosys, ABC).

Typical use::

    from btflearn.circuits import export_all
    stats = export_all(model, dataset, "out")  # out/circuit.blif, .v, .aag, .dot, all verified
"""
from .aiger import read_aig, read_aiger, write_aig, write_aiger
from .blif import read_blif, write_blif
from .dot import write_dot
from .export import (FORMATS, Circuit, compare_with_dataset, export_all, extract_circuit, no_circuit_reason,
                     read_netlist, render_checked)
from .extract import extract, fit_gate
from .ir import CONST0, CONST1, Gate, LogicNetwork
from .simplify import simplify
from .simulate import simulate, simulate_words
from .stats import circuit_stats, format_stats
from .verilog import read_verilog, write_verilog

__all__ = ["LogicNetwork", "Gate", "CONST0", "CONST1", "extract", "fit_gate", "simplify", "simulate",
           "simulate_words", "circuit_stats", "format_stats", "write_blif", "read_blif", "write_verilog",
           "read_verilog", "write_aiger", "read_aiger", "write_dot", "read_netlist", "export_all",
           "extract_circuit", "render_checked", "compare_with_dataset", "Circuit", "FORMATS", "no_circuit_reason"]
__all__ += ["read_aig", "write_aig"]
