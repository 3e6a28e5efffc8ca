"""Posterior variables named in words, with the user's columns and classes.

Messages, the command line's checks and the report name a parameter the way users think of it
(``correlation of body_mass_g and bill_depth_mm in cluster Adelie``), never by the model's
internal variable and coordinates (``cpc[0, body_mass_g|bill_depth_mm]``). A variable's word
comes from ``WORDS``; its coordinates say which columns, component and group it belongs to.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

# The word for each posterior variable of the built-in estimators (others keep their name).
WORDS = {
    "weights": "weight",
    "group_weights": "weight",
    "noise_weight": "noise weight",
    "concentration": "concentration of the weights",
    "mu": "mean",
    "means": "mean",
    "sd": "sd",
    "sigmas": "sd",
    "cpc": "correlation",
    "covariances": "covariance",
    "scales": "scale",
    "df": "degrees of freedom",
    "coef": "coefficient",
    "coefficients": "coefficient",
    "alpha": "intercept",
    "intercepts": "intercept",
    "sigma": "noise sd",
    "dispersion": "dispersion",
    "gate": "gate coefficient",
    "gate_coefficients": "gate coefficient",
}
GAUSSIAN_WORDS = WORDS
# Mixture's family parameters keep their own names (mu of a Poisson is its rate, of a
# lognormal the mean of the log): only the weights get words.
MIXTURE_WORDS = {name: WORDS[name] for name in ("weights", "concentration")}
REGRESSION_WORDS = {name: word for name, word in WORDS.items() if name not in ("mu", "sd")}
# Mixture's per-component variables when each component has its own family: c{k}_{name}
_PER_COMPONENT = re.compile(r"^c(\d+)_(.+)$")


def describer(
    words: Mapping[str, str], noun: str = "component"
) -> Callable[[str, Mapping[str, object]], str]:
    """A function (variable name, {dim: label}) -> the parameter in words.

    Without a word for the variable, ArviZ's spelling (``name[label, ...]``) is kept.

    Examples
    --------
    >>> say = describer(WORDS, "cluster")
    >>> say("cpc", {"component": "Adelie", "feature_pair": "body_mass_g|bill_depth_mm"})
    'correlation of body_mass_g and bill_depth_mm in cluster Adelie'
    >>> say("covariances", {"component": 0, "feature": "a", "feature2": "a"})
    'variance of a in cluster 0'
    >>> say("sd", {"component": 1})
    'sd of cluster 1'
    >>> describer({}, "component")("nu", {"component": 2})
    'nu[2]'
    """

    def describe(name: str, labels: Mapping[str, object]) -> str:
        labels = dict(labels)
        match = _PER_COMPONENT.match(name)
        if match and name not in words:
            name = match.group(2)
            labels = {"component": int(match.group(1)), **labels}
            if name not in words:
                return f"{name} of {noun} {labels['component']}"
        if name not in words:
            return arviz_name(name, labels)
        return _phrase(words[name], labels, noun)

    return describe


def arviz_name(name: str, labels: Mapping[str, object]) -> str:
    """``name[label, ...]``, as ArviZ's summary writes an element."""
    if not labels:
        return name
    return f"{name}[{', '.join(str(label) for label in labels.values())}]"


def _phrase(word: str, labels: Mapping[str, object], noun: str) -> str:
    subject = None
    if "feature_pair" in labels:
        first, _, second = str(labels["feature_pair"]).partition("|")
        subject = f"{first} and {second}"
    elif "feature" in labels and "feature2" in labels:
        first, second = labels["feature"], labels["feature2"]
        if first == second:
            word, subject = ("variance" if word == "covariance" else word), str(first)
        else:
            subject = f"{first} and {second}"
    elif "feature" in labels:
        subject = str(labels["feature"])
    elif "coef" in labels:
        subject = str(labels["coef"])
    elif "gate_feature" in labels:
        subject = str(labels["gate_feature"])
    text = word if subject is None else f"{word} of {subject}"
    if "component" in labels:
        text += f" {'in' if subject is not None else 'of'} {noun} {labels['component']}"
    if "group" in labels:
        text += f" in group {labels['group']}"
    return text
