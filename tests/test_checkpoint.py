"""Checkpoints: an interrupted or time-limited run continues exactly where it stopped."""
import os
import signal

import numpy as np
import pytest

from btflearn import BtfError, fit
from btflearn.errors import Interrupted
from btflearn.tasks import multiplier

KW = dict(arch="4-4-4-4", gamma=1e-3, max_iter=1500, trials=5, seed=3, batch=2, stop_on_first=False)


def _same_trials(a, b):
    assert [t.trial for t in a.trials] == [t.trial for t in b.trials]
    for ta, tb in zip(a.trials, b.trials):
        assert (ta.solved, ta.iterations, ta.gap, ta.best_gap, ta.first_solved_at) == \
            (tb.solved, tb.iterations, tb.gap, tb.best_gap, tb.first_solved_at)
        assert ta.gap_history == tb.gap_history
        np.testing.assert_array_equal(ta.weights, tb.weights)


def test_ctrl_c_saves_and_resume_matches_an_uninterrupted_run(tmp_path):
    data = multiplier(2)
    whole = fit(data, **KW)
    path = tmp_path / "run.ckpt.npz"
    calls = []

    def press_ctrl_c(info):  # a real SIGINT in the middle of the run, after some trials finished
        calls.append(info)
        if len(calls) == 12:
            os.kill(os.getpid(), signal.SIGINT)

    with pytest.raises(Interrupted, match="checkpoint saved") as stop:
        fit(data, checkpoint=path, progress=press_ctrl_c, **KW)
    assert path.is_file()
    so_far = stop.value.result   # the finished trials and the read-outs of the running ones
    assert isinstance(stop.value, KeyboardInterrupt) and so_far.trials
    assert sum(t.iterations for t in so_far.trials) < sum(t.iterations for t in whole.trials)
    resumed = fit(data, checkpoint=path, resume=True, **KW)
    _same_trials(whole, resumed)
    assert not path.exists()  # removed once the run ended normally


def test_time_limit_keeps_a_resumable_checkpoint(tmp_path):
    data = multiplier(2)
    kw = dict(KW, max_iter=4000, trials=2, batch=2)
    whole = fit(data, **kw)
    path = tmp_path / "c.npz"
    first = fit(data, checkpoint=path, time_limit=1e-6, **kw)   # stops after the first chunk
    assert path.is_file() and all(t.iterations < 4000 for t in first.trials if not t.solved)
    _same_trials(whole, fit(data, checkpoint=path, resume=True, **kw))


def test_a_run_stopped_while_polishing_resumes_to_the_same_result(tmp_path):
    """The kept read-out of a polishing trial and the iteration of its first verified read-out travel in
    the checkpoint."""
    data = multiplier(2)
    kw = dict(arch="4-4-4-4", gamma=1e-3, max_iter=20_000, trials=1, seed=6, polish=4000, gapstop=1e-9)
    whole = fit(data, **kw)
    path = tmp_path / "p.npz"
    calls = []

    def stop_while_polishing(info):   # SIGINT a few chunks after the first verified read-out
        calls.append(info)
        if sum(c["fit"] == 1.0 for c in calls) == 3:
            os.kill(os.getpid(), signal.SIGINT)

    with pytest.raises(Interrupted):
        fit(data, checkpoint=path, progress=stop_while_polishing, **kw)
    resumed = fit(data, checkpoint=path, resume=True, **kw)
    assert whole.trials[0].first_solved_at < whole.trials[0].iterations
    _same_trials(whole, resumed)


def test_resume_refuses_another_problem_or_settings(tmp_path):
    data = multiplier(2)
    path = tmp_path / "c.npz"
    fit(data, checkpoint=path, time_limit=1e-6, **dict(KW, max_iter=4000))
    with pytest.raises(BtfError, match="other settings.*sigma"):
        fit(data, checkpoint=path, resume=True, **dict(KW, max_iter=4000, sigma=5.0))
    with pytest.raises(BtfError, match="another data set or network"):
        fit(data, checkpoint=path, resume=True, **dict(KW, max_iter=4000, arch="4-5-4"))
    with pytest.raises(BtfError, match="resume with batch=2"):
        fit(data, checkpoint=path, resume=True, **dict(KW, max_iter=4000, batch=3))
    with pytest.raises(BtfError, match="no checkpoint"):
        fit(data, checkpoint=tmp_path / "missing.npz", resume=True, **KW)
    (tmp_path / "junk.npz").write_bytes(b"not a zip")
    with pytest.raises(BtfError, match="junk.npz: not a readable btflearn checkpoint"):
        fit(data, checkpoint=tmp_path / "junk.npz", resume=True, **KW)


