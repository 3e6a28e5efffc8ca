"""bayesmixture: Bayesian mixture models on PyMC.

Mixtures that are right by construction (:func:`mixture`), membership probabilities from the
whole posterior, prediction on new data without re-sampling, and label switching undone.
"""

from bayesmixture import datasets, exceptions
from bayesmixture.checks import ModelFinding, check_model
from bayesmixture.likelihood import mixture

__version__ = "0.1.0"

__all__ = [
    "ModelFinding",
    "__version__",
    "check_model",
    "datasets",
    "exceptions",
    "mixture",
]
