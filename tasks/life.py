"""Life-like (outer-totalistic, Moore neighbourhood) cellular automata on a torus: rules in B/S notation.

``"B3/S23"`` is Conway's Game of Life: a dead cell with exactly 3 live neighbours is born, a live cell with
2 or 3 live neighbours survives, every other cell is dead next step. Cells are numbered row-major
(cell r*w + c is row r, column c); rows and columns wrap around.

States are +-1 arrays (True = +1 = alive) of shape (N, h*w) (or (h*w,)), or NumPy bool arrays (then the
result of ``step`` is bool too); (N, h, w) arrays are accepted and flattened.
"""
from __future__ import annotations

import re

import numpy as np

from btflearn.dataset import Dataset
from btflearn.errors import BtfError

from .ca import CellularTask, _as_bool_states, _back
from .spec import RunSpec

SPEC = RunSpec(gamma=1e-3)
# The 9-input rule table (--local): one hidden layer of threshold gates with a small margin solves
# B3/S23 in seconds (two threshold gates and an AND); sigma 3 (MAJ3/AND/OR only) did not within 1e4
# iterations on the nets tried.
LOCAL_SPEC = RunSpec(arch="9-6-1", sigma=50.0, gamma=1e-3, max_iter=5000, trials=8)

_RULE_RE = re.compile(r"^B([0-8]*)/?S([0-8]*)$", re.IGNORECASE)
# Moore neighbourhood offsets, row-major; (0, 0) is the cell itself.
OFFSETS = [(dr, dc) for dr in (-1, 0, 1) for dc in (-1, 0, 1)]


def parse_rule(rule: str) -> tuple[frozenset, frozenset]:
    """``"B3/S23"`` (also ``"b3s23"``) -> (birth counts, survival counts)."""
    m = _RULE_RE.match(str(rule).strip())
    if not m:
        raise BtfError(f"a Life-like rule reads like B3/S23 (birth and survival neighbour counts 0-8), "
                       f"got {rule!r}")
    return frozenset(int(c) for c in m.group(1)), frozenset(int(c) for c in m.group(2))


def rule_string(birth, survive) -> str:
    return "B" + "".join(map(str, sorted(birth))) + "/S" + "".join(map(str, sorted(survive)))


