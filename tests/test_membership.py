"""membership / predict_membership / predictive_logpdf against brute-force scipy.

Most tests use synthetic posteriors (arrays put into an InferenceData): membership only reads
draws, so there is no need to sample, and the reference computation sees exactly the same
draws. Equality is to 1e-10: the same formulas on the same numbers, in float64.
"""

from __future__ import annotations

import re

import arviz as az
import numpy as np
import pymc as pm
import pytensor.tensor as pt
import pytest
from scipy import special, stats

import bayesmixture as bm

# values against references, no sampling: Python-implemented graphs (conftest.python_linker)
# where a test asks for PyTensor's default backend; the evaluators' own default is JAX
pytestmark = pytest.mark.usefixtures("python_linker")

TIGHT = 1e-10


def _softmax_mean(log_joint):
    """log_joint (draws, obs, K) -> mean over draws of the per-observation softmax."""
    return np.exp(log_joint - special.logsumexp(log_joint, axis=-1, keepdims=True)).mean(axis=0)


def _posterior(**arrays):
    dims = {name: ["component"] for name, a in arrays.items() if name in ("w", "mu", "sigma")}
    return az.from_dict(posterior=arrays, dims=dims)


@pytest.fixture(scope="module")
def normal_case():
    rng = np.random.default_rng(1)
    y = np.r_[rng.normal(-2, 1, 30), rng.normal(2, 1, 30)]
    with pm.Model(coords={"component": [0, 1]}) as model:
        w = pm.Dirichlet("w", np.ones(2), dims="component")
        mu = pm.Normal("mu", 0, 5, dims="component")
        sigma = pm.HalfNormal("sigma", 2, dims="component")
        bm.mixture("y", w, [pm.Normal.dist(mu[k], sigma[k]) for k in range(2)], y)
    n_chains, n_draws = 2, 50
    draws = {
        "w": rng.dirichlet([30, 30], size=(n_chains, n_draws)),
        "mu": np.stack(
            [rng.normal(-2, 0.2, (n_chains, n_draws)), rng.normal(2, 0.2, (n_chains, n_draws))], -1
        ),
        "sigma": rng.uniform(0.8, 1.2, (n_chains, n_draws, 2)),
    }
    return model, _posterior(**draws), y, draws


def _normal_reference(y, draws):
    w = draws["w"].reshape(-1, 2)
    mu = draws["mu"].reshape(-1, 2)
    sigma = draws["sigma"].reshape(-1, 2)
    return np.log(w)[:, None, :] + stats.norm.logpdf(y[None, :, None], mu[:, None], sigma[:, None])


def test_normal_membership_matches_brute_force(normal_case):
    model, idata, y, draws = normal_case
    result = bm.membership(model, idata, "y", relabel=False)
    expected = _softmax_mean(_normal_reference(y, draws))
    np.testing.assert_allclose(result["probability"].values, expected, rtol=TIGHT, atol=TIGHT)
    assert result["probability"].dims == ("obs", "component")
    np.testing.assert_array_equal(result["label"].values, expected.argmax(axis=1))
    np.testing.assert_allclose(result["uncertainty"].values, 1 - expected.max(axis=1), atol=TIGHT)


def test_membership_sd_and_per_draw_match_brute_force(normal_case):
    model, idata, y, draws = normal_case
    result = bm.membership(model, idata, "y", relabel=False, per_draw=True)
    log_joint = _normal_reference(y, draws)
    per_draw = np.exp(log_joint - special.logsumexp(log_joint, axis=-1, keepdims=True))
    np.testing.assert_allclose(
        result["probability_draws"].values.reshape(per_draw.shape), per_draw, atol=TIGHT
    )
    np.testing.assert_allclose(result["probability_sd"].values, per_draw.std(axis=0), atol=1e-8)


def test_a_posterior_of_another_model_is_refused_by_name(normal_case):
    model, _, _, draws = normal_case
    # the posterior of a three-component model scored with this two-component one
    three = {name: np.concatenate([a, a[..., :1]], axis=-1) for name, a in draws.items()}
    with pytest.raises(ValueError, match=re.escape("idata.posterior['w'] has shape (3,) per draw")):
        bm.membership(model, _posterior(**three), "y")


