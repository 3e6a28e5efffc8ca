"""Lazy, chunked scoring with Dask: membership and predictive densities of data of any size.

What runs where. Building the result (this process) checks the input on its metadata with
the same validators as in memory, thins the posterior if asked, and wraps the model, the
stacked draws and the standardisation into ONE graph key that every block refers to, so the
draws travel to each worker once. Each block task (on whatever scheduler is active: threads,
processes, or a ``dask.distributed`` cluster) validates and standardises its rows, borrows a
compiled evaluator from a small per-process cache keyed by the payload's token (compiled once
per process and thread in use, then reused for every block), and returns its block of
probabilities, labels or log densities. No block ever sees another block's rows.

Memory of one block task, in bytes, with r rows per block, D features, K components and S
draws (after thinning), r_b = min(r, 50,000) and E = min(S, max(1, floor(4e6 / (r_b K)))) x
r_b x K elements per evaluator call (the evaluator cuts draws and rows into such pieces)::

    peak ~ baseline + 8 * (c_E * E + c_r * r * (D + K))

baseline is the imported libraries (numbers in docs/scaling.md), c_E a few arrays of E
elements and c_r a few copies of the block. It grows with the rows of a block and is bounded
in the draws: E never exceeds 4 million elements, whatever S is.
"""

from __future__ import annotations

import copy
import threading
from collections import Counter, OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from functools import partial
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pymc as pm
import xarray as xr
from pytensor.graph.traversal import ancestors

from bayesmixture._spec import lookup
from bayesmixture._validation import check_positive_int
from bayesmixture.evaluation import (
    COMPONENT_DIM,
    MixtureEvaluator,
    check_new_observed,
    check_posterior,
    component_coords,
    predictive_log_density,
    rows_are_independent,
    stacked_draws,
    summarise,
)
from bayesmixture.relabelling import check_method, find_permutations

try:
    import dask
    import dask.array as da
    import dask.dataframe as dd
    from dask.base import tokenize
    from dask.dataframe.utils import make_meta, meta_nonempty
except ImportError as err:  # pragma: no cover - depends on the environment
    raise ImportError(
        "lazy scoring needs Dask; install it with pip install 'bayesmixture[dask]'."
    ) from err

__all__ = [
    "predict_lazy",
    "predict_membership_lazy",
    "predict_proba_lazy",
    "predictive_logpdf_lazy",
    "score_samples_lazy",
]

# Tokens whose compiled evaluators a process keeps (least recently used ones are dropped).
CACHED_TOKENS = 4
_HEAVY_ATTRIBUTES = ("idata_", "membership_", "permutations_", "_evaluator")


@dataclass(frozen=True)
class _Payload:
    """Everything a block task needs; one graph key, sent to each worker once."""

    token: str
    model: pm.Model
    name: str  # the mixture's observed variable
    posterior: xr.Dataset  # (chain=1, draw=n_draws, ...): the draws used for scoring
    perms: np.ndarray | None  # (n_draws, K) relabelling, or None
    component_coords: np.ndarray
    estimator: object | None = None  # fitted estimator without its posterior: _new_value


# ---------------------------------------------------------------------- per-process cache

_pools: OrderedDict[str, list[MixtureEvaluator]] = OrderedDict()
_compiles: Counter[str] = Counter()
_uses: Counter[str] = Counter()
_lock = threading.Lock()
_compile_lock = threading.Lock()


@contextmanager
def _borrowed_evaluator(payload: _Payload) -> Iterator[MixtureEvaluator]:
    """A compiled evaluator for ``payload``, used by one thread at a time.

    Compiled functions are not thread-safe, so each thread borrows one from the token's pool
    and gives it back; a process compiles as many as it runs blocks at once (one per worker
    thread), once, however many blocks it scores.
    """
    token = payload.token
    with _lock:
        pool = _pools.pop(token, [])
        _pools[token] = pool  # most recently used last
        while len(_pools) > CACHED_TOKENS:
            _pools.popitem(last=False)
        evaluator = pool.pop() if pool else None
        _uses[token] += 1
    if evaluator is None:
        with _compile_lock:
            evaluator = MixtureEvaluator(payload.model, lookup(payload.model, payload.name))
        with _lock:
            _compiles[token] += 1
    try:
        yield evaluator
    finally:
        with _lock:
            if token in _pools:
                _pools[token].append(evaluator)


