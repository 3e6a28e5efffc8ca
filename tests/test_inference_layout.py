"""A fit on a compiled kernel names its draws and scores its rows without the PyMC model.

The estimators write, from the fit state, what ``pm.sample`` would read from their model (each
variable's dims, the coords, the observed and constant data: ``_inference_layout``) and what
their scorers read of the mixture's record (``_scoring_spec``). PyMC's model stays the
reference: the InferenceData built with the estimator's layout equals, group by group, the one
built from the model, and the spec equals the model's ``MixtureSpec`` in every field the
scorers read, option by option.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import xarray as xr

import bayesmixture as bm
from bayesmixture._spec import lookup
from bayesmixture.inference._compiled import model_layout, to_inference_data

N_OBS = 40
CHAINS, DRAWS = 2, 3


def _gaussian_data(rng, n_features=3):
    centres = np.repeat(np.array([[-2.0] * n_features, [2.0] * n_features]), N_OBS // 2, axis=0)
    return centres + rng.standard_normal((N_OBS, n_features))


def _with_gaps(X):
    X = X.copy()
    X[np.arange(N_OBS) % 5 == 1, 1] = np.nan
    X[np.arange(N_OBS) % 10 == 3, :2] = np.nan
    return X


# (estimator's parameters, fit's keyword arguments); "family" picks StudentTMixture and
# "gaps" puts missing entries in the data
GAUSSIAN_OPTIONS = {
    "full": ({}, {}),
    "tied": ({"covariance_type": "tied"}, {}),
    "diag": ({"covariance_type": "diag"}, {}),
    "spherical": ({"covariance_type": "spherical"}, {}),
    "one-feature": ({"n_features": 1}, {}),
    "group-weights": ({}, {"groups": np.arange(N_OBS) % 4}),
    "shared-label": ({}, {"groups": np.arange(N_OBS) // 5, "shared_label": True}),
    "sample-weight": ({}, {"sample_weight": np.arange(N_OBS) % 3 + 0.5}),
    "missing": ({"missing": "marginalize", "gaps": True}, {}),
    "missing-group-weights": (
        {"missing": "marginalize", "gaps": True},
        {"groups": np.arange(N_OBS) % 4},
    ),
    "noise": ({"noise": True}, {}),
    "labels": ({}, {"labels": np.where(np.arange(N_OBS) % 4 == 0, np.arange(N_OBS) // 20, -1)}),
    "string-labels": (
        {},
        {"labels": np.where(np.arange(N_OBS) % 4 == 0, np.arange(N_OBS) // 20, -1).astype(str)},
    ),
    "dirichlet-process": ({"weights_prior": "dirichlet_process"}, {}),
    "student-noise-labels-weighted": (
        {"family": "studentt", "noise": True},
        {
            "labels": np.where(np.arange(N_OBS) % 3 == 0, np.arange(N_OBS) // 20, -1),
            "sample_weight": np.arange(N_OBS) % 3 + 0.5,
        },
    ),
}


def _gaussian_fit(rng, option):
    params, fit_params = (dict(d) for d in GAUSSIAN_OPTIONS[option])
    X = _gaussian_data(rng, params.pop("n_features", 3))
    if params.pop("gaps", False):
        X = _with_gaps(X)
    labels = fit_params.pop("labels", None)
    if labels is not None and labels.dtype.kind == "U":
        labels = np.where(labels == "-1", None, labels).astype(object)
    student = params.pop("family", None) == "studentt"
    gm = (bm.StudentTMixture if student else bm.GaussianMixture)(3, chains=CHAINS, **params)
    gm._check_params()
    return gm, gm._validate_fit_data(X, labels, **fit_params)


MIXTURE_OPTIONS = {
    "normal": ("normal", {}, {}),
    "families": (["normal", "gamma", "lognormal"], {}, {}),
    "binomial-per-row-trials": ("binomial", {}, {"trials": np.arange(N_OBS) % 5 + 20}),
    "count-families": (["poisson", "negbinomial"], {}, {}),
    "dirichlet-process": ("poisson", {}, {"weights_prior": "dirichlet_process"}),
    "labels": (
        "gamma",
        {"labels": np.where(np.arange(N_OBS) % 5 == 0, np.arange(N_OBS) % 2, -1)},
        {},
    ),
}


def _mixture_fit(rng, option):
    family, fit_params, params = MIXTURE_OPTIONS[option]
    if family in ("poisson", "binomial", ["poisson", "negbinomial"]):
        y = rng.poisson(np.where(np.arange(N_OBS) % 2 == 0, 2.0, 6.0)).astype(float)
    else:
        y = rng.gamma(np.where(np.arange(N_OBS) % 2 == 0, 2.0, 9.0), 1.0)
    n_components = len(family) if isinstance(family, list) else 2
    mix = bm.Mixture(family, n_components, chains=CHAINS, **params)
    mix._check_params()
    return mix, mix._validate_fit_data(y, **fit_params)


def _draws(estimator, fit, rng) -> dict[str, np.ndarray]:
    """Every posterior variable at random unconstrained points, as the compiled path makes them."""
    density = estimator._compiled_density(fit)
    theta = 0.3 * rng.standard_normal((CHAINS, DRAWS, density.n_dim))
    return estimator._posterior_values(density, theta, fit)


def _idata(layout, values):
    stats = xr.Dataset({"diverging": (("chain", "draw"), np.zeros((CHAINS, DRAWS), bool))})
    return to_inference_data(layout, values, stats, sampler="compiled", seconds=0.0)


def _assert_same_inference_data(ours, reference) -> None:
    assert ours.groups() == reference.groups()
    for group in reference.groups():
        mine, theirs = ours[group], reference[group]
        assert list(mine.data_vars) == list(theirs.data_vars), group
        for name, array in theirs.data_vars.items():
            assert mine[name].dims == array.dims, (group, name)
            assert mine[name].shape == array.shape, (group, name)
            if group in ("observed_data", "constant_data"):
                assert mine[name].dtype == array.dtype, (group, name)
                np.testing.assert_array_equal(mine[name].values, array.values)
        assert sorted(mine.coords) == sorted(theirs.coords), group
        for name, coord in theirs.coords.items():
            assert mine[name].dtype == coord.dtype, (group, name)
            np.testing.assert_array_equal(mine[name].values, coord.values)


def _assert_same_spec(ours, reference) -> None:
    """The fields of the model's MixtureSpec that the scorers, relabelling and membership read."""
    assert (ours.name, ours.n_components) == (reference.name, reference.n_components)
    assert ours.weights_name == reference.weights_name
    np.testing.assert_array_equal(ours.data(), reference.data())
    for field in ("groups", "group_names", "case_weights"):
        mine, theirs = getattr(ours, field), getattr(reference, field)
        assert (mine is None) == (theirs is None), field
        if theirs is not None:
            np.testing.assert_array_equal(mine, theirs)
    assert ours.n_groups == reference.n_groups


