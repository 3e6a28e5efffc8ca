"""MixtureRegression: the forum thread's operator problem, ordinary mixtures of regressions,
mixtures of experts."""

from __future__ import annotations

import re

import arviz as az
import numpy as np
import pandas as pd
import pytest

import bayesmixture as bm

QUICK = {"draws": 300, "tune": 300, "chains": 2, "progressbar": False}


@pytest.fixture(scope="module")
def operator_fit():
    data = bm.datasets.make_operator_mixture(random_seed=2)
    fit = bm.MixtureRegression(
        2,
        coefficients="shared",
        fit_intercept=False,
        sigma=data.noise,
        standardize=False,
        random_seed=1,
        **QUICK,
    ).fit([data.H1, data.H2], data.y)
    return fit, data


def test_operator_problem_puts_the_weight_on_h2(operator_fit):
    fit, _ = operator_fit
    assert fit.idata_.posterior["weights"].sel(component=1).mean().item() > 0.9


def test_operator_problem_recovers_x(operator_fit):
    fit, data = operator_fit
    x = fit.idata_.posterior["coefficients"].sel(component=1).mean(("chain", "draw")).values
    # the least-squares solution with the noisy H2 is about (0.99, 2.02, 3.01): 0.05 covers
    # it, and would fail for H1's offset of 0.1
    np.testing.assert_allclose(x, data.x, atol=0.05)


def test_operator_membership_needs_y_and_uses_new_designs(operator_fit):
    fit, _ = operator_fit
    new = bm.datasets.make_operator_mixture(random_seed=5, n_obs=20)
    labels = fit.predict([new.H1, new.H2], new.y)
    assert (labels == 1).mean() >= 0.95  # new data also come from H2
    with pytest.raises(ValueError, match=r"scores rows \(X, y\).*predict\(X, y\)"):
        fit.predict_proba([new.H1, new.H2], None)


def _two_lines(seed):
    rng = np.random.default_rng(seed)
    n = 300
    x = rng.uniform(-2, 2, n)
    z = rng.random(n) < 0.4
    y = np.where(z, 1.0 + 2.0 * x, -1.0 - 1.0 * x) + rng.normal(0, 0.3, n)
    fit = bm.MixtureRegression(2, random_seed=seed, **QUICK).fit(pd.DataFrame({"x": x}), y)
    post = fit.idata_.posterior
    order = np.argsort(post["coefficients"].mean(("chain", "draw")).values[:, 0])
    return fit, post, order, x, y, z


def test_two_regression_lines_match_least_squares_on_the_true_allocation():
    """Reference: OLS fitted to each line's own rows, which an oracle knowing z would do."""
    fit, post, order, x, y, z = _two_lines(0)
    for k, rows in enumerate((~z, z)):  # sorted by slope: the -1 line first
        design = np.column_stack([np.ones(rows.sum()), x[rows]])
        (intercept, slope), *_ = np.linalg.lstsq(design, y[rows], rcond=None)
        for name, oracle in (("intercepts", intercept), ("coefficients", slope)):
            draws = post[name].values.reshape(-1, 2, *post[name].shape[3:])[:, order[k]]
            # memberships are near-certain, so the posterior centres on the oracle fit;
            # 3 posterior sd allows for the prior and Monte Carlo error
            assert abs(draws.mean() - oracle) < 3 * draws.std()
    labels = fit.membership_["label"].values
    assert max((labels == z).mean(), (labels != z).mean()) >= 0.95


@pytest.mark.slow
def test_two_regression_lines_hdi_coverage_across_seeds():
    truth = {
        "coefficients": np.array([[-1.0], [2.0]]),
        "intercepts": np.array([-1.0, 1.0]),
        "sigmas": np.array([0.3, 0.3]),
        "weights": np.array([0.6, 0.4]),
    }
    inside = []
    for seed in (1, 2, 3):
        _, post, order, *_ = _two_lines(seed)
        for name, value in truth.items():
            hdi = az.hdi(post[name], hdi_prob=0.94)[name].values[order]
            inside.extend(np.ravel((hdi[..., 0] <= value) & (value <= hdi[..., 1])).tolist())
    # 24 parameter-seed pairs at nominal 94% coverage: at least 90% inside
    assert np.mean(inside) >= 0.9, inside


