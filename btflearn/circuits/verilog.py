"""Structural Verilog-1995: ports listed in the module header and declared after it
(``module m(a, b, y); input a, b; output y;``), scalar wires, one ``assign`` per gate written with
``& | ^ ~`` (its sum-of-products cover; XOR as ``^``). ABC, yosys, iverilog and verilator read this form.

The reader takes one module of that shape, as written by btflearn, ABC (``write_verilog``) or yosys
(``write_verilog -noattr`` of a gate-level design): ``input``/``output``/``wire`` declarations (vectors are
split into bits named ``name[i]``), continuous ``assign`` statements of ``~ ! & | ^ ~^ ^~`` expressions,
parentheses and the constants ``1'b0``/``1'b1``/``0``/``1``.
"""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from ..errors import BtfError, FormatError
from .covers import gate_cover, prepare_for_writing, recognize
from .decompose import HashingBuilder
from .ir import CONST0, CONST1, LogicNetwork, negate, node_of
from .naming import plan_names

KEYWORDS = set("""always and assign begin buf bufif0 bufif1 case casex casez cmos deassign default defparam
disable edge else end endcase endfunction endmodule endprimitive endspecify endtable endtask event for force
forever fork function highz0 highz1 if ifnone initial inout input integer join large macromodule medium
module nand negedge nmos nor not notif0 notif1 or output parameter pmos posedge primitive pull0 pull1 pulldown
pullup rcmos real realtime reg release repeat rnmos rpmos rtran rtranif0 rtranif1 scalared small specify
specparam strong0 strong1 supply0 supply1 table task time tran tranif0 tranif1 tri tri0 tri1 triand trior
trireg vectored wait wand weak0 weak1 while wire wor xnor xor logic signed unsigned generate endgenerate
genvar localparam""".split())
_SIMPLE = re.compile(r"^[A-Za-z_][A-Za-z0-9_$]*$")


def identifier(name: str) -> str:
    """``name`` as a Verilog identifier: as is when simple, else an escaped identifier (``\\name ``)."""
    name = str(name)
    if _SIMPLE.match(name) and name not in KEYWORDS:
        return name
    if not name or any(c.isspace() for c in name):
        raise BtfError(f"Verilog cannot hold the name {name!r}")
    return "\\" + name + " "


def module_identifier(name: str) -> str:
    """A plain identifier for the module (ABC does not read escaped module names)."""
    text = re.sub(r"[^A-Za-z0-9_]", "_", str(name)) or "circuit"
    if not re.match(r"[A-Za-z_]", text) or text in KEYWORDS:
        text = "m_" + text
    return text


def write_verilog(net: LogicNetwork, comment: str | None = None) -> str:
    net = prepare_for_writing(net)
    plan = plan_names(net)
    names = [None if n is None else identifier(n) for n in plan.names]
    ins = [identifier(n) for n in net.input_names]
    outs = [identifier(n) for n in net.output_names]
    lines = []
    if comment:
        lines += [f"// {line}" for line in comment.splitlines()]
    lines.append(f"module {module_identifier(net.name)}({', '.join(ins + outs)});")
    if ins:
        lines.append(f"  input {', '.join(ins)};")
    lines.append(f"  output {', '.join(outs)};")
    wires = [names[n] for n in range(net.first_gate, net.n_nodes) if plan.names[n] not in net.output_names]
    for i in range(0, len(wires), 16):
        lines.append(f"  wire {', '.join(wires[i:i + 16])};")
    for g, gate in enumerate(net.gates):
        lines.append(f"  assign {names[net.first_gate + g]} = {_expression(gate, names)};")
    for j, o in plan.aliases:
        if node_of(o) == 0:
            source = "1'b1" if o == CONST1 else "1'b0"
        else:
            source = ("~" if o & 1 else "") + names[node_of(o)]
        lines.append(f"  assign {outs[j]} = {source};")
    lines.append("endmodule")
    return "\n".join(lines) + "\n"


def _expression(gate, names) -> str:
    inputs, cubes = gate_cover(gate)
    if gate.op == "xor":
        a, b = (names[node_of(f)] for f in inputs)
        return f"{a} ^ {b}" if cubes[0] == "10" else f"~({a} ^ {b})"
    terms = []
    for cube in cubes:
        factors = [("~" if c == "0" else "") + names[node_of(f)] for f, c in zip(inputs, cube) if c != "-"]
        terms.append(" & ".join(factors) if factors else "1'b1")
    if len(terms) == 1:
        return terms[0]
    return " | ".join(f"({t})" if " " in t else t for t in terms)


# -- reader -----------------------------------------------------------------------------------------

