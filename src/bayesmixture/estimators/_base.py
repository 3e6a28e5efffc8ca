"""What every estimator shares: fit = validate, start, sample (on a compiled kernel, or on
the PyMC model's graph), relabel, membership, diagnose; then predictions from the stored
(relabelled) posterior, never re-sampling.

Subclasses write the hooks declared abstract here (a missing one fails when the class is
created, not in the middle of a fit): how parameters are checked (``_check_params``), how
data become a typed fit state (``_validate_fit_data``), how that state becomes a PyMC model
(``_build_model``) and how new rows reach the mixture (``_new_value``). State set by ``fit``
ends in ``_`` and is assigned only once the whole fit has succeeded, so an interrupted fit
leaves the estimator as it was.

A fit on a compiled kernel builds no PyMC model (nor imports PyMC) when the estimator names
its posterior itself (``_inference_layout``) and scores its rows in closed form
(``_fast_scorer``, which reads an ``ArraySpec`` of the fit state): ``model_``, the
reference, is then built when first asked for, as after ``bayesmixture.load``.
"""

from __future__ import annotations

import time
import warnings
from abc import ABCMeta, abstractmethod
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.exceptions import NotFittedError

from bayesmixture._spec import ArraySpec
from bayesmixture._validation import check_positive_int
from bayesmixture.estimators._posterior_steps import (
    COMPONENT_DIM,
    FIT_SECONDS,
    PERMUTATION_GROUP,
    TUNE_USED,
    draw_posterior,
    relabel_and_assign,
)
from bayesmixture.estimators._predicting import PredictionMixin
from bayesmixture.estimators._reporting import SummaryMixin
from bayesmixture.estimators._state import NOISE, FitState
from bayesmixture.evaluation import ArrayScorer
from bayesmixture.inference import SAMPLERS, resolve_sampler

if TYPE_CHECKING:
    import arviz as az
    import pymc as pm
    import xarray as xr

    from bayesmixture.inference._compiled import InferenceLayout

# PyMC, ArviZ and xarray are imported by the methods that use them: a fit on the compiled path
# imports ArviZ (with nutpie) while its kernel compiles in another process
# (bayesmixture._kernels.compiling), and PyMC only when something needs the model.

# Tuning draws when ``tune=None``. On the compiled path nutpie's adaptation settles in a few
# hundred draws for small models (penguins, 44 parameters: 300 gave min ESS >= 976 over 5
# seeds, docs/benchmarks.md "defaults"), but a 13-D full-covariance fit (273 parameters) needs
# ~800 (300: R-hat 1.04 and tail ESS 18; 600: tail ESS 417-828; 1000: ESS > 2400): so three
# tuning steps per parameter, from 300 to 1000. PyMC's NUTS wants its usual 1000.
DEFAULT_COMPILED_TUNE = 300
MAX_COMPILED_TUNE = 1000
TUNE_PER_PARAMETER = 3
DEFAULT_PYMC_TUNE = 1000
# scikit-learn's names of arguments that are spelt differently here, and how.
SKLEARN_SPELLINGS = {"random_state": "random_seed"}