def test_mixture_of_experts_follows_the_gate():
    rng = np.random.default_rng(6)
    n = 300
    x = rng.uniform(-3, 3, n)
    z = rng.random(n) < 1 / (1 + np.exp(-3 * x))
    y = np.where(z, 2.0 + x, -2.0 - x) + rng.normal(0, 0.3, n)
    fit = bm.MixtureRegression(2, weights_from=["x"], random_seed=6, **QUICK).fit(
        pd.DataFrame({"x": x}), y
    )
    labels = fit.membership_["label"].values
    accuracy = max((labels == z).mean(), (labels != z).mean())
    assert accuracy >= 0.95
    gate = fit.idata_.posterior["gate_coefficients"].sel(gate_feature="x").mean(("chain", "draw"))
    upper = int(np.argmax(fit.idata_.posterior["intercepts"].mean(("chain", "draw")).values))
    # the component of the upper line (intercept 2) is favoured for large x
    assert gate.values[upper] > gate.values[1 - upper]


def test_bad_designs_are_refused():
    with pytest.raises(ValueError, match="X is a list of 3 designs but n_components=2"):
        bm.MixtureRegression(2).fit([np.zeros((4, 2))] * 3, np.zeros(4))
    with pytest.raises(ValueError, match="y must hold one value per row of X"):
        bm.MixtureRegression(2).fit(np.zeros((4, 2)), np.zeros(3))
    with pytest.raises(ValueError, match="weights_from has 'z'"):
        bm.MixtureRegression(2, weights_from=["z"]).fit(
            pd.DataFrame({"x": np.arange(4.0)}), np.zeros(4)
        )


@pytest.mark.parametrize("family", ["normal", "poisson"])
def test_a_constant_column_beside_the_intercept_is_refused(family):
    X = pd.DataFrame({"dose": np.arange(10.0), "batch": np.ones(10)})
    y = np.arange(10.0)
    with pytest.raises(ValueError, match=re.escape("X has constant columns ['batch']")):
        bm.MixtureRegression(2, family=family).fit(X, y)
    # without an intercept the constant column is the intercept: taken
    reg = bm.MixtureRegression(2, family=family, fit_intercept=False)
    assert reg._validate_fit_data(X, y).names == ["dose", "batch"]


@pytest.mark.parametrize(
    ("prior", "message"),
    [
        (-1.0, "weights_prior=-1.0 must be positive."),
        ([1.0, 2.0, 3.0], "weights_prior=[1.0, 2.0, 3.0] must be a positive number, 2 positive"),
        ("flat", "weights_prior='flat' must be a positive number"),
    ],
)
def test_bad_weights_prior_is_refused_before_fitting(prior, message):
    # the same check and message as GaussianMixture and Mixture (estimators/_weights.py)
    X = np.c_[np.ones(10), np.arange(10.0)]
    with pytest.raises(ValueError, match=re.escape(message)):
        bm.MixtureRegression(2, weights_prior=prior).fit(X, np.arange(10.0))


def test_noise_is_now_sigma_and_the_old_spelling_warns():
    X = np.c_[np.arange(10.0)]
    old = bm.MixtureRegression(2, noise="shared", noise_prior_sd=2.0)
    with pytest.warns(FutureWarning, match=re.escape("noise= is now called sigma=")):
        old._check_params()
    assert (old._sigma, old._sigma_prior_sd) == ("shared", 2.0)
    with pytest.raises(ValueError, match=re.escape("sigma='flat'; choose one of")):
        bm.MixtureRegression(2, sigma="flat").fit(X, np.arange(10.0))