def _cache_info() -> dict:
    """This process's cache: compiles and block calls per token (run it with client.run)."""
    import os

    with _lock:
        return {
            "pid": os.getpid(),
            "compiles": dict(_compiles),
            "blocks": dict(_uses),
            "cached_tokens": list(_pools),
        }


# ---------------------------------------------------------------------- estimators


def predict_proba_lazy(estimator, X, *, draws: int | None = None):
    """Posterior mean membership probabilities of a Dask collection, computed block by block.

    Parameters
    ----------
    estimator : GaussianMixture or Mixture
        A fitted estimator; not modified.
    X : dask.array.Array of shape (n_obs, n_features) or dask.dataframe.DataFrame
        New rows, validated as :meth:`predict_proba` validates them (number of columns,
        numeric dtypes, column names) before anything is scheduled. Missing or infinite
        values are found when the blocks run; the error then says which block.
    draws : int, optional
        Score with this many evenly spaced posterior draws instead of all of them.

    Returns
    -------
    dask.array.Array of shape (n_obs, n_components), or dask.dataframe.DataFrame
        Lazy; one column per component (named by the ``component`` coordinate for a
        DataFrame, with the input's index). Equal to ``estimator.predict_proba`` on the
        same rows.

    Examples
    --------
    >>> import numpy as np, dask.array as da, bayesmixture as bm
    >>> from bayesmixture._dask import predict_proba_lazy
    >>> y = np.r_[np.full(30, -3.0), np.full(30, 3.0)] + np.random.default_rng(0).normal(size=60)
    >>> mix = bm.Mixture("normal", 2, draws=50, tune=50, chains=1, random_seed=0,
    ...                  progressbar=False).fit(y)
    >>> proba = predict_proba_lazy(mix, da.from_array(y, chunks=20))
    >>> proba.chunks, bool(np.allclose(proba.compute(scheduler="sync"), mix.predict_proba(y)))
    (((20, 20, 20), (2,)), True)
    """
    return _estimator_lazy(estimator, X, "proba", draws)


def predict_lazy(estimator, X, *, draws: int | None = None):
    """Most probable component of each row of a Dask collection, lazily.

    Parameters and validation as in :func:`predict_proba_lazy`.

    Returns
    -------
    dask.array.Array of shape (n_obs,) or dask.dataframe.Series named ``label``
        Integer labels; equal to ``estimator.predict`` on the same rows.

    Examples
    --------
    >>> import numpy as np, dask.array as da, bayesmixture as bm
    >>> from bayesmixture._dask import predict_lazy
    >>> y = np.r_[np.full(30, -3.0), np.full(30, 3.0)] + np.random.default_rng(0).normal(size=60)
    >>> mix = bm.Mixture("normal", 2, draws=50, tune=50, chains=1, random_seed=0,
    ...                  progressbar=False).fit(y)
    >>> labels = predict_lazy(mix, da.from_array(y, chunks=20)).compute(scheduler="sync")
    >>> bool((labels == mix.predict(y)).all())
    True
    """
    return _estimator_lazy(estimator, X, "label", draws)


