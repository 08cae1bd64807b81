"""The solver: verified solutions, reproducible seeds, results that carry what the user needs."""
import json

import numpy as np
import pytest

import btflearn
from btflearn import BtfError, Dataset, fit, load_model
from btflearn.tasks import multiplier


def test_two_bit_multiplier_solves_and_is_verified(tmp_path):
    data = multiplier(2)
    result = fit(data, arch="4-4-4-4", gamma=1e-3, max_iter=10_000, trials=8, seed=0)
    assert result.solved
    assert result.model.accuracy(data) == (1.0, 1.0)
    pred = result.model.predict(data.inputs)
    assert np.array_equal(pred, data.outputs)
    winner = [t for t in result.trials if t.solved][0]
    assert winner.iterations == result.iterations <= 10_000
    its = [i for i, _ in winner.gap_history]
    assert its == sorted(its) and its[0] == 1 and len(its) < 200   # geometric checkpoints
    path = result.model.save(tmp_path / "model.json")
    loaded = load_model(path)
    assert np.array_equal(loaded.predict(data.inputs), pred)
    doc = json.loads(path.read_text())
    assert doc["format"] == "btflearn.model/1" and doc["input_names"][:2] == ["a0", "a1"]
    assert doc["output_names"] == ["p0", "p1", "p2", "p3"]
    assert len(doc["edges"]) == 60 and doc["seed"] == 0


def test_runs_are_reproducible_per_trial():
    data = multiplier(2)
    a = fit(data, arch="4-4-4-4", gamma=1e-3, max_iter=300, trials=3, seed=5, stop_on_first=False)
    b = fit(data, arch="4-4-4-4", gamma=1e-3, max_iter=300, trials=3, seed=5, stop_on_first=False, batch=1)
    for ta, tb in zip(a.trials, b.trials):
        assert ta.trial == tb.trial and ta.iterations == tb.iterations
        assert ta.gap == pytest.approx(tb.gap, rel=1e-9)   # batched or one at a time: same trial
    c = fit(data, arch="4-4-4-4", gamma=1e-3, max_iter=300, trials=1, seed=6)
    assert c.trials[0].gap != a.trials[0].gap


def test_numpy_and_numba_backends_agree():
    data = multiplier(2)
    a = fit(data, arch="4-4-4-4", max_iter=40, seed=2, backend="numpy")
    b = fit(data, arch="4-4-4-4", max_iter=40, seed=2, backend="numba")
    assert a.trials[0].gap == pytest.approx(b.trials[0].gap, abs=1e-9)
    np.testing.assert_allclose(a.model.weights, b.model.weights, atol=1e-9)


def test_unsolved_run_reports_honestly():
    data = multiplier(2)
    r = fit(data, arch="4-1-4", max_iter=200, trials=2, seed=0)
    assert not r.solved and len(r.trials) == 2
    assert all(t.iterations == 200 and not t.solved for t in r.trials)
    assert r.exact < 1.0


