"""The evaluator core: log-densities of (data, draws) in bounded memory, below every user of them.

:mod:`bayesmixture.memberships`, :mod:`bayesmixture.relabelling`, selection, the estimators and the
Dask scorer all evaluate a mixture the same way: one compiled function of PyMC's own component
densities, vectorised over draws and called chunk by chunk. This package holds that function and
the pure-numpy pieces around it, so that none of its users needs another's internals.
Axis order of every array: (draw, obs, component).

``_evaluator``
    :class:`MixtureEvaluator`: per-draw log responsibilities and log marginal densities.
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

from bayesmixture.evaluation._arrays import permute_axis, permute_last_axis
from bayesmixture.evaluation._evaluator import (
    BLOCK_ELEMENTS,
    ROW_BLOCK,
    Chunk,
    MixtureEvaluator,
    rows_are_independent,
)
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
