"""``check_model``: find the mistakes of writing a mixture "in parts".

Two findings, both silent in PyMC: the same data attached to two likelihood terms (counted
twice: posterior uncertainty shrinks as if there were twice the data), and a free variable no
likelihood term depends on (its posterior equals its prior: the weight of the "in parts"
mixture).
"""

from __future__ import annotations

import itertools
import warnings
from dataclasses import dataclass

import numpy as np
import pymc as pm
from pytensor.compile.sharedvalue import SharedVariable
from pytensor.graph.basic import Constant
from pytensor.graph.traversal import ancestors

from bayesmixture.exceptions import ModelCheckWarning

__all__ = ["ModelFinding", "check_model"]


@dataclass(frozen=True)
class ModelFinding:
    """One problem found by :func:`check_model`.

    Attributes
    ----------
    kind : {"data_counted_twice", "unused_variable"}
        What was found.
    variables : tuple of str
        The variables concerned.
    message : str
        What it means and what to do instead.
    """

    kind: str
    variables: tuple[str, ...]
    message: str

    def __str__(self) -> str:
        return self.message


def check_model(model: pm.Model, *, warn: bool = True) -> list[ModelFinding]:
    """Look for data counted twice and variables that no likelihood term depends on.

    Parameters
    ----------
    model : pymc.Model
        The model to check; not modified.
    warn : bool, default True
        Also issue each finding as a :class:`~bayesmixture.exceptions.ModelCheckWarning`.

    Returns
    -------
    list of ModelFinding
        Empty when nothing was found.

    Examples
    --------
    The forum thread's model "in parts": two likelihoods on the same data, each multiplied by
    a weight that then enters nothing.

    >>> import numpy as np, pymc as pm, bayesmixture as bm
    >>> y = np.linspace(0.0, 1.0, 10)
    >>> with pm.Model() as in_parts:
    ...     mu = pm.Normal("mu", 0.0, 1.0, shape=2)
    ...     a = pm.Beta("alpha", 2.0, 2.0)
    ...     y1 = pm.Normal("y1", mu[0], 1.0, observed=y)
    ...     y2 = pm.Normal("y2", mu[1], 1.0, observed=y)
    ...     total = a * y1 + (1 - a) * y2
    >>> [f.kind for f in bm.check_model(in_parts, warn=False)]
    ['data_counted_twice', 'unused_variable']
    """
    if not isinstance(model, pm.Model):
        raise TypeError(f"model must be a pymc.Model, got {type(model).__name__}.")
    findings = [*_data_counted_twice(model), *_unused_variables(model)]
    if warn:
        for finding in findings:
            warnings.warn(finding.message, ModelCheckWarning, stacklevel=2)
    return findings


def _data_counted_twice(model: pm.Model) -> list[ModelFinding]:
    findings = []
    observed = [(rv, _data_of(model.rvs_to_values[rv])) for rv in model.observed_RVs]
    for (rv_a, data_a), (rv_b, data_b) in itertools.combinations(observed, 2):
        if data_a is None or data_b is None or data_a.shape != data_b.shape:
            continue
        if np.array_equal(data_a, data_b, equal_nan=np.issubdtype(data_a.dtype, np.floating)):
            findings.append(
                ModelFinding(
                    kind="data_counted_twice",
                    variables=(rv_a.name, rv_b.name),
                    message=(
                        f"Observed variables {rv_a.name!r} and {rv_b.name!r} are attached to the "
                        f"same data (shape {data_a.shape}): every observation is counted twice, "
                        "so the posterior is as confident as if there were twice the data. If the "
                        "data come from one of several processes, write one likelihood: "
                        "bayesmixture.mixture(name, weights, [dist_1, dist_2], observed=data)."
                    ),
                )
            )
    return findings


def _unused_variables(model: pm.Model) -> list[ModelFinding]:
    terms = list(model.observed_RVs) + list(model.potentials)
    upstream = set(ancestors(terms)) if terms else set()
    findings = []
    for rv in model.free_RVs:
        if rv not in upstream:
            findings.append(
                ModelFinding(
                    kind="unused_variable",
                    variables=(rv.name,),
                    message=(
                        f"Free variable {rv.name!r} enters no likelihood term: its posterior will "
                        "equal its prior. Arithmetic on observed variables (e.g. "
                        "w * y1 + (1 - w) * y2) does not make a mixture; pass the weights to "
                        "bayesmixture.mixture(name, weights, components, observed) instead, or "
                        "remove the variable."
                    ),
                )
            )
    return findings


def _data_of(value) -> np.ndarray | None:
    if isinstance(value, SharedVariable):
        return np.asarray(value.get_value())
    if isinstance(value, Constant):
        return np.asarray(value.data)
    return None
