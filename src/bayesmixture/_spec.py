"""What `mixture` records on a model, so that membership and prediction can rebuild densities;
and the part of that record an estimator's array scorers read, built without a model.

The record lives on the model object itself (no module-level registry), keyed by the name of
the mixture's observed variable. PyMC is imported by the functions that need it: a fit on a
compiled kernel scores its rows with an :class:`ArraySpec` and never imports PyMC.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import pymc as pm
    from pytensor.tensor.variable import TensorVariable

_ATTRIBUTE = "_bayesmixture_mixtures"


@dataclass(frozen=True)
class MixtureSpec:
    """The pieces of a marginalised mixture likelihood.

    Attributes
    ----------
    name : str
        Name of the observed variable in the model.
    weights : TensorVariable
        Mixing weights with last axis ``n_components``; batch axes broadcast against the
        observations' batch axes.
    components : tuple of TensorVariable
        The unnamed component distributions, in component order; or, when ``batched``, one
        distribution whose last batch axis indexes the components.
    ndim_supp : int
        Number of support (core) dimensions of one observation (0 univariate, 1 vector).
    batch_ndim : int
        Number of batch dimensions of the observed data (usually 1: the observations).
    n_components : int
        Number of components K.
    observed : ndarray or SharedVariable
        The data the mixture was built on (a ``pm.Data`` container stays live).
    batched : bool
        Whether ``components`` is one batched distribution.
    groups : ndarray of int or None
        For grouped membership: group code (0..n_groups-1) of each observation.
    case_weights : ndarray or None
        Frequency weight of each observation.
    missing_mask : ndarray of bool or None
        For ``missing="marginalize"``: True where an entry of the observed data was missing.
    allow_missing : bool
        Whether missing entries are marginalised (also in new data).
    parts : tuple of (start, stop, ndim_supp) or None
        For components that are products over several responses: where each response sits
        in the columns of the observed array.
    known : ndarray of int or None
        Partly labelled rows: each observation's known component (-1 when unknown); a
        labelled observation's term is log w_k + log p_k(y) of its component only.
    """

    name: str
    weights: TensorVariable
    components: tuple[TensorVariable, ...]
    ndim_supp: int
    batch_ndim: int
    n_components: int
    observed: object = None
    batched: bool = False
    groups: np.ndarray | None = None
    group_names: np.ndarray | None = None
    case_weights: np.ndarray | None = None
    missing_mask: np.ndarray | None = None
    allow_missing: bool = False
    parts: tuple[tuple[int, int, int], ...] | None = None
    known: np.ndarray | None = None

    def data(self) -> np.ndarray:
        """The observed data as given: current pm.Data values, missing entries back as NaN."""
        observed = self.observed
        value = np.array(observed.get_value() if hasattr(observed, "get_value") else observed)
        if self.missing_mask is not None:
            value = value.astype(float)
            value[self.missing_mask] = np.nan
        return value

    def layout(self) -> dict:
        """Keyword arguments of ``_logp.component_logp`` describing these components."""
        return {
            "ndim_supp": self.ndim_supp,
            "batched": self.batched,
            "parts": self.parts,
            "missing_mask": self.missing_mask,
            "n_components": self.n_components,
        }

    @property
    def n_groups(self) -> int | None:
        return None if self.groups is None else int(self.groups.max()) + 1

    @property
    def weights_name(self) -> str | None:
        """Name of the weights when they are a named variable of the model (else None)."""
        return self.weights.name


@dataclass(frozen=True)
class ArraySpec:
    """What an estimator's array scorers, relabelling and membership read of its mixture,
    built from the fit state: the fields of :class:`MixtureSpec` they use, without PyMC.

    Attributes
    ----------
    name : str
        Name of the mixture's observed variable.
    n_components : int
        Number of components K (a noise component included).
    value : ndarray
        The training data as the mixture sees them (NaN where an entry is missing).
    weights_name : str or None
        Name of the weights' variable when the mixture's weights are that variable itself.
    groups, group_names, case_weights
        As in :class:`MixtureSpec`.
    """

    name: str
    n_components: int
    value: np.ndarray
    weights_name: str | None = None
    groups: np.ndarray | None = None
    group_names: np.ndarray | None = None
    case_weights: np.ndarray | None = None

    def data(self) -> np.ndarray:
        """The training data (a copy, as :meth:`MixtureSpec.data` gives them)."""
        return np.array(self.value)

    @property
    def n_groups(self) -> int | None:
        return None if self.groups is None else int(self.groups.max()) + 1


def record(model: pm.Model, spec: MixtureSpec) -> None:
    """Attach ``spec`` to ``model`` under ``spec.name``."""
    specs = getattr(model, _ATTRIBUTE, None)
    if specs is None:
        specs = {}
        setattr(model, _ATTRIBUTE, specs)
    specs[spec.name] = spec


def mixture_names(model: pm.Model) -> list[str]:
    """Names of the mixtures built with :func:`bayesmixture.mixture` in ``model``."""
    return list(getattr(model, _ATTRIBUTE, {}))


def lookup(model: pm.Model, name: str) -> MixtureSpec:
    """The spec of mixture ``name`` of ``model``, or a ValueError saying what exists."""
    import pymc as pm

    if not isinstance(model, pm.Model):
        raise TypeError(f"model must be a pymc.Model, got {type(model).__name__}.")
    if not isinstance(name, str):
        raise TypeError(f"name must be the str name of the mixture variable, got {name!r}.")
    specs = getattr(model, _ATTRIBUTE, {})
    if name not in specs:
        known = list(specs)
        hint = (
            f"mixtures in this model: {known}"
            if known
            else "this model has no likelihood built with bayesmixture.mixture"
        )
        raise ValueError(
            f"name={name!r} is not a mixture built with bayesmixture.mixture ({hint}). "
            "Build the likelihood with bm.mixture(name, weights, components, observed)."
        )
    return specs[name]


def log_weights(weights: TensorVariable) -> TensorVariable:
    """Log of the mixing weights (shared by the likelihood and membership)."""
    import pytensor.tensor as pt

    return pt.log(weights)
