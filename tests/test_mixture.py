"""Mixture (one-dimensional families): recovery of known parameters, families, support checks."""

from __future__ import annotations

import re

import arviz as az
import numpy as np
import pytest

import bayesmixture as bm
from bayesmixture.exceptions import DataWarning

QUICK = {"draws": 300, "tune": 300, "chains": 2, "progressbar": False}


def _inside_hdi(posterior, name, truth) -> np.ndarray:
    """Per component (sorted by the posterior mean of ``name``): truth within the 94% HDI."""
    hdi = az.hdi(posterior[name], hdi_prob=0.94)[name].values
    order = np.argsort(posterior[name].mean(("chain", "draw")).values)
    return (hdi[order, 0] <= np.sort(truth)) & (np.sort(truth) <= hdi[order, 1])


@pytest.mark.parametrize("seed", [0, pytest.param(1, marks=pytest.mark.slow)])
def test_poisson_mixture_recovers_two_rates(seed):
    rng = np.random.default_rng(seed)
    y = np.r_[rng.poisson(3.0, 200), rng.poisson(12.0, 100)]
    fit = bm.Mixture("poisson", 2, random_seed=seed, **QUICK).fit(y)
    post = fit.idata_.posterior
    assert _inside_hdi(post, "mu", np.array([3.0, 12.0])).all()
    weights = (
        post["weights"]
        .mean(("chain", "draw"))
        .values[np.argsort(post["mu"].mean(("chain", "draw")).values)]
    )
    # 300 rows: the weight's posterior sd is ~0.03, so 0.1 is over three sd
    np.testing.assert_allclose(weights, [2 / 3, 1 / 3], atol=0.1)


def test_normal_mixture_recovers_means_and_sds():
    rng = np.random.default_rng(2)
    y = np.r_[rng.normal(-2.0, 0.5, 150), rng.normal(3.0, 1.0, 150)]
    fit = bm.Mixture("normal", 2, random_seed=2, **QUICK).fit(y)
    post = fit.idata_.posterior
    assert _inside_hdi(post, "mu", np.array([-2.0, 3.0])).all()
    sigma = (
        post["sigma"]
        .mean(("chain", "draw"))
        .values[np.argsort(post["mu"].mean(("chain", "draw")).values)]
    )
    # 150 rows each: the sd's posterior sd is ~6%; 20% is a wide margin
    np.testing.assert_allclose(sigma, [0.5, 1.0], rtol=0.2)
    assert fit.summary().index[0] == "weights[0]"


def test_list_of_families_gives_each_component_its_own():
    rng = np.random.default_rng(3)
    y = np.r_[rng.normal(-5.0, 1.0, 150), rng.gamma(4.0, 2.0, 150)]
    fit = bm.Mixture(["normal", "gamma"], 2, random_seed=3, **QUICK).fit(y)
    post = fit.idata_.posterior
    np.testing.assert_allclose(post["c0_mu"].mean().item(), -5.0, atol=0.3)
    np.testing.assert_allclose(post["c1_mean"].mean().item(), 8.0, rtol=0.1)
    # different families tell the components apart: no relabelling is applied
    assert (fit.permutations_.values == np.arange(2)).all()
    labels = fit.membership_["label"].values
    assert (labels[:150] == 0).mean() > 0.95 and (labels[150:] == 1).mean() > 0.95


def test_binomial_mixture_with_trials_per_row():
    rng = np.random.default_rng(4)
    trials = rng.integers(10, 30, 300)
    p = np.where(np.arange(300) < 150, 0.2, 0.7)
    y = rng.binomial(trials, p)
    fit = bm.Mixture("binomial", 2, trials=trials, random_seed=4, **QUICK).fit(y)
    post = fit.idata_.posterior["p"]
    order = np.argsort(post.mean(("chain", "draw")).values)
    mean = post.mean(("chain", "draw")).values[order]
    sd = post.std(("chain", "draw")).values[order]
    # within four posterior sd of the generating probabilities (this sample's own rates
    # differ from them by up to ~2.5 sd)
    assert np.all(np.abs(mean - [0.2, 0.7]) < 4 * sd)
    proba = fit.predict_proba(y[:5], trials=trials[:5])
    np.testing.assert_allclose(proba, fit.membership_["probability"].values[:5], atol=1e-12)
    with pytest.raises(ValueError, match="pass trials= too"):
        fit.predict_proba(y[:5])


@pytest.mark.parametrize(
    ("family", "y", "message"),
    [
        ("poisson", [0.0, 1.5, 3.0], "y has non-integer values in row 1"),
        ("negbinomial", [0, -1, 3], "y has negative values in row 1"),
        ("gamma", [1.0, 0.0, 2.0], "y has values <= 0 in row 1"),
        ("lognormal", [1.0, -2.0, 2.0], "y has values <= 0 in row 1"),
        ("beta", [0.2, 1.0, 0.5], "y has values outside (0, 1) in row 1"),
        ("normal", [0.2, np.nan, 0.5], "y has missing (NaN) values in row 1"),
        ("normal", ["a", "b", "c"], "y has dtype"),
    ],
)
def test_data_outside_the_family_support_is_refused(family, y, message):
    error = TypeError if message == "y has dtype" else ValueError
    with pytest.raises(error, match=re.escape(message)):
        bm.Mixture(family, 2).fit(np.asarray(y))


def test_integer_data_for_a_continuous_family_warns():
    y = np.array([1, 2, 3, 10, 11, 12])
    with pytest.warns(DataWarning, match="integer dtype"):
        bm.Mixture("normal", 2, draws=20, tune=20, chains=1, progressbar=False).fit(y)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"family": "cauchy"}, "family ['cauchy'] is not known"),
        ({"family": "binomial"}, "family 'binomial' needs trials="),
        ({"family": ["normal", "gamma"], "n_components": 3}, "family lists 2 families"),
        ({"n_components": 4}, "n_components=4 is larger than the number of values of y (3)"),
    ],
)
def test_bad_settings_are_refused(params, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        bm.Mixture(**{"family": "normal", "n_components": 2, **params}).fit(
            np.array([1.0, 2.0, 3.0])
        )


def test_two_column_table_is_refused():
    import pandas as pd

    with pytest.raises(ValueError, match="y has 2 columns"):
        bm.Mixture("normal", 2).fit(pd.DataFrame({"a": [1.0, 2.0], "b": [3.0, 4.0]}))
