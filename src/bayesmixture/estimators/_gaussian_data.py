"""GaussianMixture's data: rows checked, standardised and turned into its fit state; new rows
brought to the same scale."""

from __future__ import annotations

import numpy as np
import pandas as pd

from bayesmixture._validation import check_case_weights, describe_rows, group_codes
from bayesmixture.estimators._labels import class_codes
from bayesmixture.estimators._sizes import check_rows_per_component
from bayesmixture.estimators._state import NOISE, GaussianFitState
from bayesmixture.estimators._tables import validate_table


def gaussian_fit_state(
    estimator, X, labels, *, groups=None, shared_label=False, sample_weight=None
) -> GaussianFitState:
    """The validated, standardised rows of ``X`` and everything the fit learns from them."""
    array, names = validate_table(X, allow_nan=estimator.missing == "marginalize")
    n_obs, n_features = array.shape
    _check_sizes(estimator, n_obs)
    columns = names or [f"x{j}" for j in range(n_features)]
    codes = classes = None
    if labels is not None:
        codes, classes = _check_labels(estimator, labels, array, groups)
    weights = None
    if sample_weight is not None:
        weights = check_case_weights(sample_weight, n_obs, "sample_weight")
    center, scale = standardisation(array, columns, estimator.standardize, weights)
    check_rows_per_component(n_obs, estimator.n_components, n_features, estimator.covariance_type)
    value = (array - center) / scale
    if not isinstance(shared_label, bool | np.bool_):
        raise TypeError(f"shared_label={shared_label!r} must be True or False.")
    if shared_label and groups is None:
        raise ValueError(
            "shared_label=True needs groups=: the label of every row in a group is shared."
        )
    grouping, data = {}, {}
    if groups is not None:
        group_index, group_names = group_codes(groups, n_obs)
        if shared_label:
            grouping = {"label_group_names": group_names, "label_group_codes": group_index}
        else:
            if estimator.noise:
                raise ValueError(
                    "noise=True gives one noise weight; with groups= each group has its own "
                    "weights: fit without groups, or with shared_label=True."
                )
            grouping = {"group_names": group_names}
            data["group_index"] = group_index
    noise = _noise_box(value, columns) if estimator.noise else {}
    return GaussianFitState(
        value=value,
        n_obs=n_obs,
        feature_names=names if isinstance(X, pd.DataFrame) else None,
        data=data,
        row_labels=codes,
        classes=classes,
        names=columns,
        center=center,
        scale=scale,
        sample_weight=weights,
        **grouping,
        **noise,
    )


def _check_sizes(estimator, n_obs: int) -> None:
    if n_obs < 2:
        raise ValueError(f"X has {n_obs} sample (n_samples = 1); a mixture needs at least 2 rows.")
    if estimator.n_components > n_obs:
        raise ValueError(
            f"n_components={estimator.n_components} is larger than the number of rows of X "
            f"({n_obs}); pass a smaller n_components or more data."
        )


def _noise_box(value: np.ndarray, columns: list[str]) -> dict:
    """The bounding box of the standardised rows, whose volume fixes the noise density."""
    lower, upper = value.min(axis=0), value.max(axis=0)
    flat = [columns[j] for j in np.flatnonzero(upper <= lower)]
    if flat:
        raise ValueError(
            f"X has constant columns {flat}; noise=True spreads the noise over the data's "
            "bounding box, which these columns make flat. Drop them."
        )
    return {"noise_lower": lower, "noise_upper": upper}


def _check_labels(estimator, labels, array: np.ndarray, groups):
    """(codes, classes) of partly labelled rows, refused where they cannot apply."""
    codes, classes = class_codes(labels, len(array), estimator.n_components)
    if estimator.noise and NOISE in classes:
        raise ValueError(
            f"labels has a class named {NOISE!r}, which is also the name of the noise "
            "component of noise=True; rename that class (or fit with noise=False and let "
            f"the {NOISE!r} class be a cluster)."
        )
    if groups is not None:
        raise ValueError(
            "labels (partly labelled rows) do not combine with groups= yet: fit the labelled "
            "data without groups, or drop labels."
        )
    gaps = np.flatnonzero(np.isnan(array).any(axis=1) & (codes >= 0))
    if gaps.size:
        raise ValueError(
            f"X has missing entries in labelled {describe_rows(gaps)}; a labelled row "
            "needs every column. Mark those rows unlabelled in labels (-1) or complete them."
        )
    return codes, classes


def standardisation(array: np.ndarray, names, standardize: bool, weights=None):
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


def new_rows(estimator, X, groups=None) -> tuple[np.ndarray, dict]:
    """New rows on the fit's scale, and the ``pm.Data`` values they need (group index)."""
    fit: GaussianFitState = estimator._fit_data
    array, names = validate_table(X, allow_nan=estimator.missing == "marginalize")
    array = _align_columns(estimator, array, names, X)
    value = (array - fit.center) / fit.scale
    data = {}
    if fit.group_names is not None:
        if groups is None:
            raise ValueError(
                "this mixture was fitted with groups (per-group weights); pass groups= for "
                "the new rows too."
            )
        data["group_index"] = codes_for(groups, fit.group_names, len(array))
    elif groups is not None and not fit.shared_label:
        raise ValueError("groups= was given, but the mixture was fitted without groups.")
    return value, data


def _align_columns(estimator, array, names, X):
    fitted = getattr(estimator, "feature_names_in_", None)
    if fitted is not None and names is not None:
        missing = [c for c in fitted if c not in names]
        if missing:
            raise ValueError(
                f"X lacks the columns {missing} that the mixture was fitted on; pass a table "
                f"with columns {list(fitted)}."
            )
        return np.asarray(X[list(fitted)], dtype=float)
    if array.shape[1] != estimator.n_features_in_:
        raise ValueError(
            f"X has {array.shape[1]} features, but {type(estimator).__name__} is expecting "
            f"{estimator.n_features_in_} features as input; pass rows with the columns it was "
            "fitted on."
        )
    return array


def codes_for(groups, names, n_rows: int) -> np.ndarray:
    """Each row's index into the fitted groups ``names``; unknown groups are refused."""
    labels = np.asarray(groups)
    if labels.shape != (n_rows,):
        raise ValueError(f"groups has shape {labels.shape}; expected ({n_rows},).")
    lookup = {name: code for code, name in enumerate(np.asarray(names).tolist())}
    unknown = sorted({str(g) for g in labels.tolist() if g not in lookup})
    if unknown:
        raise ValueError(
            f"groups has labels {unknown} that were not in the training data; known groups: "
            f"{list(names)}."
        )
    return np.array([lookup[g] for g in labels.tolist()], dtype=np.int64)