def test_membership_does_not_modify_idata(normal_case):
    model, idata, *_ = normal_case
    before = idata.posterior["mu"].values.copy()
    bm.membership(model, idata, "y")
    np.testing.assert_array_equal(idata.posterior["mu"].values, before)
    assert list(idata.groups()) == ["posterior"]


def test_mvnormal_membership_matches_brute_force():
    rng = np.random.default_rng(2)
    X = rng.normal(size=(25, 3))
    covs = [np.eye(3) * 0.5 + 0.3, np.diag([1.0, 2.0, 0.5])]
    with pm.Model() as model:
        mu = pm.Normal("mu", 0, 3, shape=(2, 3))
        w = pm.Dirichlet("w", np.ones(2))
        bm.mixture("X", w, [pm.MvNormal.dist(mu[k], cov=covs[k]) for k in range(2)], X)
    mus = rng.normal(size=(1, 40, 2, 3))
    ws = rng.dirichlet([2, 2], size=(1, 40))
    idata = az.from_dict(posterior={"mu": mus, "w": ws})
    result = bm.membership(model, idata, "X", relabel=False)
    log_joint = np.stack(
        [
            np.log(ws[0, :, k])[:, None]
            + np.stack([stats.multivariate_normal(m[k], covs[k]).logpdf(X) for m in mus[0]])
            for k in range(2)
        ],
        axis=-1,
    )
    np.testing.assert_allclose(result["probability"].values, _softmax_mean(log_joint), atol=TIGHT)


def test_per_observation_weights_membership_matches_brute_force():
    rng = np.random.default_rng(3)
    y = rng.normal(size=12)
    chunk = np.repeat([0, 1], 6)
    with pm.Model() as model:
        W = pm.Dirichlet("W", np.ones((2, 2)))
        mu = pm.Normal("mu", 0, 1, shape=2)
        bm.mixture("y", W[chunk], [pm.Normal.dist(mu[0], 1), pm.Normal.dist(mu[1], 1)], y)
    Ws = rng.dirichlet([1, 1], size=(1, 30, 2))
    mus = rng.normal(size=(1, 30, 2))
    idata = az.from_dict(posterior={"W": Ws, "mu": mus})
    result = bm.membership(model, idata, "y", relabel=False)
    log_w = np.log(Ws[0][:, chunk, :])  # (draw, obs, K)
    log_joint = log_w + stats.norm.logpdf(y[None, :, None], mus[0][:, None, :], 1.0)
    np.testing.assert_allclose(result["probability"].values, _softmax_mean(log_joint), atol=TIGHT)


@pytest.fixture(scope="module")
def operator_case():
    data = bm.datasets.make_operator_mixture(random_seed=2)
    with pm.Model() as model:
        H1 = pm.Data("H1", data.H1)
        H2 = pm.Data("H2", data.H2)
        x = pm.Normal("x", 1.5, 1.0, shape=3)
        w = pm.Dirichlet("w", np.ones(2))
        comps = [
            pm.Normal.dist(pt.dot(H1, x), data.noise),
            pm.Normal.dist(pt.dot(H2, x), data.noise),
        ]
        bm.mixture("y", w, comps, data.y)
    rng = np.random.default_rng(4)
    xs = data.x + rng.normal(0, 0.005, size=(2, 20, 3))
    ws = rng.dirichlet([2, 30], size=(2, 20))
    return model, az.from_dict(posterior={"x": xs, "w": ws}), data, xs, ws


def _operator_reference(y, H1, H2, xs, ws, noise):
    xs, ws = xs.reshape(-1, 3), ws.reshape(-1, 2)
    means = np.stack([xs @ H1.T, xs @ H2.T], axis=-1)  # (draw, obs, K)
    return np.log(ws)[:, None, :] + stats.norm.logpdf(y[None, :, None], means, noise)


def test_operator_mixture_membership_matches_brute_force(operator_case):
    model, idata, data, xs, ws = operator_case
    result = bm.membership(model, idata, "y", relabel=False)
    expected = _softmax_mean(_operator_reference(data.y, data.H1, data.H2, xs, ws, data.noise))
    np.testing.assert_allclose(result["probability"].values, expected, atol=TIGHT)


