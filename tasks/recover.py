"""Read a fitted cellular-automaton model back as the local rule it implements, cell by cell.

For output cell i with neighbourhood N(i) (the input cells the true automaton's cell i depends on after the
task's steps: 2*radius*steps+1 ring cells, or the 3 x 3 Moore block for one Life-like step), every
neighbourhood pattern p is written into N(i) and the model is evaluated with the *other* input cells set to
a number of contexts:

- exhaustive (when the automaton has at most ``exhaustive_limit`` states, e.g. a 16-cell ring or a 4 x 4
  torus): the model is evaluated once on every state, so each pattern is seen in *all* contexts;
- otherwise ``n_contexts`` uniformly random contexts (the same ones for every cell and pattern, drawn from
  ``seed``).

The learned table of cell i holds, per pattern, the output when it is the same in every context tried, and
"context-dependent" otherwise; the cell matches the true rule when its table is context-free and equal to
the true local table. A model that matches at every cell implements the automaton exactly (proved when the
contexts were exhaustive; tested on n_contexts contexts otherwise).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from btflearn.errors import BtfError


@dataclass
class RuleRecovery:
    task: object
    cells: list              # output names
    neighbourhoods: list     # per cell, the input indices of its neighbourhood (pattern bit order)
    tables: np.ndarray       # (cells, patterns) +1/-1 learned output, 0 where it depends on the context
    agreement: np.ndarray    # (cells, patterns) fraction of contexts giving the majority output
    true_table: np.ndarray   # (patterns,) bool
    exhaustive: bool
    n_contexts: int          # contexts per (cell, pattern)

    @property
    def context_free(self) -> np.ndarray:
        """(cells,) whether each cell's output depends on its neighbourhood only."""
        return np.all(self.tables != 0, axis=1)

    @property
    def matches(self) -> np.ndarray:
        """(cells,) whether each cell implements the true local rule in every context tried."""
        return self.context_free & np.all(self.tables == np.where(self.true_table, 1, -1)[None, :], axis=1)

    @property
    def all_match(self) -> bool:
        return bool(self.matches.all())

    def learned_rule(self, cell: int) -> str:
        """The rule cell ``cell`` implements (Wolfram code / B-S string), or a note why there is none."""
        if not self.context_free[cell]:
            n = int((self.tables[cell] == 0).sum())
            return f"context-dependent on {n} of {self.tables.shape[1]} patterns"
        return self.task.describe_table(self.tables[cell] > 0)

    def wrong_patterns(self, cell: int) -> list[int]:
        """Pattern indices where cell ``cell`` is context-dependent or differs from the true rule."""
        want = np.where(self.true_table, 1, -1)
        return [int(k) for k in np.flatnonzero(self.tables[cell] != want)]

    def summary(self) -> str:
        truth = self.task.describe_table(self.true_table)
        how = (f"all {self.n_contexts} contexts of the other cells (exhaustive)" if self.exhaustive
               else f"{self.n_contexts} random contexts of the other cells")
        lines = [f"{self.task!r}: true local rule {truth}",
                 f"each neighbourhood pattern tried in {how}",
                 f"{'cell':<12} {'learned rule':<44} {'matches'}"]
        for i, name in enumerate(self.cells):
            lines.append(f"{name:<12} {self.learned_rule(i):<44} {'yes' if self.matches[i] else 'NO'}")
        n = int(self.matches.sum())
        lines.append(f"{n} of {len(self.cells)} cells implement {truth} exactly"
                     + ("" if self.exhaustive else " (in the contexts tried)"))
        return "\n".join(lines)

    def __str__(self):
        return self.summary()


def _pattern_bits(n: int) -> np.ndarray:
    """(2^n, n) bool: row k = pattern k with column 0 the most significant bit."""
    codes = np.arange(1 << n)
    return ((codes[:, None] >> (n - 1 - np.arange(n))) & 1).astype(bool)


def recover_rule(model, task, n_contexts: int = 256, seed: int = 0,
                 exhaustive_limit: int = 1 << 16) -> RuleRecovery:
    """The local rule ``model`` implements at every cell of ``task`` (an ElementaryCA or a one-step
    LifeLikeCA); see the module docstring for how contexts are chosen."""
    n_cells = getattr(task, "width", None) or getattr(task, "n_cells", None)
    if n_cells is None or not hasattr(task, "neighbourhood"):
        raise BtfError(f"recover_rule needs a cellular-automaton task, got {task!r}")
    net = model.network
    if net.n_inputs != n_cells or net.n_outputs != n_cells:
        raise BtfError(f"the model maps {net.n_inputs} inputs to {net.n_outputs} outputs; the task has "
                       f"{n_cells} cells")
    if getattr(model, "readout", "sign") != "sign":
        raise BtfError("recover_rule reads sign-readout models only")
    hoods = [task.neighbourhood(i) for i in range(n_cells)]
    k = len(hoods[0])
    true_table = np.asarray(task.local_table(), dtype=bool)
    patterns = _pattern_bits(k)
    n_pat = 1 << k
    tables = np.zeros((n_cells, n_pat), dtype=np.int8)
    agreement = np.zeros((n_cells, n_pat))
    exhaustive = (1 << n_cells) <= exhaustive_limit

    if exhaustive:
        codes = np.arange(1 << n_cells)
        ones = np.zeros((1 << n_cells, n_cells), dtype=bool)  # +1 counts per (cell, pattern)
        for lo in range(0, codes.size, 8192):
            chunk = ((codes[lo:lo + 8192, None] >> np.arange(n_cells)) & 1).astype(bool)
            ones[lo:lo + 8192] = model.predict(np.where(chunk, 1.0, -1.0)) > 0
        states = ((codes[:, None] >> np.arange(n_cells)) & 1).astype(np.int64)
        contexts = (1 << n_cells) >> k
        for i, hood in enumerate(hoods):
            index = np.zeros(codes.size, dtype=np.int64)
            for j, cell in enumerate(hood):
                index |= states[:, cell] << (k - 1 - j)
            pos = np.bincount(index, weights=ones[:, i], minlength=n_pat)
            total = np.bincount(index, minlength=n_pat)
            frac = pos / np.maximum(total, 1)
            tables[i] = np.where(frac == 1, 1, np.where(frac == 0, -1, 0))
            agreement[i] = np.maximum(frac, 1 - frac)
    else:
        if n_contexts < 1:
            raise BtfError("n_contexts must be positive")
        contexts = int(n_contexts)
        rng = np.random.default_rng(seed)
        ctx = rng.integers(0, 2, size=(contexts, n_cells)).astype(bool)
        for i, hood in enumerate(hoods):
            states = np.repeat(ctx[None, :, :], n_pat, axis=0)  # (patterns, contexts, cells)
            states[:, :, hood] = patterns[:, None, :]
            out = model.predict(np.where(states.reshape(-1, n_cells), 1.0, -1.0))[:, i]
            frac = (out.reshape(n_pat, contexts) > 0).mean(axis=1)
            tables[i] = np.where(frac == 1, 1, np.where(frac == 0, -1, 0))
            agreement[i] = np.maximum(frac, 1 - frac)

    return RuleRecovery(task, list(model.output_names), hoods, tables, agreement, true_table,
                        exhaustive, int(contexts))