class LifeLikeCA(CellularTask):
    """Outer-totalistic rule ``rule`` on an h x w torus; a task maps a state to the state ``steps``
    updates later."""

    def __init__(self, rule: str = "B3/S23", shape=(4, 4), steps: int = 1):
        self.birth, self.survive = parse_rule(rule)
        try:
            h, w = (int(s) for s in shape)
        except (TypeError, ValueError):
            raise BtfError(f"shape must be (rows, columns), got {shape!r}") from None
        if h < 3 or w < 3:
            raise BtfError(f"the torus needs at least 3 x 3 cells, got {h} x {w}")
        if not isinstance(steps, (int, np.integer)) or steps < 1:
            raise BtfError(f"steps must be a positive integer, got {steps!r}")
        self.shape, self.steps = (h, w), int(steps)
        self.rule = rule_string(self.birth, self.survive)

    @property
    def n_cells(self) -> int:
        return self.shape[0] * self.shape[1]

    @property
    def name(self) -> str:
        return f"life_{self.rule.replace('/', '')}_{self.shape[0]}x{self.shape[1]}_s{self.steps}"

    @property
    def input_names(self) -> list[str]:
        h, w = self.shape
        return [f"c{r}_{c}" for r in range(h) for c in range(w)]

    @property
    def output_names(self) -> list[str]:
        return [f"{n}_t{self.steps}" for n in self.input_names]

    def __repr__(self):
        return f"LifeLikeCA(rule={self.rule!r}, shape={self.shape}, steps={self.steps})"

    # -- dynamics ----------------------------------------------------------------------------------
    def _flat(self, states):
        arr = np.asarray(states)
        if arr.ndim == 3 and arr.shape[1:] == self.shape:
            arr = arr.reshape(arr.shape[0], -1)
        elif arr.ndim == 2 and arr.shape == self.shape and self.shape[1] != self.n_cells:
            arr = arr.reshape(-1)
        return _as_bool_states(arr, self.n_cells)

    def _update(self, bits: np.ndarray) -> np.ndarray:
        h, w = self.shape
        grid = bits.reshape(-1, h, w)
        count = np.zeros(grid.shape, dtype=np.int64)
        for dr, dc in OFFSETS:
            if (dr, dc) != (0, 0):
                count += np.roll(grid, (-dr, -dc), axis=(1, 2))
        born = np.isin(count, list(self.birth)) & ~grid
        keep = np.isin(count, list(self.survive)) & grid
        return (born | keep).reshape(bits.shape)

    def sample(self, n_items: int, seed: int = 0, density: float = 0.5) -> Dataset:
        """``n_items`` random initial states (each cell alive with probability ``density``, 0.5 = uniform
        over states; drawn independently, so repeats are possible) and their images."""
        if not isinstance(n_items, (int, np.integer)) or n_items < 1:
            raise BtfError(f"n_items must be a positive integer, got {n_items!r}")
        if not 0.0 <= density <= 1.0:
            raise BtfError(f"density must lie in [0, 1], got {density}")
        rng = np.random.default_rng(seed)
        return self.dataset(rng.random((int(n_items), self.n_cells)) < density)

    # -- the local rule --------------------------------------------------------------------------
    def neighbourhood(self, cell: int) -> list[int]:
        """The 9 input cells of output ``cell``'s Moore neighbourhood, row-major from (-1, -1)."""
        if self.steps != 1:
            raise BtfError("the local rule of a Life-like task is read for one-step tasks only")
        h, w = self.shape
        r, c = divmod(int(cell), w)
        return [((r + dr) % h) * w + (c + dc) % w for dr, dc in OFFSETS]

    def local_table(self) -> np.ndarray:
        """The next state of the centre cell for each of the 512 neighbourhood patterns (pattern index:
        the first cell of ``neighbourhood`` most significant; the centre is bit 4)."""
        codes = np.arange(512)
        bits = ((codes[:, None] >> (8 - np.arange(9))) & 1).astype(bool)
        centre = bits[:, 4]
        count = bits.sum(axis=1) - centre
        return np.where(centre, np.isin(count, list(self.survive)), np.isin(count, list(self.birth)))

    def describe_table(self, table) -> str:
        """A 512-entry table as a B/S rule when it is outer-totalistic, else 'not outer-totalistic'."""
        table = np.asarray(table, dtype=bool)
        codes = np.arange(512)
        bits = ((codes[:, None] >> (8 - np.arange(9))) & 1).astype(bool)
        centre = bits[:, 4]
        count = bits.sum(axis=1) - centre
        birth, survive = set(), set()
        for alive, out in ((False, birth), (True, survive)):
            for k in range(9):
                sel = (centre == alive) & (count == k)
                vals = table[sel]
                if vals.size == 0:
                    continue
                if vals.min() != vals.max():
                    return "not outer-totalistic"
                if vals[0]:
                    out.add(k)
        return rule_string(birth, survive)

    def neighbourhood_table(self) -> Dataset:
        """The local rule as a 9-input, 1-output truth table (512 items): learning it exactly is learning
        the rule itself (what a per-cell logic circuit of the rule, e.g. the 336-gate differentiable
        logic CA, computes)."""
        codes = np.arange(512)
        bits = ((codes[:, None] >> (8 - np.arange(9))) & 1).astype(bool)
        names = [f"n{'m0p'[dr + 1]}{'m0p'[dc + 1]}" for dr, dc in OFFSETS]  # nmm .. npp, n00 = centre
        return Dataset(np.where(bits, 1.0, -1.0), np.where(self.local_table(), 1.0, -1.0)[:, None],
                       input_names=names, output_names=["next"], name=f"life_{self.rule.replace('/', '')}_rule")

    def default_arch(self) -> str:
        n = self.n_cells
        return f"{n}-{2 * n}-{2 * n}-{n}"
