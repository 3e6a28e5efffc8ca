"""GaussianMixture's compiled density: pack the payload, map values to and from theta.

``theta`` is PyMC's value vector of the estimator's model, in ``model.value_vars`` order:
the weights' block (``estimators._fast.weights``: ``weights_simplex__`` or
``group_weights_simplex__``, with ``noise_weight_logodds__`` for a noise component; or
``concentration_log__`` and ``weights_simplex__`` for Dirichlet-process weights), ``mu``,
``sd_log__``, for full and tied covariances with more than one feature ``cpc_logodds__``, and
for Student-t components ``df_log__``. The kernel in :mod:`bayesmixture._kernels.gaussian`
evaluates the model's log-density (Jacobians included) there; a test holds it equal to PyMC's
``model.compile_logp()`` and ``compile_dlogp()`` to 1e-10. The payload's layout is the
kernel's ``GAUSSIAN`` record.
"""

from __future__ import annotations

import numpy as np
from scipy.special import betaln, gammaln

from bayesmixture._cholesky import lkj_cpc_concentration
from bayesmixture._kernels import gaussian as kernel
from bayesmixture._kernels.compiling import KernelDensity
from bayesmixture.estimators._fast.weights import WeightsBlock
from bayesmixture.estimators._weights import is_dirichlet_process, noise_concentration

__all__ = ["COVARIANCE_CODES", "GaussianDensity", "noise_concentration", "unsupported_reason"]

# The kernel's covariance structures, by the covariance type's (shared, round, correlated).
COVARIANCE_CODES = {
    (False, False, True): kernel.FULL,
    (True, False, True): kernel.TIED,
    (False, False, False): kernel.DIAG,
    (False, True, False): kernel.SPHERICAL,
}


def _code(covariance_type) -> int | None:
    from bayesmixture.estimators._covariance import check_covariance_type

    kind = check_covariance_type(covariance_type)
    return COVARIANCE_CODES.get((kind.shared, kind.round, kind.correlated))


def unsupported_reason(estimator, fit) -> str | None:
    """Why the compiled density does not cover this fit, or None when it does.

    Every fit GaussianMixture builds is covered: scikit-learn's four covariance types, every
    weights prior, per-group weights, shared labels, case weights, rows with missing entries,
    Student-t components, a noise component and labelled rows, in any combination.
    (Dirichlet-process weights with per-group weights are no model: building it says so.) A
    covariance type added to the table with another structure takes PyMC's graph.
    """
    if _code(estimator.covariance_type) is None:
        return f"covariance_type={estimator.covariance_type!r} (no kernel for its structure)"
    if is_dirichlet_process(estimator.weights_prior) and "group_index" in fit.data:
        return "weights_prior='dirichlet_process' with per-group weights"
    return None


