"""Generalization sweeps: library and CLI."""
import json

import numpy as np
import pytest
from click.testing import CliRunner

from btflearn.errors import BtfError
from btflearn.grid import parse_int_list, run_sweep
from btflearn.plots import plot_sweep
from btflearn.tasks import ElementaryCA


def test_run_sweep_rows_table_and_json(tmp_path):
    pytest.importorskip("optax")
    pytest.importorskip("matplotlib")
    pool = ElementaryCA(232, width=8).sample(400, seed=0)
    res = run_sweep(pool, "8-8", [16, 64], seeds=[0, 1], fit_options=dict(gamma=1e-3, max_iter=1500),
                    baseline="adamw", baseline_options=dict(steps=300, lr=1e-2))
    assert len(res.rows) == 8
    btf = [r for r in res.rows if r.method == "btf"]
    assert {(r.n_train, r.seed) for r in btf} == {(16, 0), (16, 1), (64, 0), (64, 1)}
    for r in btf:
        assert r.n_test == 400 - r.n_train and 0 <= r.test_per_bit <= 1
        assert r.gap_history and r.gap_history[0][0] == 1
        assert r.solved == (r.train_exact == 1.0)
    big = [r for r in btf if r.n_train == 64]
    assert all(r.solved and r.test_exact > 0.95 for r in big)  # majority rule, 64 items: generalizes
    summary = res.summary_rows()
    assert [(s["method"], s["n_train"]) for s in summary] == [("btf", 16), ("btf", 64), ("adamw", 16), ("adamw", 64)]
    s64 = summary[1]
    assert s64["test_per_bit"] == pytest.approx(np.mean([r.test_per_bit for r in big]))
    table = res.table()
    assert "test per-bit" in table and len(table.splitlines()) == 5
    assert res.table(markdown=True).startswith("| method | N |")
    data = json.loads(res.to_json())
    assert data["settings"]["ns"] == [16, 64] and len(data["rows"]) == 8
    png = tmp_path / "s.png"
    plot_sweep(res, png)
    assert png.stat().st_size > 1000


def test_sweep_errors():
    pool = ElementaryCA(232, width=8).sample(50, seed=0)
    with pytest.raises(BtfError):
        run_sweep(pool, "8-8", [100])
    with pytest.raises(BtfError):
        run_sweep(pool, "8-8", [10], baseline="sgd")
    assert parse_int_list("64, 128,256") == [64, 128, 256]
    with pytest.raises(BtfError):
        parse_int_list("a,b")


def test_sweep_cli(tmp_path):
    from btflearn.cli.main import cli
    out = tmp_path / "o"
    r = CliRunner().invoke(cli, ["sweep", "ca", "--rule", "232", "--width", "8", "--arch", "8-8", "--n", "32",
                                 "--pool", "300", "--max-iter", "1500", "--quiet", "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert "btf" in r.output and "test per-bit" in r.output
    data = json.loads((out / "sweep.json").read_text())
    assert data["rows"][0]["n_train"] == 32 and data["settings"]["fit"]["gamma"] == 1e-3
    from btflearn import load_model
    assert load_model(out / "model_N32_s0.json").network.n_inputs == 8
    assert "true local rule rule 232" in (out / "rule_N32_s0.txt").read_text()
    r = CliRunner().invoke(cli, ["sweep", "logic", "--width", "8", "--layers", "2", "--n", "64", "--pool", "200",
                                 "--max-iter", "1000", "--seeds", "0-1", "--quiet", "--json"])
    assert r.exit_code == 0, r.output
    data = json.loads(r.output)
    assert data["task"].startswith("teacher_andor_8-8-8") and data["rows"][0]["n_test"] == 136
    assert [row["seed"] for row in data["rows"]] == [0, 1]  # seed ranges as in `sweep multiplier`


def test_solve_task_commands_registered_and_run():
    from btflearn.cli.main import cli
    runner = CliRunner()
    r = runner.invoke(cli, ["solve", "--help"])
    for name in ("ca", "life", "autoencoder", "decoder", "logic", "classify"):
        assert name in r.output
    r = runner.invoke(cli, ["solve", "ca", "--rule", "232", "--width", "8", "--arch", "8-8", "--n-train", "64",
                            "--n-test", "100", "--data-seed", "1", "--seed", "1", "--max-iter", "2000", "--quiet"])
    assert r.exit_code == 0, r.output
    assert "8 of 8 cells implement rule 232 exactly" in r.output
    r = runner.invoke(cli, ["solve", "decoder", "--vectors", "4", "--length", "6", "--code-bits", "2",
                            "--max-iter", "5000", "--trials", "2", "--gamma", "1e-3", "--quiet"])
    assert r.exit_code == 0, r.output
    assert "4/4 targets produced" in r.output
    r = runner.invoke(cli, ["solve", "life", "--rule", "B30", "--quiet"])
    assert r.exit_code != 0
