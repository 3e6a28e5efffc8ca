"""Lazy scoring for the functional API: a PyMC model, its posterior, and new rows in Dask.

The labelling is found on the model's own data in this process (as
:func:`bayesmixture.predict_membership` finds it); the compiled evaluator made for that is
left in this process's cache, where a local scheduler reuses it.
"""

from __future__ import annotations

from functools import partial
from types import SimpleNamespace

import dask.array as da
import numpy as np
import pymc as pm
import xarray as xr
from pytensor.graph.traversal import ancestors

from bayesmixture._dask._blocks import map_array
from bayesmixture._dask._cache import keep_evaluator
from bayesmixture._dask._inputs import check_collection, check_sample
from bayesmixture._dask._payload import Payload, thinned, token
from bayesmixture._spec import lookup
from bayesmixture.evaluation import (
    COMPONENT_DIM,
    MixtureEvaluator,
    check_new_observed,
    check_posterior,
    component_coords,
    rows_are_independent,
)
from bayesmixture.relabelling import check_method, find_permutations


def predict_membership_lazy(
    model: pm.Model,
    idata,
    name: str,
    observed,
    *,
    draws: int | None = None,
    relabel: bool | str = True,
) -> xr.Dataset:
    """Membership of new observations held in a Dask array, as a lazy xarray Dataset.

    The functional twin of :func:`bayesmixture.predict_membership`: the labelling is found
    on the model's own data (in this process), then every block of ``observed`` is scored
    on the workers.

    Parameters
    ----------
    model, idata, name, relabel
        As in :func:`bayesmixture.predict_membership`; the mixture's rows must be
        independent (no per-observation weights or groups).
    observed : dask.array.Array of shape (n_new, ...)
        New observations with known chunk sizes, rows like the model's data.
    draws : int, optional
        Score with this many evenly spaced posterior draws instead of all of them.

    Returns
    -------
    xarray.Dataset
        Dask-backed ``probability``, ``probability_sd`` (obs, component), ``label`` and
        ``uncertainty`` (obs), as :func:`bayesmixture.predict_membership`; ``.compute()``
        evaluates each block once for all four.

    Examples
    --------
    >>> import numpy as np, pymc as pm, dask.array as da, bayesmixture as bm
    >>> from bayesmixture._dask import predict_membership_lazy
    >>> y = np.random.default_rng(0).normal(size=40) + np.repeat([-3.0, 3.0], 20)
    >>> with pm.Model(coords={"component": [0, 1]}) as model:
    ...     w = pm.Dirichlet("w", np.ones(2), dims="component")
    ...     mu = pm.Normal("mu", [-1.0, 1.0], 5.0, dims="component")
    ...     _ = bm.mixture("y", w, [pm.Normal.dist(mu[k], 1.0) for k in range(2)], y)
    >>> idata = bm.sample(model, draws=50, tune=50, chains=1, random_seed=0,
    ...                   progressbar=False)
    >>> lazy = predict_membership_lazy(model, idata, "y", da.from_array(y, chunks=10))
    >>> eager = bm.predict_membership(model, idata, "y", y)
    >>> bool(np.allclose(lazy["probability"].compute(scheduler="sync"), eager["probability"]))
    True
    """
    payload, observed = _model_payload(model, idata, name, observed, draws, relabel)
    both = map_array(observed, payload, "membership")
    K = len(payload.component_coords)
    proba = both[:, :K]
    dims = ("obs", COMPONENT_DIM)
    return xr.Dataset(
        {
            "probability": (dims, proba),
            "probability_sd": (dims, both[:, K:]),
            "label": (("obs",), proba.argmax(axis=1)),
            "uncertainty": (("obs",), 1.0 - proba.max(axis=1)),
        },
        coords={"obs": np.arange(observed.shape[0]), COMPONENT_DIM: payload.component_coords},
        attrs={"relabelled": str(payload.perms is not None), "n_draws": payload.n_draws},
    )