def test_predict_with_new_covariates_uses_them_and_leaves_model_data(operator_case):
    model, idata, data, xs, ws = operator_case
    new = bm.datasets.make_operator_mixture(random_seed=7, n_obs=15)
    result = bm.predict_membership(
        model, idata, "y", new.y, data={"H1": new.H1, "H2": new.H2}, relabel=False
    )
    expected = _softmax_mean(_operator_reference(new.y, new.H1, new.H2, xs, ws, data.noise))
    np.testing.assert_allclose(result["probability"].values, expected, atol=TIGHT)
    np.testing.assert_array_equal(model["H1"].get_value(), data.H1)
    np.testing.assert_array_equal(model["H2"].get_value(), data.H2)


def test_predict_without_new_covariates_is_refused_for_a_different_length(operator_case):
    model, idata, *_ = operator_case
    with pytest.raises(ValueError, match="indexed by observation"):
        bm.predict_membership(model, idata, "y", np.zeros(5))


def test_predict_on_training_data_reproduces_membership(normal_case):
    model, idata, y, _ = normal_case
    fitted = bm.membership(model, idata, "y")
    predicted = bm.predict_membership(model, idata, "y", y)
    np.testing.assert_allclose(
        predicted["probability"].values, fitted["probability"].values, atol=TIGHT
    )


def test_predictive_logpdf_matches_brute_force(normal_case):
    model, idata, _, draws = normal_case
    new = np.array([-2.5, 0.0, 1.0, 7.0])
    result = bm.predictive_logpdf(model, idata, "y", new)
    log_joint = _normal_reference(new, draws)
    expected = special.logsumexp(special.logsumexp(log_joint, axis=-1), axis=0) - np.log(100)
    np.testing.assert_allclose(result.values, expected, rtol=TIGHT)


@pytest.mark.filterwarnings("ignore::bayesmixture.exceptions.ConvergenceWarning")  # 200 draws
def test_new_points_from_known_components_are_assigned_correctly():
    # A sampled posterior (the estimator's compiled path: PyMC's C sampler would spend ~40 s
    # in gcc here) read by the functional API through the fit's own PyMC model, whose graph
    # this module evaluates with Python's implementations: 2 x 100 draws keep that short.
    rng = np.random.default_rng(5)
    y = np.r_[rng.normal(-4, 1, 50), rng.normal(4, 1, 50)]
    fit = bm.Mixture("normal", 2, draws=100, tune=200, chains=2, random_seed=5, progressbar=False)
    fit.fit(y)
    model, idata = fit.model_, fit.idata_
    new_z = rng.integers(0, 2, 200)
    new_y = np.where(new_z == 0, -4.0, 4.0) + rng.normal(size=200)
    predicted = bm.predict_membership(model, idata, "y", new_y)
    fitted = bm.membership(model, idata, "y")
    # map the fitted labels to the generating components through the training data
    low_label = int(np.bincount(fitted["label"].values[:50]).argmax())
    truth = np.where(new_z == 0, low_label, 1 - low_label)
    # components 8 sd apart: the Bayes error rate is ~2e-5, so 95% leaves ample room
    assert (predicted["label"].values == truth).mean() >= 0.95
    # the estimator's own prediction reads the same posterior
    np.testing.assert_allclose(
        fit.predict_proba(new_y), predicted["probability"].values, atol=TIGHT
    )


def test_rejects_wrong_row_shape(normal_case):
    model, idata, *_ = normal_case
    with pytest.raises(ValueError, match=re.escape("observed has shape (3, 2)")):
        bm.predict_membership(model, idata, "y", np.zeros((3, 2)))


def test_rejects_unknown_mixture_name(normal_case):
    model, idata, *_ = normal_case
    with pytest.raises(ValueError, match="name='z' is not a mixture"):
        bm.membership(model, idata, "z")


def test_rejects_idata_without_posterior(normal_case):
    model, *_ = normal_case
    with pytest.raises(ValueError, match="no posterior group"):
        bm.membership(model, az.InferenceData(), "y")


def test_rejects_unknown_data_container(operator_case):
    model, idata, data, *_ = operator_case
    with pytest.raises(ValueError, match=re.escape("data has ['H3']")):
        bm.predict_membership(model, idata, "y", data.y, data={"H3": data.H1})


