"""diagnose(): every check on real fits (healthy, untuned, overfitted) and on doctored copies;
the ConvergenceWarning after fit; interrupted fits; the same seed gives the same fit.

Fits are module-scoped and only read. The healthy and untuned fits share data and draws
(2 chains x 1000) and differ only in tuning, so what the untuned fit fails is the tuning's
doing. Thresholds below are measured margins over seeds 0-5 of the same setups (noted where
used), so a fixed seed is not a lucky pick.
"""

from __future__ import annotations

import copy
import re
import warnings

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from sklearn.base import clone

import bayesmixture as bm
from bayesmixture.diagnostics import CHAIN_SEPARATION_MAX, chain_separation, run_checks
from bayesmixture.exceptions import ConvergenceWarning
from pymc_reference import python_backend

CHECKS = [
    "divergences",
    "r_hat",
    "ess_bulk",
    "ess_tail",
    "chains_disagree",
    "collapsed_components",
    "label_switching",
]
MIXING = {"r_hat", "ess_bulk", "ess_tail"}
SETTINGS = {"chains": 2, "progressbar": False}
SMALL = {"draws": 50, "tune": 50, **SETTINGS}  # 100 draws: ESS < 400 whatever the chains do


def fit_recording(estimator, y):
    """Fit, and return the estimator with the ConvergenceWarnings the fit issued."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        estimator.fit(y)
    return estimator, [w for w in caught if issubclass(w.category, ConvergenceWarning)]


def statuses(table: pd.DataFrame) -> dict[str, str]:
    return dict(zip(table["check"], table["status"], strict=True))


def failed(table: pd.DataFrame) -> set[str]:
    return set(table.loc[table["status"] == "warning", "check"])


@pytest.fixture(scope="module")
def two_clusters() -> np.ndarray:
    rng = np.random.default_rng(20261125)
    return np.r_[rng.normal(-4.0, 1.0, 60), rng.normal(4.0, 1.0, 60)]


@pytest.fixture(scope="module")
def healthy(two_clusters):
    # on seeds 0-5: R-hat 1.002-1.005 (target below 1.01), smallest ESS 1255-1562 (target 400)
    model = bm.Mixture("normal", 2, draws=1000, tune=1000, random_seed=5, **SETTINGS)
    return fit_recording(model, two_clusters)


@pytest.fixture(scope="module")
def untuned(two_clusters):
    # No adaptation of step size or mass matrix. On seeds 0-5 the smallest ESS was 216-387
    # (below 400 every time, a quarter of the tuned fit's) and R-hat 1.006-1.016. PyMC's
    # sampler (nutpie needs a tuning step) on Python's implementations: ~11 s, where gcc
    # would take ~40 s on a fresh machine.
    model = bm.Mixture("normal", 2, draws=1000, tune=0, random_seed=5, **SETTINGS)
    with python_backend():
        return fit_recording(model, two_clusters)


@pytest.fixture(scope="module")
def overfitted():
    """Two components on one cluster, with the sparse weights prior (Dirichlet 0.01).

    Below d/2 = 1 (d parameters per component) the superfluous component's weight goes to 0
    (Rousseau & Mengersen 2011): on seeds 0-5 its expected members were 0.01-0.22, against
    the threshold 1.
    """
    y = np.random.default_rng(7).normal(0.0, 1.0, 100)
    model = bm.Mixture(
        "normal", 2, draws=300, tune=300, weights_prior="sparse", random_seed=2, **SETTINGS
    )
    return fit_recording(model, y)


# ---------------------------------------------------------------------- the table


def test_diagnose_gives_one_row_per_check_with_one_sentence_of_advice(healthy):
    fit, _ = healthy
    table = bm.diagnose(fit)
    assert list(table.columns) == ["check", "status", "value", "detail", "advice"]
    assert table["check"].tolist() == CHECKS
    assert set(table["status"]) <= {"ok", "warning"}
    assert table["value"].dtype == float
    for advice in table["advice"]:
        assert re.fullmatch(r"[A-Z][^.]*(\.\w[^.]*)*\.", advice), advice  # one sentence
    pd.testing.assert_frame_equal(fit.diagnose(), table)  # the method is the function


def test_healthy_fit_passes_every_check_and_does_not_warn(healthy):
    fit, caught = healthy
    table = fit.diagnose()
    assert set(table["status"]) == {"ok"}, table.to_string()
    assert caught == []


def test_r_hat_and_ess_are_those_of_the_relabelled_posterior(healthy):
    fit, _ = healthy
    table = fit.diagnose().set_index("check")
    summary = fit.summary()  # ArviZ on the relabelled posterior, every parameter
    # the same ArviZ estimators on the same draws; summary() rounds to 2 decimals
    assert table.loc["r_hat", "value"] == pytest.approx(summary["r_hat"].max(), abs=0.01)
    assert table.loc["ess_bulk", "value"] == pytest.approx(summary["ess_bulk"].min(), abs=1)
    # the parameter with the smallest ESS, named in words ("sigma[0]": sigma of component 0)
    name, index = re.fullmatch(r"(\w+)\[(\d+)\]", summary["ess_bulk"].idxmin()).groups()
    assert f"{name} of component {index}" in table.loc["ess_bulk", "detail"]


# ---------------------------------------------------------------------- bad setups


def test_diagnose_leaves_arviz_numba_setting_as_it_was(healthy):
    # diagnose() computes ArviZ's R-hat and ESS with numpy variances, then restores the flag
    import arviz as az

    original = az.Numba.numba_flag
    try:
        for flag in (True, False):
            az.Numba.numba_flag = flag
            table = healthy[0].diagnose()
            assert az.Numba.numba_flag is flag
            assert statuses(table)["r_hat"] == "ok"
    finally:
        az.Numba.numba_flag = original


def test_untuned_sampler_fails_the_mixing_checks_only(untuned, healthy):
    fit, _ = untuned
    table = fit.diagnose()
    # the chains mix badly; they are not in different modes, and no component is empty
    assert failed(table) & MIXING and not failed(table) - MIXING, table.to_string()
    ess = table.set_index("check").loc[["ess_bulk", "ess_tail"], "value"]
    good = healthy[0].diagnose().set_index("check").loc[["ess_bulk", "ess_tail"], "value"]
    assert ess.min() < 0.5 * good.min()  # measured: about a quarter on seeds 0-5


def test_fit_warns_once_naming_exactly_the_failed_checks(untuned):
    fit, caught = untuned
    assert len(caught) == 1
    message = str(caught[0].message)
    named = set(re.findall(r"^- (\w+):", message, flags=re.M))
    assert named == failed(fit.diagnose())
    assert f"{len(named)} of {len(CHECKS)} sampling checks failed" in message
    assert caught[0].filename == __file__  # stacklevel points at the caller's fit(...)


def test_two_components_on_one_cluster_report_the_empty_one(overfitted):
    fit, caught = overfitted
    table = fit.diagnose().set_index("check")
    expected = fit.membership_["probability"].sum("obs").values  # members per component
    weights = fit.idata_.posterior["weights"].mean(("chain", "draw")).values
    n_obs = fit.membership_.sizes["obs"]
    by_hand = np.flatnonzero((expected < 1) | (weights < 1 / (10 * n_obs)))
    assert len(by_hand) == 1  # the setup does what it should: one component emptied
    # the sparse prior empties superfluous components on purpose: reported, and passed
    row = table.loc["collapsed_components"]
    assert (row["status"], row["value"]) == ("ok", 1)
    assert "1 of 2 components emptied by the weights prior, as intended (1 in use)" in row["detail"]
    assert f"component {by_hand[0]}:" in row["detail"]
    assert all("collapsed_components" not in str(w.message) for w in caught)


def test_an_emptied_component_without_a_sparse_prior_is_a_warning(overfitted):
    fit, _ = overfitted
    # the same draws judged as a fit whose weights prior does not empty components
    findings = run_checks(fit.idata_, membership=fit.membership_, empties_on_purpose=False)
    (row,) = [f for f in findings if f.check == "collapsed_components"]
    assert (row.status, row.value) == ("warning", 1)
    assert "fit fewer components" in row.advice


# ---------------------------------------------------------------------- doctored copies


def doctored(fit, **changes):
    """A shallow copy of a fitted estimator with some fitted attributes replaced, and its
    checks made again on them (as fit makes them once it ends)."""
    other = copy.copy(fit)
    for name, value in changes.items():
        setattr(other, name, value)
    other._findings = other._run_checks(
        other.idata_, other.membership_, other.permutations_, other._fit_data
    )
    return other


def test_chain_separation_matches_the_formula(healthy):
    posterior = healthy[0].idata_.posterior
    by_hand = {}
    for name in ("weights", "mu", "sigma"):
        x = posterior[name].values  # (chain, draw, component)
        means, within = x.mean(axis=1), np.sqrt(x.var(axis=1, ddof=1).mean(axis=0))
        for k, value in enumerate((means.max(axis=0) - means.min(axis=0)) / within):
            by_hand[f"{name}[{k}]"] = value
    value, name = chain_separation(posterior)
    worst = max(by_hand, key=by_hand.get)
    # same formula on the same draws: float rounding only
    assert value == pytest.approx(by_hand[worst], rel=1e-10) and name == worst


def test_chains_in_different_modes_are_flagged(healthy):
    fit, _ = healthy
    idata = copy.deepcopy(fit.idata_)
    mu = idata.posterior["mu"]
    shift = 6.0 * float(mu.sel(component=1).std("draw").mean())  # 6 within-chain sds
    idata.posterior["mu"] = mu + xr.DataArray([0.0, shift], dims="chain") * (mu.component == 1)
    table = bm.diagnose(doctored(fit, idata_=idata)).set_index("check")
    assert table.loc["chains_disagree", "status"] == "warning"
    # 6 sds of shift plus the healthy fit's own separation (below 0.2 sd)
    assert table.loc["chains_disagree", "value"] == pytest.approx(6.0, abs=0.3)
    assert "mu of component 1" in table.loc["chains_disagree", "detail"]
    assert table.loc["chains_disagree", "value"] > CHAIN_SEPARATION_MAX


def test_one_chain_cannot_rule_out_other_modes(healthy):
    fit, _ = healthy
    one = doctored(
        fit, idata_=fit.idata_.isel(chain=[0]), permutations_=fit.permutations_.isel(chain=[0])
    )
    row = bm.diagnose(one).set_index("check").loc["chains_disagree"]
    assert row["status"] == "warning" and np.isnan(row["value"])
    assert row["detail"].startswith("Only one chain")


def test_divergences_are_counted(healthy):
    fit, _ = healthy
    idata = copy.deepcopy(fit.idata_)
    diverging = idata.sample_stats["diverging"].copy()
    diverging[1, [3, 50, 700]] = True
    idata.sample_stats["diverging"] = diverging
    row = bm.diagnose(doctored(fit, idata_=idata)).set_index("check").loc["divergences"]
    assert (row["status"], row["value"]) == ("warning", 3)
    assert "3 of 2000 draws (0.1%)" in row["detail"]


def test_label_switching_found_is_reported_as_fixed(healthy):
    fit, _ = healthy
    perms = fit.permutations_.copy()
    perms[1] = [1, 0]  # chain 1 found the components in the other order
    perms[0, :250] = [1, 0]  # and a quarter of chain 0's draws were swapped
    row = bm.diagnose(doctored(fit, permutations_=perms)).set_index("check").loc["label_switching"]
    assert row["status"] == "ok"
    assert row["value"] == pytest.approx((250 + 1000) / 2000)
    assert "chain 0: 25%, chain 1: 100%" in row["detail"]
    assert "different orders" in row["detail"] and row["advice"].startswith("Fixed")


def test_diagnose_refuses_what_is_not_a_fitted_estimator(healthy):
    message = (
        "diagnose takes a fitted bayesmixture estimator (GaussianMixture, Mixture, "
        "MixtureRegression), got InferenceData"
    )
    with pytest.raises(TypeError, match=re.escape(message)):
        bm.diagnose(healthy[0].idata_)
    with pytest.raises(AttributeError, match="not fitted yet"):
        bm.Mixture("normal", 2).diagnose()


# ---------------------------------------------------------------------- the warning


def test_convergence_warning_is_issued_and_can_be_filtered(two_clusters):
    model = bm.Mixture("normal", 2, random_seed=3, **SMALL)
    with pytest.warns(ConvergenceWarning, match="ess_bulk"):
        model.fit(two_clusters)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        warnings.filterwarnings("ignore", category=ConvergenceWarning)
        model.fit(two_clusters)
    assert not [w for w in caught if "sampling checks failed" in str(w.message)]
    assert "ess_bulk" in failed(model.diagnose())  # filtered, not fixed


# ---------------------------------------------------------------------- interrupted fits

FITTED = ("idata_", "membership_", "permutations_", "model_", "_fit_data", "n_features_in_")


def interrupt(*args, **kwargs):
    raise KeyboardInterrupt


@pytest.mark.parametrize(
    "target",
    [
        "bayesmixture.inference._compiled.sample_compiled",  # while sampling (compiled path)
        "bayesmixture.inference.sample",  # while sampling PyMC's graph
        "bayesmixture.estimators._base.relabel_and_assign",  # after sampling, while relabelling
    ],
)
def test_interrupted_fit_leaves_an_unfitted_estimator_unfitted_and_usable(
    two_clusters, monkeypatch, target
):
    sampler = "pymc" if target.endswith("inference.sample") else "auto"
    model = bm.Mixture("normal", 2, random_seed=4, sampler=sampler, **SMALL)
    with monkeypatch.context() as patch:
        patch.setattr(target, interrupt)
        with pytest.raises(KeyboardInterrupt):
            model.fit(two_clusters)
    assert not [name for name in FITTED if hasattr(model, name)]
    with pytest.raises(AttributeError, match="not fitted yet"):
        model.predict(two_clusters)
    # usable: a refit works (PyMC's sampler on Python's implementations: no gcc)
    with warnings.catch_warnings(), python_backend():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(two_clusters)
    assert model.membership_["probability"].shape == (120, 2)


def test_interrupted_refit_keeps_the_previous_fit(two_clusters, monkeypatch):
    model = bm.Mixture("normal", 2, random_seed=5, **SMALL)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(two_clusters)
    before = {name: getattr(model, name) for name in FITTED}
    labels = model.predict(two_clusters)
    monkeypatch.setattr("bayesmixture.inference._compiled.sample_compiled", interrupt)
    with pytest.raises(KeyboardInterrupt):
        model.fit(two_clusters[:50] + 1.0)  # other data: a half-done fit would show
    assert all(getattr(model, name) is value for name, value in before.items())
    np.testing.assert_array_equal(model.predict(two_clusters), labels)


# ---------------------------------------------------------------------- reproducibility


def assert_same_fit(a, b, new_rows):
    """Identical draws (both posteriors), permutations, membership and predictions."""
    for group in ("posterior", "unrelabelled_posterior", "sample_stats"):
        for name, var in a.idata_[group].data_vars.items():
            if not re.search("time|perf_counter", str(name)):  # wall-clock timings differ
                np.testing.assert_array_equal(var.values, b.idata_[group][name].values)
    np.testing.assert_array_equal(a.permutations_.values, b.permutations_.values)
    for name in a.membership_.data_vars:
        np.testing.assert_array_equal(a.membership_[name].values, b.membership_[name].values)
    np.testing.assert_array_equal(a.predict_proba(new_rows), b.predict_proba(new_rows))
    np.testing.assert_array_equal(a.predict(new_rows), b.predict(new_rows))
    np.testing.assert_array_equal(a.score_samples(new_rows), b.score_samples(new_rows))


def test_same_seed_gives_the_same_fit(healthy, two_clusters):
    fit, _ = healthy
    again, _ = fit_recording(clone(fit), two_clusters)
    assert_same_fit(fit, again, np.linspace(-8, 8, 17))
    other, _ = fit_recording(clone(fit).set_params(random_seed=2), two_clusters)
    # a different seed gives different draws, so the equality above is not vacuous
    assert not np.array_equal(
        fit.idata_.posterior["mu"].values, other.idata_.posterior["mu"].values
    )


def test_save_and_load_give_the_same_fit(healthy, tmp_path):
    fit, _ = healthy
    fit.save(tmp_path / "fit.nc")
    loaded = bm.load(tmp_path / "fit.nc")
    assert_same_fit(fit, loaded, np.linspace(-8, 8, 17))
    pd.testing.assert_frame_equal(loaded.diagnose(), fit.diagnose())
