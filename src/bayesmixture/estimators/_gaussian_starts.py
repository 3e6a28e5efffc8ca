"""Where GaussianMixture's chains start: an EM (or k-means, random, labelled) solution on the
model's scale, turned into starting values of the model's variables and jittered per chain."""

from __future__ import annotations

from functools import partial

import numpy as np

from bayesmixture._cholesky import n_pairs
from bayesmixture.estimators._covariance import check_covariance_type
from bayesmixture.estimators._starts import (
    STARTS,
    GaussianStart,
    labelled_start,
    trimmed_em_start,
)
from bayesmixture.estimators._state import GaussianFitState

# Starting noise weight with noise=True (jittered): EM's start has no noise component.
NOISE_START = 0.05
# Jitter of chain starts around the initial solution (model scale): small enough to stay in
# its mode, large enough that chains are not copies of each other.
START_JITTER = 0.02


def chain_starts(estimator, fit: GaussianFitState, rng: np.random.Generator) -> list[dict]:
    """One dict of starting values per chain: the estimator's start (EM by default; trimmed
    EM for fits meant to resist outliers; labelled rows' classes first), jittered."""
    # EM and k-means need complete rows: missing entries start at the column mean (0).
    start = STARTS[estimator.init]
    if fit.row_labels is not None:
        start = partial(labelled_start, codes=fit.row_labels)
    elif estimator.init == "em" and estimator._robust_start():
        start = trimmed_em_start
    start = start(
        np.nan_to_num(fit.value, nan=0.0),
        n_components=estimator.n_components,
        covariance_type=check_covariance_type(estimator.covariance_type),
        seed=int(rng.integers(2**31 - 1)),
    )
    n_groups = 0 if fit.group_names is None else len(fit.group_names)
    return [_jittered(estimator, start, rng, n_groups) for _ in range(estimator.chains)]


def _jittered(estimator, start: GaussianStart, rng, n_groups: int) -> dict:
    D = start.means.shape[1]
    jitter = lambda shape: START_JITTER * rng.standard_normal(shape)  # noqa: E731
    values = {"mu": start.means + jitter(start.means.shape)}
    weights = start.weights * np.exp(jitter(start.weights.shape))
    weights /= weights.sum()
    if n_groups:
        values["group_weights"] = np.tile(weights, (n_groups, 1))
    else:
        values["weights"] = weights
    kind = check_covariance_type(estimator.covariance_type)
    sd, cpc = kind.sd_and_cpc(start.covariances)
    values["sd"] = sd * np.exp(jitter(np.shape(sd)))
    if cpc is not None and n_pairs(D):
        z = np.tanh(np.arctanh(cpc) + jitter(cpc.shape))
        values["cpc"] = (z + 1.0) / 2.0
    if estimator.noise:  # a small noise weight: the EM start has none
        values["noise_weight"] = NOISE_START * np.exp(jitter(()))
    values.update(estimator._component_param_starts(jitter))
    return values
