"""Choosing K: the LOO log-likelihood is the mixture density, compare/select/sparse behave."""

from __future__ import annotations

import arviz as az
import numpy as np
import pymc as pm
import pytest
from scipy import special, stats

import bayesmixture as bm
from bayesmixture.exceptions import PredictionWarning

QUICK = {"draws": 300, "tune": 300, "chains": 2, "progressbar": False}
MEANS = np.array([[-4.0, 0.0], [4.0, 0.0], [0.0, 5.0]])


def _normal_model(y):
    with pm.Model(coords={"component": [0, 1]}) as model:
        w = pm.Dirichlet("w", np.ones(2), dims="component")
        mu = pm.Normal("mu", 0, 5, dims="component")
        bm.mixture("y", w, pm.Normal.dist(mu, 1.0), y)
    return model


def test_log_likelihood_is_the_mixture_density_of_each_observation():
    rng = np.random.default_rng(0)
    y = rng.normal(size=20)
    model = _normal_model(y)
    w = rng.dirichlet([1, 1], size=(2, 15))
    mu = rng.normal(size=(2, 15, 2))
    idata = az.from_dict(
        posterior={"w": w, "mu": mu}, dims={"w": ["component"], "mu": ["component"]}
    )
    result = bm.log_likelihood((model, idata))
    expected = special.logsumexp(
        np.log(w)[..., None, :] + stats.norm.logpdf(y[:, None], mu[..., None, :], 1.0), axis=-1
    )  # (chain, draw, obs)
    assert result.dims == ("chain", "draw", "obs")
    np.testing.assert_allclose(result.values, expected, rtol=1e-10)


def test_estimator_log_likelihood_is_in_the_data_units():
    X, _ = bm.datasets.make_gaussian_mixture(
        150, [0.5, 0.5], MEANS[:2] * 10, [np.eye(2) * 25] * 2, random_seed=1
    )
    fit = bm.GaussianMixture(2, random_seed=1, draws=50, tune=100, chains=1, progressbar=False).fit(
        X
    )
    loglik = bm.log_likelihood(fit).values[0]  # (draw, obs)
    post = fit.idata_.posterior
    s = 7
    dens = [
        np.log(post["weights"].values[0, s, k])
        + stats.multivariate_normal(
            post["means"].values[0, s, k], post["covariances"].values[0, s, k]
        ).logpdf(X)
        for k in range(2)
    ]
    # the standardisation's Jacobian is included: densities of the rows as given
    np.testing.assert_allclose(loglik[s], special.logsumexp(np.stack(dens), axis=0), rtol=1e-8)


def test_compare_ranks_the_right_number_of_components_first():
    rng = np.random.default_rng(2)
    y = np.r_[rng.normal(-3, 1, 80), rng.normal(3, 1, 80)]
    fits = {k: bm.Mixture("normal", k, random_seed=2, **QUICK).fit(y) for k in (1, 2)}
    table = bm.compare(fits)
    assert table.index[0] == 2
    # two clusters 6 sd apart: one component is worse by far more than its standard error
    assert table.loc[1, "elpd_diff"] > 4 * table.loc[1, "dse"]


def test_compare_names_observations_with_high_pareto_k():
    y = np.r_[np.zeros(30), 12.0]
    model = _normal_model(y)
    rng = np.random.default_rng(3)
    idata = az.from_dict(
        posterior={
            "w": rng.dirichlet([50, 50], size=(2, 200)),
            "mu": rng.normal(0, 1, (2, 200, 2)),
        },
        dims={"w": ["component"], "mu": ["component"]},
    )
    # y = 12 under means ~ N(0, 1): importance ratios exp((12 - mu)^2 / 2) are heavy-tailed
    with pytest.warns(PredictionWarning, match="row 30"):
        bm.compare({"a": (model, idata), "b": (model, idata)})


def test_select_picks_three_well_separated_clusters():
    X, _ = bm.datasets.make_gaussian_mixture(
        240, [0.4, 0.3, 0.3], MEANS, [np.eye(2)] * 3, random_seed=0
    )
    result = bm.GaussianMixture(random_seed=0, **QUICK).select(X, n_components=[2, 3, 4])
    assert result.n_components == 3
    assert set(result.fits) == {2, 3, 4} and result.best is result.fits[3]


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1, 2])
def test_select_picks_three_over_one_to_six(seed):
    X, _ = bm.datasets.make_gaussian_mixture(
        300, [0.4, 0.3, 0.3], MEANS, [np.eye(2)] * 3, random_seed=seed
    )
    result = bm.GaussianMixture(random_seed=seed, **QUICK).select(X, n_components=range(1, 7))
    assert result.n_components == 3