ESTIMATOR_OPTIONS = [("gaussian", option) for option in GAUSSIAN_OPTIONS] + [
    ("mixture", option) for option in MIXTURE_OPTIONS
]


@pytest.mark.parametrize(
    ("kind", "option"), ESTIMATOR_OPTIONS, ids=[f"{k}-{o}" for k, o in ESTIMATOR_OPTIONS]
)
def test_inference_data_and_scoring_spec_equal_the_models(rng, kind, option):
    estimator, fit = {"gaussian": _gaussian_fit, "mixture": _mixture_fit}[kind](rng, option)
    model = estimator._build_model(fit)
    values = _draws(estimator, fit, rng)
    ours = _idata(estimator._inference_layout(fit), values)
    _assert_same_inference_data(ours, _idata(model_layout(model), values))
    _assert_same_spec(estimator._scoring_spec(fit), lookup(model, estimator._mixture_name))


@pytest.mark.parametrize("gated", [False, True], ids=["weights", "gated-weights"])
def test_regression_scoring_spec_equals_the_models(rng, gated):
    X = rng.normal(size=(N_OBS, 2))
    y = np.where(np.arange(N_OBS) % 2 == 0, 1.0, -2.0) + X[:, 0] + rng.normal(size=N_OBS)
    reg = bm.MixtureRegression(2, weights_from=[1] if gated else None)
    reg._check_params()
    fit = reg._validate_fit_data(X, y)
    model = reg._build_model(fit)
    _assert_same_spec(reg._scoring_spec(fit), lookup(model, reg._mixture_name))


def test_compiled_fit_builds_no_model_and_imports_no_pymc(tmp_path):
    """In a fresh process: the fit, its predictions and save/load on the compiled path leave
    PyMC unimported; ``model_`` then builds the reference model on demand."""
    script = textwrap.dedent(
        f"""
        import sys
        import numpy as np
        import bayesmixture as bm

        X = bm.datasets.load_penguins()[bm.datasets.PENGUIN_MEASUREMENTS]
        gm = bm.GaussianMixture(2, draws=30, tune=30, chains=1, random_seed=0,
                                progressbar=False).fit(X)
        assert gm.idata_.posterior.attrs["bayesmixture_sampler"] == "compiled"
        gm.predict_proba(X), gm.score_samples(X), gm.summary()
        gm.save({str(tmp_path / "fit.nc")!r})
        loaded = bm.load({str(tmp_path / "fit.nc")!r})
        np.testing.assert_allclose(loaded.predict_proba(X), gm.predict_proba(X))
        assert "pymc" not in sys.modules and "pytensor" not in sys.modules, "PyMC was imported"
        assert gm._model is None
        assert gm.model_.named_vars["mu"] is not None and "pymc" in sys.modules
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], env=dict(os.environ), capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr[-3000:]
