"""Estimator classes by name, so that loading a saved fit imports no estimator module.

:mod:`bayesmixture.estimators` registers its classes here when it is imported (which
``import bayesmixture`` always does); :func:`bayesmixture.load` looks the saved class name up.
"""

from __future__ import annotations

ESTIMATORS: dict[str, type] = {}


def register_estimator(cls: type) -> type:
    """Make ``cls`` loadable by :func:`bayesmixture.load` under its class name; returns it.

    Usable as a class decorator. A second class of the same name replaces the first.
    """
    ESTIMATORS[cls.__name__] = cls
    return cls


def estimator_class(name: str) -> type | None:
    """The registered estimator class called ``name``, or None."""
    return ESTIMATORS.get(name)