def _missingness_patterns(X: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """X (n_obs, n_features) with missing (NaN) entries, as the kernel reads it.

    Returns
    -------
    packed : ndarray of shape (n_obs, n_features)
        Each row's observed entries first, in their order, then zeros.
    masks : ndarray of shape (n_patterns, n_features)
        1 where a missingness pattern observes a coordinate; every pattern but the complete one.
    row_pattern : ndarray of shape (n_obs,)
        0 for complete rows, p for the rows with pattern ``masks[p - 1]``.
    """
    observed = ~np.isnan(X)
    first = np.argsort(~observed, axis=1, kind="stable")  # observed first, in their order
    packed = np.take_along_axis(np.where(observed, X, 0.0), first, axis=1)
    incomplete = ~observed.all(axis=1)
    patterns, codes = np.unique(observed[incomplete], axis=0, return_inverse=True)
    row_pattern = np.zeros(len(X))
    row_pattern[incomplete] = codes.ravel() + 1
    return packed, patterns.astype(float), row_pattern


def noise_log_density(value: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> np.ndarray:
    """Each row's noise log density on the standardised scale: minus the log volume of the box
    [lower, upper] (over the row's observed columns)."""
    observed = ~np.isnan(np.asarray(value, dtype=float))
    return -(observed * np.log(np.asarray(upper) - np.asarray(lower))).sum(axis=1)


def _structure(covariance_type: str, n_features: int) -> int:
    code = _code(covariance_type)
    if n_features == 1 and code == kernel.FULL:
        return kernel.DIAG  # one feature: the model has no correlations
    if n_features == 1 and code == kernel.TIED:
        return kernel.TIED  # one shared sd, no CPCs (n_cpc_params is 0 for D = 1)
    return code


class GaussianDensity(KernelDensity):
    """Everything the sampler needs for one fit: payload, sizes and the value maps.

    Parameters
    ----------
    estimator : GaussianMixture or StudentTMixture
        Its priors (``weights_prior`` included), covariance structure and component family.
    fit : GaussianFitState
        The validated (standardised) training data. It may hold
        ``noise_lower`` and ``noise_upper`` (the box of a noise component after the K
        components) and ``row_labels`` (per row: -1, or the component a labelled row belongs
        to).
    """

    kernel = "gaussian"

    def __init__(self, estimator, fit):
        # what the fit learned from its data, read once
        group_index = fit.data.get("group_index")
        group_names = fit.group_names
        label_codes = fit.label_group_codes
        n_label_groups = len(fit.label_group_names) if label_codes is not None else 0
        case_weights = fit.sample_weight
        row_labels = fit.row_labels
        noise_box = (fit.noise_lower, fit.noise_upper) if fit.has_noise else None

        X, patterns, row_pattern = _missingness_patterns(np.asarray(fit.value, dtype=float))
        N, D = X.shape
        K = int(estimator.n_components)
        noise = None if noise_box is None else noise_log_density(fit.value, *noise_box)
        self.covariance_type = estimator.covariance_type
        self.cov = _structure(estimator.covariance_type, D)
        self.n_obs, self.n_features, self.n_components = N, D, K
        self.weights = WeightsBlock(
            estimator.weights_prior,
            K,
            n_rows=1 if group_index is None else len(group_names),
            name="weights" if group_index is None else "group_weights",
            noise=noise is not None,
        )
        df_prior = estimator._df_prior()
        self.student = df_prior is not None
        self.n_sd = kernel.n_scale_params(self.cov, K, D)
        self.n_cpc = kernel.n_cpc_params(self.cov, K, D) if D > 1 else 0
        self.n_dim = self.weights.n_params + K * D + self.n_sd + self.n_cpc
        self.n_dim += K if self.student else 0
        pairs = D * (D - 1) // 2
        conc = lkj_cpc_concentration(estimator.lkj_eta, D) if pairs else np.zeros(0)
        header = {
            "n_obs": N,
            "n_features": D,
            "n_components": K,
            "covariance": self.cov,
            "n_pairs": pairs,
            "n_patterns": len(patterns),
            "n_label_groups": n_label_groups,
            "mean_prior_sd": estimator.mean_prior_sd,
            "scale_prior_sd": estimator.scale_prior_sd,
            "n_dim": self.n_dim,
            "constant": self._constant(estimator, conc, df_prior),
        }
        if self.student:
            header["df_shape"], header["df_rate"] = df_prior
        sections = {
            "weights": self.weights.section,
            "cpc_concentration": conc if self.n_cpc else np.zeros(pairs),
            "x": X.T,  # column by column
            "weight_row": np.zeros(N) if group_index is None else group_index,
            "label_group": np.zeros(N) if label_codes is None else label_codes,
            "case_weight": np.ones(N) if case_weights is None else case_weights,
            "known": np.full(N, -1.0) if row_labels is None else row_labels,
            "noise": np.zeros(N) if noise is None else noise,
            "pattern": row_pattern,
            "masks": patterns,
        }
        # rows with gaps and shared labels take the kernel's general variant
        self.general = bool(len(patterns)) or label_codes is not None
        self.variant = (self.general, self.student, self.weights.stick_breaking)
        self.payload = kernel.GAUSSIAN.pack(header, sections)

    def _constant(self, estimator, conc: np.ndarray, df_prior) -> float:
        """The priors' constant terms: weights, means, sds, CPCs, degrees of freedom."""
        K, D = self.n_components, self.n_features
        constant = self.weights.constant
        constant += K * D * (-kernel.HALF_LOG_2PI - np.log(estimator.mean_prior_sd))
        constant += self.n_sd * (0.5 * np.log(2.0 / np.pi) - np.log(estimator.scale_prior_sd))
        if self.n_cpc:
            n_factors = 1 if self.cov == kernel.TIED else K
            constant -= n_factors * betaln(conc, conc).sum()
        if self.student:
            shape, rate = df_prior
            constant += K * (shape * np.log(rate) - gammaln(shape))
        return constant

    # ------------------------------------------------------------------ value maps

    def _slices(self) -> dict[str, slice]:
        K, D = self.n_components, self.n_features
        sizes = {
            "weights": self.weights.n_params,
            "mu": K * D,
            "sd": self.n_sd,
            "cpc": self.n_cpc,
            "df": K if self.student else 0,
        }
        out, start = {}, 0
        for name, size in sizes.items():
            out[name] = slice(start, start + size)
            start += size
        return out

    def _sd_shape(self) -> tuple[int, ...]:
        K, D = self.n_components, self.n_features
        return {
            kernel.FULL: (K, D),
            kernel.DIAG: (K, D),
            kernel.TIED: (D,),
            kernel.SPHERICAL: (K,),
        }[self.cov]

    def _cpc_shape(self) -> tuple[int, ...]:
        pairs = self.n_features * (self.n_features - 1) // 2
        return (pairs,) if self.cov == kernel.TIED else (self.n_components, pairs)

    def to_theta(self, values: dict) -> np.ndarray:
        """Constrained values by variable name (as the estimator's starts) -> theta."""
        theta = np.empty(self.n_dim)
        cut = self._slices()
        theta[cut["weights"]] = self.weights.to_theta(values)
        theta[cut["mu"]] = np.asarray(values["mu"], dtype=float).ravel()
        theta[cut["sd"]] = np.log(np.asarray(values["sd"], dtype=float)).ravel()
        if self.n_cpc:
            cpc = np.asarray(values["cpc"], dtype=float).ravel()
            theta[cut["cpc"]] = np.log(cpc) - np.log1p(-cpc)
        if self.student:
            theta[cut["df"]] = np.log(np.asarray(values["df"], dtype=float))
        return theta

    def from_theta(self, theta: np.ndarray) -> dict[str, np.ndarray]:
        """theta of shape (..., n_dim) -> the model's free variables in constrained space."""
        theta = np.asarray(theta, dtype=float)
        batch = theta.shape[:-1]
        cut = self._slices()
        K, D = self.n_components, self.n_features
        out = self.weights.from_theta(theta[..., cut["weights"]])
        out["mu"] = theta[..., cut["mu"]].reshape(*batch, K, D)
        out["sd"] = np.exp(theta[..., cut["sd"]]).reshape(*batch, *self._sd_shape())
        if self.n_cpc:
            u = theta[..., cut["cpc"]].reshape(*batch, *self._cpc_shape())
            out["cpc"] = 1.0 / (1.0 + np.exp(-u))
        if self.student:
            out["df"] = np.exp(theta[..., cut["df"]])
        return out

    def cholesky(self, values: dict) -> np.ndarray:
        """Cholesky factors (..., K, D, D) on the model scale from constrained values."""
        K, D = self.n_components, self.n_features
        sd = values["sd"]
        batch = sd.shape[: sd.ndim - len(self._sd_shape())]
        if self.cov == kernel.SPHERICAL:
            return sd[..., :, None, None] * np.eye(D)
        if self.cov == kernel.DIAG:
            return sd[..., :, :, None] * np.eye(D)
        if self.n_cpc:
            corr = _corr_cholesky(2.0 * values["cpc"] - 1.0, D)
        else:
            corr = np.broadcast_to(np.eye(D), (*batch, D, D))
        factor = sd[..., :, None] * corr
        if self.cov == kernel.TIED:
            factor = np.broadcast_to(factor[..., None, :, :], (*batch, K, D, D))
        return factor


def _corr_cholesky(z: np.ndarray, D: int) -> np.ndarray:
    """CPCs z (..., D (D - 1) / 2) in (-1, 1) -> correlation Cholesky factors (..., D, D)."""
    rows, cols = np.tril_indices(D, -1)
    Z = np.zeros((*z.shape[:-1], D, D))
    Z[..., rows, cols] = z
    log_remaining = np.log1p(-(Z**2))
    exclusive = np.cumsum(log_remaining, axis=-1) - log_remaining
    return np.tril((Z + np.eye(D)) * np.exp(0.5 * exclusive))
