"""StudentTMixture: t densities against scipy, robustness to outliers, its own attributes."""

from __future__ import annotations

import re
import warnings
from types import SimpleNamespace

import numpy as np
import pymc as pm
import pytest
from scipy import stats
from scipy.special import logsumexp

import bayesmixture as bm
from bayesmixture.estimators._gaussian_scorer import GaussianEvaluator

QUICK = {"draws": 300, "tune": 300, "chains": 2, "progressbar": False}
MEANS = np.array([[-3.0, 0.0], [3.0, 0.0]])


def _fit(estimator, X):
    with warnings.catch_warnings():  # 2 x 300 draws: the ESS check may warn
        warnings.simplefilter("ignore", bm.exceptions.ConvergenceWarning)
        return estimator.fit(X)


def test_component_log_density_equals_scipy_multivariate_t(rng):
    K, D, S = 2, 3, 4
    weights = rng.dirichlet(np.ones(K), size=S)
    means = rng.normal(scale=2.0, size=(S, K, D))
    factors = rng.normal(size=(S, K, D, D)) * 0.3 + np.eye(D)
    scales = factors @ np.swapaxes(factors, -1, -2)
    df = rng.uniform(1.5, 30.0, size=(S, K))
    center, scale = np.array([0.5, -1.0, 2.0]), np.array([2.0, 0.5, 1.5])
    x = rng.normal(scale=3.0, size=(20, D))  # data units
    evaluator = GaussianEvaluator(SimpleNamespace(n_components=K), center, scale, student=True)
    draws = {"weights": weights, "means": means, "scales": scales, "df": df}
    joint = evaluator._log_joint((x - center) / scale, draws, np.arange(S))
    # scipy's t density of the standardised rows (log det of the scale moves with the units)
    expected = np.stack(
        [
            [
                np.log(weights[s, k])
                + stats.multivariate_t.logpdf(
                    (x - center) / scale,
                    (means[s, k] - center) / scale,
                    scales[s, k] / np.outer(scale, scale),
                    df=df[s, k],
                )
                for k in range(K)
            ]
            for s in range(S)
        ]
    ).transpose(2, 0, 1)  # (row, draw, component)
    # float64 on both sides; the quadratic form is expanded in phi(x) here and solved in
    # scipy, so rounding differs by a few ulps of |x|^2 ~ 10-100
    np.testing.assert_allclose(joint, expected, rtol=1e-10, atol=1e-10)


def test_pymc_mvstudentt_is_scipys_density(rng):
    # the reference the kernel is tested against (test_fast_density) is scipy's t too
    x = rng.normal(size=(5, 3))
    mu, df = rng.normal(size=3), np.float64(4.5)  # float64: a Python float enters as float32
    chol = np.tril(rng.normal(size=(3, 3)) * 0.3) + np.eye(3)
    ours = pm.logp(pm.MvStudentT.dist(nu=df, mu=mu, chol=chol), x).eval()
    np.testing.assert_allclose(
        ours, stats.multivariate_t.logpdf(x, mu, chol @ chol.T, df=df), rtol=1e-10
    )


@pytest.fixture(scope="module")
def with_outliers():
    """Two clusters and 5% gross outliers far from both (a uniform ring at radius 12-20)."""
    rng = np.random.default_rng(11)
    clusters = np.concatenate([rng.normal(m, 1.0, size=(95, 2)) for m in MEANS])
    angle = rng.uniform(0, 2 * np.pi, 10)
    radius = rng.uniform(12.0, 20.0, 10)
    outliers = np.c_[radius * np.cos(angle), radius * np.sin(angle)]
    X = np.concatenate([clusters, outliers])
    t_fit = _fit(bm.StudentTMixture(2, random_seed=2, **QUICK), X)
    gauss_fit = _fit(bm.GaussianMixture(2, random_seed=2, **QUICK), X)
    return X, t_fit, gauss_fit


def _mean_error(fit) -> float:
    means = fit.means_[np.argsort(fit.means_[:, 0])]
    return float(np.abs(means - MEANS).max())


def test_t_components_recover_the_means_better_than_gaussians_with_outliers(with_outliers):
    _, t_fit, gauss_fit = with_outliers
    # The outliers pull the Gaussian means and inflate their covariances; the t discounts
    # them. The t's error is within ~3 posterior sds of the cluster means (sd ~ 0.1 each,
    # 95 rows of unit variance); the Gaussian's is larger on this seed by construction.
    assert _mean_error(t_fit) < 0.35
    assert _mean_error(t_fit) < _mean_error(gauss_fit)
    assert t_fit.df_.min() < 10  # heavier tails than the Gaussian where the outliers are


def test_covariances_are_df_over_df_minus_2_times_the_scales(with_outliers):
    _, t_fit, _ = with_outliers
    post = t_fit.idata_.posterior
    df, scales = post["df"].values, post["scales"].values
    expected = np.full(t_fit.scales_.shape, np.inf)
    for k in range(2):
        if (df[..., k] > 2).all():  # else the variance does not exist: inf
            expected[k] = (
                df[..., k, None, None] / (df[..., k, None, None] - 2) * scales[..., k, :, :]
            ).mean(axis=(0, 1))
    np.testing.assert_allclose(t_fit.covariances_, expected)
    np.testing.assert_allclose(t_fit.scales_, scales.mean(axis=(0, 1)))
    assert "df[0]" in t_fit.summary().index


def test_training_membership_is_the_draws_average_of_bayes_rule(with_outliers):
    X, t_fit, _ = with_outliers
    post = t_fit.idata_.posterior.stack(sample=("chain", "draw"))
    w = post["weights"].transpose("sample", ...).values[::20]
    mu = post["means"].transpose("sample", ...).values[::20]
    sc = post["scales"].transpose("sample", ...).values[::20]
    df = post["df"].transpose("sample", ...).values[::20]
    rows = X[::15]
    log_joint = np.stack(
        [
            [
                np.log(w[s, k]) + stats.multivariate_t.logpdf(rows, mu[s, k], sc[s, k], df=df[s, k])
                for k in range(2)
            ]
            for s in range(len(w))
        ]
    )  # (draw, component, row)
    expected = np.exp(log_joint - logsumexp(log_joint, axis=1, keepdims=True)).mean(axis=0).T
    subset = t_fit.idata_.isel(draw=slice(None, None, 20))
    thinned = bm.StudentTMixture(2)
    thinned.__dict__.update(t_fit.__dict__)
    thinned.idata_ = subset
    np.testing.assert_allclose(thinned.predict_proba(rows), expected, rtol=1e-8, atol=1e-12)


@pytest.mark.parametrize("prior", [(2.0,), (0.0, 1.0), "wide", (1.0, -0.1)])
def test_bad_df_prior_is_refused_by_name(prior):
    with pytest.raises(ValueError, match=re.escape(f"df_prior={prior!r} must be two positive")):
        bm.StudentTMixture(2, df_prior=prior).fit(np.random.default_rng(0).normal(size=(20, 2)))
