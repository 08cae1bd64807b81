"""Solver-settings grids (btflearn.grid.settings_sweep, `btflearn sweep multiplier`): library, JSON, CLI."""
import json
import statistics

import pytest
from click.testing import CliRunner

from btflearn import fit
from btflearn.errors import BtfError
from btflearn.grid import (SettingsSweepResult, check_sweep, grid_points, parse_float_list, parse_seeds,
                                     settings_sweep)
from btflearn.tasks import multiplier

GRID = dict(gamma=[1e-3, 5e-4])
BASE = dict(arch="4-4-4-4", sigma=3.0, max_iter=3000)
SEEDS = [0, 1]


@pytest.fixture(scope="module", autouse=True)
def one_numba_thread():
    """Tiny problems on a loaded machine: Numba's parallel regions wait for preempted threads (a 3000-iteration
    2x2 run measured 0.2 s on one thread vs 17-45 s on two under load 4). Results do not depend on the
    thread count."""
    numba = pytest.importorskip("numba")
    before = numba.get_num_threads()
    numba.set_num_threads(1)
    yield
    numba.set_num_threads(before)


@pytest.fixture(scope="module")
def data():
    return multiplier(2)


@pytest.fixture(scope="module")
def swept(data):
    lines = []
    return settings_sweep(data, GRID, SEEDS, BASE, progress=lines.append), lines


@pytest.fixture(scope="module")
def direct(data):
    """(gamma, seed) -> the TrialResult of a direct single-trial fit with the same settings."""
    return {(g, s): fit(data, "4-4-4-4", sigma=3.0, gamma=g, max_iter=3000, trials=1, seed=s).trials[0]
            for g in GRID["gamma"] for s in SEEDS}


def first_solution(t):
    return t.first_solved_at if t.first_solved_at is not None else t.iterations


def test_runs_and_rows_equal_direct_fits(swept, direct):
    res, lines = swept
    points = res.points
    assert points == [dict(gamma=1e-3), dict(gamma=5e-4)]
    assert [(r.point, r.seed) for r in res.runs] == [(p, s) for p in range(2) for s in SEEDS]
    for r in res.runs:
        t = direct[points[r.point]["gamma"], r.seed]
        assert (r.solved, r.final_iterations) == (t.solved, t.iterations)
        assert r.iterations == (first_solution(t) if t.solved else t.iterations)
        assert r.gap == pytest.approx(t.gap, rel=0, abs=0) and r.best_gap == t.best_gap
        assert not r.timed_out and r.model is not None
    # both kinds of rows occur, so both halves of the summary are exercised
    assert 0 < sum(r.solved for r in res.runs) < len(res.runs)
    for row in res.summary_rows():
        ts = [direct[row["settings"]["gamma"], s] for s in SEEDS]
        solved = [first_solution(t) for t in ts if t.solved]
        unsolved = [t for t in ts if not t.solved]
        assert (row["runs"], row["solved"]) == (2, len(solved))
        assert row["success_rate"] == len(solved) / 2
        if solved:
            assert row["iterations_median"] == statistics.median(solved)
            assert (row["iterations_min"], row["iterations_max"]) == (min(solved), max(solved))
            assert row["seconds_median"] > 0
        else:
            assert row["iterations_median"] is None and row["seconds_median"] is None
        if unsolved:
            assert row["gap_median"] == pytest.approx(statistics.median(t.gap for t in unsolved))
            assert row["best_gap_median"] == pytest.approx(statistics.median(t.best_gap for t in unsolved))
        else:
            assert row["gap_median"] is None
        assert row["total_seconds"] >= sum(r.seconds for r in res.runs if r.point == row["point"])
    # one progress line per finished run, saying how it ended
    assert len(lines) == 4 and lines[0].startswith("[1/4] gamma=0.001 seed 0: ")
    assert all(("solved at" in ln) == r.solved for ln, r in zip(lines, res.runs))


def test_table_shows_the_varied_axes(swept):
    res, _ = swept
    table = res.table().splitlines()
    assert len(table) == 3
    assert table[0].split()[:2] == ["gamma", "solved"]
    for line, row in zip(table[1:], res.summary_rows()):
        assert line.split()[:2] == [f"{row['settings']['gamma']:g}", f"{row['solved']}/2"]
    md = res.table(markdown=True).splitlines()
    assert md[0].startswith("| gamma | solved |") and len(md) == 4
    assert "arch=4-4-4-4" in res.describe() and "seed(s) [0,1]" in res.describe()


def test_json_round_trip(swept):
    res, _ = swept
    text = res.to_json()
    data = json.loads(text)
    assert data["grid"] == {"gamma": [1e-3, 5e-4]}
    assert data["seeds"] == SEEDS and data["base"]["arch"] == "4-4-4-4"
    assert len(data["runs"]) == 4 and "model" not in data["runs"][0]
    back = SettingsSweepResult.from_json(text)
    assert back.to_dict() == res.to_dict()
    assert back.table() == res.table()
    assert [(r.point, r.seed, r.solved, r.iterations) for r in back.runs] == \
        [(r.point, r.seed, r.solved, r.iterations) for r in res.runs]


