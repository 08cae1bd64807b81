"""The sparsest threshold gate that separates labelled +-1 patterns, by linear programming.

Given patterns V (P x K, entries +-1, column 0 may be the constant -1 of the bias) and labels t (+-1),
a gate sign(V w) reproduces every label exactly when t_p (V w)_p > 0 for all p. Among all such w the
one with the fewest nonzero weights is NP-hard to find; its convex relaxation is

    minimise sum_j c_j |w_j|   subject to   t_p (V w)_p >= 1 for every p,

a linear program (w = u - v, u, v >= 0). Re-solving it with c_j = 1 / (|w_j| + eps) (iteratively
reweighted L1) drives small weights to zero and usually reaches a sparser separator than plain L1.
The LP's vertex solutions are small rationals, so the weights are then rounded at the smallest scale
(1, 2, 4, ... per unit margin) that still separates, and the bias weight gets +1/2: every weighted sum is
then a half-integer, never 0, so the gate's value is defined on every pattern, seen or not.
"""
from __future__ import annotations

import numpy as np

from .errors import BtfError

REWEIGHTS = 3        # LP solves: plain L1, then reweighted twice
EPS = 1e-3           # reweighting floor: c_j = 1 / (|w_j| + EPS)
SCALES = (1, 2, 4, 8, 16, 32)


def sparse_separator(values: np.ndarray, target: np.ndarray, bias: int = 0,
                     reweights: int = REWEIGHTS) -> np.ndarray | None:
    """Weights w (K,) with sign(values @ w) == target on every row and few nonzero entries, or None
    when no threshold gate over these columns separates the rows (or the LP solver fails).

    ``values`` (P, K) +-1, ``target`` (P,) +-1. ``bias``: the column holding the constant -1 (its
    weight gets the +1/2 that keeps every sum off 0).
    """
    from scipy.optimize import linprog

    values = np.asarray(values, dtype=np.float64)
    target = np.asarray(target, dtype=np.float64)
    P, K = values.shape
    if target.shape != (P,):
        raise BtfError(f"target must have shape ({P},), got {target.shape}")
    if P == 0:
        return np.zeros(K)
    a = -(target[:, None] * values)
    a_ub = np.hstack([a, -a])
    b_ub = -np.ones(P)
    cost = np.ones(K)
    for _ in range(max(1, reweights)):
        res = linprog(np.concatenate([cost, cost]), A_ub=a_ub, b_ub=b_ub, bounds=(0, None), method="highs")
        if res.status != 0:
            return None
        w = res.x[:K] - res.x[K:]
        cost = 1.0 / (np.abs(w) + EPS)
    for q in SCALES:
        rounded = np.rint(w * q)
        rounded[bias] += 0.5   # the bias column is -1: a sum of 0 becomes -1/2
        if np.all(target * (values @ rounded) > 0):
            return rounded
    return None
