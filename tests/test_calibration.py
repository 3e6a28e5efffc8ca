"""Simulation-based calibration (SBC; Talts et al. 2018) of likelihoods built with bm.mixture.

For s = 1..S: draw true parameters from the prior, simulate a data set from them, draw L
nearly independent posterior draws given that data set, and take the rank of each true
scalar parameter among its draws (0..L). When the likelihood, the sampler and the prior
agree, every rank is uniform on {0, ..., L}; a likelihood that counts data twice, drops a
weight, or mixes up components makes the ranks pile up at the ends or in the middle. Each
scalar's ranks are binned and tested for uniformity with a chi-square test; a test fails
when any scalar has p < ALPHA = 0.01. With 4-5 scalars per model a right model fails by
chance with probability about 4-5%; the seeds are fixed, so an outcome is reproducible.

Two models: (a) the 1-D two-component normal mixture, and (b) weights per observation from a
softmax gate on a covariate, weights of shape (N, K) passed to ``bm.mixture``.

Label switching. With exchangeable components the posterior has one mode per labelling and
a sampler stays in one of them, so the rank of "component 0's true mean" would compare it
with whichever component the chain happened to call 0. Both models therefore order the
means (PyMC's ``ordered`` transform: density prod_k N(mu_k) restricted to mu_0 < mu_1), which
makes the labels identifiable. The prior draws are the sorted pair of independent normals,
whose law is exactly that restricted density (``pm.sample_prior_predictive`` would ignore
the transform and give unsorted means, so the simulation does not use it).

Speed. Each model is compiled once: PyMC builds its log density (the ``bm.mixture``
likelihood included), PyTensor translates it to JAX with the data as an argument, and one
jitted function runs NumPyro's NUTS (warm-up with step size and diagonal mass matrix
adaptation, then the draws) for any data set of the same size (in float64: PyTensor's JAX
backend switches JAX to 64 bits). Measured on 2 cores: 1-5 s to compile, 0.13-0.18 s per
simulation; PyMC's C sampler reusing one compiled step method took 1.2 s per simulation,
and nutpie (Numba) 0.15 s after a 15-50 s compile.
"""

from __future__ import annotations

import importlib.util
import time
from collections.abc import Callable
from dataclasses import dataclass

import arviz as az
import numpy as np
import pymc as pm
import pytensor.tensor as pt
import pytest
from pymc.distributions.transforms import ordered
from pytensor.graph.replace import graph_replace
from scipy import stats

import bayesmixture as bm
from pymc_reference import PYTHON_MODE

# find_spec, not importorskip: importing numpyro would import JAX at collection.
pytestmark = pytest.mark.skipif(importlib.util.find_spec("numpyro") is None, reason="needs numpyro")
# JAX is imported when a calibration test runs, never at collection, and conftest.py runs
# these tests last: once JAX's threads exist, PyMC samples chains one after the other in this
# process, which must not slow every other test.

ALPHA = 0.01
N_OBS = 30
THIN = 5  # median ESS per draw measured 0.31-0.76 per parameter (see the ESS test below)
N_KEPT = 99  # L: ranks take L + 1 = 100 values, an exact multiple of the bin counts
N_TUNE = 400
MEAN_SD = 3.0  # prior sd of the (ordered) component means
SIGMA_LOG_SD = 0.3  # shared component sd ~ LogNormal(0, 0.3)
# CI: 100 simulations in 10 bins (10 expected per bin: the chi-square approximation needs
# at least 5). Slow: 1000 simulations in 20 bins (50 expected per bin).
CI = {"n_sims": 100, "n_bins": 10}
SLOW = {"n_sims": 1000, "n_bins": 20}


# ---------------------------------------------------------------------- the sampler


