"""Partly labelled rows: fit(X, labels=...) with the classes naming components (-1: unknown)."""

from __future__ import annotations

import re
import warnings

import numpy as np
import pymc as pm
import pytest
from scipy import stats
from scipy.optimize import linear_sum_assignment

import bayesmixture as bm
from bayesmixture.estimators._labels import class_codes
from pymc_reference import PYTHON_MODE

QUICK = {"draws": 300, "tune": 300, "chains": 2, "progressbar": False}
CENTRES = np.array([[0.0, 0.0], [2.2, 0.0], [1.1, 1.9]])  # overlapping: EM is not perfect


def _three_clusters(seed: int, n_per: int = 120):
    rng = np.random.default_rng(seed)
    X = np.concatenate([rng.normal(c, 0.8, size=(n_per, 2)) for c in CENTRES])
    truth = np.repeat(np.arange(3), n_per)
    return X, truth


def _fit(estimator, *args, **kwargs):
    with warnings.catch_warnings():  # 2 x 300 draws: the ESS check may warn
        warnings.simplefilter("ignore", bm.exceptions.ConvergenceWarning)
        return estimator.fit(*args, **kwargs)


def _accuracy(labels, truth) -> float:
    """Share of rows right under the best one-to-one matching of labels to the truth."""
    table = np.zeros((3, 3))
    np.add.at(table, (labels, truth), 1)
    rows, cols = linear_sum_assignment(-table)
    return table[rows, cols].sum() / len(truth)


@pytest.fixture(scope="module")
def tenth_labelled():
    X, truth = _three_clusters(seed=3)
    labelled = np.random.default_rng(4).random(len(X)) < 0.1
    y = np.where(labelled, truth, -1)
    semi = _fit(bm.GaussianMixture(3, random_seed=5, **QUICK), X, labels=y)
    plain = _fit(bm.GaussianMixture(3, random_seed=5, **QUICK), X)
    return X, truth, labelled, semi, plain


def test_a_tenth_labelled_is_at_least_as_accurate_as_unsupervised(tenth_labelled):
    X, truth, labelled, semi, plain = tenth_labelled
    unlabelled = ~labelled
    semi_labels = semi.predict(X[unlabelled])  # the classes themselves: no matching needed
    semi_accuracy = float(np.mean(semi_labels == truth[unlabelled]))
    plain_accuracy = _accuracy(plain.predict(X[unlabelled]), truth[unlabelled])
    # Same data, seeds and draws: the labels can only add information; both are well above
    # chance (1/3), so a failure here is a real loss, not Monte Carlo noise.
    assert semi_accuracy >= plain_accuracy
    assert semi_accuracy > 0.8


def test_labelled_rows_are_certain_and_fix_the_components(tenth_labelled):
    _, truth, labelled, semi, _ = tenth_labelled
    probability = semi.membership_["probability"].values
    np.testing.assert_array_equal(probability[labelled].argmax(axis=1), truth[labelled])
    np.testing.assert_array_equal(probability[labelled].max(axis=1), 1.0)
    assert list(semi.membership_["component"].values) == [0, 1, 2]
    # every component has labelled rows: nothing was relabelled, and diagnose says why
    assert (semi.permutations_.values == np.arange(3)).all()
    switching = semi.diagnose().set_index("check").loc["label_switching"]
    assert switching["status"] == "ok" and "fixed by labelled rows" in switching["detail"]


