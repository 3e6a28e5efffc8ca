"""The marginalised mixture likelihood: ``mixture(name, weights, components, observed)``.

One observed variable whose log-density is sum_i log sum_k w_ik p_k(y_i): each observation is
counted exactly once, whatever parameters the components share. Writing a mixture "in parts"
(several observed terms on the same data, multiplied by weights) counts the data several times
and leaves the weights at their prior; this builder makes that impossible.

``_components``
    The components: unnamed PyMC distributions of one support and one kind; one batched
    distribution; tuples of them for several responses.
``_observed``
    The observed data, and their missing entries under ``missing="marginalize"``.
``_layout``
    Shapes of the components against the data; the dims of the observed variable.
``_weights``
    The mixing weights' shape, and constant weights that sum to 1.
``_per_observation``
    Groups, case weights and known components of the observations.
``_custom_dist``
    The log-density and random draws of the observed ``pm.CustomDist`` node.
"""

from __future__ import annotations

from collections.abc import Sequence

import pymc as pm
import pytensor
import pytensor.tensor as pt
from pymc.distributions.shape_utils import change_dist_size
from pytensor.tensor.variable import TensorVariable

from bayesmixture._spec import MixtureSpec, record
from bayesmixture.likelihood._components import (
    Components,
    check_components,
    check_marginalizable,
)
from bayesmixture.likelihood._custom_dist import (
    common_dtype,
    make_logp,
    make_random,
    signature,
)
from bayesmixture.likelihood._layout import add_missing_coords, count_components
from bayesmixture.likelihood._observed import Observed, check_observed
from bayesmixture.likelihood._per_observation import (
    case_weights_array,
    check_groups,
    check_known,
)
from bayesmixture.likelihood._weights import check_weights

__all__ = ["mixture"]


def mixture(
    name: str,
    weights,
    components: Sequence[TensorVariable],
    observed,
    *,
    dims=None,
    groups=None,
    case_weights=None,
    missing: str = "error",
    known=None,
) -> TensorVariable:
    """Add a marginalised mixture likelihood to the model in context.

    The log-likelihood is sum_i log sum_k exp(log w_ik + log p_k(y_i)), computed stably, with
    each p_k from PyMC's own ``pm.logp`` of the component. Components may share parameters
    (one latent vector seen through several linear operators), weights may differ per
    observation or per group, and any PyMC distribution, including ``pm.CustomDist``, can be
    a component. The call records on the model what :func:`bayesmixture.membership` and
    :func:`bayesmixture.predict_membership` need later.

    Parameters
    ----------
    name : str
        Name of the observed variable.
    weights : tensor-like of shape (n_components,) or (..., n_components)
        Mixing weights; the batch axes broadcast against the observations' (per observation:
        shape (n_obs, n_components); per chunk of data: ``W[chunk_index]``). Constant weights
        must be non-negative and sum to 1 along the last axis.
    components : sequence of unnamed PyMC distributions, or one batched distribution
        At least two, all with the same support, e.g. ``[pm.Normal.dist(mu[0], 1),
        pm.Normal.dist(mu[1], 1)]`` or ``[pm.MvNormal.dist(mu[k], chol=L[k]) for k in ...]``;
        or a single distribution whose last batch axis indexes the components, e.g.
        ``pm.MvNormal.dist(mu, chol=L)`` with ``mu`` (K, D) and ``L`` (K, D, D), which
        evaluates all components in one vectorised density (faster). In this form a single
        component (last axis of length 1) is allowed, so that models with K = 1, 2, ...
        can be compared with the same code.
    observed : array-like or pm.Data
        The data, shape (n_obs,) for univariate components or (n_obs, n_features) for
        multivariate ones. Missing (NaN), infinite and empty data are rejected: PyMC would
        otherwise impute NaNs as parameters or silently fit the prior.
    dims : str or tuple of str, optional
        Dims of the observed variable, as in any PyMC distribution; dims the model has no
        coords for get coords 0..n-1.
    groups : array-like of shape (n_obs,), optional
        Grouped membership: all observations with the same group label (any hashable, ragged
        sizes, any order) share one component. The likelihood is then
        sum_g log sum_k w_gk prod_{i in g} p_k(y_i); weights broadcast against (n_groups,).
    case_weights : array-like of shape (n_obs,), optional
        Frequency weights: observation i's log-likelihood term is multiplied by
        ``case_weights[i]`` (non-negative, finite).
    missing : {"error", "marginalize"}, default "error"
        With ``"marginalize"`` (MvNormal or MvStudentT components), a row with missing (NaN)
        entries contributes the exact marginal density of its observed coordinates (no
        imputation); membership and prediction work for such rows. By default NaN is refused.
    known : array-like of int of shape (n_obs,), optional
        Partly labelled observations (semi-supervised): the component each observation is
        known to come from, -1 where it is not known. A labelled observation's term is
        log w_k + log p_k(y_i) of its own component k (its label observed, as the generative
        model has it); the others are mixtures. Not with ``groups``.

    Notes
    -----
    One class shared by several responses: pass ``observed`` as a tuple of arrays (one per
    response, e.g. a measurement and a count per row) and each component as a tuple of
    distributions, one per response; a component's density is the product over responses,
    and each row gets one label. Example: ``components=[(pm.Normal.dist(m[k], s[k]),
    pm.Poisson.dist(lam[k])) for k in range(K)], observed=(heights, counts)``.

    Returns
    -------
    TensorVariable
        The observed variable.

    Raises
    ------
    TypeError
        If a component is not an unnamed PyMC distribution, or data are not numeric.
    ValueError
        For fewer than two components, components with different supports or shapes that do
        not match the data, weights whose last axis is not ``n_components`` or that do not sum
        to 1, and missing, infinite or empty data (the rows are named).

    Examples
    --------
    >>> import numpy as np, pymc as pm, bayesmixture as bm
    >>> y = np.r_[np.full(5, -2.0), np.full(5, 2.0)]
    >>> with pm.Model() as model:
    ...     w = pm.Dirichlet("w", np.ones(2))
    ...     mu = pm.Normal("mu", [-1.0, 1.0], 3.0)
    ...     like = bm.mixture("y", w, [pm.Normal.dist(mu[0], 1.0), pm.Normal.dist(mu[1], 1.0)], y)
    >>> [v.name for v in model.observed_RVs]
    ['y']
    """
    model = pm.modelcontext(None)
    _check_options(name, missing)
    checked, observed = check_components(components, observed, model)
    if missing == "marginalize":
        check_marginalizable(checked.components)
    data = check_observed(observed, checked.ndim_supp, missing)
    n_components = count_components(checked, data.array.shape)
    spec = _mixture_spec(
        name,
        weights,
        checked,
        data,
        n_components,
        groups=groups,
        case_weights=case_weights,
        known=known,
        missing=missing,
    )
    rv = _observed_variable(model, spec, checked, data, dims)
    record(model, spec)
    return rv