def score_samples_lazy(estimator, X, *, draws: int | None = None):
    """Posterior predictive log density of each row of a Dask collection, lazily.

    Parameters and validation as in :func:`predict_proba_lazy`.

    Returns
    -------
    dask.array.Array of shape (n_obs,) or dask.dataframe.Series named ``log_density``
        In the data's own units; equal to ``estimator.score_samples`` on the same rows.

    Examples
    --------
    >>> import numpy as np, dask.array as da, bayesmixture as bm
    >>> from bayesmixture._dask import score_samples_lazy
    >>> y = np.r_[np.full(30, -3.0), np.full(30, 3.0)] + np.random.default_rng(0).normal(size=60)
    >>> mix = bm.Mixture("normal", 2, draws=50, tune=50, chains=1, random_seed=0,
    ...                  progressbar=False).fit(y)
    >>> dens = score_samples_lazy(mix, da.from_array(y, chunks=20), draws=10)
    >>> dens.shape, bool(np.isfinite(dens.compute(scheduler="sync")).all())
    ((60,), True)
    """
    return _estimator_lazy(estimator, X, "log_density", draws)


def _estimator_lazy(estimator, X, output: str, draws: int | None):
    estimator._check_fitted()
    _check_supported(estimator)
    X = _check_collection(X, "X", frames=True)
    _validate_on_metadata(estimator, X)
    payload = _estimator_payload(estimator, draws)
    if isinstance(X, da.Array):
        return _map_array(X, payload, output)
    fitted = getattr(estimator, "feature_names_in_", None)
    if fitted is not None:
        X = X[list(fitted)]  # read only the columns the mixture uses, in its order
    return _map_frame(X, payload, output)


def _check_supported(estimator) -> None:
    per_row = sorted(estimator._fit_data.data)
    if per_row:
        raise ValueError(
            f"this {type(estimator).__name__} was fitted with per-row inputs {per_row} "
            "(groups, trials or a regression design), which lazy scoring does not take yet; "
            "score in-memory chunks with the estimator's own methods instead."
        )


def _validate_on_metadata(estimator, X) -> None:
    """Run the in-memory validation on a small sample with the input's dtypes and columns."""
    if isinstance(X, da.Array):
        if any(np.isnan(n) for n in X.shape[1:]):
            raise ValueError(
                f"X has shape {X.shape} with unknown column sizes; call "
                "X.compute_chunk_sizes() first."
            )
        _check_sample(estimator._new_value, X)
    else:
        estimator._new_value(meta_nonempty(make_meta(X)))


def _check_sample(check, X: da.Array, *args) -> None:
    """``check`` on one row of ``X``'s dtype; messages quote the shape of ``X`` itself."""
    sample = np.zeros((1, *X.shape[1:]), dtype=X.dtype)
    try:
        check(sample, *args)
    except (TypeError, ValueError) as err:
        message = str(err).replace(f"shape {sample.shape}", f"shape {X.shape}")
        raise type(err)(message) from None


def _estimator_payload(estimator, draws: int | None) -> _Payload:
    model = estimator.model_
    posterior = estimator.idata_.posterior
    names = [rv.name for rv in model.free_RVs]
    # Deterministics too: the Gaussian scorer reads the means and covariances directly.
    names += [var.name for var in model.deterministics if var.name in posterior]
    thinned, _ = _thinned(posterior, names, draws)
    slim = copy.copy(estimator)
    for attr in _HEAVY_ATTRIBUTES:
        slim.__dict__.pop(attr, None)
    coords = estimator._membership_components(posterior, estimator._fit_data)
    return _Payload(
        token=_token(model, estimator._mixture_name, thinned, None),
        model=model,
        name=estimator._mixture_name,
        posterior=thinned,
        perms=None,
        component_coords=coords,
        estimator=slim,
    )


def _score_estimator_rows(payload: _Payload, rows, output: str) -> np.ndarray:
    estimator = payload.estimator
    value, data = estimator._new_value(rows)
    fast = getattr(estimator, "_fast_scorer", None)
    fast = fast(payload.model, payload.posterior, value, data) if fast else None
    if fast is not None:  # nothing to compile; the block is still counted
        with _lock:
            _uses[payload.token] += 1
    with _borrowed_evaluator(payload) if fast is None else nullcontext(fast) as evaluator:
        if output == "log_density":
            log_density = predictive_log_density(
                evaluator, payload.posterior, value, data=data or None
            )
            return log_density + estimator._log_jacobian()
        proba = summarise(
            evaluator,
            payload.posterior,
            value,
            None,
            obs_coords=np.arange(len(value)),
            component_coords=payload.component_coords,
            data=data or None,
        )["probability"].values
    return proba if output == "proba" else proba.argmax(axis=1)


