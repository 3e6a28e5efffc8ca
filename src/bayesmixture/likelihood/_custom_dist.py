"""The observed node: the log-density and random draws that ``pm.CustomDist`` is given.

The node's inputs are the weights and every component distribution, resized to the
observations' batch shape (forward draws need one draw per observation); its log-density
gives the components back their original size and calls :mod:`bayesmixture._logp`.
"""

from __future__ import annotations

from string import ascii_lowercase

import numpy as np
import pytensor
import pytensor.tensor as pt
from pytensor.tensor.random.op import RandomVariable
from pytensor.tensor.variable import TensorVariable

from bayesmixture import _logp
from bayesmixture._spec import MixtureSpec
from bayesmixture.likelihood._components import as_tuple


def make_logp(spec: MixtureSpec):
    """The log-density of the observed node: log sum_k w_k p_k(y_i), summed over rows."""
    groups = None if spec.groups is None else pt.constant(spec.groups)
    case_weights = None if spec.case_weights is None else pt.constant(spec.case_weights)
    # labelled observations mix over their own component only: the others get -inf
    allowed = None
    if spec.known is not None:
        allowed = (spec.known[:, None] < 0) | (spec.known[:, None] == np.arange(spec.n_components))

    originals = [d for comp in spec.components for d in as_tuple(comp)]

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


def make_random(ndim_supp: int, batched: bool, parts=None):
    """Forward draws: a label per observation from its weights, then that component's draw."""

    def random(weights, *components, rng=None, size=None):
        stacked = _stacked_draws(components, ndim_supp, batched, parts)
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


def _stacked_draws(components, ndim_supp: int, batched: bool, parts) -> np.ndarray:
    """Every component's draws with the components on one axis, before the support axes."""
    if parts is not None:
        components = components[:-1]  # the template
        width = len(parts)
        rows = [
            np.column_stack([np.reshape(d, (len(d), -1)) for d in components[i : i + width]])
            for i in range(0, len(components), width)
        ]
        return np.stack(rows, axis=-2)  # (n_obs, K, n_columns)
    if batched:
        return components[0]
    return np.stack(np.broadcast_arrays(*components), axis=-1 - ndim_supp)


def signature(n_params: int, ndim_supp: int, batched: bool, parts=None) -> str:
    """The node's gufunc signature: weights (k), the components' params, the value."""
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


def common_dtype(components) -> str:
    """The observed node's dtype: int64 for integer components, else theirs or floatX."""
    dtypes = {comp.dtype for comp in components}
    if all(d.startswith("int") for d in dtypes):
        return "int64"
    return pytensor.config.floatX if len(dtypes) > 1 else next(iter(dtypes))
