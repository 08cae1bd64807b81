"""Reference circuits written from the specification (no learning): the yardsticks of the circuit
benchmark. Multipliers are AND partial products summed column by column with full and half adders; a
Life-like rule counts the 8 neighbours with the same adders and compares; an elementary CA applies its
rule per cell as plain logic (rule 30: left XOR (centre OR right)). Each is checked against its task's
data by the benchmark before it is counted."""
from __future__ import annotations

from ..errors import BtfError
from .ir import CONST0, LogicNetwork, negate


def _full_add(net: LogicNetwork, a: int, b: int, c: int):
    s = net.add_xor(net.add_xor(a, b), c)
    return s, net.add_maj(a, b, c)


def _half_add(net: LogicNetwork, a: int, b: int):
    return net.add_xor(a, b), net.add_and(a, b)


def compress_columns(net: LogicNetwork, columns: list) -> list:
    """Sum bits given per binary weight (columns[k]: literals of weight 2^k) with full and half adders;
    returns one literal per weight (the binary sum)."""
    columns = [list(c) for c in columns]
    out = []
    k = 0
    while k < len(columns):
        col = columns[k]
        while len(col) > 1:
            if len(col) >= 3:
                s, c = _full_add(net, col.pop(0), col.pop(0), col.pop(0))
            else:
                s, c = _half_add(net, col.pop(0), col.pop(0))
            col.append(s)
            if k + 1 == len(columns):
                columns.append([])
            columns[k + 1].append(c)
        out.append(col[0] if col else CONST0)
        k += 1
    return out


def multiplier_circuit(bits: int, name: str = "reference_multiplier") -> LogicNetwork:
    """bits x bits multiplier over inputs a0.., b0.. and outputs p0.. (LSB first), the task's port order."""
    n = int(bits)
    if n < 1:
        raise BtfError("a multiplier needs at least one bit per operand")
    net = LogicNetwork(2 * n, [f"a{j}" for j in range(n)] + [f"b{j}" for j in range(n)], [], name)
    a = [net.input_lit(j) for j in range(n)]
    b = [net.input_lit(n + j) for j in range(n)]
    columns = [[] for _ in range(2 * n)]
    for i in range(n):
        for j in range(n):
            columns[i + j].append(net.add_and(a[i], b[j]))
    total = compress_columns(net, columns)
    for k in range(2 * n):
        net.add_output(total[k] if k < len(total) else CONST0, f"p{k}")
    return net


def life_rule_circuit(input_names, birth=(3,), survive=(2, 3), name: str = "reference_life_rule") -> LogicNetwork:
    """One cell's next state from its 3x3 neighbourhood (inputs named as ``LifeLikeCA.neighbourhood_table``:
    ``n00`` is the cell, the other 8 its neighbours): count the neighbours, compare with the rule."""
    names = list(input_names)
    if len(names) != 9 or "n00" not in names:
        raise BtfError("a Life rule circuit needs the 9 neighbourhood inputs with the centre named n00")
    net = LogicNetwork(9, names, [], name)
    centre = net.input_lit(names.index("n00"))
    count = compress_columns(net, [[net.input_lit(j) for j in range(9) if names[j] != "n00"]])
    count = (count + [CONST0] * 4)[:4]

    def equals(value):
        term = None
        for k, lit_ in enumerate(count):
            x = lit_ if (value >> k) & 1 else negate(lit_)
            term = x if term is None else net.add_and(term, x)
        return term

    alive_if = {v: equals(v) for v in sorted(set(birth) | set(survive))}
    out = None
    for v, eq in alive_if.items():
        if v in birth and v in survive:
            term = eq
        elif v in birth:
            term = net.add_and(eq, negate(centre))
        else:
            term = net.add_and(eq, centre)
        out = term if out is None else net.add_or(out, term)
    net.add_output(out if out is not None else CONST0, "next")
    return net


def elementary_ca_circuit(rule: int, width: int, input_names, output_names,
                          name: str = "reference_ca") -> LogicNetwork:
    """One step of an elementary CA (radius 1) on a ring, per cell from its rule as plain logic: rule 30
    is left XOR (centre OR right); other rules as a sum of their minterms."""
    net = LogicNetwork(width, list(input_names), [], name)
    cells = [net.input_lit(j) for j in range(width)]
    for i in range(width):
        left, centre, right = cells[(i - 1) % width], cells[i], cells[(i + 1) % width]
        if rule == 30:
            out = net.add_xor(left, net.add_or(centre, right))
        else:
            out = None
            for k in range(8):   # neighbourhood index 4 left + 2 centre + right
                if (rule >> k) & 1:
                    lits = [x if (k >> s) & 1 else negate(x) for x, s in ((left, 2), (centre, 1), (right, 0))]
                    term = net.add_and(net.add_and(lits[0], lits[1]), lits[2])
                    out = term if out is None else net.add_or(out, term)
            out = CONST0 if out is None else out
        net.add_output(out, output_names[i])
    return net
