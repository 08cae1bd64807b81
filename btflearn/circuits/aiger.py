"""ASCII AIGER (``.aag``): the circuit as an and-inverter graph (MAJ3/MAJ5/threshold gates decomposed
into ANDs, OR and XOR by De Morgan), with a symbol table naming the ports. Combinational only (the reader
rejects latches)."""
from __future__ import annotations

from pathlib import Path

from ..errors import FormatError
from .decompose import to_aig
from .ir import CONST0, Gate, LogicNetwork


def write_aiger(net: LogicNetwork, comment: str | None = None) -> str:
    aig = to_aig(net)
    # IR node numbers are AIGER variables already: 0 constant, 1..I inputs, then the ANDs in order.
    m = aig.n_nodes - 1
    lines = [f"aag {m} {aig.n_inputs} 0 {aig.n_outputs} {aig.n_gates}"]
    lines += [str(2 * (1 + j)) for j in range(aig.n_inputs)]
    lines += [str(o) for o in aig.outputs]
    for g, gate in enumerate(aig.gates):
        a, b = gate.inputs()
        lines.append(f"{2 * (aig.first_gate + g)} {max(a, b)} {min(a, b)}")
    lines += [f"i{j} {name}" for j, name in enumerate(aig.input_names)]
    lines += [f"o{j} {name}" for j, name in enumerate(aig.output_names)]
    lines.append("c")
    lines.append(f"{net.name}: written by btflearn")
    if comment:
        lines += comment.splitlines()
    return "\n".join(lines) + "\n"


def read_aiger(source, text: str | None = None) -> LogicNetwork:
    """Read an ASCII AIGER file without latches (AND gates may come in any order)."""
    if text is None:
        try:
            text = Path(source).read_text()
        except OSError as exc:
            raise FormatError(source, f"cannot read: {exc.strerror}") from None
    lines = text.split("\n")
    head = lines[0].split() if lines else []
    if len(head) < 6 or head[0] != "aag":
        raise FormatError(source, "not an ASCII AIGER file (expected a header 'aag M I L O A')", 1)
    try:
        m, n_in, n_latch, n_out, n_and = (int(x) for x in head[1:6])
    except ValueError:
        raise FormatError(source, "the header counts must be integers", 1) from None
    if n_latch:
        raise FormatError(source, "latches are not supported: btflearn reads combinational AIGER", 1)
    if len(head) > 6 and any(int(x) for x in head[6:] if x.isdigit()):
        raise FormatError(source, "bad-state, constraint, justice and fairness sections are not supported", 1)

    def numbers(index, count):
        if index >= len(lines):
            raise FormatError(source, "the file ends early", index + 1)
        parts = lines[index].split()
        if len(parts) != count or not all(p.isdigit() for p in parts):
            raise FormatError(source, f"expected {count} unsigned integer(s), found {lines[index]!r}", index + 1)
        return [int(p) for p in parts]

    row = 1
    input_vars = []
    for _ in range(n_in):
        (x,) = numbers(row, 1)
        if x < 2 or x & 1 or x > 2 * m:
            raise FormatError(source, f"bad input literal {x}", row + 1)
        input_vars.append(x >> 1)
        row += 1
    out_lits = []
    for _ in range(n_out):
        (x,) = numbers(row, 1)
        if x > 2 * m + 1:
            raise FormatError(source, f"output literal {x} exceeds the maximum variable {m}", row + 1)
        out_lits.append((x, row + 1))
        row += 1
    ands = {}
    for _ in range(n_and):
        lhs, a, b = numbers(row, 3)
        if lhs < 2 or lhs & 1 or lhs > 2 * m or a > 2 * m + 1 or b > 2 * m + 1:
            raise FormatError(source, f"bad AND gate {lines[row]!r}", row + 1)
        if lhs >> 1 in ands or lhs >> 1 in input_vars:
            raise FormatError(source, f"variable {lhs >> 1} is defined twice", row + 1)
        ands[lhs >> 1] = (a, b, row + 1)
        row += 1
    if len(set(input_vars)) != n_in:
        raise FormatError(source, "an input variable is listed twice")
    in_names = [f"i{j}" for j in range(n_in)]
    out_names = [f"o{j}" for j in range(n_out)]
    name = Path(str(source)).stem
    comment = False
    for index in range(row, len(lines)):
        line = lines[index]
        if comment:
            continue
        if line == "c":
            comment = True
        elif line[:1] in ("i", "o") and " " in line and line[1:].split(" ", 1)[0].isdigit():
            pos, symbol = line[1:].split(" ", 1)
            table = in_names if line[0] == "i" else out_names
            if int(pos) >= len(table):
                raise FormatError(source, f"symbol for a {line[0]}-port that does not exist", index + 1)
            table[int(pos)] = symbol
        elif line.strip():
            if line[:1] in ("l", "b", "c", "j", "f"):
                continue
            raise FormatError(source, f"unexpected line {line!r}", index + 1)

    net = LogicNetwork(n_in, in_names, [], name)
    literal = {0: CONST0}
    for j, v in enumerate(input_vars):
        literal[v] = net.input_lit(j)
    pending = set()

    def resolve(x, line):
        var = x >> 1
        stack = [var]
        while stack:
            top = stack[-1]
            if top in literal:
                stack.pop()
                continue
            if top not in ands:
                raise FormatError(source, f"variable {top} is used but never defined", line)
            a, b, where = ands[top]
            missing = [v for v in (a >> 1, b >> 1) if v not in literal]
            if missing:
                if top in pending:
                    raise FormatError(source, f"combinational loop through variable {top}", where)
                pending.add(top)
                stack += missing
                continue
            pending.discard(top)
            la, lb = literal[a >> 1] ^ (a & 1), literal[b >> 1] ^ (b & 1)
            literal[top] = net.add_gate(Gate("thr", (CONST0, la, lb), (1, 1, 1)))
            stack.pop()
        return literal[var] ^ (x & 1)

    for (x, line), oname in zip(out_lits, out_names):
        net.add_output(resolve(x, line), oname)
    return net
