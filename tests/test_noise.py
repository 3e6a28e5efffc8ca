"""noise=True: mclust's uniform background component, its own weight and a 'noise' column."""

from __future__ import annotations

import re
import warnings

import numpy as np
import pytest
from scipy import stats

import bayesmixture as bm

QUICK = {"draws": 300, "tune": 300, "chains": 2, "progressbar": False}
MEANS = np.array([[-3.0, -2.0], [3.0, 2.0]])


@pytest.fixture(scope="module")
def background():
    """Two clusters of 150 rows and 60 background rows uniform over [-12, 12]^2."""
    rng = np.random.default_rng(21)
    clusters = np.concatenate([rng.normal(m, 0.7, size=(150, 2)) for m in MEANS])
    noise = rng.uniform(-12.0, 12.0, size=(60, 2))
    X = np.concatenate([clusters, noise])
    truth = np.r_[np.repeat([0, 1], 150), np.full(60, -1)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", bm.exceptions.ConvergenceWarning)
        fit = bm.GaussianMixture(2, noise=True, random_seed=3, **QUICK).fit(X)
    return X, truth, fit


def test_background_rows_are_taken_by_the_noise_component(background):
    X, truth, fit = background
    labels = fit.predict(X)
    background_rows = truth == -1
    # Background points that land inside a cluster belong to it as much as to the noise:
    # with clusters of sd 0.7 over a 24 x 24 box, about 2% of the box is near a cluster.
    assert np.mean(labels[background_rows] == -1) > 0.8
    assert np.mean(labels[~background_rows] == -1) < 0.02


def test_cluster_parameters_stay_with_the_clusters(background):
    _, _, fit = background
    means = fit.means_[np.argsort(fit.means_[:, 0])]
    # 150 rows of sd 0.7 per cluster: posterior sd of a mean ~0.06; 0.25 is ~4 sds
    np.testing.assert_allclose(means, MEANS, atol=0.25)
    sds = np.sqrt(np.diagonal(fit.covariances_, axis1=1, axis2=2))
    np.testing.assert_allclose(sds, 0.7, atol=0.15)  # not inflated by the background
    # 60 of 360 rows are background; some fall inside the clusters
    assert 0.1 < fit.noise_weight_ < 0.25


def test_membership_has_a_noise_column_scored_by_its_constant_density(background):
    X, _, fit = background
    assert list(fit.membership_["component"].values) == [0, 1, "noise"]
    post = fit.idata_.posterior.stack(sample=("chain", "draw"))
    pi = post["noise_weight"].values
    w = post["weights"].transpose("sample", ...).values * (1 - pi[:, None])
    mu = post["means"].transpose("sample", ...).values
    cov = post["covariances"].transpose("sample", ...).values
    rows = X[::40]
    state = fit._fit_data
    # the box of the standardised rows, in data units: its volume is the noise density's
    widths = (state.noise_upper - state.noise_lower) * state.scale
    dens = np.stack(
        [
            np.c_[
                w[s, 0] * stats.multivariate_normal.pdf(rows, mu[s, 0], cov[s, 0]),
                w[s, 1] * stats.multivariate_normal.pdf(rows, mu[s, 1], cov[s, 1]),
                np.full(len(rows), pi[s] / np.prod(widths)),
            ]
            for s in range(0, len(pi), 25)
        ]
    )
    expected = (dens / dens.sum(axis=-1, keepdims=True)).mean(axis=0)
    thinned = bm.GaussianMixture(2)
    thinned.__dict__.update(fit.__dict__)
    thinned.idata_ = fit.idata_.isel(draw=slice(None, None, 25))
    np.testing.assert_allclose(thinned.predict_proba(rows), expected, rtol=1e-8, atol=1e-12)


def test_samples_include_background_rows(background):
    _, _, fit = background
    rows, labels = fit.sample(2000, random_seed=0)
    # the share of noise draws is the noise weight (binomial sd ~0.009 at 2,000 draws)
    assert abs(np.mean(labels == -1) - fit.noise_weight_) < 0.04
    lower = fit._fit_data.noise_lower * fit._fit_data.scale
    assert (rows[labels == -1] >= lower + fit._fit_data.center - 1e-9).all()


@pytest.mark.parametrize(
    ("params", "fit_params", "message"),
    [
        ({"missing": "marginalize"}, {}, "noise=True needs complete rows"),
        ({"weights_prior": "dirichlet_process"}, {}, "noise=True takes a Dirichlet"),
        ({}, {"groups": np.arange(30) % 2}, "noise=True gives one noise weight"),
        ({"noise": "yes"}, {}, "noise='yes' must be True or False"),
    ],
)
def test_noise_refuses_what_it_cannot_do(params, fit_params, message):
    X = np.random.default_rng(0).normal(size=(30, 2))
    with pytest.raises((ValueError, TypeError), match=re.escape(message)):
        bm.GaussianMixture(2, **{"noise": True, **params}).fit(X, **fit_params)


def test_constant_column_is_refused_without_standardising():
    X = np.c_[np.random.default_rng(0).normal(size=30), np.ones(30)]
    with pytest.raises(ValueError, match=re.escape("constant columns ['x1']; noise=True")):
        bm.GaussianMixture(2, noise=True, standardize=False).fit(X)
