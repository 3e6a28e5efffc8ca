"""What the evaluator is fed: the posterior's draws as arrays, the observed rows, the coords.

The one adaptor from sampling results to the (draw, ...) arrays of the mathematics, and the
checks that new observations fit the rows a mixture was built on.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from bayesmixture._validation import as_numeric_array

if TYPE_CHECKING:  # ArviZ and PyMC load in the functions that need them
    import pymc as pm
    import xarray as xr

    from bayesmixture._spec import MixtureSpec

COMPONENT_DIM = "component"


def check_posterior(idata, model: pm.Model | None = None) -> xr.Dataset:
    """The posterior group of ``idata``; TypeError/ValueError naming what was passed instead.

    With ``model``, the posterior must have been sampled from it: every variable of the
    model that the posterior holds has the model's sizes along its named dims (a posterior
    of 2 components cannot score a model of 3) and its static shape where the model fixes it.
    """
    import arviz as az

    if not isinstance(idata, az.InferenceData):
        raise TypeError(f"idata must be an arviz.InferenceData, got {type(idata).__name__}.")
    if "posterior" not in idata.groups():
        raise ValueError("idata has no posterior group; pass the result of pm.sample().")
    if model is not None:
        _check_sampled_from(model, idata.posterior)
    return idata.posterior


def _check_sampled_from(model: pm.Model, posterior: xr.Dataset) -> None:
    for variable in [*model.free_RVs, *model.deterministics]:
        name = variable.name
        if name not in posterior.data_vars:
            continue
        shape = posterior[name].shape[2:]
        dims = model.named_vars_to_dims.get(name) or ()
        expected = [
            len(model.coords[dim])
            if dim in model.coords and model.coords[dim] is not None
            else None
            for dim in dims
        ]
        if len(dims) != len(shape):
            expected = list(variable.type.shape)
        if len(expected) == len(shape) and all(
            e is None or e == s for e, s in zip(expected, shape, strict=True)
        ):
            continue
        raise ValueError(
            f"idata.posterior[{name!r}] has shape {shape} per draw, but the model's {name!r} "
            f"has shape {tuple(expected)}{f' (dims {dims})' if dims else ''}: the posterior was "
            "sampled from another model (e.g. another number of components). Pass the "
            "InferenceData sampled from this model."
        )


def stacked_draws(posterior, names) -> dict[str, np.ndarray]:
    """Posterior arrays (chain, draw, ...) -> (chain * draw, ...), named; checks presence."""
    missing = [name for name in names if name not in posterior.data_vars]
    if missing:
        raise ValueError(
            f"idata.posterior lacks {missing}, which the mixture depends on; pass the "
            "InferenceData sampled from this model."
        )
    out = {}
    for name in names:
        array = posterior[name].values
        out[name] = array.reshape(-1, *array.shape[2:])
    return out


def training_value(evaluator) -> np.ndarray:
    """The observed data the evaluator's mixture was built with."""
    return evaluator.spec.data()


def check_new_observed(evaluator, observed, data) -> np.ndarray:
    """New observations as an array with the row shape of the training data, or a ValueError.

    ``evaluator`` needs ``spec`` and ``row_chunkable`` (a :class:`MixtureEvaluator` or a
    stand-in with those two attributes); ``data`` are the pm.Data overrides, if any.
    """
    spec = evaluator.spec
    if spec.groups is not None:
        raise ValueError(
            f"mixture {spec.name!r} has grouped membership; new observations need groups too, "
            "which predict_membership does not take yet: build a model on the new groups."
        )
    value = as_numeric_array(observed, "observed", allow_nan=spec.allow_missing)
    train = training_value(evaluator)
    if value.ndim == 0 and train.ndim == 1:
        value = value.reshape(1)
    row_shape = train.shape[spec.batch_ndim :]
    if value.ndim != train.ndim or value.shape[spec.batch_ndim :] != row_shape:
        raise ValueError(
            f"observed has shape {value.shape}; the mixture {spec.name!r} was built on data of "
            f"shape {train.shape}, so new observations need shape (n_new, *{row_shape})."
        )
    if not evaluator.row_chunkable and not data and len(value) != len(train):
        raise ValueError(
            f"the weights or components of mixture {spec.name!r} are indexed by observation "
            f"(built on {len(train)}), so {len(value)} new observations need their own values: "
            "put those covariates/weights in pm.Data containers and pass them as data={...}."
        )
    return value


def component_coords(model: pm.Model, spec: MixtureSpec) -> np.ndarray:
    """The model's ``component`` coordinate when it fits the mixture, else 0..K-1."""
    coords = model.coords.get(COMPONENT_DIM)
    if coords is not None and len(coords) == spec.n_components:
        return np.asarray(coords)
    return np.arange(spec.n_components)
