"""Validators shared by the public API: each names the argument it checks."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd


def describe_rows(rows: Sequence[int], limit: int = 5) -> str:
    """'rows 3, 7 and 9' / 'rows 3, 7, 9, 11, 12 and 40 more' (0-based positions)."""
    rows = [int(r) for r in rows]
    shown = ", ".join(str(r) for r in rows[:limit])
    if len(rows) == 1:
        return f"row {rows[0]}"
    if len(rows) <= limit:
        head, _, last = shown.rpartition(", ")
        return f"rows {head} and {last}"
    return f"rows {shown} and {len(rows) - limit} more"


def as_numeric_array(values, arg: str, *, allow_nan: bool = False) -> np.ndarray:
    """Copy ``values`` into a numeric numpy array, or raise naming ``arg``.

    Rejects empty input, non-numeric (object, string, categorical) data, infinite entries
    and, unless ``allow_nan``, missing entries; errors name the rows (0-based) concerned.
    """
    if isinstance(values, pd.DataFrame):
        bad = [
            c
            for c, t in values.dtypes.items()
            if not pd.api.types.is_numeric_dtype(t) or pd.api.types.is_bool_dtype(t)
        ]
        if bad:
            raise TypeError(
                f"{arg} has non-numeric columns {bad!r} (dtypes "
                f"{[str(values[c].dtype) for c in bad]}); pass numeric columns only, e.g. "
                f"{arg}.drop(columns={bad!r}) or encode them as numbers first."
            )
    elif isinstance(values, pd.Series) and not pd.api.types.is_numeric_dtype(values.dtype):
        raise TypeError(f"{arg} has dtype {values.dtype}; expected numbers.")
    try:
        array = np.array(values, copy=True)
    except (TypeError, ValueError) as err:
        raise TypeError(f"{arg} could not be converted to a numeric array: {err}") from err
    if array.dtype == object:
        # Numbers held in an object array (e.g. from a mixed list) are accepted as floats.
        try:
            array = array.astype(float)
        except (TypeError, ValueError) as err:
            raise TypeError(
                f"{arg} has dtype object with entries that are not numbers ({err}). Convert "
                "strings or categories to numbers, or drop those columns."
            ) from None
    if array.dtype == bool or not np.issubdtype(array.dtype, np.number):
        raise TypeError(
            f"{arg} has dtype {array.dtype}; expected numbers (int or float). "
            "Convert strings or categories to numbers, or drop those columns."
        )
    if np.iscomplexobj(array):
        raise ValueError(f"Complex data not supported: {arg} is complex; pass real numbers.")
    if array.ndim >= 2 and array.shape[0] > 0 and array.shape[1] == 0:
        raise ValueError(
            f"{arg} has 0 feature(s) (shape={array.shape}) while a minimum of 1 is required; "
            "pass at least one column."
        )
    if array.size == 0:
        raise ValueError(f"{arg} is empty (shape {array.shape}); pass at least one observation.")
    if np.issubdtype(array.dtype, np.floating):
        row_bad = _bad_rows(array, allow_nan=allow_nan)
        if row_bad is not None:
            kind, rows = row_bad
            raise ValueError(
                f"{arg} has {kind} values in {describe_rows(rows)} "
                f"(0-based positions along the first axis). "
                + (
                    "Drop or impute those rows first."
                    if kind == "missing (NaN)"
                    else "Infinite values cannot come from any mixture component; fix or drop them."
                )
            )
    return array


def _bad_rows(array: np.ndarray, *, allow_nan: bool):
    flat = array.reshape(array.shape[0], -1) if array.ndim > 1 else array[:, None]
    inf_rows = np.flatnonzero(np.isinf(flat).any(axis=1))
    if inf_rows.size:
        return "infinite", inf_rows
    if not allow_nan:
        nan_rows = np.flatnonzero(np.isnan(flat).any(axis=1))
        if nan_rows.size:
            return "missing (NaN)", nan_rows
    return None


def check_positive_int(value, arg: str, *, minimum: int = 1, maximum: int | None = None) -> int:
    """Return ``value`` as int if it is an integer in [minimum, maximum], else raise."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise TypeError(f"{arg}={value!r} must be an int.")
    if value < minimum or (maximum is not None and value > maximum):
        upper = f" to {maximum}" if maximum is not None else " or more"
        raise ValueError(f"{arg}={value!r} must be an int from {minimum}{upper}.")
    return int(value)


def group_codes(groups, n_obs: int, arg: str = "groups") -> tuple[np.ndarray, np.ndarray]:
    """Integer codes 0..G-1 (sorted labels) and the labels of a per-row grouping."""
    labels = np.asarray(groups)
    if labels.shape != (n_obs,):
        raise ValueError(
            f"{arg} has shape {labels.shape}; expected one label per observation, shape ({n_obs},)."
        )
    missing = pd.isna(pd.Series(labels)).to_numpy()
    if missing.any():
        rows = np.flatnonzero(missing)
        raise ValueError(f"{arg} has missing labels in {describe_rows(rows)}; label every row.")
    codes, names = pd.factorize(labels, sort=True)
    return codes.astype(np.int64), np.asarray(names)


def is_dask_collection(value) -> bool:
    """Whether ``value`` is a Dask array or DataFrame (checked without importing Dask)."""
    module = type(value).__module__ or ""
    return module.split(".")[0] in ("dask", "dask_expr") and hasattr(value, "__dask_graph__")


def check_case_weights(weights, n_obs: int, arg: str = "case_weights") -> np.ndarray:
    """Frequency weights: one finite, non-negative number per observation, as floats."""
    values = as_numeric_array(weights, arg).astype(float)
    if values.shape != (n_obs,):
        raise ValueError(
            f"{arg} has shape {values.shape}; expected one weight per observation, "
            f"shape ({n_obs},)."
        )
    negative = np.flatnonzero(values < 0)
    if negative.size:
        raise ValueError(
            f"{arg} is negative in {describe_rows(negative)}; frequency weights must be "
            ">= 0 (use 0 to leave an observation out)."
        )
    if not values.any():
        raise ValueError(
            f"{arg} is zero for every observation; at least one weight must be positive."
        )
    return values
