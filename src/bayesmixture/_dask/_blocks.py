"""The lazy result: a Dask collection with one task per block of rows.

Every task refers to the one payload key, so the draws travel to each worker once; a task
scores its block with :mod:`bayesmixture._dask._rows` and, if that fails, says which rows
of the collection the block held.
"""

from __future__ import annotations

from contextlib import contextmanager

import dask
import dask.array as da
import dask.dataframe as dd
import numpy as np
import pandas as pd

from bayesmixture._dask._payload import Payload
from bayesmixture._dask._rows import score_estimator_rows, score_model_rows

OUTPUT_DTYPES = {"proba": float, "label": np.int64, "log_density": float, "membership": float}


def map_array(X: da.Array, payload: Payload, output: str) -> da.Array:
    """``output`` of every block of rows of ``X``, lazily (one row per row of ``X``)."""
    K = len(payload.component_coords)
    width = {"proba": K, "membership": 2 * K}.get(output)
    shape = {"new_axis": [1], "chunks": (X.chunks[0], (width,))} if width else {}
    return da.map_blocks(
        _array_block,
        X,
        _delayed(payload),
        output,
        drop_axis=list(range(1, X.ndim)),
        dtype=OUTPUT_DTYPES[output],
        token=f"bayesmixture-{output}",
        **(shape or {"chunks": (X.chunks[0],)}),
    )


def map_frame(X: dd.DataFrame, payload: Payload, output: str):
    """``output`` of every partition of ``X``, lazily, with the input's index."""
    if output == "proba":
        meta = pd.DataFrame({c: pd.Series(dtype=float) for c in payload.component_coords})
    else:
        meta = pd.Series(dtype=OUTPUT_DTYPES[output], name=output)
    return X.map_partitions(_frame_partition, _delayed(payload), output, meta=meta)


def _delayed(payload: Payload):
    return dask.delayed(payload, name=f"bayesmixture-posterior-{payload.token}", traverse=False)


def _array_block(block, payload, output, block_info=None):
    if len(block) == 0:
        return _empty(payload, output)
    start, stop = block_info[0]["array-location"][0] if block_info else (0, len(block))
    score = score_estimator_rows if payload.estimator is not None else score_model_rows
    with _located(f"rows {start} to {stop - 1} of the dask array"):
        return score(payload, block, output)


def _frame_partition(part: pd.DataFrame, payload, output, partition_info=None):
    if len(part) == 0:
        values = _empty(payload, output)
    else:
        number = partition_info["number"] if partition_info else "?"
        with _located(f"partition {number} of the dask DataFrame"):
            values = score_estimator_rows(payload, part, output)
    if output == "proba":
        return pd.DataFrame(values, index=part.index, columns=payload.component_coords)
    return pd.Series(values, index=part.index, name=output)


@contextmanager
def _located(where: str):
    try:
        yield
    except (TypeError, ValueError) as err:
        err.add_note(f"Raised while scoring {where}; row numbers count from its first row.")
        raise


def _empty(payload: Payload, output: str) -> np.ndarray:
    K = len(payload.component_coords)
    width = {"proba": (K,), "membership": (2 * K,)}.get(output, ())
    return np.empty((0, *width), dtype=OUTPUT_DTYPES[output])