class CompiledNUTS:
    """NumPyro's NUTS on a PyMC model's log density, compiled once; the data are an argument.

    ``sampler(y, seed)`` returns the draws of every free variable in its constrained space
    (as PyMC names them), shape (n_draws, ...), and the number of divergent transitions.
    """

    def __init__(self, model: pm.Model, data: str, *, n_tune: int, n_draws: int, loglik=1.0):
        import jax
        from numpyro.infer.hmc import hmc
        from pymc.sampling.jax import get_jaxified_graph

        value_vars = model.value_vars
        y = pt.tensor("y", shape=model[data].type.shape, dtype=model[data].dtype)
        prior = model.logp(vars=model.free_RVs)  # priors and the transforms' Jacobians
        likelihood = model.logp(vars=model.observed_RVs)
        logp = graph_replace(prior + loglik * likelihood, {model[data]: y}, strict=True)
        logp_fn = get_jaxified_graph(inputs=[*value_vars, y], outputs=[logp])
        constrain_fn = get_jaxified_graph(inputs=value_vars, outputs=model.unobserved_value_vars)
        names = [v.name for v in value_vars]
        out_names = [v.name for v in model.unobserved_value_vars]
        start = {name: np.asarray(value) for name, value in model.initial_point().items()}

        def potential(y):
            return lambda z: -logp_fn(*(z[name] for name in names), y)[0]

        init_kernel, sample_kernel = hmc(potential_fn_gen=potential, algo="NUTS")

        def run(key, y):
            state = init_kernel(start, n_tune, model_args=(y,), rng_key=key)

            def step(state, _):
                state = sample_kernel(state, model_args=(y,))
                return state, (state.z, state.diverging)

            _, (z, diverging) = jax.lax.scan(step, state, None, length=n_tune + n_draws)
            kept = {name: value[n_tune:] for name, value in z.items()}
            values = jax.vmap(lambda z: constrain_fn(*(z[name] for name in names)))(kept)
            return dict(zip(out_names, values, strict=True)), diverging[n_tune:].sum()

        self._run = jax.jit(run)
        self.logp = jax.jit(lambda point, y: logp_fn(*(point[name] for name in names), y)[0])

    def __call__(self, y: np.ndarray, seed: int) -> tuple[dict[str, np.ndarray], int]:
        import jax

        draws, n_divergent = self._run(jax.random.PRNGKey(seed), y)
        return {name: np.asarray(value) for name, value in draws.items()}, int(n_divergent)


# ---------------------------------------------------------------------- the two models


@dataclass
class Calibration:
    """A model, how to draw its parameters from the prior and data from them."""

    model: pm.Model
    draw_prior: Callable[[np.random.Generator], dict[str, np.ndarray]]
    simulate: Callable[[np.random.Generator, dict], np.ndarray]
    scalars: Callable[[dict], dict[str, np.ndarray]]  # works on one draw or stacked draws


def _ordered_means(rng: np.random.Generator) -> np.ndarray:
    return np.sort(rng.normal(0.0, MEAN_SD, 2))  # the law of the ordered-transform prior


def two_normals() -> Calibration:
    """y_i ~ w_0 N(mu_0, sigma) + w_1 N(mu_1, sigma); w ~ Dirichlet(2, 2), mu_0 < mu_1.

    Dirichlet(2, 2) rather than (1, 1): weights near 0 leave a component with no member in
    30 rows, its mean at its prior, and NUTS then needs a longer warm-up; the likelihood under
    test is the same.
    """
    with pm.Model() as model:
        y = pm.Data("y", np.zeros(N_OBS))
        w = pm.Dirichlet("w", np.full(2, 2.0))
        mu = pm.Normal("mu", 0.0, MEAN_SD, shape=2, transform=ordered, initval=[-1.0, 1.0])
        sigma = pm.LogNormal("sigma", 0.0, SIGMA_LOG_SD)
        bm.mixture("obs", w, [pm.Normal.dist(mu[0], sigma), pm.Normal.dist(mu[1], sigma)], y)

    def draw_prior(rng):
        return {
            "w": rng.dirichlet([2.0, 2.0]),
            "mu": _ordered_means(rng),
            "sigma": rng.lognormal(0.0, SIGMA_LOG_SD),
        }

    def simulate(rng, truth):
        z = rng.choice(2, size=N_OBS, p=truth["w"])
        return rng.normal(truth["mu"][z], truth["sigma"])

    def scalars(values):
        w, mu = np.asarray(values["w"]), np.asarray(values["mu"])
        return {
            "w[1]": w[..., 1],
            "mu[0]": mu[..., 0],
            "mu[1]": mu[..., 1],
            "sigma": values["sigma"],
        }

    return Calibration(model, draw_prior, simulate, scalars)


GATE_X = np.linspace(-2.0, 2.0, N_OBS)  # the covariate: fixed, the data are simulated given it


