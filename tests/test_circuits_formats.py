"""Netlist writers and readers: round trips (write, read back, simulate, compare), the shape of the
Verilog, foreign files (ABC, yosys), and malformed files."""
import re

import numpy as np
import pytest

from btflearn.errors import FormatError
from btflearn.tasks import multiplier
from btflearn.circuits import (read_aiger, read_blif, read_netlist, read_verilog, simulate, write_aiger,
                               write_blif, write_dot, write_verilog)
from btflearn.circuits.export import extract_circuit
from btflearn.circuits.handmade import multiplier_model
from btflearn.circuits.ir import CONST0, CONST1, LogicNetwork, negate
from btflearn.circuits.simulate import all_patterns
from btflearn.circuits.stats import circuit_stats

WRITERS = {"blif": (write_blif, read_blif), "verilog": (write_verilog, read_verilog),
           "aiger": (write_aiger, read_aiger)}


def mixed_network():
    """Every gate kind, complemented edges, and awkward outputs (constant, input, inverted input,
    inverted gate, one gate driving two outputs)."""
    net = LogicNetwork(5, ["a", "b", "c", "d", "e"], name="mixed")
    a, b, c, d, e = (net.input_lit(j) for j in range(5))
    g_and = net.add_and(a, negate(b))
    g_or = net.add_or(c, negate(d))
    g_xor = net.add_xor(g_and, e)
    g_maj = net.add_maj(g_or, negate(a), e)
    g_maj5 = net.add_maj(a, b, negate(c), d, g_xor)
    g_thr = net.add_threshold([g_maj, b, c, CONST0], [3, 1, 1, 2])
    outputs = [("y_xor", g_xor), ("y_maj5", g_maj5), ("y_thr", negate(g_thr)), ("y_zero", CONST0),
               ("y_one", CONST1), ("y_a", a), ("y_nb", negate(b)), ("y_maj", g_maj), ("y_maj_again", g_maj),
               ("y_nand", negate(g_and))]
    for name, literal in outputs:
        net.add_output(literal, name)
    return net


def wide_threshold_network():
    """A 15-input majority: its cover has C(15, 8) = 6435 cubes, so writers decompose it."""
    net = LogicNetwork(15)
    net.add_output(net.add_maj(*[net.input_lit(j) for j in range(15)]), "y")
    return net


def networks():
    data3 = multiplier(3)
    return {
        "multiplier3": simplify_net(multiplier_model(3, seed=1)),
        "mixed": mixed_network(),
        "wide": wide_threshold_network(),
        "multiplier3_raw": extract_circuit(multiplier_model(3, seed=2), data3).extraction.network,
    }


def simplify_net(model):
    return extract_circuit(model, multiplier(3)).network


@pytest.mark.parametrize("fmt", sorted(WRITERS))
@pytest.mark.parametrize("which", ["multiplier3", "mixed", "wide", "multiplier3_raw"])
def test_round_trip(fmt, which):
    net = networks()[which]
    writer, reader = WRITERS[fmt]
    text = writer(net)
    back = reader(f"x.{fmt}", text)
    assert back.input_names == net.input_names and back.output_names == net.output_names
    patterns = all_patterns(net.n_inputs) if net.n_inputs <= 12 else \
        np.random.default_rng(0).integers(0, 2, size=(3000, net.n_inputs)).astype(bool)
    assert np.array_equal(simulate(back, patterns), simulate(net, patterns))
    if fmt != "aiger" and which in ("multiplier3", "mixed"):
        # one .names / assign per gate: the gate types come back
        want, got = circuit_stats(net)["by_type"], circuit_stats(back)["by_type"]
        if want["thr"] == 0:
            assert got == want
        else:  # a threshold gate comes back as its cover; the other kinds are unchanged
            assert all(got[k] == want[k] for k in ("xor", "maj3", "maj5"))


def test_round_trip_through_files(tmp_path, circ_trained_2x2):
    net = extract_circuit(circ_trained_2x2[2], multiplier(2)).network
    data = multiplier(2)
    for suffix, writer in ((".blif", write_blif), (".v", write_verilog), (".aag", write_aiger)):
        path = tmp_path / f"c{suffix}"
        path.write_text(writer(net))
        assert np.array_equal(simulate(read_netlist(path), data.inputs), data.outputs)


