"""The forum thread's operator-selection problem, fitted: our mixture versus the "in parts" model.

Sampled tests: small (2 chains x 500 draws), fixed seeds; each model compiled once per module.
The mixture is sampled twice, by PyMC's default NUTS (the reference) and by ``bm.sample``
(nutpie on JAX), and the two posteriors are compared.
"""

from __future__ import annotations

import arviz as az
import numpy as np
import pymc as pm
import pytensor.tensor as pt
import pytest

import bayesmixture as bm

SAMPLE = {"draws": 500, "tune": 500, "chains": 2, "random_seed": 11, "progressbar": False}


@pytest.fixture(scope="module")
def data():
    return bm.datasets.make_operator_mixture(random_seed=2)


def _mixture_model(data) -> pm.Model:
    with pm.Model() as model:
        x = pm.Normal("x", mu=1.5, sigma=1.0, shape=3)
        w = pm.Dirichlet("w", np.array([2.0, 2.0]))
        comps = [pm.Normal.dist(pt.dot(H, x), data.noise) for H in (data.H1, data.H2)]
        bm.mixture("y", w, comps, data.y)
    return model


@pytest.fixture(scope="module")
def pymc_fit(data):
    """PyMC's default NUTS: the reference sampler. Its log-density is compiled by JAX rather
    than C (the same sampler on the same graph): 8.6 s from an empty PyTensor cache where gcc
    took 21.3 s."""
    model = _mixture_model(data)
    with model:
        idata = pm.sample(**SAMPLE, compile_kwargs={"mode": "JAX"})
    return model, idata


@pytest.fixture(scope="module")
def bm_fit(data):
    """The library's own entry point with its default backend."""
    model = _mixture_model(data)
    return model, bm.sample(model, **SAMPLE)


@pytest.fixture(params=["pymc", "bm.sample"])
def mixture_fit(request):
    return request.getfixturevalue({"pymc": "pymc_fit", "bm.sample": "bm_fit"}[request.param])


@pytest.fixture(scope="module")
def in_parts_fit(data):
    with pm.Model() as model:
        x = pm.Normal("x", mu=1.5, sigma=1.0, shape=3)
        a1 = pm.Beta("alpha", alpha=2, beta=2)
        y1 = pm.Normal("y1", mu=pt.dot(data.H1, x), sigma=data.noise, observed=data.y)
        y2 = pm.Normal("y2", mu=pt.dot(data.H2, x), sigma=data.noise, observed=data.y)
        _ = a1 * y1 + (1 - a1) * y2
        idata = pm.sample(**SAMPLE)
    return model, idata


def test_mixture_puts_weight_on_the_better_operator(mixture_fit):
    _, idata = mixture_fit
    w_h2 = idata.posterior["w"].sel(w_dim_0=1).mean().item()
    assert w_h2 > 0.9


def test_mixture_recovers_latent_vector(mixture_fit, data):
    _, idata = mixture_fit
    x_mean = idata.posterior["x"].mean(("chain", "draw")).values
    # H2 is itself noisy (sd 0.01 per entry): the posterior centres on the least-squares
    # solution with H2, about (0.99, 2.02, 3.01); posterior sd is ~0.005, so 0.05 is far
    # wider than Monte Carlo error yet tight enough to fail if H1 (offset 0.1) were used.
    np.testing.assert_allclose(x_mean, data.x, atol=0.05)


def test_bm_sample_draws_agree_with_pymc_default_nuts(bm_fit, pymc_fit):
    """Same model, two NUTS implementations: posterior means agree within Monte Carlo error."""
    ours, reference = bm_fit[1], pymc_fit[1]
    assert ours.posterior.attrs["bayesmixture_sampler"] == "nutpie-jax"
    for name in ("x", "w"):
        diff = ours.posterior[name].mean(("chain", "draw")) - reference.posterior[name].mean(
            ("chain", "draw")
        )
        mcse = np.hypot(
            az.mcse(ours, var_names=[name])[name], az.mcse(reference, var_names=[name])[name]
        )
        # The two estimates are independent, so their difference has sd ~= the combined MCSE
        # (about 2e-4 for x, whose posterior sd is ~4e-3 with 600-1,200 effective draws); 4 MCSE
        # leaves a two-sided false alarm rate of 6e-5 per value, while a sampler that
        # explored a different posterior (H1's offset moves x by ~0.1) fails by far.
        np.testing.assert_array_less(np.abs(diff.values), 4 * mcse.values)
    # and both have the posterior sd of a correct likelihood (no double counting)
    np.testing.assert_allclose(
        ours.posterior["x"].std(("chain", "draw")),
        reference.posterior["x"].std(("chain", "draw")),
        rtol=0.2,  # sd estimates from 600-1,200 effective draws vary by a few per cent
    )


def test_in_parts_weight_stays_at_its_prior(in_parts_fit):
    _, idata = in_parts_fit
    alpha = idata.posterior["alpha"].values.ravel()
    # Beta(2, 2): mean 0.5, sd 0.2236. With ~1000 draws the Monte Carlo sd of the mean is
    # about 0.01 and of the sd about 0.005; 0.05 and 0.03 leave room while any data
    # influence (which the mixture shows pushes the weight past 0.9) would fail.
    assert abs(alpha.mean() - 0.5) < 0.05
    assert abs(alpha.std() - np.sqrt(1 / 20)) < 0.03


def test_in_parts_double_counting_shrinks_uncertainty(in_parts_fit, pymc_fit):
    """The thread's second symptom: the data counted twice shrink the posterior of x."""
    sd_parts = in_parts_fit[1].posterior["x"].std(("chain", "draw")).values
    sd_mixture = pymc_fit[1].posterior["x"].std(("chain", "draw")).values
    # Counting y twice (once through H1, once through H2) makes x's posterior narrower than
    # with the right likelihood, where essentially only H2 explains the data.
    assert np.all(sd_parts < sd_mixture)
