"""What a block task computes on its worker: the scores of one block's rows.

Rows of an estimator go through its own validation and standardisation (``_new_value``) and
its numpy scorer when it has one; rows of a model are checked like new observations. Both
borrow a compiled evaluator from the process's cache otherwise.
"""

from __future__ import annotations

from contextlib import nullcontext

import numpy as np

from bayesmixture._dask._cache import borrowed_evaluator, count_block
from bayesmixture._dask._payload import Payload
from bayesmixture.evaluation import check_new_observed, predictive_log_density, summarise


def score_estimator_rows(payload: Payload, rows, output: str) -> np.ndarray:
    """Probabilities, labels or log densities of rows new to a fitted estimator."""
    estimator = payload.estimator
    value, data = estimator._new_value(rows)
    fast = getattr(estimator, "_fast_scorer", None)
    spec = estimator._scoring_spec(estimator._fit_data) if fast else None
    fast = fast(spec, payload.posterior, value, data) if fast else None
    if fast is not None:  # nothing to compile; the block is still counted
        count_block(payload.token)
    with borrowed_evaluator(payload) if fast is None else nullcontext(fast) as evaluator:
        if output == "log_density":
            log_density = predictive_log_density(
                evaluator, payload.posterior, value, data=data or None
            )
            return log_density + estimator._log_jacobian()
        proba = summarise(
            evaluator,
            payload.posterior,
            value,
            None,
            obs_coords=np.arange(len(value)),
            component_coords=payload.component_coords,
            data=data or None,
        )["probability"].values
    return proba if output == "proba" else proba.argmax(axis=1)


def score_model_rows(payload: Payload, rows, output: str) -> np.ndarray:
    """Log densities, or probabilities and their sds side by side, of a model's new rows."""
    with borrowed_evaluator(payload) as evaluator:
        value = check_new_observed(evaluator, rows, None)
        if output == "log_density":
            return predictive_log_density(evaluator, payload.posterior, value)
        result = summarise(
            evaluator,
            payload.posterior,
            value,
            payload.perms,
            obs_coords=np.arange(len(value)),
            component_coords=payload.component_coords,
        )
    return np.concatenate([result["probability"].values, result["probability_sd"].values], 1)
