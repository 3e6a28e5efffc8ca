"""MixtureRegression's compiled density: pack the payload, map values to and from theta.

``theta`` is PyMC's value vector of the estimator's model, in ``model.value_vars`` order:
the weights (the weights' block of ``estimators._fast.weights``: ``weights_simplex__``, or
``concentration_log__`` and ``weights_simplex__`` for Dirichlet-process weights; or
``gate_coefficients`` (gate_feature, component) with ``weights_from=``), then ``beta``
(coef,) or (component, coef), ``alpha`` (component,) with an intercept, and the family's
parameters: ``sigma_log__`` (component,) or () unless the normal family's noise sd is known,
``dispersion_log__`` (component,) for the negative binomial. The kernel in
:mod:`bayesmixture._kernels.regression` evaluates the model's log-density (Jacobians
included) there; a test holds it equal to PyMC's ``model.compile_logp()`` and
``compile_dlogp()`` to 1e-10, for every family and option. The payload's layout is the
kernel's ``REGRESSION`` record.
"""

from __future__ import annotations

import numpy as np
from scipy.special import gammaln

from bayesmixture._kernels import regression as kernel
from bayesmixture._kernels.compiling import KernelDensity
from bayesmixture._kernels.special import HALF_LOG_2PI
from bayesmixture.estimators._fast.weights import WeightsBlock, gamma_rate
from bayesmixture.estimators._regression_families import DISPERSION_PRIOR

FAMILY_CODES = {
    "normal": kernel.NORMAL,
    "poisson": kernel.POISSON,
    "negbinomial": kernel.NEGBINOMIAL,
    "binomial": kernel.BINOMIAL,
}
NOISE_CODES = {"component": kernel.NOISE_COMPONENT, "shared": kernel.NOISE_SHARED}


def _normal_constant(sd: float) -> float:
    """log-density of Normal(0, sd) at 0."""
    return -HALF_LOG_2PI - np.log(sd)


def _observation_terms(family: str, y: np.ndarray, trials) -> tuple[np.ndarray, np.ndarray]:
    """Each row's observation-only term of log p(y) (``y_term``) and its trials."""
    if family == "binomial":
        n = np.broadcast_to(np.asarray(trials, dtype=float), y.shape)
        return gammaln(n + 1) - gammaln(y + 1) - gammaln(n - y + 1), n
    if family in ("poisson", "negbinomial"):
        return -gammaln(y + 1), np.zeros_like(y)
    return np.zeros_like(y), np.zeros_like(y)


def _known_components(row_labels, n_obs: int) -> np.ndarray:
    """Each row's known component as the kernel reads it (-1: unlabelled)."""
    if row_labels is None:
        return np.full(n_obs, -1.0)
    return np.asarray(row_labels, dtype=float)


