"""Elementary (1-D) cellular automata on a ring: Wolfram rule codes for 2*radius+1 neighbours.

Convention (Wolfram's): the neighbourhood of cell i is cells i-radius .. i+radius (cell i-1 is the left
neighbour, indices wrap around the ring); read as a binary number with the leftmost cell most significant,
it gives an index k in 0 .. 2^(2*radius+1)-1, and the new state of cell i is bit k of the rule code.
Rule 30: 111 110 101 100 011 010 001 000 -> 0 0 0 1 1 1 1 0.

States are +-1 arrays (True = +1 = live/1, False = -1 = 0) like every btflearn dataset; ``step`` also takes
NumPy bool arrays and then returns bool arrays.
"""
from __future__ import annotations

import numpy as np

from btflearn.dataset import Dataset
from btflearn.errors import BtfError

from .spec import RunSpec

# the reference settings for CA rules (Elser & Lal): sigma 3, beta 0.2, gamma 1e-3
SPEC = RunSpec(gamma=1e-3)


def _as_bool_states(states, width):
    """(N, width) bool array from +-1 values or a bool array; remembers which form came in."""
    arr = np.asarray(states)
    is_bool = arr.dtype == bool
    if arr.ndim == 1:
        arr = arr[None, :]
        squeeze = True
    else:
        squeeze = False
    if arr.ndim != 2 or arr.shape[1] != width:
        raise BtfError(f"states must have {width} cells per row, got an array of shape {np.shape(states)}")
    if is_bool:
        return arr.copy(), True, squeeze
    if not np.all(np.isin(arr, (-1, 1))):
        raise BtfError("states must be +-1 values (True = +1) or a NumPy bool array")
    return arr > 0, False, squeeze


def _back(bits, was_bool, squeeze):
    out = bits if was_bool else np.where(bits, 1.0, -1.0)
    return out[0] if squeeze else out


class CellularTask:
    """What the cellular automata share: stepping, a Dataset of initial states and their images.
    Subclasses give ``n_cells``, ``steps``, ``_flat(states) -> (bits, was_bool, squeeze)``, one update
    ``_update(bits)`` and the names."""

    def step(self, states, steps: int | None = None):
        """The states after ``steps`` updates (default: the task's ``steps``). ``states``: +-1 values or
        a bool array (then the result is bool too), one state or a batch."""
        bits, was_bool, squeeze = self._flat(states)
        steps = self.steps if steps is None else int(steps)
        if steps < 0:
            raise BtfError("steps must be >= 0")
        for _ in range(steps):
            bits = self._update(bits)
        return _back(bits, was_bool, squeeze)

    def dataset(self, states) -> Dataset:
        """A Dataset of the given initial states (+-1 or bool) and their images."""
        bits, _, _ = self._flat(states)
        target = self.step(bits)
        return Dataset(np.where(bits, 1.0, -1.0), np.where(target, 1.0, -1.0),
                       input_names=self.input_names, output_names=self.output_names, name=self.name)

    def all_states(self) -> Dataset:
        """Every one of the 2^n_cells states (at most 2^20)."""
        if self.n_cells > 20:
            raise BtfError(f"2^{self.n_cells} states are too many to enumerate")
        codes = np.arange(1 << self.n_cells)
        return self.dataset(((codes[:, None] >> np.arange(self.n_cells)) & 1).astype(bool))


