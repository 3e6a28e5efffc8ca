"""MixtureRegression's PyMC model: the reference density that the compiled kernel is tested
against, built in named steps from the fit state and the estimator's priors."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from bayesmixture.estimators._labels import component_names
from bayesmixture.estimators._state import RegressionFitState
from bayesmixture.estimators._weights import weights_variable

if TYPE_CHECKING:
    import pymc as pm

# Prior sd of the gate coefficients of covariate-dependent weights.
GATE_PRIOR_SD = 1.5


def build_regression_model(estimator, fit: RegressionFitState) -> pm.Model:
    """Weights (constant or gated), each component's linear predictor, the family's
    components, then the mixture (labelled rows in their class's component) and the
    deterministics in the data's units."""
    import pymc as pm

    from bayesmixture.likelihood import mixture

    K = estimator.n_components
    coords = {
        "component": np.arange(K) if fit.classes is None else component_names(fit.classes, K),
        "coef": fit.names,
        "obs": np.arange(fit.n_obs),
        "gate_feature": ["intercept"] + [fit.names[j] for j in fit.gate],
        "gate_input": [fit.names[j] for j in fit.gate],
    }
    with pm.Model(coords=coords) as model:
        design_dims = ("component", "obs", "coef") if fit.per_component else ("obs", "coef")
        design = pm.Data("X_design", fit.data["X_design"], dims=design_dims)
        y_data = pm.Data("y_data", fit.value, dims="obs")
        weights = _weights(estimator, fit)
        mean = _component_means(estimator, design, fit)  # (obs, component)
        if estimator._glm:  # mean is the linear predictor: log rate or log-odds
            components = estimator._response.component(mean, estimator.trials)
        else:
            components = pm.Normal.dist(mean, _noise_sd(estimator, fit))
        mixture("y", weights, components, y_data, dims="obs", known=fit.row_labels)
    return model


def _weights(estimator, fit: RegressionFitState):
    import pymc as pm
    import pytensor.tensor as pt

    K = estimator.n_components
    if not fit.gate:
        return weights_variable(estimator.weights_prior, K)
    gate = pm.Data("X_gate", fit.data["X_gate"], dims=("obs", "gate_input"))
    gamma = pm.Normal(
        "gate_coefficients",
        0.0,
        np.float64(GATE_PRIOR_SD),
        dims=("gate_feature", "component"),
    )
    logits = gamma[0] + pt.dot(gate, gamma[1:])
    return pm.math.softmax(logits, axis=-1)


def _component_means(estimator, design, fit: RegressionFitState):
    import pymc as pm
    import pytensor.tensor as pt

    K, n_coef = estimator.n_components, len(fit.names)
    shared = estimator.coefficients == "shared"
    # float64 scales: PyTensor would store a literal like 2.5 as a float32 constant
    coef_sd = np.float64(estimator.coef_prior_sd)
    beta = pm.Normal("beta", 0.0, coef_sd, dims=("coef",) if shared else ("component", "coef"))
    if fit.per_component:
        subscripts = "kni,i->nk" if shared else "kni,ki->nk"
        mean = pt.einsum(subscripts, design, beta)
    else:
        mean = pt.dot(design, beta if shared else beta.T)
        if shared:
            mean = pt.repeat(mean[:, None], K, axis=1)
    x_center, x_scale = fit.x_center, fit.x_scale
    y_center, y_scale = fit.y_center, fit.y_scale
    coef_std = pt.broadcast_to(beta, (K, n_coef))
    coefficients = coef_std * y_scale / x_scale
    pm.Deterministic("coefficients", coefficients, dims=("component", "coef"))
    if estimator.fit_intercept:
        alpha = pm.Normal("alpha", 0.0, coef_sd, dims="component")
        mean = mean + alpha
        intercepts = y_center + y_scale * alpha - pt.dot(coefficients, x_center)
        pm.Deterministic("intercepts", intercepts, dims="component")
    return mean


def _noise_sd(estimator, fit: RegressionFitState):
    import pymc as pm
    import pytensor.tensor as pt

    y_scale = fit.y_scale
    if not isinstance(estimator._sigma, str):
        return np.float64(float(estimator._sigma) / y_scale)
    dims = "component" if estimator._sigma == "component" else None
    sigma = pm.HalfNormal("sigma", np.float64(estimator._sigma_prior_sd), dims=dims)
    sigmas = pt.broadcast_to(sigma * y_scale, (estimator.n_components,))
    pm.Deterministic("sigmas", sigmas, dims="component")
    return sigma
