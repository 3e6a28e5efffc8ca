"""MixtureRegression's compiled density: pack the payload, map values to and from theta.

``theta`` is PyMC's value vector of the estimator's model, in ``model.value_vars`` order:
``weights_simplex__`` (constant weights) or ``gate_coefficients`` (gate_feature, component),
then ``beta`` (coef,) or (component, coef), ``alpha`` (component,) with an intercept, and
``sigma_log__`` (component,) or () unless the noise sd is known. The kernel in
:mod:`bayesmixture._kernels.regression` evaluates the model's log-density (Jacobians
included) there; a test holds it equal to PyMC's
``model.compile_logp()`` and ``compile_dlogp()`` to 1e-10.
"""

from __future__ import annotations

import numpy as np
from scipy.special import gammaln

from bayesmixture._kernels import regression as kernel
from bayesmixture._kernels.compiling import KernelDensity
from bayesmixture.estimators._weights import dirichlet_concentration

NOISE_CODES = {"component": kernel.NOISE_COMPONENT, "shared": kernel.NOISE_SHARED}


def _normal_constant(sd: float) -> float:
    """log-density of Normal(0, sd) at 0."""
    return -kernel.HALF_LOG_2PI - np.log(sd)


class RegressionDensity(KernelDensity):
    """Everything the sampler needs for one fit of MixtureRegression: payload and value maps.

    Parameters
    ----------
    estimator : MixtureRegression
        Its options (coefficients, fit_intercept, noise) and priors.
    fit : FitData
        The validated (standardised) training data.
    gate_prior_sd : float
        Prior sd of the gate coefficients (used with covariate-dependent weights).
    """

    kernel = "regression"

    def __init__(self, estimator, fit, *, gate_prior_sd: float):
        y = np.asarray(fit.value, dtype=float)
        design = np.asarray(fit.data["X_design"], dtype=float)
        K = int(estimator.n_components)
        N, P = len(y), len(fit.names)
        self.n_obs, self.n_components, self.n_coef = N, K, P
        self.per_component = bool(fit.per_component)
        self.shared = estimator.coefficients == "shared"
        self.intercept = bool(estimator.fit_intercept)
        self.n_gate = len(fit.gate)
        self.gated = self.n_gate > 0
        fixed = not isinstance(estimator.noise, str)
        self.noise = kernel.NOISE_FIXED if fixed else NOISE_CODES[estimator.noise]
        self.n_sigma = kernel.n_sigma_params(self.noise, K)
        self.sizes = {
            "weights": (self.n_gate + 1) * K if self.gated else K - 1,
            "beta": P if self.shared else K * P,
            "alpha": K if self.intercept else 0,
            "sigma": self.n_sigma,
        }
        self.n_dim = sum(self.sizes.values())
        gate_prior_sd = float(gate_prior_sd)
        coef_sd = float(estimator.coef_prior_sd)
        noise_sd = float(estimator.noise_prior_sd)
        alpha = dirichlet_concentration(estimator.weights_prior, K)

        constant = (self.sizes["beta"] + self.sizes["alpha"]) * _normal_constant(coef_sd)
        constant += self.n_sigma * (0.5 * np.log(2.0 / np.pi) - np.log(noise_sd))
        if self.gated:
            constant += self.sizes["weights"] * _normal_constant(gate_prior_sd)
        else:  # Dirichlet normaliser and the simplex Jacobian's log K
            constant += gammaln(alpha.sum()) - gammaln(alpha).sum() + np.log(K)
        header = np.zeros(kernel.HEADER)
        header[kernel.N_OBS], header[kernel.N_COMPONENTS], header[kernel.N_COEF] = N, K, P
        header[kernel.N_GATE] = self.n_gate
        header[kernel.PER_COMPONENT_DESIGN] = self.per_component
        header[kernel.SHARED_COEF] = self.shared
        header[kernel.INTERCEPT] = self.intercept
        header[kernel.NOISE] = self.noise
        if fixed:
            header[kernel.FIXED_SIGMA] = float(estimator.noise) / fit.y_scale
        header[kernel.COEF_PRIOR_SD] = coef_sd
        header[kernel.NOISE_PRIOR_SD] = noise_sd
        header[kernel.GATE_PRIOR_SD] = gate_prior_sd
        header[kernel.CONSTANT] = constant
        header[kernel.N_DIM] = self.n_dim
        gate = fit.data.get("X_gate", np.zeros((N, 0)))
        parts = [header, alpha, y, design.ravel(), np.asarray(gate, dtype=float).ravel()]
        payload = np.ascontiguousarray(np.concatenate(parts))
        payload[kernel.PAYLOAD_SIZE] = payload.size
        payload.flags.writeable = False
        self.payload = payload

    # ------------------------------------------------------------------ evaluation

    # ------------------------------------------------------------------ value maps

    def _slices(self) -> dict[str, slice]:
        out, start = {}, 0
        for name, size in self.sizes.items():
            out[name] = slice(start, start + size)
            start += size
        return out

    def _shapes(self) -> dict[str, tuple[int, ...]]:
        K, P = self.n_components, self.n_coef
        return {
            "gate_coefficients": (self.n_gate + 1, K),
            "beta": (P,) if self.shared else (K, P),
            "alpha": (K,),
            "sigma": (K,) if self.noise == kernel.NOISE_COMPONENT else (),
        }

    def to_theta(self, values: dict) -> np.ndarray:
        """Constrained values by variable name (as the estimator's starts) -> theta.

        Gate coefficients missing from ``values`` start at 0, PyMC's own initial point.
        """
        theta = np.empty(self.n_dim)
        cut = self._slices()
        if self.gated:
            gamma = values.get("gate_coefficients", np.zeros(self._shapes()["gate_coefficients"]))
            theta[cut["weights"]] = np.asarray(gamma, dtype=float).ravel()
        else:
            log_w = np.log(np.asarray(values["weights"], dtype=float))
            theta[cut["weights"]] = log_w[:-1] - log_w.mean()
        theta[cut["beta"]] = np.asarray(values["beta"], dtype=float).ravel()
        if self.intercept:
            theta[cut["alpha"]] = np.asarray(values["alpha"], dtype=float).ravel()
        if self.n_sigma:
            theta[cut["sigma"]] = np.log(np.asarray(values["sigma"], dtype=float)).ravel()
        return theta

    def from_theta(self, theta: np.ndarray) -> dict[str, np.ndarray]:
        """theta of shape (..., n_dim) -> the model's free variables in constrained space."""
        theta = np.asarray(theta, dtype=float)
        batch = theta.shape[:-1]
        cut, shapes = self._slices(), self._shapes()
        out = {}
        if self.gated:
            gamma = theta[..., cut["weights"]]
            out["gate_coefficients"] = gamma.reshape(*batch, *shapes["gate_coefficients"])
        else:
            y = theta[..., cut["weights"]]
            a = np.concatenate([y, -y.sum(axis=-1, keepdims=True)], axis=-1)
            a = np.exp(a - a.max(axis=-1, keepdims=True))
            out["weights"] = a / a.sum(axis=-1, keepdims=True)
        out["beta"] = theta[..., cut["beta"]].reshape(*batch, *shapes["beta"])
        if self.intercept:
            out["alpha"] = theta[..., cut["alpha"]]
        if self.n_sigma:
            out["sigma"] = np.exp(theta[..., cut["sigma"]]).reshape(*batch, *shapes["sigma"])
        return out
