"""GaussianMixture: the blog's penguin model, fitted in three lines."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pymc as pm
import pytensor.tensor as pt

from bayesmixture._cholesky import (
    corr_cholesky,
    covariance_to_sd_cpc,
    lkj_cpc_concentration,
    n_pairs,
)
from bayesmixture._validation import check_positive_int, group_codes
from bayesmixture.estimators._base import BayesianMixture, FitData, validate_table
from bayesmixture.estimators._starts import INITS, STARTS, GaussianStart
from bayesmixture.likelihood import mixture

COVARIANCE_TYPES = ("full", "tied", "diag", "spherical")
# Jitter of chain starts around the initial solution (model scale): small enough to stay in
# its mode, large enough that chains are not copies of each other.
START_JITTER = 0.02


class GaussianMixture(BayesianMixture):
    """Bayesian Gaussian mixture fitted with NUTS on the marginalised likelihood.

    Priors (on the standardised data when ``standardize=True``): means Normal(0,
    ``mean_prior_sd``); covariances with LKJ(``lkj_eta``) correlations and HalfNormal(
    ``scale_prior_sd``) standard deviations; weights Dirichlet(``weights_prior``). The LKJ
    prior is written through its canonical partial correlations (independent Betas, see
    ``bayesmixture._cholesky``), which gives the same distribution as
    ``pm.LKJCholeskyCov`` with one variable per parameter carrying the ``component`` dim.
    After sampling, label switching is undone (Stephens' method) over every draw of every
    chain, and membership probabilities are computed from all of them.

    Parameters
    ----------
    n_components : int
        Number of components K.
    covariance_type : {"full", "tied", "diag", "spherical"}, default "full"
        As in scikit-learn: a full covariance per component, one shared full covariance,
        a diagonal covariance per component, or one variance per component. With
        ``standardize=True`` the structure holds on the standardised scale (a "spherical"
        component is then round after dividing each column by its sd).
    standardize : bool, default True
        Centre and scale every column before fitting; results are reported in the data's
        own units (``means``, ``sigmas``, ``covariances`` in the posterior).
    draws, tune, chains : int, default 1000, 1000, 4
        Kept draws, tuning steps and chains.
    sampler : {"auto", "pymc", "nutpie", "numpyro"}, default "auto"
        Sampling backend (see :func:`bayesmixture.inference.sample`).
    init : {"em", "kmeans", "random"}, default "em"
        Where chains start: scikit-learn's EM solution (jittered), k-means clusters, or
        random rows. Starting at EM keeps chains in the same mode.
    weights_prior : float, array-like of shape (n_components,) or "sparse", default 1.0
        Dirichlet concentration of the weights. ``"sparse"`` makes a sparse finite mixture:
        fit an overfitted ``n_components`` and read the number of non-empty components from
        :meth:`n_components_posterior`.
    mean_prior_sd, scale_prior_sd, lkj_eta : float, default 1.5, 1.0, 2.0
        Prior scales of the means and standard deviations, and the LKJ shape.
    random_seed : int or None
        Seed for starts and sampling; the same seed gives the same numbers.
    progressbar : bool, default True
        Show sampling progress.

    Attributes
    ----------
    idata_ : arviz.InferenceData
        Relabelled posterior (label-consistent), with the draws before relabelling in group
        ``unrelabelled_posterior`` and the permutations in ``label_permutation``.
    model_ : pymc.Model
        The model that was sampled.
    membership_ : xarray.Dataset
        Membership of the training rows (see :func:`bayesmixture.membership`).
    permutations_ : xarray.DataArray
        Permutation applied to each draw, dims (chain, draw, component).
    weights_, means_, covariances_ : ndarray
        Posterior means, in the data's units.

    Examples
    --------
    >>> import bayesmixture as bm
    >>> X = bm.datasets.load_penguins()[bm.datasets.PENGUIN_MEASUREMENTS]
    >>> gm = bm.GaussianMixture(3, draws=100, tune=100, chains=2, random_seed=1,
    ...                         progressbar=False).fit(X)
    >>> gm.predict_proba(X).shape, gm.summary().index[0]
    ((342, 3), 'weights[0]')
    """

    _mixture_name = "X"
    _extra_arrays = ("center", "scale", "group_names")

    def __init__(
        self,
        n_components: int = 1,
        *,
        covariance_type: str = "full",
        standardize: bool = True,
        draws: int = 1000,
        tune: int = 1000,
        chains: int = 4,
        sampler: str = "auto",
        init: str = "em",
        weights_prior=1.0,
        mean_prior_sd: float = 1.5,
        scale_prior_sd: float = 1.0,
        lkj_eta: float = 2.0,
        random_seed=None,
        progressbar: bool = True,
    ):
        self.n_components = n_components
        self.covariance_type = covariance_type
        self.standardize = standardize
        self.draws = draws
        self.tune = tune
        self.chains = chains
        self.sampler = sampler
        self.init = init
        self.weights_prior = weights_prior
        self.mean_prior_sd = mean_prior_sd
        self.scale_prior_sd = scale_prior_sd
        self.lkj_eta = lkj_eta
        self.random_seed = random_seed
        self.progressbar = progressbar

    # ------------------------------------------------------------------ public

    def fit(self, X, y=None, *, groups=None):
        """Fit the mixture to the rows of ``X``.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_obs, n_features)
            Numeric data; column names become the ``feature`` coordinate.
        y : ignored
            Present for scikit-learn pipelines.
        groups : array-like of shape (n_obs,), optional
            Group label of each row: each group gets its own Dirichlet weights
            (``group_weights`` with dims (group, component)), the components are shared.

        Returns
        -------
        self
        """
        return self._fit(X, y, groups=groups)

    def sample(self, n_samples: int = 1, *, random_seed=None):
        """Draw new rows from the posterior predictive distribution.

        Each row takes a random posterior draw, a component by that draw's weights (for
        grouped fits, the average over groups), and a Gaussian draw in the data's units.

        Returns
        -------
        X : ndarray of shape (n_samples, n_features)
        labels : ndarray of shape (n_samples,)
        """
        self._check_fitted()
        n_samples = check_positive_int(n_samples, "n_samples")
        rng = np.random.default_rng(random_seed)
        post = self.idata_.posterior.stack(sample=("chain", "draw"))
        means = post["means"].transpose("sample", ...).values
        covs = post["covariances"].transpose("sample", ...).values
        weights = self._weight_draws(post)
        picked = rng.integers(means.shape[0], size=n_samples)
        cumulative = np.cumsum(weights[picked], axis=1)
        u = rng.random((n_samples, 1)) * cumulative[:, -1:]
        labels = np.minimum((u > cumulative).sum(axis=1), self.n_components - 1)
        chol = np.linalg.cholesky(covs[picked, labels])
        noise = rng.standard_normal((n_samples, means.shape[-1]))
        return means[picked, labels] + np.einsum("nij,nj->ni", chol, noise), labels

    @property
    def weights_(self) -> np.ndarray:
        self._check_fitted()
        return self._weight_draws(self.idata_.posterior.stack(sample=("chain", "draw"))).mean(0)

    @property
    def means_(self) -> np.ndarray:
        self._check_fitted()
        return self.idata_.posterior["means"].mean(("chain", "draw")).values

    @property
    def covariances_(self) -> np.ndarray:
        self._check_fitted()
        return self.idata_.posterior["covariances"].mean(("chain", "draw")).values

    # ------------------------------------------------------------------ contract

    @property
    def _summary_vars(self):
        return ("weights", "group_weights", "means", "sigmas")

    def _check_params(self) -> None:
        check_positive_int(self.n_components, "n_components")
        if self.covariance_type not in COVARIANCE_TYPES:
            raise ValueError(
                f"covariance_type={self.covariance_type!r}; choose one of {COVARIANCE_TYPES}."
            )
        if self.init not in INITS:
            raise ValueError(f"init={self.init!r}; choose one of {INITS}.")
        for name in ("mean_prior_sd", "scale_prior_sd", "lkj_eta"):
            value = getattr(self, name)
            if not np.isscalar(value) or not np.isfinite(value) or value <= 0:
                raise ValueError(f"{name}={value!r} must be a positive number.")
        _dirichlet_concentration(self.weights_prior, self.n_components)

    def _validate_fit_data(self, X, y, *, groups=None) -> FitData:
        array, names = validate_table(X)
        n_obs, n_features = array.shape
        if self.n_components > n_obs:
            raise ValueError(
                f"n_components={self.n_components} is larger than the number of rows of X "
                f"({n_obs}); pass a smaller n_components or more data."
            )
        names = names or [f"x{j}" for j in range(n_features)]
        center, scale = _standardisation(array, names, self.standardize)
        extra = {"center": center, "scale": scale, "names": names}
        data = {}
        if groups is not None:
            codes, group_names = group_codes(groups, n_obs)
            extra["group_names"] = group_names
            data["group_index"] = codes
        return FitData(
            value=(array - center) / scale,
            n_obs=n_obs,
            feature_names=names if isinstance(X, pd.DataFrame) else None,
            data=data,
            extra=extra,
        )

    def _build_model(self, fit: FitData) -> pm.Model:
        K, (n_obs, D) = self.n_components, fit.value.shape
        names = fit.extra["names"]
        rows, cols = np.tril_indices(D, -1)
        coords = {
            "component": np.arange(K),
            "feature": names,
            "feature2": names,
            "obs": np.arange(n_obs),
            "feature_pair": [f"{names[i]}|{names[j]}" for i, j in zip(rows, cols, strict=True)],
        }
        if "group_names" in fit.extra:
            coords["group"] = fit.extra["group_names"]
        alpha = _dirichlet_concentration(self.weights_prior, K)
        with pm.Model(coords=coords) as model:
            X_std = pm.Data("X_std", fit.value, dims=("obs", "feature"))
            if "group_index" in fit.data:
                group_index = pm.Data("group_index", fit.data["group_index"], dims="obs")
                W = pm.Dirichlet(
                    "group_weights",
                    np.broadcast_to(alpha, (len(coords["group"]), K)),
                    dims=("group", "component"),
                )
                weights = W[group_index]
            else:
                weights = pm.Dirichlet("weights", alpha, dims="component")
            mu = pm.Normal("mu", 0.0, self.mean_prior_sd, dims=("component", "feature"))
            chol = self._cholesky_factors(D)
            mixture("X", weights, pm.MvNormal.dist(mu, chol=chol), X_std, dims=("obs", "feature"))
            self._report_original_units(mu, chol, fit)
        return model

    def _cholesky_factors(self, D: int):
        """Cholesky factors of the component covariances (model scale): (K, D, D) or (D, D)."""
        kind = self.covariance_type
        per_component = kind != "tied"
        sd_dims = {
            "full": ("component", "feature"),
            "tied": ("feature",),
            "diag": ("component", "feature"),
            "spherical": ("component",),
        }[kind]
        sd = pm.HalfNormal("sd", self.scale_prior_sd, dims=sd_dims)
        if kind == "spherical":
            return sd[:, None, None] * pt.eye(D)
        if kind == "diag" or D == 1:
            return pt.expand_dims(sd, -1) * pt.eye(D)
        concentration = lkj_cpc_concentration(self.lkj_eta, D)
        cpc_dims = ("component", "feature_pair") if per_component else ("feature_pair",)
        cpc = pm.Beta("cpc", concentration, concentration, dims=cpc_dims)
        return pt.expand_dims(sd, -1) * corr_cholesky(2.0 * cpc - 1.0, D)

    def _report_original_units(self, mu, chol, fit: FitData) -> None:
        center, scale = fit.extra["center"], fit.extra["scale"]
        K = self.n_components
        cov = pt.matmul(chol, pt.swapaxes(chol, -1, -2)) * np.outer(scale, scale)
        cov = pt.broadcast_to(cov, (K, len(scale), len(scale)))
        pm.Deterministic("means", mu * scale + center, dims=("component", "feature"))
        pm.Deterministic("covariances", cov, dims=("component", "feature", "feature2"))
        sigmas = pt.sqrt(pt.diagonal(cov, axis1=-2, axis2=-1))
        pm.Deterministic("sigmas", sigmas, dims=("component", "feature"))

    def _initial_values(self, fit: FitData, rng: np.random.Generator) -> list[dict]:
        start = STARTS[self.init](
            fit.value, self.n_components, self.covariance_type, int(rng.integers(2**31 - 1))
        )
        n_groups = len(fit.extra.get("group_names", ()))
        return [self._jittered(start, rng, n_groups) for _ in range(self.chains)]

    def _jittered(self, start: GaussianStart, rng, n_groups: int) -> dict:
        kind, D = self.covariance_type, start.means.shape[1]
        noise = lambda shape: START_JITTER * rng.standard_normal(shape)  # noqa: E731
        values = {"mu": start.means + noise(start.means.shape)}
        weights = start.weights * np.exp(noise(start.weights.shape))
        weights /= weights.sum()
        if n_groups:
            values["group_weights"] = np.tile(weights, (n_groups, 1))
        else:
            values["weights"] = weights
        if kind in ("full", "tied"):
            sd, cpc = covariance_to_sd_cpc(start.covariances)
        else:
            sd, cpc = np.sqrt(start.covariances), None
        values["sd"] = sd * np.exp(noise(sd.shape))
        if cpc is not None and n_pairs(D):
            z = np.tanh(np.arctanh(cpc) + noise(cpc.shape))
            values["cpc"] = (z + 1.0) / 2.0
        return values

    def _new_value(self, X, y=None, *, groups=None):
        array, names = validate_table(X)
        array = self._align_columns(array, names, X)
        extra = self._fit_data.extra
        value = (array - extra["center"]) / extra["scale"]
        data = {}
        if "group_names" in extra:
            if groups is None:
                raise ValueError(
                    "this mixture was fitted with groups (per-group weights); pass groups= for "
                    "the new rows too."
                )
            data["group_index"] = _codes_for(groups, extra["group_names"], len(array))
        elif groups is not None:
            raise ValueError("groups= was given, but the mixture was fitted without groups.")
        return value, data

    def _align_columns(self, array, names, X):
        fitted = getattr(self, "feature_names_in_", None)
        if fitted is not None and names is not None:
            missing = [c for c in fitted if c not in names]
            if missing:
                raise ValueError(
                    f"X lacks the columns {missing} that the mixture was fitted on; pass a table "
                    f"with columns {list(fitted)}."
                )
            return np.asarray(X[list(fitted)], dtype=float)
        if array.shape[1] != self.n_features_in_:
            raise ValueError(
                f"X has {array.shape[1]} columns, but the mixture was fitted on "
                f"{self.n_features_in_}; pass rows with the same columns."
            )
        return array

    def _em_data(self, X):
        array, _ = validate_table(X)
        names = [f"x{j}" for j in range(array.shape[1])]
        center, scale = _standardisation(array, names, self.standardize)
        return (array - center) / scale

    def _log_jacobian(self) -> float:
        return -float(np.log(self._fit_data.extra["scale"]).sum())

    def _weight_draws(self, post) -> np.ndarray:
        if "group_weights" in post:
            return post["group_weights"].transpose("sample", ...).values.mean(axis=1)
        return post["weights"].transpose("sample", ...).values


def _standardisation(array: np.ndarray, names, standardize: bool):
    n_features = array.shape[1]
    if not standardize:
        return np.zeros(n_features), np.ones(n_features)
    center = array.mean(axis=0)
    scale = array.std(axis=0)
    constant = [names[j] for j in np.flatnonzero(scale == 0)]
    if constant:
        raise ValueError(
            f"X has constant columns {constant}; standardize=True divides by each column's "
            "standard deviation. Drop those columns (they carry no cluster information)."
        )
    return center, scale


# Dirichlet concentration of sparse finite mixtures (Malsiner-Walli, Fruehwirth-Schnatter &
# Gruen 2016): small enough that superfluous components empty out.
SPARSE_CONCENTRATION = 0.01


def _dirichlet_concentration(prior, n_components: int) -> np.ndarray:
    if isinstance(prior, str) and prior == "sparse":
        return np.full(n_components, SPARSE_CONCENTRATION)
    alpha = np.asarray(prior, dtype=float) if not isinstance(prior, str) else None
    if alpha is None or alpha.ndim > 1 or (alpha.ndim == 1 and alpha.shape != (n_components,)):
        raise ValueError(
            f"weights_prior={prior!r} must be a positive number, {n_components} positive "
            "numbers (a Dirichlet concentration), or 'sparse'."
        )
    if not np.all(np.isfinite(alpha)) or np.any(alpha <= 0):
        raise ValueError(f"weights_prior={prior!r} must be positive.")
    return np.broadcast_to(alpha, (n_components,)).copy()


def _codes_for(groups, names, n_rows: int) -> np.ndarray:
    labels = np.asarray(groups)
    if labels.shape != (n_rows,):
        raise ValueError(f"groups has shape {labels.shape}; expected ({n_rows},).")
    lookup = {name: code for code, name in enumerate(names)}
    unknown = sorted({str(g) for g in labels if g not in lookup})
    if unknown:
        raise ValueError(
            f"groups has labels {unknown} that were not in the training data; known groups: "
            f"{list(names)}."
        )
    return np.array([lookup[g] for g in labels], dtype=np.int64)
