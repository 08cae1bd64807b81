"""Espresso PLA files: reading samples (fr) and covers (f, fd), '-' expansion, gzip, names, writing and
clear errors with file and line."""
import gzip

import numpy as np
import pytest

from btflearn import Dataset
from btflearn.errors import BtfError, FormatError
from btflearn.pla import format_pla, read_pla, write_pla


def _write(tmp_path, text, name="f.pla"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_reads_a_sample_with_names_comments_and_end(tmp_path):
    path = _write(tmp_path, "# a comment line\n.i 3\n.o 2\n.ilb a b c\n.ob y z\n.p 3\n.type fr\n"
                            "010 10  # trailing comment\n1 1 1  0 1\n000 00\n.e\n111 11\n")
    data = read_pla(path)
    assert data.input_names == ["a", "b", "c"] and data.output_names == ["y", "z"]
    assert data.name == "f"
    np.testing.assert_array_equal(data.inputs, [[-1, 1, -1], [1, 1, 1], [-1, -1, -1]])
    np.testing.assert_array_equal(data.outputs, [[1, -1], [-1, 1], [-1, -1]])


def test_dashes_expand_to_every_covered_minterm(tmp_path):
    path = _write(tmp_path, ".i 4\n.o 1\n.type fr\n1-0- 1\n0000 0\n")
    data = read_pla(path)
    assert data.n_items == 5
    rows = {tuple(int(v > 0) for v in r): int(o[0] > 0) for r, o in zip(data.inputs, data.outputs)}
    assert rows == {(1, 0, 0, 0): 1, (1, 0, 0, 1): 1, (1, 1, 0, 0): 1, (1, 1, 0, 1): 1, (0, 0, 0, 0): 0}


def test_dashes_rejected_or_capped_with_the_line(tmp_path):
    path = _write(tmp_path, ".i 4\n.o 1\n.type fr\n0000 0\n1--- 1\n")
    with pytest.raises(FormatError, match=r"f\.pla, line 5: .*dashes option"):
        read_pla(path, dashes="reject")
    with pytest.raises(FormatError, match=r"line 5: expanding '-' inputs gives more than 6 items"):
        read_pla(path, max_items=6)
    assert read_pla(path, max_items=9).n_items == 9


def test_gzip_by_magic_and_by_suffix(tmp_path):
    text = ".i 2\n.o 1\n.type fr\n01 1\n10 0\n.end\n"
    plain = read_pla(_write(tmp_path, text))
    for name in ("g.pla.gz", "g_no_suffix.pla"):
        path = tmp_path / name
        path.write_bytes(gzip.compress(text.encode()))
        data = read_pla(path)
        np.testing.assert_array_equal(data.inputs, plain.inputs)
        np.testing.assert_array_equal(data.outputs, plain.outputs)
    assert read_pla(tmp_path / "g.pla.gz").name == "g"
    (tmp_path / "fake.pla.gz").write_text(text)
    with pytest.raises(FormatError, match="not gzip-compressed"):
        read_pla(tmp_path / "fake.pla.gz")


def test_type_f_and_fd_give_the_complete_truth_table(tmp_path):
    # f: ON-set of XOR with one redundant cube; every other minterm is OFF
    data = read_pla(_write(tmp_path, ".i 2\n.o 1\n.type f\n01 1\n10 1\n1- 0\n"))
    table = {tuple(int(v > 0) for v in r): int(o[0] > 0) for r, o in zip(data.inputs, data.outputs)}
    assert table == {(0, 0): 0, (0, 1): 1, (1, 0): 1, (1, 1): 0}
    # fd (also the default without .type): 11 is a don't-care of the only output, so it has no item
    for head in (".type fd\n", ""):
        data = read_pla(_write(tmp_path, f".i 2\n.o 1\n{head}01 1\n10 1\n11 -\n"))
        table = {tuple(int(v > 0) for v in r): int(o[0] > 0) for r, o in zip(data.inputs, data.outputs)}
        assert table == {(0, 0): 0, (0, 1): 1, (1, 0): 1}
    with pytest.raises(FormatError, match=r"complete truth table.*\.type fr"):
        read_pla(_write(tmp_path, ".i 30\n.o 1\n" + "0" * 30 + " 1\n"))


def test_multi_output_round_trip_plain_and_gz(tmp_path):
    rng = np.random.default_rng(1)
    data = Dataset.from_bits(rng.integers(0, 2, (50, 7)), rng.integers(0, 2, (50, 3)),
                             input_names=[f"in{j}" for j in range(7)], output_names=["p", "q", "r"])
    for name in ("d.pla", "d.pla.gz"):
        back = read_pla(write_pla(data, tmp_path / name))
        np.testing.assert_array_equal(back.inputs, data.inputs)
        np.testing.assert_array_equal(back.outputs, data.outputs)
        assert back.input_names == data.input_names and back.output_names == data.output_names
    assert (tmp_path / "d.pla.gz").read_bytes()[:2] == b"\x1f\x8b"
    text = format_pla(data, names=False)
    assert text.startswith(".i 7\n.o 3\n.p 50\n.type fr\n") and text.endswith(".e\n")


@pytest.mark.parametrize("text, message, line", [
    (".i 2\n.o 1\n.type fr\n01 1\n012 1\n", "row has 4 characters, expected 2 inputs \\+ 1 outputs = 3", 5),
    (".i 2\n.o 1\n.type fr\n0x 1\n", "input 2 is 'x'", 4),
    (".i 2\n.o 1\n.type fr\n01 -\n", "output 1 is '-'.*no label", 4),
    (".i 2\n.o 1\n.type fr\n01 7\n", "output 1 is '7'", 4),
    (".i 2\n01 1\n", "a row before the .i and .o directives", 2),
    (".i two\n.o 1\n", ".i needs one non-negative integer", 1),
    (".i 2\n.o 1\n.type fx\n", ".type must be one of", 3),
    (".i 2\n.o 1\n.p 3\n.type fr\n01 1\n", ".p says 3 rows but the file has 1", 3),
    (".i 2\n.o 1\n.ilb a\n.type fr\n01 1\n", ".ilb must list 2 distinct names", 3),
    (".i 2\n.o 1\n.mv 3 0 2 2\n", "unsupported directive '.mv'", 3),
    (".i 2\n.o 1\n.type fr\n01 1\n.i 3\n", ".i after the first row", 5),
])
def test_malformed_files_name_file_and_line(tmp_path, text, message, line):
    path = _write(tmp_path, text, "bad.pla")
    with pytest.raises(FormatError, match=f"bad\\.pla, line {line}: {message}"):
        read_pla(path)


def test_files_without_items_or_header(tmp_path):
    with pytest.raises(FormatError, match="missing .i or .o"):
        read_pla(_write(tmp_path, "# nothing\n"))
    with pytest.raises(FormatError, match="no items"):
        read_pla(_write(tmp_path, ".i 2\n.o 1\n.type fr\n.e\n"))
    with pytest.raises(FormatError, match="cannot read"):
        read_pla(tmp_path / "missing.pla")
    (tmp_path / "bin.pla").write_bytes(b".i 2\n\xff\xfe")
    with pytest.raises(FormatError, match="not a text PLA file"):
        read_pla(tmp_path / "bin.pla")
    with pytest.raises(BtfError, match="dashes"):
        read_pla(tmp_path / "bin.pla", dashes="maybe")


def test_writer_rejects_non_boolean_data(tmp_path):
    with pytest.raises(BtfError, match="Boolean inputs"):
        write_pla(Dataset([[0.5, 1.0]], [[1.0]]), tmp_path / "x.pla")
    with pytest.raises(BtfError, match="names"):
        format_pla(Dataset([[1.0, -1.0]], [[1.0]], input_names=["a b", "c"]))
