"""Tables of numbers from what users pass: arrays, DataFrames, lists; checked by name."""

from __future__ import annotations

import numpy as np
import pandas as pd

from bayesmixture._validation import as_numeric_array, describe_rows


def validate_table(
    X, arg: str = "X", *, allow_nan: bool = False
) -> tuple[np.ndarray, list[str] | None]:
    """A 2-D float array from an array-like or DataFrame, and the column names if any.

    With ``allow_nan``, missing entries are kept, but rows with nothing observed are refused.
    """
    from scipy import sparse

    names = None
    if sparse.issparse(X):
        raise TypeError(
            f"{arg} is a scipy sparse matrix; sparse input is not supported. Pass a dense "
            f"array ({arg}.toarray())."
        )
    if isinstance(X, pd.DataFrame):
        names = [str(c) for c in X.columns]
        duplicated = sorted({c for c in names if names.count(c) > 1})
        if duplicated:
            raise ValueError(
                f"{arg} has duplicated column names {duplicated}; give every column its own name."
            )
    array = as_numeric_array(X, arg, allow_nan=allow_nan).astype(float)
    if array.ndim == 1:
        raise ValueError(
            f"{arg} is 1-D (shape {array.shape}); pass a 2-D table of shape (n_obs, n_features). "
            f"Reshape your data with {arg}.reshape(-1, 1) for a single feature."
        )
    if array.ndim != 2:
        raise ValueError(f"{arg} has {array.ndim} dimensions; expected 2 (n_obs, n_features).")
    if allow_nan:
        empty = np.flatnonzero(np.isnan(array).all(axis=1))
        if empty.size:
            raise ValueError(
                f"{arg} has no observed entries in {describe_rows(empty)}; such rows carry no "
                "information: drop them."
            )
    return array, names
