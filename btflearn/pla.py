"""Espresso PLA files: the field's common form for truth tables and samples of them.

A PLA file has directives ``.i N`` (inputs), ``.o M`` (outputs), optional ``.p P`` (rows), ``.ilb``
and ``.ob`` (port names), ``.type`` and ``.e``/``.end``; ``#`` starts a comment. Every other line is a
row: N input characters (``0``, ``1``, ``-`` for "either") and M output characters (whitespace between
them is ignored). Files may be gzip-compressed (recognised by their magic bytes, so the ``.gz`` suffix is
optional).

How a row's outputs are read depends on ``.type`` (Espresso's meanings):

* ``fr`` - a sample: ``1`` = ON, ``0`` = OFF for that output. Every row becomes an item (rows whose
  inputs contain ``-`` become every minterm they cover). This is the IWLS 2020 form.
* ``f``  - rows list the ON-set (``1``); every minterm not covered is OFF.
* ``fd`` (Espresso's default when ``.type`` is absent) - ``1`` = ON, ``-`` = don't care; every minterm
  neither ON nor don't-care is OFF.
For ``f``/``fd`` the data set is the complete truth table (at most ``MAX_TABLE_INPUTS`` inputs), less
the minterms where some output is a don't-care. A don't-care output has no label, so in an ``fr`` file
it is an error.
"""
from __future__ import annotations

import gzip
import io
from pathlib import Path

import numpy as np

from .dataset import Dataset
from .errors import BtfError, FormatError

TYPES = ("f", "fr", "fd")
MAX_TABLE_INPUTS = 20         # f / fd files become complete truth tables: 2^20 rows at most
MAX_EXPANDED_ITEMS = 1 << 20  # total items after expanding '-' in row inputs
GZIP_MAGIC = b"\x1f\x8b"
_ON, _OFF, _DC, _NONE = 1, 0, 2, 3  # output codes


def _read_text(path) -> str:
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise FormatError(path, f"cannot read: {exc.strerror or exc}") from None
    if raw[:2] == GZIP_MAGIC:
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError, ValueError) as exc:
            raise FormatError(path, f"damaged gzip data: {exc}") from None
    elif path.suffix.lower() == ".gz":
        raise FormatError(path, "the name ends in .gz but the file is not gzip-compressed")
    try:
        return raw.decode("ascii")
    except UnicodeDecodeError:
        raise FormatError(path, "not a text PLA file (non-ASCII bytes)") from None


