"""Shapes: one density per observation and component, and the dims of the observed variable.

The observed data have shape (*batch, *support): the batch axes index observations, the
support axes a single observation. Each component's batch shape must broadcast to the
observations' without growing it (one density per observation); a batched component adds
one last batch axis of length n_components.
"""

from __future__ import annotations

import pymc as pm
from pytensor.tensor.variable import TensorVariable

from bayesmixture.likelihood._components import Components


def count_components(checked: Components, observed_shape) -> int:
    """The number of components, after checking their shapes against the data."""
    if checked.parts is not None:
        return len(checked.components)
    return check_component_shapes(
        checked.components, observed_shape, checked.ndim_supp, checked.batched
    )


def check_component_shapes(components, observed_shape, ndim_supp: int, batched: bool) -> int:
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
            batch = _without_component_axis(batch)
        if not broadcasts_to(batch, observed_shape[:n_batch]):
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


def _without_component_axis(batch: tuple) -> tuple:
    """A batched component's batch shape without its last axis (the components)."""
    if not batch:
        raise ValueError(
            f"components is one distribution of batch shape {batch}; its last batch axis "
            "must index the components (e.g. pm.Normal.dist(mu, sigma) with mu of shape "
            "(n_components,))."
        )
    return batch[:-1]


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


def broadcasts_to(static_shape, target) -> bool:
    """Whether a static shape (None = unknown) broadcasts to ``target`` without growing it."""
    if len(static_shape) > len(target):
        return False
    pairs = zip(reversed(static_shape), reversed(tuple(target)), strict=False)
    return all(s is None or s in (1, t) for s, t in pairs)


def add_missing_coords(model: pm.Model, dims, shape) -> None:
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
