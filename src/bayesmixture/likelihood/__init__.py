"""The marginalised mixture likelihood: ``mixture(name, weights, components, observed)``.

One observed variable whose log-density is sum_i log sum_k w_ik p_k(y_i): each observation is
counted exactly once, whatever parameters the components share. Writing a mixture "in parts"
(several observed terms on the same data, multiplied by weights) counts the data several times
and leaves the weights at their prior; this builder makes that impossible.
"""

from __future__ import annotations

from collections.abc import Sequence
from string import ascii_lowercase

import numpy as np
import pymc as pm
import pytensor
import pytensor.tensor as pt
from pymc.distributions.distribution import SymbolicRandomVariable
from pymc.distributions.shape_utils import change_dist_size
from pytensor.compile.sharedvalue import SharedVariable
from pytensor.graph.basic import Constant
from pytensor.tensor.random.op import RandomVariable
from pytensor.tensor.variable import TensorVariable

from bayesmixture import _logp
from bayesmixture._spec import MixtureSpec, record
from bayesmixture._validation import (
    as_numeric_array,
    check_case_weights,
    describe_rows,
    group_codes,
)

__all__ = ["mixture"]

_WEIGHT_SUM_TOLERANCE = 1e-6


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
    if not isinstance(name, str) or not name:
        raise TypeError(f"name must be a non-empty str, got {name!r}.")
    if missing not in ("error", "marginalize"):
        raise ValueError(f"missing={missing!r}; choose 'error' or 'marginalize'.")
    if _is_product(components):
        components, parts, observed = _check_product(components, observed, model)
        batched, ndim_supp = False, 1
        flat = [d for comp in components for d in comp]
    else:
        parts = None
        components, batched = _check_components(components, model)
        ndim_supp = components[0].owner.op.ndim_supp
        flat = components
    if missing == "marginalize":
        _check_marginalizable(components, ndim_supp)
    observed_value, observed_array, mask = _check_observed(observed, ndim_supp, missing)
    batch_shape = observed_array.shape[: observed_array.ndim - ndim_supp]
    if parts is None:
        n_components = _check_component_shapes(components, observed_array.shape, ndim_supp, batched)
    else:
        n_components = len(components)
    group_codes, group_names = _check_groups(groups, batch_shape)
    n_batch = (len(group_names),) if group_codes is not None else batch_shape
    weights = _check_weights(weights, n_components, n_batch)
    case_weight_array = _check_case_weights(case_weights, batch_shape)
    known_array = _check_known(known, batch_shape, n_components, groups)

    spec = MixtureSpec(
        name=name,
        weights=weights,
        components=tuple(components),
        ndim_supp=ndim_supp,
        batch_ndim=len(batch_shape),
        n_components=n_components,
        observed=observed_value,
        batched=batched,
        groups=group_codes,
        group_names=group_names,
        case_weights=case_weight_array,
        missing_mask=mask if mask is not None and mask.any() else None,
        allow_missing=missing == "marginalize",
        parts=parts,
        known=known_array,
    )
    # Forward draws need every component drawn at the observations' batch shape; densities
    # (here and in membership) use the components as given, which broadcast against any data.
    draw_shape = (*batch_shape, n_components) if batched else batch_shape
    resized = [change_dist_size(comp, new_size=draw_shape) for comp in flat]
    _add_missing_coords(model, dims, observed_array.shape)
    # With several responses the row width appears in no parameter's shape: a constant
    # template of that width lets PyMC infer the support shape (ignored otherwise).
    template = [] if parts is None else [pt.zeros(parts[-1][1])]
    rv = pm.CustomDist(
        name,
        weights,
        *resized,
        *template,
        logp=_make_logp(spec),
        random=_make_random(ndim_supp, batched, parts),
        signature=_signature(len(flat), ndim_supp, batched, parts),
        dtype=_common_dtype(flat) if parts is None else pytensor.config.floatX,
        observed=observed_value,
        dims=dims,
    )
    record(model, spec)
    return rv


def _add_missing_coords(model: pm.Model, dims, shape) -> None:
    """Dims of the observed variable that the model does not know get coords 0..n-1."""
    if dims is None:
        return
    dims = (dims,) if isinstance(dims, str) else tuple(dims)
    if len(dims) != len(shape):
        raise ValueError(
            f"dims={dims!r} names {len(dims)} dimensions but observed has shape {shape}; give one "
            "name per dimension."
        )
    for dim, size in zip(dims, shape, strict=True):
        if dim not in model.coords:
            model.add_coord(dim, values=range(size))


