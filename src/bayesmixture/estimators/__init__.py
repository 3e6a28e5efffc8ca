"""Estimators with the scikit-learn shape: fit, predict_proba, score_samples, summary.

Also the tables of choices the estimators take (component families, covariance types), for
the command line and the docs to read instead of repeating them.
"""

from bayesmixture._registry import register_estimator
from bayesmixture.estimators._covariance import (
    COVARIANCES,
    CovarianceType,
    register_covariance_type,
)
from bayesmixture.estimators._families import FAMILIES
from bayesmixture.estimators._gaussian import COVARIANCE_TYPES, GaussianMixture
from bayesmixture.estimators._regression import MixtureRegression
from bayesmixture.estimators._student import StudentTMixture
from bayesmixture.estimators._univariate import Mixture

__all__ = [
    "COVARIANCES",
    "COVARIANCE_TYPES",
    "FAMILIES",
    "CovarianceType",
    "GaussianMixture",
    "Mixture",
    "MixtureRegression",
    "StudentTMixture",
    "register_covariance_type",
]

# bayesmixture.load finds a saved fit's class here (bayesmixture/_registry.py).
register_estimator(GaussianMixture)
register_estimator(Mixture)
register_estimator(MixtureRegression)
register_estimator(StudentTMixture)
