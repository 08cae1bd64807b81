"""A benchmark suite of learning problems: every ``exNN.train.pla[.gz]`` of a folder (with its
``exNN.valid.pla[.gz]``) learned by ``btflearn.learn`` in a pool of worker processes, one Numba thread
each. Every function's result is written to ``OUT/exNN/result.json`` as soon as it is done, so a rerun
skips the finished functions; ``OUT/table.md`` and ``OUT/summary.json`` hold the table."""
from __future__ import annotations

import json
import os
import re
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from multiprocessing import get_context
from pathlib import Path

from .errors import BtfError

# The IWLS 2020 "learning from examples" benchmark's groups of ten functions (its README): ex-number
# ranges and what they are.
CATEGORIES = [
    (0, 9, "adders (2 MSBs)"), (10, 19, "dividers/remainders"), (20, 29, "multipliers"),
    (30, 39, "comparators"), (40, 49, "square roots"), (50, 59, "PicoJava"), (60, 69, "MCNC i10"),
    (70, 79, "MCNC/symmetric"), (80, 89, "MNIST pixel groups"), (90, 99, "CIFAR-10"),
]
_NAME = re.compile(r"^(ex(\d+))\.train\.pla(\.gz)?$")


def category(name: str) -> str:
    m = re.match(r"^ex(\d+)$", name)
    if m:
        for lo, hi, what in CATEGORIES:
            if lo <= int(m.group(1)) <= hi:
                return what
    return "other"


def find_pairs(folder) -> list:
    """(name, train path, valid path or None) for every exNN.train.pla[.gz] under ``folder``."""
    folder = Path(folder)
    if not folder.is_dir():
        raise BtfError(f"{folder} is not a folder")
    pairs = []
    for train in sorted(folder.rglob("ex*.train.pla*")):
        m = _NAME.match(train.name)
        if not m:
            continue
        name = m.group(1)
        valid = [p for p in folder.rglob(f"{name}.valid.pla*") if re.match(rf"^{name}\.valid\.pla(\.gz)?$", p.name)]
        pairs.append((name, train, valid[0] if valid else None))
    if not pairs:
        raise BtfError(f"no exNN.train.pla[.gz] files under {folder}")
    return pairs


def _init_worker():
    os.environ["NUMBA_NUM_THREADS"] = "1"


def learn_one(name, train_path, valid_path, out_dir, time_limit, max_ands, seed) -> dict:
    """Learn one function and write its folder; returns its table row."""
    import numpy as np
    from .learn import learn, write_result
    from .pla import read_pla
    train = read_pla(train_path)
    valid = read_pla(valid_path) if valid_path else None
    result = learn(train, valid, time_limit=time_limit, max_ands=max_ands, seed=seed)
    inputs = train.inputs if valid is None else np.concatenate([train.inputs, valid.inputs])
    summary = write_result(result, Path(out_dir) / name, inputs,
                           extra=dict(function=name, train_file=str(train_path), valid_file=str(valid_path)))
    return row_of(name, summary, train.n_inputs)


def row_of(name, summary, n_inputs) -> dict:
    return dict(function=name, category=category(name), inputs=n_inputs, valid=summary["valid_accuracy"],
                ands=summary["ands"], seconds=summary["seconds"], table=summary.get("table_valid"))