def test_verilog_is_1995_structural_with_one_assign_per_gate():
    net = simplify_net(multiplier_model(3, seed=1))
    text = write_verilog(net)
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("//")]
    assert lines[0] == "module multiplier3(a0, a1, a2, b0, b1, b2, p0, p1, p2, p3, p4, p5);"
    assert lines[1] == "input a0, a1, a2, b0, b1, b2;"
    assert lines[2] == "output p0, p1, p2, p3, p4, p5;"
    assert lines[-1] == "endmodule"
    assigns = [line for line in lines if line.startswith("assign ")]
    assert len(assigns) == net.n_gates + sum(1 for o in net.outputs if o & 1 or o < 2)
    for line in assigns:
        assert re.fullmatch(r"assign [A-Za-z_]\w* = [A-Za-z0-9_ ~&|^()']+;", line), line
    assert not re.search(r"\b(always|reg|input\s+wire|wire\s+\[)", text)


def test_verilog_escapes_odd_names_and_sanitises_the_module_name():
    net = LogicNetwork(2, ["in[0]", "module"], name="2x2 circuit")
    net.add_output(net.add_and(net.input_lit(0), net.input_lit(1)), "out-1")
    text = write_verilog(net)
    assert text.splitlines()[0].startswith("module m_2x2_circuit(")
    assert "\\in[0] " in text and "\\module " in text and "\\out-1 " in text
    back = read_verilog("x.v", text)
    assert back.input_names == ["in[0]", "module"] and back.output_names == ["out-1"]
    assert np.array_equal(simulate(back, all_patterns(2)), simulate(net, all_patterns(2)))


def test_blif_shape():
    net = mixed_network()
    text = write_blif(net, comment="hello")
    assert text.startswith("# hello\n.model mixed\n.inputs a b c d e\n.outputs y_xor")
    assert text.rstrip().endswith(".end")
    # 7 outputs are not named by their driver gate: inverted, constant, input, second output of a gate
    assert text.count(".names") == net.n_gates + 7


def test_aiger_shape():
    net = multiplier_model(2)
    c = extract_circuit(net, multiplier(2)).network
    text = write_aiger(c)
    m, i, latch, o, a = map(int, text.split("\n")[0].split()[1:])
    assert (i, latch, o) == (4, 0, 4) and m == i + a
    assert "i0 a0" in text and "o3 p3" in text


def test_dot_draws_gates_and_inverted_edges():
    text = write_dot(mixed_network())
    assert text.startswith('digraph "mixed" {') and text.rstrip().endswith("}")
    for label in ("AND", "OR", "XOR", "MAJ3", "MAJ5", "THR >= "):
        assert f'label="{label}' in text
    assert text.count("arrowhead=odot") >= 5
    assert text.count("shape=invtriangle") == 5 and text.count("shape=triangle") == 10


ABC_VERILOG = """// Benchmark "multiplier2" written by ABC on Sun Nov 22 13:24:59 2026

module multiplier2 ( 
    a0, a1, b0, b1,
    p0, p1, p2, p3  );
  input  a0, a1, b0, b1;
  output p0, p1, p2, p3;
  wire new_n10_, new_n11_, new_n13_;
  assign p0 = b0 & a0;
  assign new_n10_ = b0 & a1;
  assign new_n11_ = b1 & a0;
  assign p1 = new_n11_ ^ new_n10_;
  assign new_n13_ = b1 & a1;
  assign p2 = new_n13_ & ~p0;
  assign p3 = new_n11_ & new_n10_;
endmodule
"""

ABC_BLIF = """# Benchmark "multiplier2" written by ABC
.model multiplier2
.inputs a0 a1 b0 b1
.outputs p0 p1 p2 p3
.names b0 a0 p0
11 1
.names b0 a1 new_n10_
11 1
.names b1 a0 \\
new_n11_
11 1
.names new_n11_ new_n10_ p1
01 1
10 1
.names b1 a1 new_n13_
11 1
.names new_n13_ p0 p2
10 1
.names new_n11_ new_n10_ p3
0- 0
-0 0
.end
"""

YOSYS_VERILOG = """/* Generated by Yosys */
(* top =  1  *)
(* src = "ref.v:1.1-5.10" *)
module multiplier2(a, b, p);
  wire _0_;
  (* src = "ref.v:2.9-2.10" *)
  input [1:0] a;
  input [1:0] b;
  output [3:0] p;
  wire \\mul.t ;
  assign _0_ = a[1] & b[0];
  assign \\mul.t  = a[0] & b[1];
  assign p[0] = a[0] & b[0];
  assign p[1] = _0_ ^ \\mul.t ;
  assign p[2] = (a[1] & b[1]) & ~(a[0] & b[0]);
  assign p[3] = ~(~(a[1] & b[1]) | ~(_0_ & \\mul.t ));
endmodule
"""


def expect_multiplier2(net, names=None):
    data = multiplier(2)
    ins = names or ["a0", "a1", "b0", "b1"]
    order = [ins.index(n) for n in net.input_names]
    assert np.array_equal(simulate(net, data.inputs[:, order]), data.outputs)


