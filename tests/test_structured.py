"""Mixtures pm.Mixture cannot express: missing entries, products over responses, grouped
membership with case weights. Log-likelihoods and memberships against numpy/scipy (1e-8)."""

from __future__ import annotations

import re

import arviz as az
import numpy as np
import pymc as pm
import pytest
from scipy import special, stats

import bayesmixture as bm
from pymc_reference import PYTHON_MODE

# values against references, no sampling: Python-implemented graphs (conftest.python_linker)
pytestmark = pytest.mark.usefixtures("python_linker")

RTOL = 1e-8
MUS = np.array([[-1.0, 0.5, 2.0], [1.0, -0.5, 0.0]])
COVS = np.array(
    [
        [[1.0, 0.3, 0.1], [0.3, 2.0, -0.4], [0.1, -0.4, 1.5]],
        [[0.8, -0.2, 0.0], [-0.2, 1.0, 0.3], [0.0, 0.3, 0.5]],
    ]
)
W = np.array([0.35, 0.65])


def _observed_logp(model, name, point):
    return float(model.compile_logp(vars=[model[name]], jacobian=False, mode=PYTHON_MODE)(point))


def _marginal_logp(row, k):
    seen = ~np.isnan(row)
    if not seen.any():
        return 0.0
    return stats.multivariate_normal(MUS[k][seen], COVS[k][np.ix_(seen, seen)]).logpdf(row[seen])


@pytest.fixture(scope="module")
def rows_with_gaps():
    X = np.random.default_rng(0).normal(size=(9, 3))
    X[1, 0] = np.nan  # one coordinate missing
    X[2, [0, 2]] = np.nan  # two missing
    X[3, :] = np.nan  # all missing
    X[4, 1] = np.nan  # same pattern as another row below
    X[5, 1] = np.nan
    return X


def _missing_model(X, batched):
    with pm.Model() as model:
        mu = pm.Normal("mu", 0, 3, shape=(2, 3))
        w = pm.Dirichlet("w", np.ones(2), default_transform=None)
        comps = (
            pm.MvNormal.dist(mu, COVS)
            if batched
            else [pm.MvNormal.dist(mu[k], COVS[k]) for k in range(2)]
        )
        bm.mixture("X", w, comps, X, missing="marginalize")
    return model


@pytest.mark.parametrize("batched", [False, True])
def test_rows_with_missing_coordinates_contribute_their_marginal(rows_with_gaps, batched):
    model = _missing_model(rows_with_gaps, batched)
    comp_logp = np.array([[_marginal_logp(row, k) for k in range(2)] for row in rows_with_gaps])
    expected = special.logsumexp(np.log(W) + comp_logp, axis=1).sum()
    got = _observed_logp(model, "X", {"mu": MUS, "w": W})
    np.testing.assert_allclose(got, expected, rtol=RTOL)


def test_membership_of_rows_with_gaps_matches_bayes_rule(rows_with_gaps):
    model = _missing_model(rows_with_gaps, batched=True)
    idata = az.from_dict(posterior={"mu": MUS[None, None], "w": W[None, None]})
    result = bm.membership(model, idata, "X", relabel=False)
    comp_logp = np.array([[_marginal_logp(row, k) for k in range(2)] for row in rows_with_gaps])
    joint = np.log(W) + comp_logp
    expected = np.exp(joint - special.logsumexp(joint, axis=1, keepdims=True))
    np.testing.assert_allclose(result["probability"].values, expected, atol=1e-10)
    # a row with nothing observed keeps the prior weights
    np.testing.assert_allclose(result["probability"].values[3], W, atol=1e-12)
    # and new rows with their own gaps are scored the same way
    new = np.array([[np.nan, 1.0, np.nan], [0.5, 0.5, 0.5]])
    predicted = bm.predict_membership(model, idata, "X", new, relabel=False)
    joint = np.log(W) + np.array([[_marginal_logp(row, k) for k in range(2)] for row in new])
    np.testing.assert_allclose(
        predicted["probability"].values,
        np.exp(joint - special.logsumexp(joint, axis=1, keepdims=True)),
        atol=1e-10,
    )


def test_missing_entries_are_refused_by_default(rows_with_gaps):
    message = "observed has missing (NaN) values in rows 1, 2, 3, 4 and 5"
    with pm.Model(), pytest.raises(ValueError, match=re.escape(message)):
        bm.mixture("X", W, pm.MvNormal.dist(MUS, COVS), rows_with_gaps)


