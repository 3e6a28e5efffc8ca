"""Estimators with the scikit-learn shape: fit, predict_proba, score_samples, summary."""

from bayesmixture.estimators._gaussian import GaussianMixture
from bayesmixture.estimators._regression import MixtureRegression
from bayesmixture.estimators._univariate import Mixture

__all__ = ["GaussianMixture", "Mixture", "MixtureRegression"]