def test_progress_reports_the_fit_of_the_running_read_out():
    data = multiplier(3)
    kw = dict(arch="dense:6-12-12-12-6", sigma=5.0, gamma=3e-3, seed=0, trials=1)
    seen = []
    fit(data, max_iter=2000, progress=seen.append, **kw)
    live = [info for info in seen if info["running"]]
    assert live and all(0.0 <= info["fit"] <= 1.0 for info in live)
    assert len({info["fit"] for info in live}) > 1  # it moves as the run learns
    it = live[len(live) // 2]["running"][0][1]
    at_it = fit(data, max_iter=it, **kw)  # the same trial stopped there: its read-out's exact fraction
    assert live[len(live) // 2]["fit"] == pytest.approx(at_it.exact)


def test_time_limit_stops_a_run():
    data = multiplier(3)
    r = fit(data, arch="6-12-12-12-6", max_iter=10 ** 7, time_limit=0.5, seed=0)
    assert not r.solved and r.seconds < 10


def test_free_binary_inputs_learn_a_code():
    # decoder: 4 random 6-bit vectors from 2 free code bits
    rng = np.random.default_rng(0)
    out = rng.choice([-1.0, 1.0], size=(4, 6))
    data = Dataset(-np.ones((4, 2)), out, input_mode="binary")
    r = fit(data, arch="2-6-6", gamma=1e-3, max_iter=5000, trials=4, seed=0)
    assert r.solved
    assert np.array_equal(r.model.predict(r.codes), out)


@pytest.mark.parametrize("kwargs,match", [
    (dict(arch="3-4-4"), "inputs"), (dict(sigma=-1), "sigma"), (dict(beta=2.0), "beta"),
    (dict(max_iter=0), "max_iter"), (dict(backend="gpu"), "backend"), (dict(arch="4-x-4"), "architecture"),
])
def test_bad_options_are_clear_errors(kwargs, match):
    with pytest.raises(BtfError, match=match):
        fit(multiplier(2), **{"arch": "4-4-4-4", "max_iter": 10, **kwargs})


def test_lazy_api_names():
    assert btflearn.fit is fit and callable(btflearn.load_model)


def test_polish_turns_an_early_read_out_into_a_converged_one():
    data = multiplier(2)
    r = fit(data, arch="4-4-4-4", gamma=1e-3, max_iter=10_000, trials=4, seed=0, polish=3000)
    assert r.solved and r.model.accuracy(data) == (1.0, 1.0)
    winner = r.trials[r.model.hyperparameters["trial"]]
    assert winner.solved and winner.iterations == r.iterations
    assert winner.first_solved_at is not None and winner.first_solved_at <= winner.iterations
    if winner.first_solved_at < winner.iterations:   # it was polished: then the gap has converged
        assert winner.gap < 0.01


def test_polish_keeps_the_verified_read_out_of_smallest_gap():
    """While polishing, a read-out is verified at many chunks, and the gap moves up and down between
    them: the result is the verified read-out of smallest gap, not merely the first or the last."""
    data = multiplier(2)
    seen = []  # (iteration, gap, fraction of items exact) of the read-out after each chunk

    def progress(p):
        if p["running"]:
            seen.append((p["running"][0][1], p["running"][0][2], p["fit"]))

    r = fit(data, arch="4-4-4-4", gamma=1e-3, max_iter=20_000, trials=1, seed=6, polish=4000, gapstop=1e-9,
            progress=progress)
    t = r.trials[0]
    verified = [(it, gap) for it, gap, f in seen if f == 1.0]
    assert len(verified) >= 3 and r.solved and r.model.accuracy(data) == (1.0, 1.0)
    assert t.first_solved_at == verified[0][0]
    assert t.gap <= min(gap for _, gap in verified) < verified[-1][1]


def test_a_subset_of_trials_reproduces_those_trials():
    """Trial k depends only on (seed, k): running trials 1 and 3 alone gives the same per-trial
    results as the full batch of four (what distributed runs rely on)."""
    data = multiplier(2)
    kw = dict(arch="4-4-4-4", max_iter=300, seed=5, stop_on_first=False)
    full = {t.trial: t for t in fit(data, trials=4, **kw).trials}
    part = fit(data, trial_ids=[3, 1], **kw).trials
    assert sorted(t.trial for t in part) == [1, 3]
    for t in part:
        assert (t.iterations, t.solved, t.gap) == (full[t.trial].iterations, full[t.trial].solved,
                                                   full[t.trial].gap)
        np.testing.assert_array_equal(t.weights, full[t.trial].weights)
    with pytest.raises(BtfError, match="trial_ids"):
        fit(data, trial_ids=[1, 1], **kw)


def test_warm_start_from_a_solution_is_solved_at_once_and_checks_its_input():
    from btflearn.tasks import multiplier
    data = multiplier(2)
    first = fit(data, arch="4-4-4-4", gamma=1e-3, max_iter=10_000, trials=8, seed=0, backend="numpy")
    assert first.solved
    warm = fit(data, arch="4-4-4-4", gamma=1e-3, max_iter=10_000, seed=5, backend="numpy",
               init=first.model)
    assert warm.solved and warm.iterations < 500  # solved at the first read-out check
    cold = fit(data, arch="4-4-4-4", gamma=1e-3, max_iter=warm.iterations, seed=5, backend="numpy")
    assert not cold.solved  # the warm run's speed came from its start, not from the seed
    with pytest.raises(BtfError, match="init must be"):
        fit(data, arch="4-4-4-4", max_iter=4, init=np.zeros(3))
