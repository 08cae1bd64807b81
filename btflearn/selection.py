"""Which inputs a sampled Boolean function depends on: greedy forward selection by the validation log
loss of the chosen inputs' joint table, a one-input mutual-information ranking for the rest, and a
Walsh screen for the pairs and triples (XORs) that greedy selection cannot see."""
from __future__ import annotations

import time

import numpy as np

from .dataset import Dataset

SCREEN_ITEMS = 1024       # items the second- and third-order Walsh screen looks at
MAX_SCREEN_INPUTS = 512   # inputs up to which it runs (n^3 / 3 products: a few seconds at 512)


def rank_inputs(data: Dataset) -> np.ndarray:
    """Inputs ordered by mutual information with the outputs (summed over outputs), highest first."""
    x = data.inputs > 0
    y = data.outputs > 0
    n = x.shape[0]
    score = np.zeros(x.shape[1])
    for j in range(y.shape[1]):
        joint = np.stack([(x & y[:, [j]]).sum(0), (x & ~y[:, [j]]).sum(0),
                          (~x & y[:, [j]]).sum(0), (~x & ~y[:, [j]]).sum(0)]) / n
        px = np.stack([x.mean(0)] * 2 + [1 - x.mean(0)] * 2)
        py = np.array([y[:, j].mean(), 1 - y[:, j].mean()] * 2)[:, None]
        with np.errstate(divide="ignore", invalid="ignore"):
            terms = np.where(joint > 0, joint * np.log(joint / (px * py)), 0.0)
        score += terms.sum(0)
    return np.argsort(-score, kind="stable")


def _table_loss(key_t, key_v, yt, yv, prior) -> float:
    """Validation log loss of the table that predicts each cell (a key: the chosen inputs' bits) by the
    frequency of ones among the training items in it (smoothed; unseen cells predict the prior)."""
    cells, inv = np.unique(key_t, return_inverse=True)
    count = np.bincount(inv, minlength=len(cells))
    pos = np.minimum(np.searchsorted(cells, key_v), len(cells) - 1)
    seen = cells[pos] == key_v
    loss = 0.0
    for o in range(yt.shape[1]):
        ones = np.bincount(inv, weights=yt[:, o], minlength=len(cells))
        p = np.where(seen, (ones[pos] + 0.5) / (count[pos] + 1.0), prior[o])
        p = np.clip(p, 1e-6, 1 - 1e-6)
        loss -= np.mean(np.where(yv[:, o], np.log(p), np.log1p(-p)))
    return float(loss)


def table_accuracy(train: Dataset, valid: Dataset, inputs) -> float:
    """Validation accuracy of the plainest model over ``inputs``: each cell of their joint table predicts
    the majority output of its training items (ties: True), a cell without items the overall majority.
    Not a candidate (a table is not a BTF network), but a yardstick: it says how much the inputs
    themselves tell, so a network that scores far below it on the same inputs underfits them."""
    inputs = [int(j) for j in inputs]
    both = np.concatenate([train.inputs[:, inputs], valid.inputs[:, inputs]]) > 0
    _, cell = np.unique(both, axis=0, return_inverse=True)   # any number of inputs: rows, not integers
    cell = cell.reshape(-1)
    cell_t, cell_v = cell[:train.n_items], cell[train.n_items:]
    count = np.bincount(cell_t, minlength=cell.max() + 1)
    right = 0.0
    for o in range(train.n_outputs):
        votes = np.bincount(cell_t, weights=train.outputs[:, o], minlength=len(count))
        fallback = 1.0 if train.outputs[:, o].sum() >= 0 else -1.0
        pred = np.where(count[cell_v] > 0, np.where(votes[cell_v] >= 0, 1.0, -1.0), fallback)
        right += float((pred == valid.outputs[:, o]).mean())
    return right / train.n_outputs