def test_select_on_one_cluster_does_not_prefer_more_than_two():
    X, _ = bm.datasets.make_gaussian_mixture(200, [1.0], MEANS[:1], [np.eye(2)], random_seed=4)
    result = bm.GaussianMixture(random_seed=4, **QUICK).select(X, n_components=[1, 2, 3])
    table = result.comparison
    for k in (2, 3):
        if table.loc[k, "rank"] < table.loc[1, "rank"]:
            # more components may be ranked first, but not by more than 2 se
            assert table.loc[1, "elpd_diff"] <= 2 * table.loc[1, "dse"]
    assert result.n_components == 1


def test_bic_screening_picks_three_and_fits_only_that():
    X, _ = bm.datasets.make_gaussian_mixture(
        240, [0.4, 0.3, 0.3], MEANS, [np.eye(2)] * 3, random_seed=5
    )
    result = bm.GaussianMixture(random_seed=5, **QUICK).select(
        X, n_components=range(1, 6), method="bic"
    )
    assert result.n_components == 3
    assert list(result.comparison.columns[:2]) == ["bic", "icl"]
    assert list(result.fits) == [3]


def test_select_rejects_bad_arguments():
    X = np.zeros((10, 2))
    with pytest.raises(ValueError, match="method='aic'"):
        bm.GaussianMixture().select(X, n_components=[1, 2], method="aic")
    with pytest.raises(ValueError, match="needs at least two values"):
        bm.GaussianMixture().select(X, n_components=[2])
    with pytest.raises(ValueError, match="no EM equivalent"):
        bm.Mixture("poisson").select(np.arange(10), n_components=[1, 2], method="bic")


@pytest.mark.slow
@pytest.mark.parametrize("seed", [0, 1])
def test_sparse_mixture_empties_the_superfluous_component(seed):
    # Overfitted K=4 with Dirichlet(0.01) weights on 3 well-separated clusters: the posterior
    # of the number of non-empty components must peak at 3 (measured: P(3) ~ 0.95 for seed
    # 0). K=4 and spherical covariances keep the run near two minutes on 2 cores.
    X, _ = bm.datasets.make_gaussian_mixture(
        150, [0.4, 0.3, 0.3], MEANS, [np.eye(2)] * 3, random_seed=seed
    )
    fit = bm.GaussianMixture(
        4, covariance_type="spherical", weights_prior="sparse", random_seed=seed, **QUICK
    ).fit(X)
    posterior = fit.n_components_posterior(random_seed=0)
    assert posterior.idxmax() == 3
    assert posterior.sum() == pytest.approx(1.0)


def test_n_components_posterior_counts_occupied_components_against_numpy():
    # Two fixed draws on y = (-5, -5, 5, 5) with means far apart: every allocation puts the
    # first two rows in the component near -5 and the last two near +5, so draw 1 (means
    # -5, 5, 50) occupies exactly 2 components and draw 2 (means -5, 5, 5) 2 or 3 with the
    # probabilities of the 2 rows at 5 splitting between its two equal components.
    y = np.array([-5.0, -5.0, 5.0, 5.0])
    with pm.Model(coords={"component": [0, 1, 2]}) as model:
        w = pm.Dirichlet("w", np.ones(3), dims="component")
        mu = pm.Normal("mu", 0, 10, dims="component")
        bm.mixture("y", w, pm.Normal.dist(mu, 1.0), y)
    n = 4000
    mu = np.tile([[-5.0, 5.0, 50.0]], (n, 1))
    mu[n // 2 :, 2] = 5.0
    idata = az.from_dict(
        posterior={"w": np.full((1, n, 3), 1 / 3), "mu": mu[None]},
        dims={"w": ["component"], "mu": ["component"]},
    )
    share = bm.selection.n_components_posterior((model, idata), random_seed=0)
    # Draw 2: both rows at 5 in the same of the two equal components with probability 1/2.
    expected = {2: 0.5 + 0.5 * 0.5, 3: 0.5 * 0.5}
    for k, p in expected.items():
        # binomial sd of a share over 4000 draws is <= 0.008; 0.03 is ~4 sd
        assert share[k] == pytest.approx(p, abs=0.03)
