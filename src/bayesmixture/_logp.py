"""Symbolic log-densities shared by the likelihood, membership and prediction.

Everything here builds PyTensor graphs from the component distributions with PyMC's own
``pm.logp``: one source of truth for every density the library evaluates.
Axis order of the results: (*batch, component).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pymc as pm
import pytensor.tensor as pt
from pytensor.tensor.variable import TensorVariable

# Component distributions whose marginals over a subset of coordinates are of the same family.
MARGINALIZABLE = ("MvNormalRV", "MvStudentTRV")


def component_logp(
    components: Sequence,
    value: TensorVariable,
    *,
    ndim_supp: int,
    batched: bool = False,
    parts: Sequence[tuple[int, int, int]] | None = None,
    missing_mask: np.ndarray | None = None,
    n_components: int | None = None,
) -> TensorVariable:
    """log p_k(y_i) for every observation and component, shape (*batch, n_components).

    ``components`` is a list of distributions, or (``batched``) one distribution whose last
    batch axis indexes the components; the latter is one vectorised density evaluation.
    With ``parts`` each component is a tuple of distributions of several responses stored
    side by side in the columns of ``value`` (``(start, stop, ndim_supp)`` per response), and
    its density is their product. With ``missing_mask`` (rows x columns, True = missing) each
    row contributes the marginal density of its observed coordinates (MvNormal components).

    ``pm.logp`` broadcasts parameters against the value; a component whose parameters do not
    match the observations' batch shape would silently broadcast (e.g. (60, 1) against (60,)
    gives (60, 60)), so the result is pinned to the value's batch shape.
    """
    if missing_mask is not None:
        return _marginal_component_logp(
            components, value, missing_mask, batched=batched, n_components=n_components
        )
    batch_shape = tuple(value.shape[i] for i in range(value.ndim - ndim_supp))
    if parts is not None:
        columns = [
            pt.specify_shape(_product_logp(comp_parts, value, parts), batch_shape)
            for comp_parts in components
        ]
        return pt.stack(columns, axis=-1)
    if batched:
        [comp] = components
        per_component = pt.expand_dims(value, axis=value.ndim - ndim_supp)
        return pt.specify_shape(pm.logp(comp, per_component), (*batch_shape, None))
    columns = [pt.specify_shape(pm.logp(comp, value), batch_shape) for comp in components]
    return pt.stack(columns, axis=-1)


def _product_logp(comp_parts, value, parts) -> TensorVariable:
    """Sum over responses of each response's log-density (one label per row)."""
    total = 0.0
    for dist, (start, stop, part_ndim) in zip(comp_parts, parts, strict=True):
        part_value = value[:, start] if part_ndim == 0 else value[:, start:stop]
        total = total + pm.logp(dist, part_value)
    return total


def _marginal_component_logp(
    components, value, missing_mask, *, batched, n_components
) -> TensorVariable:
    """Per missingness pattern, the MvNormal marginal of the observed coordinates.

    Rows are evaluated pattern by pattern and put back in their order with one constant
    index (integer indexing and concatenation vectorise over posterior draws).
    """
    observed = ~np.asarray(missing_mask, dtype=bool)
    n_features = observed.shape[1]
    patterns, inverse = np.unique(observed, axis=0, return_inverse=True)
    pieces, order = [], []
    for p, pattern in enumerate(patterns):
        rows = np.flatnonzero(inverse.ravel() == p)
        cols = np.flatnonzero(pattern)
        order.extend(rows)
        if cols.size == 0:  # every coordinate missing: density 1 under every component
            pieces.append(pt.zeros((rows.size, n_components)))
            continue
        marginals = [marginal_mvnormal(comp, cols, n_features) for comp in components]
        sub_value = value[rows[:, None], cols[None, :]]
        pieces.append(component_logp(marginals, sub_value, ndim_supp=1, batched=batched))
    return pt.concatenate(pieces, axis=0)[np.argsort(order)]


def marginal_mvnormal(comp: TensorVariable, cols: np.ndarray, n_features: int) -> TensorVariable:
    """The marginal of coordinates ``cols`` of an MvNormal or MvStudentT component (mean and
    covariance or scale restricted to them; a t keeps its degrees of freedom)."""
    op_name = type(comp.owner.op).__name__
    if op_name not in MARGINALIZABLE:
        raise TypeError(
            "missing='marginalize' needs MvNormal or MvStudentT components (their marginals "
            f"are of the same family); got {op_name}."
        )
    *params, mu, cov = comp.owner.inputs[2:]
    # Select coordinates with a constant 0/1 matrix: matmuls vectorise over posterior draws,
    # where fancy indexing of trailing axes does not.
    select = np.zeros((n_features, cols.size))
    select[cols, np.arange(cols.size)] = 1.0
    cov_sub = pt.matmul(pt.matmul(select.T, cov), select)
    mu_sub = pt.matmul(mu, select)
    if op_name == "MvStudentTRV":
        [nu] = params
        return pm.MvStudentT.dist(nu=nu, mu=mu_sub, scale=cov_sub)
    return pm.MvNormal.dist(mu_sub, cov_sub)


def log_joint(
    weights: TensorVariable,
    components: Sequence[TensorVariable],
    value: TensorVariable,
    *,
    ndim_supp: int,
    batched: bool = False,
    parts: Sequence[tuple[int, int, int]] | None = None,
    missing_mask: np.ndarray | None = None,
    n_components: int | None = None,
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
    comp_logp = component_logp(
        components,
        value,
        ndim_supp=ndim_supp,
        batched=batched,
        parts=parts,
        missing_mask=missing_mask,
        n_components=n_components,
    )
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
