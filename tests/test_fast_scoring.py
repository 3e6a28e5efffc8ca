"""The fused membership kernel equals Bayes' rule computed with scipy, draw by draw."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
from scipy import stats
from scipy.special import logsumexp

from bayesmixture.estimators._gaussian_scorer import GaussianEvaluator


@pytest.mark.parametrize("n_rows", [1, 70, 2500])  # one tile, a ragged tile, two threads
def test_fused_totals_equal_scipy(rng, n_rows):
    K, D, S = 3, 2, 7
    weights = rng.dirichlet(np.ones(K), size=S)
    means = rng.normal(scale=3.0, size=(S, K, D))
    factors = rng.normal(size=(S, K, D, D)) * 0.4 + np.eye(D)
    covariances = factors @ np.swapaxes(factors, -1, -2)
    center, scale = np.array([1.0, -2.0]), np.array([2.0, 0.5])
    x = rng.normal(scale=3.0, size=(n_rows, D))  # data units
    evaluator = GaussianEvaluator(SimpleNamespace(n_components=K), center, scale)
    draws = {"weights": weights, "means": means, "covariances": covariances}
    total, total_sq, log_density = evaluator.totals(draws, (x - center) / scale)
    # reference: scipy densities on the standardised scale, one draw at a time
    log_joint = (
        np.stack(
            [
                [
                    np.log(weights[s, k])
                    + np.atleast_1d(
                        stats.multivariate_normal.logpdf(
                            (x - center) / scale,
                            (means[s, k] - center) / scale,
                            covariances[s, k] / np.outer(scale, scale),
                        )
                    )
                    for k in range(K)
                ]
                for s in range(S)
            ]
        )
        .transpose(0, 2, 1)
        .reshape(S, n_rows, K)
    )
    resp = np.exp(log_joint - logsumexp(log_joint, axis=-1, keepdims=True))
    # the same formulas in float64: rounding only (sums of S terms in another order)
    np.testing.assert_allclose(total, resp.sum(axis=0), rtol=1e-11, atol=1e-13)
    np.testing.assert_allclose(total_sq, (resp**2).sum(axis=0), rtol=1e-11, atol=1e-13)
    expected = logsumexp(logsumexp(log_joint, axis=-1), axis=0)
    np.testing.assert_allclose(log_density, expected, rtol=1e-11)