# ---------------------------------------------------------------------- model + idata


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
    ...     idata = pm.sample(50, tune=50, chains=1, random_seed=0, progressbar=False)
    >>> lazy = predict_membership_lazy(model, idata, "y", da.from_array(y, chunks=10))
    >>> eager = bm.predict_membership(model, idata, "y", y)
    >>> bool(np.allclose(lazy["probability"].compute(scheduler="sync"), eager["probability"]))
    True
    """
    payload, observed = _model_payload(model, idata, name, observed, draws, relabel)
    both = _map_array(observed, payload, "membership")
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
        attrs={"relabelled": str(payload.perms is not None), "n_draws": _n_draws(payload)},
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
    ...     idata = pm.sample(50, tune=50, chains=1, random_seed=0, progressbar=False)
    >>> new = da.from_array(np.array([-3.0, 0.0, 3.0]), chunks=2)
    >>> dens = predictive_logpdf_lazy(model, idata, "y", new).compute(scheduler="sync")
    >>> bool(dens[1] < dens[0] and dens[1] < dens[2])
    True
    """
    payload, observed = _model_payload(model, idata, name, observed, draws, False)
    log_density = _map_array(observed, payload, "log_density")
    return xr.DataArray(
        log_density,
        dims=("obs",),
        coords={"obs": np.arange(observed.shape[0])},
        name="log_density",
    )


def _model_payload(model, idata, name, observed, draws, relabel) -> tuple[_Payload, da.Array]:
    spec = lookup(model, name)
    posterior = check_posterior(idata, model)
    observed = _check_collection(observed, "observed", frames=False)
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
    _check_sample(partial(check_new_observed, stand_in), observed, None)
    method = None if relabel is False else "stephens" if relabel is True else relabel
    if method is not None:
        check_method(method)
    names = _upstream_free_rvs(model, spec)
    thinned, index = _thinned(posterior, names, draws)
    perms = evaluator = None
    if method is not None:
        evaluator = MixtureEvaluator(model, spec)
        perms = find_permutations(evaluator, posterior, method)[index]
    payload = _Payload(
        token=_token(model, name, thinned, perms),
        model=model,
        name=name,
        posterior=thinned,
        perms=perms,
        component_coords=component_coords(model, spec),
    )
    if evaluator is not None:  # a local scheduler can reuse it
        with _lock:
            _pools.setdefault(payload.token, []).append(evaluator)
            _compiles[payload.token] += 1
    return payload, observed


def _score_model_rows(payload: _Payload, rows, output: str) -> np.ndarray:
    with _borrowed_evaluator(payload) as evaluator:
        value = check_new_observed(evaluator, rows, None)
        if output == "log_density":
            return predictive_log_density(evaluator, payload.posterior, value)
        result = summarise(
            evaluator,
            payload.posterior,
            value,
            payload.perms,
            obs_coords=np.arange(len(value)),
            component_coords=payload.component_coords,
        )
    return np.concatenate([result["probability"].values, result["probability_sd"].values], 1)


def _upstream_free_rvs(model: pm.Model, spec) -> list[str]:
    upstream = set(ancestors([spec.weights, *spec.components]))
    return [rv.name for rv in model.free_RVs if rv in upstream]


# ---------------------------------------------------------------------- graph building


def _check_collection(X, arg: str, *, frames: bool):
    kinds = (da.Array, dd.DataFrame) if frames else (da.Array,)
    if not isinstance(X, kinds):
        wanted = "a dask.array.Array or dask.dataframe.DataFrame" if frames else "a dask array"
        hint = (
            "for in-memory data call the in-memory method"
            if frames
            else "convert a DataFrame with df.to_dask_array(lengths=True)"
        )
        raise TypeError(f"{arg} must be {wanted}, got {type(X).__name__}; {hint}.")
    if isinstance(X, da.Array) and X.dtype == object:
        raise TypeError(
            f"{arg} is a dask array of dtype object, whose entries cannot be checked before "
            f"the blocks run; convert it to numbers first ({arg}.astype(float))."
        )
    if isinstance(X, da.Array) and X.ndim > 1:
        X = X.rechunk({axis: -1 for axis in range(1, X.ndim)})  # whole rows in each block
    return X


