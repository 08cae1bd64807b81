"""Datasets: inputs and outputs as +-1 arrays (True = +1, False = -1; analog v in [0,1] enters as 2v-1)."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .errors import BtfError

# How the solver treats the input nodes in constraint A:
#   "data"   - inputs are fixed to the dataset values (the usual case);
#   "binary" - inputs are free +-1 codes (generative / decoder tasks);
#   "onehot" - inputs are free one-hot generators (exactly one +1 per item).
INPUT_MODES = ("data", "binary", "onehot")
# How a model's outputs are read: one Boolean per output node, or the argmax of the output dot products.
READOUTS = ("sign", "argmax")


@dataclass
class Dataset:
    """Training facts: ``inputs`` (N, n_in) and ``outputs`` (N, n_out), both float arrays of +-1 values
    (inputs may also be analog values in [-1, 1])."""

    inputs: np.ndarray
    outputs: np.ndarray
    input_mode: str = "data"
    readout: str = "sign"
    input_names: list = field(default=None)
    output_names: list = field(default=None)
    name: str = "dataset"

    def __post_init__(self):
        inputs = np.asarray(self.inputs, dtype=np.float64)
        outputs = np.asarray(self.outputs, dtype=np.float64)
        if inputs.ndim == 1:
            inputs = inputs[:, None]
        if outputs.ndim == 1:
            outputs = outputs[:, None]
        if inputs.ndim != 2 or outputs.ndim != 2:
            raise BtfError(f"inputs and outputs must be 2-D arrays (items x values), got shapes "
                           f"{inputs.shape} and {outputs.shape}")
        if inputs.shape[0] != outputs.shape[0]:
            raise BtfError(f"inputs have {inputs.shape[0]} items but outputs have {outputs.shape[0]}")
        if inputs.shape[0] == 0:
            raise BtfError("a dataset needs at least one item")
        if not np.all(np.isfinite(inputs)) or np.any(np.abs(inputs) > 1):
            raise BtfError("inputs must be finite values in [-1, 1] (+-1 for Booleans)")
        if not np.all(np.isin(outputs, (-1.0, 1.0))):
            raise BtfError("outputs must be +-1 (True = +1, False = -1)")
        if self.input_mode not in INPUT_MODES:
            raise BtfError(f"input_mode must be one of {INPUT_MODES}, got {self.input_mode!r}")
        if self.readout not in READOUTS:
            raise BtfError(f"readout must be one of {READOUTS}, got {self.readout!r}")
        if self.readout == "argmax" and not np.all((outputs > 0).sum(axis=1) == 1):
            raise BtfError("argmax readout needs one-hot outputs (exactly one +1 per item)")
        self.inputs, self.outputs = inputs, outputs
        if self.input_names is None:
            self.input_names = [f"x{j}" for j in range(inputs.shape[1])]
        if self.output_names is None:
            self.output_names = [f"y{j}" for j in range(outputs.shape[1])]
        if len(self.input_names) != inputs.shape[1] or len(self.output_names) != outputs.shape[1]:
            raise BtfError("input_names/output_names do not match the number of inputs/outputs")

    @property
    def n_items(self) -> int:
        return self.inputs.shape[0]

    @property
    def n_inputs(self) -> int:
        return self.inputs.shape[1]

    @property
    def n_outputs(self) -> int:
        return self.outputs.shape[1]

    def __len__(self) -> int:
        return self.n_items

    def subset(self, index) -> "Dataset":
        return Dataset(self.inputs[index], self.outputs[index], self.input_mode, self.readout,
                       list(self.input_names), list(self.output_names), self.name)

    def split(self, n_train: int) -> tuple["Dataset", "Dataset | None"]:
        """The first ``n_train`` items for training, the rest (or None when nothing is left) for testing."""
        if not 1 <= n_train <= self.n_items:
            raise BtfError(f"n_train must be between 1 and {self.n_items}, got {n_train}")
        test = self.subset(slice(n_train, None)) if n_train < self.n_items else None
        return self.subset(slice(0, n_train)), test

    @staticmethod
    def from_bits(inputs, outputs, **kw) -> "Dataset":
        """Build from 0/1 arrays (1 -> +1 True, 0 -> -1 False)."""
        return Dataset(2.0 * np.asarray(inputs, dtype=np.float64) - 1.0,
                       2.0 * np.asarray(outputs, dtype=np.float64) - 1.0, **kw)
