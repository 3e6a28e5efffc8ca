"""What every estimator does with a fitted posterior: membership, labels and densities of new
rows, and information criteria; from the stored (relabelled) draws, never re-sampling.

A mixin of :class:`~bayesmixture.estimators._base.BayesianMixture`: it reads the fitted state
(``idata_``, ``_fit_data``) and the hooks the estimators write (``_new_value``,
``_fast_scorer``, ``_membership_components``, ``_has_noise``, ``_log_jacobian``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from bayesmixture._validation import is_dask_collection
from bayesmixture.estimators._posterior_steps import COMPONENT_DIM
from bayesmixture.estimators._state import prediction_labels

if TYPE_CHECKING:
    import pymc as pm
    import xarray as xr

    from bayesmixture.estimators._state import FitState
    from bayesmixture.evaluation import MixtureEvaluator


class PredictionMixin:
    """Membership, labels and log densities of rows from the stored posterior."""

    # ------------------------------------------------------------------ prediction

    def _get_evaluator(self) -> MixtureEvaluator:
        from bayesmixture._spec import lookup
        from bayesmixture.evaluation import MixtureEvaluator

        evaluator = getattr(self, "_evaluator", None)
        if evaluator is None:
            model = self.model_
            evaluator = MixtureEvaluator(model, lookup(model, self._mixture_name))
            self._evaluator = evaluator
        return evaluator

    def _training_evaluator(self, model: pm.Model | None, posterior, fit: FitState):
        """The evaluator that relabels the draws and scores the training rows: the
        estimator's closed-form scorer, else PyMC's graph of ``model`` (built from ``fit``
        when None; the evaluator keeps it as ``.model``)."""
        fast = self._fast_scorer(self._scoring_spec(fit), posterior, fit.value, {}, fit=fit)
        if fast is not None:
            return fast
        from bayesmixture._spec import lookup
        from bayesmixture.evaluation import MixtureEvaluator

        model = self._build_model(fit) if model is None else model
        return MixtureEvaluator(model, lookup(model, self._mixture_name))

    def _scoring_evaluator(self, value: np.ndarray, data: dict):
        """The evaluator that scores these new rows (PyMC's graph only where the estimator
        has no closed-form scorer for them)."""
        spec = self._scoring_spec(self._fit_data)
        fast = self._fast_scorer(spec, self.idata_.posterior, value, data)
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

        Components are numbered 0..K-1 and a noise component is -1. A fit with partly
        labelled rows gives the components' names in the classes' own type (its classes,
        then the next integers or ``"component k"``), and its noise component is -1 for
        numeric classes, ``"noise"`` for string classes.
        """
        if is_dask_collection(X):
            index = self._lazy("predict_lazy", X, y, draws, predict_params)
        else:
            index = self.predict_proba(X, y, draws=draws, **predict_params).argmax(axis=1)
        return self._labels_of(index)

    def fit_predict(self, X, y=None, **fit_params) -> np.ndarray:
        """Fit, then return the most probable component of each training row (as
        :meth:`predict` gives them)."""
        return self.fit(X, y, **fit_params).labels_

    @property
    def _prediction_labels(self) -> np.ndarray:
        fit = self._fit_data
        return prediction_labels(
            self.idata_.posterior[COMPONENT_DIM].values.tolist(),
            fit.classes,
            self._has_noise(fit),
        )

    def _labels_of(self, index):
        """Component indices as :meth:`predict` gives them (see there)."""
        names = self._prediction_labels
        if hasattr(index, "map_blocks"):  # a lazy Dask result
            return index.map_blocks(names.__getitem__, dtype=names.dtype)
        return names[np.asarray(index)]

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

    # ------------------------------------------------------------------ information criteria

    def bic(self, X, y=None, **predict_params) -> float:
        """Bayesian information criterion of the rows: -2 log L + p log n (lower is better).

        As scikit-learn's ``GaussianMixture.bic``, with log L the log-likelihood at the
        posterior draw where it is highest (so it is at most EM's maximum, and close to it
        with enough draws) and p the number of free parameters (the model's unconstrained
        dimension). For comparing K, :meth:`select` (PSIS-LOO over the whole posterior) is
        the Bayesian answer; BIC is here for those who compare with EM fits.
        """
        from bayesmixture.estimators._information import information_criterion

        return information_criterion(self, X, y, predict_params, penalty="bic")

    def aic(self, X, y=None, **predict_params) -> float:
        """Akaike information criterion of the rows: -2 log L + 2 p (see :meth:`bic`)."""
        from bayesmixture.estimators._information import information_criterion

        return information_criterion(self, X, y, predict_params, penalty="aic")


def _no_draws_in_memory(draws) -> None:
    if draws is not None:
        raise ValueError(
            "draws= thins the posterior for Dask input only; in memory every draw is used. "
            "Pass a dask array (dask.array.from_array(X)) or leave draws unset."
        )
