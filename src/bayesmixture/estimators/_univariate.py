"""Mixture: one-dimensional mixtures of any of nine families, or a list of families."""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from bayesmixture._registry import register_estimator
from bayesmixture._validation import as_numeric_array, check_positive_int, describe_rows
from bayesmixture.estimators._base import BayesianMixture
from bayesmixture.estimators._families import COUNT, FAMILIES, POSITIVE, UNIT, DataScale
from bayesmixture.estimators._labels import class_codes, component_names
from bayesmixture.estimators._state import MixtureFitState
from bayesmixture.estimators._weights import (
    check_weights_prior,
    is_dirichlet_process,
    weights_variable,
)
from bayesmixture.exceptions import DataWarning

if TYPE_CHECKING:
    import pymc as pm

INITS = ("kmeans", "random")
START_JITTER = 0.02


@register_estimator
class Mixture(BayesianMixture):
    """Bayesian mixture of one-dimensional distributions, fitted with NUTS.

    Parameters
    ----------
    family : str or list of str, default "normal"
        One of ``"normal"``, ``"studentt"``, ``"lognormal"``, ``"gamma"``, ``"exponential"``,
        ``"beta"``, ``"poisson"``, ``"negbinomial"``, ``"binomial"`` (or a family added with
        :func:`bayesmixture.estimators.register_family`); or one family per
        component (then ``n_components`` is the length of the list, and components of
        different families are not relabelled: their families tell them apart).
    n_components : int, default 2
        Number of components K.
    trials : int or array-like of shape (n_obs,), optional
        Number of trials of the ``"binomial"`` family (required for it).
    draws, tune, chains, sampler, random_seed, progressbar
        As in :class:`bayesmixture.GaussianMixture`.
    init : {"kmeans", "random"}, default "kmeans"
        Start each component at the moments of one k-means cluster of y (sorted by centre),
        or of randomly chosen points.
    weights_prior : float, array-like, "sparse" or "dirichlet_process", default 1.0
        Dirichlet concentration of the weights; ``"sparse"`` is Dirichlet(0.01, ...) and
        ``"dirichlet_process"`` stick-breaking weights truncated at ``n_components`` with a
        Gamma(1, 1) concentration (see :class:`GaussianMixture`).

    Notes
    -----
    Default priors scale with the data: for a normal component, mean Normal(mean(y),
    2.5 sd(y)) and sd HalfNormal(2.5 sd(y)); for counts, a LogNormal(log(mean(y) + 0.5), 1.5)
    mean; Gamma(2, 0.1) for Student-t degrees of freedom and Beta concentrations, Gamma(2, 0.5)
    for gamma shapes and negative-binomial dispersions (see ``_families.py``).

    Examples
    --------
    >>> import numpy as np, bayesmixture as bm
    >>> rng = np.random.default_rng(0)
    >>> y = np.r_[rng.poisson(2, 150), rng.poisson(15, 150)]
    >>> mix = bm.Mixture("poisson", 2, draws=100, tune=100, chains=2, random_seed=0,
    ...                  progressbar=False).fit(y)
    >>> rates = np.sort(mix.idata_.posterior["mu"].mean(("chain", "draw")).values)
    >>> bool(np.allclose(rates, [2, 15], atol=1))
    True
    """

    _mixture_name = "y"
    _state_type = MixtureFitState

    def __init__(
        self,
        family="normal",
        n_components: int = 2,
        *,
        trials=None,
        draws: int = 1000,
        tune: int | None = None,
        chains: int = 4,
        sampler: str = "auto",
        init: str = "kmeans",
        weights_prior=1.0,
        random_seed=None,
        progressbar: bool = True,
    ):
        self.family = family
        self.n_components = n_components
        self.trials = trials
        self.draws = draws
        self.tune = tune
        self.chains = chains
        self.sampler = sampler
        self.init = init
        self.weights_prior = weights_prior
        self.random_seed = random_seed
        self.progressbar = progressbar

    def fit(self, y, X=None, *, labels=None):
        """Fit the mixture to the values ``y`` (1-D array, Series or one-column table).

        Parameters
        ----------
        y : array-like of shape (n_obs,)
            The values.
        X : ignored
            Present for scikit-learn pipelines.
        labels : array-like of shape (n_obs,), optional
            Partly labelled values (semi-supervised): the class of each labelled value, -1
            (or NaN, None) for the others. As in :meth:`GaussianMixture.fit`, the classes
            (sorted) name the first components and a labelled value contributes
            log w_k + log p_k(y) of its own class only; :meth:`predict` then gives class
            names. At least 2 labelled values per class, at most ``n_components`` classes.

        Returns
        -------
        self

        Examples
        --------
        >>> import numpy as np, bayesmixture as bm
        >>> rng = np.random.default_rng(0)
        >>> y = np.r_[rng.normal(-2, 1, 100), rng.normal(2, 1, 100)]
        >>> labels = np.full(200, -1, dtype=object)
        >>> labels[:5], labels[100:105] = "low", "high"
        >>> mix = bm.Mixture("normal", 2, draws=100, tune=100, chains=2, random_seed=0,
        ...                  progressbar=False).fit(y, labels=labels)
        >>> mix.predict(np.array([-3.0, 3.0])).tolist()
        ['low', 'high']
        """
        return self._fit(y, None, labels=labels)

    def __sklearn_tags__(self):
        # one variable: scikit-learn's checks of 2-D input do not apply
        tags = super().__sklearn_tags__()
        tags.input_tags.one_d_array = True
        tags.input_tags.two_d_array = False
        return tags

    # ------------------------------------------------------------------ contract

    @property
    def _families(self) -> list[str]:
        if isinstance(self.family, str):
            return [self.family] * self.n_components
        return list(self.family)

    @property
    def _homogeneous(self) -> bool:
        return isinstance(self.family, str)

    @property
    def _summary_vars(self):
        # the model's free variables are its whole posterior (it has no deterministics)
        return tuple(self.idata_.posterior.data_vars)

    def _parameter_words(self) -> dict[str, str]:
        from bayesmixture.estimators._names import MIXTURE_WORDS

        return MIXTURE_WORDS

    def _relabel_method(self, fit: MixtureFitState) -> str | None:
        return "stephens" if self._homogeneous or len(set(self.family)) == 1 else None

    def _check_params(self) -> None:
        families = [self.family] if isinstance(self.family, str) else self.family
        if isinstance(self.family, str):
            check_positive_int(self.n_components, "n_components")
        elif not isinstance(self.family, list | tuple) or not self.family:
            raise TypeError(f"family={self.family!r} must be a family name or a list of them.")
        elif self.n_components != len(self.family):
            raise ValueError(
                f"family lists {len(self.family)} families but n_components="
                f"{self.n_components}; give one family per component."
            )
        unknown = [f for f in families if f not in FAMILIES]
        if unknown:
            raise ValueError(f"family {unknown} is not known; choose from {sorted(FAMILIES)}.")
        with_trials = [f for f in families if FAMILIES[f].trials]
        if with_trials and self.trials is None:
            raise ValueError(
                f"family {with_trials[0]!r} needs trials= (the number of trials per row)."
            )
        if self.init not in INITS:
            raise ValueError(f"init={self.init!r}; choose one of {INITS}.")
        check_weights_prior(self.weights_prior, self.n_components)

    def _validate_fit_data(self, y, X=None, labels=None) -> MixtureFitState:
        values = _as_vector(y, "y")
        n_obs = len(values)
        if self.n_components > n_obs:
            raise ValueError(
                f"n_components={self.n_components} is larger than the number of values of y "
                f"({n_obs}); pass a smaller n_components or more data."
            )
        trials = self._check_trials(self.trials, n_obs, "trials")
        self._check_support(values, trials, y)
        codes = classes = None
        if labels is not None:
            codes, classes = class_codes(labels, n_obs, self.n_components)
        data = {"trials": trials} if trials is not None and np.ndim(trials) else {}
        return MixtureFitState(
            value=values,
            n_obs=n_obs,
            feature_names=_feature_name(y),
            data=data,
            row_labels=codes,
            classes=classes,
            trials=trials,
        )

    def _build_model(self, fit: MixtureFitState) -> pm.Model:
        import pymc as pm

        from bayesmixture.likelihood import mixture

        K = self.n_components
        scale = DataScale.of(fit.value)
        names = np.arange(K) if fit.classes is None else component_names(fit.classes, K)
        coords = {"component": names, "obs": np.arange(fit.n_obs)}
        with pm.Model(coords=coords) as model:
            y_data = pm.Data("y_data", fit.value, dims="obs")
            trials = fit.trials
            if trials is not None and np.ndim(trials):
                trials = pm.Data("trials", trials, dims="obs")
            weights = weights_variable(self.weights_prior, K)
            if self._homogeneous:
                family = FAMILIES[self.family]
                params = family.priors(scale, "component")
                components = family.dist(**params, **_trials_arg(family, trials, batched=True))
            else:
                components = []
                for k, name in enumerate(self._families):
                    family = FAMILIES[name]
                    params = family.priors(scale, None, prefix=f"c{k}_")
                    components.append(
                        family.dist(**params, **_trials_arg(family, trials, batched=False))
                    )
            mixture("y", weights, components, y_data, dims="obs", known=fit.row_labels)
        return model

    def _compiled_density(self, fit: MixtureFitState):
        from bayesmixture.estimators._fast.univariate import (
            UnivariateDensity,
            unsupported_reason,
        )

        reason = unsupported_reason(self._families, fit.value, fit.trials)
        if reason is not None:
            return f"the compiled univariate density does not cover {reason}"
        # the model has no deterministics: the free variables are the whole posterior
        return UnivariateDensity(self, fit)

    def _inference_layout(self, fit: MixtureFitState):
        """The dims, coords and data ``pm.sample`` records from :meth:`_build_model`'s model,
        without building it (a test holds the two equal)."""
        from bayesmixture.inference._compiled import InferenceLayout, pymc_coords, pymc_data

        K = self.n_components
        names = np.arange(K) if fit.classes is None else component_names(fit.classes, K)
        dims = {"weights": ("component",), "y": ("obs",), "y_data": ("obs",)}
        if is_dirichlet_process(self.weights_prior):
            dims["concentration"] = ()
        scale = DataScale.of(fit.value)
        for k, name in enumerate(self._families):
            for param in FAMILIES[name].prior_specs(scale):
                if self._homogeneous:
                    dims[param] = ("component",)
                else:
                    dims[f"c{k}_{param}"] = ()
        observed, constant = pymc_data(fit.value), {}
        if all(FAMILIES[name].support == COUNT for name in self._families):
            # integer components: the observed value is the data cast to int64, a variable of
            # its own, so the data container counts as constant data
            observed, constant["y_data"] = observed.astype(np.int64), observed
        if fit.trials is not None and np.ndim(fit.trials):
            dims["trials"] = ("obs",)
            constant["trials"] = pymc_data(fit.trials)
        return InferenceLayout(
            coords=pymc_coords({"component": names, "obs": np.arange(fit.n_obs)}),
            dims=dims,
            observed={"y": observed},
            constant=constant,
        )

    def _fast_scorer(self, spec, posterior, value, data, *, fit=None):
        # scipy's densities relabel and score the rows: no PyMC graph to compile
        from bayesmixture.estimators._univariate_scorer import UnivariateEvaluator

        fit = self._fit_data if fit is None else fit
        scale = DataScale.of(fit.value)
        parameters = [  # each family parameter's posterior variable
            {
                param: param if self._homogeneous else f"c{k}_{param}"
                for param in FAMILIES[name].prior_specs(scale)
            }
            for k, name in enumerate(self._families)
        ]
        return UnivariateEvaluator(
            spec,
            self._families,
            parameters,
            trials=fit.trials,
        )

    def _initial_values(self, fit: MixtureFitState, rng: np.random.Generator) -> list[dict]:
        codes = fit.row_labels
        groups = self._start_groups(fit.value, rng, None if codes is None else np.asarray(codes))
        trials = fit.trials
        mean_trials = float(np.mean(trials)) if trials is not None else 1.0
        starts = []
        for k, name in enumerate(self._families):
            family = FAMILIES[name]
            args = {"trials": mean_trials} if family.trials else {}
            starts.append(family.start(groups[k], **args))
        weights = np.array([max(len(g), 1) for g in groups], dtype=float)
        weights /= weights.sum()
        return [self._jittered(starts, weights, rng) for _ in range(self.chains)]

    def _start_groups(self, y, rng, codes=None) -> list[np.ndarray]:
        """The values each component starts from: its class's labelled values (partly
        labelled fits), then groups around k-means (or random) centres for the others."""
        n_classes = 0 if codes is None else int(codes.max()) + 1
        named = [y[codes == k] for k in range(n_classes)]
        n_free = self.n_components - n_classes
        if n_free == 0:
            return named
        rest = y if codes is None or (codes < 0).sum() < n_free else y[codes < 0]
        if self.init == "random":
            centres = np.sort(rng.choice(rest, size=n_free, replace=len(rest) < n_free))
        else:
            seed = int(rng.integers(2**31 - 1))
            from sklearn.cluster import KMeans

            km = KMeans(n_free, n_init=3, random_state=seed).fit(rest.reshape(-1, 1))
            centres = np.sort(km.cluster_centers_.ravel())
        labels = np.argmin(np.abs(rest[:, None] - centres[None]), axis=1)
        return named + [rest[labels == k] if np.any(labels == k) else rest for k in range(n_free)]

    def _jittered(self, starts: list[dict], weights, rng) -> dict:
        factor = lambda: np.exp(START_JITTER * rng.standard_normal())  # noqa: E731
        w = weights * np.exp(START_JITTER * rng.standard_normal(len(weights)))
        values = {"weights": w / w.sum()}
        if self._homogeneous:
            for param in starts[0]:
                values[param] = np.array([_jitter(s[param], param, factor) for s in starts])
        else:
            for k, start in enumerate(starts):
                for param, value in start.items():
                    values[f"c{k}_{param}"] = np.asarray(_jitter(value, param, factor))
        return values

    def _em_data(self, X):
        if self.family != "normal":
            return super()._em_data(X)
        return _as_vector(X, "y").reshape(-1, 1)

    def _new_value(self, y, X=None, *, trials=None):
        values = _as_vector(y, "y")
        data = {}
        if "trials" in self._fit_data.data:
            if trials is None:
                raise ValueError("this mixture was fitted with per-row trials; pass trials= too.")
            data["trials"] = self._check_trials(trials, len(values), "trials")
        return values, data

    # ------------------------------------------------------------------ checks

    @staticmethod
    def _check_trials(trials, n_obs: int, arg: str):
        if trials is None:
            return None
        values = as_numeric_array(trials, arg)
        if values.ndim == 0:
            if values < 1 or values != np.round(values):
                raise ValueError(f"{arg}={trials!r} must be a positive whole number.")
            return int(values)
        if values.shape != (n_obs,):
            raise ValueError(
                f"{arg} has shape {values.shape}; expected one count per row ({n_obs},)."
            )
        bad = np.flatnonzero((values < 1) | (values != np.round(values)))
        if bad.size:
            raise ValueError(f"{arg} must be positive whole numbers; see {describe_rows(bad)}.")
        return values.astype(np.int64)

    def _check_support(self, values: np.ndarray, trials, raw) -> None:
        """Every value must lie in the support of some component's family."""
        problems = {name: _support_problem(name, values, trials) for name in set(self._families)}
        if self._homogeneous:
            problem = problems[self.family]
            if problem is not None:
                raise ValueError(problem[1])
        else:
            masks = [p[0] for p in problems.values() if p is not None]
            if len(masks) == len(problems):
                bad = np.flatnonzero(np.logical_and.reduce(masks))
                if bad.size:
                    raise ValueError(
                        f"y in {describe_rows(bad)} lies outside the support of every family "
                        f"{sorted(problems)}; no component can produce it."
                    )
        continuous = all(FAMILIES[name].support != COUNT for name in self._families)
        if continuous and np.issubdtype(np.asarray(raw).dtype, np.integer):
            warnings.warn(
                f"y has an integer dtype but families {sorted(problems)} are continuous; if y "
                "are counts, use 'poisson' or 'negbinomial'.",
                DataWarning,
                stacklevel=4,
            )


