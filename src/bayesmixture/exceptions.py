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
    "ConvergenceWarning",  # noqa: F822 (made on first use, by __getattr__ below)
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


def _convergence_warning() -> type:
    """``ConvergenceWarning``, a subclass of scikit-learn's too, so that filters written for
    scikit-learn's mixtures catch it. Made on first use: importing scikit-learn takes a
    second or two, which ``import bayesmixture`` and the command line's ``--help`` skip."""
    from sklearn.exceptions import ConvergenceWarning as SklearnConvergenceWarning

    class ConvergenceWarning(BayesMixtureWarning, SklearnConvergenceWarning):
        """The sampler's output shows trouble: divergences, high R-hat, low ESS, stuck chains.

        A subclass of :class:`sklearn.exceptions.ConvergenceWarning` too.
        """

    ConvergenceWarning.__module__ = __name__
    ConvergenceWarning.__qualname__ = "ConvergenceWarning"
    return ConvergenceWarning


def __getattr__(name: str):
    if name == "ConvergenceWarning":
        cls = _convergence_warning()
        globals()[name] = cls
        return cls
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class PredictionWarning(BayesMixtureWarning):
    """Something about a prediction deserves attention (e.g. high Pareto k in LOO)."""


class DataWarning(BayesMixtureWarning):
    """The data are valid but look unusual for the model (e.g. integers for a continuous family)."""