def _check_options(name, missing: str) -> None:
    if not isinstance(name, str) or not name:
        raise TypeError(f"name must be a non-empty str, got {name!r}.")
    if missing not in ("error", "marginalize"):
        raise ValueError(f"missing={missing!r}; choose 'error' or 'marginalize'.")


def _mixture_spec(
    name: str,
    weights,
    checked: Components,
    data: Observed,
    n_components: int,
    *,
    groups,
    case_weights,
    known,
    missing: str,
) -> MixtureSpec:
    """What the mixture records on its model, from the checked weights and per-row inputs."""
    batch_shape = data.batch_shape(checked.ndim_supp)
    codes, group_names = check_groups(groups, batch_shape)
    n_batch = (len(group_names),) if codes is not None else batch_shape
    return MixtureSpec(
        name=name,
        weights=check_weights(weights, n_components, n_batch),
        components=tuple(checked.components),
        ndim_supp=checked.ndim_supp,
        batch_ndim=len(batch_shape),
        n_components=n_components,
        observed=data.value,
        batched=checked.batched,
        groups=codes,
        group_names=group_names,
        case_weights=case_weights_array(case_weights, batch_shape),
        missing_mask=data.mask if data.mask is not None and data.mask.any() else None,
        allow_missing=missing == "marginalize",
        parts=checked.parts,
        known=check_known(known, batch_shape, n_components, groups),
    )


def _observed_variable(
    model: pm.Model, spec: MixtureSpec, checked: Components, data: Observed, dims
) -> TensorVariable:
    """The observed ``pm.CustomDist`` of the mixture, with draws at the data's batch shape."""
    # Forward draws need every component drawn at the observations' batch shape; densities
    # (here and in membership) use the components as given, which broadcast against any data.
    batch_shape = data.batch_shape(checked.ndim_supp)
    draw_shape = (*batch_shape, spec.n_components) if checked.batched else batch_shape
    resized = [change_dist_size(comp, new_size=draw_shape) for comp in checked.flat]
    add_missing_coords(model, dims, data.array.shape)
    # With several responses the row width appears in no parameter's shape: a constant
    # template of that width lets PyMC infer the support shape (ignored otherwise).
    parts = checked.parts
    template = [] if parts is None else [pt.zeros(parts[-1][1])]
    return pm.CustomDist(
        spec.name,
        spec.weights,
        *resized,
        *template,
        logp=make_logp(spec),
        random=make_random(checked.ndim_supp, checked.batched, parts),
        signature=signature(len(checked.flat), checked.ndim_supp, checked.batched, parts),
        dtype=common_dtype(checked.flat) if parts is None else pytensor.config.floatX,
        observed=spec.observed,
        dims=dims,
    )
