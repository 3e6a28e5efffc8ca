"""The compiled densities equal the PyMC model's log-density (Jacobians included) and gradient.

PyMC's graph is the reference: for every covariance type and every option the compiled path
covers, the estimator's own PyMC model is compiled with PyTensor's pure-Python linker (no C
compiler, exact float64 arithmetic) and evaluated at random unconstrained points.
"""

from __future__ import annotations

import numpy as np
import pytest

import bayesmixture as bm
from bayesmixture._kernels.gaussian._complete import ROW_BLOCK
from bayesmixture.estimators._fast.gaussian import GaussianDensity
from pymc_reference import UNREWRITTEN_MODE, random_points, theta_of

COVARIANCE_TYPES = ("full", "tied", "diag", "spherical")


def _data(rng, n_obs=40, n_features=3):
    centres = np.repeat(np.array([[-2.0] * n_features, [2.0] * n_features]), n_obs // 2, axis=0)
    return centres + rng.standard_normal((n_obs, n_features)) * np.linspace(1.0, 2.0, n_features)


def _gaps(n_obs=40) -> np.ndarray:
    """20% of the entries of _data(n_features=3), in both clusters: 8 rows lack x1, 8 rows lack
    x0 and 4 rows have only x2. PyMC's gradient graph grows with each missingness pattern
    (~8 s of compile per pattern), so the patterns are few and chosen: a gap in the middle,
    one at the start, and a row with one coordinate observed (moved to the front)."""
    rows = np.arange(n_obs)
    gaps = np.zeros((n_obs, 3), dtype=bool)
    gaps[rows % 5 == 1, 1] = True
    gaps[rows % 5 == 4, 0] = True
    gaps[rows % 10 == 3, :2] = True
    return gaps


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
    # rows with missing entries (the data get _gaps()), alone and with the other options
    "missing": ({"missing": "marginalize"}, {}),
    "missing-sample-weight": (
        {"missing": "marginalize"},
        {"sample_weight": np.r_[np.zeros(3), np.arange(37) % 3 + 0.5]},
    ),
    "missing-group-weights": ({"missing": "marginalize"}, {"groups": np.arange(40) % 4}),
    "missing-shared-label": (
        {"missing": "marginalize"},
        {"groups": np.arange(40) // 5, "shared_label": True},
    ),
    # Student-t components, a noise component and partly labelled rows (issue 17)
    "student": ({"family": "studentt", "df_prior": (3.0, 0.2)}, {}),
    "noise": ({"noise": True}, {}),
    "labels": ({}, {"y": np.where(np.arange(40) % 4 == 0, np.arange(40) // 20, -1)}),
    "student-noise-labels-weighted": (
        {"family": "studentt", "noise": True},
        {
            "y": np.where(np.arange(40) % 3 == 0, np.arange(40) // 20, -1),
            "sample_weight": np.arange(40) % 3 + 0.5,
        },
    ),
    "student-missing": ({"family": "studentt", "missing": "marginalize"}, {}),
    "student-shared-label": (
        {"family": "studentt"},
        {"groups": np.arange(40) // 5, "shared_label": True},
    ),
    # Dirichlet-process (stick-breaking) weights in each variant of the kernel
    "dirichlet-process": ({"weights_prior": "dirichlet_process"}, {}),
    "student-dirichlet-process-labels": (
        {"family": "studentt", "weights_prior": "dirichlet_process"},
        {"y": np.where(np.arange(40) % 4 == 0, np.arange(40) // 20, -1)},
    ),
    "missing-dirichlet-process": (
        {"missing": "marginalize", "weights_prior": "dirichlet_process"},
        {},
    ),
    "dirichlet-process-shared-label-weighted": (
        {"weights_prior": "dirichlet_process"},
        {"groups": np.arange(40) // 4, "shared_label": True, "sample_weight": np.arange(40) % 4},
    ),
}
# the estimator of each family of components
ESTIMATORS = {"normal": bm.GaussianMixture, "studentt": bm.StudentTMixture}
# Missing entries need several features. PyMC's gradient graph of a model with gaps costs
# ~8 s per missingness pattern to compile, so the default run checks the gradient for "full"
# (the structure that exercises every path: CPCs, sds, means) and `make test-all` the rest.
MISSING_GRADIENT_QUICK = ("full",)
# Options whose gradient the default run checks against PyMC's under "full": between them they
# take every branch of the kernel's weights code (group rows, shared labels with case weights,
# other prior constants). Every option's gradient is checked against central differences of
# the kernel's own log-density (test_gradient_matches_central_differences; that log-density
# equals PyMC's at 1e-10 for every combination) and against PyMC's in `make test-all`.
GRADIENT_QUICK_OPTIONS = (
    "group-weights",
    "shared-label-weighted",
    "other-priors",
    "student-noise-labels-weighted",
    "dirichlet-process",
    "student-dirichlet-process-labels",
    "dirichlet-process-shared-label-weighted",
)


def _density_and_model(X, covariance_type, params, fit_params):
    params = dict(params)
    estimator = ESTIMATORS[params.pop("family", "normal")]
    gm = estimator(3, covariance_type=covariance_type, **params)
    gm._check_params()
    fit_params = dict(fit_params)
    fit = gm._validate_fit_data(X, fit_params.pop("y", None), **fit_params)
    model = gm._build_model(fit)
    density = GaussianDensity(gm, fit)
    return density, model


# Compiling PyMC's gradient graph takes ~6 s a model even without a C compiler (~30 s with
# missing entries), so the default run checks the gradient against PyMC's for every covariance
# type, for GRADIENT_QUICK_OPTIONS under "full" and, with missing entries, for "full";
# `make test-all` checks every combination.
def _cases():
    for n_features in (1, 3):
        for covariance_type in COVARIANCE_TYPES:
            for option in sorted(OPTIONS):
                if n_features == 1 and option not in ("plain", "group-weights"):
                    continue
                if "missing" in option:
                    quick = option == "missing" and covariance_type in MISSING_GRADIENT_QUICK
                else:
                    quick = n_features == 3 and (
                        option == "plain"
                        or (covariance_type == "full" and option in GRADIENT_QUICK_OPTIONS)
                    )
                marks = () if quick else (pytest.mark.slow,)
                yield pytest.param(
                    n_features,
                    covariance_type,
                    option,
                    True,  # the gradient too (the "-logp" cases below skip it)
                    marks=marks,
                    id=f"{n_features}-{covariance_type}-{option}",
                )
    # the log-density alone: every combination, the default run a covering subset
    for n_features in (1, 3):
        for covariance_type in COVARIANCE_TYPES:
            for option in sorted(OPTIONS):
                if n_features == 1 and option not in ("plain", "group-weights"):
                    continue
                marks = () if _covering(covariance_type, option) else (pytest.mark.slow,)
                yield pytest.param(
                    n_features,
                    covariance_type,
                    option,
                    False,
                    marks=marks,
                    id=f"{n_features}-{covariance_type}-{option}-logp",
                )


# The kernel's code for the covariance structure (the factors and the chain rule to sds and
# CPCs) and its code for the options (weights, rows, labels, noise, gaps, t components) meet
# only through the factors L. The default run checks every option under "full" (every piece of
# the structure code: CPCs, per-component sds) and "spherical" (one sd, no CPCs), and every
# structure with "plain", "group-weights" and "missing"; `make test-all` every combination.
def _covering(covariance_type: str, option: str) -> bool:
    return covariance_type in ("full", "spherical") or option in (
        "plain",
        "group-weights",
        "missing",
    )


@pytest.mark.parametrize(("n_features", "covariance_type", "option", "check_grad"), list(_cases()))
def test_gaussian_density_equals_pymc(rng, n_features, covariance_type, option, check_grad):
    X = _data(rng, n_features=n_features)
    if "missing" in option:
        X[_gaps()] = np.nan
    density, model = _density_and_model(X, covariance_type, *OPTIONS[option])
    reference = model.compile_logp(jacobian=True, mode=UNREWRITTEN_MODE)
    reference_grad = (
        model.compile_dlogp(jacobian=True, mode=UNREWRITTEN_MODE) if check_grad else None
    )
    for point in random_points(model, rng):
        value, grad = density.logp_and_grad(theta_of(model, point))
        # same formulas in float64 on both sides: only rounding separates them
        assert value == pytest.approx(float(reference(point)), rel=1e-10)
        if reference_grad is not None:
            np.testing.assert_allclose(grad, reference_grad(point), rtol=1e-10, atol=1e-9)


def _block_options(n_obs: int) -> dict:
    rows = np.arange(n_obs)
    return {
        "plain": ({}, {}),
        "group-weights": ({}, {"groups": rows % 3}),
        "student-noise-labels-weighted": (
            {"family": "studentt", "noise": True},
            {
                "y": np.where(rows % 3 == 0, rows // (n_obs // 2 + 1), -1),
                "sample_weight": rows % 3 + 0.5,
            },
        ),
    }


# The complete-rows kernel takes the rows ROW_BLOCK at a time: two full blocks and a ragged
# one, with per-row options (labels, case weights, noise, group weights) in every block; and
# six features, whose moment sums take the coordinates four at a time (two passes for the
# last ones).
@pytest.mark.parametrize(
    ("option", "n_features"),
    [
        ("plain", 3),
        ("group-weights", 3),
        ("student-noise-labels-weighted", 3),
        ("plain", 6),
    ],
)
def test_density_over_several_row_blocks_equals_pymc(rng, option, n_features):
    n_obs = 2 * ROW_BLOCK + 38  # _data takes an even number of rows
    X = _data(rng, n_obs=n_obs, n_features=n_features)
    density, model = _density_and_model(X, "full", *_block_options(n_obs)[option])
    assert not density.general  # the complete-rows variant
    reference = model.compile_logp(jacobian=True, mode=UNREWRITTEN_MODE)
    reference_grad = model.compile_dlogp(jacobian=True, mode=UNREWRITTEN_MODE)
    for point in random_points(model, rng, n=2):
        value, grad = density.logp_and_grad(theta_of(model, point))
        # rounding only, over ~550 rows (block sums in another order than PyMC's)
        assert value == pytest.approx(float(reference(point)), rel=1e-10)
        np.testing.assert_allclose(grad, reference_grad(point), rtol=1e-10, atol=1e-8)


@pytest.mark.parametrize(
    ("covariance_type", "option"),
    [
        pytest.param(
            covariance, option, marks=() if _covering(covariance, option) else (pytest.mark.slow,)
        )
        for option in sorted(OPTIONS)
        for covariance in COVARIANCE_TYPES
    ],
)
def test_gradient_matches_central_differences(rng, covariance_type, option):
    X = _data(rng)
    if "missing" in option:
        X[_gaps()] = np.nan
    density, model = _density_and_model(X, covariance_type, *OPTIONS[option])
    theta = theta_of(model, random_points(model, rng, n=1)[0])
    _, grad = density.logp_and_grad(theta)
    # Central differences with step h err by ~h^2 |third derivative| / 6 plus rounding
    # ~eps |logp| / h; with |logp| ~ 1e2-1e3 and h = 1e-5 both stay near 1e-6, far below the
    # O(1) error of a wrong or missing term.
    h = 1e-5
    numeric = np.empty_like(theta)
    for q in range(theta.size):
        step = np.zeros_like(theta)
        step[q] = h
        upper, _ = density.logp_and_grad(theta + step)
        lower, _ = density.logp_and_grad(theta - step)
        numeric[q] = (upper - lower) / (2 * h)
    np.testing.assert_allclose(grad, numeric, rtol=1e-5, atol=1e-4)


@pytest.mark.parametrize(
    ("covariance_type", "option"),
    [(covariance, "plain") for covariance in COVARIANCE_TYPES]
    + [("full", "dirichlet-process"), ("spherical", "noise")],
)
def test_theta_round_trip_and_deterministics(rng, covariance_type, option):
    X = _data(rng)
    density, model = _density_and_model(X, covariance_type, *OPTIONS[option])
    point = random_points(model, rng, n=1)[0]
    theta = theta_of(model, point)
    values = density.from_theta(theta[None, None])  # (chain, draw, ...)
    # the constrained values and deterministics PyMC computes from the same point
    outputs = model.unobserved_value_vars
    computed = model.compile_fn(outputs, inputs=model.value_vars, mode=UNREWRITTEN_MODE)(point)
    pymc_values = {var.name: value for var, value in zip(outputs, computed, strict=True)}
    # every free variable of the model (weights and concentration with stick-breaking weights)
    assert sorted(values) == sorted(rv.name for rv in model.free_RVs)
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


@pytest.mark.filterwarnings("ignore::bayesmixture.exceptions.ConvergenceWarning")  # 30 draws
def test_missing_entries_take_the_compiled_path(rng):
    X = _data(rng)
    gaps = _gaps()
    X[gaps] = np.nan
    gm = bm.GaussianMixture(
        2,
        missing="marginalize",
        sampler="compiled",
        draws=30,
        tune=30,
        chains=1,
        progressbar=False,
        random_seed=0,
    ).fit(X)
    assert gm.idata_.posterior.attrs["bayesmixture_sampler"] == "compiled"
    # observed data as PyMC records them for a model with missing entries: the gaps as 0
    observed = gm.idata_.observed_data["X"].values
    np.testing.assert_array_equal(observed[gaps], 0.0)
    np.testing.assert_array_equal(observed[~gaps], gm._fit_data.value[~gaps])
