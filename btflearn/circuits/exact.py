"""Exact synthesis: the smallest AND-inverter graph of an incompletely specified function, by SAT.

Given k inputs and the minterms on which the function is specified (an on-set and an off-set of
k-bit patterns; every other pattern is a don't-care), ``smallest_aig`` asks a SAT solver for an AIG of
r = 1, 2, ... AND nodes (complemented edges free) that is 1 on the on-set and 0 on the off-set, and returns
the first found. The encoding (one Boolean per gate and specified minterm for the gate's value, one per
gate and choice of two earlier signals with their polarities for its structure):

* every gate chooses at least one (operand j, operand l, polarity of j, polarity of l) with j < l earlier
  signals (inputs or gates);
* a chosen operand pair fixes the gate's value on every minterm: x = (v_j ^ p_j) & (v_l ^ p_l), three
  clauses per choice and minterm (input values are constants there, which removes literals);
* the last gate, complemented or not (one more Boolean), equals the function on every specified minterm;
* every other gate is read by some later gate (no useless gates: the count is exact).
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass

from ..errors import BtfError

MAX_INPUTS = 6
MAX_GATES = 8


@dataclass
class Program:
    """An AIG over k inputs: gate i (signal k + i) is AND(lit a, lit b) with literals 2 * signal + complement;
    the function is signal ``out`` ^ ``complement`` (a lone input or constant when there are no gates)."""
    n_inputs: int
    gates: list                # [(a, b)] literals over signals 0..k-1 (inputs) and k.. (gates)
    out: int                   # literal of the output; -1/-2 for constant False/True with no gates

    def evaluate(self, minterm: int) -> int:
        if self.out < 0:
            return int(self.out == -2)
        vals = [(minterm >> j) & 1 for j in range(self.n_inputs)]
        for a, b in self.gates:
            vals.append((vals[a >> 1] ^ (a & 1)) & (vals[b >> 1] ^ (b & 1)))
        return vals[self.out >> 1] ^ (self.out & 1)


def _solver():
    try:
        from pysat.solvers import Solver
    except ImportError:  # the dependency is declared; this only guards a broken installation
        raise BtfError("exact synthesis needs the python-sat package (pip install python-sat)") from None
    return Solver(name="g3")


def smallest_aig(n_inputs: int, on: set, off: set, max_gates: int = MAX_GATES, conflicts: int = 20000):
    """The smallest AIG (a Program) that is 1 on every minterm of ``on`` and 0 on every minterm of
    ``off`` with at most ``max_gates`` gates, or None when there is none that size or the solver gives up
    (``conflicts`` per size)."""
    if not 0 <= n_inputs <= MAX_INPUTS:
        raise BtfError(f"exact synthesis takes at most {MAX_INPUTS} inputs, got {n_inputs}")
    on, off = set(on), set(off)
    if on & off:
        raise BtfError("exact synthesis: a minterm is both in the on-set and in the off-set")
    if not on:
        return Program(n_inputs, [], -1)
    if not off:
        return Program(n_inputs, [], -2)
    for j in range(n_inputs):
        for c in (0, 1):
            if all(((m >> j) & 1) ^ c for m in on) and all(not ((m >> j) & 1) ^ c for m in off):
                return Program(n_inputs, [], 2 * j + c)
    for r in range(1, max_gates + 1):
        found = _solve(n_inputs, sorted(on), sorted(off), r, conflicts)
        if found is not None:
            return found
    return None


def _solve(k: int, on: list, off: list, r: int, conflicts: int):
    minterms = on + off
    target = [1] * len(on) + [0] * len(off)
    top = [0]

    def var():
        top[0] += 1
        return top[0]

    x = [[var() for _ in minterms] for _ in range(r)]   # gate values
    choices = []                                         # per gate: [(var, j, l, pj, pl)]
    for i in range(r):
        options = []
        for j, l in itertools.combinations(range(k + i), 2):
            for pj, pl in itertools.product((0, 1), repeat=2):
                options.append((var(), j, l, pj, pl))
        choices.append(options)
    q = var()                                            # output complemented
    clauses = []
    for i in range(r):
        clauses.append([s for s, *_ in choices[i]])
        for s, j, l, pj, pl in choices[i]:
            for t, m in enumerate(minterms):
                lits = []  # operand literals as (constant or None, SAT literal)
                for op, p in ((j, pj), (l, pl)):
                    if op < k:
                        lits.append((((m >> op) & 1) ^ p, None))
                    else:
                        v = x[op - k][t]
                        lits.append((None, -v if p else v))
                xi = x[i][t]
                # x -> operand, for each operand
                false_operand = False
                for const, lit in lits:
                    if const is None:
                        clauses.append([-s, -xi, lit])
                    elif const == 0:
                        false_operand = True
                if false_operand:
                    clauses.append([-s, -xi])
                    continue
                # both operands -> x
                clauses.append([-s, xi] + [-lit for const, lit in lits if const is None])
    for t, y in enumerate(target):
        xo = x[r - 1][t]
        clauses += [[xo, q], [-xo, -q]] if y else [[-xo, q], [xo, -q]]
    for i in range(r - 1):  # every gate but the last is read
        clauses.append([s for later in choices[i + 1:] for s, j, l, _, _ in later if j == k + i or l == k + i])
    with _solver() as solver:
        for c in clauses:
            solver.add_clause(c)
        solver.conf_budget(conflicts)
        ok = solver.solve_limited()
        if not ok:
            return None
        model = set(v for v in solver.get_model() if v > 0)
    gates = []
    for i in range(r):
        s, j, l, pj, pl = next(c for c in choices[i] if c[0] in model)
        gates.append((2 * j + pj, 2 * l + pl))
    program = Program(k, gates, 2 * (k + r - 1) + (1 if q in model else 0))
    for m, y in zip(minterms, target):
        if program.evaluate(m) != y:
            raise BtfError("internal error: the exact synthesis result does not match its specification")
    return program