def test_reads_abc_verilog_and_blif():
    net = read_verilog("abc.v", ABC_VERILOG)
    expect_multiplier2(net)
    st = circuit_stats(net)
    assert st["gates2"] == 7 and st["by_type"]["xor"] == 1  # ABC's 7-gate optimum
    net = read_blif("abc.blif", ABC_BLIF)
    expect_multiplier2(net)
    assert circuit_stats(net)["gates"] == 7


def test_reads_yosys_style_vectors_escapes_and_attributes():
    net = read_verilog("y.v", YOSYS_VERILOG)
    assert net.input_names == ["a[0]", "a[1]", "b[0]", "b[1]"]
    assert net.output_names == ["p[0]", "p[1]", "p[2]", "p[3]"]
    data = multiplier(2)
    assert np.array_equal(simulate(net, data.inputs), data.outputs)  # a[0] a[1] b[0] b[1] = a0 a1 b0 b1


@pytest.mark.parametrize("text, message", [
    (".model m\n.inputs a\n.outputs y\n.names a q y\n11 1\n.end\n", "never defined"),
    (".model m\n.inputs a\n.outputs y\n.names a y\n1 1\n.names a y\n0 1\n.end\n", "defined twice"),
    (".model m\n.inputs a\n.outputs y\n.names a z y\n11 1\n.names y z\n1 1\n.end\n", "loop"),
    (".model m\n.inputs a\n.outputs y\n.latch a y 0\n.end\n", ".latch is not supported"),
    (".model m\n.inputs a\n.outputs y\n.names a y\n12 1\n.end\n", "cover line"),
    (".model m\n.inputs a b\n.outputs y\n.names a b y\n11 1\n00 0\n.end\n", "mixes"),
    (".inputs a\n.outputs y\n", "no .model"),
])
def test_blif_errors_name_the_problem(text, message):
    with pytest.raises(FormatError, match=message):
        read_blif("bad.blif", text)


def test_blif_error_gives_the_line():
    with pytest.raises(FormatError, match=r"bad.blif, line 5"):
        read_blif("bad.blif", ".model m\n.inputs a\n.outputs y\n.names a y\n1x 1\n.end\n")


@pytest.mark.parametrize("text, message", [
    ("module m(input a, output y); assign y = a; endmodule", "ANSI-style"),
    ("module m(a, y); input a; output y; assign y = a & q; endmodule", "never assigned"),
    ("module m(a, y); input a; output y; wire q; assign y = q; assign q = y & a; endmodule", "loop"),
    ("module m(a, y); input a; output y; always @(a) y = a; endmodule", "unsupported statement"),
    ("module m(a, y); input a; output y; assign y = a & 1'bx; endmodule", "x/z"),
    ("module m(a, y); input a; output y; assign y = a;", "endmodule"),
    ("module m(a, b, y); input a; output y; assign y = a; endmodule", "do not match"),
])
def test_verilog_errors_name_the_problem(text, message):
    with pytest.raises(FormatError, match=message):
        read_verilog("bad.v", text)


@pytest.mark.parametrize("text, message", [
    ("aag 1 0 1 0 0\n2 3\n", "latches"),
    ("aig 1 1 0 1 0\n", "not an ASCII AIGER"),
    ("aag 4 2 0 1 1\n2\n4\n6\n6 2 8\n", "never defined"),
    ("aag 3 2 0 1 1\n2\n4\n6\n6 2\n", "expected 3"),
])
def test_aiger_errors_name_the_problem(text, message):
    with pytest.raises(FormatError, match=message):
        read_aiger("bad.aag", text)


def test_aiger_reader_takes_gates_in_any_order_and_symbols():
    # y = ~(a & b) & c with the AND gates listed out of order
    text = "aag 5 3 0 1 2\n2\n4\n6\n10\n10 9 6\n8 4 2\ni0 a\ni1 b\ni2 c\no0 y\nc\ncomment\n"
    net = read_aiger("x.aag", text)
    assert net.input_names == ["a", "b", "c"] and net.output_names == ["y"]
    got = simulate(net, all_patterns(3))[:, 0] > 0
    x = all_patterns(3)
    assert np.array_equal(got, ~(x[:, 0] & x[:, 1]) & x[:, 2])


def test_read_netlist_rejects_unknown_suffix(tmp_path):
    path = tmp_path / "c.edif"
    path.write_text("x")
    with pytest.raises(FormatError, match="unknown netlist format"):
        read_netlist(path)
    with pytest.raises(FormatError, match="cannot read"):
        read_netlist(tmp_path / "missing.blif")
