"""mixture(): log-likelihood against scipy, forward draws, and input validation."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pymc as pm
import pytensor.tensor as pt
import pytest
from scipy import special, stats

import bayesmixture as bm
from pymc_reference import PYTHON_MODE

# values against references, no sampling: Python-implemented graphs (conftest.python_linker)
pytestmark = pytest.mark.usefixtures("python_linker")

# Same formula on both sides, evaluated in float64: only rounding separates them.
RTOL = 1e-8


def _observed_logp(model, name, point):
    """Log-likelihood of one observed variable at a point of untransformed free variables."""
    fn = model.compile_logp(vars=[model[name]], jacobian=False, mode=PYTHON_MODE)
    return float(fn(point))


def _mixture_loglik(log_w, comp_logp):
    return special.logsumexp(log_w + comp_logp, axis=-1).sum()


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_normal_mixture_matches_scipy(seed):
    rng = np.random.default_rng(seed)
    y = rng.normal(size=50) * 3
    with pm.Model() as model:
        mu = pm.Normal("mu", 0, 5, shape=3)
        sigma = pm.HalfNormal("sigma", 2, shape=3, default_transform=None)
        w = pm.Dirichlet("w", np.ones(3), default_transform=None)
        bm.mixture("y", w, [pm.Normal.dist(mu[k], sigma[k]) for k in range(3)], y)
    point = {"mu": rng.normal(size=3), "sigma": rng.uniform(0.5, 2, 3), "w": rng.dirichlet([1] * 3)}
    expected = _mixture_loglik(
        np.log(point["w"]), stats.norm.logpdf(y[:, None], point["mu"], point["sigma"])
    )
    np.testing.assert_allclose(_observed_logp(model, "y", point), expected, rtol=RTOL)


def test_normal_mixture_equals_pymc_mixture(rng):
    y = rng.normal(size=40)
    models = []
    for use_ours in (True, False):
        with pm.Model() as model:
            mu = pm.Normal("mu", 0, 5, shape=2)
            w = pm.Dirichlet("w", np.ones(2))
            comps = [pm.Normal.dist(mu[0], 1.0), pm.Normal.dist(mu[1], 2.0)]
            if use_ours:
                bm.mixture("y", w, comps, y)
            else:
                pm.Mixture("y", w, comps, observed=y)
        models.append(model)
    point = {"mu": np.array([-0.3, 0.8]), "w_simplex__": np.array([0.4])}
    ours, theirs = (m.compile_logp(mode=PYTHON_MODE)(point) for m in models)
    np.testing.assert_allclose(ours, theirs, rtol=RTOL)


def test_poisson_mixture_matches_scipy(rng):
    y = rng.poisson(4.0, size=60)
    with pm.Model() as model:
        lam = pm.Gamma("lam", 2, 0.5, shape=2, default_transform=None)
        w = pm.Dirichlet("w", np.ones(2), default_transform=None)
        bm.mixture("y", w, [pm.Poisson.dist(lam[k]) for k in range(2)], y)
    point = {"lam": np.array([1.5, 7.0]), "w": np.array([0.35, 0.65])}
    expected = _mixture_loglik(np.log(point["w"]), stats.poisson.logpmf(y[:, None], point["lam"]))
    np.testing.assert_allclose(_observed_logp(model, "y", point), expected, rtol=RTOL)


def test_mvnormal_full_covariance_matches_scipy(rng):
    n_features, n_components = 3, 2
    X = rng.normal(size=(30, n_features))
    mus = rng.normal(size=(n_components, n_features))
    covs = []
    for _ in range(n_components):
        a = rng.normal(size=(n_features, n_features))
        covs.append(a @ a.T + np.eye(n_features))
    with pm.Model() as model:
        mu = pm.Normal("mu", 0, 3, shape=(n_components, n_features))
        w = pm.Dirichlet("w", np.ones(n_components), default_transform=None)
        comps = [pm.MvNormal.dist(mu[k], chol=np.linalg.cholesky(covs[k])) for k in range(2)]
        bm.mixture("X", w, comps, X)
    point = {"mu": mus, "w": np.array([0.3, 0.7])}
    comp_logp = np.column_stack(
        [stats.multivariate_normal(mus[k], covs[k]).logpdf(X) for k in range(n_components)]
    )
    expected = _mixture_loglik(np.log(point["w"]), comp_logp)
    np.testing.assert_allclose(_observed_logp(model, "X", point), expected, rtol=RTOL)


def test_per_observation_weights_match_scipy(rng):
    y = rng.normal(size=25)
    with pm.Model() as model:
        w = pm.Dirichlet("w", np.ones((25, 2)), default_transform=None)
        bm.mixture("y", w, [pm.Normal.dist(-1.0, 1.0), pm.Normal.dist(1.5, 0.5)], y)
    point = {"w": rng.dirichlet([1, 1], size=25)}
    comp_logp = stats.norm.logpdf(y[:, None], [-1.0, 1.5], [1.0, 0.5])
    expected = _mixture_loglik(np.log(point["w"]), comp_logp)
    np.testing.assert_allclose(_observed_logp(model, "y", point), expected, rtol=RTOL)


def test_weights_per_chunk_by_indexing_match_scipy(rng):
    """The forum thread's case: one weight vector for y[:k], another for y[k:]."""
    y = rng.normal(size=20)
    chunk = np.repeat([0, 1], 10)
    with pm.Model() as model:
        W = pm.Dirichlet("W", np.ones((2, 2)), default_transform=None)
        bm.mixture("y", W[chunk], [pm.Normal.dist(-1.0, 1.0), pm.Normal.dist(1.0, 1.0)], y)
    point = {"W": np.array([[0.9, 0.1], [0.2, 0.8]])}
    comp_logp = stats.norm.logpdf(y[:, None], [-1.0, 1.0], 1.0)
    expected = _mixture_loglik(np.log(point["W"][chunk]), comp_logp)
    np.testing.assert_allclose(_observed_logp(model, "y", point), expected, rtol=RTOL)