class BayesianMixture(PredictionMixin, SummaryMixin, BaseEstimator, metaclass=ABCMeta):
    """Base class of the estimators; not for direct use."""

    _mixture_name = "y"
    # the fit state's class (saved and loaded by walking its fields)
    _state_type: type[FitState] = FitState
    # what a component is called in messages and tables ("cluster" for GaussianMixture)
    _component_noun = "component"

    def __new__(cls, *args, **kwargs):
        for theirs, ours in SKLEARN_SPELLINGS.items():
            if theirs in kwargs:
                raise TypeError(
                    f"{cls.__name__} takes {ours}= (PyMC's name), not {theirs}= "
                    f"(scikit-learn's); pass {ours}={kwargs[theirs]!r}."
                )
        return super().__new__(cls)

    def set_params(self, **params):
        for theirs, ours in SKLEARN_SPELLINGS.items():
            if theirs in params:
                raise ValueError(
                    f"{type(self).__name__} takes {ours}= (PyMC's name), not {theirs}=; "
                    f"use set_params({ours}=...)."
                )
        return super().set_params(**params)

    # ------------------------------------------------------------------ hooks of subclasses

    @abstractmethod
    def fit(self, *args, **kwargs):
        """Fit the mixture; subclasses document their data arguments and call ``_fit``."""

    @abstractmethod
    def _check_params(self) -> None:
        """Raise ``ValueError``/``TypeError`` naming any constructor argument that is wrong."""

    @abstractmethod
    def _validate_fit_data(self, X, y, **fit_params) -> FitState:
        """The data as the model sees them, checked; raises naming the argument at fault."""

    @abstractmethod
    def _build_model(self, fit: FitState) -> pm.Model:
        """The PyMC model of this fit (the reference density)."""

    @abstractmethod
    def _new_value(self, X, y=None, **predict_params) -> tuple[np.ndarray, dict]:
        """New data as the mixture sees them, and pm.Data overrides for them."""

    def _initial_values(self, fit: FitState, rng: np.random.Generator) -> list[dict] | None:
        return None

    def _log_jacobian(self) -> float:
        """log |d(model units) / d(data units)|, added to predictive log densities."""
        return 0.0

    def _relabel_method(self, fit: FitState) -> str | None:
        """How label switching is undone; None when components are not exchangeable."""
        return "stephens"

    def _has_noise(self, fit: FitState) -> bool:
        """Whether the mixture has a noise component after its clusters."""
        return False

    def _free_components(self, fit: FitState) -> np.ndarray | None:
        """Indices of the mixture's components whose labels are exchangeable (switching among
        them is undone); None for all of them. The components named by labelled rows'
        classes (the first ones) and a noise component keep their labels."""
        n_classes = len(fit.classes) if fit.labelled else 0
        if n_classes == 0 and not self._has_noise(fit):
            return None
        return np.arange(n_classes, self.n_components)

    def _membership_components(self, posterior, fit: FitState) -> np.ndarray:
        """Coordinates of the membership's component axis (a noise component last)."""
        coords = posterior[COMPONENT_DIM].values
        if not self._has_noise(fit):
            return coords
        return np.array([*coords.tolist(), NOISE], dtype=object)

    def _compiled_density(self, fit: FitState):
        """The compiled density of this fit, or the reason there is none (a str)."""
        return f"{type(self).__name__} has no compiled density"

    def _posterior_values(self, density, theta: np.ndarray, fit: FitState) -> dict:
        """Every posterior variable of the model, by name, from unconstrained draws."""
        return density.from_theta(theta)

    def _fast_scorer(self, spec, posterior, value: np.ndarray, data: dict, *, fit=None):
        """The estimator's closed-form scorer of these rows (an ``evaluation.ArrayScorer``), or
        None where PyMC's graph must be compiled; ``spec`` is the mixture's record (the fit's
        ``_scoring_spec``, or a model's ``MixtureSpec``), ``fit`` defaults to the fitted
        state."""
        return None

    def _scoring_spec(self, fit: FitState) -> ArraySpec:
        """What the scorers, relabelling and membership read of the mixture, from the fit state
        (the fields of the model's ``MixtureSpec`` they use; tests hold the two equal)."""
        return ArraySpec(
            name=self._mixture_name,
            n_components=self.n_components + int(self._has_noise(fit)),
            value=fit.value,
            weights_name=self._weights_name(fit),
        )

    def _weights_name(self, fit: FitState) -> str | None:
        """Name of the mixture's weights when they are one variable of the model."""
        return "weights"

    def _inference_layout(self, fit: FitState) -> InferenceLayout | None:
        """The posterior's dims and coords and the observed and constant data, as ``pm.sample``
        records them from this fit's model, built without the model; None when the estimator
        does not say them (its model is then built to read them)."""
        return None

    def _weights_empty_components(self) -> bool:
        """Whether the weights prior empties superfluous components on purpose."""
        from bayesmixture.estimators._weights import empties_components

        return empties_components(self.weights_prior)

    def _parameter_words(self) -> dict[str, str]:
        """Templates that name posterior variables in words (see ``_names.describe``)."""
        return {}

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
        started = time.perf_counter()
        self._check_params()
        self._check_sampling_params()
        rng = np.random.default_rng(self.random_seed)
        fit = self._validate_fit_data(X, y, **fit_params)
        density = self._density_for_sampling(fit)
        layout = None
        if density is not None:
            # compile the kernel on another core while the chains' starts are found
            density.start_compiling()
            layout = self._inference_layout(fit)
        # the PyMC model: sampled on its graph, or read for the names of the compiled path's
        # draws when the estimator does not say them
        model = self._build_model(fit) if density is None or layout is None else None
        idata = draw_posterior(
            model,
            density,
            self._chain_starts(fit, rng),
            sampler=self.sampler,
            draws=self.draws,
            tune=self._resolved_tune(density is not None, getattr(density, "n_dim", 0)),
            chains=self.chains,
            random_seed=int(rng.integers(2**31 - 1)),
            progressbar=self.progressbar,
            posterior_values=lambda theta: self._posterior_values(density, theta, fit),
            # components emptied by a sparse or Dirichlet-process prior have weights that sink
            # towards 0 without bound, which nutpie's low-rank adaptation does not survive
            low_rank=not self._weights_empty_components(),
            layout=layout,
        )
        # a closed-form scorer where the estimator has one, else PyMC's graph (the model is
        # then built, if it was not)
        evaluator = self._training_evaluator(model, idata.posterior, fit)
        free = self._free_components(fit)
        # a class for every component (or noise and one cluster): no label can switch
        method = None if free is not None and len(free) < 2 else self._relabel_method(fit)
        relabelled, perms, membership = relabel_and_assign(
            evaluator,
            idata,
            fit,
            method,
            free=free,
            component_coords=self._membership_components(idata.posterior, fit),
        )
        findings = self._run_checks(relabelled, membership, perms, fit)
        relabelled.posterior.attrs[FIT_SECONDS] = time.perf_counter() - started
        # Everything succeeded: only now does the estimator change.
        self._fit_data = fit
        # the general evaluator is kept for later use; a specialised one is not
        self._evaluator = None if isinstance(evaluator, ArrayScorer) else evaluator
        # the model, if the fit built one (else built when first asked for: ``model_``)
        self._model = self._evaluator.model if model is None and self._evaluator else model
        self.idata_ = relabelled
        self.permutations_ = perms
        self.membership_ = membership
        self._findings = findings
        self._set_feature_attributes(fit)
        self._warn_if_unreliable()
        return self

    def _chain_starts(self, fit: FitState, rng: np.random.Generator) -> list[dict] | None:
        """``_initial_values`` on one thread (BLAS and OpenMP): EM's and k-means' arrays are a few
        features wide, where more threads only wait on each other (and on the kernel compiling
        on the other core). Penguins' EM start, under load: 0.02 s on one thread, 0.45 s with
        OpenMP's threads, 0.7-2.5 s with BLAS's too."""
        from threadpoolctl import threadpool_limits

        with threadpool_limits(limits=1):
            return self._initial_values(fit, rng)

    def _n_features(self, fit: FitState) -> int:
        """Columns of the data the fit was given (``n_features_in_``)."""
        return fit.value.shape[1] if fit.value.ndim > 1 else 1

    def _set_feature_attributes(self, fit: FitState) -> None:
        self.n_features_in_ = self._n_features(fit)
        if fit.feature_names is not None:
            self.feature_names_in_ = np.asarray(fit.feature_names, dtype=object)
        elif hasattr(self, "feature_names_in_"):
            del self.feature_names_in_

    def _run_checks(self, idata, membership, permutations, fit: FitState) -> list:
        from bayesmixture.diagnostics import run_checks
        from bayesmixture.estimators._names import describer

        return run_checks(
            idata,
            membership=membership,
            permutations=permutations,
            empties_on_purpose=self._weights_empty_components(),
            describe=describer(self._parameter_words(), self._component_noun),
            noun=self._component_noun,
        )

    def _warn_if_unreliable(self) -> None:
        from bayesmixture.diagnostics import warn_if_unreliable

        warn_if_unreliable(self.diagnostics_, owner=type(self).__name__, stacklevel=4)

    def _resolved_tune(self, compiled: bool, n_parameters: int = 0) -> int:
        """``tune``, or the tuning ``tune=None`` chooses for a model of ``n_parameters``."""
        if self.tune is not None:
            return self.tune
        if not compiled:
            return DEFAULT_PYMC_TUNE
        return int(np.clip(TUNE_PER_PARAMETER * n_parameters, DEFAULT_COMPILED_TUNE,
                           MAX_COMPILED_TUNE))  # fmt: skip

    def _density_for_sampling(self, fit: FitState):
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

    # ------------------------------------------------------------------ fitted attributes

    def _check_fitted(self) -> None:
        if not hasattr(self, "idata_"):
            raise NotFittedError(
                f"This {type(self).__name__} is not fitted yet; call fit(...) first, or load a "
                "saved fit with bayesmixture.load(path)."
            )

    @property
    def model_(self) -> pm.Model:
        """The PyMC model of the fit (the reference density), built when first asked for."""
        self._check_fitted()
        if getattr(self, "_model", None) is None:
            self._model = self._build_model(self._fit_data)
        return self._model

    @property
    def diagnostics_(self) -> pd.DataFrame:
        """The sampling checks made when the fit ended (see :meth:`diagnose`)."""
        from bayesmixture.diagnostics import findings_frame

        self._check_fitted()
        return findings_frame(self._findings)

    @property
    def converged_(self) -> bool:
        """True when every sampling check of :meth:`diagnose` passed.

        scikit-learn's mixtures say whether EM converged; here it is whether the sampler's
        output can be trusted (no divergences, R-hat and ESS on target, chains agree).
        """
        return bool((self.diagnostics_["status"] == "ok").all())

    @property
    def labels_(self) -> np.ndarray:
        """The most probable component of each training row, as :meth:`predict` gives it."""
        self._check_fitted()
        return self._labels_of(self._training_label_indices())

    def _training_label_indices(self) -> np.ndarray:
        return self.membership_["label"].values

    @property
    def tune_(self) -> int | None:
        """Tuning steps per chain that the fit used (``tune=None`` chooses them: 300 on the
        compiled path, 1000 on PyMC's graph); None for fits saved before it was recorded."""
        self._check_fitted()
        value = self.idata_.posterior.attrs.get(TUNE_USED)
        return None if value is None else int(value)

    @property
    def fit_seconds_(self) -> float:
        """Wall time of the whole fit in seconds (validation to diagnostics)."""
        self._check_fitted()
        return float(self.idata_.posterior.attrs.get(FIT_SECONDS, np.nan))

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

    def _restore(
        self, idata: az.InferenceData, membership: xr.Dataset, fit: FitState, findings: list
    ) -> None:
        """Become the fitted estimator that was saved (``bayesmixture.io.load``); ``findings``
        are the stored checks, as dicts of the fields of ``diagnostics.Finding``."""
        from bayesmixture.diagnostics import Finding

        self._fit_data = fit
        self._model = None  # built when first asked for
        self._evaluator = None
        self.idata_ = idata
        self.permutations_ = idata[PERMUTATION_GROUP]["permutation"]
        self.membership_ = membership.assign_coords(
            {COMPONENT_DIM: self._membership_components(idata.posterior, fit)}
        )
        self._findings = [Finding(**{**f, "value": float(f["value"])}) for f in findings]
        self._set_feature_attributes(fit)

    # ------------------------------------------------------------------ pickling

    def __getstate__(self):
        state = self.__dict__.copy()
        state.pop("_evaluator", None)  # compiled functions are rebuilt on demand
        # PyMC models hold closures that the standard pickle cannot store; the model is
        # rebuilt from the fit state when first asked for, as after bayesmixture.load.
        state.pop("_model", None)
        return state


def warn_renamed(old: str, new: str, owner: str, *, stacklevel: int = 3) -> None:
    """A FutureWarning for an argument spelt as in earlier releases."""
    warnings.warn(
        f"{owner}: {old} is now called {new}; {old} will stop working in the next release.",
        FutureWarning,
        stacklevel=stacklevel,
    )