def _thinned(posterior: xr.Dataset, names: list[str], draws: int | None):
    """The stacked draws as a (chain=1, draw) posterior, every one or ``draws`` evenly spaced."""
    stacked = stacked_draws(posterior, names)
    total = posterior.sizes["chain"] * posterior.sizes["draw"]
    if draws is None:
        index = np.arange(total)
    else:
        check_positive_int(draws, "draws", maximum=total)
        index = np.floor(np.linspace(0, total - 1, draws) + 0.5).astype(np.intp)
    data_vars = {
        name: (("chain", "draw", *posterior[name].dims[2:]), stacked[name][index][None])
        for name in names
    }
    return xr.Dataset(data_vars, coords={"chain": [0], "draw": index}), index


def _token(model, name, posterior: xr.Dataset, perms) -> str:
    arrays = {k: v.values for k, v in posterior.data_vars.items()}
    return tokenize("bayesmixture", id(model), name, arrays, perms)


def _delayed(payload: _Payload):
    return dask.delayed(payload, name=f"bayesmixture-posterior-{payload.token}", traverse=False)


def _n_draws(payload: _Payload) -> int:
    return payload.posterior.sizes["draw"]


_OUTPUT_DTYPES = {"proba": float, "label": np.int64, "log_density": float, "membership": float}


def _map_array(X: da.Array, payload: _Payload, output: str) -> da.Array:
    K = len(payload.component_coords)
    width = {"proba": K, "membership": 2 * K}.get(output)
    shape = {"new_axis": [1], "chunks": (X.chunks[0], (width,))} if width else {}
    return da.map_blocks(
        _array_block,
        X,
        _delayed(payload),
        output,
        drop_axis=list(range(1, X.ndim)),
        dtype=_OUTPUT_DTYPES[output],
        token=f"bayesmixture-{output}",
        **(shape or {"chunks": (X.chunks[0],)}),
    )


def _map_frame(X: dd.DataFrame, payload: _Payload, output: str):
    if output == "proba":
        meta = pd.DataFrame({c: pd.Series(dtype=float) for c in payload.component_coords})
    else:
        meta = pd.Series(dtype=_OUTPUT_DTYPES[output], name=output)
    return X.map_partitions(_frame_partition, _delayed(payload), output, meta=meta)


def _array_block(block, payload, output, block_info=None):
    if len(block) == 0:
        return _empty(payload, output)
    start, stop = block_info[0]["array-location"][0] if block_info else (0, len(block))
    score = _score_estimator_rows if payload.estimator is not None else _score_model_rows
    with _located(f"rows {start} to {stop - 1} of the dask array"):
        return score(payload, block, output)


def _frame_partition(part: pd.DataFrame, payload, output, partition_info=None):
    if len(part) == 0:
        values = _empty(payload, output)
    else:
        number = partition_info["number"] if partition_info else "?"
        with _located(f"partition {number} of the dask DataFrame"):
            values = _score_estimator_rows(payload, part, output)
    if output == "proba":
        return pd.DataFrame(values, index=part.index, columns=payload.component_coords)
    return pd.Series(values, index=part.index, name=output)


@contextmanager
def _located(where: str):
    try:
        yield
    except (TypeError, ValueError) as err:
        err.add_note(f"Raised while scoring {where}; row numbers count from its first row.")
        raise


def _empty(payload: _Payload, output: str) -> np.ndarray:
    K = len(payload.component_coords)
    width = {"proba": (K,), "membership": (2 * K,)}.get(output, ())
    return np.empty((0, *width), dtype=_OUTPUT_DTYPES[output])
