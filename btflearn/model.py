"""A trained model: the network graph with one real weight per edge, its forward pass and its file form.

``model.json`` (format ``btflearn.model/1``) stores the edges as ``[receiver, sender, weight]`` with the node
numbering of the ``.net`` format: 0 = bias (-1), 1..inputs = inputs in ``input_names`` order, the last
``outputs`` nodes in ``output_names`` order.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .dataset import READOUTS, Dataset
from .errors import BtfError, FormatError
from .network import Network

FORMAT = "btflearn.model/1"


def sign(values: np.ndarray) -> np.ndarray:
    """The BTF activation: +1 where the weighted sum is positive, -1 (False) otherwise (a zero sum is
    False; a trained node never sits at zero because its margin is positive)."""
    return np.where(values > 0, 1.0, -1.0)


@dataclass
class Model:
    network: Network
    weights: np.ndarray  # (E,) in the network's edge order
    input_names: list = None
    output_names: list = None
    readout: str = "sign"
    name: str = "model"
    hyperparameters: dict = field(default_factory=dict)
    seed: int | None = None
    iterations: int | None = None

    def __post_init__(self):
        self.weights = np.asarray(self.weights, dtype=np.float64)
        net = self.network
        if self.weights.shape != (net.n_edges,):
            raise BtfError(f"a model of this network needs {net.n_edges} weights, got {self.weights.shape}")
        if not np.all(np.isfinite(self.weights)):
            raise BtfError("model weights must be finite")
        if self.input_names is None:
            self.input_names = [f"x{j}" for j in range(net.n_inputs)]
        if self.output_names is None:
            self.output_names = [f"y{j}" for j in range(net.n_outputs)]
        if len(self.input_names) != net.n_inputs or len(self.output_names) != net.n_outputs:
            raise BtfError("input_names/output_names do not match the network's inputs/outputs")
        if self.readout not in READOUTS:
            raise BtfError(f"readout must be one of {READOUTS}")

    # -- evaluation --------------------------------------------------------------------------------
    def node_sums(self, inputs) -> tuple[np.ndarray, np.ndarray]:
        """Forward pass. Returns (values, sums): values (N, V) of every node (+-1; inputs as given) and
        sums (N, V) the weighted sum w_n . x_n of every BTF node (0 for bias and inputs)."""
        net = self.network
        inputs = np.asarray(inputs, dtype=np.float64)
        if inputs.ndim == 1:
            inputs = inputs[None, :]
        if inputs.ndim != 2 or inputs.shape[1] != net.n_inputs:
            raise BtfError(f"the model takes {net.n_inputs} inputs per item, got an array of shape "
                           f"{inputs.shape}")
        n = inputs.shape[0]
        # column-major: every node reads whole columns of its senders (a 64-cofactor split has 2000
        # nodes: 4.7 s on 12,800 items row-major, 5x less so)
        values = np.zeros((n, net.n_nodes), order="F")
        sums = np.zeros((n, net.n_nodes), order="F")
        values[:, 0] = -1.0
        values[:, 1:net.n_inputs + 1] = inputs
        for node in range(net.first_btf, net.n_nodes):
            lo, hi = net.in_start[node], net.in_start[node + 1]
            s = values[:, net.senders[lo:hi]] @ self.weights[lo:hi]
            sums[:, node] = s
            values[:, node] = sign(s)
        return values, sums

    def predict(self, inputs) -> np.ndarray:
        """+-1 outputs (N, n_outputs); for argmax readout a one-hot +-1 row per item."""
        values, sums = self.node_sums(inputs)
        out = slice(self.network.first_output, self.network.n_nodes)
        if self.readout == "argmax":
            k = np.argmax(sums[:, out], axis=1)
            onehot = -np.ones((values.shape[0], self.network.n_outputs))
            onehot[np.arange(len(k)), k] = 1.0
            return onehot
        return values[:, out]

    def accuracy(self, dataset: Dataset) -> tuple[float, float]:
        """(per-bit accuracy, exact-match accuracy) on a dataset."""
        pred = self.predict(dataset.inputs)
        if pred.shape != dataset.outputs.shape:
            raise BtfError(f"the model has {pred.shape[1]} outputs, the dataset {dataset.outputs.shape[1]}")
        right = pred == dataset.outputs
        return float(right.mean()), float(right.all(axis=1).mean())

    # -- files -------------------------------------------------------------------------------------
    def to_dict(self) -> dict:
        net = self.network
        return {
            "format": FORMAT,
            "name": self.name,
            "arch": net.arch,
            "nodes": net.n_nodes,
            "inputs": net.n_inputs,
            "outputs": net.n_outputs,
            "input_names": list(self.input_names),
            "output_names": list(self.output_names),
            "readout": self.readout,
            "edges": [[int(r), int(s), float(w)] for r, s, w in zip(net.receivers, net.senders, self.weights)],
            "hyperparameters": dict(self.hyperparameters),
            "seed": self.seed,
            "iterations": self.iterations,
        }

    def save(self, path) -> Path:
        path = Path(path)
        path.write_text(json.dumps(self.to_dict(), indent=1) + "\n")
        return path

    @staticmethod
    def from_dict(data: dict, source="model") -> "Model":
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise FormatError(source, f"not a btflearn model (expected \"format\": \"{FORMAT}\")")
        try:
            edges = data["edges"]
            if not isinstance(edges, list) or not edges or any(
                    not isinstance(e, list) or len(e) != 3 for e in edges):
                raise FormatError(source, "\"edges\" must be a non-empty list of [receiver, sender, weight]")
            sizes = [_count(data, key, source) for key in ("nodes", "inputs", "outputs")]
            for k, (r, s, w) in enumerate(edges):
                if not (_is_int(r) and _is_int(s) and _is_number(w)):
                    raise FormatError(source, f"edge {k + 1} of \"edges\" must be [receiver, sender, weight] "
                                              f"with integer node numbers and a number weight, found {[r, s, w]}")
            pairs = [(int(r), int(s)) for r, s, _ in edges]
            net = Network.from_edges(*sizes, pairs, arch=str(data.get("arch", "")))
            by_pair = {(int(r), int(s)): float(w) for r, s, w in edges}
            weights = np.array([by_pair[(int(r), int(s))] for r, s in zip(net.receivers, net.senders)])
            return Model(net, weights, data.get("input_names"), data.get("output_names"),
                         data.get("readout", "sign"), data.get("name", "model"),
                         data.get("hyperparameters", {}), data.get("seed"), data.get("iterations"))
        except FormatError:
            raise
        except KeyError as exc:
            raise FormatError(source, f"missing field {exc.args[0]!r}") from None
        except (BtfError, TypeError, ValueError) as exc:
            raise FormatError(source, str(exc)) from None


def _is_int(value) -> bool:
    """A JSON whole number (17 or 17.0; not true/false, not "17")."""
    if isinstance(value, bool):
        return False
    return isinstance(value, int) or (isinstance(value, float) and value.is_integer())


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _count(data: dict, key: str, source) -> int:
    """A whole-number field of model.json, or a FormatError naming the field and the file."""
    if key not in data:
        raise FormatError(source, f"missing field {key!r}")
    value = data[key]
    if not _is_int(value) or value < 0:
        raise FormatError(source, f"field {key!r} must be a whole number, found {json.dumps(value)}")
    return int(value)


def load_model(path) -> Model:
    """Read a ``model.json`` written by btflearn."""
    path = Path(path)
    try:
        data = json.loads(path.read_text())
    except OSError as exc:
        raise FormatError(path, f"cannot read: {exc.strerror}") from None
    except json.JSONDecodeError as exc:
        raise FormatError(path, f"not valid JSON: {exc.msg}", line=exc.lineno) from None
    return Model.from_dict(data, source=path)
