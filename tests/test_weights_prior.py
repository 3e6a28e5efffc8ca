"""weights_prior= (estimators/_weights.py): one check and one PyMC variable for every estimator,
and Dirichlet-process weights (truncated stick-breaking with a Gamma(1, 1) concentration)."""

from __future__ import annotations

import re
import warnings

import numpy as np
import pymc as pm
import pytest
from scipy import stats

import bayesmixture as bm
from bayesmixture.estimators._weights import (
    CONCENTRATION_PRIOR,
    check_weights_prior,
    weights_variable,
)
from pymc_reference import PYTHON_MODE


def test_stick_breaking_weights_have_the_documented_prior():
    # Reference: the stick-breaking construction written out with scipy. For K = 3 weights
    # w = (v1, v2 (1 - v1), (1 - v1)(1 - v2)) with v ~ Beta(1, a), the change of variables
    # v -> w has Jacobian 1 / ((1 - v1)) on the free coordinates (w1, w2), so
    # log p(w | a) = log Beta(v1; 1, a) + log Beta(v2; 1, a) - log(1 - v1).
    with pm.Model(coords={"component": range(3)}) as model:
        weights_variable("dirichlet_process", 3)
    a, w = 1.7, np.array([0.5, 0.3, 0.2])
    v1, v2 = w[0], w[1] / (1 - w[0])
    expected = (
        stats.beta.logpdf(v1, 1, a) + stats.beta.logpdf(v2, 1, a) - np.log1p(-v1)
    ) + stats.gamma.logpdf(a, CONCENTRATION_PRIOR[0], scale=1 / CONCENTRATION_PRIOR[1])
    logp = model.compile_logp(jacobian=False, mode=PYTHON_MODE)
    value = logp({"concentration_log__": np.log(a), "weights_simplex__": _simplex(w)})
    assert value == pytest.approx(expected, rel=1e-10)


def _simplex(w):
    """PyMC's simplex transform of w: log w_k - mean(log w) for the first K - 1 coordinates."""
    log_w = np.log(w)
    return log_w[:-1] - np.mean(log_w)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (
            lambda: bm.GaussianMixture(2, weights_prior="dirichlet"),
            "weights_prior='dirichlet' must be a positive number, 2 positive numbers (a "
            "Dirichlet concentration), or one of ['sparse', 'dirichlet_process'].",
        ),
        (
            lambda: bm.Mixture("normal", 1, weights_prior="dirichlet_process"),
            "weights_prior='dirichlet_process' needs n_components >= 2",
        ),
        (
            lambda: bm.MixtureRegression(2, weights_prior="dirichlet_process", weights_from=["x"]),
            "weights_prior='dirichlet_process' is a prior on constant weights; with "
            "weights_from= the weights come from the gate",
        ),
    ],
)
def test_bad_weights_priors_are_refused_by_name(make, message):
    estimator = make()
    with pytest.raises(ValueError, match=re.escape(message)):
        estimator._check_params()


def test_dirichlet_process_weights_refuse_per_group_weights():
    # refused by name before anything samples (the compiled density declines the fit, and
    # building the model says why)
    X = np.random.default_rng(0).normal(size=(20, 2))
    gm = bm.GaussianMixture(2, weights_prior="dirichlet_process", progressbar=False)
    with pytest.raises(ValueError, match="with groups= each group has its own weights"):
        gm.fit(X, groups=np.arange(20) % 2)


def test_check_weights_prior_takes_every_documented_form():
    for prior in (1.0, [1.0, 2.0, 3.0], "sparse", "dirichlet_process"):
        check_weights_prior(prior, 3)


# Dirichlet-process weights sample on the compiled path: a few seconds
@pytest.mark.filterwarnings("ignore::bayesmixture.exceptions.ConvergenceWarning")
def test_dirichlet_process_on_three_clusters_puts_the_mode_at_three():
    # Three clusters 6 sd apart, 10 sticks. Superfluous components keep a little weight
    # (their sticks' Beta(1, a) prior), so the convergence checks may warn about them.
    rng = np.random.default_rng(1)
    y = np.r_[rng.normal(-6, 1, 50), rng.normal(0, 1, 50), rng.normal(6, 1, 50)]
    fit = bm.Mixture(
        "normal",
        10,
        weights_prior="dirichlet_process",
        draws=300,
        tune=500,
        chains=2,
        random_seed=3,
        progressbar=False,
    ).fit(y)
    posterior = fit.n_components_posterior(random_seed=0)
    assert posterior.idxmax() == 3
    # the three largest weights hold the three clusters (a third each)
    weights = np.sort(fit.idata_.posterior["weights"].mean(("chain", "draw")).values)[::-1]
    np.testing.assert_allclose(weights[:3], 1 / 3, atol=0.05)  # sd of a share ~ 0.04 at N=150
    assert "concentration" in fit.idata_.posterior
    assert fit.idata_.posterior.attrs["bayesmixture_sampler"] == "compiled"


def test_a_sparse_fit_whose_weights_sink_to_zero_samples_and_judges_the_components_in_use():
    # Galaxies (km/s / 1000), six sparse components, seed 3: nutpie's low-rank mass-matrix
    # adaptation used to panic here as emptied components' weights sank towards 0.
    y = bm.datasets.load_galaxies() / 1000
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # divergences in the funnel of the emptied weights
        fit = bm.Mixture(
            "normal", 6, weights_prior="sparse", draws=500, tune=500, chains=2,
            random_seed=3, progressbar=False,
        ).fit(y)  # fmt: skip
    table = fit.diagnose().set_index("check")
    emptied = table.loc["collapsed_components"]
    assert emptied["status"] == "ok" and emptied["value"] >= 1
    # R-hat is that of the components in use: the emptied ones' weights (R-hat > 1.2 in
    # this run) are draws from their prior and left out
    in_use = np.flatnonzero(fit.membership_["probability"].sum("obs").values >= 1)
    assert any(f"component {k}" in table.loc["r_hat", "detail"] for k in in_use)
    # the K posterior puts most of its mass on 3 or 4 components (Roeder's galaxies)
    posterior = fit.n_components_posterior()
    assert posterior.idxmax() in (3, 4)
