"""How many components? PSIS-LOO comparison of fits, K sweeps, and sparse mixtures.

``compare`` puts the mixture's own per-observation log-likelihood, log sum_k w_k p_k(y_i)
(never a per-component one), into ArviZ's PSIS-LOO comparison. ``select`` fits a range of K
and compares them (or screens them by BIC/ICL of EM fits). Sparse finite mixtures
(``weights_prior="sparse"``) answer in one fit: the posterior of the number of non-empty
components.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import arviz as az
import numpy as np
import pandas as pd
import xarray as xr
from sklearn.base import clone

from bayesmixture._spec import lookup
from bayesmixture.evaluation import stacked_draws
from bayesmixture.exceptions import PredictionWarning

__all__ = ["SelectionResult", "compare", "log_likelihood", "n_components_posterior", "select"]

PARETO_K_THRESHOLD = 0.7
# How select() chooses K: PSIS-LOO over sampled fits, or an EM screen by BIC.
METHODS = ("loo", "bic")


def log_likelihood(fit, name: str | None = None) -> xr.DataArray:
    """Pointwise log-likelihood of a mixture: log sum_k w_k p_k(y_i), per draw.

    Parameters
    ----------
    fit : fitted estimator, or (model, idata) / (model, idata, name)
        For an estimator, densities are in the data's own units (the standardisation's
        Jacobian is included).
    name : str, optional
        Mixture name for a (model, idata) pair with several mixtures.

    Returns
    -------
    xarray.DataArray
        Dims (chain, draw, obs) (``group`` for grouped membership).
    """
    model, idata, name, offset = _unpack(fit, name)
    evaluator = _evaluator_of(fit, model, name)
    spec = evaluator.spec
    posterior = idata.posterior
    draws = stacked_draws(posterior, evaluator.rv_names)
    value = spec.data()
    n_chains, n_draws = posterior.sizes["chain"], posterior.sizes["draw"]
    blocks = list(
        evaluator.chunks(draws, value, groups=spec.groups, case_weights=spec.case_weights)
    )
    n_terms = max(b.row_stop for b in blocks)
    values = np.empty((n_chains * n_draws, n_terms))
    for b in blocks:
        values[b.start : b.stop, b.row_start : b.row_stop] = b.log_marginal
    dim = "group" if spec.groups is not None else "obs"
    return xr.DataArray(
        values.reshape(n_chains, n_draws, n_terms) + offset,
        dims=("chain", "draw", dim),
        coords={"chain": posterior["chain"].values, "draw": posterior["draw"].values},
        name=name,
    )


def compare(fits, *, ic: str = "loo") -> pd.DataFrame:
    """Compare fitted mixtures by PSIS-LOO (ArviZ) on the mixture's own log-likelihood.

    Parameters
    ----------
    fits : dict of label to fit, or sequence of fits
        Fitted estimators or (model, idata[, name]) pairs, all on the same data.
    ic : {"loo", "waic"}, default "loo"
        Information criterion, as in :func:`arviz.compare`.

    Returns
    -------
    pandas.DataFrame
        ArviZ's comparison table (rank, elpd, p, elpd_diff, weight, se, dse, warning),
        best first.

    Warns
    -----
    PredictionWarning
        When Pareto k exceeds 0.7 for some observations (named), where PSIS-LOO is unreliable.

    Examples
    --------
    >>> import numpy as np, bayesmixture as bm
    >>> rng = np.random.default_rng(0)
    >>> y = np.r_[rng.normal(-3, 1, 60), rng.normal(3, 1, 60)]
    >>> fits = {k: bm.Mixture("normal", k, draws=100, tune=100, chains=2, random_seed=0,
    ...                       progressbar=False).fit(y) for k in (1, 2)}
    >>> table = bm.compare(fits)
    >>> int(table.index[0])
    2
    """
    labelled = dict(fits) if isinstance(fits, Mapping) else {i: f for i, f in enumerate(fits)}
    if len(labelled) < 2:
        raise ValueError(f"fits has {len(labelled)} fit(s); compare needs at least two.")
    datasets = {}
    for label, fit in labelled.items():
        loglik = log_likelihood(fit)
        idata = az.InferenceData(
            posterior=_posterior_of(fit), log_likelihood=loglik.to_dataset(name="y")
        )
        datasets[label] = idata
        _warn_high_pareto_k(label, idata)
    return az.compare(datasets, ic=ic)


@dataclass
class SelectionResult:
    """What :meth:`select` found.

    Attributes
    ----------
    comparison : pandas.DataFrame
        LOO comparison (``method="loo"``) or BIC/ICL table (``method="bic"``), indexed by K.
    fits : dict of int to estimator
        The fitted estimators (only the chosen one for ``method="bic"``).
    best : estimator
        The chosen fit.
    n_components : int
        Its number of components.
    method : str
    """

    comparison: pd.DataFrame
    fits: dict
    best: object
    n_components: int
    method: str


def select(
    estimator,
    X,
    y=None,
    *,
    n_components: Sequence[int] = range(1, 7),
    method: str = "loo",
    client=None,
    **fit_params,
) -> SelectionResult:
    """Fit ``estimator`` for each number of components and choose among them.

    With ``method="loo"`` every K is fitted and compared by PSIS-LOO; the choice is the
    smallest K whose elpd is within two standard errors (``dse``) of the best (the data do not
    support more). With ``method="bic"`` EM fits (scikit-learn) are screened by BIC and ICL,
    and only the K with the lowest BIC is fitted by sampling.

    Parameters
    ----------
    estimator : GaussianMixture or Mixture
        A template: its parameters are used for every fit, except ``n_components``.
    X, y
        The data, as for the estimator's ``fit``.
    n_components : sequence of int, default range(1, 7)
    method : {"loo", "bic"}, default "loo"
    client : dask.distributed.Client, optional
        Run the fits as Dask tasks on this client; the same seeds give the same results as
        the serial run.
    **fit_params
        Passed to ``fit``.

    Returns
    -------
    SelectionResult
    """
    ks = sorted({int(k) for k in n_components})
    if not ks or ks[0] < 1:
        raise ValueError(f"n_components={list(n_components)!r} must be positive ints.")
    if method == "bic":
        table = _em_screen(estimator, X, ks)
        k_best = int(table["bic"].idxmin())
        best = clone(estimator).set_params(n_components=k_best).fit(X, y, **fit_params)
        return SelectionResult(table, {k_best: best}, best, k_best, method)
    if method != "loo":
        raise ValueError(f"method={method!r}; choose 'loo' or 'bic'.")
    if len(ks) < 2:
        raise ValueError("method='loo' needs at least two values of n_components to compare.")
    fits = _fit_all(estimator, X, y, ks, client, fit_params)
    comparison = compare(fits)
    k_best = _parsimonious_choice(comparison)
    return SelectionResult(comparison, fits, fits[k_best], k_best, method)


def n_components_posterior(fit, *, random_seed=None, name: str | None = None) -> pd.Series:
    """Posterior distribution of the number of non-empty components.

    For every draw an allocation of every observation is drawn from that draw's membership
    probabilities, and the components that received at least one observation are counted.

    Returns
    -------
    pandas.Series
        Probability of each count, indexed by the number of non-empty components.
    """
    model, idata, name, _ = _unpack(fit, name)
    evaluator = _evaluator_of(fit, model, name)
    spec = evaluator.spec
    rng = np.random.default_rng(random_seed)
    draws = stacked_draws(idata.posterior, evaluator.rv_names)
    value = spec.data()
    n_total = idata.posterior.sizes["chain"] * idata.posterior.sizes["draw"]
    occupied = np.zeros((n_total, spec.n_components), dtype=bool)
    for chunk in evaluator.chunks(draws, value, groups=spec.groups, case_weights=spec.case_weights):
        resp = np.exp(chunk.log_resp)  # (draws, rows, K)
        cumulative = np.cumsum(resp, axis=-1)
        u = rng.random((*resp.shape[:2], 1))
        labels = np.minimum((u > cumulative).sum(axis=-1), spec.n_components - 1)
        for k in range(spec.n_components):
            occupied[chunk.start : chunk.stop, k] |= (labels == k).any(axis=1)
    counts = occupied.sum(axis=1)
    share = pd.Series(counts).value_counts(normalize=True).sort_index()
    share.index.name = "n_components"
    share.name = "probability"
    return share


# ---------------------------------------------------------------------------- helpers


def _unpack(fit, name):
    """(model, idata, mixture name, log-Jacobian offset) of an estimator or a pair; an
    estimator's model is None when it was not built (its scorer may not need it)."""
    if hasattr(fit, "idata_") and hasattr(fit, "model_"):
        return getattr(fit, "_model", None), fit.idata_, fit._mixture_name, fit._log_jacobian()
    import pymc as pm

    if isinstance(fit, tuple) and len(fit) in (2, 3) and isinstance(fit[0], pm.Model):
        model, idata = fit[0], fit[1]
        name = fit[2] if len(fit) == 3 else name
        if name is None:
            from bayesmixture._spec import mixture_names

            names = mixture_names(model)
            if len(names) != 1:
                raise ValueError(
                    f"the model has mixtures {names}; pass (model, idata, name) to say which."
                )
            name = names[0]
        return model, idata, name, 0.0
    raise TypeError(
        f"{type(fit).__name__} is not a fitted estimator or a (model, idata[, name]) pair."
    )


