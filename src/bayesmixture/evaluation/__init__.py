"""The evaluator core: log-densities of (data, draws) in bounded memory, below every user of them.

:mod:`bayesmixture.memberships`, :mod:`bayesmixture.relabelling`, selection, the estimators and the
Dask scorer all evaluate a mixture the same way: one compiled function of PyMC's own component
densities, vectorised over draws and called chunk by chunk. This package holds that function and
the pure-numpy pieces around it, so that none of its users needs another's internals.
Axis order of every array: (draw, obs, component).

``_evaluator``
    :class:`MixtureEvaluator`: per-draw log responsibilities and log marginal densities
    (imported on first use: it loads PyMC).
``_chunks``
    :class:`Chunk`, the blocks every evaluator yields, and their sizes.
``_scorer``
    :class:`ArrayScorer`: the same blocks from a subclass's closed-form numpy densities
    (the estimators' scorers), with nothing to compile.
``_inputs``
    The posterior as stacked (draw, ...) arrays, the observed rows, the component coords.
``_summary``
    Mean/sd/label of P(z = k) over every draw, and the posterior predictive density.
``_arrays``
    Per-draw permutations of a component axis.
"""

import importlib

from bayesmixture.evaluation._arrays import permute_axis, permute_last_axis
from bayesmixture.evaluation._chunks import BLOCK_ELEMENTS, ROW_BLOCK, Chunk
from bayesmixture.evaluation._inputs import (
    COMPONENT_DIM,
    check_new_observed,
    check_posterior,
    component_coords,
    stacked_draws,
    training_value,
)
from bayesmixture.evaluation._scorer import ArrayScorer
from bayesmixture.evaluation._summary import predictive_log_density, summarise

__all__ = [
    "BLOCK_ELEMENTS",
    "COMPONENT_DIM",
    "ROW_BLOCK",
    "ArrayScorer",
    "Chunk",
    "MixtureEvaluator",
    "check_new_observed",
    "check_posterior",
    "component_coords",
    "permute_axis",
    "permute_last_axis",
    "predictive_log_density",
    "rows_are_independent",
    "stacked_draws",
    "summarise",
    "training_value",
]

# PyMC's compiled evaluator loads PyMC and PyTensor: imported on first use, so that the array
# scorers, the summaries and relabelling work without them (a fit on a compiled kernel).
_LAZY = {"MixtureEvaluator", "rows_are_independent"}


def __getattr__(name: str):
    if name in _LAZY:
        value = getattr(importlib.import_module("bayesmixture.evaluation._evaluator"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
