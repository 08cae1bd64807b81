"""The circuit of a complete truth table by Shannon expansion, every distinct subfunction (or its
complement) built once: a reduced ordered BDD written as multiplexers of 2-input ANDs."""
from __future__ import annotations

import numpy as np

from .decompose import HashingBuilder
from .ir import CONST0, CONST1, LogicNetwork, negate


def table_literal(table, target: LogicNetwork, input_lits: list) -> int:
    """Build into ``target`` the function whose value on pattern p is ``table[p]`` (bools, length 2^k,
    input j = bit j of p, read from ``input_lits[j]``) and return its literal. Input 0 is split on
    first, so the inputs that matter most should come first."""
    table = np.asarray(table, dtype=bool)
    k = len(input_lits)
    if table.shape != (1 << k,):
        raise ValueError(f"a table over {k} inputs has {1 << k} entries, got shape {table.shape}")
    builder = HashingBuilder(target, aig=True)
    memo = {}

    def build(sub: np.ndarray, var: int) -> int:
        if not sub.any():
            return CONST0
        if sub.all():
            return CONST1
        key = sub.tobytes()
        if key in memo:
            return memo[key]
        flipped = (~sub).tobytes()
        if flipped in memo:
            return negate(memo[flipped])
        low, high = build(sub[0::2], var + 1), build(sub[1::2], var + 1)
        s = input_lits[var]
        out = builder.or2(builder.and2(s, high), builder.and2(negate(s), low))
        memo[key] = out
        return out

    return build(table, 0)
