"""scikit-learn's estimator checks on every estimator.

Each check fits the estimator, so all of them take minutes: the checks that exercise input
validation and the interface run in every test session, the others are ``slow``. Estimators
are configured for speed (few components, 10 draws): the checks test the interface, not the
statistics.

- ``GaussianMixture`` and ``StudentTMixture``: every check. The checks pass class labels as
  ``y`` (as to a classifier); these estimators still read a ``y`` as partly labelled rows,
  with a ``FutureWarning`` (``labels=`` is the keyword now), until the next release, so the
  checks run on subclasses that drop ``y`` as scikit-learn's clusterers do.
- ``MixtureRegression``: every check, but those that call ``predict`` or ``predict_proba``
  with ``X`` alone: membership in a mixture of regressions is about which regression
  produced each ``y``, so they need ``(X, y)`` (listed below, with that reason).
- ``Mixture`` models one variable: it declares ``one_d_array`` input, which scikit-learn's
  checks do not exercise (they skip such estimators), so the checks that need no data run
  on it directly.
"""

from __future__ import annotations

import warnings

import pytest
from sklearn.utils import estimator_checks as checks
from sklearn.utils.estimator_checks import parametrize_with_checks

import bayesmixture as bm

# Checks about validation and the interface: fast (most fail before or without sampling).
QUICK_CHECKS = {
    "check_no_attributes_set_in_init",
    "check_parameters_default_constructible",
    "check_get_params_invariance",
    "check_set_params",
    "check_estimators_unfitted",
    "check_fit2d_predict1d",
    "check_complex_data",
    "check_estimators_empty_data_messages",
    "check_estimator_sparse_array",
    "check_estimator_sparse_matrix",
    "check_fit2d_1sample",
    "check_estimators_pickle",
}
SPEED = {"draws": 10, "tune": 10, "chains": 1, "progressbar": False, "random_seed": 0}


class UnlabelledGaussianMixture(bm.GaussianMixture):
    """GaussianMixture fitted without ``y`` (see the module docstring)."""

    def fit(self, X, y=None, **fit_params):
        return super().fit(X, None, **fit_params)


class UnlabelledStudentTMixture(bm.StudentTMixture):
    """StudentTMixture fitted without ``y`` (see the module docstring)."""

    def fit(self, X, y=None, **fit_params):
        return super().fit(X, None, **fit_params)


NEEDS_Y = "membership in a mixture of regressions needs y: predict(X) alone is refused"
REGRESSION_FAILS = {
    name: NEEDS_Y
    for name in (
        "check_estimators_dtypes",
        "check_dtype_object",
        "check_estimators_pickle",
        "check_f_contiguous_array_estimator",
        "check_methods_sample_order_invariance",
        "check_methods_subset_invariance",
        "check_dict_unchanged",
        "check_fit_idempotent",
    )
}


def _expected_failures(estimator) -> dict:
    return REGRESSION_FAILS if isinstance(estimator, bm.MixtureRegression) else {}


def _check_name(check) -> str:
    name = getattr(check, "func", check).__name__
    return name + "(readonly)" if "readonly_memmap" in str(getattr(check, "keywords", "")) else name


@parametrize_with_checks(
    [
        UnlabelledGaussianMixture(1, covariance_type="spherical", **SPEED),
        UnlabelledStudentTMixture(1, covariance_type="spherical", **SPEED),
        bm.MixtureRegression(1, **SPEED),
    ],
    expected_failed_checks=_expected_failures,
)
def test_sklearn_compatible_estimator(estimator, check, request):
    if _check_name(check) not in QUICK_CHECKS:
        request.applymarker(pytest.mark.slow)
        if "not slow" in (request.config.getoption("-m") or ""):
            pytest.skip("slow scikit-learn check; run with make test-all")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # 10-draw fits warn about convergence, by design
        check(estimator)


DATA_FREE_CHECKS = [
    checks.check_no_attributes_set_in_init,
    checks.check_parameters_default_constructible,
    checks.check_get_params_invariance,
    checks.check_set_params,
    checks.check_estimator_cloneable,
    checks.check_estimator_repr,
    checks.check_do_not_raise_errors_in_init_or_set_params,
    checks.check_estimator_tags_renamed,
]


@pytest.mark.parametrize("check", DATA_FREE_CHECKS, ids=lambda c: c.__name__)
def test_mixture_passes_the_checks_that_need_no_data(check):
    check("Mixture", bm.Mixture("normal", 2, **SPEED))


def test_mixture_declares_one_dimensional_input():
    tags = bm.Mixture("normal", 2).__sklearn_tags__()
    assert tags.input_tags.one_d_array and not tags.input_tags.two_d_array