def test_every_row_labelled_is_a_bayesian_gaussian_classifier():
    X, truth = _three_clusters(seed=6, n_per=60)
    names = np.array(["a", "b", "c"])[truth]
    fit = _fit(bm.GaussianMixture(3, random_seed=7, **QUICK), X, labels=names)
    new = np.random.default_rng(8).normal([1.1, 0.6], 1.5, size=(25, 2))
    post = fit.idata_.posterior.stack(sample=("chain", "draw"))
    w = post["weights"].transpose("sample", ...).values
    mu = post["means"].transpose("sample", ...).values
    cov = post["covariances"].transpose("sample", ...).values
    # Bayes' rule draw by draw with scipy's density, then the average over every draw
    dens = np.stack(
        [
            [w[s, k] * stats.multivariate_normal.pdf(new, mu[s, k], cov[s, k]) for k in range(3)]
            for s in range(len(w))
        ]
    )  # (draw, component, row)
    expected = (dens / dens.sum(axis=1, keepdims=True)).mean(axis=0).T
    # the same formulas in float64 on both sides: rounding only
    np.testing.assert_allclose(fit.predict_proba(new), expected, rtol=1e-8, atol=1e-12)
    assert set(fit.predict(new).tolist()) <= {"a", "b", "c"}  # the classes, by name
    assert (fit.permutations_.values == np.arange(3)).all()  # no chain needed relabelling


def test_mixture_takes_labels_for_its_values():
    rng = np.random.default_rng(9)
    y = np.r_[rng.normal(-2.0, 1.0, 100), rng.normal(2.0, 1.0, 100)]
    labels = np.full(200, -1, dtype=object)
    labels[:4], labels[100:104] = "low", "high"
    mix = _fit(bm.Mixture("normal", 2, random_seed=0, **QUICK), y, labels=labels)
    assert list(mix.membership_["component"].values) == ["high", "low"]  # sorted
    assert mix.predict(np.array([-3.0, 3.0])).tolist() == ["low", "high"]
    means = mix.idata_.posterior["mu"].mean(("chain", "draw")).values
    np.testing.assert_allclose(means, [2.0, -2.0], atol=0.35)  # ~3 posterior sds


def test_known_components_enter_the_likelihood_as_their_own_terms():
    # bm.mixture(known=...): a labelled row's term is log w_k + log N(y | mu_k, 1)
    y = np.array([-1.0, 0.5, 2.0, 3.0])
    known = np.array([0, -1, 1, -1])
    with pm.Model() as model:
        w = pm.Dirichlet("w", np.ones(2))
        mu = pm.Normal("mu", [-1.0, 2.0], 1.0)
        bm.mixture("y", w, pm.Normal.dist(mu, 1.0), y, known=known)
    point = {"w_simplex__": np.array([0.3]), "mu": np.array([-0.5, 2.5])}
    observed_logp = model.compile_fn(model.observedlogp, inputs=model.value_vars, mode=PYTHON_MODE)
    likelihood = observed_logp(point)
    weights = np.exp([0.3, -0.3]) / np.exp([0.3, -0.3]).sum()
    joint = np.log(weights) + stats.norm.logpdf(y[:, None], [-0.5, 2.5], 1.0)
    expected = joint[0, 0] + joint[2, 1] + np.logaddexp(*joint[1]) + np.logaddexp(*joint[3])
    assert float(likelihood) == pytest.approx(expected, rel=1e-12)


# Regression lines: intercepts and slopes of up to three components
INTERCEPTS, SLOPES = np.array([1.0, 2.0, -1.0]), np.array([2.0, 0.0, -1.0])


