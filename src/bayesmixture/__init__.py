"""bayesmixture: Bayesian mixture models on PyMC.

Mixtures that are right by construction (:func:`mixture`), sampled on a fast backend that needs
no C compiler (:func:`sample`), membership probabilities from the whole posterior, prediction on
new data without re-sampling, and label switching undone.

Importing the package is quick: each public name is imported from its module the first time
it is used, so that PyMC, PyTensor and ArviZ load only when something needs them (a fit
imports them while its compiled density compiles in another process).
"""

from __future__ import annotations

import importlib

from bayesmixture import exceptions
from bayesmixture._version import __version__

# public name -> the module that defines it
_EXPORTS = {
    "GaussianMixture": "bayesmixture.estimators",
    "Mixture": "bayesmixture.estimators",
    "MixtureRegression": "bayesmixture.estimators",
    "StudentTMixture": "bayesmixture.estimators",
    "ModelFinding": "bayesmixture.checks",
    "check_model": "bayesmixture.checks",
    "diagnose": "bayesmixture.diagnostics",
    "sample": "bayesmixture.inference",
    "load": "bayesmixture.io",
    "mixture": "bayesmixture.likelihood",
    "membership": "bayesmixture.memberships",
    "predict_membership": "bayesmixture.memberships",
    "predictive_logpdf": "bayesmixture.memberships",
    "LabelSwitchingReport": "bayesmixture.relabelling",
    "label_switching": "bayesmixture.relabelling",
    "relabel": "bayesmixture.relabelling",
    "SelectionResult": "bayesmixture.selection",
    "compare": "bayesmixture.selection",
    "log_likelihood": "bayesmixture.selection",
    "select": "bayesmixture.selection",
}
# subpackages reached as attributes (``bm.inference.sample``)
_SUBMODULES = (
    "datasets",
    "diagnostics",
    "estimators",
    "inference",
    "io",
    "plots",
    "report",
    "selection",
)

__all__ = [
    *_EXPORTS,
    "__version__",
    "datasets",
    "exceptions",
]


def __getattr__(name: str):
    if name in _EXPORTS:
        value = getattr(importlib.import_module(_EXPORTS[name]), name)
    elif name in _SUBMODULES:
        value = importlib.import_module(f"bayesmixture.{name}")
    else:
        raise AttributeError(f"module 'bayesmixture' has no attribute {name!r}")
    globals()[name] = value  # later uses skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