def gated_normals() -> Calibration:
    """Weights per row: w_i = softmax(0, a + b x_i) (a logistic gate), components as above.

    ``bm.mixture`` gets weights of shape (N, 2); a ~ N(0, 1), b ~ N(0, 1.5).
    """
    with pm.Model() as model:
        y = pm.Data("y", np.zeros(N_OBS))
        a = pm.Normal("a", 0.0, 1.0)
        b = pm.Normal("b", 0.0, 1.5)
        eta = a + b * GATE_X
        weights = pt.special.softmax(pt.stack([pt.zeros_like(eta), eta], axis=-1), axis=-1)
        mu = pm.Normal("mu", 0.0, MEAN_SD, shape=2, transform=ordered, initval=[-1.0, 1.0])
        sigma = pm.LogNormal("sigma", 0.0, SIGMA_LOG_SD)
        components = [pm.Normal.dist(mu[0], sigma), pm.Normal.dist(mu[1], sigma)]
        bm.mixture("obs", weights, components, y)

    def draw_prior(rng):
        return {
            "a": rng.normal(0.0, 1.0),
            "b": rng.normal(0.0, 1.5),
            "mu": _ordered_means(rng),
            "sigma": rng.lognormal(0.0, SIGMA_LOG_SD),
        }

    def simulate(rng, truth):
        p1 = 1.0 / (1.0 + np.exp(-(truth["a"] + truth["b"] * GATE_X)))  # softmax(0, eta)[1]
        z = (rng.random(N_OBS) < p1).astype(int)
        return rng.normal(truth["mu"][z], truth["sigma"])

    def scalars(values):
        mu = np.asarray(values["mu"])
        return {
            "a": values["a"],
            "b": values["b"],
            "mu[0]": mu[..., 0],
            "mu[1]": mu[..., 1],
            "sigma": values["sigma"],
        }

    return Calibration(model, draw_prior, simulate, scalars)


# ---------------------------------------------------------------------- SBC


@dataclass
class SBCResult:
    ranks: dict[str, np.ndarray]  # (n_sims,) each, in 0..N_KEPT
    n_divergent: int
    seconds: float

    def pvalues(self, n_bins: int) -> dict[str, float]:
        return {name: uniformity_pvalue(r, n_bins) for name, r in self.ranks.items()}