class RegressionDensity(KernelDensity):
    """Everything the sampler needs for one fit of MixtureRegression: payload and value maps.

    Parameters
    ----------
    estimator : MixtureRegression
        Its options (family, trials, coefficients, fit_intercept, noise, weights prior) and
        priors.
    fit : RegressionFitState
        The validated training data (design standardised; y standardised for the normal
        family, counts otherwise; ``fit.row_labels`` for partly labelled rows).
    gate_prior_sd : float
        Prior sd of the gate coefficients (used with covariate-dependent weights).
    """

    kernel = "regression"

    def __init__(self, estimator, fit, *, gate_prior_sd: float):
        # what the fit learned from its data, read once
        n_coef, per_component = len(fit.names), bool(fit.per_component)
        n_gate, y_scale = len(fit.gate), fit.y_scale
        design = np.asarray(fit.data["X_design"], dtype=float)
        gate = fit.data.get("X_gate")

        y = np.asarray(fit.value, dtype=float)
        K, N, P = int(estimator.n_components), len(y), n_coef
        self.n_obs, self.n_components, self.n_coef, self.n_gate = N, K, P, n_gate
        self.family = estimator.family
        self.shared = estimator.coefficients == "shared"
        self.intercept = bool(estimator.fit_intercept)
        self.gated = n_gate > 0
        fixed = not isinstance(estimator._sigma, str)
        self.noise = kernel.NOISE_FIXED if fixed else NOISE_CODES[estimator._sigma]
        family_code = FAMILY_CODES[self.family]
        self.weights = None if self.gated else WeightsBlock(estimator.weights_prior, K)
        self.sizes = {
            "weights": (n_gate + 1) * K if self.gated else self.weights.n_params,
            "beta": P if self.shared else K * P,
            "alpha": K if self.intercept else 0,
            "family": kernel.n_family_params(family_code, self.noise, K),
        }
        self.n_dim = sum(self.sizes.values())
        coef_sd = float(estimator.coef_prior_sd)
        shape, rate = DISPERSION_PRIOR[0], gamma_rate(DISPERSION_PRIOR[1])
        header = {
            "n_obs": N,
            "n_components": K,
            "n_coef": P,
            "n_gate": n_gate,
            "n_designs": K if per_component else 1,
            "shared_coef": self.shared,
            "intercept": self.intercept,
            "family": family_code,
            "noise": self.noise,
            "fixed_sigma": float(estimator._sigma) / y_scale if fixed else 0.0,
            "coef_prior_sd": coef_sd,
            "noise_prior_sd": float(estimator._sigma_prior_sd),
            "gate_prior_sd": float(gate_prior_sd),
            "dispersion_shape": shape,
            "dispersion_rate": rate,
            "n_dim": self.n_dim,
            "constant": self._constant(
                coef_sd, float(estimator._sigma_prior_sd), float(gate_prior_sd)
            ),
        }
        y_term, trials = _observation_terms(self.family, y, estimator.trials)
        sections = {
            "weights": np.zeros(0) if self.gated else self.weights.section,
            "y": y,
            "y_term": y_term,
            "trials": trials,
            "design": design,
            "gate": np.zeros((N, 0)) if gate is None else gate,
            "known": _known_components(fit.row_labels, N),
        }
        self.variant = (family_code, not self.gated and self.weights.stick_breaking)
        self.payload = kernel.REGRESSION.pack(header, sections)

    def _constant(self, coef_sd: float, noise_sd: float, gate_prior_sd: float) -> float:
        """The priors' constant terms: coefficients, weights or gate, the family's parameters."""
        constant = (self.sizes["beta"] + self.sizes["alpha"]) * _normal_constant(coef_sd)
        if self.gated:
            constant += self.sizes["weights"] * _normal_constant(gate_prior_sd)
        else:
            constant += self.weights.constant
        if self.family == "negbinomial":  # Gamma(shape, rate) normaliser of each dispersion
            shape, rate = DISPERSION_PRIOR[0], gamma_rate(DISPERSION_PRIOR[1])
            constant += self.sizes["family"] * (shape * np.log(rate) - gammaln(shape))
        elif self.family == "normal":  # HalfNormal normaliser of each noise sd
            constant += self.sizes["family"] * (0.5 * np.log(2.0 / np.pi) - np.log(noise_sd))
        return constant

    # ------------------------------------------------------------------ value maps

    @property
    def _family_name(self) -> str:
        """The family parameters' variable: the noise sd or the dispersion."""
        return "dispersion" if self.family == "negbinomial" else "sigma"

    def _slices(self) -> dict[str, slice]:
        out, start = {}, 0
        for name, size in self.sizes.items():
            out[name] = slice(start, start + size)
            start += size
        return out

    def _shapes(self) -> dict[str, tuple[int, ...]]:
        K, P = self.n_components, self.n_coef
        shared_sd = self.family == "normal" and self.noise == kernel.NOISE_SHARED
        return {
            "gate_coefficients": (self.n_gate + 1, K),
            "beta": (P,) if self.shared else (K, P),
            "family": () if shared_sd else (K,),
        }

    def to_theta(self, values: dict) -> np.ndarray:
        """Constrained values by variable name (as the estimator's starts) -> theta.

        Gate coefficients missing from ``values`` start at 0, and dispersions at their prior
        mean: PyMC's own initial point.
        """
        theta = np.empty(self.n_dim)
        cut = self._slices()
        if self.gated:
            gamma = values.get("gate_coefficients", np.zeros(self._shapes()["gate_coefficients"]))
            theta[cut["weights"]] = np.asarray(gamma, dtype=float).ravel()
        else:
            theta[cut["weights"]] = self.weights.to_theta(values)
        theta[cut["beta"]] = np.asarray(values["beta"], dtype=float).ravel()
        if self.intercept:
            theta[cut["alpha"]] = np.asarray(values["alpha"], dtype=float).ravel()
        if self.sizes["family"]:
            default = np.full(self.n_components, DISPERSION_PRIOR[0] / DISPERSION_PRIOR[1])
            family = values.get(self._family_name, default)
            theta[cut["family"]] = np.log(np.asarray(family, dtype=float)).ravel()
        return theta

    def from_theta(self, theta: np.ndarray) -> dict[str, np.ndarray]:
        """theta of shape (..., n_dim) -> the model's free variables in constrained space."""
        theta = np.asarray(theta, dtype=float)
        batch = theta.shape[:-1]
        cut, shapes = self._slices(), self._shapes()
        if self.gated:
            gamma = theta[..., cut["weights"]]
            out = {"gate_coefficients": gamma.reshape(*batch, *shapes["gate_coefficients"])}
        else:
            out = self.weights.from_theta(theta[..., cut["weights"]])
        out["beta"] = theta[..., cut["beta"]].reshape(*batch, *shapes["beta"])
        if self.intercept:
            out["alpha"] = theta[..., cut["alpha"]]
        if self.sizes["family"]:
            family = np.exp(theta[..., cut["family"]])
            out[self._family_name] = family.reshape((*batch, *shapes["family"]))
        return out