def _lines(seed: int, n_obs: int = 240, n_lines: int = 2, sd: float = 0.6):
    """Regression lines y = a_k + b_k x crossing inside the range of x (noise sd ``sd``):
    rows near a crossing are ambiguous, so unsupervised fits are not perfect."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(-2.0, 3.0, size=(n_obs, 1))
    truth = rng.integers(0, n_lines, n_obs)
    mean = INTERCEPTS[truth] + SLOPES[truth] * x[:, 0]
    return x, mean + rng.normal(0.0, sd, n_obs), truth


@pytest.fixture(scope="module")
def regression_tenth_labelled():
    # three lines in much noise (sd 1.5): the rows leave the lines' parameters uncertain, and
    # a tenth of them labelled pins them down
    x, y, truth = _lines(seed=1, n_obs=300, n_lines=3, sd=1.5)
    labelled = np.random.default_rng(101).random(len(y)) < 0.1
    labels = np.where(labelled, truth, -1)
    semi = _fit(bm.MixtureRegression(3, random_seed=13, **QUICK), x, y, labels=labels)
    plain = _fit(bm.MixtureRegression(3, random_seed=13, **QUICK), x, y)
    return x, y, truth, labelled, semi, plain


def test_regression_with_a_tenth_labelled_is_at_least_as_accurate(regression_tenth_labelled):
    x, y, truth, labelled, semi, plain = regression_tenth_labelled
    assert semi.idata_.posterior.attrs["bayesmixture_sampler"] == "compiled"
    rows = ~labelled
    semi_accuracy = float(np.mean(semi.predict(x[rows], y[rows]) == truth[rows]))
    plain_accuracy = _accuracy(plain.predict(x[rows], y[rows]), truth[rows])
    # Same data, seeds and draws: the labels only add information. Over data seeds 0-4 they
    # gained 2-4 points four times and lost one row once; here they have gained 10 rows or
    # lost 2 depending on the last bits of the kernel's floating-point sums (its compiled
    # code changes with its source). Rows at a crossing are a coin toss for both fits, so two
    # of them may go the other way; labels that misled the fit would cost tens of rows.
    # Chance is 1/3.
    assert semi_accuracy >= plain_accuracy - 2 / rows.sum()
    assert semi_accuracy > 0.6
    # the classes name the components, in their order: the slopes fall as SLOPES do (in this
    # much noise their values are uncertain, their order is not)
    slopes = semi.idata_.posterior["coefficients"].mean(("chain", "draw")).values[:, 0]
    assert slopes[0] > slopes[1] > slopes[2]
    probability = semi.membership_["probability"].values
    np.testing.assert_array_equal(probability[labelled].max(axis=1), 1.0)
    np.testing.assert_array_equal(probability[labelled].argmax(axis=1), truth[labelled])
    assert (semi.permutations_.values == np.arange(3)).all()


def test_regression_with_every_row_labelled_fits_each_class_by_itself():
    x, y, truth = _lines(seed=14, n_obs=120)
    names = np.array(["flat", "sloped"])[1 - truth]  # sorted: "flat" (class 1) comes first
    reg = _fit(bm.MixtureRegression(2, random_seed=15, **QUICK), x, y, labels=names)
    assert list(reg.membership_["component"].values) == ["flat", "sloped"]
    probability = reg.membership_["probability"].values
    np.testing.assert_array_equal(probability.max(axis=1), 1.0)  # every row certain
    assert (reg.permutations_.values == np.arange(2)).all()  # nothing relabelled
    assert reg.idata_.posterior.attrs["component_identity"] == "fixed by labelled rows"
    np.testing.assert_array_equal(reg.labels_, names)
    # each component is then a linear regression of its own rows: least squares is the
    # reference (weak priors, 60 rows each: posterior means within ~2 sds of it)
    post = reg.idata_.posterior
    for name in ["flat", "sloped"]:
        rows = names == name
        design = np.c_[np.ones(rows.sum()), x[rows]]
        intercept, slope = np.linalg.lstsq(design, y[rows], rcond=None)[0]
        coef = post["coefficients"].sel(component=name).values[..., 0]
        alpha = post["intercepts"].sel(component=name).values
        assert abs(coef.mean() - slope) < 2.5 * coef.std()
        assert abs(alpha.mean() - intercept) < 2.5 * alpha.std()
    weights = post["weights"].mean(("chain", "draw")).values
    # Dirichlet(1, 1) posterior mean of the shares: (n_k + 1) / (n + 2), exactly
    expected = np.array([(names == c).sum() + 1.0 for c in ["flat", "sloped"]]) / (len(y) + 2)
    np.testing.assert_allclose(weights, expected, atol=0.02)  # Monte Carlo error ~0.004


def test_labelled_regression_start_puts_class_k_in_component_k():
    from bayesmixture.estimators._starts import regression_em_start

    x, y, truth = _lines(seed=16)
    designs = np.stack([np.c_[np.ones(len(y)), x]] * 2)
    for order in ([0, 1], [1, 0]):  # class 0 is the sloped line, then the flat one
        labels = np.where(np.arange(len(y)) % 10 == 0, np.array(order)[truth], -1)
        start = regression_em_start(designs, y, shared=False, random=False, seed=0, labels=labels)
        slopes = start.coefficients[:, 1]
        np.testing.assert_allclose(slopes[np.array(order)], [2.0, 0.0], atol=0.3)
        random = regression_em_start(designs, y, shared=False, random=True, seed=0, labels=labels)
        np.testing.assert_allclose(random.coefficients[np.array(order), 1], [2.0, 0.0], atol=0.5)


def test_regression_labels_are_checked_as_for_every_estimator():
    x, y, _ = _lines(seed=0, n_obs=12)
    with pytest.raises(ValueError, match=re.escape("labels has shape (5,); expected (12,)")):
        bm.MixtureRegression(2).fit(x, y, labels=np.zeros(5))
    three = np.r_[np.zeros(4), np.ones(4), np.full(4, 2)]
    with pytest.raises(ValueError, match=re.escape("3 classes [0.0, 1.0, 2.0], more than")):
        bm.MixtureRegression(2).fit(x, y, labels=three)


@pytest.mark.parametrize(
    ("labels", "message"),
    [
        (np.r_[np.zeros(3), np.ones(3), np.full(3, 2), np.full(3, 3)], "4 classes [0.0, 1.0, 2.0"),
        (np.r_[np.zeros(11), [1.0]], "fewer than 2 labelled rows for classes [1.0] (1.0: 1)"),
        (np.full(12, -1), "labels marks no row as labelled"),
        (np.zeros(5), "labels has shape (5,); expected (12,)"),
        (np.array(["a"] * 6 + [1] * 6, dtype=object), "labels mixes text and number classes"),
    ],
)
def test_bad_labels_are_refused_by_name(labels, message):
    X = np.random.default_rng(0).normal(size=(12, 2))
    with pytest.raises(ValueError, match=re.escape(message)):
        bm.GaussianMixture(3).fit(X, labels=labels)


def test_labels_with_groups_or_gaps_are_refused():
    X = np.random.default_rng(0).normal(size=(12, 2))
    labels = np.r_[np.zeros(6), np.ones(6)]
    with pytest.raises(ValueError, match="do not combine with groups="):
        bm.GaussianMixture(2).fit(X, labels=labels, groups=np.arange(12) % 3)
    X[0, 1] = np.nan
    with pytest.raises(ValueError, match="missing entries in labelled row 0"):
        bm.GaussianMixture(2, missing="marginalize").fit(X, labels=labels)


def test_a_class_named_like_the_noise_component_is_refused():
    X = np.random.default_rng(0).normal(size=(12, 2))
    labels = np.array(["noise"] * 3 + ["a"] * 3 + [None] * 6, dtype=object)
    with pytest.raises(ValueError, match=r"class named 'noise'.*rename that class"):
        bm.GaussianMixture(2, noise=True).fit(X, labels=labels)


def test_y_as_labels_still_works_with_a_future_warning():
    X = np.random.default_rng(0).normal(size=(12, 2))
    with (
        pytest.warns(FutureWarning, match=re.escape("fit(X, labels=y)")),
        pytest.raises(ValueError, match="labels marks no row as labelled"),
    ):
        bm.GaussianMixture(2).fit(X, np.full(12, -1))
    with pytest.raises(ValueError, match="got both y and labels="):
        bm.GaussianMixture(2).fit(X, np.zeros(12), labels=np.zeros(12))


def test_unlabelled_markers_and_extra_component_names():
    codes, classes = class_codes(["b", None, "a", "-1", np.nan, "b", "a"], 7, 3)
    np.testing.assert_array_equal(codes, [1, -1, 0, -1, -1, 1, 0])
    assert classes == ["a", "b"]
    from bayesmixture.estimators._labels import component_names

    assert component_names(["a", "b"], 3) == ["a", "b", "component 2"]
    assert component_names([1, 4], 3) == [1, 4, 5]
