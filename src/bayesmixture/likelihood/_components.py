"""The components of a mixture: unnamed PyMC distributions of one support and one kind.

Three forms reach :func:`bayesmixture.mixture`: a list of distributions, one batched
distribution whose last batch axis indexes the components, or a list of tuples (one
distribution per response) for several responses that share each row's label.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pymc as pm
from pymc.distributions.distribution import SymbolicRandomVariable
from pytensor.tensor.random.op import RandomVariable
from pytensor.tensor.variable import TensorVariable

from bayesmixture import _logp
from bayesmixture._validation import as_numeric_array


@dataclass(frozen=True)
class Components:
    """The components as checked.

    ``components`` holds one distribution per component (tuples of them, one per response,
    for several responses; the single batched distribution when ``batched``); ``flat`` every
    distribution in that order; ``parts`` where each response sits in a row of the
    side-by-side data, or None for one response.
    """

    components: list
    flat: list
    batched: bool
    ndim_supp: int
    parts: tuple[tuple[int, int, int], ...] | None = None


def check_components(components, observed, model: pm.Model) -> tuple[Components, object]:
    """The checked components, and the observed data (side by side for several responses)."""
    if is_product(components):
        components, parts, observed = _check_product(components, observed, model)
        flat = [d for comp in components for d in comp]
        return Components(components, flat, batched=False, ndim_supp=1, parts=parts), observed
    components, batched = _check_distributions(components, model)
    ndim_supp = components[0].owner.op.ndim_supp
    return Components(components, components, batched, ndim_supp), observed


def check_marginalizable(components) -> None:
    """missing='marginalize' needs components whose marginals are exact and of their family."""
    for k, comp in enumerate(components):
        if isinstance(comp, tuple) or type(comp.owner.op).__name__ not in _logp.MARGINALIZABLE:
            raise TypeError(
                "missing='marginalize' needs MvNormal or MvStudentT components (their marginals "
                f"are exact and of the same family); components[{k}] is {comp}."
            )


def is_product(components) -> bool:
    """Whether the components are tuples (one distribution per response)."""
    return (
        isinstance(components, Sequence)
        and not isinstance(components, TensorVariable)
        and len(components) > 0
        and all(isinstance(c, tuple | list) for c in components)
    )


def as_tuple(comp) -> tuple:
    """A component's distributions: the tuple of a product, or the distribution alone."""
    return tuple(comp) if isinstance(comp, tuple | list) else (comp,)


def _check_distributions(
    components, model: pm.Model, *, one_kind: bool = True
) -> tuple[list[TensorVariable], bool]:
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
    _check_unnamed_distributions(components, model, batched)
    _check_one_support(components)
    if one_kind:  # (a product of responses checks each response on its own)
        _check_one_kind(components)
    return components, batched


def _check_unnamed_distributions(components, model: pm.Model, batched: bool) -> None:
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


def _check_one_support(components) -> None:
    supports = [comp.owner.op.ndim_supp for comp in components]
    if len(set(supports)) > 1:
        raise ValueError(
            f"components have different supports (core dimensions {supports}); all components "
            "of a mixture must describe the same kind of observation (all univariate or all "
            "multivariate of the same size)."
        )


def _check_one_kind(components) -> None:
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
    _check_distributions([d for comp in components for d in comp], model, one_kind=False)
    for j in range(n_parts):  # each response: all discrete or all continuous
        _check_one_kind([comp[j] for comp in components])
    arrays = [as_numeric_array(part, f"observed[{j}]") for j, part in enumerate(observed)]
    n_obs = {len(a) for a in arrays}
    if len(n_obs) > 1:
        raise ValueError(f"the responses in observed have different lengths {sorted(n_obs)}.")
    parts = _response_parts(components, arrays)
    side_by_side = np.column_stack([a.reshape(len(a), -1).astype(float) for a in arrays])
    return components, parts, side_by_side


def _response_parts(components, arrays) -> tuple[tuple[int, int, int], ...]:
    """(start, stop, ndim_supp) of each response's columns in the side-by-side data."""
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
    return tuple(parts)