def uniformity_pvalue(ranks: np.ndarray, n_bins: int) -> float:
    """Chi-square test that ranks in 0..N_KEPT are uniform, on n_bins equal bins."""
    n_values = N_KEPT + 1
    if n_values % n_bins:
        raise ValueError(f"n_bins={n_bins} must divide the {n_values} possible ranks.")
    counts = np.bincount(ranks // (n_values // n_bins), minlength=n_bins)
    return float(stats.chisquare(counts).pvalue)


def run_sbc(calibration: Calibration, sampler: CompiledNUTS, n_sims: int, seed: int):
    """Ranks of every true scalar among N_KEPT thinned posterior draws, per simulation."""
    rng = np.random.default_rng(seed)
    ranks: dict[str, list[int]] = {}
    n_divergent = 0
    started = time.perf_counter()
    for _ in range(n_sims):
        truth = calibration.draw_prior(rng)
        y = calibration.simulate(rng, truth)
        draws, divergent = sampler(y, int(rng.integers(2**31 - 1)))
        n_divergent += divergent
        true_scalars = calibration.scalars(truth)
        for name, values in calibration.scalars(draws).items():
            kept = values[THIN - 1 :: THIN]
            ranks.setdefault(name, []).append(int((kept < true_scalars[name]).sum()))
    seconds = time.perf_counter() - started
    return SBCResult({k: np.asarray(v) for k, v in ranks.items()}, n_divergent, seconds)


def compiled(calibration: Calibration, **options) -> CompiledNUTS:
    return CompiledNUTS(calibration.model, "y", n_tune=N_TUNE, n_draws=N_KEPT * THIN, **options)


@pytest.fixture(scope="module")
def normals():
    calibration = two_normals()
    return calibration, compiled(calibration)


@pytest.fixture(scope="module")
def gated():
    calibration = gated_normals()
    return calibration, compiled(calibration)


def report(label: str, result: SBCResult, pvalues: dict[str, float]) -> str:
    shown = ", ".join(f"{name} {p:.3f}" for name, p in pvalues.items())
    return (
        f"SBC {label}: {len(next(iter(result.ranks.values())))} simulations in "
        f"{result.seconds:.1f} s, {result.n_divergent} divergent draws; p-values: {shown}"
    )


def assert_uniform(label: str, result: SBCResult, n_bins: int) -> None:
    pvalues = result.pvalues(n_bins)
    print(report(label, result, pvalues))  # shown with -s; the numbers for the notes
    failed = {name: p for name, p in pvalues.items() if p < ALPHA}
    assert not failed, f"ranks not uniform (p < {ALPHA}): {failed}; " + report(
        label, result, pvalues
    )


# ---------------------------------------------------------------------- tests


@pytest.mark.parametrize("model", ["normals", "gated"])
def test_sampled_density_is_the_one_pymc_compiles(model, request):
    # The JAX log density NUTS samples must be the model's own (PyTensor's Python
    # implementations: no gcc; data set with pm.set_data), at points off the initial one; both
    # are float64 sums of the same terms.
    calibration, sampler = request.getfixturevalue(model)
    rng = np.random.default_rng(5)
    reference = calibration.model.compile_logp(mode=PYTHON_MODE)
    start = calibration.model.initial_point()
    try:
        for _ in range(3):
            point = {
                name: value + rng.normal(0.0, 0.3, np.shape(value)) for name, value in start.items()
            }
            y = calibration.simulate(rng, calibration.draw_prior(rng))
            with calibration.model:
                pm.set_data({"y": y})
            expected = reference(point)
            assert float(sampler.logp(point, y)) == pytest.approx(expected, rel=1e-9)
    finally:  # the fixture's model goes back to its placeholder data
        with calibration.model:
            pm.set_data({"y": np.zeros(N_OBS)})


def test_two_normal_mixture_is_calibrated(normals):
    calibration, sampler = normals
    result = run_sbc(calibration, sampler, CI["n_sims"], seed=1)
    assert_uniform("two normals (CI)", result, CI["n_bins"])


def test_gated_mixture_is_calibrated(gated):
    calibration, sampler = gated
    result = run_sbc(calibration, sampler, CI["n_sims"], seed=2)
    assert_uniform("gated (CI)", result, CI["n_bins"])


def test_sbc_detects_data_counted_twice(normals):
    # The test must be able to fail: a likelihood counted twice (the error bm.mixture
    # prevents) gives posteriors too narrow by about sqrt(2), and the ranks pile up at both
    # ends. At the CI size (100 simulations, 10 bins) the smallest p-value of the four
    # parameters was 6e-6, 7e-5 and 4e-4 for seeds 3, 5 and 6 (with 50 simulations it
    # missed one seed in three), so the CI version has the power to catch such an error.
    calibration, _ = normals
    doubled = compiled(calibration, loglik=2.0)
    result = run_sbc(calibration, doubled, CI["n_sims"], seed=3)
    pvalues = result.pvalues(CI["n_bins"])
    print(report("data counted twice", result, pvalues))
    assert min(pvalues.values()) < ALPHA, pvalues


@pytest.mark.parametrize("model", ["normals", "gated"])
def test_thinned_draws_are_nearly_independent(model, request):
    # SBC needs independent draws: autocorrelated ones make the ranks of a right model
    # pile up at the ends (Talts et al. 2018, section 5.1). Over 20 data sets the median
    # effective size of the N_KEPT thinned draws should be close to N_KEPT; measured 0.70-1.04
    # N_KEPT per parameter over 30 data sets, so 0.5 N_KEPT flags a real loss of mixing
    # rather than the noise of ESS estimates from 99 draws.
    calibration, sampler = request.getfixturevalue(model)
    rng = np.random.default_rng(4)
    ess: dict[str, list[float]] = {}
    for _ in range(20):
        y = calibration.simulate(rng, calibration.draw_prior(rng))
        draws, _ = sampler(y, int(rng.integers(2**31 - 1)))
        for name, values in calibration.scalars(draws).items():
            ess.setdefault(name, []).append(float(az.ess(values[None, THIN - 1 :: THIN])))
    medians = {name: np.median(values) / N_KEPT for name, values in ess.items()}
    assert min(medians.values()) > 0.5, medians


@pytest.mark.slow
def test_two_normal_mixture_is_calibrated_long(normals):
    calibration, sampler = normals
    result = run_sbc(calibration, sampler, SLOW["n_sims"], seed=11)
    assert_uniform("two normals (slow)", result, SLOW["n_bins"])


@pytest.mark.slow
def test_gated_mixture_is_calibrated_long(gated):
    calibration, sampler = gated
    result = run_sbc(calibration, sampler, SLOW["n_sims"], seed=12)
    assert_uniform("gated (slow)", result, SLOW["n_bins"])
