"""Readers and writers for the authors' reference formats (.wth widths, .dat data, .net networks).

Every problem with a file is a FormatError naming the file and line; see btflearn/data/README.md for the
formats themselves.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from .dataset import Dataset
from .errors import BtfError, FormatError
from .network import Network


class _Tokens:
    """Whitespace-separated tokens of a file, each remembered with its line number."""

    def __init__(self, path):
        self.path = Path(path)
        try:
            text = self.path.read_text()
        except OSError as exc:
            raise FormatError(path, f"cannot read: {exc.strerror or exc}") from None
        except UnicodeDecodeError:
            raise FormatError(path, "not a text file") from None
        self.items = [(tok, no) for no, line in enumerate(text.splitlines(), 1) for tok in line.split()]
        self.pos = 0

    def _next(self, what):
        if self.pos >= len(self.items):
            last = self.items[-1][1] if self.items else None
            raise FormatError(self.path, f"file ends early: expected {what}", line=last)
        tok, no = self.items[self.pos]
        self.pos += 1
        return tok, no

    def int(self, what, low=None):
        tok, no = self._next(what)
        try:
            value = int(tok)
        except ValueError:
            raise FormatError(self.path, f"expected {what} (an integer), found {tok!r}", line=no) from None
        if low is not None and value < low:
            raise FormatError(self.path, f"{what} must be at least {low}, found {value}", line=no)
        return value

    def floats(self, count, what):
        """``count`` numbers as a float array (fast path for big data files)."""
        if self.pos + count > len(self.items):
            last = self.items[-1][1] if self.items else None
            raise FormatError(self.path, f"file ends early: expected {what}", line=last)
        chunk = self.items[self.pos:self.pos + count]
        try:
            values = np.array([float(t) for t, _ in chunk])
        except ValueError:
            for tok, no in chunk:
                try:
                    float(tok)
                except ValueError:
                    raise FormatError(self.path, f"expected {what}, found {tok!r}", line=no) from None
        self.pos += count
        return values, chunk

    def line_of(self, index):
        return self.items[index][1]

    def done(self):
        if self.pos < len(self.items):
            tok, no = self.items[self.pos]
            raise FormatError(self.path, f"unexpected extra data {tok!r} after the last item", line=no)


def read_wth(path) -> list[int]:
    """Widths from input to output: the number of layers L, then L+1 widths."""
    toks = _Tokens(path)
    n_layers = toks.int("the number of layers", low=1)
    widths = [toks.int(f"width {k}", low=1) for k in range(n_layers + 1)]
    toks.done()
    return widths


def read_dat(path, n_inputs: int | None = None) -> Dataset:
    """A data file as a Dataset. Booleans 0/1 -> -1/+1, analog v -> 2v-1, class labels -> one-hot +-1.
    Generative files (input count 0) need ``n_inputs`` (the input width of the architecture) and give
    free inputs: one-hot generators (type 1) or a free binary code (type 2)."""
    toks = _Tokens(path)
    n_items = toks.int("the number of items", low=1)
    in_type, in_count = toks.int("the input type"), toks.int("the input count", low=0)
    out_type, out_count = toks.int("the output type"), toks.int("the output count", low=1)
    header_line = toks.line_of(toks.pos - 1)
    if in_count > 0 and in_type not in (0, 2):
        raise FormatError(path, f"input type must be 0 (analog) or 2 (Boolean), found {in_type}", line=header_line - 1)
    if in_count == 0 and in_type not in (1, 2):
        raise FormatError(path, f"generative input type must be 1 (one-hot) or 2 (binary code), found {in_type}",
                          line=header_line - 1)
    classes = out_type if (out_count == 1 and out_type > 2) else None
    if classes is None and out_type != 2:
        raise FormatError(path, f"output type must be 2 (Boolean) or a class count with count 1, found "
                                f"{out_type} {out_count}", line=header_line)
    per_item = in_count + out_count
    values, chunk = toks.floats(n_items * per_item, f"{n_items} items of {per_item} values")
    toks.done()
    values = values.reshape(n_items, per_item)

    def bad(index, message):
        item, col = divmod(int(index), per_item)
        raise FormatError(path, f"item {item + 1}: {message}", line=chunk[int(index)][1])

    raw_in, raw_out = values[:, :in_count], values[:, in_count:]
    if in_count and in_type == 2:
        wrong = np.flatnonzero(~np.isin(values[:, :in_count], (0, 1)).ravel())
        if wrong.size:
            i, j = divmod(int(wrong[0]), in_count)
            bad(i * per_item + j, f"Boolean input must be 0 or 1, found {raw_in[i, j]:g}")
    if in_count and in_type == 0:
        wrong = np.flatnonzero(((raw_in < 0) | (raw_in > 1)).ravel())
        if wrong.size:
            i, j = divmod(int(wrong[0]), in_count)
            bad(i * per_item + j, f"analog input must lie in [0, 1], found {raw_in[i, j]:g}")
    if classes is None:
        wrong = np.flatnonzero(~np.isin(raw_out, (0, 1)).ravel())
        if wrong.size:
            i, j = divmod(int(wrong[0]), out_count)
            bad(i * per_item + in_count + j, f"Boolean output must be 0 or 1, found {raw_out[i, j]:g}")
        outputs = 2.0 * raw_out - 1.0
        readout = "sign"
    else:
        labels = raw_out[:, 0]
        wrong = np.flatnonzero((labels != np.round(labels)) | (labels < 0) | (labels >= classes))
        if wrong.size:
            i = int(wrong[0])
            bad(i * per_item + in_count, f"class label must be an integer 0..{classes - 1}, found {labels[i]:g}")
        outputs = -np.ones((n_items, classes))
        outputs[np.arange(n_items), labels.astype(int)] = 1.0
        readout = "argmax"
    if in_count:
        inputs, mode = 2.0 * raw_in - 1.0, "data"
    else:
        if n_inputs is None:
            raise FormatError(path, "a generative data file (no input values) needs the architecture's "
                                    "input width")
        mode = "onehot" if in_type == 1 else "binary"
        inputs = -np.ones((n_items, n_inputs))  # placeholders: the solver treats these inputs as free
    return Dataset(inputs, outputs, input_mode=mode, readout=readout, name=Path(path).stem)


def read_net(path) -> tuple[Network, np.ndarray]:
    """A network file: header ``nodes innodes outnodes edges`` (innodes counts the bias node), then one
    ``receiver sender weight`` line per edge. Returns the network and its weights in its edge order."""
    toks = _Tokens(path)
    n_nodes = toks.int("the number of nodes", low=2)
    innodes = toks.int("the number of input nodes (bias included)", low=1)
    n_out = toks.int("the number of output nodes", low=1)
    n_edges = toks.int("the number of edges", low=1)
    edges, weights = [], {}
    for k in range(n_edges):
        r = toks.int(f"the receiver of edge {k + 1}", low=0)
        s = toks.int(f"the sender of edge {k + 1}", low=0)
        tok, no = toks._next(f"the weight of edge {k + 1}")
        try:
            w = float(tok)
        except ValueError:
            raise FormatError(path, f"expected the weight of edge {k + 1}, found {tok!r}", line=no) from None
        if not np.isfinite(w):
            raise FormatError(path, f"weight of edge {k + 1} is not finite", line=no)
        if (r, s) in weights:
            raise FormatError(path, f"edge {r} <- {s} appears twice", line=no)
        edges.append((r, s))
        weights[(r, s)] = w
    toks.done()
    try:
        net = Network.from_edges(n_nodes, innodes - 1, n_out, edges, arch=Path(path).name)
    except BtfError as exc:
        raise FormatError(path, str(exc)) from None
    return net, np.array([weights[(int(r), int(s))] for r, s in zip(net.receivers, net.senders)])


def write_net(path, network: Network, weights) -> Path:
    """Write a network in the authors' ``.net`` format (innodes counts the bias node)."""
    weights = np.asarray(weights, dtype=np.float64)
    lines = [f"{network.n_nodes} {network.n_inputs + 1} {network.n_outputs} {network.n_edges}"]
    lines += [f"{r} {s} {w:.17g}" for r, s, w in zip(network.receivers, network.senders, weights)]
    path = Path(path)
    path.write_text("\n".join(lines) + "\n")
    return path
