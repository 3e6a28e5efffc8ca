"""GaussianMixture with grouped membership, frequency weights and missing entries.

Acceptance of the structured-mixtures issue at the estimator level: each fit is compared with
the generating labels or with an equivalent fit of differently shaped data.
"""

from __future__ import annotations

import re

import arviz as az
import numpy as np
import pytest

import bayesmixture as bm
from pymc_reference import python_backend

# Small, fast fits: spherical/diag covariances, 2 chains x 300 draws (each is ~5-10 s).
FAST = dict(draws=300, tune=300, chains=2, progressbar=False, random_seed=3)


def _accuracy(found: np.ndarray, truth: np.ndarray, n_components: int) -> float:
    """Share of agreeing labels under the best matching of component numbers."""
    from itertools import permutations

    return max(
        np.mean(np.asarray(perm)[found] == truth) for perm in permutations(range(n_components))
    )


@pytest.fixture(scope="module")
def grouped_data():
    """30 groups of 3-20 rows, each group from one of 2 components 2.5 sd apart, shuffled."""
    rng = np.random.default_rng(1)
    n_groups = 30
    sizes = rng.integers(3, 21, n_groups)
    group_label = rng.integers(0, 2, n_groups)
    group = np.repeat(np.arange(n_groups), sizes)
    means = np.array([[0.0, 0.0], [1.77, 1.77]])  # distance 2.5
    X = means[group_label[group]] + rng.normal(size=(len(group), 2))
    order = rng.permutation(len(group))
    names = np.array([f"g{j}" for j in range(n_groups)])
    return X[order], names[group[order]], group_label, names


@pytest.fixture(scope="module")
def grouped_fits(grouped_data):
    X, groups, _, _ = grouped_data
    kw = dict(covariance_type="spherical", **FAST)
    # shared labels are scored on PyMC's graph: Python's implementations, no gcc
    with python_backend():
        shared = bm.GaussianMixture(2, **kw).fit(X, groups=groups, shared_label=True)
    ignoring = bm.GaussianMixture(2, **kw).fit(X)
    return shared, ignoring


def test_shared_labels_recover_the_groups_and_beat_ignoring_them(grouped_data, grouped_fits):
    X, groups, group_label, names = grouped_data
    shared, ignoring = grouped_fits
    membership = shared.membership_
    assert membership["probability"].dims == ("group", "component")
    # Group coordinates are the user's labels (sorted), not internal codes.
    assert sorted(membership["group"].values.tolist()) == sorted(names.tolist())
    truth = group_label[[int(name[1:]) for name in membership["group"].values]]
    assert _accuracy(membership["label"].values, truth, 2) >= 0.95
    # Per row: the grouped model gives each row its group's label; one that ignores the
    # groups must classify 2.5-sd-apart rows alone (Bayes accuracy Phi(1.25) ~ 0.89).
    row_truth = group_label[[int(name[1:]) for name in groups]]
    grouped_rows = _accuracy(shared.predict(X, groups=groups), row_truth, 2)
    ungrouped_rows = _accuracy(ignoring.predict(X), row_truth, 2)
    assert grouped_rows >= 0.95
    assert grouped_rows > ungrouped_rows + 0.05


def test_shared_label_prediction_gives_rows_their_groups_probabilities(grouped_data, grouped_fits):
    X, groups, _, _ = grouped_data
    shared, _ = grouped_fits
    proba = shared.predict_proba(X[:40], groups=groups[:40])
    for name in np.unique(groups[:40]):
        rows = proba[groups[:40] == name]
        np.testing.assert_allclose(rows, np.broadcast_to(rows[0], rows.shape), rtol=1e-12)
    with pytest.raises(ValueError, match=re.escape("fitted with shared_label=True; pass groups=")):
        shared.predict_proba(X[:5])
    with pytest.raises(ValueError, match="rows of a group are not independent"):
        shared.score_samples(X[:5])


def test_shared_label_needs_groups(grouped_data):
    X, _, _, _ = grouped_data
    with pytest.raises(ValueError, match=re.escape("shared_label=True needs groups=")):
        bm.GaussianMixture(2, **FAST).fit(X, shared_label=True)


def test_integer_sample_weights_equal_repeated_rows():
    rng = np.random.default_rng(4)
    X = np.r_[rng.normal([-2.0, 0.0], 0.7, (40, 2)), rng.normal([2.0, 1.0], 0.7, (40, 2))]
    counts = rng.integers(1, 4, len(X))
    kw = dict(covariance_type="diag", **FAST)
    weighted = bm.GaussianMixture(2, **kw).fit(X, sample_weight=counts)
    repeated = bm.GaussianMixture(2, **kw).fit(np.repeat(X, counts, axis=0))
    # Weighted standardisation equals that of the repeated data, so both models are the same
    # posterior; only Monte Carlo error separates the two sets of draws.
    np.testing.assert_allclose(weighted._fit_data.center, repeated._fit_data.center)
    for name in ("means", "sigmas", "weights"):
        a, b = (_ordered_summary(fit, name) for fit in (weighted, repeated))
        mcse = np.hypot(a["mcse_mean"], b["mcse_mean"])
        # 4.5 combined MCSE: with ~10 compared means, a false alarm has probability < 1e-4.
        assert np.all(np.abs(a["mean"] - b["mean"]) < 4.5 * mcse), name
        # and the spreads agree (a doubled likelihood would shrink them by ~sqrt(2)).
        ratio = a["sd"] / b["sd"]
        assert np.all((ratio > 0.75) & (ratio < 1.33)), name


