"""Per-draw permutations of component axes, shared by relabelling and the summaries."""

from __future__ import annotations

import numpy as np


def permute_last_axis(values: np.ndarray, perms: np.ndarray) -> np.ndarray:
    """values (n_draws, ..., K), perms (n_draws, K) -> values[s, ..., perms[s, k]]."""
    shape = (perms.shape[0],) + (1,) * (values.ndim - 2) + (perms.shape[1],)
    return np.take_along_axis(values, perms.reshape(shape), axis=-1)


def permute_axis(values: np.ndarray, perms: np.ndarray, axis: int) -> np.ndarray:
    """values (n_draws, ...) permuted along ``axis`` (>= 1) by each draw's permutation."""
    moved = np.moveaxis(values, axis, -1)
    return np.moveaxis(permute_last_axis(moved, perms), -1, axis)
