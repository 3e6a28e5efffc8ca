"""Symbolic log-densities shared by the likelihood, membership and prediction.

Everything here builds PyTensor graphs from the component distributions with PyMC's own
``pm.logp``: one source of truth for every density the library evaluates.
Axis order of the results: (*batch, component).
"""

from __future__ import annotations

from collections.abc import Sequence

import pymc as pm
import pytensor.tensor as pt
from pytensor.tensor.variable import TensorVariable


def component_logp(
    components: Sequence[TensorVariable],
    value: TensorVariable,
    *,
    ndim_supp: int,
    batched: bool = False,
) -> TensorVariable:
    """log p_k(y_i) for every observation and component, shape (*batch, n_components).

    ``components`` is a list of distributions, or (``batched``) one distribution whose last
    batch axis indexes the components; the latter is one vectorised density evaluation.

    ``pm.logp`` broadcasts parameters against the value; a component whose parameters do not
    match the observations' batch shape would silently broadcast (e.g. (60, 1) against (60,)
    gives (60, 60)), so the result is pinned to the value's batch shape.
    """
    batch_shape = tuple(value.shape[i] for i in range(value.ndim - ndim_supp))
    if batched:
        [comp] = components
        per_component = pt.expand_dims(value, axis=value.ndim - ndim_supp)
        return pt.specify_shape(pm.logp(comp, per_component), (*batch_shape, None))
    columns = [pt.specify_shape(pm.logp(comp, value), batch_shape) for comp in components]
    return pt.stack(columns, axis=-1)


def log_joint(
    weights: TensorVariable,
    components: Sequence[TensorVariable],
    value: TensorVariable,
    *,
    ndim_supp: int,
    batched: bool = False,
    case_weights: TensorVariable | None = None,
    groups: TensorVariable | None = None,
    n_groups: int | None = None,
) -> TensorVariable:
    """log w_ik + log p_k(y_i): shape (*batch, K), or (n_groups, K) with ``groups``.

    With ``groups`` the component log-densities of a group's members are summed (all members
    share one component), each multiplied by its frequency weight in ``case_weights``.
    Without groups, frequency weights do not change an observation's responsibilities; they
    multiply its whole term in :func:`mixture_logp`.
    """
    comp_logp = component_logp(components, value, ndim_supp=ndim_supp, batched=batched)
    if groups is not None:
        if case_weights is not None:
            comp_logp = comp_logp * case_weights[:, None]
        comp_logp = group_sum(comp_logp, groups, n_groups)
    return pt.log(weights) + comp_logp


def mixture_logp(
    joint: TensorVariable,
    *,
    case_weights: TensorVariable | None = None,
    grouped: bool = False,
) -> TensorVariable:
    """Each term's log-likelihood, log sum_k exp(joint), times its frequency weight."""
    terms = pt.logsumexp(joint, axis=-1)
    if case_weights is not None and not grouped:
        terms = terms * case_weights
    return terms


def group_sum(values: TensorVariable, groups: TensorVariable, n_groups: int) -> TensorVariable:
    """Sum rows of ``values`` (n_obs, K) that share a group code: (n_groups, K)."""
    totals = pt.zeros((n_groups, values.shape[-1]), dtype=values.dtype)
    return pt.inc_subtensor(totals[groups], values)