def _ordered_summary(fit, name: str) -> dict[str, np.ndarray]:
    """Posterior mean, sd and MCSE of ``name``, components ordered by their first mean."""
    order = np.argsort(fit.means_[:, 0])  # the two fits may number the components differently
    post = fit.idata_.posterior[name].isel(component=order)
    table = az.summary(post.to_dataset(), round_to="none")
    return {key: table[key].to_numpy() for key in ("mean", "sd", "mcse_mean")}


@pytest.mark.parametrize(
    ("weights", "message"),
    [
        (np.r_[-1.0, np.ones(9)], "sample_weight is negative in row 0"),
        (np.r_[np.inf, np.ones(9)], "sample_weight has infinite values in row 0"),
        (np.ones(3), "sample_weight has shape (3,); expected one weight per observation"),
        (np.zeros(10), "sample_weight is zero for every observation"),
    ],
)
def test_bad_sample_weights_are_refused_before_sampling(weights, message):
    X = np.random.default_rng(0).normal(size=(10, 2))
    with pytest.raises(ValueError, match=re.escape(message)):
        bm.GaussianMixture(2, **FAST).fit(X, sample_weight=weights)


@pytest.fixture(scope="module")
def gapped_data():
    """A well-separated 3-D mixture of 3 components, and a copy with 20% of entries removed."""
    rng = np.random.default_rng(5)
    labels = rng.integers(0, 3, 240)
    means = np.array([[0.0, 0.0, 0.0], [4.0, 0.0, 2.0], [0.0, 4.0, -2.0]])
    X = means[labels] + rng.normal(size=(240, 3))
    gaps = rng.random(X.shape) < 0.2
    empty = gaps.all(axis=1)
    gaps[empty, rng.integers(0, 3, empty.sum())] = False  # every row keeps one entry
    return X, np.where(gaps, np.nan, X), labels


def test_missing_entries_keep_accuracy_within_three_points(gapped_data):
    X, gapped, labels = gapped_data
    kw = dict(covariance_type="diag", **FAST)
    complete = bm.GaussianMixture(3, **kw).fit(X)
    marginal = bm.GaussianMixture(3, missing="marginalize", **kw).fit(gapped)
    assert np.isnan(gapped).mean() == pytest.approx(0.2, abs=0.02)
    acc_complete = _accuracy(complete.membership_["label"].values, labels, 3)
    acc_gapped = _accuracy(marginal.membership_["label"].values, labels, 3)
    assert acc_complete >= 0.9
    assert acc_gapped >= acc_complete - 0.03
    # New rows with gaps are scored too, and fully observed ones as by the complete fit
    # up to Monte Carlo error (same data apart from the gaps: agreement on clear rows).
    proba = marginal.predict_proba(gapped[:30])
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert _accuracy(proba.argmax(axis=1), labels[:30], 3) >= 0.85
    # By default missing entries are an error naming the rows.
    first = int(np.flatnonzero(np.isnan(gapped).any(axis=1))[0])
    with pytest.raises(ValueError, match=re.escape(f"missing (NaN) values in row {first}")):
        complete.predict_proba(gapped[: first + 1])


def test_rows_with_nothing_observed_are_refused(gapped_data):
    _, gapped, _ = gapped_data
    bad = gapped[:20].copy()
    bad[7] = np.nan
    with pytest.raises(ValueError, match=re.escape("X has no observed entries in row 7")):
        bm.GaussianMixture(3, missing="marginalize", **FAST).fit(bad)


def test_missing_entries_survive_save_and_load(gapped_data, tmp_path):
    _, gapped, _ = gapped_data
    fit = bm.GaussianMixture(
        2,
        missing="marginalize",
        covariance_type="spherical",
        draws=50,
        tune=50,
        chains=1,
        progressbar=False,
        random_seed=0,
    ).fit(gapped[:60])
    fit.save(tmp_path / "fit.nc")
    loaded = bm.load(tmp_path / "fit.nc")
    np.testing.assert_array_equal(np.isnan(loaded._fit_data.value), np.isnan(gapped[:60]))
    np.testing.assert_allclose(
        loaded.predict_proba(gapped[:10]), fit.predict_proba(gapped[:10]), rtol=1e-10
    )
