"""Dask input checked in this process, before anything is scheduled.

Values are only seen when the blocks run; what can be checked on the collection itself (its
kind, dtype, column sizes) is checked here, with the in-memory validators run on one row of
the input's dtype so that the messages are the same as in memory.
"""

from __future__ import annotations

import dask.array as da
import dask.dataframe as dd
import numpy as np


def check_collection(X, arg: str, *, frames: bool):
    """A Dask array (or DataFrame where ``frames``), with whole rows in each block."""
    kinds = (da.Array, dd.DataFrame) if frames else (da.Array,)
    if not isinstance(X, kinds):
        wanted = "a dask.array.Array or dask.dataframe.DataFrame" if frames else "a dask array"
        hint = (
            "for in-memory data call the in-memory method"
            if frames
            else "convert a DataFrame with df.to_dask_array(lengths=True)"
        )
        raise TypeError(f"{arg} must be {wanted}, got {type(X).__name__}; {hint}.")
    if isinstance(X, da.Array) and X.dtype == object:
        raise TypeError(
            f"{arg} is a dask array of dtype object, whose entries cannot be checked before "
            f"the blocks run; convert it to numbers first ({arg}.astype(float))."
        )
    if isinstance(X, da.Array) and X.ndim > 1:
        X = X.rechunk({axis: -1 for axis in range(1, X.ndim)})  # whole rows in each block
    return X


def check_sample(check, X: da.Array, *args) -> None:
    """``check`` on one row of ``X``'s dtype; messages quote the shape of ``X`` itself."""
    sample = np.zeros((1, *X.shape[1:]), dtype=X.dtype)
    try:
        check(sample, *args)
    except (TypeError, ValueError) as err:
        message = str(err).replace(f"shape {sample.shape}", f"shape {X.shape}")
        raise type(err)(message) from None