def test_custom_logp_component_matches_scipy(rng):
    y = rng.laplace(size=30)

    def laplace_logp(value, mu, b):
        return -pt.abs(value - mu) / b - pt.log(2 * b)

    with pm.Model() as model:
        mu = pm.Normal("mu", 0, 3, shape=2)
        w = pm.Dirichlet("w", np.ones(2), default_transform=None)
        comps = [
            pm.CustomDist.dist(mu[0], 1.0, logp=laplace_logp),
            pm.Normal.dist(mu[1], 2.0),
        ]
        bm.mixture("y", w, comps, y)
    point = {"mu": np.array([0.2, -1.0]), "w": np.array([0.6, 0.4])}
    comp_logp = np.column_stack(
        [stats.laplace.logpdf(y, 0.2, 1.0), stats.norm.logpdf(y, -1.0, 2.0)]
    )
    expected = _mixture_loglik(np.log(point["w"]), comp_logp)
    np.testing.assert_allclose(_observed_logp(model, "y", point), expected, rtol=RTOL)


def test_shared_latent_through_two_operators_matches_scipy(rng):
    data = bm.datasets.make_operator_mixture(random_seed=2)
    with pm.Model() as model:
        x = pm.Normal("x", 1.5, 1.0, shape=3)
        w = pm.Dirichlet("w", np.ones(2), default_transform=None)
        comps = [pm.Normal.dist(pt.dot(H, x), data.noise) for H in (data.H1, data.H2)]
        bm.mixture("y", w, comps, data.y)
    point = {"x": np.array([1.1, 1.9, 3.05]), "w": np.array([0.2, 0.8])}
    means = np.column_stack([data.H1 @ point["x"], data.H2 @ point["x"]])
    expected = _mixture_loglik(np.log(point["w"]), stats.norm.logpdf(data.y[:, None], means, 0.01))
    np.testing.assert_allclose(_observed_logp(model, "y", point), expected, rtol=RTOL)


