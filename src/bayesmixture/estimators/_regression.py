"""MixtureRegression: mixtures of linear regressions, and mixtures of experts.

Each observation's response follows one of K regressions, y_i = x_ik . beta_k + e_ik with
e_ik ~ Normal(0, sigma_k). The design may be one table shared by all components, or one
table per component (the forum thread's problem: one latent vector seen through several
linear operators, ``fit([H1, H2], y)`` with ``coefficients="shared"``). Mixing weights are
constant, or depend on covariates through a softmax regression (``weights_from=``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from bayesmixture._registry import register_estimator
from bayesmixture._validation import check_positive_int
from bayesmixture.estimators._base import BayesianMixture, warn_renamed
from bayesmixture.estimators._regression_data import new_regression_rows, regression_fit_state
from bayesmixture.estimators._regression_families import (
    RESPONSE_FAMILIES,
    check_trials,
)
from bayesmixture.estimators._regression_model import GATE_PRIOR_SD, build_regression_model
from bayesmixture.estimators._starts import regression_em_start
from bayesmixture.estimators._state import RegressionFitState
from bayesmixture.estimators._weights import (
    check_weights_prior,
    is_dirichlet_process,
)

if TYPE_CHECKING:
    import pymc as pm

COEFFICIENTS = ("component", "shared")
SIGMA = ("component", "shared")
START_JITTER = 0.02


@register_estimator
class MixtureRegression(BayesianMixture):
    """Bayesian mixture of linear regressions fitted with NUTS.

    Parameters
    ----------
    n_components : int, default 2
        Number of regressions K.
    coefficients : {"component", "shared"}, default "component"
        One coefficient vector per component, or one shared by all (then components differ
        through their designs, intercepts or noise).
    fit_intercept : bool, default True
        Give every component its own intercept.
    sigma : {"component", "shared"} or float, default "component"
        The normal family's noise sd: one per component, one shared, or a known sd (in y's
        units). (``noise=``, its earlier name, still works with a ``FutureWarning``; in
        bayesmixture ``noise`` means the noise component of GaussianMixture.)
    family : {"normal", "poisson", "negbinomial", "binomial"}, default "normal"
        The components' response distribution. ``"normal"`` is linear regression;
        ``"poisson"`` and ``"negbinomial"`` (with a ``dispersion`` per component,
        Gamma(2, 0.5) prior) regress log rates, ``"binomial"`` regresses log-odds of
        ``trials`` trials; y must then hold counts and is not standardised.
    trials : int, optional
        Number of trials behind each y, for ``family="binomial"``.
    weights_from : list of str or int, optional
        Columns of X whose values set the mixing weights through a softmax regression
        (a mixture of experts); by default weights are constant.
    standardize : bool, default True
        Scale y and the columns of X (and centre them when ``fit_intercept``); coefficients
        are reported in the data's units (``coefficients``, ``intercepts``, ``sigmas``).
    coef_prior_sd, sigma_prior_sd : float, default 2.5, 1.0
        Prior sd of the (standardised) coefficients and intercepts, and HalfNormal scale of
        the (standardised) noise sd (``noise_prior_sd=``, its earlier name, still works
        with a ``FutureWarning``).
    draws, tune, chains, sampler, random_seed, progressbar
        As in :class:`bayesmixture.GaussianMixture`.
    init : {"em", "random"}, default "em"
        Start chains at an EM fit of the mixture of regressions (best of a few restarts), or
        at random perturbations of the least-squares fit.
    weights_prior : float, array-like, "sparse" or "dirichlet_process", default 1.0
        Dirichlet concentration of constant weights (``"sparse"``: 0.01 for each component,
        so that superfluous components empty out; ``"dirichlet_process"``: stick-breaking
        weights, not with ``weights_from``).

    Examples
    --------
    The forum thread's problem: which of two noisy operators produced y = H x + noise?

    >>> import numpy as np, bayesmixture as bm
    >>> d = bm.datasets.make_operator_mixture(random_seed=2)
    >>> reg = bm.MixtureRegression(2, coefficients="shared", fit_intercept=False, sigma=d.noise,
    ...                            standardize=False, draws=200, tune=200, chains=2,
    ...                            random_seed=1, progressbar=False).fit([d.H1, d.H2], d.y)
    >>> post = reg.idata_.posterior
    >>> bool(post["weights"].mean(("chain", "draw")).max() > 0.9)
    True

    Two Poisson regressions of counts on one covariate (log rates 1 + x and 3 - x):

    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=(200, 1))
    >>> z = rng.integers(0, 2, 200)
    >>> counts = rng.poisson(np.exp(np.where(z == 0, 1 + x[:, 0], 3 - x[:, 0])))
    >>> glm = bm.MixtureRegression(2, family="poisson", draws=200, tune=300, chains=2,
    ...                            random_seed=1, progressbar=False).fit(x, counts)
    >>> slopes = glm.idata_.posterior["coefficients"].mean(("chain", "draw")).values[:, 0]
    >>> bool(np.allclose(sorted(slopes), [-1.0, 1.0], atol=0.2))
    True
    """

    _mixture_name = "y"
    _state_type = RegressionFitState

    def __init__(
        self,
        n_components: int = 2,
        *,
        coefficients: str = "component",
        fit_intercept: bool = True,
        sigma="component",
        family: str = "normal",
        trials=None,
        weights_from=None,
        standardize: bool = True,
        coef_prior_sd: float = 2.5,
        sigma_prior_sd: float = 1.0,
        draws: int = 1000,
        tune: int | None = None,
        chains: int = 4,
        sampler: str = "auto",
        init: str = "em",
        weights_prior=1.0,
        random_seed=None,
        progressbar: bool = True,
        noise=None,
        noise_prior_sd=None,
    ):
        self.n_components = n_components
        self.coefficients = coefficients
        self.fit_intercept = fit_intercept
        self.sigma = sigma
        self.family = family
        self.trials = trials
        self.weights_from = weights_from
        self.standardize = standardize
        self.coef_prior_sd = coef_prior_sd
        self.sigma_prior_sd = sigma_prior_sd
        self.draws = draws
        self.tune = tune
        self.chains = chains
        self.sampler = sampler
        self.init = init
        self.weights_prior = weights_prior
        self.random_seed = random_seed
        self.progressbar = progressbar
        self.noise = noise  # earlier name of sigma (FutureWarning)
        self.noise_prior_sd = noise_prior_sd  # earlier name of sigma_prior_sd

    @property
    def _sigma(self):
        """``sigma``, or its earlier spelling ``noise`` if that was given."""
        return self.sigma if self.noise is None else self.noise

    @property
    def _sigma_prior_sd(self):
        return self.sigma_prior_sd if self.noise_prior_sd is None else self.noise_prior_sd

    def fit(self, X, y, *, labels=None):
        """Fit to the design ``X`` (one table, or a list of one table per component) and ``y``.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_obs, n_features), or a list of them
            The covariates: one table shared by every component, or one table per component
            (``n_components`` of them, of the same shape). Column names become the ``coef``
            coordinate.
        y : array-like of shape (n_obs,)
            The responses (counts for the count and binary families).
        labels : array-like of shape (n_obs,), optional
            Partly labelled rows (semi-supervised): the regression each labelled row is known
            to come from, -1 (or NaN, None) for the others, as in
            :meth:`GaussianMixture.fit`. The classes, sorted, name the first components; a
            labelled row contributes log w_k + log p_k(y | x) of its own class only (with
            ``weights_from=``, w_k is the row's own weight), and its membership is certain.
            When every component has labelled rows no relabelling is needed;
            :meth:`predict` then gives the classes, in their own type. Needs at least 2
            labelled rows per class, at most ``n_components`` classes, and classes all
            numbers or all strings.

        Returns
        -------
        self

        Examples
        --------
        Two regression lines crossing at x = 0, with a few rows labelled by their line:

        >>> import numpy as np, bayesmixture as bm
        >>> rng = np.random.default_rng(0)
        >>> x = rng.normal(size=(120, 1))
        >>> z = np.arange(120) % 2
        >>> y = np.where(z == 0, 2.0, -2.0) * x[:, 0] + rng.normal(0, 0.3, 120)
        >>> labels = np.where(np.arange(120) < 12, np.where(z == 0, "up", "down"), None)
        >>> reg = bm.MixtureRegression(2, draws=100, tune=200, chains=2, random_seed=0,
        ...                            progressbar=False).fit(x, y, labels=labels)
        >>> reg.membership_["component"].values.tolist()
        ['down', 'up']
        >>> reg.predict(np.array([[1.0], [1.0]]), np.array([2.0, -2.0])).tolist()
        ['up', 'down']
        """
        return self._fit(X, y, labels=labels)

    def predict_proba(self, X, y=None, *, draws: int | None = None):
        """Membership probabilities of rows (X, y): which regression produced each y.

        ``y`` is required: membership in a mixture of regressions is about a response given
        its covariates. ``draws`` thins the posterior for Dask input only (see the base class).
        """
        return super().predict_proba(X, y, draws=draws)

    def predict(self, X, y=None, *, draws: int | None = None):
        """Most probable regression of each row (X, y); ``y`` is required."""
        return super().predict(X, y, draws=draws)

    def score_samples(self, X, y=None, *, draws: int | None = None):
        """Posterior predictive log density of each y given its X, in y's units; ``y`` is
        required."""
        return super().score_samples(X, y, draws=draws)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = True  # fit(X, y): the responses
        return tags

    def _n_features(self, fit: RegressionFitState) -> int:
        return len(fit.names)

    # ------------------------------------------------------------------ contract

    _summary_vars = (
        "weights",
        "coefficients",
        "intercepts",
        "sigmas",
        "dispersion",
        "gate_coefficients",
    )

    def _relabel_method(self, fit: RegressionFitState) -> str | None:
        # Components with their own designs are told apart by them: nothing to relabel.
        return None if fit.per_component else "stephens"

    def _parameter_words(self) -> dict[str, str]:
        from bayesmixture.estimators._names import REGRESSION_WORDS

        return REGRESSION_WORDS

    def _check_params(self) -> None:
        check_positive_int(self.n_components, "n_components")
        check_weights_prior(self.weights_prior, self.n_components)
        if self.weights_from is not None and is_dirichlet_process(self.weights_prior):
            raise ValueError(
                "weights_prior='dirichlet_process' is a prior on constant weights; with "
                "weights_from= the weights come from the gate: drop one of the two."
            )
        if self.coefficients not in COEFFICIENTS:
            raise ValueError(f"coefficients={self.coefficients!r}; choose one of {COEFFICIENTS}.")
        for old, new in (("noise", "sigma"), ("noise_prior_sd", "sigma_prior_sd")):
            if getattr(self, old) is not None:
                warn_renamed(f"{old}=", f"{new}=", "MixtureRegression", stacklevel=5)
        sigma = self._sigma
        if isinstance(sigma, str):
            if sigma not in SIGMA:
                raise ValueError(f"sigma={sigma!r}; choose one of {SIGMA} or a positive sd.")
        elif not np.isscalar(sigma) or not np.isfinite(sigma) or sigma <= 0:
            raise ValueError(f"sigma={sigma!r} must be {SIGMA} or a positive number.")
        if self.init not in ("em", "random"):
            raise ValueError(f"init={self.init!r}; choose 'em' or 'random'.")
        if self.family not in RESPONSE_FAMILIES:
            raise ValueError(f"family={self.family!r}; choose one of {sorted(RESPONSE_FAMILIES)}.")
        check_trials(self.family, self.trials)
        if self.family != "normal" and sigma != "component":
            raise ValueError(
                f"sigma={sigma!r} is the normal family's; family={self.family!r} has "
                "no noise sd (drop sigma=)."
            )

    @property
    def _response(self):
        return RESPONSE_FAMILIES[self.family]

    @property
    def _glm(self) -> bool:
        """A count or binary family: y in its own units, a link, no noise sd."""
        return self.family != "normal"

    def _validate_fit_data(self, X, y, labels=None) -> RegressionFitState:
        return regression_fit_state(self, X, y, labels)

    def _build_model(self, fit: RegressionFitState) -> pm.Model:
        return build_regression_model(self, fit)

    def _weights_name(self, fit: RegressionFitState) -> str | None:
        return None if fit.gate else "weights"  # gated weights are no variable of their own

    def _fast_scorer(self, spec, posterior, value, data, *, fit=None):
        # numpy densities relabel and score the rows: no PyMC graph to compile
        from bayesmixture.estimators._regression_scorer import RegressionEvaluator

        fit = self._fit_data if fit is None else fit
        noise = self._sigma
        if not isinstance(noise, str):  # a fixed sd, given in y's units
            noise = float(noise) / fit.y_scale
        return RegressionEvaluator(
            spec,
            self.family,
            fit.data,
            intercept=self.fit_intercept,
            noise=noise,
            trials=self.trials,
        )

    def _compiled_density(self, fit: RegressionFitState):
        # every option of the model is covered (tests/test_fast_density_regression.py)
        from bayesmixture.estimators._fast.regression import RegressionDensity

        return RegressionDensity(self, fit, gate_prior_sd=GATE_PRIOR_SD)

    def _posterior_values(self, density, theta: np.ndarray, fit: RegressionFitState) -> dict:
        values = density.from_theta(theta)
        # the deterministics of _component_means and _noise_sd, in numpy
        K = self.n_components
        beta = values["beta"]
        batch = beta.shape[: beta.ndim - (1 if self.coefficients == "shared" else 2)]
        coef_std = np.broadcast_to(
            beta[..., None, :] if self.coefficients == "shared" else beta,
            (*batch, K, len(fit.names)),
        )
        coefficients = coef_std * fit.y_scale / fit.x_scale
        values["coefficients"] = coefficients
        if self.fit_intercept:
            values["intercepts"] = (
                fit.y_center + fit.y_scale * values["alpha"] - coefficients @ fit.x_center
            )
        if isinstance(self._sigma, str) and not self._glm:
            sigma = values["sigma"]
            sigma = sigma[..., None] if self._sigma == "shared" else sigma
            values["sigmas"] = np.broadcast_to(sigma * fit.y_scale, (*batch, K)).copy()
        return values

    def _initial_values(self, fit: RegressionFitState, rng: np.random.Generator) -> list[dict]:
        design = fit.data["X_design"]
        designs = design if fit.per_component else np.stack([design] * self.n_components)
        if self.fit_intercept:
            ones = np.ones((*designs.shape[:-1], 1))
            designs = np.concatenate([ones, designs], axis=-1)
        known_sd = None if isinstance(self._sigma, str) else float(self._sigma) / fit.y_scale
        response = self._response.start_response(np.asarray(fit.value, float), self.trials)
        start = regression_em_start(
            designs,
            response,
            shared=self.coefficients == "shared",
            random=self.init == "random",
            seed=int(rng.integers(2**31 - 1)),
            known_sd=known_sd,
            labels=None if fit.row_labels is None else np.asarray(fit.row_labels),
        )
        return [self._jittered(start, rng) for _ in range(self.chains)]

    def _jittered(self, start, rng) -> dict:
        noise = lambda shape: START_JITTER * rng.standard_normal(shape)  # noqa: E731
        coefs = start.coefficients
        if self.fit_intercept:
            intercepts, coefs = coefs[..., 0], coefs[..., 1:]
        values = {"beta": coefs + noise(coefs.shape)}
        if self.fit_intercept:
            values["alpha"] = intercepts + noise(intercepts.shape)
        if isinstance(self._sigma, str) and not self._glm:
            sd = start.sd if self._sigma == "component" else np.asarray(start.sd.mean())
            values["sigma"] = sd * np.exp(noise(np.shape(sd)))
        if self.weights_from is None:
            w = start.weights * np.exp(noise(start.weights.shape))
            values["weights"] = w / w.sum()
        return values

    def _new_value(self, X, y=None):
        return new_regression_rows(self, X, y)

    def _log_jacobian(self) -> float:
        return -float(np.log(self._fit_data.y_scale))
