"""Who belongs where: membership probabilities from every draw of every chain.

Per draw, P(z_i = k | y_i, theta) = softmax_k(log w_ik + log p_k(y_i | theta_k)), normalised
per observation with PyMC's own component densities; then averaged over all draws of all
chains after label switching has been undone. New observations are scored from the stored
draws, without re-sampling.
"""

from __future__ import annotations

from collections.abc import Mapping

import arviz as az
import numpy as np
import pymc as pm
import xarray as xr

from bayesmixture._spec import MixtureSpec, lookup
from bayesmixture._validation import is_dask_collection
from bayesmixture.evaluation import (
    MixtureEvaluator,
    check_new_observed,
    check_posterior,
    component_coords,
    predictive_log_density,
    summarise,
    training_value,
)
from bayesmixture.relabelling import check_method, find_permutations

__all__ = ["membership", "predict_membership", "predictive_logpdf"]


def membership(
    model: pm.Model,
    idata: az.InferenceData,
    name: str,
    *,
    relabel: bool | str = True,
    per_draw: bool = False,
) -> xr.Dataset:
    """Posterior probability that each observation belongs to each component.

    For every draw of every chain, P(z_i = k | y, theta) = softmax_k(log w_ik +
    log p_k(y_i | theta_k)), with p_k from PyMC's own logp of the recorded components; then
    averaged over all draws (after relabelling), computed in chunks of bounded memory.

    Parameters
    ----------
    model : pymc.Model
        A model whose likelihood ``name`` was built with :func:`bayesmixture.mixture`.
    idata : arviz.InferenceData
        Posterior of ``model``; not modified.
    name : str
        Name of the mixture's observed variable.
    relabel : bool or {"stephens", "ecr", "pivot"}, default True
        Undo label switching across all draws and chains first (True means ``"stephens"``;
        see :func:`bayesmixture.relabel`). Pass False for a posterior already relabelled.
    per_draw : bool, default False
        Also return ``probability_draws`` with dims (chain, draw, obs, component).

    Returns
    -------
    xarray.Dataset
        ``probability`` and ``probability_sd`` with dims (obs, component), rows summing to 1;
        ``label`` (most probable component) and ``uncertainty`` (1 - largest probability)
        with dim obs. For a mixture with ``groups`` the dim is ``group`` instead of obs.

    Raises
    ------
    ValueError
        If ``idata`` has no posterior group or ``name`` is not a mixture of ``model``.

    Examples
    --------
    >>> import numpy as np, pymc as pm, bayesmixture as bm
    >>> y = np.random.default_rng(0).normal(size=40) + np.repeat([-3.0, 3.0], 20)
    >>> with pm.Model(coords={"component": [0, 1]}) as model:
    ...     w = pm.Dirichlet("w", np.ones(2), dims="component")
    ...     mu = pm.Normal("mu", [-1.0, 1.0], 5.0, dims="component")
    ...     _ = bm.mixture("y", w, [pm.Normal.dist(mu[k], 1.0) for k in range(2)], y)
    >>> idata = bm.sample(model, draws=200, tune=200, chains=2, random_seed=0,
    ...                   progressbar=False)
    >>> m = bm.membership(model, idata, "y")
    >>> m["probability"].dims, bool(np.allclose(m["probability"].sum("component"), 1))
    (('obs', 'component'), True)
    """
    spec = lookup(model, name)
    posterior = check_posterior(idata, model)
    evaluator = MixtureEvaluator(model, spec)
    perms = _permutations(evaluator, posterior, relabel)
    value = training_value(evaluator)
    return _summarise(
        evaluator,
        posterior,
        value,
        perms,
        per_draw=per_draw,
        groups=spec.groups,
        case_weights=spec.case_weights,
        obs_coords=_obs_coords(model, spec, len(value)),
    )


