"""Hungarian assignment shared by the relabelling methods."""

from __future__ import annotations

import numpy as np
from scipy.optimize import linear_sum_assignment


def best_permutations(cost: np.ndarray, *, maximize: bool) -> np.ndarray:
    """cost (n_draws, K new, K old) -> perms (n_draws, K): new label k takes old perms[s, k]."""
    perms = np.empty(cost.shape[:2], dtype=np.intp)
    for s, matrix in enumerate(cost):
        rows, cols = linear_sum_assignment(matrix, maximize=maximize)
        perms[s, rows] = cols
    return perms
