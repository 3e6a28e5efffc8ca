"""What every estimator shares: fit = validate, build a PyMC model, start, sample, relabel,
membership; then predictions from the stored (relabelled) posterior, never re-sampling.

Subclasses say how to turn data into a model (``_build_model``), where chains start
(``_initial_values``), how new data reach the mixture (``_new_value``) and which variables the
summary shows. State set by ``fit`` ends in ``_`` and is assigned only once the whole fit has
succeeded, so an interrupted fit leaves the estimator as it was.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.exceptions import NotFittedError

from bayesmixture._validation import (
    as_numeric_array,
    check_positive_int,
    describe_rows,
    is_dask_collection,
)
from bayesmixture.inference import SAMPLERS, resolve_sampler

if TYPE_CHECKING:
    import arviz as az
    import pymc as pm
    import xarray as xr

    from bayesmixture.evaluation import MixtureEvaluator

# PyMC, ArviZ and xarray are imported by the methods that use them: a fit on the compiled path
# imports them while its kernel compiles in another process (bayesmixture._kernels.compiling).

COMPONENT_DIM = "component"
# Tuning draws when ``tune=None``: nutpie's adaptation on the compiled path settles in a few
# hundred draws; PyMC's NUTS wants its usual 1000 (docs/benchmarks.md, "defaults").
DEFAULT_COMPILED_TUNE = 300
DEFAULT_PYMC_TUNE = 1000
# Jitter (unconstrained scale) of chain starts around the estimator's initial solution.
START_JITTER = 0.02
RAW_POSTERIOR_GROUP = "unrelabelled_posterior"
PERMUTATION_GROUP = "label_permutation"


@dataclass
class FitData:
    """Validated training data, as the model sees it, plus what prediction needs again."""

    value: np.ndarray  # the mixture's observed array (e.g. standardised X)
    n_obs: int
    feature_names: list[str] | None = None
    data: dict = field(default_factory=dict)  # values of pm.Data containers
    extra: dict = field(default_factory=dict)  # estimator-specific (centre, scale, groups...)


class BayesianMixture(BaseEstimator):
    """Base class of the estimators; not for direct use."""

    _mixture_name = "y"

    # ------------------------------------------------------------------ contract for subclasses

    def _validate_fit_data(self, X, y, **fit_params) -> FitData:
        raise NotImplementedError

    def _build_model(self, fit: FitData) -> pm.Model:
        raise NotImplementedError

    def _initial_values(self, fit: FitData, rng: np.random.Generator) -> list[dict] | None:
        return None

    def _new_value(self, X, y=None, **predict_params) -> tuple[np.ndarray, dict]:
        """New data as the mixture sees them, and pm.Data overrides for them."""
        raise NotImplementedError

    def _log_jacobian(self) -> float:
        """log |d(model units) / d(data units)|, added to predictive log densities."""
        return 0.0

    _summary_vars: tuple[str, ...] = ()

    def _relabel_method(self, fit: FitData) -> str | None:
        """How label switching is undone; None when components are not exchangeable."""
        return "stephens"

    def _free_components(self, fit: FitData) -> np.ndarray | None:
        """Indices of the mixture's components whose labels are exchangeable (switching among
        them is undone); None for all of them. The components named by labelled rows'
        classes (the first ones) keep their labels."""
        n_classes = len(fit.extra.get("classes", ()))
        return None if n_classes == 0 else np.arange(n_classes, self.n_components)

    def _membership_components(self, posterior, fit: FitData) -> np.ndarray:
        """Coordinates of the membership's component axis."""
        return posterior[COMPONENT_DIM].values

    # ------------------------------------------------------------------ fitting

    def _check_sampling_params(self) -> None:
        check_positive_int(self.draws, "draws")
        if self.tune is not None:
            check_positive_int(self.tune, "tune", minimum=0)
        check_positive_int(self.chains, "chains")
        if self.sampler not in SAMPLERS:
            raise ValueError(
                f"sampler={self.sampler!r} is not a sampler; choose one of {SAMPLERS}."
            )
        resolve_sampler(self.sampler)

    def _fit(self, X, y=None, **fit_params):
        self._check_params()
        self._check_sampling_params()
        rng = np.random.default_rng(self.random_seed)
        fit = self._validate_fit_data(X, y, **fit_params)
        density = self._density_for_sampling(fit)
        if density is not None:
            # compile the kernel on another core while the model is built
            density.start_compiling()
        from bayesmixture.diagnostics import warn_if_unreliable
        from bayesmixture.evaluation import MixtureEvaluator

        model = self._build_model(fit)
        idata = self._draw_posterior(model, fit, rng, density)
        evaluator = self._training_evaluator(model, idata.posterior, fit)
        free = self._free_components(fit)
        # a class for every component (or noise and one cluster): no label can switch
        method = None if free is not None and len(free) < 2 else self._relabel_method(fit)
        relabelled, perms, membership = _relabel_and_assign(
            evaluator,
            idata,
            fit,
            method,
            free=free,
            component_coords=self._membership_components(idata.posterior, fit),
            known=fit.extra.get("row_labels"),
        )
        # Everything succeeded: only now does the estimator change.
        self._fit_data = fit
        # the general evaluator is kept for later use; a specialised one is not
        self._evaluator = evaluator if isinstance(evaluator, MixtureEvaluator) else None
        self.model_ = model
        self.idata_ = relabelled
        self.permutations_ = perms
        self.membership_ = membership
        self.n_features_in_ = fit.value.shape[1] if fit.value.ndim > 1 else 1
        if fit.feature_names is not None:
            self.feature_names_in_ = np.asarray(fit.feature_names, dtype=object)
        elif hasattr(self, "feature_names_in_"):
            del self.feature_names_in_
        warn_if_unreliable(self.diagnose(), owner=type(self).__name__, stacklevel=3)
        return self

    def _compiled_density(self, fit: FitData):
        """The compiled density of this fit, or the reason there is none (a str)."""
        return f"{type(self).__name__} has no compiled density"

    def _resolved_tune(self, compiled: bool) -> int:
        if self.tune is not None:
            return self.tune
        return DEFAULT_COMPILED_TUNE if compiled else DEFAULT_PYMC_TUNE

    def _density_for_sampling(self, fit: FitData):
        """The compiled density that will sample this fit, or None for PyMC's graph.

        ``sampler="auto"`` takes the compiled path whenever it exists (measured fastest,
        docs/benchmarks.md); ``sampler="compiled"`` insists on it and says why it cannot.
        """
        if self.sampler not in ("auto", "compiled"):
            return None
        density = (
            "tune=0 (nutpie's NUTS needs at least one tuning step)"
            if self._resolved_tune(True) == 0
            else self._compiled_density(fit)
        )
        if isinstance(density, str):
            if self.sampler == "compiled":
                raise ValueError(
                    f"sampler='compiled' does not cover this fit: {density}. Use "
                    "sampler='auto' (it falls back to PyMC's graph) or 'pymc'."
                )
            return None
        return density

    def _draw_posterior(self, model: pm.Model, fit: FitData, rng: np.random.Generator, density):
        """Sample the posterior: on ``density`` (compiled) if given, else on PyMC's graph."""
        from bayesmixture.inference import sample
        from bayesmixture.inference._compiled import (
            CompiledDensity,
            sample_compiled,
            to_inference_data,
        )

        initvals = self._initial_values(fit, rng)
        seed = int(rng.integers(2**31 - 1))
        if density is None:
            return sample(
                model,
                sampler=self.sampler,
                draws=self.draws,
                tune=self._resolved_tune(False),
                chains=self.chains,
                initvals=initvals,
                random_seed=seed,
                progressbar=self.progressbar,
            )
        start = density.to_theta(initvals[0]) if initvals else np.zeros(density.n_dim)
        theta, stats, seconds = sample_compiled(
            CompiledDensity(
                density.logp_cfunc, density.expand_cfunc, density.payload, density.n_dim
            ),
            lambda chain_rng: start + START_JITTER * chain_rng.standard_normal(start.shape),
            draws=self.draws,
            tune=self._resolved_tune(True),
            chains=self.chains,
            random_seed=seed,
            progressbar=self.progressbar,
            low_rank_mass_matrix=True,
        )
        values = self._posterior_values(density, theta, fit)
        return to_inference_data(model, values, stats, sampler="compiled", seconds=seconds)

    def _posterior_values(self, density, theta: np.ndarray, fit: FitData) -> dict:
        """Every posterior variable of the model, by name, from unconstrained draws."""
        return density.from_theta(theta)

    # ------------------------------------------------------------------ prediction

    def _check_fitted(self) -> None:
        if not hasattr(self, "idata_"):
            raise NotFittedError(
                f"This {type(self).__name__} is not fitted yet; call fit(...) first, or load a "
                "saved fit with bayesmixture.load(path)."
            )

    def _get_evaluator(self) -> MixtureEvaluator:
        from bayesmixture._spec import lookup
        from bayesmixture.evaluation import MixtureEvaluator

        evaluator = getattr(self, "_evaluator", None)
        if evaluator is None:
            model = self.model_
            evaluator = MixtureEvaluator(model, lookup(model, self._mixture_name))
            self._evaluator = evaluator
        return evaluator

    def _fast_scorer(self, model: pm.Model, posterior, value: np.ndarray, data: dict, *, fit=None):
        """The estimator's closed-form scorer of these rows (an ``evaluation.ArrayScorer``), or
        None where PyMC's graph must be compiled; ``fit`` defaults to the fitted data."""
        return None

    def _training_evaluator(self, model: pm.Model, posterior, fit: FitData):
        """The evaluator that relabels the draws and scores the training rows."""
        from bayesmixture._spec import lookup
        from bayesmixture.evaluation import MixtureEvaluator

        fast = self._fast_scorer(model, posterior, fit.value, {}, fit=fit)
        return (
            fast if fast is not None else MixtureEvaluator(model, lookup(model, self._mixture_name))
        )

    def _scoring_evaluator(self, value: np.ndarray, data: dict):
        """The evaluator that scores these new rows."""
        fast = self._fast_scorer(self.model_, self.idata_.posterior, value, data)
        return fast if fast is not None else self._get_evaluator()

    def _membership_of(self, X, y=None, **predict_params) -> xr.Dataset:
        from bayesmixture.evaluation import summarise

        self._check_fitted()
        value, data = self._new_value(X, y, **predict_params)
        evaluator = self._scoring_evaluator(value, data)
        return summarise(
            evaluator,
            self.idata_.posterior,
            value,
            None,
            obs_coords=np.arange(len(value)),
            component_coords=self._membership_components(self.idata_.posterior, self._fit_data),
            data=data or None,
        )

    def predict_proba(self, X, y=None, *, draws: int | None = None, **predict_params):
        """Posterior mean membership probabilities of new rows, shape (n_rows, n_components).

        Averaged over every draw of every chain of the relabelled posterior; no sampling.
        A ``dask.array.Array`` or ``dask.dataframe.DataFrame`` gives a lazy result of the same
        kind, computed block by block on the active Dask scheduler (see docs/scaling.md);
        ``draws`` then scores with that many evenly spaced posterior draws.
        """
        if is_dask_collection(X):
            return self._lazy("predict_proba_lazy", X, y, draws, predict_params)
        _no_draws_in_memory(draws)
        return self._membership_of(X, y, **predict_params)["probability"].values

    def predict(self, X, y=None, *, draws: int | None = None, **predict_params):
        """Most probable component of each row, shape (n_rows,); lazy for Dask input.

        Components are numbered 0..K-1; a fit with labelled rows gives the components'
        names (its classes).
        """
        if is_dask_collection(X):
            index = self._lazy("predict_lazy", X, y, draws, predict_params)
        else:
            index = self.predict_proba(X, y, draws=draws, **predict_params).argmax(axis=1)
        return self._labels_of(index)

    def fit_predict(self, X, y=None, **fit_params) -> np.ndarray:
        """Fit, then return the most probable component of each training row."""
        return self._labels_of(self.fit(X, y, **fit_params).membership_["label"].values)

    def _labels_of(self, index):
        """Component indices as :meth:`predict` gives them: names for a fit with classes."""
        if "classes" not in self._fit_data.extra:
            return index
        names = self._membership_components(self.idata_.posterior, self._fit_data)
        if hasattr(index, "map_blocks"):  # a lazy Dask result
            return index.map_blocks(names.__getitem__, dtype=names.dtype)
        return names[index]

    def score_samples(self, X, y=None, *, draws: int | None = None, **predict_params):
        """Posterior predictive log density of each row, in the data's own units.

        Lazy (a Dask array or Series) for Dask input, as :meth:`predict_proba`.
        """
        if is_dask_collection(X):
            return self._lazy("score_samples_lazy", X, y, draws, predict_params)
        from bayesmixture.evaluation import predictive_log_density

        _no_draws_in_memory(draws)
        self._check_fitted()
        value, data = self._new_value(X, y, **predict_params)
        log_density = predictive_log_density(
            self._scoring_evaluator(value, data), self.idata_.posterior, value, data=data or None
        )
        return log_density + self._log_jacobian()

    def _lazy(self, function: str, X, y, draws, predict_params):
        if y is not None or predict_params:
            raise ValueError(
                f"{type(self).__name__} scores Dask collections of rows only; y and "
                f"{sorted(predict_params)} are not taken with Dask input. Score in-memory "
                "chunks instead."
            )
        from bayesmixture import _dask

        return getattr(_dask, function)(self, X, draws=draws)

    def score(self, X, y=None, **predict_params) -> float:
        """Mean posterior predictive log density of the rows (higher is better)."""
        return float(np.mean(self.score_samples(X, y, **predict_params)))

    def summary(self, *, hdi_prob: float = 0.94) -> pd.DataFrame:
        """Posterior summary (mean, sd, HDI, R-hat, ESS) of the reported parameters.

        Computed on the relabelled posterior, so every row is label-consistent; values are
        in the data's original units.
        """
        import arviz as az

        self._check_fitted()
        names = [name for name in self._summary_vars if name in self.idata_.posterior]
        return az.summary(self.idata_, var_names=names, hdi_prob=hdi_prob)

    def diagnose(self) -> pd.DataFrame:
        """Sampling checks of this fit, one row per check, each with one sentence of advice.

        Divergences, R-hat and bulk/tail ESS of the relabelled posterior, chains that still
        disagree after relabelling, collapsed components and the label switching that was
        fixed (see :func:`bayesmixture.diagnose`). ``fit`` issues one
        :class:`~bayesmixture.exceptions.ConvergenceWarning` listing the failed checks.

        Returns
        -------
        pandas.DataFrame
            Columns ``check``, ``status`` ("ok" or "warning"), ``value``, ``detail``,
            ``advice``.

        Examples
        --------
        >>> import warnings, numpy as np, bayesmixture as bm
        >>> rng = np.random.default_rng(0)
        >>> y = np.r_[np.full(30, -4.0), np.full(30, 4.0)] + rng.normal(size=60)
        >>> mix = bm.Mixture("normal", 2, draws=50, tune=50, chains=2, random_seed=0,
        ...                  progressbar=False)
        >>> with warnings.catch_warnings(record=True) as caught:
        ...     warnings.simplefilter("always", bm.exceptions.ConvergenceWarning)
        ...     _ = mix.fit(y)  # 100 draws in all: too few for an ESS of 400
        >>> table = mix.diagnose().set_index("check")
        >>> table.loc[["ess_bulk", "collapsed_components"], "status"].tolist()
        ['warning', 'ok']
        >>> [w.category.__name__ for w in caught if "sampling checks" in str(w.message)]
        ['ConvergenceWarning']
        """
        from bayesmixture.diagnostics import diagnose

        return diagnose(self)

    # ------------------------------------------------------------------ choosing K

    def select(self, X, y=None, *, n_components=range(1, 7), method="loo", client=None, **fit):
        """Fit this estimator for each number of components and choose among them.

        See :func:`bayesmixture.select`; this estimator's parameters are the template.

        Returns
        -------
        SelectionResult
        """
        from bayesmixture.selection import select

        return select(self, X, y, n_components=n_components, method=method, client=client, **fit)

    def n_components_posterior(self, *, random_seed=None):
        """Posterior of the number of non-empty components (see ``weights_prior="sparse"``)."""
        from bayesmixture.selection import n_components_posterior

        self._check_fitted()
        return n_components_posterior(self, random_seed=random_seed)

    def _em_data(self, X):
        raise ValueError(
            f"method='bic' screens Gaussian mixtures by EM; {type(self).__name__} with these "
            "settings has no EM equivalent: use method='loo'."
        )

    # ------------------------------------------------------------------ persistence

    def save(self, path):
        """Save the fit to one netCDF file (atomically); reload with :func:`bayesmixture.load`."""
        from bayesmixture.io import save

        return save(self, path)

    # Keys of FitData.extra that are arrays (stored as lists in the saved spec).
    _extra_arrays: tuple[str, ...] = ()

    def _fit_state(self) -> dict:
        fit = self._fit_data
        return {
            "n_obs": fit.n_obs,
            "feature_names": fit.feature_names,
            "data_names": sorted(fit.data),
            "extra": fit.extra,
        }

    def _restore(self, idata: az.InferenceData, membership: xr.Dataset, state: dict) -> None:
        extra = dict(state["extra"])
        for key in self._extra_arrays:
            if key in extra:
                extra[key] = np.asarray(extra[key])
        value = np.asarray(idata.observed_data[self._mixture_name].values)
        if "missing_entries" in extra:  # PyMC stores them as 0; the mixture needs NaN
            value = value.astype(float)
            rows, cols = np.asarray(extra["missing_entries"], dtype=np.intp).reshape(-1, 2).T
            value[rows, cols] = np.nan
        fit = FitData(
            value=value,
            n_obs=state["n_obs"],
            feature_names=state["feature_names"],
            data={
                name: np.asarray(idata.constant_data[name].values) for name in state["data_names"]
            },
            extra=extra,
        )
        self._fit_data = fit
        self.model_ = self._build_model(fit)
        self.idata_ = idata
        self.permutations_ = idata[PERMUTATION_GROUP]["permutation"]
        self.membership_ = membership
        self.n_features_in_ = fit.value.shape[1] if fit.value.ndim > 1 else 1
        if fit.feature_names is not None:
            self.feature_names_in_ = np.asarray(fit.feature_names, dtype=object)

    # ------------------------------------------------------------------ pickling

    def __getstate__(self):
        state = self.__dict__.copy()
        state.pop("_evaluator", None)  # compiled functions are rebuilt on demand
        # PyMC models hold closures that the standard pickle cannot store; the model is
        # rebuilt from the validated data on unpickling, as bayesmixture.load does.
        state.pop("model_", None)
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        if "_fit_data" in state and "idata_" in state:
            self.model_ = self._build_model(self._fit_data)


