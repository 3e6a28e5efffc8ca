"""BIC and AIC of a fitted estimator, for those who compare with EM fits.

log L is the log-likelihood of the rows at the posterior draw where it is highest: a lower
bound of the maximum that EM finds (every draw is a parameter value, the maximum is the
best of them all), close to it once the posterior has many draws near its mode. p counts
the model's free parameters: its unconstrained dimension (K - 1 weights, K D means, the
covariances' sds and correlations, ...), as scikit-learn's ``_n_parameters`` counts them.
"""

from __future__ import annotations

import numpy as np

PENALTIES = {
    "bic": lambda n_parameters, n_rows: n_parameters * np.log(n_rows),
    "aic": lambda n_parameters, n_rows: 2.0 * n_parameters,
}


def information_criterion(estimator, X, y, predict_params: dict, *, penalty: str) -> float:
    """-2 max_s log L(theta_s) + penalty(p, n) of the rows (see the module documentation)."""
    estimator._check_fitted()
    fit = estimator._fit_data
    if getattr(fit, "shared_label", False):
        raise ValueError(
            f"{penalty}() sums independent rows' log-likelihoods; with shared_label=True the "
            "rows of a group are not independent. Compare grouped fits with "
            "bayesmixture.compare."
        )
    value, data = estimator._new_value(X, y, **predict_params)
    log_likelihood = best_draw_log_likelihood(estimator, value, data)
    n_rows = len(value)
    return float(-2.0 * log_likelihood + PENALTIES[penalty](n_parameters(estimator), n_rows))


def best_draw_log_likelihood(estimator, value: np.ndarray, data: dict) -> float:
    """The rows' total log-likelihood (data units) at the draw where it is highest."""
    from bayesmixture.evaluation import stacked_draws

    posterior = estimator.idata_.posterior
    evaluator = estimator._scoring_evaluator(value, data)
    draws = stacked_draws(posterior, evaluator.rv_names)
    total = np.zeros(posterior.sizes["chain"] * posterior.sizes["draw"])
    for chunk in evaluator.chunks(draws, value, data=data or None):
        total[chunk.start : chunk.stop] += chunk.log_marginal.sum(axis=1)
    return float(total.max() + len(value) * estimator._log_jacobian())


def n_parameters(estimator) -> int:
    """Free parameters of the fitted model: the size of its unconstrained value vector."""
    point = estimator.model_.initial_point()
    return int(sum(np.size(value) for value in point.values()))
