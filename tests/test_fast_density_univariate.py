"""Mixture's compiled density equals its PyMC model's log-density (Jacobians included) and gradient.

PyMC's graph is the reference: for every family, a list of families, a vector weight prior and
Dirichlet-process (stick-breaking) weights, the estimator's own PyMC model is compiled with
PyTensor's pure-Python linker (no C compiler, float64 arithmetic) and evaluated at random
unconstrained points. scipy is the reference of the kernels' digamma.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import digamma as scipy_digamma

import bayesmixture as bm
from bayesmixture._kernels.special import digamma
from bayesmixture._kernels.univariate import ROW_BLOCK
from bayesmixture.estimators._fast.univariate import UnivariateDensity, unsupported_reason
from pymc_reference import PYTHON_MODE, python_backend, random_points, theta_of

N_OBS = 30
TRIALS = np.arange(N_OBS) % 7 + 4  # per-row trials, 4 to 10


def _data(kind: str, rng: np.random.Generator) -> np.ndarray:
    """N_OBS values in the support of ``kind``, from two or three groups."""
    half = N_OBS // 2
    return {
        "normal": lambda: np.r_[rng.normal(-2.0, 1.0, half), rng.normal(2.0, 0.5, half)],
        "studentt": lambda: rng.standard_t(3.0, N_OBS) * 1.5 + 1.0,
        "lognormal": lambda: rng.lognormal(0.5, 0.8, N_OBS),
        "gamma": lambda: np.r_[rng.gamma(2.0, 1.0, half), rng.gamma(9.0, 1.0, half)],
        "exponential": lambda: rng.exponential(2.0, N_OBS),
        "beta": lambda: np.r_[rng.beta(2.0, 5.0, half), rng.beta(6.0, 2.0, half)],
        "poisson": lambda: np.r_[rng.poisson(2.0, half), rng.poisson(9.0, half)],
        "negbinomial": lambda: rng.negative_binomial(3, 0.3, N_OBS),
        "binomial": lambda: rng.binomial(TRIALS, np.where(np.arange(N_OBS) < half, 0.2, 0.7)),
        # normal values below zero lie outside the gamma and lognormal supports (-inf there)
        "mixed": lambda: np.r_[rng.normal(-1.0, 1.0, half), rng.gamma(4.0, 1.0, half)],
    }[kind]()


# id -> (family, data kind, estimator parameters, check the gradient). Compiling PyMC's
# gradient graph costs ~5 s a model, so each family gets one model with its gradient checked
# (the vector weight prior rides on the normal one); cheap log-density-only cases add options.
CASES = {
    "normal-vector-weights": ("normal", "normal", {"weights_prior": [1.0, 2.0, 3.5]}, True),
    "studentt": ("studentt", "studentt", {}, True),
    "lognormal": ("lognormal", "lognormal", {}, True),
    "gamma": ("gamma", "gamma", {}, True),
    "exponential": ("exponential", "exponential", {}, True),
    "beta": ("beta", "beta", {}, True),
    "poisson": ("poisson", "poisson", {}, True),
    "negbinomial": ("negbinomial", "negbinomial", {}, True),
    "binomial-per-row-trials": ("binomial", "binomial", {"trials": TRIALS}, True),
    "list-normal-gamma-lognormal": (["normal", "gamma", "lognormal"], "mixed", {}, True),
    "normal-logp": ("normal", "normal", {}, False),
    "normal-sparse-logp": ("normal", "normal", {"weights_prior": "sparse"}, False),
    "binomial-scalar-trials-logp": ("binomial", "binomial", {"trials": 10}, False),
    "list-poisson-negbinomial-logp": (["poisson", "negbinomial"], "poisson", {}, False),
    # stick-breaking weights (truncated Dirichlet process) with its concentration
    "normal-dirichlet-process": (
        "normal",
        "normal",
        {"weights_prior": "dirichlet_process"},
        True,
    ),
    "list-poisson-negbinomial-dirichlet-process-logp": (
        ["poisson", "negbinomial", "poisson"],
        "poisson",
        {"weights_prior": "dirichlet_process"},
        False,
    ),
    # partly labelled values: a labelled value mixes over its own component only
    "gamma-labels": (
        "gamma",
        "gamma",
        {"labels": np.where(np.arange(N_OBS) % 5 == 0, np.arange(N_OBS) % 2, -1)},
        True,
    ),
}


def _density_and_model(family, y, params):
    n_components = len(family) if isinstance(family, list) else 3
    params = dict(params)
    labels = params.pop("labels", None)
    mix = bm.Mixture(family, n_components, **params)
    mix._check_params()
    fit = mix._validate_fit_data(y, labels=labels)
    return mix._compiled_density(fit), mix._build_model(fit)


@pytest.mark.parametrize("case", list(CASES))
def test_univariate_density_equals_pymc(rng, case):
    family, kind, params, check_grad = CASES[case]
    density, model = _density_and_model(family, _data(kind, rng), params)
    assert isinstance(density, UnivariateDensity)
    reference = model.compile_logp(jacobian=True, mode=PYTHON_MODE)
    reference_grad = model.compile_dlogp(jacobian=True, mode=PYTHON_MODE) if check_grad else None
    for point in random_points(model, rng):
        value, grad = density.logp_and_grad(theta_of(model, point))
        # same formulas in float64 on both sides: only rounding (and lgamma/digamma to a few
        # ulps) separates them
        assert value == pytest.approx(float(reference(point)), rel=1e-10)
        if reference_grad is not None:
            # atol: entries near zero are differences of terms of size ~N_OBS
            np.testing.assert_allclose(grad, reference_grad(point), rtol=1e-10, atol=1e-9)


# The kernel takes the rows ROW_BLOCK at a time: two full blocks and a ragged one, with
# labelled rows and (the list of families) values outside the gamma and lognormal supports in
# every block.
@pytest.mark.parametrize(
    "family", ["normal", "studentt", ["normal", "gamma", "lognormal"]], ids=["normal", "t", "list"]
)
def test_density_over_several_row_blocks_equals_pymc(rng, family):
    n_obs = 2 * ROW_BLOCK + 77
    y = np.r_[rng.normal(-1.0, 1.0, n_obs // 2), rng.gamma(4.0, 1.0, n_obs - n_obs // 2)]
    y = rng.permutation(y)
    # labelled rows: in component 0 (normal, whose support is every value), or 1 where y > 0
    labels = np.where(np.arange(n_obs) % 7 == 0, (np.arange(n_obs) % 2) * (y > 0), -1)
    density, model = _density_and_model(family, y, {"labels": labels})
    reference = model.compile_logp(jacobian=True, mode=PYTHON_MODE)
    reference_grad = model.compile_dlogp(jacobian=True, mode=PYTHON_MODE)
    for point in random_points(model, rng, n=3):
        value, grad = density.logp_and_grad(theta_of(model, point))
        # rounding only, over ~1,100 rows (sums in blocks, in another order than PyMC's)
        assert value == pytest.approx(float(reference(point)), rel=1e-10)
        np.testing.assert_allclose(grad, reference_grad(point), rtol=1e-10, atol=1e-8)


@pytest.mark.parametrize(
    "case",
    [
        "beta",
        "studentt",
        "binomial-per-row-trials",
        "list-normal-gamma-lognormal",
        "normal-dirichlet-process",
    ],
)
def test_theta_maps_match_pymc_values(rng, case):
    family, kind, params, _ = CASES[case]
    density, model = _density_and_model(family, _data(kind, rng), params)
    point = random_points(model, rng, n=1)[0]
    theta = theta_of(model, point)
    values = density.from_theta(theta[None, None])  # (chain, draw, ...)
    # the constrained values PyMC computes from the same point (no deterministics here)
    outputs = model.unobserved_value_vars
    computed = model.compile_fn(outputs, inputs=model.value_vars, mode=PYTHON_MODE)(point)
    pymc_values = {var.name: value for var, value in zip(outputs, computed, strict=True)}
    assert sorted(values) == sorted(rv.name for rv in model.free_RVs)
    assert not model.deterministics
    for name, ours in values.items():
        # exp, expit and softmax of the same numbers: a few ulps at most
        np.testing.assert_allclose(ours[0, 0], pymc_values[name], rtol=1e-12, err_msg=name)
    back = density.to_theta({name: value[0, 0] for name, value in values.items()})
    # log(exp(u)) and logit(expit(u)) lose a few ulps of u
    np.testing.assert_allclose(back, theta, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("case", list(CASES))
def test_scipy_scorer_equals_pymc_responsibilities(rng, case):
    # The scorer that relabels and scores Mixture's values (scipy's densities) against
    # PyMC's own graph (general evaluator, Python linker) on the same draws.
    from bayesmixture._spec import lookup
    from bayesmixture.evaluation import MixtureEvaluator

    family, kind, params, _ = CASES[case]
    y = _data(kind, rng)
    density, model = _density_and_model(family, y, params)
    params = {name: value for name, value in params.items() if name != "labels"}
    mix = bm.Mixture(family, len(family) if isinstance(family, list) else 3, **params)
    fit = mix._validate_fit_data(y)
    scorer = mix._fast_scorer(mix._scoring_spec(fit), None, fit.value, {}, fit=fit)
    # six draws: the constrained values of random unconstrained points
    thetas = np.stack([theta_of(model, point) for point in random_points(model, rng, n=6)])
    draws = {name: value[0] for name, value in density.from_theta(thetas[None]).items()}
    with python_backend():
        reference = MixtureEvaluator(model, lookup(model, "y"), backend="FAST_RUN")
    # 40 elements per block: the scorer crosses draw blocks
    ours = scorer.responsibilities(draws, y, block_elements=40)
    theirs = reference.responsibilities(draws, y)
    # same densities in float64: rounding (and lgamma to a few ulps); -inf where a value is
    # outside a component's support (the mixed case) on both sides
    np.testing.assert_allclose(ours[1], theirs[1], rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(np.exp(ours[0]), np.exp(theirs[0]), atol=1e-10)


def test_digamma_matches_scipy():
    x = np.r_[np.geomspace(1e-6, 1e6, 300), np.linspace(0.05, 30.0, 300)]
    ours = np.array([digamma(v) for v in x])
    # shift above 10, then seven terms of the asymptotic series: rounding level
    np.testing.assert_allclose(ours, scipy_digamma(x), rtol=1e-14, atol=1e-14)


def test_unknown_family_or_prior_is_reported():
    y = np.arange(5.0)
    assert unsupported_reason(["normal", "poisson"], y) is None
    assert unsupported_reason(["normal", "weibull"], y) == "family 'weibull' (not in FAMILIES)"


# 400 draws are too few for the ESS target: the fit warns, and that is not under test here
@pytest.mark.filterwarnings("ignore::bayesmixture.exceptions.ConvergenceWarning")
def test_poisson_fit_takes_the_compiled_path_and_recovers_the_rates():
    rng = np.random.default_rng(0)
    y = np.r_[rng.poisson(2.0, 150), rng.poisson(15.0, 150)]
    mix = bm.Mixture("poisson", 2, draws=200, tune=200, chains=2, random_seed=0, progressbar=False)
    posterior = mix.fit(y).idata_.posterior
    assert posterior.attrs["bayesmixture_sampler"] == "compiled"
    rates = np.sort(posterior["mu"].mean(("chain", "draw")).values)
    # this sample's group means are 2.19 and 14.66, with posterior sd ~0.12 and ~0.31 (150
    # counts each): 1.0 leaves over two posterior sd beyond the sampling error of the means
    np.testing.assert_allclose(rates, [2.0, 15.0], atol=1.0)