def test_grouped_membership_matches_numpy_with_shuffled_ragged_groups(rng):
    sizes = [3, 7, 1, 5]
    groups = np.repeat(["a", "b", "c", "d"], sizes)
    order = rng.permutation(len(groups))
    groups = groups[order]
    y = rng.normal(size=len(groups))
    with pm.Model() as model:
        w = pm.Dirichlet("w", np.ones(2), default_transform=None)
        comps = [pm.Normal.dist(-0.5, 1.0), pm.Normal.dist(1.0, 0.7)]
        bm.mixture("y", w, comps, y, groups=groups)
    point = {"w": np.array([0.3, 0.7])}
    comp_logp = stats.norm.logpdf(y[:, None], [-0.5, 1.0], [1.0, 0.7])
    per_group = np.stack([comp_logp[groups == g].sum(axis=0) for g in "abcd"])
    expected = _mixture_loglik(np.log(point["w"]), per_group)
    np.testing.assert_allclose(_observed_logp(model, "y", point), expected, rtol=RTOL)


def test_case_weights_multiply_each_term_including_zero(rng):
    y = rng.normal(size=12)
    c = rng.integers(0, 4, size=12).astype(float)
    c[0] = 0.0
    with pm.Model() as model:
        w = pm.Dirichlet("w", np.ones(2), default_transform=None)
        comps = [pm.Normal.dist(-1.0, 1.0), pm.Normal.dist(1.0, 1.0)]
        bm.mixture("y", w, comps, y, case_weights=c)
    point = {"w": np.array([0.45, 0.55])}
    comp_logp = stats.norm.logpdf(y[:, None], [-1.0, 1.0], 1.0)
    expected = (c * special.logsumexp(np.log(point["w"]) + comp_logp, axis=-1)).sum()
    np.testing.assert_allclose(_observed_logp(model, "y", point), expected, rtol=RTOL)


def test_forward_draws_follow_the_weights():
    with pm.Model():
        bm.mixture("y", [0.3, 0.7], [pm.Normal.dist(-5, 1), pm.Normal.dist(5, 1)], np.zeros(500))
        prior = pm.sample_prior_predictive(4, random_seed=1)
    draws = prior.prior_predictive["y"].values
    assert draws.shape == (1, 4, 500)
    # 2,000 Bernoulli(0.7) labels: sd of the share is 0.01, so 0.05 is five sd.
    assert abs((draws > 0).mean() - 0.7) < 0.05
    # Components are +-5 with sd 1: every draw lies near one of them.
    assert np.all(np.minimum(abs(draws - 5), abs(draws + 5)) < 6)


def test_forward_draws_of_multivariate_components_keep_rows_whole():
    with pm.Model():
        comps = [
            pm.MvNormal.dist([-10.0, -10.0], np.eye(2)),
            pm.MvNormal.dist([10.0, 10.0], np.eye(2)),
        ]
        bm.mixture("X", [0.5, 0.5], comps, np.zeros((300, 2)))
        prior = pm.sample_prior_predictive(2, random_seed=3)
    draws = prior.prior_predictive["X"].values.reshape(-1, 2)
    # a row comes from one component: both coordinates have the same sign
    assert np.all(np.sign(draws[:, 0]) == np.sign(draws[:, 1]))
    assert 0.4 < (draws[:, 0] > 0).mean() < 0.6


def test_observed_is_not_mutated_and_dataframe_is_accepted(rng):
    frame = pd.DataFrame({"a": rng.normal(size=10), "b": rng.normal(size=10)})
    before = frame.copy()
    with pm.Model():
        comps = [pm.MvNormal.dist(np.zeros(2), np.eye(2)), pm.MvNormal.dist(np.ones(2), np.eye(2))]
        bm.mixture("X", [0.5, 0.5], comps, frame)
    pd.testing.assert_frame_equal(frame, before)


