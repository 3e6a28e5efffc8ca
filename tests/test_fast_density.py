"""The compiled densities equal the PyMC model's log-density (Jacobians included) and gradient.

PyMC's graph is the reference: for every covariance type and every option the compiled path
covers, the estimator's own PyMC model is compiled with PyTensor's pure-Python linker (no C
compiler, exact float64 arithmetic) and evaluated at random unconstrained points.
"""

from __future__ import annotations

import numpy as np
import pytest
from pytensor.compile.mode import Mode

import bayesmixture as bm
from bayesmixture.estimators._fast.gaussian import GaussianDensity
from bayesmixture.estimators._gaussian import _dirichlet_concentration

PYTHON_MODE = Mode(linker="py", optimizer="fast_compile")
COVARIANCE_TYPES = ("full", "tied", "diag", "spherical")


def _theta(model, point) -> np.ndarray:
    return np.concatenate([np.asarray(point[v.name]).ravel() for v in model.value_vars])


def _random_points(model, rng, n=4):
    start = model.initial_point()
    return [{k: v + 0.7 * rng.standard_normal(v.shape) for k, v in start.items()} for _ in range(n)]


def _data(rng, n_obs=40, n_features=3):
    centres = np.repeat(np.array([[-2.0] * n_features, [2.0] * n_features]), n_obs // 2, axis=0)
    return centres + rng.standard_normal((n_obs, n_features)) * np.linspace(1.0, 2.0, n_features)


OPTIONS = {
    "plain": ({}, {}),
    "sparse-weights": ({"weights_prior": "sparse"}, {}),
    "vector-weights": ({"weights_prior": [1.0, 2.0, 3.5]}, {}),
    "other-priors": ({"mean_prior_sd": 0.7, "scale_prior_sd": 2.5, "lkj_eta": 1.3}, {}),
    "group-weights": ({}, {"groups": np.arange(40) % 4}),
    "shared-label": ({}, {"groups": np.arange(40) // 5, "shared_label": True}),
    "sample-weight": ({}, {"sample_weight": np.r_[np.zeros(3), np.arange(37) % 3 + 0.5]}),
    "shared-label-weighted": (
        {},
        {"groups": np.arange(40) // 4, "shared_label": True, "sample_weight": np.arange(40) % 4},
    ),
}


def _density_and_model(X, covariance_type, params, fit_params):
    gm = bm.GaussianMixture(3, covariance_type=covariance_type, **params)
    gm._check_params()
    fit = gm._validate_fit_data(X, None, **fit_params)
    model = gm._build_model(fit)
    density = GaussianDensity(gm, fit, _dirichlet_concentration(gm.weights_prior, 3))
    return density, model


# Compiling PyMC's gradient graph takes ~6 s a model even without a C compiler, so the
# default run checks the gradient for every covariance type and for every option under "full";
# `make test-all` checks every combination.
def _cases():
    for n_features in (1, 3):
        for covariance_type in COVARIANCE_TYPES:
            for option in sorted(OPTIONS):
                if n_features == 1 and option not in ("plain", "group-weights"):
                    continue
                quick = n_features == 3 and (option == "plain" or covariance_type == "full")
                marks = () if quick else (pytest.mark.slow,)
                yield pytest.param(
                    n_features,
                    covariance_type,
                    option,
                    quick,
                    marks=marks,
                    id=f"{n_features}-{covariance_type}-{option}",
                )
    # the log-density alone is cheap to compile: every combination in the default run
    for n_features in (1, 3):
        for covariance_type in COVARIANCE_TYPES:
            for option in sorted(OPTIONS):
                if n_features == 1 and option not in ("plain", "group-weights"):
                    continue
                yield pytest.param(
                    n_features,
                    covariance_type,
                    option,
                    False,
                    id=f"{n_features}-{covariance_type}-{option}-logp",
                )


@pytest.mark.parametrize(("n_features", "covariance_type", "option", "check_grad"), list(_cases()))
def test_gaussian_density_equals_pymc(rng, n_features, covariance_type, option, check_grad):
    X = _data(rng, n_features=n_features)
    density, model = _density_and_model(X, covariance_type, *OPTIONS[option])
    reference = model.compile_logp(jacobian=True, mode=PYTHON_MODE)
    reference_grad = model.compile_dlogp(jacobian=True, mode=PYTHON_MODE) if check_grad else None
    for point in _random_points(model, rng):
        value, grad = density.logp_and_grad(_theta(model, point))
        # same formulas in float64 on both sides: only rounding separates them
        assert value == pytest.approx(float(reference(point)), rel=1e-10)
        if reference_grad is not None:
            np.testing.assert_allclose(grad, reference_grad(point), rtol=1e-10, atol=1e-9)


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_theta_round_trip_and_deterministics(rng, covariance_type):
    X = _data(rng)
    density, model = _density_and_model(X, covariance_type, {}, {})
    point = _random_points(model, rng, n=1)[0]
    theta = _theta(model, point)
    values = density.from_theta(theta[None, None])  # (chain, draw, ...)
    # the constrained values and deterministics PyMC computes from the same point
    outputs = model.unobserved_value_vars
    computed = model.compile_fn(outputs, inputs=model.value_vars, mode=PYTHON_MODE)(point)
    pymc_values = {var.name: value for var, value in zip(outputs, computed, strict=True)}
    for name, ours in values.items():
        np.testing.assert_allclose(ours[0, 0], pymc_values[name], rtol=1e-12, err_msg=name)
    back = density.to_theta({name: value[0, 0] for name, value in values.items()})
    np.testing.assert_allclose(back, theta, rtol=1e-10, atol=1e-12)
    # Cholesky factors against the model's covariance deterministic (model units)
    covariances = pymc_values["covariances"]
    chol = density.cholesky({name: value[0, 0] for name, value in values.items()})
    scale = np.std(X, axis=0)
    np.testing.assert_allclose(
        chol @ np.swapaxes(chol, -1, -2) * np.outer(scale, scale), covariances, rtol=1e-10
    )


def test_missing_entries_take_pymc_path(rng):
    X = _data(rng)
    X[0, 1] = np.nan
    gm = bm.GaussianMixture(2, missing="marginalize", sampler="compiled")
    gm._check_params()
    fit = gm._validate_fit_data(X, None)
    assert "missing entries" in gm._compiled_density(fit)
    with pytest.raises(ValueError, match="sampler='compiled' does not cover this fit"):
        gm.fit(X)
