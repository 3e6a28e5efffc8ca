"""Estimator classes by name, so that loading a saved fit imports no estimator module here.

Each estimator module registers its class when it is imported; ``import bayesmixture`` does
not import them (public names load on first use), so the built-in classes are also listed
here with the module that defines them, and :func:`estimator_class` imports that module when
a saved fit names one of them.
"""

from __future__ import annotations

import importlib

ESTIMATORS: dict[str, type] = {}
# the built-in estimators and the module that registers them
BUILT_IN = {
    "GaussianMixture": "bayesmixture.estimators._gaussian",
    "Mixture": "bayesmixture.estimators._univariate",
    "MixtureRegression": "bayesmixture.estimators._regression",
    "StudentTMixture": "bayesmixture.estimators._student",
}


def register_estimator(cls: type) -> type:
    """Make ``cls`` loadable by :func:`bayesmixture.load` under its class name; returns it.

    Usable as a class decorator. A second class of the same name replaces the first.
    """
    ESTIMATORS[cls.__name__] = cls
    return cls


def estimator_class(name: str) -> type | None:
    """The registered estimator class called ``name`` (importing a built-in's module first
    if need be), or None."""
    if name not in ESTIMATORS and name in BUILT_IN:
        importlib.import_module(BUILT_IN[name])
    return ESTIMATORS.get(name)
