"""Trials and their outcome: how a trial is seeded, what it reports, and which trial a fit returns.

Shared by every runner (in process, Dask), so a run's result does not depend on where its trials ran.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .errors import BtfError


def trial_rng(seed: int, trial: int) -> np.random.Generator:
    """Every trial's randomness comes from (seed, trial): runs are reproducible trial by trial."""
    return np.random.default_rng(np.random.SeedSequence([int(seed), int(trial)]))


def trial_list(trials: int, trial_ids=None) -> list[int]:
    """The trial indices a run executes: ``range(trials)``, or exactly ``trial_ids``."""
    if int(trials) < 1:
        raise BtfError("trials must be at least 1")
    ids = list(range(int(trials))) if trial_ids is None else [int(k) for k in trial_ids]
    if not ids or min(ids) < 0 or len(set(ids)) != len(ids):
        raise BtfError(f"trial_ids must be distinct non-negative integers, got {trial_ids!r}")
    return ids


@dataclass
class TrialResult:
    trial: int
    seed: list                 # the SeedSequence entropy [seed, trial] this trial started from
    solved: bool
    iterations: int
    gap: float                 # reported gap at the last iteration
    best_gap: float
    seconds: float             # wall time from this trial's start to its end (shared cores)
    per_bit: float             # training accuracy of the trial's final weights
    exact: float
    gap_history: list = field(default_factory=list)  # [(iteration, gap)] at geometric checkpoints
    weights: np.ndarray | None = field(default=None, repr=False)
    codes: np.ndarray | None = field(default=None, repr=False)  # learned inputs of free-input tasks
    first_solved_at: int | None = None   # iteration of the first verified read-out (before polishing)


@dataclass
class FitResult:
    solved: bool
    model: object              # Model: the first verified solution, else the most accurate trial
    trials: list               # TrialResult per trial that ran, by trial index
    iterations: int            # iterations of the returned model's trial
    seconds: float
    per_bit: float
    exact: float
    hyperparameters: dict
    backend: str
    codes: np.ndarray | None = None  # for free-input tasks: the inputs the model was solved with
    scheduler: str = ""        # a Dask run: the scheduler address its trials ran on
    workers: dict = field(default_factory=dict)    # a Dask run: trial -> worker address
    cancelled: list = field(default_factory=list)  # a Dask run: trials the first solution cancelled

    def summary(self) -> str:
        """One line (two for a Dask run), each within 80 columns."""
        state = "solved" if self.solved else "NOT solved"
        n_solved = sum(t.solved for t in self.trials)
        text = (f"{state}: {self.iterations} it, per-bit {self.per_bit:.4f}, exact {self.exact:.4f}, "
                f"{n_solved}/{len(self.trials)} trials solved, {self.seconds:.2f} s ({self.backend})")
        if self.scheduler:
            text += f"\ndask {self.scheduler}, {len(set(self.workers.values()))} worker(s)"
        return text


def best_trial(results: list) -> TrialResult:
    """The trial a fit returns: the first verified solution in the order solutions were found (the
    order of ``results``), else the most accurate trial (exact, then per-bit, then the lowest index)."""
    solved = [r for r in results if r.solved]
    return solved[0] if solved else max(results, key=lambda r: (r.exact, r.per_bit, -r.trial))


def assemble(problem, results: list, trials: int, seed: int, seconds: float, backend: str, **where) -> FitResult:
    """The FitResult of a run whose finished trials are ``results`` (in completion order)."""
    if not results:
        raise BtfError("no trial ran before the time limit")
    best = best_trial(results)
    hyper = dict(problem.hyperparameters(trials, seed), trial=best.trial)
    model = problem.model(best.weights, hyperparameters=hyper, seed=int(seed), iterations=best.iterations)
    ordered = sorted(results, key=lambda r: r.trial)
    return FitResult(any(r.solved for r in results), model, ordered, best.iterations, seconds, best.per_bit,
                     best.exact, hyper, backend, best.codes, **where)


def joined_result(model, dataset, results: list, solved: bool, seconds: float, seed, iterations: int,
                  **hyper) -> FitResult:
    """The FitResult of a model joined from several fits (btflearn.split_fit, btflearn.output_fit):
    solved when every part was and the joined model reproduces ``dataset``; the parts' trials in
    ``trials``, ``hyper`` added to the first part's hyperparameters."""
    from .model import Model
    per_bit, exact = model.accuracy(dataset)
    if solved and exact != 1.0:
        raise BtfError("internal error: the joined model is wrong on an item its parts' networks solve")
    hyper = dict(results[0].hyperparameters if results else {}, **hyper)
    model = Model(model.network, model.weights, model.input_names, model.output_names, name=dataset.name,
                  hyperparameters=hyper, seed=seed, iterations=iterations)
    return FitResult(solved and exact == 1.0, model, [t for r in results for t in r.trials], iterations, seconds,
                     per_bit, exact, hyper, results[0].backend if results else "none")
