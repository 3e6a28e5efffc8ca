"""MixtureRegression's compiled density equals its PyMC model's log-density and gradient.

PyMC's graph is the reference: for every family (normal, Poisson, negative binomial, binomial)
and every option that changes the density (shared or per-component coefficients, one design
or one per component, intercepts, three kinds of noise, Dirichlet, Dirichlet-process or
covariate-dependent weights, priors), the estimator's own PyMC model is compiled with
PyTensor's pure-Python linker (no C compiler, float64 arithmetic) and evaluated at random
unconstrained points; partly labelled rows (``fit(X, y, labels=...)``) against
``bm.mixture(..., known=...)``.
"""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import bayesmixture as bm
from bayesmixture.estimators._fast.regression import RegressionDensity
from pymc_reference import UNREWRITTEN_MODE, random_points, theta_of
from test_kernel_cache import compile_apart

N_OBS, N_COEF, N_COMPONENTS = 30, 3, 3
GATE = [0, 2]  # weights_from: two of the three columns
TRIALS = 12  # the binomial family's trials
GLM = {"poisson": {}, "negbinomial": {}, "binomial": {"trials": TRIALS}}
DP = {"weights_prior": "dirichlet_process"}

# id -> (estimator parameters, one design per component). Compiling PyMC's gradient graph
# costs ~5 s a model, so these cases pair the options up: every option value has its
# gradient checked at least once, and the cheap log-density-only cases below add the rest.
GRADIENT_CASES = {
    "component-coef-intercept-component-noise": ({}, False),
    "shared-coef-one-design-shared-noise": ({"coefficients": "shared", "sigma": "shared"}, False),
    "shared-coef-designs-known-noise": (
        {"coefficients": "shared", "fit_intercept": False, "sigma": 0.3},
        True,
    ),
    "component-coef-designs-shared-noise-priors": (
        {
            "sigma": "shared",
            "coef_prior_sd": 0.7,
            "sigma_prior_sd": 1.3,
            "weights_prior": 2.5,
            "standardize": False,
        },
        True,
    ),
    "gated-component-coef-intercept": ({"weights_from": GATE}, False),
    "gated-shared-coef-known-noise": (
        {"weights_from": GATE, "coefficients": "shared", "fit_intercept": False, "sigma": 0.5},
        False,
    ),
    "dirichlet-process-shared-noise": ({**DP, "sigma": "shared"}, False),
    # the count and binary families (log and logit links), each option at least once
    "poisson-component-coef-intercept": ({"family": "poisson"}, False),
    "poisson-dirichlet-process-designs": ({"family": "poisson", **DP}, True),
    "negbinomial-shared-coef-designs": (
        {"family": "negbinomial", "coefficients": "shared", "coef_prior_sd": 0.7},
        True,
    ),
    "negbinomial-gated-no-intercept": (
        {"family": "negbinomial", "weights_from": GATE, "fit_intercept": False},
        False,
    ),
    "binomial-gated-shared-coef": (
        {"family": "binomial", "trials": TRIALS, "weights_from": GATE, "coefficients": "shared"},
        False,
    ),
    "binomial-sparse-weights-designs": (
        {"family": "binomial", "trials": TRIALS, "weights_prior": "sparse"},
        True,
    ),
}
# Partly labelled rows (every fifth row, class 0 or 1 by turns: two classes of the three
# components, so one component stays free): a labelled row's term is its own class's only.
LABELS = np.where(np.arange(N_OBS) % 5 == 0, np.arange(N_OBS) % 2, -1)
LABEL_CASES = {
    "labels-normal-component-coef": ({}, False),
    "labels-normal-gated-shared-noise": ({"weights_from": GATE, "sigma": "shared"}, False),
    "labels-normal-designs-shared-coef": ({"coefficients": "shared"}, True),
    "labels-poisson-designs": ({"family": "poisson"}, True),
    "labels-negbinomial-gated": ({"family": "negbinomial", "weights_from": GATE}, False),
    "labels-binomial-dirichlet-process": ({"family": "binomial", "trials": TRIALS, **DP}, False),
}
WEIGHTS = {"dirichlet": {}, "gated": {"weights_from": GATE}, "dp": DP}
LOGP_CASES = {
    f"{family}-{coef}-{'designs' if designs else 'design'}-{'' if intercept else 'no-'}"
    f"intercept-{noise}-{weights}": (
        {
            "coefficients": coef,
            "fit_intercept": intercept,
            **({"sigma": noise} if family == "normal" else {"family": family, **GLM[family]}),
            **WEIGHTS[weights],
        },
        designs,
    )
    for family, coef, designs, intercept, noise, weights in itertools.product(
        ("normal", *GLM),
        ("component", "shared"),
        (False, True),
        (True, False),
        ("component", "shared", 0.5),
        tuple(WEIGHTS),
    )
    # the gate needs one design for all components; the count families have no noise sd
    if not (designs and weights == "gated") and (family == "normal" or noise == "component")
}
# the full product costs ~1 s a model: the default run takes one case in three
QUICK_LOGP = sorted(LOGP_CASES)[::3]


