"""GaussianMixture: the blog's penguin model, fitted in three lines.

The estimator's public face and its hooks; its data (``_gaussian_data.py``), its PyMC model
(``_gaussian_model.py``) and its covariance types (``_covariance.py``) have modules of their
own.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from bayesmixture._registry import register_estimator
from bayesmixture._validation import check_positive_int
from bayesmixture.estimators._base import BayesianMixture, warn_renamed
from bayesmixture.estimators._covariance import check_covariance_type
from bayesmixture.estimators._gaussian_data import gaussian_fit_state, new_rows, standardisation
from bayesmixture.estimators._gaussian_model import (
    build_gaussian_model,
    inference_layout,
    scoring_spec,
)
from bayesmixture.estimators._gaussian_scoring import (
    matrix_product_scorer,
    shared_label_membership,
)
from bayesmixture.estimators._gaussian_starts import chain_starts
from bayesmixture.estimators._starts import (
    INITS,
)
from bayesmixture.estimators._state import GaussianFitState
from bayesmixture.estimators._tables import validate_table
from bayesmixture.estimators._weights import (
    check_weights_prior,
    is_dirichlet_process,
)

if TYPE_CHECKING:
    import pymc as pm


@register_estimator
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
    n_components : int, default 2
        Number of components (clusters) K.
    covariance_type : {"full", "tied", "diag", "spherical"}, default "full"
        As in scikit-learn: a full covariance per component, one shared full covariance,
        a diagonal covariance per component, or one variance per component (the table
        ``bayesmixture.estimators.COVARIANCES`` lists them, with any added). With
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
    sampler : {"auto", "compiled", "nutpie-jax", "numpyro", "pymc-numba", "nutpie", "pymc"}, \
default "auto"
        ``"auto"``: the estimator's compiled density on nutpie when it covers the fit (every
        option today), else PyMC's graph on :func:`bayesmixture.sample`'s fastest backend;
        ``"compiled"`` insists on the compiled density; the others sample PyMC's graph on
        that backend (see :func:`bayesmixture.sample`).
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
        Prior scales of the means and standard deviations, and the LKJ shape (above 1 it
        pulls correlations towards 0). With many columns and few rows per cluster, full
        covariances can leave chains in different, equally good solutions; a larger
        ``lkj_eta`` steadies them (13-D wine data, 178 rows: 2.0 failed the checks on 3 of
        3 seeds, 10.0 passed on 3 of 3), as does ``covariance_type="tied"`` or ``"diag"``.
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
        ``"noise"`` component; :meth:`predict` gives -1 for rows most probably noise
        (``"noise"`` when the classes of labelled rows are strings).
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
    labels_ : ndarray of shape (n_obs,)
        Most probable component of each training row (as :meth:`predict` gives them).
    diagnostics_ : pandas.DataFrame
        The sampling checks made when the fit ended (:meth:`diagnose`).
    converged_ : bool
        Whether every sampling check passed.

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
    _state_type = GaussianFitState
    _component_noun = "cluster"
    # the posterior's name of the components' matrices, in data units
    _matrix_name = "covariances"

    def __init__(
        self,
        n_components: int = 2,
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

    def fit(
        self,
        X,
        y=None,
        *,
        labels=None,
        groups=None,
        shared_label: bool = False,
        sample_weight=None,
    ):
        """Fit the mixture to the rows of ``X``.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_obs, n_features)
            Numeric data; column names become the ``feature`` coordinate.
        y : None
            Ignored, as by scikit-learn's clusterers. (Earlier releases read ``y`` as
            partly labelled rows: that still works, with a ``FutureWarning``; pass
            ``labels=`` instead.)
        labels : array-like of shape (n_obs,), optional
            Partly labelled rows (semi-supervised): the class of each labelled row, -1 (or
            NaN, None) for the others, as scikit-learn's semi-supervised estimators take
            them. The classes, sorted, name the first components; a labelled row contributes
            log w_k + log p_k(x) of its own class only. When every component has labelled
            rows their identity is fixed and no relabelling is needed; :meth:`predict` then
            gives the classes, in their own type. Needs at least 2 labelled rows per class,
            at most ``n_components`` classes, and classes all numbers or all strings; not
            with ``groups`` or gaps in labelled rows. With ``noise=True`` no class may be
            called ``"noise"``.
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
        >>> labels = np.where(np.arange(len(X)) % 10 == 0, penguins["species"], None)
        >>> gm = bm.GaussianMixture(3, noise=True, draws=100, tune=100, chains=2,
        ...                         random_seed=1, progressbar=False).fit(X, labels=labels)
        >>> gm.membership_["component"].values.tolist()
        ['Adelie', 'Chinstrap', 'Gentoo', 'noise']
        >>> float(np.mean(gm.predict(X) == penguins["species"])) > 0.9
        True
        """
        if y is not None:
            if labels is not None:
                raise ValueError(
                    "fit got both y and labels=; partly labelled rows are passed as labels= "
                    "(y is ignored, as by scikit-learn's clusterers)."
                )
            warn_renamed(
                "fit(X, y) with y as partly labelled rows", "fit(X, labels=y)", type(self).__name__
            )
            labels = y
        return self._fit(
            X, labels, groups=groups, shared_label=shared_label, sample_weight=sample_weight
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
            The component of each row, as :meth:`predict` names them (-1 for noise).
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
            fit = self._fit_data
            lower = fit.noise_lower * fit.scale + fit.center
            upper = fit.noise_upper * fit.scale + fit.center
            rows[~clusters] = rng.uniform(lower, upper, size=(int((~clusters).sum()), len(lower)))
        return rows, self._labels_of(labels)

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

    # ------------------------------------------------------------------ contract

    @property
    def _summary_vars(self):
        return ("weights", "group_weights", "noise_weight", "means", "sigmas")

    def _check_params(self) -> None:
        check_positive_int(self.n_components, "n_components")
        check_covariance_type(self.covariance_type)
        if self.missing not in ("error", "marginalize"):
            raise ValueError(f"missing={self.missing!r}; choose 'error' or 'marginalize'.")
        if self.init not in INITS:
            raise ValueError(f"init={self.init!r}; choose one of {INITS}.")
        for name in ("noise", "standardize", "progressbar"):
            if not isinstance(getattr(self, name), bool | np.bool_):
                raise TypeError(f"{name}={getattr(self, name)!r} must be True or False.")
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
            if (
                isinstance(value, bool | np.bool_)
                or not np.isscalar(value)
                or not np.isfinite(value)
                or value <= 0
            ):
                raise ValueError(f"{name}={value!r} must be a positive number.")
        check_weights_prior(self.weights_prior, self.n_components)

    def _validate_fit_data(
        self, X, labels, *, groups=None, shared_label=False, sample_weight=None
    ) -> GaussianFitState:
        return gaussian_fit_state(
            self,
            X,
            labels,
            groups=groups,
            shared_label=shared_label,
            sample_weight=sample_weight,
        )

    def _build_model(self, fit: GaussianFitState) -> pm.Model:
        return build_gaussian_model(self, fit)

    def _component_params(self) -> dict:
        """Variables of the components beyond means and covariances (none for Gaussians)."""
        return {}

    def _component_param_dims(self) -> dict[str, tuple[str, ...]]:
        """The dims of the variables of :meth:`_component_params`."""
        return {}

    def _inference_layout(self, fit: GaussianFitState):
        return inference_layout(self, fit)

    def _scoring_spec(self, fit: GaussianFitState):
        return scoring_spec(self, fit)

    def _component_dist(self, mu, chol, **params):
        """The components' distribution given means (K, D) and Cholesky factors."""
        import pymc as pm

        return pm.MvNormal.dist(mu, chol=chol)

    def _df_prior(self) -> tuple[float, float] | None:
        """Gamma (shape, rate) prior of Student-t degrees of freedom; None for Gaussians."""
        return None

    def _has_noise(self, fit: GaussianFitState) -> bool:
        return fit.has_noise

    def _compiled_density(self, fit: GaussianFitState):
        from bayesmixture.estimators._fast.gaussian import GaussianDensity, unsupported_reason

        reason = unsupported_reason(self, fit)
        if reason is not None:
            return f"the compiled Gaussian density does not cover {reason}"
        return GaussianDensity(self, fit)

    def _posterior_values(self, density, theta: np.ndarray, fit: GaussianFitState) -> dict:
        values = density.from_theta(theta)
        # the deterministics of _gaussian_model.report_original_units, in numpy
        chol = density.cholesky(values)
        cov = np.matmul(chol, np.swapaxes(chol, -1, -2)) * np.outer(fit.scale, fit.scale)
        values["means"] = values["mu"] * fit.scale + fit.center
        values[self._matrix_name] = cov
        values["sigmas"] = np.sqrt(np.diagonal(cov, axis1=-2, axis2=-1))
        return values

    def _initial_values(self, fit: GaussianFitState, rng: np.random.Generator) -> list[dict]:
        return chain_starts(self, fit, rng)

    def _component_param_starts(self, jitter) -> dict:
        """Starting values of the variables of :meth:`_component_params`."""
        return {}

    def _robust_start(self) -> bool:
        """Whether init="em" starts from trimmed EM (fits meant to resist outliers)."""
        return self.noise

    def _new_value(self, X, y=None, *, groups=None):
        return new_rows(self, X, groups)

    def _fast_scorer(self, spec, posterior, value: np.ndarray, data: dict, *, fit=None):
        """The matrix-product scorer when it applies (see ``_gaussian_scoring``), else None."""
        fit = self._fit_data if fit is None else fit
        return matrix_product_scorer(self, spec, posterior, value, data, fit)

    def _membership_of(self, X, y=None, *, groups=None):
        fit = getattr(self, "_fit_data", None)
        if fit is None or not fit.shared_label:
            return super()._membership_of(X, y, groups=groups)
        return shared_label_membership(self, X, y, groups)

    def score_samples(self, X, y=None, *, draws=None, **predict_params):
        fit = getattr(self, "_fit_data", None)
        if fit is not None and fit.shared_label:
            raise ValueError(
                "score_samples gives one density per row, but with shared_label=True the rows "
                "of a group are not independent; compare grouped fits with "
                "bayesmixture.compare, which scores whole groups."
            )
        return super().score_samples(X, y, draws=draws, **predict_params)

    def _training_label_indices(self) -> np.ndarray:
        labels = self.membership_["label"].values
        codes = self._fit_data.label_group_codes
        return labels if codes is None else labels[np.asarray(codes)]

    def _em_data(self, X):
        array, _ = validate_table(X)
        names = [f"x{j}" for j in range(array.shape[1])]
        center, scale = standardisation(array, names, self.standardize)
        return (array - center) / scale

    def _log_jacobian(self) -> float:
        return -float(np.log(self._fit_data.scale).sum())

    def _weight_draws(self, post) -> np.ndarray:
        if "group_weights" in post:
            return post["group_weights"].transpose("sample", ...).values.mean(axis=1)
        return post["weights"].transpose("sample", ...).values

    def _parameter_words(self) -> dict[str, str]:
        from bayesmixture.estimators._names import GAUSSIAN_WORDS

        return GAUSSIAN_WORDS
