"""Net names for the writers: ports keep their names, a gate that drives an output (uncomplemented) is
named after that output, other gates get ``n<node>`` (made unique against the ports)."""
from __future__ import annotations

from dataclasses import dataclass

from ..errors import BtfError
from .ir import LogicNetwork, node_of


@dataclass
class NamePlan:
    names: list          # node -> net name (None for the constant node)
    aliases: list        # (output index, source literal) for outputs not named by their driver gate


def plan_names(net: LogicNetwork) -> NamePlan:
    net.validate()
    ports = set(net.input_names) | set(net.output_names)
    names = [None] + list(net.input_names) + [None] * net.n_gates
    aliases = []
    for j, o in enumerate(net.outputs):
        node = node_of(o)
        if net.is_gate(node) and not o & 1 and names[node] is None:
            names[node] = net.output_names[j]
        else:
            aliases.append((j, o))
    used = set(ports)
    for node in range(net.first_gate, net.n_nodes):
        if names[node] is None:
            name = f"n{node}"
            while name in used:
                name = "_" + name
            names[node] = name
            used.add(name)
    return NamePlan(names, aliases)


def check_plain_names(net: LogicNetwork, what: str) -> None:
    """Port names must be non-empty and free of whitespace and of the characters '#', '=' and '\\'."""
    for name in list(net.input_names) + list(net.output_names) + [net.name]:
        if not name or any(c.isspace() or c in "#=\\" for c in str(name)):
            raise BtfError(f"{what} cannot hold the name {name!r} (no whitespace, '#', '=' or '\\')")