def read_pla(path, dashes: str = "expand", max_items: int = MAX_EXPANDED_ITEMS) -> Dataset:
    """A PLA file as a Dataset (+-1 arrays; inputs named by ``.ilb``, outputs by ``.ob``).

    dashes: ``"expand"`` turns a row whose inputs contain ``-`` into every minterm it covers (at most
    ``max_items`` items in all, else a FormatError); ``"reject"`` makes such a row an error.
    """
    if dashes not in ("expand", "reject"):
        raise BtfError(f"dashes must be 'expand' or 'reject', got {dashes!r}")
    text = _read_text(path)
    n_in = n_out = n_rows = None
    p_line = None
    kind, names_in, names_out = None, None, None
    rows, row_lines = [], []
    for no, line in enumerate(text.splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        if line.startswith("."):
            key, *args = line.split()
            if key in (".e", ".end"):
                break
            if key in (".i", ".o", ".p"):
                if len(args) != 1 or not args[0].isdigit():
                    raise FormatError(path, f"{key} needs one non-negative integer, found {line!r}", no)
                value = int(args[0])
                if rows and key != ".p":
                    raise FormatError(path, f"{key} after the first row", no)
                if key == ".i":
                    n_in = value
                elif key == ".o":
                    if value < 1:
                        raise FormatError(path, ".o must be at least 1", no)
                    n_out = value
                else:
                    n_rows, p_line = value, no
            elif key == ".type":
                if len(args) != 1 or args[0] not in TYPES:
                    raise FormatError(path, f".type must be one of {', '.join(TYPES)}, found {line!r}", no)
                if rows:
                    raise FormatError(path, ".type after the first row", no)
                kind = args[0]
            elif key in (".ilb", ".ob"):
                if key == ".ilb":
                    names_in = (args, no)
                else:
                    names_out = (args, no)
            else:
                raise FormatError(path, f"unsupported directive {key!r} (btflearn reads .i .o .p .ilb .ob "
                                        f".type f|fr|fd .e)", no)
            continue
        if n_in is None or n_out is None:
            raise FormatError(path, "a row before the .i and .o directives", no)
        row = "".join(line.split())
        if len(row) != n_in + n_out:
            raise FormatError(path, f"row has {len(row)} characters, expected {n_in} inputs + {n_out} "
                                    f"outputs = {n_in + n_out}", no)
        rows.append(row)
        row_lines.append(no)
    if n_in is None or n_out is None:
        raise FormatError(path, "missing .i or .o directive")
    if n_rows is not None and n_rows != len(rows):
        raise FormatError(path, f".p says {n_rows} rows but the file has {len(rows)}", p_line)
    names = []
    for given, count, what in ((names_in, n_in, ".ilb"), (names_out, n_out, ".ob")):
        if given is None:
            names.append(None)
            continue
        if len(given[0]) != count or len(set(given[0])) != count:
            raise FormatError(path, f"{what} must list {count} distinct names, found {len(given[0])}", given[1])
        names.append(list(given[0]))
    kind = kind or "fd"
    inputs, outputs = _decode(path, rows, row_lines, n_in, n_out, kind, dashes)
    if kind == "fr":
        inputs, outputs = _expand(path, inputs, outputs, row_lines, max_items)
    else:
        inputs, outputs = _truth_table(path, inputs, outputs, n_in, kind, max_items)
    if inputs.shape[0] == 0:
        raise FormatError(path, "no items: the file has no rows with labelled outputs")
    name = Path(path).name
    for suffix in (".gz", ".pla"):
        if name.lower().endswith(suffix):
            name = name[: -len(suffix)]
    return Dataset(inputs, outputs, input_names=names[0], output_names=names[1], name=name)


def _decode(path, rows, row_lines, n_in, n_out, kind, dashes):
    """Rows as (R, n_in) int8 (0, 1, -1 for '-') and (R, n_out) output codes."""
    if not rows:
        return np.zeros((0, n_in), np.int8), np.zeros((0, n_out), np.int8)
    table = np.frombuffer("".join(rows).encode(), dtype=np.uint8).reshape(len(rows), n_in + n_out)
    cin = np.full(256, -2, np.int8)
    cin[ord("0")], cin[ord("1")] = 0, 1
    if dashes == "expand":
        cin[ord("-")] = -1
    inputs = cin[table[:, :n_in]]
    bad = np.argwhere(inputs == -2)
    if bad.size:
        r, c = bad[0]
        ch = chr(table[r, c])
        hint = " (don't-care inputs are rejected by the dashes option)" if ch == "-" else ""
        raise FormatError(path, f"input {c + 1} is {ch!r}: inputs must be 0, 1 or -{hint}", row_lines[r])
    cout = np.full(256, -2, np.int8)
    if kind == "fr":
        cout[ord("1")], cout[ord("4")], cout[ord("0")] = _ON, _ON, _OFF
    elif kind == "f":
        cout[ord("1")], cout[ord("4")] = _ON, _ON
        for ch in "0-~2":
            cout[ord(ch)] = _NONE
    else:
        cout[ord("1")], cout[ord("4")] = _ON, _ON
        cout[ord("-")], cout[ord("2")] = _DC, _DC
        cout[ord("0")], cout[ord("~")] = _NONE, _NONE
    outputs = cout[table[:, n_in:]]
    bad = np.argwhere(outputs == -2)
    if bad.size:
        r, c = bad[0]
        ch = chr(table[r, n_in + c])
        extra = " (a don't-care output has no label to learn)" if kind == "fr" and ch in "-~2" else ""
        raise FormatError(path, f"output {c + 1} is {ch!r}, not valid in a .type {kind} file{extra}",
                          row_lines[r])
    return inputs, outputs


def _expand(path, inputs, outputs, row_lines, max_items):
    """Every row of a sample, rows with '-' inputs replaced by the minterms they cover."""
    free = (inputs < 0).sum(axis=1)
    if not free.any():
        return inputs.astype(np.float64) * 2 - 1, outputs.astype(np.float64) * 2 - 1
    sizes = np.left_shift(1, np.minimum(free, 62).astype(np.int64))
    total = np.cumsum(sizes)
    if total[-1] > max_items:
        r = int(np.searchsorted(total, max_items, side="right"))
        raise FormatError(path, f"expanding '-' inputs gives more than {max_items} items (this row alone "
                                f"covers 2^{int(free[r])} minterms); read the file with dashes='reject' or "
                                f"write the sample as minterms", row_lines[r])
    rep = np.repeat(np.arange(len(inputs)), sizes)
    out_in = inputs[rep].astype(np.int64)
    offset = np.arange(len(rep)) - np.repeat(total - sizes, sizes)  # minterm index within its row
    for r in np.flatnonzero(free):
        lo = total[r] - sizes[r]
        cols = np.flatnonzero(inputs[r] < 0)
        k = offset[lo:total[r]]
        out_in[lo:total[r]][:, cols] = (k[:, None] >> np.arange(len(cols))) & 1
    return out_in.astype(np.float64) * 2 - 1, outputs[rep].astype(np.float64) * 2 - 1


def _truth_table(path, inputs, outputs, n_in, kind, max_items):
    """The complete truth table of an ON-set (f) or ON-set and don't-care set (fd) cover."""
    if n_in > MAX_TABLE_INPUTS or (1 << n_in) > max_items:
        raise FormatError(path, f"a .type {kind} file stands for a complete truth table, and 2^{n_in} rows "
                                f"are too many; for a sample of minterms write '.type fr'")
    m = 1 << n_in
    n_out = outputs.shape[1]
    on = np.zeros((m, n_out), bool)
    dc = np.zeros((m, n_out), bool)
    weights = 1 << np.arange(n_in - 1, -1, -1, dtype=np.int64)  # first input is the most significant bit
    every = np.arange(m, dtype=np.int64)
    for r in range(len(inputs)):
        care = inputs[r] >= 0
        mask = int(weights[care].sum())
        value = int((weights * np.maximum(inputs[r], 0)).sum())
        hit = (every & mask) == value
        for j in range(n_out):
            if outputs[r, j] == _ON:
                on[hit, j] = True
            elif outputs[r, j] == _DC:
                dc[hit, j] = True
    keep = ~(dc & ~on).any(axis=1)  # a minterm in both ON and DC is ON (Espresso unions them)
    bits = ((every[:, None] & weights) != 0)[keep]
    return bits * 2.0 - 1, on[keep] * 2.0 - 1


def format_pla(dataset: Dataset, names: bool = True) -> str:
    """A Dataset of Boolean items as ``.type fr`` PLA text, one row per item."""
    if not np.all(np.isin(dataset.inputs, (-1.0, 1.0))):
        raise BtfError("a PLA file holds Boolean inputs only; this dataset has analog values")
    if dataset.readout != "sign" or dataset.input_mode != "data":
        raise BtfError("a PLA file holds Boolean data: sign readout and data inputs")
    lines = [f".i {dataset.n_inputs}", f".o {dataset.n_outputs}"]
    if names:
        for key, ports in ((".ilb", dataset.input_names), (".ob", dataset.output_names)):
            if any(not str(n) or any(c.isspace() or c == "#" for c in str(n)) for n in ports):
                raise BtfError(f"{key} names must be non-empty without whitespace or '#'")
            lines.append(f"{key} " + " ".join(map(str, ports)))
    lines += [f".p {dataset.n_items}", ".type fr"]
    digits = np.frombuffer(b"01", np.uint8)
    ins = digits[(dataset.inputs > 0).astype(np.int8)]
    outs = digits[(dataset.outputs > 0).astype(np.int8)]
    sep = np.full((dataset.n_items, 1), ord(" "), np.uint8)
    nl = np.full((dataset.n_items, 1), ord("\n"), np.uint8)
    body = np.concatenate([ins, sep, outs, nl], axis=1).tobytes().decode()
    return "\n".join(lines) + "\n" + body + ".e\n"


def write_pla(dataset: Dataset, path, names: bool = True) -> Path:
    """Write ``dataset`` as a ``.type fr`` PLA file (gzip-compressed when the name ends in .gz)."""
    path = Path(path)
    data = format_pla(dataset, names).encode()
    if path.suffix.lower() == ".gz":
        buf = io.BytesIO()
        with gzip.GzipFile(fileobj=buf, mode="wb", mtime=0) as fh:
            fh.write(data)
        data = buf.getvalue()
    path.write_bytes(data)
    return path