# ---------------------------------------------------------------- invalid input


def _two_normals():
    return [pm.Normal.dist(0, 1), pm.Normal.dist(1, 1)]


def test_rejects_fewer_than_two_components():
    with pm.Model(), pytest.raises(ValueError, match="components has 1 distribution"):
        bm.mixture("y", [1.0], [pm.Normal.dist(0, 1)], np.zeros(3))


def test_rejects_named_model_variable_as_component():
    with (
        pm.Model(),
        pytest.raises(TypeError, match=re.escape("components[1] is the model variable 'z'")),
    ):
        bm.mixture("y", [0.5, 0.5], [pm.Normal.dist(0, 1), pm.Normal("z", 0, 1)], np.zeros(3))


def test_rejects_non_distribution_component():
    with pm.Model(), pytest.raises(TypeError, match=re.escape("components[0] is 1.0")):
        bm.mixture("y", [0.5, 0.5], [1.0, pm.Normal.dist(0, 1)], np.zeros(3))


def test_rejects_components_with_different_supports():
    comps = [pm.Normal.dist(0, 1), pm.MvNormal.dist(np.zeros(2), np.eye(2))]
    with pm.Model(), pytest.raises(ValueError, match="different supports"):
        bm.mixture("y", [0.5, 0.5], comps, np.zeros((3, 2)))


def test_rejects_discrete_and_continuous_components_on_the_same_data():
    # a probability and a density are not on one scale: their mixture means nothing
    comps = [pm.Normal.dist(0, 1), pm.Poisson.dist(3.0)]
    with pm.Model(), pytest.raises(ValueError, match=r"mix discrete \(Poisson\) and continuous"):
        bm.mixture("y", [0.5, 0.5], comps, np.array([1.0, 2.0, 3.0]))


def test_rejects_component_shape_that_would_broadcast():
    """(60, 1) means against (60,) data would silently give a (60, 60) likelihood."""
    data = bm.datasets.make_operator_mixture()
    with pm.Model():
        x = pm.Normal("x", shape=(3, 1))
        comps = [pm.Normal.dist(pt.dot(H, x), 0.01) for H in (data.H1, data.H2)]
        with pytest.raises(ValueError, match=re.escape("components[0] has batch shape (60, 1)")):
            bm.mixture("y", [0.5, 0.5], comps, data.y)


def test_rejects_component_with_wrong_number_of_columns():
    comps = [pm.MvNormal.dist(np.zeros(3), np.eye(3))] * 2
    with pm.Model(), pytest.raises(ValueError, match=re.escape("observations of shape (3,)")):
        bm.mixture("X", [0.5, 0.5], comps, np.zeros((4, 2)))


def test_rejects_weights_with_wrong_last_axis():
    with pm.Model(), pytest.raises(ValueError, match="last axis of length 3 but there are 2"):
        bm.mixture("y", [0.2, 0.3, 0.5], _two_normals(), np.zeros(3))


def test_rejects_constant_weights_not_summing_to_one():
    with pm.Model(), pytest.raises(ValueError, match=r"weights sum to 0\.9, not 1"):
        bm.mixture("y", [0.4, 0.5], _two_normals(), np.zeros(3))


def test_rejects_weights_whose_rows_do_not_match_observations():
    with pm.Model():
        w = pm.Dirichlet("w", np.ones((4, 2)))
        with pytest.raises(ValueError, match="does not broadcast against the observations"):
            bm.mixture("y", w, _two_normals(), np.zeros(3))


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (np.array([0.0, np.nan, 1.0, np.nan]), "observed has missing (NaN) values in rows 1 and 3"),
        (np.array([0.0, 1.0, np.inf]), "observed has infinite values in row 2"),
        (np.array([]), "observed is empty"),
    ],
)
def test_rejects_bad_observed_values(bad, message):
    with pm.Model(), pytest.raises(ValueError, match=re.escape(message)):
        bm.mixture("y", [0.5, 0.5], _two_normals(), bad)


