"""bm.sample (bayesmixture.inference.sample) on users' own PyMC models.

One small two-normal mixture (40 rows) is sampled once per backend and shared by the tests
(module fixtures, 2 chains x 200 draws). The default backend (nutpie on JAX) compiles in a
second or two; the others compile for 10-30 s on a machine with empty caches and are marked
slow. Agreement with PyMC's default NUTS on the forum model: tests/test_seed_problem.py.
"""

from __future__ import annotations

import re

import arviz as az
import numpy as np
import pymc as pm
import pytensor
import pytest

import bayesmixture as bm
from bayesmixture import inference

SMALL = {"draws": 200, "tune": 200, "chains": 2, "random_seed": 3, "progressbar": False}
MEANS = np.array([-3.0, 3.0])
Y = np.random.default_rng(0).normal(size=40) + np.repeat(MEANS, 20)


def _two_normals() -> pm.Model:
    with pm.Model(coords={"component": ["low", "high"]}) as model:
        w = pm.Dirichlet("w", np.ones(2), dims="component")
        mu = pm.Normal("mu", [-1.0, 1.0], 5.0, dims="component")
        sigma = pm.HalfNormal("sigma", 2.0)
        bm.mixture("y", w, [pm.Normal.dist(mu[k], sigma) for k in range(2)], Y)
    return model


@pytest.fixture(scope="module")
def model() -> pm.Model:
    return _two_normals()


@pytest.fixture(scope="module")
def auto_fit(model) -> az.InferenceData:
    return bm.sample(model, **SMALL)


def test_sample_is_public_and_auto_is_nutpie_on_jax(auto_fit):
    assert bm.sample is inference.sample
    assert "sample" in bm.__all__
    assert inference.resolve_sampler("auto") == "nutpie-jax"
    assert auto_fit.posterior.attrs["bayesmixture_sampler"] == "nutpie-jax"


def test_posterior_has_the_models_variables_dims_and_data(auto_fit):
    posterior = auto_fit.posterior
    # the model's variables only, not nutpie's unconstrained values (w_simplex__, ...)
    assert set(posterior.data_vars) == {"w", "mu", "sigma"}
    assert posterior["mu"].dims == ("chain", "draw", "component")
    assert posterior["mu"].shape == (2, 200, 2)
    assert list(posterior["component"].values) == ["low", "high"]
    np.testing.assert_array_equal(auto_fit.observed_data["y"], Y)
    assert {"diverging", "step_size"} <= set(auto_fit.sample_stats.data_vars)


def test_the_same_seed_gives_the_same_draws(auto_fit, model):
    again = bm.sample(model, **SMALL)
    np.testing.assert_array_equal(again.posterior["mu"], auto_fit.posterior["mu"])


def test_membership_reads_the_result(auto_fit, model):
    result = bm.membership(model, auto_fit, "y")
    np.testing.assert_allclose(result["probability"].sum("component"), 1.0, atol=1e-12)
    # components 6 sd apart: every row goes to the component it was drawn from
    labels = result["label"].values
    assert (labels[:20] == labels[0]).all() and (labels[20:] == 1 - labels[0]).all()


def test_sampling_and_membership_compile_no_c_code(model, monkeypatch):
    """The default path never asks PyTensor for a C module (compiled now or cached)."""
    from pytensor.link.c.cmodule import ModuleCache

    def refuse(*args, **kwargs):
        raise AssertionError("a C module was requested")

    monkeypatch.setattr(ModuleCache, "module_from_key", refuse)
    idata = bm.sample(model, **{**SMALL, "draws": 50, "tune": 50})
    assert bm.membership(model, idata, "y")["probability"].shape == (40, 2)


def test_works_without_a_c_compiler(model):
    with pytensor.config.change_flags(cxx=""):
        idata = bm.sample(model, **{**SMALL, "draws": 50, "tune": 50})
        assert bm.membership(model, idata, "y")["probability"].shape == (40, 2)


