"""Which inputs explain an output on the training items: a small set of inputs on which no two items
agree and still differ in that output (a consistent support).

A function that depends on a few of many inputs is pinned down by a few hundred random items: the set of
inputs that separates every pair of items with different outputs is then, as a rule, the function's own
support, and a network over those inputs alone generalizes where one over all of them has to find them
first (the AND/OR teacher, docs/results.md). The fewest inputs that explain the items is Occam's choice.

Forward selection as a beam search (the sets that leave the fewest conflicting pairs: items in the
same cell of the chosen inputs' table with different outputs; BEAM of them kept at each size), then
backward elimination (an input is dropped when the others are consistent without it), then two inputs
traded for one while the items stay consistent (on supports of up to SHRINK_MAX inputs): no input of
the result can be left out and, on small supports, no two can be replaced by one.
"""
from __future__ import annotations

from itertools import combinations

import numpy as np

from .errors import BtfError

BEAM = 16        # partial input sets kept at each size of the forward search
SHRINK_MAX = 12  # largest support the two-for-one trades are tried on (their cost grows as size^3 x inputs)


def _bits(values) -> np.ndarray:
    values = np.asarray(values)
    return values if values.dtype == bool else values > 0


def _conflicts(cells: np.ndarray, y: np.ndarray) -> int:
    """Pairs of items in the same cell with different outputs."""
    total = np.bincount(cells)
    ones = np.bincount(cells, weights=y)
    return int(np.dot(ones, total - ones))


def _cells(x: np.ndarray, chosen) -> np.ndarray:
    """Cell of every item in the table of the ``chosen`` inputs (compact ids)."""
    cells = np.zeros(x.shape[0], dtype=np.int64)
    for j in chosen:
        cells = np.unique(2 * cells + x[:, j], return_inverse=True)[1].reshape(-1)
    return cells


def consistent_support(inputs, output) -> list[int]:
    """Input positions (sorted) on which the items are consistent in ``output``: no two items that agree on
    them have different outputs. ``inputs``: (N, n) +-1 or bools; ``output``: (N,) +-1 or bools. An empty
    list means the output is constant on the items. BtfError when two items have the same inputs and
    different outputs (no set of inputs explains them)."""
    x, y = _bits(inputs), _bits(output)
    if x.ndim != 2 or y.shape != (x.shape[0],):
        raise BtfError(f"consistent_support needs (N, n) inputs and (N,) outputs, got {x.shape} and {y.shape}")
    y = y.astype(np.float64)
    every = _cells(x, range(x.shape[1]))
    if _conflicts(every, y):
        a, b = _first_conflict(every, y)
        raise BtfError(f"items {a} and {b} have the same inputs and different outputs: no set of inputs "
                       f"explains them")
    beam = [((), np.zeros(x.shape[0], dtype=np.int64))]   # (inputs chosen, cells of their table)
    left = [_conflicts(beam[0][1], y)]
    while min(left):   # ends: the set of all inputs is consistent
        grown = {}
        for chosen, cells in beam:
            for j in range(x.shape[1]):
                key = tuple(sorted(chosen + (j,)))
                if j not in chosen and key not in grown:
                    grown[key] = 2 * cells + x[:, j]
        scored = sorted((_conflicts(cells, y), key) for key, cells in grown.items())[:BEAM]
        left = [score for score, _ in scored]
        beam = [(key, np.unique(grown[key], return_inverse=True)[1].reshape(-1)) for _, key in scored]
    chosen = list(beam[left.index(0)][0])
    return sorted(_shrink(x, y, _backward(x, y, chosen)))


def _consistent(x, y, chosen) -> bool:
    return _conflicts(_cells(x, chosen), y) == 0


def _backward(x, y, chosen) -> list:
    for j in reversed(list(chosen)):
        rest = [k for k in chosen if k != j]
        if _consistent(x, y, rest):
            chosen = rest
    return chosen


def _shrink(x, y, chosen) -> list:
    """Two inputs replaced by one other while that stays consistent (greedy choices made early can
    cost an input later), each time followed by backward elimination."""
    while 2 <= len(chosen) <= SHRINK_MAX:
        trade = next((t for t in _trades(chosen, x.shape[1]) if _consistent(x, y, t)), None)
        if trade is None:
            break
        chosen = _backward(x, y, trade)
    return chosen


def _trades(chosen, n_inputs: int):
    """The sets ``chosen`` minus two of its inputs plus one other input, in a fixed order."""
    for a, b in combinations(range(len(chosen)), 2):
        rest = [k for i, k in enumerate(chosen) if i not in (a, b)]
        yield from (rest + [j] for j in range(n_inputs) if j not in chosen)


def _first_conflict(cells: np.ndarray, y: np.ndarray) -> tuple[int, int]:
    for c in np.unique(cells):
        items = np.flatnonzero(cells == c)
        ones, zeros = items[y[items] > 0], items[y[items] == 0]
        if ones.size and zeros.size:
            return int(min(ones[0], zeros[0])), int(max(ones[0], zeros[0]))
    raise AssertionError("no conflicting pair")