def run_suite(folder, out, time_limit=120.0, max_ands=5000, jobs=1, seed=0, only=None, log=None) -> dict:
    """Learn every function of ``folder`` (or those named in ``only``); finished ones are read back."""
    say = log or (lambda line: None)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    pairs = find_pairs(folder)
    if only:
        wanted = set(only)
        missing = wanted - {p[0] for p in pairs}
        if missing:
            raise BtfError(f"not in {folder}: {', '.join(sorted(missing))}")
        pairs = [p for p in pairs if p[0] in wanted]
    rows, todo, failed = {}, [], {}
    for name, train, valid in pairs:
        done = out / name / "result.json"
        if done.exists():
            summary = json.loads(done.read_text())
            rows[name] = row_of(name, summary, summary["inputs"])
            say(f"{name}: done before (valid {rows[name]['valid']:.4f})")
        else:
            todo.append((name, train, valid))
    t0 = time.perf_counter()
    if todo:
        with ProcessPoolExecutor(max_workers=max(1, int(jobs)), mp_context=get_context("spawn"),
                                 initializer=_init_worker) as pool:
            futures = {pool.submit(learn_one, name, str(train), str(valid) if valid else None, str(out),
                                   time_limit, max_ands, seed): name for name, train, valid in todo}
            for future in as_completed(futures):
                name = futures[future]
                try:
                    row = future.result()
                except Exception as exc:  # one function's failure must not cost the others' results
                    failed[name] = f"{type(exc).__name__}: {exc}"
                    say(f"{name}: FAILED ({failed[name]})")
                    continue
                rows[name] = row
                say(f"{name}: valid {row['valid']:.4f}, {row['ands']} ANDs, {row['seconds']:.0f} s "
                    f"({len(rows)}/{len(pairs)})")
    ordered = [rows[name] for name, _, _ in pairs if name in rows]
    summary = summarize(ordered)
    summary["failed"] = failed
    summary["wall_seconds_this_run"] = round(time.perf_counter() - t0, 1)
    summary.update(time_limit=time_limit, and_cap=max_ands, jobs=jobs, seed=seed)
    (out / "summary.json").write_text(json.dumps(dict(summary, rows=ordered), indent=1) + "\n")
    (out / "table.md").write_text(format_table(ordered, summary) + "\n")
    return dict(summary, rows=ordered)


def summarize(rows: list) -> dict:
    def mean(xs):
        return sum(xs) / len(xs) if xs else None
    cats = {}
    for r in rows:
        cats.setdefault(r["category"], []).append(r)
    def tables(rs):  # rows written before the yardstick was recorded have none
        return mean([r["table"] for r in rs if r.get("table") is not None])
    return dict(functions=len(rows), mean_valid=mean([r["valid"] for r in rows]), mean_table=tables(rows),
                mean_ands=mean([r["ands"] for r in rows]), max_ands=max((r["ands"] for r in rows), default=None),
                total_seconds=round(sum(r["seconds"] for r in rows), 1),
                categories={c: dict(functions=len(rs), mean_valid=mean([r["valid"] for r in rs]),
                                    mean_table=tables(rs), mean_ands=mean([r["ands"] for r in rs]))
                            for c, rs in cats.items()})


def format_table(rows: list, summary: dict) -> str:
    """Markdown: one row per function, then per-category means and the totals (fits 80 columns). The
    "table" column is the selected inputs' table on validation (a yardstick, not a learned circuit)."""
    def pct(x):
        return "-" if x is None else f"{100 * x:.2f}%"
    lines = ["| function | category | inputs | valid acc | ANDs | seconds | table |",
             "|---|---|---:|---:|---:|---:|---:|"]
    lines += [f"| {r['function']} | {r['category']} | {r['inputs']} | {pct(r['valid'])} | {r['ands']} | "
              f"{r['seconds']:.0f} | {pct(r.get('table'))} |" for r in rows]
    lines += ["", "| category | functions | mean valid acc | mean ANDs | mean table |", "|---|---:|---:|---:|---:|"]
    for c, s in summary["categories"].items():
        lines.append(f"| {c} | {s['functions']} | {pct(s['mean_valid'])} | {s['mean_ands']:.0f} | "
                     f"{pct(s['mean_table'])} |")
    if rows:
        lines += ["", f"{summary['functions']} functions: mean validation accuracy "
                      f"{100 * summary['mean_valid']:.2f}%,",
                  f"mean {summary['mean_ands']:.0f} ANDs, max {summary['max_ands']}, "
                  f"{summary['total_seconds']:.0f} s of learning in all"]
    return "\n".join(lines)