def _make_logp(spec: MixtureSpec):
    groups = None if spec.groups is None else pt.constant(spec.groups)
    case_weights = None if spec.case_weights is None else pt.constant(spec.case_weights)
    # labelled observations mix over their own component only: the others get -inf
    allowed = None
    if spec.known is not None:
        allowed = (spec.known[:, None] < 0) | (spec.known[:, None] == np.arange(spec.n_components))

    originals = [d for comp in spec.components for d in _as_tuple(comp)]

    def logp(value, weights, *components):
        components = components[: len(originals)]  # drop the template of product mixtures
        unresized = [_unresized(r, o) for r, o in zip(components, originals, strict=True)]
        if spec.parts is not None:
            width = len(spec.parts)
            unresized = [tuple(unresized[i : i + width]) for i in range(0, len(unresized), width)]
        joint = _logp.log_joint(
            weights,
            unresized,
            value,
            **spec.layout(),
            case_weights=case_weights,
            groups=groups,
            n_groups=spec.n_groups,
        )
        if allowed is not None:
            joint = pt.where(allowed, joint, -np.inf)
        return _logp.mixture_logp(joint, case_weights=case_weights, grouped=groups is not None)

    return logp


def _unresized(received: TensorVariable, original: TensorVariable) -> TensorVariable:
    """The component with the parameters PyMC passed to the logp, at its original size.

    The observed node holds components resized to the observations (forward draws need
    that); their densities do not, and PyMC's multivariate logps broadcast parameters to the
    size, which makes every row solve its own linear system. Plain random variables get
    their original size back; other kinds are used as received.
    """
    node, original_node = received.owner, original.owner
    if not isinstance(node.op, RandomVariable) or node.op != original_node.op:
        return received
    rng, _, *params = node.inputs
    params = [
        _drop_leading_broadcast(param, original_param.ndim)
        for param, original_param in zip(params, original_node.inputs[2:], strict=True)
    ]
    rebuilt = node.op.make_node(rng, original_node.inputs[1], *params)
    return rebuilt.outputs[original_node.outputs.index(original)]


def _drop_leading_broadcast(param: TensorVariable, ndim: int) -> TensorVariable:
    """Undo dims of length 1 that resizing put in front of a parameter."""
    extra = param.ndim - ndim
    if extra > 0 and all(param.type.broadcastable[:extra]):
        return param.squeeze(axis=tuple(range(extra)))
    return param


def _make_random(ndim_supp: int, batched: bool, parts=None):
    def random(weights, *components, rng=None, size=None):
        if parts is not None:
            components = components[:-1]  # the template
            width = len(parts)
            rows = [
                np.column_stack([np.reshape(d, (len(d), -1)) for d in components[i : i + width]])
                for i in range(0, len(components), width)
            ]
            stacked = np.stack(rows, axis=-2)  # (n_obs, K, n_columns)
        elif batched:
            stacked = components[0]
        else:
            stacked = np.stack(np.broadcast_arrays(*components), axis=-1 - ndim_supp)
        batch_shape = stacked.shape[: stacked.ndim - 1 - ndim_supp]
        n_components = stacked.shape[len(batch_shape)]
        probs = np.broadcast_to(weights, (*batch_shape, n_components))
        cumulative = np.cumsum(probs, axis=-1)
        u = rng.random((*batch_shape, 1)) * cumulative[..., -1:]
        labels = np.minimum((u > cumulative).sum(axis=-1), n_components - 1)
        index = labels.reshape(*batch_shape, 1, *([1] * ndim_supp))
        draws = np.take_along_axis(stacked, index, axis=len(batch_shape))
        return draws.squeeze(axis=len(batch_shape))

    return random


