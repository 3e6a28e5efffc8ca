"""GaussianMixture: the blog's penguin model, fitted in three lines."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from bayesmixture._cholesky import (
    corr_cholesky,
    covariance_to_sd_cpc,
    lkj_cpc_concentration,
    n_pairs,
)
from bayesmixture._validation import (
    check_case_weights,
    check_positive_int,
    describe_rows,
    group_codes,
)
from bayesmixture.estimators._base import BayesianMixture, FitData, validate_table
from bayesmixture.estimators._labels import class_codes, component_names
from bayesmixture.estimators._starts import (
    INITS,
    STARTS,
    GaussianStart,
    labelled_start,
    trimmed_em_start,
)
from bayesmixture.estimators._weights import (
    check_weights_prior,
    dirichlet_concentration,
    is_dirichlet_process,
    weights_variable,
)

if TYPE_CHECKING:
    import pymc as pm

COVARIANCE_TYPES = ("full", "tied", "diag", "spherical")
# Starting noise weight with noise=True (jittered): EM's start has no noise component.
NOISE_START = 0.05
# Name of the noise component in membership and predictions.
NOISE = "noise"
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
    draws : int, default 1000
        Kept draws per chain.
    tune : int or None, default None
        Tuning steps per chain. None: 300 on the compiled path (nutpie's adaptation
        settles in a few hundred draws; docs/benchmarks.md, "defaults"), 1000 on PyMC's.
    chains : int, default 4
        Chains, run in parallel on every core.
    sampler : {"auto", "pymc", "nutpie", "numpyro"}, default "auto"
        Sampling backend (see :func:`bayesmixture.inference.sample`).
    init : {"em", "kmeans", "random"}, default "em"
        Where chains start: scikit-learn's EM solution (jittered), k-means clusters, or
        random rows. Starting at EM keeps chains in the same mode. With ``noise=True`` (and
        for :class:`StudentTMixture`) EM is trimmed: refitted without the 10% of rows it
        explains worst, three times, so that far outliers do not take a component.
    weights_prior : float, array-like of shape (n_components,), "sparse" or \
"dirichlet_process", default 1.0
        Dirichlet concentration of the weights. ``"sparse"`` makes a sparse finite mixture:
        fit an overfitted ``n_components`` and read the number of non-empty components from
        :meth:`n_components_posterior`. ``"dirichlet_process"`` gives stick-breaking weights
        of a Dirichlet process truncated at ``n_components``, with a Gamma(1, 1) prior on
        its ``concentration``; it does not combine with per-group weights.
    mean_prior_sd, scale_prior_sd, lkj_eta : float, default 1.5, 1.0, 2.0
        Prior scales of the means and standard deviations, and the LKJ shape.
    missing : {"error", "marginalize"}, default "error"
        Rows with missing (NaN) entries are an error naming them, or, with
        ``"marginalize"``, contribute the exact marginal density of their observed entries
        (no imputation), in fitting and in prediction. Columns are then standardised with
        the mean and sd of their observed entries.
    noise : bool, default False
        Add mclust's noise component: a uniform density over the bounding box of the
        (standardised) training data, for background points and outliers, with its own
        weight ``noise_weight`` ~ Beta(mean(alpha), sum(alpha)), so that the clusters'
        ``weights`` and the noise weight are a priori Dirichlet(alpha, mean(alpha)). The
        clusters' weights are then their shares among the rows that are not noise. New rows
        get the same constant noise density, inside the box or not. Membership gets a
        ``"noise"`` component; :meth:`predict` gives -1 for rows most probably noise.
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
    # the posterior's name of the components' matrices, in data units
    _matrix_name = "covariances"
    _extra_arrays = (
        "center",
        "scale",
        "group_names",
        "label_group_names",
        "label_group_codes",
        "sample_weight",
        "missing_entries",
        "noise_lower",
        "noise_upper",
        "row_labels",
    )

    def __init__(
        self,
        n_components: int = 1,
        *,
        covariance_type: str = "full",
        standardize: bool = True,
        draws: int = 1000,
        tune: int | None = None,
        chains: int = 4,
        sampler: str = "auto",
        init: str = "em",
        weights_prior=1.0,
        mean_prior_sd: float = 1.5,
        scale_prior_sd: float = 1.0,
        lkj_eta: float = 2.0,
        missing: str = "error",
        noise: bool = False,
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
        self.missing = missing
        self.noise = noise
        self.random_seed = random_seed
        self.progressbar = progressbar

    # ------------------------------------------------------------------ public

    def fit(self, X, y=None, *, groups=None, shared_label: bool = False, sample_weight=None):
        """Fit the mixture to the rows of ``X``.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_obs, n_features)
            Numeric data; column names become the ``feature`` coordinate.
        y : array-like of shape (n_obs,), optional
            Partly labelled rows (semi-supervised): the class of each labelled row, -1 (or
            NaN, None) for the others, as scikit-learn's semi-supervised estimators take
            them. The classes, sorted, name the first components; a labelled row contributes
            log w_k + log p_k(x) of its own class only. When every component has labelled
            rows their identity is fixed and no relabelling is needed; :meth:`predict` then
            gives class names. Needs at least 2 labelled rows per class and at most
            ``n_components`` classes; not with ``groups`` or gaps in labelled rows.
        groups : array-like of shape (n_obs,), optional
            Group label of each row (any labels, any order, ragged sizes). By default each
            group gets its own Dirichlet weights (``group_weights`` with dims (group,
            component)) and every row its own label.
        shared_label : bool, default False
            With ``groups``: every row of a group belongs to the same component (one label
            per group, marginalised: sum_g logsumexp_k(log w_k + sum_{i in g} log p_k(x_i))).
            ``membership_`` is then per group; :meth:`predict_proba` and :meth:`predict`
            take ``groups=`` for new rows and give each row its group's probabilities.
        sample_weight : array-like of shape (n_obs,), optional
            Frequency weights: row i counts ``sample_weight[i]`` times in the likelihood
            (non-negative, finite; 0 drops a row).

        Returns
        -------
        self

        Examples
        --------
        Partly labelled penguins (one in ten with its species) and a noise component:

        >>> import numpy as np, bayesmixture as bm
        >>> penguins = bm.datasets.load_penguins()
        >>> X = penguins[bm.datasets.PENGUIN_MEASUREMENTS]
        >>> y = np.where(np.arange(len(X)) % 10 == 0, penguins["species"].astype(str), -1)
        >>> gm = bm.GaussianMixture(3, noise=True, draws=100, tune=100, chains=2,
        ...                         random_seed=1, progressbar=False).fit(X, y)
        >>> gm.membership_["component"].values.tolist()
        ['Adelie', 'Chinstrap', 'Gentoo', 'noise']
        >>> float(np.mean(gm.predict(X) == penguins["species"])) > 0.9
        True
        """
        return self._fit(
            X, y, groups=groups, shared_label=shared_label, sample_weight=sample_weight
        )

    def sample(self, n_samples: int = 1, *, random_seed=None):
        """Draw new rows from the posterior predictive distribution.

        Each row takes a random posterior draw, a component by that draw's weights (for
        grouped fits, the average over groups), and a draw of that component in the data's
        units (with ``noise=True``, rows of the noise component are uniform in the training
        data's bounding box).

        Returns
        -------
        X : ndarray of shape (n_samples, n_features)
        labels : ndarray of shape (n_samples,)
            The component of each row (-1 for noise).
        """
        self._check_fitted()
        n_samples = check_positive_int(n_samples, "n_samples")
        rng = np.random.default_rng(random_seed)
        post = self.idata_.posterior.stack(sample=("chain", "draw"))
        means = post["means"].transpose("sample", ...).values
        weights = self._weight_draws(post)
        if "noise_weight" in post:
            noise = post["noise_weight"].values[:, None]
            weights = np.concatenate([weights * (1.0 - noise), noise], axis=1)
        picked = rng.integers(means.shape[0], size=n_samples)
        cumulative = np.cumsum(weights[picked], axis=1)
        u = rng.random((n_samples, 1)) * cumulative[:, -1:]
        labels = np.minimum((u > cumulative).sum(axis=1), weights.shape[1] - 1)
        rows = np.empty((n_samples, means.shape[-1]))
        clusters = labels < self.n_components
        rows[clusters] = self._component_draws(post, picked[clusters], labels[clusters], rng)
        if not clusters.all():  # the noise: uniform in the box, in data units
            extra = self._fit_data.extra
            lower = extra["noise_lower"] * extra["scale"] + extra["center"]
            upper = extra["noise_upper"] * extra["scale"] + extra["center"]
            rows[~clusters] = rng.uniform(lower, upper, size=(int((~clusters).sum()), len(lower)))
            labels = np.where(clusters, labels, -1)
        return rows, labels

    def _component_draws(self, post, picked, labels, rng) -> np.ndarray:
        """One Gaussian draw of component ``labels[i]`` of posterior draw ``picked[i]``."""
        means = post["means"].transpose("sample", ...).values[picked, labels]
        covs = post["covariances"].transpose("sample", ...).values[picked, labels]
        noise = rng.standard_normal(means.shape)
        return means + np.einsum("nij,nj->ni", np.linalg.cholesky(covs), noise)

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

    @property
    def noise_weight_(self) -> float:
        """Posterior mean of the noise weight (``noise=True`` only)."""
        self._check_fitted()
        if "noise_weight" not in self.idata_.posterior:
            raise AttributeError("noise_weight_ needs a fit with noise=True.")
        return float(self.idata_.posterior["noise_weight"].mean())

    def _labels_of(self, index):
        # components' names for a fit with classes; else indices, -1 for the noise
        if "classes" in self._fit_data.extra or not self.noise:
            return super()._labels_of(index)
        return np.where(index == self.n_components, -1, index)

    # ------------------------------------------------------------------ contract

    @property
    def _summary_vars(self):
        return ("weights", "group_weights", "noise_weight", "means", "sigmas")

    def _check_params(self) -> None:
        check_positive_int(self.n_components, "n_components")
        if self.covariance_type not in COVARIANCE_TYPES:
            raise ValueError(
                f"covariance_type={self.covariance_type!r}; choose one of {COVARIANCE_TYPES}."
            )
        if self.missing not in ("error", "marginalize"):
            raise ValueError(f"missing={self.missing!r}; choose 'error' or 'marginalize'.")
        if self.init not in INITS:
            raise ValueError(f"init={self.init!r}; choose one of {INITS}.")
        if not isinstance(self.noise, bool | np.bool_):
            raise TypeError(f"noise={self.noise!r} must be True or False.")
        if self.noise and self.missing != "error":
            raise ValueError(
                "noise=True needs complete rows: the noise component is a density over all "
                "columns. Use missing='error' (drop or impute rows with gaps) or noise=False."
            )
        if self.noise and is_dirichlet_process(self.weights_prior):
            raise ValueError(
                "noise=True takes a Dirichlet weights_prior (the noise weight's prior is read "
                "from its concentration); weights_prior='dirichlet_process' cannot have one."
            )
        for name in ("mean_prior_sd", "scale_prior_sd", "lkj_eta"):
            value = getattr(self, name)
            if not np.isscalar(value) or not np.isfinite(value) or value <= 0:
                raise ValueError(f"{name}={value!r} must be a positive number.")
        check_weights_prior(self.weights_prior, self.n_components)

    def _validate_fit_data(
        self, X, y, *, groups=None, shared_label=False, sample_weight=None
    ) -> FitData:
        array, names = validate_table(X, allow_nan=self.missing == "marginalize")
        n_obs, n_features = array.shape
        if n_obs < 2:
            raise ValueError(
                f"X has {n_obs} sample (n_samples = 1); a mixture needs at least 2 rows."
            )
        if self.n_components > n_obs:
            raise ValueError(
                f"n_components={self.n_components} is larger than the number of rows of X "
                f"({n_obs}); pass a smaller n_components or more data."
            )
        names = names or [f"x{j}" for j in range(n_features)]
        labels = None
        if y is not None:
            labels = self._check_labels(y, array, groups)
        weights = None
        if sample_weight is not None:
            weights = check_case_weights(sample_weight, n_obs, "sample_weight")
        center, scale = _standardisation(array, names, self.standardize, weights)
        extra = {"center": center, "scale": scale, "names": names}
        data = {}
        if not isinstance(shared_label, bool | np.bool_):
            raise TypeError(f"shared_label={shared_label!r} must be True or False.")
        if shared_label and groups is None:
            raise ValueError(
                "shared_label=True needs groups=: the label of every row in a group is shared."
            )
        if groups is not None:
            codes, group_names = group_codes(groups, n_obs)
            if shared_label:
                extra["label_group_names"] = group_names
                extra["label_group_codes"] = codes
            else:
                if self.noise:
                    raise ValueError(
                        "noise=True gives one noise weight; with groups= each group has its own "
                        "weights: fit without groups, or with shared_label=True."
                    )
                extra["group_names"] = group_names
                data["group_index"] = codes
        if np.isnan(array).any():
            extra["missing_entries"] = np.argwhere(np.isnan(array))
        if weights is not None:
            extra["sample_weight"] = weights
        value = (array - center) / scale
        if labels is not None:
            extra["row_labels"], extra["classes"] = labels
        if self.noise:
            # the bounding box of the standardised rows, whose volume fixes the noise density
            lower, upper = value.min(axis=0), value.max(axis=0)
            flat = [names[j] for j in np.flatnonzero(upper <= lower)]
            if flat:
                raise ValueError(
                    f"X has constant columns {flat}; noise=True spreads the noise over the "
                    "data's bounding box, which these columns make flat. Drop them."
                )
            extra["noise_lower"], extra["noise_upper"] = lower, upper
        return FitData(
            value=value,
            n_obs=n_obs,
            feature_names=names if isinstance(X, pd.DataFrame) else None,
            data=data,
            extra=extra,
        )

    def _check_labels(self, y, array: np.ndarray, groups):
        """(codes, classes) of partly labelled rows ``y``, refused where they cannot apply."""
        codes, classes = class_codes(y, len(array), self.n_components)
        if groups is not None:
            raise ValueError(
                "y (partly labelled rows) does not combine with groups= yet: fit the labelled "
                "data without groups, or drop y."
            )
        gaps = np.flatnonzero(np.isnan(array).any(axis=1) & (codes >= 0))
        if gaps.size:
            raise ValueError(
                f"X has missing entries in labelled {describe_rows(gaps)}; a labelled row "
                "needs every column. Mark those rows unlabelled in y (-1) or complete them."
            )
        return codes, classes

    def _build_model(self, fit: FitData) -> pm.Model:
        import pymc as pm

        from bayesmixture.likelihood import mixture

        K, (n_obs, D) = self.n_components, fit.value.shape
        names = fit.extra["names"]
        rows, cols = np.tril_indices(D, -1)
        codes = fit.extra.get("row_labels")
        coords = {
            "component": (
                np.arange(K) if codes is None else component_names(fit.extra["classes"], K)
            ),
            "feature": names,
            "feature2": names,
            "obs": np.arange(n_obs),
            "feature_pair": [f"{names[i]}|{names[j]}" for i, j in zip(rows, cols, strict=True)],
        }
        if "group_names" in fit.extra:
            coords["group"] = fit.extra["group_names"]
        if "group_index" in fit.data and is_dirichlet_process(self.weights_prior):
            raise ValueError(
                "weights_prior='dirichlet_process' gives one set of weights; with groups= "
                "each group has its own weights: use a Dirichlet weights_prior, or "
                "shared_label=True."
            )
        with pm.Model(coords=coords) as model:
            # Rows with gaps are marginalised from a constant (pm.Data refuses NaN).
            marginalize = self.missing == "marginalize"
            X_std = (
                fit.value if marginalize else pm.Data("X_std", fit.value, dims=("obs", "feature"))
            )
            if "group_index" in fit.data:
                group_index = pm.Data("group_index", fit.data["group_index"], dims="obs")
                alpha = dirichlet_concentration(self.weights_prior, K)
                n_groups = len(coords["group"])
                W = pm.Dirichlet(
                    "group_weights",
                    np.broadcast_to(alpha, (n_groups, K)),
                    dims=("group", "component"),
                    shape=(n_groups, K),
                )
                weights = W[group_index]
            else:
                weights = weights_variable(self.weights_prior, K)
            if self.noise:
                weights = self._with_noise_weight(weights, K)
            # float64 scales: PyTensor stores a Python float such as 1.5 as a float32
            # constant, and its log then loses ~1e-8 per term.
            mean_sd = np.float64(self.mean_prior_sd)
            # static shapes beside the dims: the mixture then knows K without evaluating it
            mu = pm.Normal("mu", 0.0, mean_sd, dims=("component", "feature"), shape=(K, D))
            chol = self._cholesky_factors(D)
            params = self._component_params()
            if self.noise:  # one distribution per component, then the noise
                components = [
                    self._component_dist(
                        mu[k],
                        chol[k] if chol.ndim == 3 else chol,
                        **{name: value[k] for name, value in params.items()},
                    )
                    for k in range(K)
                ] + [_noise_component(fit.extra["noise_lower"], fit.extra["noise_upper"])]
            else:
                components = self._component_dist(mu, chol, **params)
            mixture(
                "X",
                weights,
                components,
                X_std,
                dims=("obs", "feature"),
                groups=_label_groups(fit.extra),
                case_weights=fit.extra.get("sample_weight"),
                missing=self.missing,
                known=codes,
            )
            self._report_original_units(mu, chol, fit)
        return model

    def _component_params(self) -> dict:
        """Variables of the components beyond means and covariances (none for Gaussians)."""
        return {}

    def _component_dist(self, mu, chol, **params):
        """The components' distribution given means (K, D) and Cholesky factors."""
        import pymc as pm

        return pm.MvNormal.dist(mu, chol=chol)

    def _with_noise_weight(self, weights, K: int):
        """The mixture's weights with a noise component: [(1 - pi) w, pi], pi the variable
        ``noise_weight`` ~ Beta(mean(alpha), sum(alpha)) (see ``noise``)."""
        import pymc as pm
        import pytensor.tensor as pt

        from bayesmixture.estimators._fast.gaussian import noise_concentration

        alpha = dirichlet_concentration(self.weights_prior, K)
        concentration = np.float64(noise_concentration(alpha))
        pi = pm.Beta("noise_weight", concentration, np.float64(alpha.sum()))
        return pt.concatenate([(1.0 - pi) * weights, pi[None]])

    def _df_prior(self) -> tuple[float, float] | None:
        """Gamma (shape, rate) prior of Student-t degrees of freedom; None for Gaussians."""
        return None

    def _cholesky_factors(self, D: int):
        """Cholesky factors of the component covariances (model scale): (K, D, D) or (D, D)."""
        import pymc as pm
        import pytensor.tensor as pt

        kind = self.covariance_type
        per_component = kind != "tied"
        sd_dims = {
            "full": ("component", "feature"),
            "tied": ("feature",),
            "diag": ("component", "feature"),
            "spherical": ("component",),
        }[kind]
        sizes = {"component": self.n_components, "feature": D, "feature_pair": D * (D - 1) // 2}
        sd = pm.HalfNormal(
            "sd",
            np.float64(self.scale_prior_sd),
            dims=sd_dims,
            shape=tuple(sizes[dim] for dim in sd_dims),
        )
        if kind == "spherical":
            return sd[:, None, None] * pt.eye(D)
        if kind == "diag" or D == 1:
            return pt.expand_dims(sd, -1) * pt.eye(D)
        concentration = lkj_cpc_concentration(self.lkj_eta, D)
        cpc_dims = ("component", "feature_pair") if per_component else ("feature_pair",)
        cpc_shape = tuple(sizes[dim] for dim in cpc_dims)
        cpc = pm.Beta("cpc", concentration, concentration, dims=cpc_dims, shape=cpc_shape)
        return pt.expand_dims(sd, -1) * corr_cholesky(2.0 * cpc - 1.0, D)

    def _report_original_units(self, mu, chol, fit: FitData) -> None:
        import pymc as pm
        import pytensor.tensor as pt

        center, scale = fit.extra["center"], fit.extra["scale"]
        K = self.n_components
        cov = pt.matmul(chol, pt.swapaxes(chol, -1, -2)) * np.outer(scale, scale)
        cov = pt.broadcast_to(cov, (K, len(scale), len(scale)))
        pm.Deterministic("means", mu * scale + center, dims=("component", "feature"))
        pm.Deterministic(self._matrix_name, cov, dims=("component", "feature", "feature2"))
        sigmas = pt.sqrt(pt.diagonal(cov, axis1=-2, axis2=-1))
        pm.Deterministic("sigmas", sigmas, dims=("component", "feature"))

    def _compiled_density(self, fit: FitData):
        from bayesmixture.estimators._fast.gaussian import GaussianDensity, unsupported_reason

        reason = unsupported_reason(self, fit)
        if reason is not None:
            return f"the compiled Gaussian density does not cover {reason}"
        return GaussianDensity(self, fit)

    def _posterior_values(self, density, theta: np.ndarray, fit: FitData) -> dict:
        values = density.from_theta(theta)
        # the deterministics of _report_original_units, in numpy
        center, scale = fit.extra["center"], fit.extra["scale"]
        chol = density.cholesky(values)
        cov = np.matmul(chol, np.swapaxes(chol, -1, -2)) * np.outer(scale, scale)
        values["means"] = values["mu"] * scale + center
        values[self._matrix_name] = cov
        values["sigmas"] = np.sqrt(np.diagonal(cov, axis1=-2, axis2=-1))
        return values

    def _initial_values(self, fit: FitData, rng: np.random.Generator) -> list[dict]:
        # EM and k-means need complete rows: missing entries start at the column mean (0).
        codes = fit.extra.get("row_labels")
        start = STARTS[self.init]
        if codes is not None:
            start = partial(labelled_start, codes=codes)
        elif self.init == "em" and self._robust_start():
            start = trimmed_em_start
        start = start(
            np.nan_to_num(fit.value, nan=0.0),
            n_components=self.n_components,
            covariance_type=self.covariance_type,
            seed=int(rng.integers(2**31 - 1)),
        )
        n_groups = len(fit.extra.get("group_names", ()))
        return [self._jittered(start, rng, n_groups) for _ in range(self.chains)]

    def _jittered(self, start: GaussianStart, rng, n_groups: int) -> dict:
        kind, D = self.covariance_type, start.means.shape[1]
        jitter = lambda shape: START_JITTER * rng.standard_normal(shape)  # noqa: E731
        values = {"mu": start.means + jitter(start.means.shape)}
        weights = start.weights * np.exp(jitter(start.weights.shape))
        weights /= weights.sum()
        if n_groups:
            values["group_weights"] = np.tile(weights, (n_groups, 1))
        else:
            values["weights"] = weights
        if kind in ("full", "tied"):
            sd, cpc = covariance_to_sd_cpc(start.covariances)
        else:
            sd, cpc = np.sqrt(start.covariances), None
        values["sd"] = sd * np.exp(jitter(sd.shape))
        if cpc is not None and n_pairs(D):
            z = np.tanh(np.arctanh(cpc) + jitter(cpc.shape))
            values["cpc"] = (z + 1.0) / 2.0
        if self.noise:  # a small noise weight: the EM start has none
            values["noise_weight"] = NOISE_START * np.exp(jitter(()))
        values.update(self._component_param_starts(jitter))
        return values

    def _component_param_starts(self, jitter) -> dict:
        """Starting values of the variables of :meth:`_component_params`."""
        return {}

    def _robust_start(self) -> bool:
        """Whether init="em" starts from trimmed EM (fits meant to resist outliers)."""
        return self.noise

    def _new_value(self, X, y=None, *, groups=None):
        array, names = validate_table(X, allow_nan=self.missing == "marginalize")
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
        elif groups is not None and "label_group_names" not in extra:
            raise ValueError("groups= was given, but the mixture was fitted without groups.")
        return value, data

    def _fast_scorer(self, model, posterior, value: np.ndarray, data: dict, *, fit=None):
        """The matrix-product scorer when it applies (no shared labels; gaps only without a
        noise component), else None. It relabels and scores the training rows too (gaps
        and per-group weights included); case weights do not change a row's
        responsibilities, only its weight in the fit."""
        from bayesmixture._spec import lookup
        from bayesmixture.estimators._gaussian_scorer import GaussianEvaluator

        fit = self._fit_data if fit is None else fit
        extra = fit.extra
        if "label_group_names" in extra or set(data) - {"group_index"}:
            return None
        # One matrix product per block instead of one small solve per row and draw.
        noise = None
        if "noise_lower" in extra:
            if np.isnan(value).any():
                return None
            noise = -float(np.log(extra["noise_upper"] - extra["noise_lower"]).sum())
        evaluator = GaussianEvaluator(
            lookup(model, self._mixture_name),
            extra["center"],
            extra["scale"],
            student=self._df_prior() is not None,
            noise_log_density=noise,
            group_index=fit.data.get("group_index") if "group_names" in extra else None,
        )
        return evaluator if all(name in posterior for name in evaluator.rv_names) else None

    def _membership_of(self, X, y=None, *, groups=None):
        if "label_group_names" not in getattr(self, "_fit_data", FitData(None, 0)).extra:
            return super()._membership_of(X, y, groups=groups)
        # One label per group: the group's probabilities, given to each of its rows.
        import xarray as xr

        from bayesmixture.evaluation import summarise

        self._check_fitted()
        if groups is None:
            raise ValueError(
                "this mixture was fitted with shared_label=True; pass groups= for the new rows "
                "(rows of one group share one component)."
            )
        value, _ = self._new_value(X, y)
        codes, names = group_codes(groups, len(value))
        per_group = summarise(
            self._get_evaluator(),
            self.idata_.posterior,
            value,
            None,
            obs_coords=names,
            component_coords=self._membership_components(self.idata_.posterior, self._fit_data),
            groups=codes,
            case_weights=np.ones(len(value)),
        )
        return per_group.isel(group=xr.DataArray(codes, dims="obs")).drop_vars("group")

    def score_samples(self, X, y=None, *, draws=None, **predict_params):
        if "label_group_names" in getattr(self, "_fit_data", FitData(None, 0)).extra:
            raise ValueError(
                "score_samples gives one density per row, but with shared_label=True the rows "
                "of a group are not independent; compare grouped fits with "
                "bayesmixture.compare, which scores whole groups."
            )
        return super().score_samples(X, y, draws=draws, **predict_params)

    def fit_predict(self, X, y=None, **fit_params) -> np.ndarray:
        """Fit, then return the most probable component of each training row (as
        :meth:`predict` gives them)."""
        self.fit(X, y, **fit_params)
        labels = self.membership_["label"].values
        codes = self._fit_data.extra.get("label_group_codes")
        return self._labels_of(labels if codes is None else labels[codes])

    def _free_components(self, fit: FitData) -> np.ndarray | None:
        # the noise component keeps its label too
        free = super()._free_components(fit)
        return np.arange(self.n_components) if free is None and self.noise else free

    def _membership_components(self, posterior, fit: FitData) -> np.ndarray:
        coords = posterior["component"].values
        if not self.noise:
            return coords
        return np.array([*coords.tolist(), NOISE], dtype=object)

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
                f"X has {array.shape[1]} features, but {type(self).__name__} is expecting "
                f"{self.n_features_in_} features as input; pass rows with the columns it was "
                "fitted on."
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


def _standardisation(array: np.ndarray, names, standardize: bool, weights=None):
    """Column means and sds of the observed entries, weighted by frequency weights if given.

    With integer weights these are the mean and sd of the data with rows repeated.
    """
    n_features = array.shape[1]
    if not standardize:
        return np.zeros(n_features), np.ones(n_features)
    observed = ~np.isnan(array)
    row_weights = np.ones(len(array)) if weights is None else weights
    w = np.where(observed, row_weights[:, None], 0.0)
    total = w.sum(axis=0)
    unobserved = [names[j] for j in np.flatnonzero(total == 0)]
    if unobserved:
        raise ValueError(
            f"X has no observed entries with positive sample_weight in columns {unobserved}; "
            "drop them."
        )
    filled = np.where(observed, array, 0.0)
    center = (w * filled).sum(axis=0) / total
    scale = np.sqrt((w * (filled - center) ** 2).sum(axis=0) / total)
    constant = [names[j] for j in np.flatnonzero(scale == 0)]
    if constant:
        raise ValueError(
            f"X has constant columns {constant}; standardize=True divides by each column's "
            "standard deviation. Drop those columns (they carry no cluster information)."
        )
    return center, scale


def _noise_component(lower: np.ndarray, upper: np.ndarray):
    """mclust's noise component: a constant density 1 / volume of the box [lower, upper]
    (standardised units) for every row, drawn uniformly in the box."""
    import pymc as pm
    import pytensor.tensor as pt

    log_volume = float(np.log(np.asarray(upper) - np.asarray(lower)).sum())

    def logp(value, lower, upper):
        return pt.zeros(value.shape[:-1]) - log_volume

    def random(lower, upper, rng=None, size=None):
        shape = (*(size or ()), len(lower)) if size is not None else np.shape(lower)
        return rng.uniform(lower, upper, size=shape)

    return pm.CustomDist.dist(
        np.asarray(lower, dtype=float),
        np.asarray(upper, dtype=float),
        logp=logp,
        random=random,
        signature="(d),(d)->(d)",
    )


def _label_groups(extra: dict):
    """Each row's group label for a shared-label fit (None otherwise)."""
    if "label_group_codes" not in extra:
        return None
    return np.asarray(extra["label_group_names"])[np.asarray(extra["label_group_codes"])]


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