def test_rejects_string_observed():
    with pm.Model(), pytest.raises(TypeError, match="observed has dtype"):
        bm.mixture("y", [0.5, 0.5], _two_normals(), np.array(["a", "b"]))


def test_rejects_negative_case_weights():
    with pm.Model(), pytest.raises(ValueError, match="case_weights is negative in row 1"):
        bm.mixture("y", [0.5, 0.5], _two_normals(), np.zeros(3), case_weights=[1, -1, 2])


# ---------------------------------------------------------------- one batched component


def test_batched_normal_components_match_scipy(rng):
    y = rng.normal(size=40) * 2
    with pm.Model() as model:
        mu = pm.Normal("mu", 0, 5, shape=3)
        sigma = pm.HalfNormal("sigma", 2, shape=3, default_transform=None)
        w = pm.Dirichlet("w", np.ones(3), default_transform=None)
        bm.mixture("y", w, pm.Normal.dist(mu, sigma), y)
    point = {"mu": rng.normal(size=3), "sigma": rng.uniform(0.5, 2, 3), "w": rng.dirichlet([1] * 3)}
    expected = _mixture_loglik(
        np.log(point["w"]), stats.norm.logpdf(y[:, None], point["mu"], point["sigma"])
    )
    np.testing.assert_allclose(_observed_logp(model, "y", point), expected, rtol=RTOL)


def test_batched_mvnormal_components_match_scipy(rng):
    X = rng.normal(size=(30, 3))
    mus = rng.normal(size=(2, 3))
    chols = np.stack([np.linalg.cholesky(np.eye(3) + 0.5), np.diag([0.5, 1.0, 2.0])])
    with pm.Model() as model:
        mu = pm.Normal("mu", 0, 3, shape=(2, 3))
        w = pm.Dirichlet("w", np.ones(2), default_transform=None)
        bm.mixture("X", w, pm.MvNormal.dist(mu, chol=chols), X)
    point = {"mu": mus, "w": np.array([0.3, 0.7])}
    comp_logp = np.column_stack(
        [stats.multivariate_normal(mus[k], chols[k] @ chols[k].T).logpdf(X) for k in range(2)]
    )
    expected = _mixture_loglik(np.log(point["w"]), comp_logp)
    np.testing.assert_allclose(_observed_logp(model, "X", point), expected, rtol=RTOL)


def test_batched_components_draw_rows_from_one_component():
    with pm.Model():
        comp = pm.MvNormal.dist(np.array([[-10.0, -10.0], [10.0, 10.0]]), np.eye(2))
        bm.mixture("X", [0.25, 0.75], comp, np.zeros((400, 2)))
        prior = pm.sample_prior_predictive(2, random_seed=4)
    draws = prior.prior_predictive["X"].values.reshape(-1, 2)
    assert np.all(np.sign(draws[:, 0]) == np.sign(draws[:, 1]))
    # 800 rows, P(second) = 0.75: sd of the share is 0.015, so 0.06 is four sd
    assert abs((draws[:, 0] > 0).mean() - 0.75) < 0.06


def test_batched_component_needs_a_component_axis():
    with pm.Model(), pytest.raises(ValueError, match="last batch axis must index the components"):
        bm.mixture("y", [1.0], pm.Normal.dist(0.0, 1.0), np.zeros(3))


def test_batched_single_component_is_the_plain_likelihood(rng):
    y = rng.normal(size=10)
    with pm.Model() as model:
        mu = pm.Normal("mu", shape=1)
        bm.mixture("y", [1.0], pm.Normal.dist(mu, 1.0), y)
    expected = stats.norm.logpdf(y, 0.3, 1.0).sum()
    np.testing.assert_allclose(_observed_logp(model, "y", {"mu": np.array([0.3])}), expected)