def _signature(n_params: int, ndim_supp: int, batched: bool, parts=None) -> str:
    if parts is not None:
        letters = [
            "()" if nd == 0 else f"({ascii_lowercase[j]})" for j, (_, _, nd) in enumerate(parts)
        ]
        per_component = letters * (n_params // len(parts))
        return ",".join(["(k)", *per_component, "(z)"]) + "->(z)"
    core_dims = list(ascii_lowercase[:ndim_supp])
    core = "(" + ",".join(core_dims) + ")"
    param = "(" + ",".join(["k", *core_dims]) + ")" if batched else core
    return ",".join(["(k)"] + [param] * n_params) + "->" + core


def _common_dtype(components) -> str:
    dtypes = {comp.dtype for comp in components}
    if all(d.startswith("int") for d in dtypes):
        return "int64"
    return pytensor.config.floatX if len(dtypes) > 1 else next(iter(dtypes))


def _check_components(components, model: pm.Model) -> tuple[list[TensorVariable], bool]:
    """The components as a list, and whether they are one batched distribution."""
    batched = isinstance(components, TensorVariable)
    if batched:
        components = [components]
    elif not isinstance(components, Sequence):
        raise TypeError(
            "components must be a list of unnamed PyMC distributions, e.g. "
            "[pm.Normal.dist(mu[0], 1), pm.Normal.dist(mu[1], 1)], or one distribution whose "
            f"last batch axis indexes the components; got {type(components).__name__}."
        )
    components = list(components)
    if not batched and len(components) < 2:
        raise ValueError(
            f"components has {len(components)} distribution(s); a mixture needs at least 2."
        )
    registered = set(model.basic_RVs) | set(model.deterministics)
    for k, comp in enumerate(components):
        where = "components" if batched else f"components[{k}]"
        owner = getattr(comp, "owner", None)
        if owner is None or not isinstance(owner.op, RandomVariable | SymbolicRandomVariable):
            raise TypeError(
                f"{where} is {comp!r} ({type(comp).__name__}); expected an unnamed PyMC "
                "distribution such as pm.Normal.dist(mu, sigma)."
            )
        if comp in registered:
            raise TypeError(
                f"{where} is the model variable {comp.name!r}; components must be unnamed: "
                f"write pm.{type(owner.op).__name__.removesuffix('RV')}.dist(...) instead of "
                "creating a named variable."
            )
    supports = [comp.owner.op.ndim_supp for comp in components]
    if len(set(supports)) > 1:
        raise ValueError(
            f"components have different supports (core dimensions {supports}); all components "
            "of a mixture must describe the same kind of observation (all univariate or all "
            "multivariate of the same size)."
        )
    kinds = {
        ("discrete" if comp.dtype.startswith(("int", "uint", "bool")) else "continuous"): comp
        for comp in components
    }
    if len(kinds) > 1:
        names = {
            kind: type(comp.owner.op).__name__.removesuffix("RV") for kind, comp in kinds.items()
        }
        raise ValueError(
            f"components mix discrete ({names['discrete']}) and continuous "
            f"({names['continuous']}) distributions: a probability and a density are not on "
            "one scale, so their mixture means nothing. Give every component the same support "
            "(all discrete, or all continuous)."
        )
    return components, batched


def _check_observed(observed, ndim_supp: int, missing: str = "error"):
    """(value for PyMC, array, missing mask or None)."""
    allow_nan = missing == "marginalize"
    if isinstance(observed, SharedVariable):
        array = as_numeric_array(observed.get_value(), "observed")
        if allow_nan:
            raise TypeError(
                "missing='marginalize' needs observed as an array (missing entries as NaN), "
                "not a pm.Data container."
            )
        value = observed
    elif isinstance(observed, TensorVariable) and not isinstance(observed, Constant):
        raise TypeError(
            "observed must be data (array-like or pm.Data), not a symbolic variable "
            f"{observed!r}; wrap changing data in pm.Data."
        )
    else:
        raw = observed.data if isinstance(observed, Constant) else observed
        try:
            array = as_numeric_array(raw, "observed", allow_nan=allow_nan)
        except ValueError as err:
            if "missing (NaN)" not in str(err):
                raise
            raise ValueError(
                f"{err} With MvNormal components, missing='marginalize' uses each row's "
                "observed coordinates instead."
            ) from None
        value = array
    if array.ndim < ndim_supp + 1:
        raise ValueError(
            f"observed has shape {array.shape}, but the components describe "
            f"{ndim_supp}-dimensional observations: observed needs shape (n_obs, ...) with "
            f"{ndim_supp + 1} or more dimensions."
        )
    if not allow_nan:
        return value, array, None
    if array.ndim != 2 or ndim_supp != 1:
        raise ValueError(
            "missing='marginalize' needs rows of several coordinates: observed of shape "
            f"(n_obs, n_features) with multivariate components; got shape {array.shape}."
        )
    mask = np.isnan(array)
    return np.where(mask, 0.0, array), array, mask


def _check_marginalizable(components, ndim_supp: int) -> None:
    for k, comp in enumerate(components):
        if isinstance(comp, tuple) or type(comp.owner.op).__name__ not in _logp.MARGINALIZABLE:
            raise TypeError(
                "missing='marginalize' needs MvNormal or MvStudentT components (their marginals "
                f"are exact and of the same family); components[{k}] is {comp}."
            )


def _is_product(components) -> bool:
    return (
        isinstance(components, Sequence)
        and not isinstance(components, TensorVariable)
        and len(components) > 0
        and all(isinstance(c, tuple | list) for c in components)
    )


def _as_tuple(comp) -> tuple:
    return tuple(comp) if isinstance(comp, tuple | list) else (comp,)


def _check_product(components, observed, model):
    """Components as tuples (one distribution per response), parts, and the side-by-side data."""
    if not isinstance(observed, tuple | list) or not observed:
        raise TypeError(
            "components are tuples (one distribution per response), so observed must be a "
            "tuple with one array per response."
        )
    n_parts = len(observed)
    components = [tuple(c) for c in components]
    for k, comp in enumerate(components):
        if len(comp) != n_parts:
            raise ValueError(
                f"components[{k}] has {len(comp)} distributions but observed has {n_parts} "
                "responses; give one distribution per response."
            )
    _check_components([d for comp in components for d in comp], model)
    arrays = [as_numeric_array(part, f"observed[{j}]") for j, part in enumerate(observed)]
    n_obs = {len(a) for a in arrays}
    if len(n_obs) > 1:
        raise ValueError(f"the responses in observed have different lengths {sorted(n_obs)}.")
    parts, start = [], 0
    for j, array in enumerate(arrays):
        supports = {comp[j].owner.op.ndim_supp for comp in components}
        if len(supports) > 1:
            raise ValueError(f"response {j} has components of different supports {supports}.")
        part_ndim = supports.pop()
        if array.ndim != part_ndim + 1:
            raise ValueError(
                f"observed[{j}] has shape {array.shape}; its components describe "
                f"{part_ndim}-dimensional values, so it needs {part_ndim + 1} dimensions."
            )
        width = 1 if part_ndim == 0 else array.shape[1]
        parts.append((start, start + width, part_ndim))
        start += width
    side_by_side = np.column_stack([a.reshape(len(a), -1).astype(float) for a in arrays])
    return components, tuple(parts), side_by_side


def _check_component_shapes(components, observed_shape, ndim_supp: int, batched: bool) -> int:
    """Check support and batch shapes against the data; return the number of components."""
    n_batch = len(observed_shape) - ndim_supp
    for k, comp in enumerate(components):
        where = "components" if batched else f"components[{k}]"
        shape = comp.type.shape
        supp = shape[len(shape) - ndim_supp :] if ndim_supp else ()
        batch = shape[: len(shape) - ndim_supp]
        if any(
            s is not None and s != o for s, o in zip(supp, observed_shape[n_batch:], strict=True)
        ):
            raise ValueError(
                f"{where} describes observations of shape {supp}, but observed rows "
                f"have shape {tuple(observed_shape[n_batch:])}; make the component's size match "
                "the number of columns of observed."
            )
        if batched:
            if not batch:
                raise ValueError(
                    f"components is one distribution of batch shape {batch}; its last batch axis "
                    "must index the components (e.g. pm.Normal.dist(mu, sigma) with mu of shape "
                    "(n_components,))."
                )
            batch = batch[:-1]
        if not _broadcasts_to(batch, observed_shape[:n_batch]):
            raise ValueError(
                f"{where} has batch shape {batch}, which does not match the "
                f"observations' batch shape {tuple(observed_shape[:n_batch])}: each observation "
                "must get exactly one density per component. Reshape the component's "
                "parameters (e.g. pm.math.dot(H, x) with x of shape (n,), not (n, 1)) or the "
                "observed data."
            )
    if batched:
        return _component_axis_length(components[0], ndim_supp)
    return len(components)


def _component_axis_length(comp: TensorVariable, ndim_supp: int) -> int:
    """Length of a batched component's last batch axis, evaluated if not static (dims)."""
    axis = comp.ndim - ndim_supp - 1
    static = comp.type.shape[axis]
    if static is not None:
        return int(static)
    try:
        return int(comp.shape[axis].eval(mode="FAST_COMPILE"))
    except Exception as err:  # the length depends on a random value: not a mixture
        raise ValueError(
            "components is one distribution whose component axis has no fixed length; give "
            "its parameters a fixed shape or dims."
        ) from err


def _broadcasts_to(static_shape, target) -> bool:
    """Whether a static shape (None = unknown) broadcasts to ``target`` without growing it."""
    if len(static_shape) > len(target):
        return False
    pairs = zip(reversed(static_shape), reversed(tuple(target)), strict=False)
    return all(s is None or s in (1, t) for s, t in pairs)


def _check_weights(weights, n_components: int, batch_shape) -> TensorVariable:
    if isinstance(weights, list | tuple) and any(isinstance(w, TensorVariable) for w in weights):
        weights = pt.stack([pt.as_tensor_variable(w) for w in weights], axis=-1)
    constant = None
    if not isinstance(weights, TensorVariable):
        constant = as_numeric_array(weights, "weights").astype(float)
    elif isinstance(weights, Constant):
        constant = np.asarray(weights.data, dtype=float)
    weights = pt.as_tensor_variable(weights)
    if weights.ndim == 0:
        raise ValueError(
            f"weights is a scalar; expected shape (n_components,) = ({n_components},) or "
            f"(..., {n_components})."
        )
    last = weights.type.shape[-1]
    if last is not None and last != n_components:
        raise ValueError(
            f"weights has last axis of length {last} but there are {n_components} components; "
            f"the last axis of weights must have length {n_components}."
        )
    batch = weights.type.shape[:-1]
    if not _broadcasts_to(batch, batch_shape):
        raise ValueError(
            f"weights has shape {weights.type.shape}, whose batch part {batch} does not "
            f"broadcast against the observations' batch shape {tuple(batch_shape)}; use shape "
            f"({n_components},), or one row of weights per observation (or group)."
        )
    if constant is not None:
        _check_constant_weights(constant)
    return weights


def _check_constant_weights(weights: np.ndarray) -> None:
    if (weights < 0).any():
        raise ValueError("weights has negative entries; mixing weights must be >= 0.")
    sums = weights.sum(axis=-1)
    bad = np.flatnonzero(np.abs(np.atleast_1d(sums) - 1.0) > _WEIGHT_SUM_TOLERANCE)
    if bad.size:
        first = np.atleast_1d(sums)[bad[0]]
        where = "" if weights.ndim == 1 else f" in {describe_rows(bad)}"
        raise ValueError(
            f"weights sum to {first:.6g}{where}, not 1; normalise them "
            "(weights / weights.sum(axis=-1, keepdims=True))."
        )


def _check_groups(groups, batch_shape):
    if groups is None:
        return None, None
    if len(batch_shape) != 1:
        raise ValueError(
            f"groups needs one batch axis of observations; observed has batch shape {batch_shape}."
        )
    return group_codes(groups, batch_shape[0])


def _check_known(known, batch_shape, n_components: int, groups) -> np.ndarray | None:
    """Known components of partly labelled observations, as int codes (-1: unknown)."""
    if known is None:
        return None
    if groups is not None:
        raise ValueError(
            "known= labels observations, groups= makes groups share one; give one of them."
        )
    codes = as_numeric_array(known, "known")
    if codes.shape != tuple(batch_shape) or len(batch_shape) != 1:
        raise ValueError(
            f"known has shape {codes.shape}; expected {tuple(batch_shape)}: one component per "
            "observation (-1 where it is not known)."
        )
    bad = np.flatnonzero((codes != np.round(codes)) | (codes < -1) | (codes >= n_components))
    if bad.size:
        raise ValueError(
            f"known has {codes[bad[0]]!r} in {describe_rows(bad)}; each entry must be a "
            f"component index from 0 to {n_components - 1}, or -1 for an unlabelled observation."
        )
    return codes.astype(np.int64)


def _check_case_weights(case_weights, batch_shape):
    if case_weights is None:
        return None
    if len(batch_shape) != 1:
        raise ValueError(
            f"case_weights needs one batch axis of observations; observed has batch shape "
            f"{tuple(batch_shape)}."
        )
    return check_case_weights(case_weights, batch_shape[0])
