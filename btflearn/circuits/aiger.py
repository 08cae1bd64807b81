"""AIGER: the circuit as an and-inverter graph (MAJ3/MAJ5/threshold gates decomposed into ANDs, OR and
XOR by De Morgan), with a symbol table naming the ports. ASCII (``.aag``) and binary (``.aig``, AIGER 1.9:
inputs implicit, each AND as two delta-encoded unsigned varints). Combinational only (the readers reject
latches)."""
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


def write_aig(net: LogicNetwork, comment: str | None = None) -> bytes:
    """Binary AIGER: the header and output literals in ASCII, then for AND gate ``lhs = rhs0 & rhs1``
    (rhs0 >= rhs1, lhs = 2 (I + 1 + g)) the deltas lhs - rhs0 and rhs0 - rhs1 as 7-bit varints (low
    groups first, high bit set on every byte but the last), then the symbol table and comment."""
    aig = to_aig(net)
    m = aig.n_nodes - 1
    head = [f"aig {m} {aig.n_inputs} 0 {aig.n_outputs} {aig.n_gates}"] + [str(o) for o in aig.outputs]
    body = bytearray()
    for g, gate in enumerate(aig.gates):
        a, b = gate.inputs()
        lhs, r0, r1 = 2 * (aig.first_gate + g), max(a, b), min(a, b)
        _put_varint(body, lhs - r0)
        _put_varint(body, r0 - r1)
    tail = [f"i{j} {name}" for j, name in enumerate(aig.input_names)]
    tail += [f"o{j} {name}" for j, name in enumerate(aig.output_names)]
    tail += ["c", f"{net.name}: written by btflearn"] + (comment.splitlines() if comment else [])
    return ("\n".join(head) + "\n").encode() + bytes(body) + ("\n".join(tail) + "\n").encode()


def _put_varint(out: bytearray, x: int) -> None:
    while x >= 0x80:
        out.append((x & 0x7F) | 0x80)
        x >>= 7
    out.append(x)


def read_aig(source, data: bytes | None = None) -> LogicNetwork:
    """Read an AIGER file, binary (``aig``) or ASCII (``aag``), by its header."""
    if data is None:
        try:
            data = Path(source).read_bytes()
        except OSError as exc:
            raise FormatError(source, f"cannot read: {exc.strerror}") from None
    if isinstance(data, str):
        data = data.encode("latin-1")
    if data[:4] == b"aag ":
        try:
            return read_aiger(source, data.decode("ascii"))
        except UnicodeDecodeError:
            raise FormatError(source, "an ASCII AIGER file with non-ASCII bytes") from None
    if data[:4] != b"aig ":
        raise FormatError(source, "not an AIGER file (expected a header 'aig M I L O A')", 1)
    pos, lines = 0, []

    def line():
        nonlocal pos
        end = data.find(b"\n", pos)
        if end < 0:
            raise FormatError(source, "the file ends early", len(lines) + 1)
        text = data[pos:end].decode("ascii", "replace")
        pos = end + 1
        lines.append(text)
        return text

    head = _header(source, line(), "aig")
    m, n_in, _, n_out, n_and = head
    if m != n_in + n_and:
        raise FormatError(source, f"binary AIGER needs M = I + A, found M={m}, I={n_in}, A={n_and}", 1)
    out_lits = []
    for _ in range(n_out):
        x = _numbers(source, line(), len(lines), 1)[0]
        if x > 2 * m + 1:
            raise FormatError(source, f"output literal {x} exceeds the maximum variable {m}", len(lines))
        out_lits.append((x, len(lines)))
    ands = {}
    for g in range(n_and):
        lhs = 2 * (n_in + 1 + g)
        d0, pos = _get_varint(source, data, pos, g)
        d1, pos = _get_varint(source, data, pos, g)
        r0 = lhs - d0
        r1 = r0 - d1
        if d0 == 0 or r0 < 0 or r1 < 0:
            raise FormatError(source, f"AND gate {g} (variable {lhs >> 1}) has bad deltas {d0}, {d1}")
        ands[lhs >> 1] = (r0, r1, None)
    rest = data[pos:].decode("ascii", "replace").split("\n")
    return _build(source, n_in, list(range(1, n_in + 1)), out_lits, ands, rest, None)


def _get_varint(source, data: bytes, pos: int, gate: int):
    x = shift = 0
    while True:
        if pos >= len(data):
            raise FormatError(source, f"the file ends inside AND gate {gate}")
        byte = data[pos]
        pos += 1
        x |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return x, pos
        shift += 7


def _header(source, line: str, magic: str):
    head = line.split()
    if len(head) < 6 or head[0] != magic:
        kind = "an ASCII" if magic == "aag" else "a binary"
        raise FormatError(source, f"not {kind} AIGER file (expected a header '{magic} M I L O A')", 1)
    try:
        m, n_in, n_latch, n_out, n_and = (int(x) for x in head[1:6])
    except ValueError:
        raise FormatError(source, "the header counts must be integers", 1) from None
    if n_latch:
        raise FormatError(source, "latches are not supported: btflearn reads combinational AIGER", 1)
    if len(head) > 6 and any(int(x) for x in head[6:] if x.isdigit()):
        raise FormatError(source, "bad-state, constraint, justice and fairness sections are not supported", 1)
    return m, n_in, n_latch, n_out, n_and


def _numbers(source, line: str, number: int, count: int):
    parts = line.split()
    if len(parts) != count or not all(p.isdigit() for p in parts):
        raise FormatError(source, f"expected {count} unsigned integer(s), found {line!r}", number)
    return [int(p) for p in parts]


def read_aiger(source, text: str | None = None) -> LogicNetwork:
    """Read an ASCII AIGER file without latches (AND gates may come in any order); ``read_aig`` reads
    binary and ASCII files."""
    if text is None:
        try:
            text = Path(source).read_text()
        except OSError as exc:
            raise FormatError(source, f"cannot read: {exc.strerror}") from None
        except UnicodeDecodeError:
            raise FormatError(source, "not an ASCII AIGER file (binary data: read it as .aig)") from None
    lines = text.split("\n")
    m, n_in, _, n_out, n_and = _header(source, lines[0] if lines else "", "aag")

    def numbers(index, count):
        if index >= len(lines):
            raise FormatError(source, "the file ends early", index + 1)
        return _numbers(source, lines[index], index + 1, count)

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
    return _build(source, n_in, input_vars, out_lits, ands, lines[row:], row)


def _build(source, n_in, input_vars, out_lits, ands, lines, first_line):
    """The LogicNetwork of parsed AIGER parts; ``lines`` is the symbol table and comment (line numbers
    from ``first_line`` + 1, or None where the file is binary)."""
    in_names = [f"i{j}" for j in range(n_in)]
    out_names = [f"o{j}" for j in range(len(out_lits))]
    name = Path(str(source)).stem
    comment = False
    for offset, line in enumerate(lines):
        where = None if first_line is None else first_line + offset + 1
        if comment:
            continue
        if line == "c":
            comment = True
        elif line[:1] in ("i", "o") and " " in line and line[1:].split(" ", 1)[0].isdigit():
            pos, symbol = line[1:].split(" ", 1)
            table = in_names if line[0] == "i" else out_names
            if int(pos) >= len(table):
                raise FormatError(source, f"symbol for a {line[0]}-port that does not exist", where)
            table[int(pos)] = symbol
        elif line.strip():
            if line[:1] in ("l", "b", "c", "j", "f"):
                continue
            raise FormatError(source, f"unexpected line {line!r}", where)
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