def _no_draws_in_memory(draws) -> None:
    if draws is not None:
        raise ValueError(
            "draws= thins the posterior for Dask input only; in memory every draw is used. "
            "Pass a dask array (dask.array.from_array(X)) or leave draws unset."
        )


def _relabel_and_assign(
    evaluator: MixtureEvaluator,
    idata: az.InferenceData,
    fit: FitData,
    method: str | None,
    *,
    free: np.ndarray | None = None,
    component_coords=None,
    known: np.ndarray | None = None,
):
    """Undo label switching, then the training rows' membership from every draw.

    ``free``: the components whose labels may switch (the others keep theirs); permutations
    cover the mixture's components, and the posterior's component axis (the first of them,
    when a noise component follows) is permuted with them. ``known``: each row's known
    component (-1 when unlabelled); a labelled row's membership is its component, certainly.
    """
    import xarray as xr

    from bayesmixture.evaluation import summarise
    from bayesmixture.relabelling import find_permutations, permute_posterior

    posterior = idata.posterior
    n_chains, n_draws = posterior.sizes["chain"], posterior.sizes["draw"]
    if method is None:
        perms = np.tile(np.arange(evaluator.spec.n_components), (n_chains * n_draws, 1))
    else:
        perms = find_permutations(evaluator, posterior, method, free=free)
    spec = evaluator.spec
    weights_name = spec.weights.name if spec.weights.name in posterior else None
    n_posterior = posterior.sizes[COMPONENT_DIM]
    relabelled = permute_posterior(idata, perms[:, :n_posterior], weights_name=weights_name)
    membership = summarise(
        evaluator,
        relabelled.posterior,
        fit.value,
        None,
        obs_coords=np.arange(fit.n_obs) if spec.groups is None else spec.group_names,
        component_coords=(
            posterior[COMPONENT_DIM].values if component_coords is None else component_coords
        ),
        groups=spec.groups,
        case_weights=spec.case_weights,
    )
    if known is not None:
        membership = _with_known_components(membership, np.asarray(known))
    if method is None and known is not None:
        relabelled.posterior.attrs["component_identity"] = "fixed by labelled rows"
    permutations = xr.DataArray(
        perms[:, :n_posterior].reshape(n_chains, n_draws, -1),
        dims=("chain", "draw", COMPONENT_DIM),
        coords={"chain": posterior["chain"].values, "draw": posterior["draw"].values},
        name="permutation",
    )
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*not defined in the InferenceData scheme")
        relabelled.add_groups(
            {RAW_POSTERIOR_GROUP: posterior, PERMUTATION_GROUP: permutations.to_dataset()}
        )
    return relabelled, permutations, membership


