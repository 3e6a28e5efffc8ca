"""scikit-learn's estimator checks on GaussianMixture.

Every check passes (``check_array_api_input`` is skipped by scikit-learn itself unless
SCIPY_ARRAY_API is set). Each check fits the estimator, so all of them take minutes: the
checks that exercise input validation run in every test session, the others are ``slow``.
The estimator is configured for speed (one component, spherical covariance, 10 draws); the
checks test the interface, not the statistics. They pass class labels as ``y`` (as to a
classifier, with more classes than the one component); GaussianMixture reads ``y`` as partly
labelled rows and refuses more classes than components, so the checks run on a subclass that
drops ``y`` (tests/test_semi_supervised.py tests ``y`` itself).
"""

from __future__ import annotations

import warnings

import pytest
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


class UnlabelledGaussianMixture(bm.GaussianMixture):
    """GaussianMixture fitted without ``y`` (see the module docstring)."""

    def fit(self, X, y=None, *, groups=None, shared_label=False, sample_weight=None):
        return super().fit(
            X, None, groups=groups, shared_label=shared_label, sample_weight=sample_weight
        )


def _estimator() -> bm.GaussianMixture:
    return UnlabelledGaussianMixture(
        1,
        covariance_type="spherical",
        draws=10,
        tune=10,
        chains=1,
        progressbar=False,
        random_seed=0,
    )


def _check_name(check) -> str:
    name = getattr(check, "func", check).__name__
    return name + "(readonly)" if "readonly_memmap" in str(getattr(check, "keywords", "")) else name


@parametrize_with_checks([_estimator()])
def test_sklearn_compatible_estimator(estimator, check, request):
    if _check_name(check) not in QUICK_CHECKS:
        request.applymarker(pytest.mark.slow)
        if "not slow" in (request.config.getoption("-m") or ""):
            pytest.skip("slow scikit-learn check; run with make test-all")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # 10-draw fits warn about convergence, by design
        check(estimator)
