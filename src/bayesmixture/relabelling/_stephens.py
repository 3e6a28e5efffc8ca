"""Stephens (2000) relabelling: minimise the Kullback-Leibler divergence of every draw's
responsibilities to their permuted average, alternating with the Hungarian algorithm."""

from __future__ import annotations

import numpy as np

from bayesmixture.evaluation import permute_last_axis
from bayesmixture.relabelling._assign import best_permutations

_FLOOR = 1e-300


def stephens_permutations(
    resp: np.ndarray, *, initial: np.ndarray | None = None, max_iter: int = 100
) -> np.ndarray:
    """resp (n_draws, n_obs, n_components) -> permutations (n_draws, n_components).

    New label k of draw s takes old label ``perms[s, k]``. ``initial`` is the starting
    reference Q (n_obs, n_components), by default the average of the unpermuted draws.
    Iterates Q = mean of permuted draws; each draw's permutation minimises
    sum_ik Q_ik log(Q_ik / P_s[i, perm(k)]) until no permutation changes.
    """
    log_resp = np.log(np.maximum(resp, _FLOOR))
    reference = resp.mean(axis=0) if initial is None else initial
    perms = None
    for _ in range(max_iter):
        # cost[s, k, l] = -sum_i Q_ik log P_s[i, l]  (the Q log Q term does not depend on s)
        cost = -np.einsum("ik,sil->skl", reference, log_resp, optimize=True)
        new_perms = best_permutations(cost, maximize=False)
        if perms is not None and np.array_equal(new_perms, perms):
            break
        perms = new_perms
        reference = permute_last_axis(resp, perms).mean(axis=0)
    return perms
