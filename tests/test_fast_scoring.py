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


def test_summaries_take_the_fused_pass_only_for_large_inputs(rng, monkeypatch):
    # summarise and predictive_log_density switch to the fused pass at FUSED_MIN_ROW_DRAWS;
    # both paths must give the same numbers (rounding only: sums in another order).
    from bayesmixture.evaluation import _summary

    K, D, S, n_rows = 2, 2, 5, 40
    weights = rng.dirichlet(np.ones(K), size=S)
    means = rng.normal(scale=2.0, size=(S, K, D))
    covariances = np.broadcast_to(np.eye(D), (S, K, D, D)).copy()
    posterior = _posterior({"weights": weights, "means": means, "covariances": covariances})
    evaluator = GaussianEvaluator(SimpleNamespace(n_components=K), np.zeros(D), np.ones(D))
    x = rng.normal(scale=2.0, size=(n_rows, D))
    calls = []
    monkeypatch.setattr(
        GaussianEvaluator, "totals", _recording(GaussianEvaluator.totals, calls), raising=True
    )

    def run():
        membership = _summary.summarise(
            evaluator, posterior, x, None, obs_coords=np.arange(n_rows), component_coords=[0, 1]
        )
        return membership["probability_sd"].values, _summary.predictive_log_density(
            evaluator, posterior, x
        )

    chunked = run()
    assert calls == []  # 40 rows x 5 draws is far below the threshold
    monkeypatch.setattr(_summary, "FUSED_MIN_ROW_DRAWS", 0)
    fused = run()
    assert len(calls) == 2
    for a, b in zip(chunked, fused, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def _posterior(draws: dict):
    import xarray as xr

    dims = {
        "weights": ("component",),
        "means": ("component", "feature"),
        "covariances": ("component", "feature", "feature2"),
    }
    return xr.Dataset(
        {name: (("chain", "draw", *dims[name]), value[None]) for name, value in draws.items()},
        coords={"chain": [0], "draw": np.arange(len(draws["weights"])), "component": [0, 1]},
    )


def _recording(method, calls):
    def recorded(self, *args, **kwargs):
        calls.append(method.__name__)
        return method(self, *args, **kwargs)

    return recorded