def predictive_logpdf_lazy(
    model: pm.Model, idata, name: str, observed, *, draws: int | None = None
) -> xr.DataArray:
    """Posterior predictive log density of new observations in a Dask array, lazily.

    The functional twin of :func:`bayesmixture.predictive_logpdf`.

    Parameters
    ----------
    model, idata, name, observed, draws
        As in :func:`predict_membership_lazy`.

    Returns
    -------
    xarray.DataArray
        Dask-backed ``log_density`` with dim obs.

    Examples
    --------
    >>> import numpy as np, pymc as pm, dask.array as da, bayesmixture as bm
    >>> from bayesmixture._dask import predictive_logpdf_lazy
    >>> y = np.random.default_rng(0).normal(size=40) + np.repeat([-3.0, 3.0], 20)
    >>> with pm.Model() as model:
    ...     w = pm.Dirichlet("w", np.ones(2))
    ...     mu = pm.Normal("mu", [-1.0, 1.0], 5.0)
    ...     _ = bm.mixture("y", w, [pm.Normal.dist(mu[k], 1.0) for k in range(2)], y)
    >>> idata = bm.sample(model, draws=50, tune=50, chains=1, random_seed=0,
    ...                   progressbar=False)
    >>> new = da.from_array(np.array([-3.0, 0.0, 3.0]), chunks=2)
    >>> dens = predictive_logpdf_lazy(model, idata, "y", new).compute(scheduler="sync")
    >>> bool(dens[1] < dens[0] and dens[1] < dens[2])
    True
    """
    payload, observed = _model_payload(model, idata, name, observed, draws, False)
    log_density = map_array(observed, payload, "log_density")
    return xr.DataArray(
        log_density,
        dims=("obs",),
        coords={"obs": np.arange(observed.shape[0])},
        name="log_density",
    )


def _model_payload(model, idata, name, observed, draws, relabel) -> tuple[Payload, da.Array]:
    spec = lookup(model, name)
    posterior = check_posterior(idata, model)
    observed = _check_observed(observed, spec, name)
    method = None if relabel is False else "stephens" if relabel is True else relabel
    if method is not None:
        check_method(method)
    draws_used, index = thinned(posterior, _upstream_free_rvs(model, spec), draws)
    perms = evaluator = None
    if method is not None:
        evaluator = MixtureEvaluator(model, spec)
        perms = find_permutations(evaluator, posterior, method)[index]
    payload = Payload(
        token=token(model, name, draws_used, perms),
        model=model,
        name=name,
        posterior=draws_used,
        perms=perms,
        component_coords=component_coords(model, spec),
    )
    if evaluator is not None:  # a local scheduler can reuse it
        keep_evaluator(payload.token, evaluator)
    return payload, observed


def _check_observed(observed, spec, name: str) -> da.Array:
    """A Dask array of rows that can be scored block by block, checked as in memory."""
    observed = check_collection(observed, "observed", frames=False)
    if any(np.isnan(n) for n in observed.shape):
        raise ValueError(
            f"observed has shape {observed.shape} with unknown sizes; call "
            "observed.compute_chunk_sizes() first (e.g. after DataFrame.to_dask_array())."
        )
    row_chunkable = rows_are_independent(spec)
    if not row_chunkable:
        raise ValueError(
            f"the weights or components of mixture {name!r} are indexed by observation (or it "
            "has groups), so its rows cannot be scored block by block; use "
            "bayesmixture.predict_membership with data={...} on in-memory chunks."
        )
    # Same checks and messages as in memory, on one row with the input's dtype and shape.
    stand_in = SimpleNamespace(spec=spec, row_chunkable=row_chunkable)
    check_sample(partial(check_new_observed, stand_in), observed, None)
    return observed


def _upstream_free_rvs(model: pm.Model, spec) -> list[str]:
    upstream = set(ancestors([spec.weights, *spec.components]))
    return [rv.name for rv in model.free_RVs if rv in upstream]