def _evaluator_of(fit, model, name):
    """The estimator's own scorer of its training rows (e.g. GaussianMixture's matrix-product
    scorer, no compile), else the general evaluator on PyMC's graph."""
    if hasattr(fit, "idata_") and hasattr(fit, "_training_evaluator"):
        return fit._training_evaluator(model, fit.idata_.posterior, fit._fit_data)
    from bayesmixture.evaluation import MixtureEvaluator

    return MixtureEvaluator(model, lookup(model, name))


def _posterior_of(fit):
    return fit.idata_.posterior if hasattr(fit, "idata_") else fit[1].posterior


def _warn_high_pareto_k(label, idata) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ArviZ's own generic warning; ours names the rows
        loo = az.loo(idata, pointwise=True)
    pareto_k = np.asarray(loo.pareto_k)
    bad = np.flatnonzero(pareto_k > PARETO_K_THRESHOLD)
    if bad.size:
        from bayesmixture._validation import describe_rows

        warnings.warn(
            f"fit {label!r}: Pareto k > {PARETO_K_THRESHOLD} for {describe_rows(bad)}: PSIS-LOO "
            "is unreliable there (influential observations, e.g. a component explaining very "
            "few rows). Check those rows, or compare with K-fold cross-validation.",
            PredictionWarning,
            stacklevel=3,
        )