def _designs(rng: np.random.Generator, per_component: bool):
    X = rng.normal(size=(N_OBS, N_COEF)) * [1.0, 2.0, 0.5] + [0.0, 1.0, -1.0]
    if not per_component:
        return X
    return [X + 0.3 * rng.normal(size=X.shape) for _ in range(N_COMPONENTS)]


def _response(rng: np.random.Generator, family: str) -> np.ndarray:
    """N_OBS values of y: real values around two levels, or counts (at most TRIALS)."""
    if family == "normal":
        return np.where(np.arange(N_OBS) % 2 == 0, 1.0, -2.0) + rng.normal(size=N_OBS)
    return np.minimum(rng.poisson(np.where(np.arange(N_OBS) % 2 == 0, 2.0, 7.0)), TRIALS)


def _fitted_parts(params: dict, per_component: bool, rng: np.random.Generator, **kwargs):
    """The estimator, its validated data, its PyMC model and its compiled density."""
    X = _designs(rng, per_component)
    y = _response(rng, params.get("family", "normal"))
    reg = bm.MixtureRegression(kwargs.get("n_components", N_COMPONENTS), **params)
    reg._check_params()
    fit = reg._validate_fit_data(X, y, labels=kwargs.get("labels"))
    return reg, fit, reg._build_model(fit), reg._compiled_density(fit)


def _check_against_pymc(model, density, rng, *, check_grad: bool) -> None:
    assert isinstance(density, RegressionDensity)
    reference = model.compile_logp(jacobian=True, mode=UNREWRITTEN_MODE)
    reference_grad = (
        model.compile_dlogp(jacobian=True, mode=UNREWRITTEN_MODE) if check_grad else None
    )
    for point in random_points(model, rng):
        value, grad = density.logp_and_grad(theta_of(model, point))
        # same formulas in float64 on both sides: only rounding separates them
        assert value == pytest.approx(float(reference(point)), rel=1e-10)
        if reference_grad is not None:
            # atol: entries near zero are differences of terms of size ~N_OBS
            np.testing.assert_allclose(grad, reference_grad(point), rtol=1e-10, atol=1e-9)


@pytest.mark.parametrize("case", list(GRADIENT_CASES))
def test_regression_density_and_gradient_equal_pymc(rng, case):
    params, per_component = GRADIENT_CASES[case]
    _, _, model, density = _fitted_parts(params, per_component, rng)
    _check_against_pymc(model, density, rng, check_grad=True)


def _logp_params():
    for case in sorted(LOGP_CASES):
        marks = () if case in QUICK_LOGP else (pytest.mark.slow,)
        yield pytest.param(case, marks=marks, id=case)


@pytest.mark.parametrize("case", list(_logp_params()))
def test_regression_density_equals_pymc_for_every_option(rng, case):
    params, per_component = LOGP_CASES[case]
    _, _, model, density = _fitted_parts(params, per_component, rng)
    _check_against_pymc(model, density, rng, check_grad=False)


@pytest.mark.parametrize("case", list(LABEL_CASES))
def test_density_and_gradient_with_labelled_rows_equal_pymc(rng, case):
    # PyMC's reference: bm.mixture(..., known=row classes), a labelled row's own term only
    params, per_component = LABEL_CASES[case]
    _, fit, model, density = _fitted_parts(params, per_component, rng, labels=LABELS)
    assert (np.asarray(fit.row_labels) == LABELS).all() and fit.classes == [0, 1]
    _check_against_pymc(model, density, rng, check_grad=True)


def test_labelled_rows_change_the_density():
    # the labels reach the kernel: the same point scores differently without them
    rng = np.random.default_rng(0)
    _, _, model, labelled = _fitted_parts({}, False, rng, labels=LABELS)
    _, _, _, unlabelled = _fitted_parts({}, False, np.random.default_rng(0))
    theta = theta_of(model, random_points(model, rng, n=1)[0])
    assert labelled.logp_and_grad(theta)[0] < unlabelled.logp_and_grad(theta)[0]