def _support_problem(name: str, values: np.ndarray, trials):
    """(rows outside the family's support, message), or None when all are inside."""
    support = FAMILIES[name].support
    checks = []
    if support == COUNT:
        checks = [
            (
                values != np.round(values),
                "non-integer values",
                "it models counts: pass whole numbers",
            ),
            (values < 0, "negative values", "counts must be >= 0"),
        ]
        if trials is not None:
            checks.append((values > trials, "values above trials", "y counts successes"))
    elif support == POSITIVE:
        checks = [(values <= 0, "values <= 0", "it needs y > 0")]
    elif support == UNIT:
        checks = [
            (
                (values <= 0) | (values >= 1),
                "values outside (0, 1)",
                "it needs 0 < y < 1 (squeeze exact 0s and 1s into the interval first)",
            )
        ]
    outside = np.zeros(len(values), dtype=bool)
    message = None
    for mask, what, advice in checks:
        if mask.any() and message is None:
            rows = describe_rows(np.flatnonzero(mask))
            message = f"y has {what} in {rows}; family {name!r}: {advice}."
        outside |= mask
    return None if message is None else (outside, message)


def _trials_arg(family, trials, *, batched: bool) -> dict:
    """Trials of a family with trials; per-row trials get a component axis when batched."""
    from pytensor.tensor.variable import TensorVariable

    if not family.trials:
        return {}
    if batched and isinstance(trials, TensorVariable):
        return {"trials": trials[:, None]}
    return {"trials": trials}


def _jitter(value, param: str, factor):
    """Multiplicative jitter (keeps signs and positivity); probabilities stay inside (0, 1)."""
    jittered = value * factor()
    return min(max(jittered, 1e-6), 1 - 1e-6) if param == "p" else jittered


def _feature_name(y) -> list[str] | None:
    """The column's name when y is a one-column DataFrame."""
    return [str(y.columns[0])] if isinstance(y, pd.DataFrame) else None


def _as_vector(y, arg: str) -> np.ndarray:
    if isinstance(y, pd.DataFrame):
        if y.shape[1] != 1:
            raise ValueError(
                f"{arg} has {y.shape[1]} columns; Mixture models one variable: pass one column "
                "(use GaussianMixture for several)."
            )
        y = y.iloc[:, 0]
    values = as_numeric_array(y, arg).astype(float)
    if values.ndim == 2 and values.shape[1] == 1:
        values = values[:, 0]
    if values.ndim != 1:
        raise ValueError(
            f"{arg} has shape {values.shape}; Mixture models one variable: pass a 1-D array."
        )
    return values
