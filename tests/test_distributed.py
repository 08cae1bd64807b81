"""Restarts and sweep points on Dask distributed: a real scheduler and two worker processes on 127.0.0.1."""
import json
import os
import signal
import socket
import threading
import time

import numpy as np
import pytest
from click.testing import CliRunner

distributed = pytest.importorskip("distributed")

from btflearn import fit  # noqa: E402
from btflearn.distributed import fit_distributed, local_cluster, parse_scheduler  # noqa: E402
from btflearn.errors import BtfError  # noqa: E402
from btflearn.tasks import multiplier  # noqa: E402

UNSOLVABLE = "4-1-4"  # one hidden node cannot multiply: every trial runs to max_iter


@pytest.fixture(scope="module")
def client():
    cluster = local_cluster(2)  # 2 single-threaded worker processes (nannies), 127.0.0.1, no dashboard
    c = distributed.Client(cluster, set_as_default=False)
    c.wait_for_workers(2, timeout=30)
    yield c
    c.close()
    cluster.close()


def same_trials(a, b):
    assert [t.trial for t in a] == [t.trial for t in b]
    for x, y in zip(a, b):
        assert (x.iterations, x.solved, x.gap, x.best_gap) == (y.iterations, y.solved, y.gap, y.best_gap)
        np.testing.assert_array_equal(x.weights, y.weights)


def test_eight_restarts_match_the_in_process_run(client):
    data = multiplier(2)
    kw = dict(max_iter=2000, seed=0, stop_on_first=False)
    seen = []
    dist = fit_distributed(data, "4-4-4-4", client, trials=8, progress=seen.append, **kw)
    local = fit(data, "4-4-4-4", trials=8, **kw)
    same_trials(dist.trials, local.trials)
    assert dist.solved == local.solved and dist.iterations == local.iterations
    assert dist.hyperparameters == local.hyperparameters
    assert dist.model.hyperparameters == local.model.hyperparameters  # one solved trial: the same model
    np.testing.assert_array_equal(dist.model.weights, local.model.weights)
    assert sorted(dist.workers) == list(range(8))
    assert set(dist.workers.values()) <= set(client.scheduler_info()["workers"])
    assert seen and seen[-1]["finished"] == 8 and seen[-1]["trials"] == 8
    assert set(seen[-1]) == {"elapsed", "running", "finished", "trials", "solved", "best_gap", "max_iter", "fit"}
    if dist.solved:  # the model is a verified solution
        assert dist.model.accuracy(data)[1] == 1.0


def test_first_solution_cancels_the_rest(client):
    data = multiplier(2)
    res = fit_distributed(data, "4-4-4-4", client, trials=8, seed=0, max_iter=10_000, gamma=1e-3)
    assert res.solved and res.model.accuracy(data)[1] == 1.0
    assert sorted([t.trial for t in res.trials] + res.cancelled) == list(range(8))
    done = [t.trial for t in res.trials]  # whatever finished finished exactly as in-process
    same_trials(res.trials, fit(data, "4-4-4-4", trial_ids=done, seed=0, max_iter=10_000, gamma=1e-3,
                                stop_on_first=False).trials)


def executing(dask_worker):
    """Run on a worker by client.run: the trial indices its threads are executing now."""
    return [int(str(ts.key).split("-")[2]) for ts in dask_worker.state.executing]


def test_a_worker_killed_mid_run_loses_no_trial(client):
    data = multiplier(2)
    # a few seconds a trial on one thread: a trial seen running is still running when the kill lands
    kw = dict(max_iter=400_000, seed=1, stop_on_first=False)
    pids = client.run(os.getpid)  # worker address -> process id
    box, seen = {}, []
    runner = threading.Thread(target=lambda: box.update(res=fit_distributed(
        data, UNSOLVABLE, client, trials=2, progress=seen.append, **kw)))
    runner.start()
    t_end = time.time() + 30
    while not any(info["running"] for info in seen) and time.time() < t_end:  # a trial is iterating
        time.sleep(0.02)
    busy = {w: trials for w, trials in client.run(executing).items() if trials}
    assert busy, "no trial running"
    victim = min(busy)
    os.kill(pids[victim], signal.SIGKILL)
    runner.join(90)
    res = box["res"]
    assert [t.trial for t in res.trials] == [0, 1]
    assert all(t.iterations == 400_000 for t in res.trials)
    assert all(res.workers[k] != victim for k in busy[victim]), (busy, res.workers)  # re-run elsewhere
    same_trials(res.trials, fit(data, UNSOLVABLE, trials=2, **kw).trials)
    client.wait_for_workers(2, timeout=30)  # the nanny restarts the killed worker


def test_interrupt_cancels_the_submitted_trials(client):
    data = multiplier(2)

    def interrupt(info):
        if info["running"] or info["elapsed"] > 3:
            raise KeyboardInterrupt

    t0 = time.time()
    with pytest.raises(KeyboardInterrupt):  # trials of about a minute each
        fit_distributed(data, UNSOLVABLE, client, trials=4, max_iter=2_000_000, progress=interrupt)
    # the running trials stop at their next check: the workers are free again within seconds
    assert client.submit(time.time, pure=False).result(timeout=15) - t0 < 15
    assert client.gather(client.map(abs, [-1, -2], pure=False)) == [1, 2]


def test_unreachable_scheduler_is_a_clear_error():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    t0 = time.time()
    with pytest.raises(BtfError, match=f"tcp://127.0.0.1:{port}"):
        fit_distributed(multiplier(2), "4-4-4-4", f"tcp://127.0.0.1:{port}", trials=2, max_iter=100)
    assert time.time() - t0 < 10


def test_scheduler_spec():
    assert parse_scheduler("local:3") == ("local", 3)
    assert parse_scheduler("local")[0] == "local"
    assert parse_scheduler("10.0.0.5:8786") == ("address", "tcp://10.0.0.5:8786")
    assert parse_scheduler("tls://h:1") == ("address", "tls://h:1")
    for bad in ("local:0", "local:x", "nonsense"):
        with pytest.raises(BtfError):
            parse_scheduler(bad)


def test_sweep_points_on_the_cluster_match_the_local_sweep(client):
    from btflearn.grid import run_sweep
    from btflearn.tasks import ElementaryCA
    pool = ElementaryCA(232, width=8).sample(200, seed=0)
    kw = dict(fit_options=dict(gamma=1e-3, max_iter=800), seeds=[0, 1])
    dist = run_sweep(pool, "8-8", [16, 32], scheduler=client, **kw)
    local = run_sweep(pool, "8-8", [16, 32], **kw)
    def rows(res):  # everything but the wall times
        return [{k: v for k, v in row.items() if k != "seconds"} for row in res.to_dict()["rows"]]
    assert len(dist.rows) == 4 and rows(dist) == rows(local)


def test_cli_solve_with_a_local_scheduler(tmp_path):
    from btflearn.cli.main import cli
    out = tmp_path / "run"
    r = CliRunner().invoke(cli, ["solve", "multiplier", "--bits", "2", "--scheduler", "local:2", "--trials", "4",
                                 "--max-iter", "10000", "--seed", "0", "--quiet", "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert "solved" in r.output and "dask" in r.output
    report = json.loads((out / "result.json").read_text())
    assert report["solved"] and report["scheduler"].startswith("tcp://127.0.0.1:")
    assert all(row["worker"].startswith("tcp://127.0.0.1:") for row in report["trials"])
    assert (out / "model.json").exists()