def predict_membership(
    model: pm.Model,
    idata: az.InferenceData,
    name: str,
    observed,
    *,
    data: Mapping[str, object] | None = None,
    relabel: bool | str = True,
    per_draw: bool = False,
    draws: int | None = None,
) -> xr.Dataset:
    """Membership probabilities of new observations from the stored posterior, no sampling.

    Parameters
    ----------
    model, idata, name, relabel, per_draw
        As in :func:`membership`. The labelling is found on the model's own data, so new
        observations get the same component numbers as the training data.
    observed : array-like of shape (n_new, ...)
        New observations, with the same row shape as the model's data.
        A ``dask.array.Array`` gives a Dask-backed result computed block by block on the
        active Dask scheduler (rows must be independent; see docs/scaling.md).
    data : dict of str to array-like, optional
        New values of the model's ``pm.Data`` containers (covariates, per-observation
        weights) for these observations only; the model keeps its own values.
    draws : int, optional
        For Dask input only: score with this many evenly spaced posterior draws.

    Returns
    -------
    xarray.Dataset
        As :func:`membership`, over the new observations.

    Examples
    --------
    >>> import numpy as np, pymc as pm, bayesmixture as bm
    >>> y = np.random.default_rng(0).normal(size=40) + np.repeat([-3.0, 3.0], 20)
    >>> with pm.Model(coords={"component": [0, 1]}) as model:
    ...     w = pm.Dirichlet("w", np.ones(2), dims="component")
    ...     mu = pm.Normal("mu", [-1.0, 1.0], 5.0, dims="component")
    ...     _ = bm.mixture("y", w, [pm.Normal.dist(mu[k], 1.0) for k in range(2)], y)
    >>> idata = bm.sample(model, draws=200, tune=200, chains=2, random_seed=0,
    ...                   progressbar=False)
    >>> new = bm.predict_membership(model, idata, "y", [-3.0, 3.0])
    >>> new["label"].values.tolist() == [int(new["label"][0]), 1 - int(new["label"][0])]
    True
    """
    if is_dask_collection(observed):
        _dask_refuses(data=data, per_draw=per_draw)
        from bayesmixture._dask import predict_membership_lazy

        return predict_membership_lazy(model, idata, name, observed, draws=draws, relabel=relabel)
    _dask_refuses(draws=draws)
    spec = lookup(model, name)
    posterior = check_posterior(idata, model)
    evaluator = MixtureEvaluator(model, spec)
    new_value = check_new_observed(evaluator, observed, data)
    perms = _permutations(evaluator, posterior, relabel)
    return _summarise(
        evaluator,
        posterior,
        new_value,
        perms,
        per_draw=per_draw,
        data=data,
        obs_coords=np.arange(len(new_value)),
    )


def predictive_logpdf(
    model: pm.Model,
    idata: az.InferenceData,
    name: str,
    observed,
    *,
    data: Mapping[str, object] | None = None,
    draws: int | None = None,
) -> xr.DataArray:
    """Posterior predictive log density of each new observation.

    log p(y_new | y) = log mean_s sum_k w_k^(s) p_k(y_new | theta^(s)), over every draw of
    every chain (label switching does not change it).

    Parameters
    ----------
    model, idata, name, observed, data, draws
        As in :func:`predict_membership` (Dask input gives a Dask-backed result).

    Returns
    -------
    xarray.DataArray
        ``log_density`` with dim obs.

    Examples
    --------
    >>> import numpy as np, pymc as pm, bayesmixture as bm
    >>> y = np.random.default_rng(0).normal(size=40) + np.repeat([-3.0, 3.0], 20)
    >>> with pm.Model() as model:
    ...     w = pm.Dirichlet("w", np.ones(2))
    ...     mu = pm.Normal("mu", [-1.0, 1.0], 5.0)
    ...     _ = bm.mixture("y", w, [pm.Normal.dist(mu[k], 1.0) for k in range(2)], y)
    >>> idata = bm.sample(model, draws=200, tune=200, chains=2, random_seed=0,
    ...                   progressbar=False)
    >>> dens = bm.predictive_logpdf(model, idata, "y", [-3.0, 0.0, 3.0])
    >>> bool(dens[1] < dens[0] and dens[1] < dens[2])
    True
    """
    if is_dask_collection(observed):
        _dask_refuses(data=data)
        from bayesmixture._dask import predictive_logpdf_lazy

        return predictive_logpdf_lazy(model, idata, name, observed, draws=draws)
    _dask_refuses(draws=draws)
    spec = lookup(model, name)
    posterior = check_posterior(idata, model)
    evaluator = MixtureEvaluator(model, spec)
    new_value = check_new_observed(evaluator, observed, data)
    log_density = predictive_log_density(evaluator, posterior, new_value, data=data)
    return xr.DataArray(
        log_density,
        dims=("obs",),
        coords={"obs": np.arange(len(new_value))},
        name="log_density",
    )


def _dask_refuses(**options) -> None:
    """Options that only one of the in-memory and Dask paths takes."""
    for option, value in options.items():
        if value is None or value is False:
            continue
        if option == "draws":
            raise ValueError(
                "draws= thins the posterior for Dask input only; in memory every draw is "
                "used. Pass observed as a dask array or leave draws unset."
            )
        raise ValueError(
            f"{option}= is not taken with Dask input; score in-memory chunks with "
            f"{option}= instead, or leave it unset."
        )


def _permutations(evaluator, posterior, relabel) -> np.ndarray | None:
    if relabel is False:
        return None
    method = "stephens" if relabel is True else check_method(relabel)
    return find_permutations(evaluator, posterior, method)


def _summarise(evaluator, posterior, value, perms, *, obs_coords, **kwargs) -> xr.Dataset:
    return summarise(
        evaluator,
        posterior,
        value,
        perms,
        obs_coords=obs_coords,
        component_coords=component_coords(evaluator.model, evaluator.spec),
        **kwargs,
    )


def _obs_coords(model: pm.Model, spec: MixtureSpec, n_rows: int):
    if spec.groups is not None:
        return spec.group_names
    dims = model.named_vars_to_dims.get(spec.name)
    if dims and dims[0] in model.coords and model.coords[dims[0]] is not None:
        coords = np.asarray(model.coords[dims[0]])
        if len(coords) == n_rows:
            return coords
    return np.arange(n_rows)
