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


def permute_last_axis(values: np.ndarray, perms: np.ndarray) -> np.ndarray:
    """values (n_draws, ..., K), perms (n_draws, K) -> values[s, ..., perms[s, k]]."""
    shape = (perms.shape[0],) + (1,) * (values.ndim - 2) + (perms.shape[1],)
    return np.take_along_axis(values, perms.reshape(shape), axis=-1)


def permute_axis(values: np.ndarray, perms: np.ndarray, axis: int) -> np.ndarray:
    """values (n_draws, ...) permuted along ``axis`` (>= 1) by each draw's permutation."""
    moved = np.moveaxis(values, axis, -1)
    return np.moveaxis(permute_last_axis(moved, perms), -1, axis)
