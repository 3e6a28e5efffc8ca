"""ECR relabelling (Papastamoulis & Iliopoulos 2010): equivalence classes representatives
with respect to a pivot allocation, one Hungarian assignment per draw."""

from __future__ import annotations

import numpy as np

from bayesmixture.relabelling._assign import best_permutations


def ecr_permutations(resp: np.ndarray, pivot: np.ndarray) -> np.ndarray:
    """resp (n_draws, n_obs, K), pivot allocation (n_obs,) -> perms (n_draws, K).

    Each draw's allocation is its most probable component per observation; the permutation
    maximises the number of observations whose relabelled allocation equals the pivot's.
    """
    n_components = resp.shape[-1]
    pivot_onehot = np.eye(n_components)[pivot]  # (obs, K)
    allocation_onehot = np.eye(n_components)[resp.argmax(axis=-1)]  # (draws, obs, K)
    agreement = np.einsum("ik,sil->skl", pivot_onehot, allocation_onehot, optimize=True)
    return best_permutations(agreement, maximize=True)
