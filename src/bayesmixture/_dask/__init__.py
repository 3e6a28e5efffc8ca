"""Lazy, chunked scoring with Dask: membership and predictive densities of data of any size.

What runs where. Building the result (this process) checks the input on its metadata with
the same validators as in memory, thins the posterior if asked, and wraps the model, the
stacked draws and the standardisation into ONE graph key that every block refers to, so the
draws travel to each worker once. Each block task (on whatever scheduler is active: threads,
processes, or a ``dask.distributed`` cluster) validates and standardises its rows, borrows a
compiled evaluator from a small per-process cache keyed by the payload's token (compiled once
per process and thread in use, then reused for every block), and returns its block of
probabilities, labels or log densities. No block ever sees another block's rows.

Memory of one block task, in bytes, with r rows per block, D features, K components and S
draws (after thinning), r_b = min(r, 50,000) and E = min(S, max(1, floor(4e6 / (r_b K)))) x
r_b x K elements per evaluator call (the evaluator cuts draws and rows into such pieces)::

    peak ~ baseline + 8 * (c_E * E + c_r * r * (D + K))

baseline is the imported libraries (numbers in docs/scaling.md), c_E a few arrays of E
elements and c_r a few copies of the block. It grows with the rows of a block and is bounded
in the draws: E never exceeds 4 million elements, whatever S is.

``_estimators``
    ``predict_proba_lazy``, ``predict_lazy``, ``score_samples_lazy``: a fitted estimator's
    methods on a Dask array or DataFrame (what the estimators call for Dask input).
``_functional``
    ``predict_membership_lazy``, ``predictive_logpdf_lazy``: the functional API's twins.
``_inputs``
    The collection checked in this process, before anything is scheduled.
``_payload``
    What every block task receives: the model, the thinned draws, the token.
``_blocks``
    The lazy collection: one task per block of rows, errors located in the input.
``_rows``
    What a block task computes on its worker.
``_cache``
    The compiled evaluators each process keeps, keyed by the payload's token.
"""

from __future__ import annotations

try:  # the modules below import what they use; a missing Dask is reported here
    import dask.array
    import dask.dataframe  # noqa: F401
except ImportError as err:  # pragma: no cover - depends on the environment
    raise ImportError(
        "lazy scoring needs Dask; install it with pip install 'bayesmixture[dask]'."
    ) from err

from bayesmixture._dask._cache import _cache_info as _cache_info
from bayesmixture._dask._estimators import predict_lazy, predict_proba_lazy, score_samples_lazy
from bayesmixture._dask._functional import predict_membership_lazy, predictive_logpdf_lazy

__all__ = [
    "predict_lazy",
    "predict_membership_lazy",
    "predict_proba_lazy",
    "predictive_logpdf_lazy",
    "score_samples_lazy",
]
