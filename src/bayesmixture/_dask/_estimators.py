"""Lazy scoring for fitted estimators: ``predict_proba``, ``predict`` and ``score_samples``.

The estimator is read by duck typing (``_check_fitted``, ``_fit_data``, ``_new_value``,
``_membership_components``, ``_mixture_name``, and on the workers ``_fast_scorer`` and
``_log_jacobian``); its input is checked on the collection's metadata with its own
validation, and a copy without its posterior travels in the payload.
"""

from __future__ import annotations

import copy

import dask.array as da
import numpy as np
from dask.dataframe.utils import make_meta, meta_nonempty

from bayesmixture._dask._blocks import map_array, map_frame
from bayesmixture._dask._inputs import check_collection, check_sample
from bayesmixture._dask._payload import Payload, thinned, token

_HEAVY_ATTRIBUTES = ("idata_", "membership_", "permutations_", "_evaluator")


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
    X = check_collection(X, "X", frames=True)
    _validate_on_metadata(estimator, X)
    payload = _estimator_payload(estimator, draws)
    if isinstance(X, da.Array):
        return map_array(X, payload, output)
    fitted = getattr(estimator, "feature_names_in_", None)
    if fitted is not None:
        X = X[list(fitted)]  # read only the columns the mixture uses, in its order
    return map_frame(X, payload, output)


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
        check_sample(estimator._new_value, X)
    else:
        estimator._new_value(meta_nonempty(make_meta(X)))


def _estimator_payload(estimator, draws: int | None) -> Payload:
    model = estimator.model_
    posterior = estimator.idata_.posterior
    names = [rv.name for rv in model.free_RVs]
    # Deterministics too: the Gaussian scorer reads the means and covariances directly.
    names += [var.name for var in model.deterministics if var.name in posterior]
    draws_used, _ = thinned(posterior, names, draws)
    slim = copy.copy(estimator)
    for attr in _HEAVY_ATTRIBUTES:
        slim.__dict__.pop(attr, None)
    coords = estimator._membership_components(posterior, estimator._fit_data)
    return Payload(
        token=token(model, estimator._mixture_name, draws_used, None),
        model=model,
        name=estimator._mixture_name,
        posterior=draws_used,
        perms=None,
        component_coords=coords,
        estimator=slim,
    )
