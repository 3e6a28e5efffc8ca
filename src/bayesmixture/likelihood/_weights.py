"""The mixing weights: one row of n_components per observation, group, or for all of them.

Weights may be a tensor (a Dirichlet variable, a softmax of a regression, rows indexed by
chunk) or constants; their batch axes must broadcast against the observations' (or the
groups'). Constant weights are checked to be non-negative and to sum to 1.
"""

from __future__ import annotations

import numpy as np
import pytensor.tensor as pt
from pytensor.graph.basic import Constant
from pytensor.tensor.variable import TensorVariable

from bayesmixture._validation import as_numeric_array, describe_rows
from bayesmixture.likelihood._layout import broadcasts_to

_WEIGHT_SUM_TOLERANCE = 1e-6


def check_weights(weights, n_components: int, batch_shape) -> TensorVariable:
    """The weights as a tensor whose last axis indexes the components, checked."""
    if isinstance(weights, list | tuple) and any(isinstance(w, TensorVariable) for w in weights):
        weights = pt.stack([pt.as_tensor_variable(w) for w in weights], axis=-1)
    constant = None
    if not isinstance(weights, TensorVariable):
        constant = as_numeric_array(weights, "weights").astype(float)
    elif isinstance(weights, Constant):
        constant = np.asarray(weights.data, dtype=float)
    weights = pt.as_tensor_variable(weights)
    _check_shape(weights, n_components, batch_shape)
    if constant is not None:
        _check_constant_weights(constant)
    return weights


def _check_shape(weights: TensorVariable, n_components: int, batch_shape) -> None:
    if weights.ndim == 0:
        raise ValueError(
            f"weights is a scalar; expected shape (n_components,) = ({n_components},) or "
            f"(..., {n_components})."
        )
    last = weights.type.shape[-1]
    if last is not None and last != n_components:
        raise ValueError(
            f"weights has last axis of length {last} but there are {n_components} components; "
            f"the last axis of weights must have length {n_components}."
        )
    batch = weights.type.shape[:-1]
    if not broadcasts_to(batch, batch_shape):
        raise ValueError(
            f"weights has shape {weights.type.shape}, whose batch part {batch} does not "
            f"broadcast against the observations' batch shape {tuple(batch_shape)}; use shape "
            f"({n_components},), or one row of weights per observation (or group)."
        )


def _check_constant_weights(weights: np.ndarray) -> None:
    if (weights < 0).any():
        raise ValueError("weights has negative entries; mixing weights must be >= 0.")
    sums = weights.sum(axis=-1)
    bad = np.flatnonzero(np.abs(np.atleast_1d(sums) - 1.0) > _WEIGHT_SUM_TOLERANCE)
    if bad.size:
        first = np.atleast_1d(sums)[bad[0]]
        where = "" if weights.ndim == 1 else f" in {describe_rows(bad)}"
        raise ValueError(
            f"weights sum to {first:.6g}{where}, not 1; normalise them "
            "(weights / weights.sum(axis=-1, keepdims=True))."
        )