def test_batched_mvnormal_membership_matches_brute_force():
    rng = np.random.default_rng(6)
    X = rng.normal(size=(20, 2))
    with pm.Model() as model:
        mu = pm.Normal("mu", 0, 3, shape=(3, 2))
        sigma = pm.HalfNormal("sigma", 1, shape=(3, 2))
        w = pm.Dirichlet("w", np.ones(3))
        chol = pt.eye(2) * sigma[:, :, None]  # (3, 2, 2) diagonal Cholesky factors
        bm.mixture("X", w, pm.MvNormal.dist(mu, chol=chol), X)
    mus = rng.normal(size=(1, 25, 3, 2))
    sigmas = rng.uniform(0.5, 2.0, size=(1, 25, 3, 2))
    ws = rng.dirichlet([1, 1, 1], size=(1, 25))
    idata = az.from_dict(posterior={"mu": mus, "sigma": sigmas, "w": ws})
    result = bm.membership(model, idata, "X", relabel=False)
    # diagonal covariance: the density is a product of univariate normals
    comp_logp = stats.norm.logpdf(X[None, :, None, :], mus[0][:, None], sigmas[0][:, None]).sum(-1)
    log_joint = np.log(ws[0])[:, None, :] + comp_logp
    np.testing.assert_allclose(result["probability"].values, _softmax_mean(log_joint), atol=TIGHT)


def test_membership_of_a_model_with_dims_matches_brute_force():
    """Shapes from dims are symbolic: draws must still replace the free variables."""
    rng = np.random.default_rng(7)
    y = rng.normal(size=15)
    with pm.Model(coords={"component": [0, 1, 2], "obs": np.arange(15)}) as model:
        w = pm.Dirichlet("w", np.ones(3), dims="component")
        mu = pm.Normal("mu", 0, 3, dims="component")
        sigma = pm.HalfNormal("sigma", 1, dims="component")
        bm.mixture("y", w, pm.Normal.dist(mu, sigma), pm.Data("y_data", y, dims="obs"), dims="obs")
    draws = {
        "w": rng.dirichlet([1, 1, 1], size=(1, 10)),
        "mu": rng.normal(size=(1, 10, 3)),
        "sigma": rng.uniform(0.5, 2, size=(1, 10, 3)),
    }
    result = bm.membership(model, _posterior(**draws), "y", relabel=False)
    log_joint = np.log(draws["w"][0])[:, None, :] + stats.norm.logpdf(
        y[None, :, None], draws["mu"][0][:, None], draws["sigma"][0][:, None]
    )
    np.testing.assert_allclose(result["probability"].values, _softmax_mean(log_joint), atol=TIGHT)


@pytest.mark.parametrize(
    "backend",
    [
        "FAST_RUN",
        "JAX",
        "PYTHON",
        pytest.param("NUMBA", marks=pytest.mark.slow),  # ~10 s of Numba on a first run
    ],
)
def test_each_evaluator_backend_matches_brute_force(normal_case, backend):
    # JAX is the default; the others stay selectable. All must give the same numbers,
    # including when the last block of rows or draws is padded to JAX's static shape.
    from bayesmixture._spec import lookup
    from bayesmixture.evaluation import MixtureEvaluator, stacked_draws

    model, idata, y, draws = normal_case
    evaluator = MixtureEvaluator(model, lookup(model, "y"), backend=backend)
    stacked = stacked_draws(idata.posterior, evaluator.rv_names)
    log_resp, log_marginal = evaluator.responsibilities(stacked, y, block_elements=7 * 60 * 2)
    reference = _normal_reference(y, draws)
    expected = reference - special.logsumexp(reference, axis=-1, keepdims=True)
    np.testing.assert_allclose(log_resp, expected, rtol=TIGHT, atol=TIGHT)
    np.testing.assert_allclose(
        log_marginal, special.logsumexp(reference, axis=-1), rtol=TIGHT, atol=TIGHT
    )


def test_evaluators_compile_with_jax_by_default(normal_case):
    from bayesmixture._spec import lookup
    from bayesmixture.evaluation import MixtureEvaluator

    model, *_ = normal_case
    assert MixtureEvaluator(model, lookup(model, "y")).backend == "JAX"


def _gappy_mvnormal_case(rng):
    """Rows with missing entries (each pattern its own marginal), incl. one all missing."""
    X = rng.normal(size=(12, 3))
    X[1, 0] = X[2, [0, 2]] = X[3, :] = X[4, 1] = X[5, 1] = np.nan
    covs = np.array([np.eye(3) * 0.5 + 0.3, np.diag([1.0, 2.0, 0.5])])
    with pm.Model() as model:
        mu = pm.Normal("mu", 0, 3, shape=(2, 3))
        w = pm.Dirichlet("w", np.ones(2))
        bm.mixture("X", w, pm.MvNormal.dist(mu, covs), X, missing="marginalize")
    draws = {"mu": rng.normal(size=(30, 2, 3)), "w": rng.dirichlet([2, 2], size=30)}
    return model, "X", draws, X, {}


