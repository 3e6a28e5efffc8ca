"""MixtureRegression's data: designs and responses checked, scaled and turned into its fit
state; new rows brought to the same scale."""

from __future__ import annotations

import numpy as np

from bayesmixture._validation import as_numeric_array
from bayesmixture.estimators._labels import class_codes
from bayesmixture.estimators._state import RegressionFitState
from bayesmixture.estimators._tables import validate_table


def designs_of(estimator, X) -> tuple[list[np.ndarray], list[str] | None, bool]:
    """One (n_obs, n_coef) array per component (or one shared), names, and which."""
    if isinstance(X, list | tuple):
        if len(X) != estimator.n_components:
            raise ValueError(
                f"X is a list of {len(X)} designs but n_components={estimator.n_components}; "
                "give one design per component, or one table for all."
            )
        arrays = [validate_table(x, f"X[{k}]")[0] for k, x in enumerate(X)]
        shapes = {a.shape for a in arrays}
        if len(shapes) > 1:
            raise ValueError(f"the designs in X have different shapes {sorted(shapes)}.")
        return arrays, validate_table(X[0], "X[0]")[1], True
    array, names = validate_table(X)
    return [array], names, False


def regression_fit_state(estimator, X, y, labels=None) -> RegressionFitState:
    """The validated, scaled designs and responses, and everything the fit learns from them."""
    designs, names, per_component = designs_of(estimator, X)
    n_obs, n_coef = designs[0].shape
    if y is None:
        raise ValueError(
            "MixtureRegression requires y to be passed, but the target y is None: "
            "fit(X, y) takes the responses as well as the covariates."
        )
    if n_obs < 2:
        raise ValueError(f"X has {n_obs} sample (n_samples = 1); a mixture needs at least 2 rows.")
    target = as_numeric_array(y, "y").astype(float).reshape(-1) if y is not None else None
    if target is None or target.shape != (n_obs,):
        raise ValueError(f"y must hold one value per row of X ({n_obs}); got {np.shape(y)}.")
    estimator._response.check_response(target, estimator.trials)
    if estimator.n_components > n_obs:
        raise ValueError(
            f"n_components={estimator.n_components} is larger than the number of rows ({n_obs})."
        )
    names = names or [f"x{j}" for j in range(n_coef)]
    gate = _gate_columns(estimator, names, n_coef, per_component)
    stacked = np.stack(designs)
    _check_no_constant_columns(estimator, stacked, names)
    x_center, x_scale, y_center, y_scale = _scales(estimator, stacked, target)
    if estimator._glm:  # counts are modelled in their own units
        y_center, y_scale = 0.0, 1.0
    scaling = {
        "names": names,
        "per_component": per_component,
        "gate": gate,
        "x_center": x_center,
        "x_scale": x_scale,
        "y_center": y_center,
        "y_scale": y_scale,
    }
    value = target.astype(np.int64) if estimator._glm else (target - y_center) / y_scale
    codes = classes = None
    if labels is not None:
        codes, classes = class_codes(labels, n_obs, estimator.n_components)
    return RegressionFitState(
        value=value,
        n_obs=n_obs,
        feature_names=names if _named_columns(X) else None,
        data=design_data(stacked, per_component, gate, x_center, x_scale),
        row_labels=codes,
        classes=classes,
        **scaling,
    )


def _named_columns(X) -> bool:
    import pandas as pd

    first = X[0] if isinstance(X, list | tuple) else X
    return isinstance(first, pd.DataFrame)


def _check_no_constant_columns(estimator, stacked: np.ndarray, names: list[str]) -> None:
    """With an intercept, a constant column of X is a second intercept: the likelihood
    cannot tell them apart, and both would follow their priors."""
    if not estimator.fit_intercept:
        return
    pooled = stacked.reshape(-1, stacked.shape[-1])
    constant = [names[j] for j in np.flatnonzero(np.ptp(pooled, axis=0) == 0)]
    if constant:
        raise ValueError(
            f"X has constant columns {constant}; with fit_intercept=True each component "
            "already has an intercept, so a constant column cannot be told apart from it "
            "and its coefficient would only follow its prior. Drop those columns, or pass "
            "fit_intercept=False to let them be the intercept."
        )


def _gate_columns(estimator, names, n_coef, per_component) -> list[int]:
    if estimator.weights_from is None:
        return []
    if per_component:
        raise ValueError("weights_from needs one design table shared by all components.")
    columns = []
    for column in estimator.weights_from:
        if isinstance(column, str):
            if column not in names:
                raise ValueError(f"weights_from has {column!r}, which is not a column of X.")
            columns.append(names.index(column))
        elif isinstance(column, int | np.integer) and 0 <= column < n_coef:
            columns.append(int(column))
        else:
            raise ValueError(f"weights_from has {column!r}; name a column of X.")
    return columns


def _scales(estimator, stacked, target):
    n_coef = stacked.shape[-1]
    if not estimator.standardize:
        return np.zeros(n_coef), np.ones(n_coef), 0.0, 1.0
    pooled = stacked.reshape(-1, n_coef)
    x_scale = pooled.std(axis=0)
    x_scale[x_scale == 0] = 1.0  # constant columns (an explicit intercept) stay as they are
    y_scale = float(target.std()) or 1.0
    if estimator.fit_intercept:
        return pooled.mean(axis=0), x_scale, float(target.mean()), y_scale
    return np.zeros(n_coef), x_scale, 0.0, y_scale


def design_data(stacked, per_component: bool, gate: list[int], x_center, x_scale) -> dict:
    scaled = (stacked - x_center) / x_scale
    data = {"X_design": scaled if per_component else scaled[0]}
    if gate:
        data["X_gate"] = scaled[0][:, gate]
    return data


def new_regression_rows(estimator, X, y) -> tuple[np.ndarray, dict]:
    """Rows of new (X, y) at the fit's scale: the responses and the design data."""
    designs, _, per_component = designs_of(estimator, X)
    fit: RegressionFitState = estimator._fit_data
    if per_component != fit.per_component:
        raise ValueError("X must have the same form (one table, or one per component) as in fit.")
    stacked = np.stack(designs)
    if stacked.shape[-1] != len(fit.names):
        raise ValueError(
            f"X has {stacked.shape[-1]} features, but MixtureRegression is expecting "
            f"{len(fit.names)} features as input (the columns it was fitted on)."
        )
    if y is None:
        raise ValueError(
            "MixtureRegression scores rows (X, y): which regression produced each y. "
            "Pass the responses too, e.g. predict(X, y)."
        )
    target = as_numeric_array(y, "y").astype(float).reshape(-1)
    if target.shape != (stacked.shape[1],):
        raise ValueError(f"y must hold one value per row of X ({stacked.shape[1]}).")
    estimator._response.check_response(target, estimator.trials)
    data = design_data(stacked, fit.per_component, fit.gate, fit.x_center, fit.x_scale)
    if estimator._glm:
        return target.astype(np.int64), data
    return (target - fit.y_center) / fit.y_scale, data
