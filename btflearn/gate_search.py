"""Small gates that agree with a node on its care items: the searches behind the minimisation's logic
passes (btflearn.sparsify). Rows are care items, columns candidate inputs (as +-1 values, or as the truth
of literals); each search returns the columns (and weights) of the simplest gate it finds, or None.

* find_and: an AND of 2..k literals (greedy order by coverage, exact over combinations);
* find_maj3 / find_maj5: a majority of 3 / 5 literals (at most one / two disagreeing per row);
* find_threshold: the simplest threshold gate of k <= 4 inputs with small integer weights, from the
  table of all such functions (threshold_table), cheapest first by btflearn's own decomposition.
"""
from __future__ import annotations

import itertools

import numpy as np


def find_and(z: np.ndarray, t: np.ndarray, lits, max_k: int):
    """An AND of k <= max_k literals equal to t on every row: columns z[:, j] are the literals' truth."""
    pos, neg = t, ~t
    if not pos.any():
        return None
    ok = np.flatnonzero(z[pos].all(axis=0))  # literals true wherever the target is
    if ok.size == 0:
        return None
    falses = ~z[neg][:, ok]                    # (negative items, candidates): literal false there
    n_neg = falses.shape[0]
    if n_neg == 0:
        return None                             # constant True: handled by the caller
    for k in range(2, max_k + 1):
        # every negative item needs one chosen literal false; greedy order by coverage, exact over combos
        if ok.size < k:
            break
        order = np.argsort(-falses.sum(axis=0), kind="stable")[:24]
        for combo in itertools.combinations(order, k):
            if falses[:, list(combo)].any(axis=1).all():
                if len({lits[ok[j]][0] for j in combo}) == k:
                    return [ok[j] for j in combo]
    return None


def find_maj3(agree: np.ndarray):
    """Three columns of ``agree`` (literal equals target) with at most one disagreeing per row."""
    bad = (~agree).astype(np.int32)
    bad2 = (bad.T @ bad) > 0
    k = agree.shape[1]
    for i in range(k):
        good_i = np.flatnonzero(~bad2[i, i + 1:]) + i + 1
        for a, j in enumerate(good_i):
            rest = good_i[a + 1:]
            hit = rest[~bad2[j, rest]]
            if hit.size:
                return [i, int(j), int(hit[0])]
    return None


def find_maj5(agree: np.ndarray, budget: int):
    """Five columns with at most two disagreeing per row (depth-first, fewest disagreements first)."""
    bad = ~agree
    order = np.argsort(bad.sum(axis=0), kind="stable")
    if bad.shape[1] < 5:
        return None
    count = np.zeros(bad.shape[0], dtype=np.int32)
    chosen = []
    spent = [0]

    def dfs(start):
        if len(chosen) == 5:
            return True
        for a in range(start, len(order)):
            spent[0] += 1
            if spent[0] > budget:
                return False
            j = order[a]
            new = count + bad[:, j]
            if new.max(initial=0) > 2:
                continue
            count[:] = new
            chosen.append(int(j))
            if dfs(a + 1):
                return True
            chosen.pop()
            count[:] -= bad[:, j]
        return False

    return list(chosen) if dfs(0) else None


_THRESHOLD_TABLES = {}


def threshold_table(k: int):
    """Every threshold function of k +-1 inputs, f(x) = sign(w . x + b) with integer |w_j| <= 3
    (enough for k <= 4) and b of the other parity (never a tie), each with its smallest sum |w|:
    (truth tables (F,) as ints, bit i = f at the pattern whose bit j is x_j > 0; weights (F, k); b (F,))."""
    if k in _THRESHOLD_TABLES:
        return _THRESHOLD_TABLES[k]
    patterns = np.where((np.arange(1 << k)[:, None] >> np.arange(k)) & 1, 1, -1)
    best = {}
    for w in itertools.product(range(-3, 4), repeat=k):
        if 0 in w:
            continue   # a zero weight is a gate of smaller support
        w = np.array(w)
        span = int(np.abs(w).sum())
        for b in range(-span - 1, span + 2):
            if (b + span) % 2 == 0:
                continue
            out = patterns @ w + b > 0
            table = out.reshape((2,) * k)
            if any(np.array_equal(np.take(table, 0, axis=a), np.take(table, 1, axis=a)) for a in range(k)):
                continue   # does not depend on every input: a gate of smaller support
            tt = int(np.sum(out.astype(np.int64) << np.arange(1 << k)))
            key = (span, abs(b))
            if tt not in best or key < best[tt][0]:
                best[tt] = (key, w.copy(), b)
    tts = np.array(sorted(best), dtype=np.int64)
    weights = np.array([best[t][1] for t in tts])
    biases = np.array([best[t][2] for t in tts])
    prices = np.array([gate_price(w, b) for w, b in zip(weights, biases)])
    order = np.lexsort((np.abs(biases), np.abs(weights).sum(axis=1), prices))   # cheapest first
    _THRESHOLD_TABLES[k] = (tts[order], weights[order], biases[order], prices[order])
    return _THRESHOLD_TABLES[k]


def gate_price(w, b) -> int:
    """2-input gates (NOT free) of sign(w . x + b) by btflearn's own decomposition of the gate."""
    from .circuits.decompose import gate_cost2
    from .circuits.ir import CONST0, CONST1, Gate as IrGate, lit
    fanins = [lit(1 + j, bool(x < 0)) for j, x in enumerate(w)]
    weights = [int(abs(x)) for x in w]
    if b:
        fanins.append(CONST1 if b > 0 else CONST0)
        weights.append(int(abs(b)))
    return gate_cost2(IrGate("thr", tuple(fanins), tuple(weights)))


def find_threshold(values: np.ndarray, target: np.ndarray, k: int, chunk: int = 4096):
    """Columns (k of them) and (w, b) of the simplest threshold gate sign(w . x + b) over them that
    equals ``target`` on every row of ``values`` (P, K) +-1, or None. Rows are the care items."""
    K = values.shape[1]
    if K < k:
        return None
    tts, weights, biases, prices = threshold_table(k)
    bits = (values > 0).astype(np.int64)
    t = target.astype(bool)
    combos = np.array(list(itertools.combinations(range(K), k)), dtype=np.int64)
    for start in range(0, len(combos), chunk):
        cs = combos[start:start + chunk]                               # (C, k)
        idx = np.zeros((cs.shape[0], bits.shape[0]), dtype=np.int64)  # pattern index per (combo, item)
        for j in range(k):
            idx |= bits[:, cs[:, j]].T << j
        one = np.left_shift(1, idx)
        on = np.bitwise_or.reduce(np.where(t[None, :], one, 0), axis=1)
        off = np.bitwise_or.reduce(np.where(t[None, :], 0, one), axis=1)
        ok = (on & off) == 0
        if not ok.any():
            continue
        rows = np.flatnonzero(ok)
        fits = ((tts[None, :] & on[rows, None]) == on[rows, None]) & ((tts[None, :] & off[rows, None]) == 0)
        hit = np.flatnonzero(fits.any(axis=1))
        if hit.size:
            # the simplest function (the table is sorted by weight size) over all fitting combos
            first = np.argmax(fits[hit], axis=1)
            r = int(np.argmin(first))
            f = int(first[r])
            return [int(c) for c in cs[rows[hit[r]]]], weights[f], int(biases[f]), int(prices[f])
    return None
