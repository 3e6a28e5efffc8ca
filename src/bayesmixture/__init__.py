"""bayesmixture: Bayesian mixture models on PyMC.

Mixtures that are right by construction (:func:`mixture`), membership probabilities from the
whole posterior, prediction on new data without re-sampling, and label switching undone.
"""

from bayesmixture import datasets, exceptions
from bayesmixture._version import __version__
from bayesmixture.checks import ModelFinding, check_model
from bayesmixture.diagnostics import diagnose
from bayesmixture.estimators import GaussianMixture, Mixture, MixtureRegression
from bayesmixture.io import load
from bayesmixture.likelihood import mixture
from bayesmixture.membership import membership, predict_membership, predictive_logpdf
from bayesmixture.relabel import LabelSwitchingReport, label_switching, relabel
from bayesmixture.selection import SelectionResult, compare, log_likelihood, select

__all__ = [
    "GaussianMixture",
    "LabelSwitchingReport",
    "Mixture",
    "MixtureRegression",
    "ModelFinding",
    "SelectionResult",
    "__version__",
    "check_model",
    "compare",
    "datasets",
    "diagnose",
    "exceptions",
    "label_switching",
    "load",
    "log_likelihood",
    "membership",
    "mixture",
    "predict_membership",
    "predictive_logpdf",
    "relabel",
    "select",
]