def test_cli_matches_the_library(swept, tmp_path):
    from btflearn.cli.main import cli
    res, _ = swept
    out = tmp_path / "o"
    args = ["sweep", "multiplier", "--bits", "2", "--arch", "4-4-4-4", "--sigma", "3", "--gamma", "1e-3,5e-4"]
    r = CliRunner().invoke(cli, args + ["--seeds", "0-1", "--max-iter", "3000", "--json", "--out", str(out)])
    assert r.exit_code == 0, r.output
    data = json.loads(r.stdout)
    assert [(x["solved"], x["iterations"]) for x in data["runs"]] == [(x.solved, x.iterations) for x in res.runs]
    assert data["grid"]["beta"] == [0.2] and data["grid"]["sigma"] == [3.0] and data["grid"]["dtype"] == ["float64"]
    assert data["base"]["max_iter"] == 3000
    assert r.stderr.count("seed ") == 4 and "[4/4]" in r.stderr  # progress lines on stderr
    saved = json.loads((out / "sweep.json").read_text())
    assert saved["runs"] == data["runs"]
    assert "| gamma | solved |" in (out / "table.md").read_text()
    n_solved = sum(x.solved for x in res.runs)
    assert len(list((out / "models").glob("p*_s*.json"))) == n_solved
    from btflearn import load_model
    run = next(x for x in res.runs if x.solved)
    model = load_model(out / "models" / f"p{run.point}_s{run.seed}.json")
    assert model.accuracy(multiplier(2)) == (1.0, 1.0)
    # the table form, a dtype axis, quiet: nothing on stderr
    r = CliRunner().invoke(cli, args + ["--dtype", "float64,float32", "--max-iter", "300", "--quiet"])
    assert r.exit_code == 0, r.output
    assert r.stderr == "" and r.stdout.splitlines()[1].split()[:3] == ["gamma", "dtype", "solved"]
    assert len(r.stdout.splitlines()) == 6


def test_parsing():
    assert parse_seeds("0-4") == [0, 1, 2, 3, 4]
    assert parse_seeds("0,3,7-9") == [0, 3, 7, 8, 9]
    assert parse_seeds(2) == [2]
    assert parse_float_list("1e-4, 1e-5") == [1e-4, 1e-5]
    for bad in ("", "1,1", "3-1", "-1", "a", "0-2,2"):
        with pytest.raises(BtfError):
            parse_seeds(bad)
    for bad in ("", "3,", "x", "nan", "3,3.0"):
        with pytest.raises(BtfError):
            parse_float_list(bad)
    assert grid_points(dict(a=[1, 2], b=["x"])) == [dict(a=1, b="x"), dict(a=2, b="x")]


def test_bad_settings_fail_before_any_run(data):
    lines = []
    bad = [
        (dict(sigma=[3, -1]), "sigma must be a positive number"),
        (dict(beta=[0.2, 1.5]), "beta must lie"),
        (dict(gamma=[]), "no values"),
        (dict(dtype=["float16"]), "dtype must be float64 or float32"),
        (dict(arch=["4-4-4-4", "6-4"]), "inputs"),
        (dict(trials=[2]), "set by the sweep"),
        (dict(alpha=[1]), "unknown setting"),
        (dict(max_iter=[0]), "max_iter"),
        ({}, "at least one axis"),
    ]
    for grid, message in bad:
        with pytest.raises(BtfError, match=message):
            settings_sweep(data, grid, [0], dict(max_iter=10, **({} if "arch" in grid else {"arch": "4-4-4-4"})),
                           progress=lines.append)
    with pytest.raises(BtfError, match="both"):
        check_sweep(data, dict(arch=["4-4-4-4"]), [0], dict(arch="4-4-4-4"))
    with pytest.raises(BtfError, match="architecture"):
        check_sweep(data, dict(sigma=[3]), [0], {})
    with pytest.raises(BtfError, match="seeds"):
        check_sweep(data, dict(sigma=[3]), [], dict(arch="4-4-4-4"))
    assert lines == []


def test_cli_errors():
    from btflearn.cli.main import cli
    runner = CliRunner()
    base = ["sweep", "multiplier", "--bits", "2", "--max-iter", "10", "--quiet"]
    cases = [
        (["--sigma", "3,x"], "'x' is not a number"),
        (["--gamma", ""], "comma-separated"),
        (["--dtype", "float64,float16"], "dtype must be float64 or float32, got 'float16'"),
        (["--seeds", "4-2"], "empty range"),
        (["--seeds", "0,0"], "listed twice"),
        (["--arch", "4-4-4-4,4-4-8"], "inputs and 8 outputs"),
        (["--beta", "0"], "beta must be a positive number"),
        (["--bits", "6"], "no default architecture for 6 bits: give --arch"),
    ]
    for extra, message in cases:
        r = runner.invoke(cli, base + extra)
        assert r.exit_code == 2, (extra, r.output)
        assert message in r.output, (extra, r.output)
        assert "[1/" not in r.output  # nothing ran


def test_scheduler_runs_match_in_process(data, swept):
    pytest.importorskip("distributed")
    res, _ = swept
    lines = []
    dist = settings_sweep(data, GRID, [1], BASE, progress=lines.append, scheduler="local:1")
    assert dist.scheduler == "local:1"
    local = {(r.point, r.seed): r for r in res.runs}
    assert [(r.point, r.seed) for r in dist.runs] == [(0, 1), (1, 1)]
    for r in dist.runs:
        ref = local[r.point, r.seed]
        assert (r.solved, r.iterations, r.final_iterations, r.gap, r.best_gap) == \
            (ref.solved, ref.iterations, ref.final_iterations, ref.gap, ref.best_gap)
    assert sorted(ln.rsplit(" on ", 1)[0] for ln in lines) == ["finished [1/2] gamma=0.001 seed 1",
                                                               "finished [2/2] gamma=0.0005 seed 1"]
    assert all(ln.rsplit(" on ", 1)[1].startswith("tcp://127.0.0.1:") for ln in lines)