def _with_known_components(membership: xr.Dataset, known: np.ndarray) -> xr.Dataset:
    """Membership with labelled rows (``known`` >= 0) set to their component, certainly."""
    rows = np.flatnonzero(known >= 0)
    probability = membership["probability"].values.copy()
    probability[rows] = 0.0
    probability[rows, known[rows]] = 1.0
    sd = membership["probability_sd"].values.copy()
    sd[rows] = 0.0
    return membership.assign(
        probability=(membership["probability"].dims, probability),
        probability_sd=(membership["probability_sd"].dims, sd),
        label=(membership["label"].dims, probability.argmax(axis=1)),
        uncertainty=(membership["uncertainty"].dims, 1.0 - probability.max(axis=1)),
    )


def validate_table(
    X, arg: str = "X", *, allow_nan: bool = False
) -> tuple[np.ndarray, list[str] | None]:
    """A 2-D float array from an array-like or DataFrame, and the column names if any.

    With ``allow_nan``, missing entries are kept, but rows with nothing observed are refused.
    """
    from scipy import sparse

    names = None
    if sparse.issparse(X):
        raise TypeError(
            f"{arg} is a scipy sparse matrix; sparse input is not supported. Pass a dense "
            f"array ({arg}.toarray())."
        )
    if isinstance(X, pd.DataFrame):
        names = [str(c) for c in X.columns]
        duplicated = sorted({c for c in names if names.count(c) > 1})
        if duplicated:
            raise ValueError(
                f"{arg} has duplicated column names {duplicated}; give every column its own name."
            )
    array = as_numeric_array(X, arg, allow_nan=allow_nan).astype(float)
    if array.ndim == 1:
        raise ValueError(
            f"{arg} is 1-D (shape {array.shape}); pass a 2-D table of shape (n_obs, n_features). "
            f"Reshape your data with {arg}.reshape(-1, 1) for a single feature."
        )
    if array.ndim != 2:
        raise ValueError(f"{arg} has {array.ndim} dimensions; expected 2 (n_obs, n_features).")
    if allow_nan:
        empty = np.flatnonzero(np.isnan(array).all(axis=1))
        if empty.size:
            raise ValueError(
                f"{arg} has no observed entries in {describe_rows(empty)}; such rows carry no "
                "information: drop them."
            )
    return array, names