def _parsimonious_choice(comparison: pd.DataFrame) -> int:
    """Smallest K whose elpd is within 2 dse of the best."""
    close = comparison[comparison["elpd_diff"] <= 2 * comparison["dse"]]
    return int(min(close.index))


def _fit_one(estimator, X, y, k, fit_params):
    return clone(estimator).set_params(n_components=k).fit(X, y, **fit_params)


def _fit_all(estimator, X, y, ks, client, fit_params) -> dict:
    if client is None:
        return {k: _fit_one(estimator, X, y, k, fit_params) for k in ks}
    futures = client.map(
        _fit_one,
        [estimator] * len(ks),
        [X] * len(ks),
        [y] * len(ks),
        ks,
        [fit_params] * len(ks),
        pure=False,
    )
    return dict(zip(ks, client.gather(futures), strict=True))


def _em_screen(estimator, X, ks) -> pd.DataFrame:
    """BIC and ICL of scikit-learn EM fits for each K (Gaussian components only)."""
    from sklearn.mixture import GaussianMixture as EMGaussianMixture

    data = estimator._em_data(X)
    covariance_type = getattr(estimator, "covariance_type", "full")
    seed = estimator.random_seed if isinstance(estimator.random_seed, int) else 0
    rows = []
    for k in ks:
        em = EMGaussianMixture(k, covariance_type=covariance_type, n_init=5, random_state=seed)
        em.fit(data)
        resp = em.predict_proba(data)
        entropy = -np.sum(resp * np.log(np.clip(resp, 1e-300, None)))
        bic = em.bic(data)
        rows.append(
            {
                "n_components": k,
                "bic": bic,
                "icl": bic + 2 * entropy,
                "log_likelihood": em.score(data) * len(data),
            }
        )
    return pd.DataFrame(rows).set_index("n_components")