def test_marginalising_needs_mvnormal_components():
    with pm.Model(), pytest.raises(TypeError, match="needs MvNormal or MvStudentT components"):
        comps = [pm.Normal.dist(0, 1, shape=2), pm.Normal.dist(1, 1, shape=2)]
        bm.mixture("X", W, comps, np.array([[0.0, np.nan]]), missing="marginalize")


def test_one_label_per_row_across_a_measurement_and_a_count():
    rng = np.random.default_rng(1)
    heights = rng.normal(size=12)
    counts = rng.poisson(3, size=12)
    with pm.Model() as model:
        m = pm.Normal("m", 0, 3, shape=2)
        lam = pm.Gamma("lam", 2, 0.5, shape=2, default_transform=None)
        w = pm.Dirichlet("w", np.ones(2), default_transform=None)
        comps = [(pm.Normal.dist(m[k], 1.0), pm.Poisson.dist(lam[k])) for k in range(2)]
        bm.mixture("rows", w, comps, (heights, counts))
    point = {"m": np.array([-0.5, 1.0]), "lam": np.array([1.0, 5.0]), "w": W}
    comp_logp = stats.norm.logpdf(heights[:, None], point["m"], 1.0) + stats.poisson.logpmf(
        counts[:, None], point["lam"]
    )
    expected = special.logsumexp(np.log(W) + comp_logp, axis=1).sum()
    np.testing.assert_allclose(_observed_logp(model, "rows", point), expected, rtol=RTOL)
    # membership over the product, and forward draws keep both responses of a row together
    idata = az.from_dict(posterior={k: np.asarray(v)[None, None] for k, v in point.items()})
    result = bm.membership(model, idata, "rows", relabel=False)
    joint = np.log(W) + comp_logp
    np.testing.assert_allclose(
        result["probability"].values,
        np.exp(joint - special.logsumexp(joint, axis=1, keepdims=True)),
        atol=1e-10,
    )
    with model:
        prior = pm.sample_prior_predictive(3, random_seed=2, var_names=["rows"])
    draws = prior.prior_predictive["rows"].values
    assert draws.shape == (1, 3, 12, 2)
    np.testing.assert_array_equal(draws[..., 1], np.round(draws[..., 1]))  # counts stay whole


def test_product_components_need_one_distribution_per_response():
    with (
        pm.Model(),
        pytest.raises(ValueError, match=re.escape("components[1] has 1 distributions")),
    ):
        comps = [(pm.Normal.dist(0, 1), pm.Poisson.dist(2)), (pm.Normal.dist(1, 1),)]
        bm.mixture("rows", W, comps, (np.zeros(3), np.zeros(3)))


def test_grouped_membership_with_case_weights_matches_numpy():
    rng = np.random.default_rng(2)
    groups = rng.permutation(np.repeat([10, 20, 30], [4, 1, 6]))  # ragged, shuffled
    y = rng.normal(size=len(groups))
    c = rng.integers(0, 3, size=len(groups)).astype(float)
    with pm.Model() as model:
        w = pm.Dirichlet("w", np.ones(2), default_transform=None)
        comps = [pm.Normal.dist(-0.5, 1.0), pm.Normal.dist(1.0, 0.7)]
        bm.mixture("y", w, comps, y, groups=groups, case_weights=c)
    comp_logp = stats.norm.logpdf(y[:, None], [-0.5, 1.0], [1.0, 0.7]) * c[:, None]
    per_group = np.stack([comp_logp[groups == g].sum(0) for g in (10, 20, 30)])
    expected = special.logsumexp(np.log(W) + per_group, axis=1).sum()
    np.testing.assert_allclose(_observed_logp(model, "y", {"w": W}), expected, rtol=RTOL)
    idata = az.from_dict(posterior={"w": W[None, None]})
    result = bm.membership(model, idata, "y", relabel=False)
    assert result["probability"].dims == ("group", "component")
    assert list(result["group"].values) == [10, 20, 30]
    joint = np.log(W) + per_group
    np.testing.assert_allclose(
        result["probability"].values,
        np.exp(joint - special.logsumexp(joint, axis=1, keepdims=True)),
        atol=1e-10,
    )