def test_nutpie_starts_every_chain_at_the_given_initial_values(model):
    # Started with the components swapped, the chains stay in that mode: the two modes are
    # 6 sd apart with 20 rows each, and the model's own initial point (mu = [-1, 1]) lies in
    # the other one.
    start = {"mu": MEANS[::-1], "sigma": 1.0, "w": np.array([0.5, 0.5])}
    idata = bm.sample(model, **{**SMALL, "draws": 50, "tune": 50}, initvals=[start, start])
    chain_means = idata.posterior["mu"].mean("draw").values  # (chain, component)
    np.testing.assert_allclose(chain_means, [MEANS[::-1], MEANS[::-1]], atol=0.5)


def test_a_symmetric_model_samples_without_initial_values():
    """Components sharing one prior have a zero gradient at the model's initial point, which
    nutpie cannot start from: without initvals each chain starts at a jittered point."""
    with pm.Model() as model:
        w = pm.Dirichlet("w", np.ones(2))
        mu = pm.Normal("mu", 0.0, 1.0, shape=2)
        bm.mixture("y", w, pm.Normal.dist(mu, 1.0), np.zeros(5))
    idata = bm.sample(model, **{**SMALL, "draws": 20, "tune": 20})
    assert np.isfinite(idata.posterior["mu"].values).all()


@pytest.mark.parametrize(
    "sampler",
    [
        pytest.param("numpyro", marks=pytest.mark.slow),  # ~10 s of XLA, first run
        pytest.param("pymc-numba", marks=pytest.mark.slow),  # ~25 s of Numba, first run
        pytest.param("nutpie", marks=pytest.mark.slow),  # ~25 s of Numba, every process
        pytest.param("pymc", marks=pytest.mark.slow),  # gcc, first run
    ],
)
def test_every_backend_gives_the_same_posterior(sampler, model, auto_fit):
    start = {"mu": MEANS, "sigma": 1.0, "w": np.array([0.5, 0.5])}
    idata = bm.sample(model, sampler=sampler, initvals=[start, start], **SMALL)
    assert idata.posterior.attrs["bayesmixture_sampler"] == sampler
    assert set(idata.posterior.data_vars) == {"w", "mu", "sigma"}
    assert idata.posterior["mu"].dims == ("chain", "draw", "component")
    for name in ("mu", "sigma"):
        diff = idata.posterior[name].mean(("chain", "draw")) - auto_fit.posterior[name].mean(
            ("chain", "draw")
        )
        mcse = np.hypot(
            az.mcse(idata, var_names=[name])[name], az.mcse(auto_fit, var_names=[name])[name]
        )
        # independent estimates of the same means: their difference has sd ~= the combined
        # MCSE (~0.02 for mu here); 4 MCSE keep false alarms below 1e-4 per value
        np.testing.assert_array_less(np.abs(diff.values), 4 * mcse.values)


def test_unknown_sampler_lists_the_choices(model):
    with pytest.raises(ValueError, match=re.escape("sampler='stan' is not a sampler; choose")):
        bm.sample(model, sampler="stan")


def test_compiled_is_refused_for_a_model_of_ones_own(model):
    with pytest.raises(ValueError, match="sampler='compiled' runs the built-in estimators'"):
        bm.sample(model, sampler="compiled")


def test_a_missing_package_is_named_and_auto_takes_the_next(monkeypatch):
    monkeypatch.setattr(inference, "_installed", lambda name: name != "nutpie")
    with pytest.raises(ValueError, match=re.escape("needs the packages ['nutpie']")):
        inference.resolve_sampler("nutpie-jax")
    assert inference.resolve_sampler("auto") == "numpyro"


def test_initvals_need_one_entry_per_chain(model):
    with pytest.raises(ValueError, match=re.escape("initvals has 1 entries; expected one per")):
        bm.sample(model, initvals=[{}], **SMALL)


def test_untuned_sampling_takes_pymcs_nuts(model):
    # nutpie cannot sample without a tuning step; an untuned run is a diagnostic one
    with pytest.raises(ValueError, match=re.escape("needs at least one tuning step; pass tune")):
        bm.sample(model, sampler="nutpie-jax", tune=0, draws=10, chains=2)
    with pytensor.config.change_flags(cxx=""):  # PyTensor's Python implementations: no gcc
        idata = bm.sample(model, **{**SMALL, "draws": 20, "tune": 0})
    assert idata.posterior.attrs["bayesmixture_sampler"] == "pymc"
