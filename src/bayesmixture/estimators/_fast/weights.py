"""The weights' block of every compiled density: ``weights_prior=`` to the kernel's weights
section (:mod:`bayesmixture._kernels.weights`), and the block's values to and from theta.

theta starts with the weights, in PyMC's order: ``concentration_log__`` then
``weights_simplex__`` for Dirichlet-process weights (``pm.StickBreakingWeights``, one
variable ``weights`` beside ``concentration``); otherwise ``weights_simplex__`` (or
``group_weights_simplex__``, one simplex per group) and, with a noise component,
``noise_weight_logodds__``.
"""

from __future__ import annotations

import numpy as np
from scipy.special import expit, logit

from bayesmixture._kernels import weights as kernel
from bayesmixture.estimators._weights import (
    CONCENTRATION_PRIOR,
    dirichlet_concentration,
    is_dirichlet_process,
    noise_concentration,
)


def gamma_rate(rate: float) -> float:
    """The rate PyMC's Gamma uses: it stores the scale 1 / rate and takes its reciprocal."""
    return 1.0 / (1.0 / rate)


class WeightsBlock:
    """The weights' section of a payload, its prior's constant, and its maps to and from theta.

    Parameters
    ----------
    prior : float, array-like, "sparse" or "dirichlet_process"
        The estimator's ``weights_prior``.
    n_components : int
        K, the mixture's components (the noise component not counted).
    n_rows : int, default 1
        Rows of weights: one per group with per-group weights (``name="group_weights"``).
    name : str, default "weights"
        The weights variable's name.
    noise : bool, default False
        A noise component's weight after the K components (Dirichlet weights only).
    """

    def __init__(self, prior, n_components: int, *, n_rows=1, name="weights", noise=False):
        K = int(n_components)
        self.n_components, self.n_rows, self.name, self.noise = K, int(n_rows), name, noise
        self.stick_breaking = is_dirichlet_process(prior)
        if self.stick_breaking:
            shape, rate = CONCENTRATION_PRIOR
            self.kind = kernel.STICK_BREAKING
            self.section, self.constant = kernel.pack(
                self.kind, K, n_rows=self.n_rows, concentration_prior=(shape, gamma_rate(rate))
            )
        else:
            self.kind = kernel.DIRICHLET
            self.alpha = dirichlet_concentration(prior, K)
            noise_alpha = noise_concentration(self.alpha) if noise else None
            self.section, self.constant = kernel.pack(
                self.kind, K, alpha=self.alpha, n_rows=self.n_rows, noise_concentration=noise_alpha
            )
        self.n_params = kernel.n_params_of(self.kind, K, self.n_rows, noise)

    def to_theta(self, values: dict) -> np.ndarray:
        """The block's theta from constrained values by name (a missing ``concentration``
        starts at its prior mean)."""
        K = self.n_components
        log_w = np.log(np.asarray(values[self.name], dtype=float)).reshape(self.n_rows, K)
        simplex = (log_w[:, :-1] - log_w.mean(axis=1, keepdims=True)).ravel()
        if self.stick_breaking:
            shape, rate = CONCENTRATION_PRIOR
            concentration = values.get("concentration", shape / rate)
            return np.r_[np.log(float(concentration)), simplex]
        if self.noise:
            return np.r_[simplex, logit(float(values["noise_weight"]))]
        return simplex

    def from_theta(self, theta: np.ndarray) -> dict[str, np.ndarray]:
        """theta's block (..., n_params) -> the weights' variables by name, constrained."""
        theta = np.asarray(theta, dtype=float)
        K, batch = self.n_components, theta.shape[:-1]
        start = 1 if self.stick_breaking else 0
        y = theta[..., start : start + self.n_rows * (K - 1)]
        y = y.reshape(*batch, self.n_rows, K - 1)
        a = np.concatenate([y, -y.sum(axis=-1, keepdims=True)], axis=-1)
        a = np.exp(a - a.max(axis=-1, keepdims=True))
        weights = a / a.sum(axis=-1, keepdims=True)
        out = {self.name: weights if self.name == "group_weights" else weights[..., 0, :]}
        if self.stick_breaking:
            out = {"concentration": np.exp(theta[..., 0]), **out}
        if self.noise:
            out["noise_weight"] = expit(theta[..., -1])
        return out
