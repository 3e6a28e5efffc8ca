"""Warning classes of bayesmixture, so that users can filter them precisely.

Examples
--------
>>> import warnings, bayesmixture as bm
>>> with warnings.catch_warnings():
...     warnings.simplefilter("ignore", bm.exceptions.LabelSwitchingWarning)
"""

from __future__ import annotations

__all__ = [
    "BayesMixtureWarning",
    "ConvergenceWarning",
    "DataWarning",
    "LabelSwitchingWarning",
    "ModelCheckWarning",
    "PredictionWarning",
]


class BayesMixtureWarning(UserWarning):
    """Base class of every warning this library raises."""


class ModelCheckWarning(BayesMixtureWarning):
    """A model is likely mis-specified (data counted twice, a parameter left at its prior)."""


class LabelSwitchingWarning(BayesMixtureWarning):
    """Components were found in different orders across draws or chains."""


class ConvergenceWarning(BayesMixtureWarning):
    """The sampler's output shows trouble: divergences, high R-hat, low ESS, stuck chains."""


class PredictionWarning(BayesMixtureWarning):
    """Something about a prediction deserves attention (e.g. high Pareto k in LOO)."""


class DataWarning(BayesMixtureWarning):
    """The data are valid but look unusual for the model (e.g. integers for a continuous family)."""
