"""How GaussianMixture scores rows: one matrix product per block of draws where it applies,
and one label per group for fits with ``shared_label=True``."""

from __future__ import annotations

import numpy as np

from bayesmixture._validation import group_codes
from bayesmixture.estimators._state import GaussianFitState


def matrix_product_scorer(estimator, spec, posterior, value, data: dict, fit: GaussianFitState):
    """The matrix-product scorer when it applies (no shared labels; gaps only without a noise
    component), else None. It relabels and scores the training rows too (gaps and per-group
    weights included); case weights do not change a row's responsibilities, only its weight
    in the fit. ``spec``: the mixture's record (``ArraySpec`` or ``MixtureSpec``)."""
    from bayesmixture.estimators._gaussian_scorer import GaussianEvaluator

    if fit.shared_label or set(data) - {"group_index"}:
        return None
    noise = None
    if fit.has_noise:
        if np.isnan(value).any():
            return None
        noise = -float(np.log(fit.noise_upper - fit.noise_lower).sum())
    evaluator = GaussianEvaluator(
        spec,
        fit.center,
        fit.scale,
        student=estimator._df_prior() is not None,
        noise_log_density=noise,
        group_index=fit.data.get("group_index") if fit.group_names is not None else None,
    )
    return evaluator if all(name in posterior for name in evaluator.rv_names) else None


def shared_label_membership(estimator, X, y, groups):
    """One label per group: the group's probabilities, given to each of its rows."""
    import xarray as xr

    from bayesmixture.evaluation import summarise

    estimator._check_fitted()
    if groups is None:
        raise ValueError(
            "this mixture was fitted with shared_label=True; pass groups= for the new rows "
            "(rows of one group share one component)."
        )
    value, _ = estimator._new_value(X, y)
    codes, names = group_codes(groups, len(value))
    per_group = summarise(
        estimator._get_evaluator(),
        estimator.idata_.posterior,
        value,
        None,
        obs_coords=names,
        component_coords=estimator._membership_components(
            estimator.idata_.posterior, estimator._fit_data
        ),
        groups=codes,
        case_weights=np.ones(len(value)),
    )
    return per_group.isel(group=xr.DataArray(codes, dims="obs")).drop_vars("group")
