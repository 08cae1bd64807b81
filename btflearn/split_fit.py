"""Fitting by cofactors: ``fit`` once per cofactor of a dataset on a few of its inputs, and the networks
joined into one model by a multiplexer of threshold gates (btflearn.shannon).

A network that must reproduce all 1024 facts of a 5x5 multiplier did not converge in 350,000 iterations
(docs/multiplier5.md); fixing two of its inputs leaves four functions of 256 facts each, about the size
of the 4x4 multiplier, which the same projections solve in tens of thousands. The joined model reproduces
every fact exactly when every cofactor's network does, and is an ordinary BTF network (model.json,
circuit extraction, minimisation and verification take it as they take any other).
"""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from .dataset import Dataset
from .errors import BtfError
from .shannon import check_select, cofactor_datasets, join_cofactors


def fit_task(dataset: Dataset, split=(), **fit_kwargs):
    """``fit_split`` on the cofactors of the inputs ``split``, or ``btflearn.fit`` when there are none
    (how ``btflearn solve`` runs a task, for the benchmarks that time it)."""
    from .solver import fit
    return fit_split(dataset, split, **fit_kwargs) if split else fit(dataset, **fit_kwargs)


def fit_split(dataset: Dataset, select, checkpoint_dir=None, resume: bool = False, progress=None,
              **fit_kwargs):
    """``btflearn.fit`` on every cofactor of the inputs ``select`` (names or positions) with
    ``fit_kwargs`` (same architecture, settings and seed for each), one after another, then the joined
    model. A cofactor whose outputs are constant needs no network. ``checkpoint_dir``: each cofactor's
    run checkpoints to ``cofactor-C.npz`` there and its result is kept as ``cofactor-C.json``, so that
    ``resume=True`` skips the cofactors already solved and continues the one that was running.
    ``progress``: called with (cofactor, number of cofactors, fit's progress dict). Returns a FitResult
    whose model is the joined one (solved when every cofactor is), with the cofactors' results in
    ``trials`` and their iterations added up."""
    from .model import load_model
    from .solver import fit
    from .trials import joined_result
    names = [j for j in select if isinstance(j, str) and j not in dataset.input_names]
    if names:
        raise BtfError(f"no input named {names[0]!r}; the inputs are {', '.join(dataset.input_names)}")
    select = check_select([dataset.input_names.index(j) if isinstance(j, str) else j for j in select],
                          dataset.n_inputs)
    t0 = time.perf_counter()
    time_limit = fit_kwargs.pop("time_limit", None)
    parts = cofactor_datasets(dataset, select)
    folder = Path(checkpoint_dir) if checkpoint_dir is not None else None
    if folder is not None:
        folder.mkdir(parents=True, exist_ok=True)
    leaves, results, solved, earlier = [], [], True, 0
    for c, part in enumerate(parts):
        if part is None or np.all(part.outputs == part.outputs[:1]):
            leaves.append(part.outputs[0] if part is not None else -np.ones(dataset.n_outputs))
            continue
        done = folder / f"cofactor-{c}.json" if folder is not None else None
        if resume and done is not None and done.exists():
            leaves.append(load_model(done))
            earlier += leaves[-1].iterations or 0
            continue
        left = None if time_limit is None else time_limit - (time.perf_counter() - t0)
        if not solved or (left is not None and left <= 0):
            leaves.append(-np.ones(dataset.n_outputs))   # not trained: False until a resumed run
            solved = False
            continue
        ckpt = folder / f"cofactor-{c}.npz" if folder is not None else None
        report = None if progress is None else (lambda step, c=c: progress(c, len(parts), step))
        result = fit(part, checkpoint=ckpt, resume=resume and ckpt is not None and ckpt.exists(),
                     progress=report, time_limit=left, **fit_kwargs)
        results.append(result)
        leaves.append(result.model)
        solved = solved and result.solved
        if result.solved and done is not None:
            result.model.save(done)
    model = join_cofactors(leaves, select, dataset.n_inputs, dataset.n_outputs, list(dataset.input_names),
                           list(dataset.output_names), name=dataset.name)
    return joined_result(model, dataset, results, solved, time.perf_counter() - t0, fit_kwargs.get("seed"),
                         earlier + sum(r.iterations for r in results),
                         split=[dataset.input_names[j] for j in select])
