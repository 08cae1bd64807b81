"""Graphviz DOT drawing of a LogicNetwork: inputs at the top, one box per gate labelled with its type
(threshold gates with their weights and threshold), outputs at the bottom; a complemented edge is dashed
with an open-dot arrowhead."""
from __future__ import annotations

from .ir import LogicNetwork, node_of


def _quote(text: str) -> str:
    return '"' + str(text).replace("\\", "\\\\").replace('"', '\\"') + '"'


def _label(gate) -> str:
    kind = gate.kind
    if kind != "thr":
        return kind.upper()
    lits, ws, t = gate.threshold01()
    return f"THR >= {t}\\n({', '.join(map(str, ws))})"


def write_dot(net: LogicNetwork, comment: str | None = None) -> str:
    lines = []
    if comment:
        lines += [f"// {line}" for line in comment.splitlines()]
    lines += [f"digraph {_quote(net.name)} {{", "  rankdir=TB;", '  node [fontname="Helvetica"];']
    used_const = any(node_of(f) == 0 for g in net.gates if g.kind not in ("and", "or") for f in g.fanins) or \
        any(node_of(o) == 0 for o in net.outputs)
    if used_const:
        lines.append('  c0 [label="0", shape=plaintext];')
    lines.append("  { rank=source;")
    for j, name in enumerate(net.input_names):
        lines.append(f"    n{1 + j} [label={_quote(name)}, shape=invtriangle];")
    lines.append("  }")
    for g, gate in enumerate(net.gates):
        node = net.first_gate + g
        shape = "ellipse" if gate.kind in ("and", "or", "xor") else "box"
        lines.append(f"  n{node} [label={_quote(_label(gate))}, shape={shape}];")
        for f in gate.fanins:
            if gate.kind in ("and", "or") and node_of(f) == 0:
                continue  # the constant of AND = MAJ(0,a,b) / OR = MAJ(1,a,b) is in the label
            lines.append(f"  {_ref(f)} -> n{node}{_style(f)};")
    lines.append("  { rank=sink;")
    for j, name in enumerate(net.output_names):
        lines.append(f"    o{j} [label={_quote(name)}, shape=triangle];")
    lines.append("  }")
    for j, o in enumerate(net.outputs):
        lines.append(f"  {_ref(o)} -> o{j}{_style(o)};")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _ref(literal: int) -> str:
    return "c0" if node_of(literal) == 0 else f"n{node_of(literal)}"


def _style(literal: int) -> str:
    return " [style=dashed, arrowhead=odot]" if literal & 1 else ""
