"""The observed data: numbers of the right dimensions, and missing entries where allowed.

Missing (NaN), infinite and empty data are refused by default: PyMC would otherwise impute
NaNs as parameters or silently fit the prior. With ``missing="marginalize"`` a row's missing
entries are kept as a mask and the data passed to PyMC hold zeros there.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from pytensor.compile.sharedvalue import SharedVariable
from pytensor.graph.basic import Constant
from pytensor.tensor.variable import TensorVariable

from bayesmixture._validation import as_numeric_array


class Observed(NamedTuple):
    """The observed data as checked."""

    value: object  # what PyMC gets: the array (zeros where missing), or the pm.Data container
    array: np.ndarray  # the values, NaN where missing
    mask: np.ndarray | None  # True where an entry is missing (missing="marginalize"), else None

    def batch_shape(self, ndim_supp: int) -> tuple[int, ...]:
        """The shape of the observations' axes (all but the support axes)."""
        return self.array.shape[: self.array.ndim - ndim_supp]


def check_observed(observed, ndim_supp: int, missing: str = "error") -> Observed:
    """The data for PyMC, the array and the missing entries, checked."""
    allow_nan = missing == "marginalize"
    if isinstance(observed, SharedVariable):
        array = as_numeric_array(observed.get_value(), "observed")
        if allow_nan:
            raise TypeError(
                "missing='marginalize' needs observed as an array (missing entries as NaN), "
                "not a pm.Data container."
            )
        value = observed
    elif isinstance(observed, TensorVariable) and not isinstance(observed, Constant):
        raise TypeError(
            "observed must be data (array-like or pm.Data), not a symbolic variable "
            f"{observed!r}; wrap changing data in pm.Data."
        )
    else:
        array = _numeric(observed.data if isinstance(observed, Constant) else observed, allow_nan)
        value = array
    _check_dimensions(array, ndim_supp)
    if not allow_nan:
        return Observed(value, array, None)
    return _with_missing_entries(array, ndim_supp)


def _numeric(raw, allow_nan: bool) -> np.ndarray:
    try:
        return as_numeric_array(raw, "observed", allow_nan=allow_nan)
    except ValueError as err:
        if "missing (NaN)" not in str(err):
            raise
        raise ValueError(
            f"{err} With MvNormal components, missing='marginalize' uses each row's "
            "observed coordinates instead."
        ) from None


def _check_dimensions(array: np.ndarray, ndim_supp: int) -> None:
    if array.ndim < ndim_supp + 1:
        raise ValueError(
            f"observed has shape {array.shape}, but the components describe "
            f"{ndim_supp}-dimensional observations: observed needs shape (n_obs, ...) with "
            f"{ndim_supp + 1} or more dimensions."
        )


def _with_missing_entries(array: np.ndarray, ndim_supp: int) -> Observed:
    if array.ndim != 2 or ndim_supp != 1:
        raise ValueError(
            "missing='marginalize' needs rows of several coordinates: observed of shape "
            f"(n_obs, n_features) with multivariate components; got shape {array.shape}."
        )
    mask = np.isnan(array)
    return Observed(np.where(mask, 0.0, array), array, mask)