class ElementaryCA(CellularTask):
    """Wolfram rule ``rule`` with ``2*radius+1`` neighbours on a ring of ``width`` cells; a task maps a
    state to the state ``steps`` updates later."""

    def __init__(self, rule: int, width: int = 16, steps: int = 1, radius: int = 1):
        if not isinstance(radius, (int, np.integer)) or radius < 1:
            raise BtfError(f"radius must be a positive integer, got {radius!r}")
        n_nb = 2 * int(radius) + 1
        if not isinstance(rule, (int, np.integer)) or not 0 <= rule < (1 << (1 << n_nb)):
            raise BtfError(f"a rule for {n_nb} neighbours is an integer 0..2^{1 << n_nb}-1, got {rule!r}")
        if not isinstance(width, (int, np.integer)) or width < n_nb:
            raise BtfError(f"the ring needs at least {n_nb} cells for radius {radius}, got width {width!r}")
        if not isinstance(steps, (int, np.integer)) or steps < 1:
            raise BtfError(f"steps must be a positive integer, got {steps!r}")
        self.rule, self.width, self.steps, self.radius = int(rule), int(width), int(steps), int(radius)
        # table[k] = new state for neighbourhood index k
        self.table = np.array([(self.rule >> k) & 1 for k in range(1 << n_nb)], dtype=bool)

    @property
    def name(self) -> str:
        r = "" if self.radius == 1 else f"_r{self.radius}"
        return f"ca{self.rule}{r}_w{self.width}_s{self.steps}"

    @property
    def input_names(self) -> list[str]:
        return [f"c{i}" for i in range(self.width)]

    @property
    def output_names(self) -> list[str]:
        return [f"c{i}_t{self.steps}" for i in range(self.width)]

    def __repr__(self):
        return f"ElementaryCA(rule={self.rule}, width={self.width}, steps={self.steps}, radius={self.radius})"

    # -- dynamics ----------------------------------------------------------------------------------
    def _update(self, bits: np.ndarray) -> np.ndarray:
        n_nb = 2 * self.radius + 1
        index = np.zeros(bits.shape, dtype=np.int64)
        for j, off in enumerate(range(-self.radius, self.radius + 1)):
            # cell i + off, weight 2^(n_nb-1-j): leftmost most significant
            index |= np.roll(bits, -off, axis=1).astype(np.int64) << (n_nb - 1 - j)
        return self.table[index]

    def sample(self, n_items: int, seed: int = 0) -> Dataset:
        """``n_items`` uniformly random initial states (drawn independently, so repeats are possible)
        and, as targets, the states ``steps`` updates later."""
        if not isinstance(n_items, (int, np.integer)) or n_items < 1:
            raise BtfError(f"n_items must be a positive integer, got {n_items!r}")
        rng = np.random.default_rng(seed)
        bits = rng.integers(0, 2, size=(int(n_items), self.width)).astype(bool)
        return self.dataset(bits)

    @property
    def n_cells(self) -> int:
        return self.width

    def _flat(self, states):
        return _as_bool_states(states, self.width)

    # -- local rule (for recover_rule) -------------------------------------------------------------
    @property
    def reach(self) -> int:
        """How far information travels in ``steps`` updates: output cell i depends on i-reach..i+reach."""
        return self.radius * self.steps

    def neighbourhood(self, cell: int) -> list[int]:
        """Input cells that output ``cell`` depends on, left to right (offsets -reach..reach)."""
        if 2 * self.reach + 1 > self.width:
            raise BtfError(f"after {self.steps} steps the neighbourhood ({2 * self.reach + 1} cells) "
                           f"wraps around the {self.width}-cell ring: there is no separate local rule")
        return [(cell + off) % self.width for off in range(-self.reach, self.reach + 1)]

    def local_table(self) -> np.ndarray:
        """The composite local rule of ``steps`` updates: bool array over the 2^(2*reach+1)
        neighbourhood patterns (index: leftmost cell most significant)."""
        n = 2 * self.reach + 1
        codes = np.arange(1 << n)
        bits = ((codes[:, None] >> (n - 1 - np.arange(n))) & 1).astype(bool)  # column 0 = leftmost
        n_nb = 2 * self.radius + 1
        for _ in range(self.steps):  # open line that shrinks by 2*radius per update
            length = bits.shape[1] - 2 * self.radius
            index = np.zeros((bits.shape[0], length), dtype=np.int64)
            for j in range(n_nb):
                index |= bits[:, j:j + length].astype(np.int64) << (n_nb - 1 - j)
            bits = self.table[index]
        return bits[:, 0]

    def describe_table(self, table) -> str:
        """A one-step table as its Wolfram code ("rule 30"); a composite table of several steps (over
        2*reach+1 cells) as the same kind of code over its patterns, marked with the cell count."""
        table = np.asarray(table, dtype=bool)
        code = sum(int(b) << k for k, b in enumerate(table))
        n = int(len(table)).bit_length() - 1
        return f"rule {code}" if n == 2 * self.radius + 1 else f"{n}-cell rule {code}"

    def local_network(self, window: int = 5, hidden: int = 4, layers: int = 1):
        """A locally connected network: per output cell, ``layers`` layers of ``hidden`` nodes; the first
        reads the ``window`` cells centred on the cell (wider than the true neighbourhood, so the net
        still has to find which cells matter and how), each next one the cell's previous layer, and the
        output cell its last layer. No weight sharing: every cell learns its own rule. Named
        ``local:WINDOWxHIDDEN[xLAYERS]``."""
        from btflearn.network import Network
        w = self.width
        if not (isinstance(window, (int, np.integer)) and window >= 1 and window % 2 == 1 and window <= w):
            raise BtfError(f"the window is an odd number of cells up to the width {w}, got {window!r}")
        if not (isinstance(hidden, (int, np.integer)) and hidden >= 1) or \
                not (isinstance(layers, (int, np.integer)) and layers >= 1):
            raise BtfError(f"hidden and layers must be positive integers, got {hidden!r}, {layers!r}")
        half = window // 2
        first_hidden = 1 + w
        node = lambda layer, cell, k: first_hidden + (layer * w + cell) * hidden + k  # noqa: E731
        first_output = node(layers, 0, 0)
        edges = []
        for layer in range(layers):
            for cell in range(w):
                below = ([1 + (cell + off) % w for off in range(-half, half + 1)] if layer == 0 else
                         [node(layer - 1, cell, k) for k in range(hidden)])
                for k in range(hidden):
                    edges += [(node(layer, cell, k), 0)] + [(node(layer, cell, k), s) for s in below]
        for cell in range(w):
            edges += [(first_output + cell, 0)] + [(first_output + cell, node(layers - 1, cell, k))
                                                   for k in range(hidden)]
        name = f"local:{window}x{hidden}" + (f"x{layers}" if layers > 1 else "")
        return Network.from_edges(first_output + w, w, w, edges, arch=name)

    def default_arch(self) -> str:
        """Defaults after the reference runs: 1 step 16-32-32-16 (30_1.wth), 2 steps 16-48-48-48-16
        (30_2.wth), more steps one hidden layer of width w per step (rule 232: 32-32-32-32)."""
        w = self.width
        if self.steps == 1:
            widths = [w, 2 * w, 2 * w, w]
        elif self.steps == 2:
            widths = [w, 3 * w, 3 * w, 3 * w, w]
        else:
            widths = [w] * (self.steps + 1)
        return "-".join(map(str, widths))