_TOKEN = re.compile(r"""
    (?P<ws>\s+) | (?P<comment>//[^\n]*|/\*.*?\*/) | (?P<attr>\(\*.*?\*\)) |
    (?P<esc>\\\S+) | (?P<id>[A-Za-z_][A-Za-z0-9_$]*) |
    (?P<num>\d*\s*'\s*[bBhHdDoO]\s*[0-9a-fA-FxXzZ_]+|\d+) |
    (?P<op>~\^|\^~|[~!&|^(),;=\[\]:{}]) | (?P<other>[^\s])
""", re.VERBOSE | re.DOTALL)


def _tokenize(text, source):
    tokens = []
    pos, line = 0, 1
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m:
            raise FormatError(source, f"unexpected character {text[pos]!r}", line)
        kind = m.lastgroup
        value = m.group()
        if kind == "esc":
            tokens.append(("id", value[1:], line))
        elif kind not in ("ws", "comment", "attr"):
            tokens.append((kind, value, line))
        line += value.count("\n")
        pos = m.end()
    return tokens


class _Parser:
    def __init__(self, tokens, source):
        self.tokens = tokens
        self.i = 0
        self.source = source

    def peek(self):
        return self.tokens[self.i] if self.i < len(self.tokens) else ("eof", "", self.tokens[-1][2] if self.tokens else 1)

    def next(self):
        tok = self.peek()
        self.i += 1
        return tok

    def expect(self, value):
        tok = self.next()
        if tok[1] != value:
            raise FormatError(self.source, f"expected {value!r}, found {tok[1] or 'end of file'!r}", tok[2])
        return tok

    def ident(self, what="a name"):
        tok = self.next()
        if tok[0] != "id":
            raise FormatError(self.source, f"expected {what}, found {tok[1] or 'end of file'!r}", tok[2])
        return tok[1]

    def number(self):
        tok = self.next()
        if tok[0] != "num":
            raise FormatError(self.source, f"expected a number, found {tok[1]!r}", tok[2])
        return int(re.sub(r"\s", "", tok[1]))

    def signal(self):
        """A name with an optional constant bit select."""
        name = self.ident()
        if self.peek()[1] == "[":
            self.next()
            index = self.number()
            self.expect("]")
            name = f"{name}[{index}]"
        return name

    # expression grammar: or := xor ('|' xor)* ; xor := and (('^'|'~^'|'^~') and)* ; and := unary ('&' unary)*
    def expr(self):
        node = self.xor()
        while self.peek()[1] == "|":
            self.next()
            node = ("|", node, self.xor())
        return node

    def xor(self):
        node = self.and_()
        while self.peek()[1] in ("^", "~^", "^~"):
            op = self.next()[1]
            node = ("^", node, self.and_()) if op == "^" else ("~", ("^", node, self.and_()))
        return node

    def and_(self):
        node = self.unary()
        while self.peek()[1] == "&":
            self.next()
            node = ("&", node, self.unary())
        return node

    def unary(self):
        tok = self.peek()
        if tok[1] in ("~", "!"):
            self.next()
            return ("~", self.unary())
        if tok[1] == "(":
            self.next()
            node = self.expr()
            self.expect(")")
            return node
        if tok[0] == "num":
            self.next()
            return ("const", _constant(tok, self.source))
        return ("sig", self.signal(), tok[2])


def _constant(tok, source):
    text = re.sub(r"[\s_]", "", tok[1]).lower()
    digits = text.split("'")[-1][1:] if "'" in text else text
    if any(c in "xz" for c in digits):
        raise FormatError(source, f"x/z constants are not supported: {tok[1]}", tok[2])
    base = {"b": 2, "h": 16, "d": 10, "o": 8}[text.split("'")[1][0]] if "'" in text else 10
    value = int(digits, base)
    if value not in (0, 1):
        raise FormatError(source, f"only 1-bit constants are supported, found {tok[1]}", tok[2])
    return value