def _grouped_case(rng):
    """Groups share a component; frequency weights multiply each member's density."""
    groups = rng.permutation(np.repeat([0, 1, 2], [4, 1, 6]))
    y = rng.normal(size=len(groups))
    case_weights = rng.integers(1, 3, size=len(groups)).astype(float)
    with pm.Model() as model:
        w = pm.Dirichlet("w", np.ones(2))
        mu = pm.Normal("mu", 0, 1, shape=2)
        comps = [pm.Normal.dist(mu[0], 1.0), pm.Normal.dist(mu[1], 0.7)]
        bm.mixture("y", w, comps, y, groups=groups, case_weights=case_weights)
    draws = {"w": rng.dirichlet([2, 2], size=30), "mu": rng.normal(size=(30, 2))}
    return model, "y", draws, y, {"groups": groups, "case_weights": case_weights}


def _operator_case(rng):
    """The forum model: shared x, per-component operators as data containers."""
    data = bm.datasets.make_operator_mixture(seed=2)
    with pm.Model() as model:
        x = pm.Normal("x", 1.5, 1.0, shape=3)
        w = pm.Dirichlet("w", np.ones(2))
        comps = [
            pm.Normal.dist(pt.dot(pm.Data(f"H{k}", H), x), data.noise)
            for k, H in ((1, data.H1), (2, data.H2))
        ]
        bm.mixture("y", w, comps, data.y)
    draws = {"x": data.x + rng.normal(0, 0.005, size=(30, 3)), "w": rng.dirichlet([2, 30], size=30)}
    return model, "y", draws, data.y, {}


@pytest.mark.parametrize("case", [_operator_case, _gappy_mvnormal_case, _grouped_case])
def test_jax_evaluator_equals_the_python_linker(case):
    """The default backend against PyTensor's Python implementations of the same graph (this
    module runs with cxx=""), on the graphs JAX needed help with: missing-entry patterns
    joined along the draw axis, and a number of groups that must be a static shape."""
    from bayesmixture._spec import lookup
    from bayesmixture.evaluation import MixtureEvaluator

    model, name, draws, value, extra = case(np.random.default_rng(8))
    evaluators = [
        MixtureEvaluator(model, lookup(model, name), backend=backend)
        for backend in ("JAX", "FAST_RUN")
    ]
    results = [evaluator.responsibilities(draws, value, **extra) for evaluator in evaluators]
    assert evaluators[0].backend == "JAX"  # not the fallback for operations JAX lacks
    for jax_result, python_result in zip(*results, strict=True):
        # same float64 formulas; only the order of a few additions can differ
        np.testing.assert_allclose(jax_result, python_result, rtol=TIGHT, atol=TIGHT)


def test_a_graph_jax_cannot_compile_takes_pytensors_default_backend(normal_case, monkeypatch):
    # A component with an operation that has no JAX implementation (a user's own Op, say):
    # PyTensor raises NotImplementedError while converting the graph.
    import pytensor
    from pytensor.link.jax.linker import JAXLinker

    from bayesmixture._spec import lookup
    from bayesmixture.evaluation import MixtureEvaluator, stacked_draws

    real_function = pytensor.function

    def without_jax(inputs, outputs, *, mode=None, **kwargs):
        if isinstance(getattr(mode, "linker", None), JAXLinker):
            raise NotImplementedError("No JAX conversion for the given `Op`")
        return real_function(inputs, outputs, mode=mode, **kwargs)

    monkeypatch.setattr(pytensor, "function", without_jax)
    model, idata, y, draws = normal_case
    evaluator = MixtureEvaluator(model, lookup(model, "y"))
    assert evaluator.backend == "FAST_RUN"
    log_resp, _ = evaluator.responsibilities(stacked_draws(idata.posterior, evaluator.rv_names), y)
    reference = _normal_reference(y, draws)
    expected = reference - special.logsumexp(reference, axis=-1, keepdims=True)
    np.testing.assert_allclose(log_resp, expected, rtol=TIGHT, atol=TIGHT)