def select_inputs(train: Dataset, valid: Dataset, k_max: int = 32, start=(),
                  deadline: float | None = None) -> tuple[np.ndarray, list]:
    """Greedy forward selection from the inputs ``start``: add the input whose joint table with the
    inputs chosen so far best predicts the outputs of ``valid`` (``_table_loss``). Catches inputs that
    matter only together with others, which a one-input score misses. Returns the order (the remaining
    inputs follow by mutual information) and the loss after each pick (``start`` included). Past
    ``deadline`` (a ``time.perf_counter()`` value) no further input is added once one has been."""
    xt, yt = train.inputs > 0, train.outputs > 0
    xv, yv = valid.inputs > 0, valid.outputs > 0
    prior = yt.mean(axis=0)
    chosen, losses = [], []
    key_t = np.zeros(train.n_items, np.int64)
    key_v = np.zeros(valid.n_items, np.int64)

    def take(j, loss=None):
        nonlocal key_t, key_v
        key_t, key_v = 2 * key_t + xt[:, j], 2 * key_v + xv[:, j]
        chosen.append(int(j))
        losses.append(_table_loss(key_t, key_v, yt, yv, prior) if loss is None else loss)

    for j in start:
        take(j)
    while len(chosen) < min(k_max, train.n_inputs, 60):
        if chosen and deadline is not None and time.perf_counter() > deadline:
            break
        best = None
        for j in range(train.n_inputs):
            if j in chosen:
                continue
            loss = _table_loss(2 * key_t + xt[:, j], 2 * key_v + xv[:, j], yt, yv, prior)
            if best is None or loss < best[0]:
                best = (loss, j)
        take(best[1], best[0])
    rest = [int(j) for j in rank_inputs(train) if j not in chosen]
    return np.array(chosen + rest, dtype=int), losses


def strongest_interaction(data: Dataset, max_items: int = SCREEN_ITEMS) -> tuple | None:
    """The two or three inputs whose product (in +-1) correlates most with an output: the largest second-
    or third-order Walsh coefficient, over at most ``max_items`` items. No single input tells anything
    about a XOR b (the sign bit of a product), nor any input or pair about a sum bit a XOR b XOR carry,
    so greedy selection starts blind; their product tells all, and (a_top, b_top, a_top-1) 3 in 4 items
    of a sum bit. Of the two orders the one further above its noise level wins; None when neither
    stands out from noise."""
    n = data.n_inputs
    if n < 2 or n > MAX_SCREEN_INPUTS:
        return None
    x = data.inputs[:max_items].astype(np.float32)
    y = data.outputs[:max_items].astype(np.float32)
    m = x.shape[0]

    def noise(count):  # the largest of ``count`` null coefficients: about sqrt(2 ln count) standard errors
        return np.sqrt(2 * np.log(max(count, 2.0)) + 9.0) / np.sqrt(m)   # + 9: a margin

    pair_noise, triple_noise = noise(n * n / 2), noise(n ** 3 / 6)
    best = (1.0, None)   # (coefficient / its noise level, inputs)
    for o in range(y.shape[1]):
        c = np.triu(np.abs(x.T @ (x * y[:, [o]])) / m, 1) / pair_noise          # E[y x_i x_j], j > i
        i, j = np.unravel_index(int(np.argmax(c)), c.shape)
        if c[i, j] > best[0]:
            best = (float(c[i, j]), (int(i), int(j)))
    for i in range(n - 2):
        rest = x[:, i + 1:]
        for o in range(y.shape[1]):
            c = np.abs(rest.T @ (rest * (y[:, o] * x[:, i])[:, None])) / m   # E[y x_i x_j x_k], j, k > i
            c = np.triu(c, 1) / triple_noise
            j, k = np.unravel_index(int(np.argmax(c)), c.shape)
            if c[j, k] > best[0]:
                best = (float(c[j, k]), (i, i + 1 + int(j), i + 1 + int(k)))
    return best[1]
