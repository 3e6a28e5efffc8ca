"""Estimators with the scikit-learn shape: fit, predict_proba, score_samples, summary.

Also the tables of choices the estimators take (component families, covariance types), for
the command line and the docs to read instead of repeating them, and the functions that add
to them (``register_family``, ``register_covariance_type``). The tables import only
numpy; the estimators (which import scikit-learn) load on first use, so that the command
line can read the tables and answer ``--help`` or a bad option at once.
"""

from __future__ import annotations

import importlib

from bayesmixture.estimators._covariance import (
    COVARIANCES,
    CovarianceType,
    covariance_types,
    register_covariance_type,
)
from bayesmixture.estimators._families import FAMILIES, Family, Prior, register_family

# each estimator and the module that defines (and registers) it
_ESTIMATOR_MODULES = {
    "GaussianMixture": "bayesmixture.estimators._gaussian",
    "Mixture": "bayesmixture.estimators._univariate",
    "MixtureRegression": "bayesmixture.estimators._regression",
    "StudentTMixture": "bayesmixture.estimators._student",
}

__all__ = [
    "COVARIANCES",
    "COVARIANCE_TYPES",
    "FAMILIES",
    "CovarianceType",
    "Family",
    "GaussianMixture",
    "Mixture",
    "MixtureRegression",
    "Prior",
    "StudentTMixture",
    "register_covariance_type",
    "register_family",
]


def __getattr__(name: str):
    if name == "COVARIANCE_TYPES":
        return covariance_types()
    if name in _ESTIMATOR_MODULES:
        cls = getattr(importlib.import_module(_ESTIMATOR_MODULES[name]), name)
        globals()[name] = cls
        return cls
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__))