LOAD_TWO_VARIANTS = textwrap.dedent(
    """
    import json, sys
    import numpy as np
    sys.path.insert(0, sys.argv[1])
    import test_fast_density_regression as t
    from pymc_reference import UNREWRITTEN_MODE, random_points, theta_of

    errors = {}
    # normal with Dirichlet weights first, then Poisson with stick-breaking weights
    for case in ["component-coef-intercept-component-noise", "poisson-dirichlet-process-designs"]:
        rng = np.random.default_rng(0)
        params, per_component = t.GRADIENT_CASES[case]
        _, _, model, density = t._fitted_parts(params, per_component, rng)
        reference = model.compile_logp(jacobian=True, mode=UNREWRITTEN_MODE)
        point = random_points(model, rng, n=1)[0]
        value = density.logp_and_grad(theta_of(model, point))[0]
        errors[case] = abs(value / float(reference(point)) - 1.0)
    print(json.dumps(errors))
    """
)


def test_variants_compiled_by_different_processes_load_side_by_side(tmp_path):
    # A fit compiles its variant in a process of its own (warm.py), and one session may then
    # load several variants from Numba's disk cache. Numba names compiled code by a counter
    # of its process, so two variants compiled apart must not share names: the second one
    # loaded would run the first one's code.
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path)}  # a cold cache of its own
    compile_apart(["regression:0:0", "regression:1:1"], env)
    tests = str(Path(__file__).parent)
    done = subprocess.run(
        [sys.executable, "-c", LOAD_TWO_VARIANTS, tests], env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr[-3000:]
    errors = json.loads(done.stdout.strip().splitlines()[-1])
    # both variants loaded from the cache into one process equal PyMC (rounding only)
    assert max(errors.values()) < 1e-10, errors


@pytest.mark.parametrize("weights_from", [None, GATE])
def test_single_component_density_equals_pymc(rng, weights_from):
    # K = 1: an empty simplex, or a softmax over one logit (log w = 0)
    params = {"weights_from": weights_from}
    _, _, model, density = _fitted_parts(params, False, rng, n_components=1)
    _check_against_pymc(model, density, rng, check_grad=False)


@pytest.mark.parametrize(
    "case",
    [
        "component-coef-intercept-component-noise",
        "shared-coef-one-design-shared-noise",
        "component-coef-designs-shared-noise-priors",
        "gated-shared-coef-known-noise",
        "dirichlet-process-shared-noise",
        "poisson-dirichlet-process-designs",
        "negbinomial-shared-coef-designs",
        "binomial-gated-shared-coef",
    ],
)
def test_posterior_values_match_pymc_values_and_deterministics(rng, case):
    params, per_component = GRADIENT_CASES[case]
    reg, fit, model, density = _fitted_parts(params, per_component, rng)
    point = random_points(model, rng, n=1)[0]
    theta = theta_of(model, point)
    values = reg._posterior_values(density, theta[None, None], fit)  # (chain, draw, ...)
    # the constrained values and deterministics PyMC computes from the same point
    outputs = model.unobserved_value_vars
    computed = model.compile_fn(outputs, inputs=model.value_vars, mode=UNREWRITTEN_MODE)(point)
    pymc_values = {var.name: value for var, value in zip(outputs, computed, strict=True)}
    free = {rv.name for rv in model.free_RVs}
    # every posterior variable: the free variables and every deterministic, nothing else
    assert sorted(values) == sorted(free | {var.name for var in model.deterministics})
    for name, ours in values.items():
        assert ours.shape[2:] == np.shape(pymc_values[name]), name
        # exp, softmax, products and sums of the same numbers: a few ulps at most
        np.testing.assert_allclose(ours[0, 0], pymc_values[name], rtol=1e-12, err_msg=name)
    back = density.to_theta({name: v[0, 0] for name, v in values.items() if name in free})
    # log(exp(u)) and the simplex's log-softmax lose a few ulps of u
    np.testing.assert_allclose(back, theta, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize(
    "case",
    [
        "component-coef-intercept-component-noise",
        "gated-shared-coef-known-noise",
        "dirichlet-process-shared-noise",
        "negbinomial-shared-coef-designs",
    ],
)
def test_estimator_starts_map_to_theta(rng, case):
    params, per_component = GRADIENT_CASES[case]
    reg, fit, model, density = _fitted_parts(params, per_component, rng)
    start = reg._initial_values(fit, np.random.default_rng(0))[0]
    values = density.from_theta(density.to_theta(start))
    for name, value in start.items():
        np.testing.assert_allclose(values[name], value, rtol=1e-10, err_msg=name)
    # what the starts leave out starts at PyMC's initial point: the gate at 0, the
    # dispersions and the concentration at their prior means
    outputs = model.unobserved_value_vars
    initial = model.compile_fn(outputs, inputs=model.value_vars, mode=UNREWRITTEN_MODE)
    for var, value in zip(outputs, initial(model.initial_point()), strict=True):
        if var.name in values and var.name not in start:
            np.testing.assert_allclose(values[var.name], value, rtol=1e-12, err_msg=var.name)


# 400 draws are too few for the ESS target: the fit warns, and that is not under test here
@pytest.mark.filterwarnings("ignore::bayesmixture.exceptions.ConvergenceWarning")
def test_operator_problem_takes_the_compiled_path_and_recovers_x():
    data = bm.datasets.make_operator_mixture(random_seed=2)
    reg = bm.MixtureRegression(
        2,
        coefficients="shared",
        fit_intercept=False,
        sigma=data.noise,
        standardize=False,
        draws=200,
        tune=200,
        chains=2,
        random_seed=1,
        progressbar=False,
    ).fit([data.H1, data.H2], data.y)
    posterior = reg.idata_.posterior
    assert posterior.attrs["bayesmixture_sampler"] == "compiled"
    assert posterior["weights"].sel(component=1).mean().item() > 0.9
    x = posterior["coefficients"].sel(component=1).mean(("chain", "draw")).values
    # the least-squares solution with the noisy H2 is about (0.99, 2.02, 3.01) and the
    # posterior sd is ~0.004: 0.05 is far beyond Monte Carlo error, and fails for H1, whose
    # offset of 0.1 moves the least-squares solution to about (0.50, 1.83, 2.60)
    np.testing.assert_allclose(x, data.x, atol=0.05)


SCORER_CASES = {
    **{case: (params, designs) for case, (params, designs) in GRADIENT_CASES.items()},
    "poisson-gated": ({"family": "poisson", "weights_from": GATE}, False),
    "negbinomial-shared-coef": ({"family": "negbinomial", "coefficients": "shared"}, False),
    "binomial-designs": ({"family": "binomial", "trials": 12}, True),
}


@pytest.mark.parametrize("case", list(SCORER_CASES))
def test_numpy_scorer_equals_pymc_responsibilities(rng, case):
    # The scorer that relabels and scores MixtureRegression's rows (numpy and scipy) against
    # PyMC's own graph (general evaluator, Python linker) on the same draws, on the
    # training rows and on new rows passed as data.
    from bayesmixture._spec import lookup
    from bayesmixture.evaluation import MixtureEvaluator
    from pymc_reference import python_backend

    params, per_component = SCORER_CASES[case]
    X = _designs(rng, per_component)
    glm = "family" in params  # counts (at most 12, the binomial's trials) or real values
    y = np.minimum(rng.poisson(4.0, N_OBS), 12) if glm else rng.normal(size=N_OBS)
    reg = bm.MixtureRegression(N_COMPONENTS, **params)
    reg._check_params()
    fit = reg._validate_fit_data(X, y)
    model = reg._build_model(fit)
    # eight draws: the constrained values of random unconstrained points
    outputs = model.unobserved_value_vars
    values = model.compile_fn(outputs, inputs=model.value_vars, mode=UNREWRITTEN_MODE)
    points = [values(point) for point in random_points(model, rng, n=8)]
    draws = {var.name: np.stack([point[i] for point in points]) for i, var in enumerate(outputs)}
    scorer = reg._fast_scorer(reg._scoring_spec(fit), None, fit.value, {}, fit=fit)
    with python_backend():
        reference = MixtureEvaluator(model, lookup(model, "y"), backend="FAST_RUN")
    reg._fit_data = fit
    new_X = _designs(rng, per_component)
    new_value, new_data = reg._new_value(new_X, y[::-1])
    for value, data in [(fit.value, None), (new_value, new_data)]:
        ours = scorer.responsibilities(draws, value, data=data, block_elements=50)
        theirs = reference.responsibilities(draws, value, data=data)
        # same densities in float64: rounding (and lgamma to a few ulps)
        np.testing.assert_allclose(ours[1], theirs[1], rtol=1e-10, atol=1e-10)
        np.testing.assert_allclose(np.exp(ours[0]), np.exp(theirs[0]), atol=1e-10)
