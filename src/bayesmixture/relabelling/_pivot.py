"""Pivot relabelling on parameters: match each draw's components to a reference draw's."""

from __future__ import annotations

import numpy as np

from bayesmixture.relabelling._assign import best_permutations


def pivot_permutations(params: np.ndarray, reference: int) -> np.ndarray:
    """params (n_draws, K, n_params) -> perms (n_draws, K).

    Parameters are standardised by their spread over draws and components, then each draw's
    components are assigned to the reference draw's by least squared distance.
    """
    scale = params.reshape(-1, params.shape[-1]).std(axis=0)
    standardised = params / np.where(scale > 0, scale, 1.0)
    target = standardised[reference]  # (K, n_params)
    diff = target[None, :, None, :] - standardised[:, None, :, :]  # (draws, K new, K old, p)
    return best_permutations((diff**2).sum(axis=-1), maximize=False)
