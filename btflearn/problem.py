"""A Problem: what one fit learns (a dataset and a network) and how (the solver settings), validated once.

Every path into the solver (``fit``, the Dask runner, the benches, the CLI) builds a Problem, so the
architecture is parsed and checked against the data, and every setting is checked, in this one place.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from functools import cached_property

import numpy as np

from .dataset import INPUT_MODES, Dataset
from .errors import BtfError
from .arch import parse_arch
from .network import Network

DTYPES = ("float64", "float32")


@dataclass(frozen=True)
class Settings:
    """The solver's settings: sigma = support (margin sqrt(m/sigma)), beta = RRR step, gamma = metric rate."""
    sigma: float = 3.0
    beta: float = 0.2
    gamma: float | None = None   # None: 1 / max_iter
    max_iter: int = 10_000
    gapstop: float = 0.01
    dtype: str = "float64"
    polish: int = 0
    support: int | tuple | None = None  # gate projection of the concurred weights (None: off)

    def validated(self) -> "Settings":
        """These settings with gamma filled in, or a BtfError naming the first bad one."""
        for name in ("sigma", "beta", "gapstop"):
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
                raise BtfError(f"{name} must be a positive number, got {value!r}")
        if not 0 < self.beta <= 1:
            raise BtfError(f"beta must lie in (0, 1], got {self.beta}")
        if int(self.polish) < 0:
            raise BtfError(f"polish must be a non-negative number of iterations, got {self.polish!r}")
        if int(self.max_iter) < 1:
            raise BtfError("max_iter must be at least 1")
        gamma = 1.0 / int(self.max_iter) if self.gamma is None else self.gamma
        # g <- g + gamma (gap/mean - g): a rate above 1 overshoots and can make the metric negative
        if not (isinstance(gamma, (int, float)) and math.isfinite(gamma) and 0 < gamma <= 1):
            raise BtfError(f"gamma must be a number in (0, 1], got {gamma!r}")
        if self.dtype not in DTYPES:
            raise BtfError(f"dtype must be float64 or float32, got {self.dtype!r}")
        support = self.support
        if support is not None:
            support = int(support) if np.ndim(support) == 0 else tuple(int(v) for v in np.ravel(support))
            if min(np.ravel(support)) < 0:
                raise BtfError(f"support must be a non-negative number of weights, got {self.support!r}")
        return Settings(float(self.sigma), float(self.beta), float(gamma), int(self.max_iter),
                        float(self.gapstop), self.dtype, int(self.polish), support)


@dataclass(frozen=True)
class Problem:
    """A dataset, the network that learns it and the solver settings; build it with ``Problem.build``."""
    dataset: Dataset
    network: Network
    settings: Settings

    @staticmethod
    def build(dataset: Dataset, arch, settings: Settings | None = None, **overrides) -> "Problem":
        """Parse ``arch`` (widths, ``dense:...``, a .wth/.net file or a Network), check that it fits the
        data, and validate the settings (``overrides`` replace fields of ``settings``)."""
        if not isinstance(dataset, Dataset):
            raise BtfError("fit expects a btflearn.Dataset")
        net = parse_arch(arch)
        if net.n_inputs != dataset.n_inputs or net.n_outputs != dataset.n_outputs:
            raise BtfError(f"architecture {net.arch or arch} has {net.n_inputs} inputs and {net.n_outputs} "
                           f"outputs but the data has {dataset.n_inputs} and {dataset.n_outputs}")
        base = asdict(settings or Settings())
        unknown = set(overrides) - set(base)
        if unknown:
            raise BtfError(f"unknown solver setting(s): {', '.join(sorted(unknown))}")
        base.update(overrides)
        return Problem(dataset, net, Settings(**base).validated())

    @cached_property
    def graph(self):
        """The network as the kernels see it, with margins sqrt(m_n / sigma)."""
        from .kernels.graph import kernel_graph
        try:
            return kernel_graph(self.network, self.settings.sigma, self.settings.support)
        except ValueError as exc:  # a per-node support of the wrong length or range
            raise BtfError(f"support: {exc}") from None

    @property
    def input_mode(self) -> int:
        """The kernels' code of the dataset's input mode (position in INPUT_MODES)."""
        return INPUT_MODES.index(self.dataset.input_mode)

    @property
    def chunk(self) -> int:
        """Iterations between read-out checks: about 2e6 edge-item iterations per trial, a power of two
        in [4, 256]. It depends only on the size of one trial (never on timing or batch size), so a seed
        gives the same trials and iteration counts every run; the check (a forward pass) stays a few
        percent of the work, and small problems still stop soon after a solution."""
        work = self.dataset.n_items * self.network.n_edges
        return 2 ** int(math.log2(min(max(2e6 / work, 4), 256)))

    def hyperparameters(self, trials: int, seed: int) -> dict:
        """The settings as model.json, result.json and checkpoints record them."""
        s = self.settings
        hyper = dict(arch=self.network.arch, sigma=s.sigma, beta=s.beta, gamma=s.gamma, max_iter=s.max_iter,
                     gapstop=s.gapstop, trials=int(trials), seed=seed, dtype=s.dtype, polish=s.polish)
        if s.support is not None:
            hyper["support"] = s.support if np.ndim(s.support) == 0 else [int(v) for v in self.graph.support]
        return hyper

    def model(self, weights, **meta):
        """A Model of this network with the dataset's names and readout."""
        from .model import Model
        d = self.dataset
        return Model(self.network, np.asarray(weights, dtype=np.float64), d.input_names, d.output_names,
                     d.readout, d.name, **meta)