def test_cli_resume_continues_a_time_limited_run(tmp_path):
    import json

    from click.testing import CliRunner

    from btflearn.cli.main import cli

    run = CliRunner()
    args = ["solve", "multiplier", "--bits", "2", "--trials", "3", "--all-trials", "--max-iter", "3000",
            "--seed", "4", "--quiet"]
    whole = run.invoke(cli, args + ["--out", str(tmp_path / "whole")])
    cut = run.invoke(cli, args + ["--out", str(tmp_path / "cut"), "--time-limit", "1e-6"])
    assert (tmp_path / "cut" / "checkpoint.npz").is_file(), cut.output
    again = run.invoke(cli, args + ["--out", str(tmp_path / "cut")])
    assert again.exit_code == 2 and "--resume" in again.output   # never overwrites an unfinished run
    # the resumed run takes its settings from the checkpoint, whatever the command line says now
    resumed = run.invoke(cli, ["solve", "multiplier", "--bits", "2", "--sigma", "7", "--resume",
                               str(tmp_path / "cut")])
    assert resumed.exit_code == whole.exit_code, resumed.output
    assert "sigma 7.0 -> 3.0" in resumed.output
    assert not (tmp_path / "cut" / "checkpoint.npz").exists()
    a = json.loads((tmp_path / "whole" / "result.json").read_text())["trials"]
    b = json.loads((tmp_path / "cut" / "result.json").read_text())["trials"]
    assert [(t["trial"], t["iterations"], t["solved"], t["gap"]) for t in a] == \
        [(t["trial"], t["iterations"], t["solved"], t["gap"]) for t in b]
    wrong = run.invoke(cli, ["solve", "multiplier", "--bits", "3", "--resume", str(tmp_path / "whole")])
    assert wrong.exit_code == 2 and "--bits 3 differs from the run" in wrong.output
    finished = run.invoke(cli, ["solve", "multiplier", "--resume", str(tmp_path / "whole")])
    assert isinstance(finished.exception, BtfError) and "no checkpoint" in str(finished.exception)


def test_resume_restores_the_task_size_and_a_time_limit_stop_says_how(tmp_path):
    import json

    from click.testing import CliRunner

    from btflearn.cli.main import cli
    run = CliRunner()
    out = tmp_path / "m3"
    cut = run.invoke(cli, ["solve", "multiplier", "--bits", "3", "--max-iter", "200", "--time-limit", "1e-6",
                           "--quiet", "--out", str(out)])
    assert cut.exit_code == 1 and (out / "checkpoint.npz").is_file()
    assert f"--resume {out}" in cut.output and "continue it with --resume" in cut.output
    again = run.invoke(cli, ["solve", "multiplier", "--resume", str(out), "--time-limit", "1e-6", "--quiet"])
    assert again.exit_code == 1 and (out / "checkpoint.npz").is_file(), again.output
    # a resume keeps the record
    assert json.loads((out / "task.json").read_text())["options"] == {"bits": 3, "split": None}
    resumed = run.invoke(cli, ["solve", "multiplier", "--resume", str(out), "--quiet"])  # no --bits: task.json
    assert "architecture" not in resumed.output, resumed.output
    assert json.loads((out / "result.json").read_text())["task"] == "multiplier3"



def test_four_bit_runs_always_write_a_run_directory(tmp_path, monkeypatch):
    import json

    from click.testing import CliRunner

    from btflearn.cli.main import cli

    monkeypatch.chdir(tmp_path)
    res = CliRunner().invoke(cli, ["solve", "multiplier", "--bits", "4", "--max-iter", "8", "--quiet"])
    assert res.exit_code == 1 and "runs/multiplier4" in res.output        # not solved in 8 iterations
    assert "try more --trials" in res.output and "time limit" not in res.output
    run = tmp_path / "runs" / "multiplier4"
    report = json.loads((run / "result.json").read_text())
    assert report["hyperparameters"]["split"] == ["a3", "b3"] and not report["solved"]
    assert report["trials"][0]["iterations"] == 8       # the first cofactor's trial, then it gave up
    assert not (run / "cofactors").exists()             # ended normally: nothing to resume
    one = CliRunner().invoke(cli, ["solve", "multiplier", "--bits", "4", "--split", "none", "--max-iter", "8",
                                   "--quiet", "--out", str(tmp_path / "one")])
    assert one.exit_code == 1
    report = json.loads((tmp_path / "one" / "result.json").read_text())
    assert report["hyperparameters"]["arch"] == "dense:8-32-32-32-8" and report["trials"][0]["iterations"] == 8
    assert not (tmp_path / "one" / "checkpoint.npz").exists()   # ended normally


def test_a_four_bit_run_minimises_two_minutes_per_stage_unless_told(tmp_path, monkeypatch):
    from click.testing import CliRunner

    import btflearn.rundir
    from btflearn.cli.main import cli

    budgets = []
    real = btflearn.rundir.save_run

    def spy(out, result, dataset, report, minimise_time, *args, **kwargs):
        budgets.append(minimise_time)
        return real(out, result, dataset, report, minimise_time, *args, **kwargs)

    monkeypatch.setattr(btflearn.rundir, "save_run", spy)
    base = ["solve", "multiplier", "--max-iter", "8", "--quiet"]
    for extra, tag in (([], "a"), (["--minimise-time", "5"], "b")):
        CliRunner().invoke(cli, base + ["--bits", "4", "--out", str(tmp_path / tag)] + extra)
    CliRunner().invoke(cli, base + ["--bits", "3", "--out", str(tmp_path / "c")])
    assert budgets == [120.0, 5.0, None]     # None: the usual 60 s