def read_verilog(source, text: str | None = None) -> LogicNetwork:
    """Read one combinational structural module (see the module docstring)."""
    if text is None:
        try:
            text = Path(source).read_text()
        except OSError as exc:
            raise FormatError(source, f"cannot read: {exc.strerror}") from None
    p = _Parser(_tokenize(text, source), source)
    while p.peek()[1] not in ("module", "macromodule"):
        if p.peek()[0] == "eof":
            raise FormatError(source, "no module found")
        p.next()
    p.next()
    module = p.ident("a module name")
    header = []
    if p.peek()[1] == "(":
        p.next()
        while p.peek()[1] != ")":
            tok = p.peek()
            if tok[1] in ("input", "output", "inout", "wire", "reg"):
                raise FormatError(source, "ANSI-style port declarations are not supported: declare the ports "
                                          "after the module header (Verilog-1995)", tok[2])
            header.append(p.ident("a port name"))
            if p.peek()[1] == ",":
                p.next()
        p.next()
    p.expect(";")
    inputs, outputs, assigns, declared = [], [], {}, set()
    while True:
        tok = p.next()
        word = tok[1]
        if word == "endmodule":
            break
        if tok[0] == "eof":
            raise FormatError(source, "missing endmodule", tok[2])
        if word in ("input", "output", "wire", "inout", "reg"):
            if word in ("inout", "reg"):
                raise FormatError(source, f"'{word}' is not supported in a combinational netlist", tok[2])
            bits = None
            if p.peek()[1] == "[":
                p.next()
                hi = p.number()
                p.expect(":")
                lo = p.number()
                p.expect("]")
                bits = range(lo, hi + 1) if lo <= hi else range(lo, hi - 1, -1)
            while True:
                name = p.ident()
                names = [name] if bits is None else [f"{name}[{i}]" for i in bits]
                if word != "wire":
                    declared.add(name)
                if word == "input":
                    inputs += names
                elif word == "output":
                    outputs += names
                if p.peek()[1] == ",":
                    p.next()
                    continue
                p.expect(";")
                break
        elif word == "assign":
            while True:
                target_line = p.peek()[2]
                target = p.signal()
                p.expect("=")
                if target in assigns:
                    raise FormatError(source, f"{target!r} is assigned twice", target_line)
                assigns[target] = (p.expr(), target_line)
                if p.peek()[1] == ",":
                    p.next()
                    continue
                p.expect(";")
                break
        else:
            raise FormatError(source, f"unsupported statement {word!r}: the reader takes declarations and "
                                      f"assign statements only", tok[2])
    if header and set(header) != declared:
        missing = sorted(declared ^ set(header))
        raise FormatError(source, f"ports in the module header do not match the declarations: {missing}")
    if not outputs:
        raise FormatError(source, "the module has no outputs")
    for name in inputs:
        if name in assigns:
            raise FormatError(source, f"input {name!r} is assigned", assigns[name][1])
    net = LogicNetwork(len(inputs), list(inputs), [], module)
    return _build(net, inputs, outputs, assigns, source)


def _leaves(tree, out):
    if tree[0] == "sig":
        out.setdefault(tree[1], tree[2])
    elif tree[0] != "const":
        for child in tree[1:]:
            _leaves(child, out)
    return out


def _evaluate(tree, columns):
    op = tree[0]
    if op == "sig":
        return columns[tree[1]]
    if op == "const":
        return np.full(next(iter(columns.values())).shape, bool(tree[1])) if columns else np.array([bool(tree[1])])
    if op == "~":
        return ~_evaluate(tree[1], columns)
    a, b = _evaluate(tree[1], columns), _evaluate(tree[2], columns)
    return a & b if op == "&" else a | b if op == "|" else a ^ b


def _build(net, inputs, outputs, assigns, source):
    builder = HashingBuilder(net)
    literal = {name: net.input_lit(j) for j, name in enumerate(inputs)}
    state = {}

    def structural(tree):
        op = tree[0]
        if op == "sig":
            return literal[tree[1]]
        if op == "const":
            return CONST1 if tree[1] else CONST0
        if op == "~":
            return negate(structural(tree[1]))
        a, b = structural(tree[1]), structural(tree[2])
        return builder.and2(a, b) if op == "&" else builder.or2(a, b) if op == "|" else builder.xor2(a, b)

    def define(name):
        tree, line = assigns[name]
        leaves = list(_leaves(tree, {}))
        if len(leaves) <= 6:
            k = len(leaves)
            x = ((np.arange(1 << k)[:, None] >> np.arange(k)) & 1).astype(bool)
            table = np.broadcast_to(_evaluate(tree, {s: x[:, i] for i, s in enumerate(leaves)}), (1 << k,))
            found = recognize(np.array(table), [literal[s] for s in leaves])
            if isinstance(found, int):
                return found
            if found is not None:
                return net.add_gate(found[0]) ^ found[1]
        return structural(tree)

    def resolve(name, line):
        stack = [name]
        while stack:
            top = stack[-1]
            if top in literal:
                stack.pop()
                continue
            if top not in assigns:
                raise FormatError(source, f"{top!r} is used but never assigned", line)
            missing = [s for s in _leaves(assigns[top][0], {}) if s not in literal]
            if not missing:
                literal[top] = define(top)
                state.pop(top, None)
                stack.pop()
                continue
            if state.get(top):
                raise FormatError(source, f"combinational loop through {top!r}", assigns[top][1])
            state[top] = True
            for s in missing:
                if state.get(s):
                    raise FormatError(source, f"combinational loop through {s!r}", assigns[top][1])
                if s not in assigns:
                    raise FormatError(source, f"{s!r} is used but never assigned", assigns[top][1])
                stack.append(s)
        return literal[name]

    for name in outputs:
        net.add_output(resolve(name, None), name)
    return net
