"""BLIF: ``.model``, ``.inputs``, ``.outputs``, one ``.names`` per gate (its sum-of-products cover with
complemented inputs written as 0), ``.end``. Outputs that are not named by their driver gate (an inverted
gate, an input, a constant, a second output of the same gate) get a one-input ``.names``.

The reader takes combinational BLIF (``.names`` only; one model) as written by btflearn, ABC or yosys.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import FormatError
from .covers import gate_cover, prepare_for_writing, recognize
from .decompose import HashingBuilder
from .ir import CONST0, CONST1, LogicNetwork, negate, node_of
from .naming import check_plain_names, plan_names


def write_blif(net: LogicNetwork, comment: str | None = None) -> str:
    check_plain_names(net, "BLIF")
    net = prepare_for_writing(net)
    plan = plan_names(net)
    names = plan.names
    lines = []
    if comment:
        lines += [f"# {line}" for line in comment.splitlines()]
    lines += [f".model {net.name}", ".inputs " + " ".join(net.input_names),
              ".outputs " + " ".join(net.output_names)]
    for g, gate in enumerate(net.gates):
        inputs, cubes = gate_cover(gate)
        lines.append(".names " + " ".join([names[node_of(f)] for f in inputs] + [names[net.first_gate + g]]))
        lines += [f"{cube} 1" for cube in cubes]
    for j, o in plan.aliases:
        out = net.output_names[j]
        if node_of(o) == 0:
            lines.append(f".names {out}")
            if o == CONST1:
                lines.append("1")
        else:
            lines.append(f".names {names[node_of(o)]} {out}")
            lines.append("0 1" if o & 1 else "1 1")
    lines.append(".end")
    return "\n".join(lines) + "\n"


def _logical_lines(text: str):
    """(line number, tokens) per logical line: comments removed, backslash continuations joined."""
    pending, start = [], None
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0].rstrip()
        if start is None:
            start = number
        if line.endswith("\\"):
            pending.append(line[:-1])
            continue
        pending.append(line)
        tokens = " ".join(pending).split()
        if tokens:
            yield start, tokens
        pending, start = [], None
    if pending and " ".join(pending).split():
        yield start, " ".join(pending).split()


def read_blif(source, text: str | None = None) -> LogicNetwork:
    """Read a combinational BLIF file (or ``text``, with ``source`` naming it in errors)."""
    if text is None:
        try:
            text = Path(source).read_text()
        except OSError as exc:
            raise FormatError(source, f"cannot read: {exc.strerror}") from None
    model, inputs, outputs = None, [], []
    defs = {}  # net -> (inputs, cubes, line)
    current = None
    ended = False
    for number, tokens in _logical_lines(text):
        head = tokens[0]
        if ended:
            if head == ".model":
                raise FormatError(source, "more than one .model: only single-model BLIF is supported", number)
            continue
        if head.startswith("."):
            current = None
            if head == ".model":
                if model is not None:
                    raise FormatError(source, "more than one .model: only single-model BLIF is supported",
                                      number)
                model = tokens[1] if len(tokens) > 1 else "circuit"
            elif head == ".inputs":
                inputs += tokens[1:]
            elif head == ".outputs":
                outputs += tokens[1:]
            elif head == ".names":
                if len(tokens) < 2:
                    raise FormatError(source, ".names needs at least an output net", number)
                out = tokens[-1]
                if out in defs:
                    raise FormatError(source, f"net {out!r} is defined twice", number)
                current = defs[out] = (tokens[1:-1], [], number)
            elif head == ".end":
                ended = True
            elif head in (".latch", ".subckt", ".gate", ".mlatch", ".exdc", ".search"):
                raise FormatError(source, f"{head} is not supported: btflearn reads combinational BLIF "
                                          f"with .names only", number)
            elif head.startswith(".default") or head in (".input_arrival", ".output_required", ".wire_load_slope",
                                                           ".area", ".delay"):
                continue  # timing annotations
            else:
                raise FormatError(source, f"unknown BLIF construct {head}", number)
            continue
        if current is None:
            raise FormatError(source, f"unexpected line {' '.join(tokens)!r} outside a .names cover", number)
        n_in = len(current[0])
        if n_in == 0:
            if len(tokens) != 1 or tokens[0] not in ("0", "1"):
                raise FormatError(source, "a constant .names line must be 0 or 1", number)
            cube, value = "", tokens[0]
        else:
            if len(tokens) != 2 or len(tokens[0]) != n_in or set(tokens[0]) - set("01-") or \
                    tokens[1] not in ("0", "1"):
                raise FormatError(source, f"a cover line needs {n_in} characters of 0/1/- and an output 0 or 1, "
                                          f"found {' '.join(tokens)!r}", number)
            cube, value = tokens
        current[1].append((cube, value, number))
    if model is None:
        raise FormatError(source, "no .model line: not a BLIF file")
    if not outputs:
        raise FormatError(source, "no .outputs")
    if len(set(inputs)) != len(inputs):
        raise FormatError(source, "an input is listed twice")
    for name in inputs:
        if name in defs:
            raise FormatError(source, f"input {name!r} is also defined by a .names", defs[name][2])

    net = LogicNetwork(len(inputs), list(inputs), [], model)
    builder = HashingBuilder(net)
    literal = {name: net.input_lit(j) for j, name in enumerate(inputs)}
    visiting = set()

    def resolve(name, line):
        if name in literal:
            return literal[name]
        if name not in defs:
            raise FormatError(source, f"net {name!r} is used but never defined", line)
        stack = [name]
        while stack:  # iterative depth-first resolution (deep netlists)
            top = stack[-1]
            if top in literal:
                stack.pop()
                continue
            fanins, cubes, number = defs[top]
            missing = [f for f in fanins if f not in literal]
            if missing:
                if top in visiting:
                    raise FormatError(source, f"combinational loop through net {top!r}", number)
                visiting.add(top)
                for f in missing:
                    if f not in defs:
                        raise FormatError(source, f"net {f!r} is used but never defined", number)
                    if f in visiting:
                        raise FormatError(source, f"combinational loop through net {f!r}", number)
                    stack.append(f)
                continue
            visiting.discard(top)
            literal[top] = _cover_literal(net, builder, [literal[f] for f in fanins], cubes, source)
            stack.pop()
        return literal[name]

    for name in outputs:
        net.add_output(resolve(name, None), name)
    return net


def _cover_literal(net, builder, lits, cubes, source):
    if not cubes:
        return CONST0
    values = {v for _, v, _ in cubes}
    if len(values) != 1:
        raise FormatError(source, "a cover mixes on-set (1) and off-set (0) lines", cubes[0][2])
    onset = values.pop() == "1"
    k = len(lits)
    if k <= 6:
        x = ((np.arange(1 << k)[:, None] >> np.arange(k)) & 1).astype(bool)
        table = np.zeros(1 << k, dtype=bool)
        for cube, _, _ in cubes:
            hit = np.ones(1 << k, dtype=bool)
            for i, c in enumerate(cube):
                if c != "-":
                    hit &= x[:, i] == (c == "1")
            table |= hit
        if not onset:
            table = ~table
        found = recognize(table, lits)
        if isinstance(found, int):
            return found
        if found is not None:
            gate, flip = found
            return net.add_gate(gate) ^ flip
    total = CONST0
    for cube, _, _ in cubes:
        term = CONST1
        for i, c in enumerate(cube):
            if c != "-":
                term = builder.and2(term, lits[i] if c == "1" else negate(lits[i]))
        total = builder.or2(total, term)
    return total if onset else negate(total)
