"""GaussianMixture's compiled density: pack the payload, map values to and from theta.

``theta`` is PyMC's value vector of the estimator's model, in ``model.value_vars`` order:
``weights_simplex__`` (or ``group_weights_simplex__``), ``mu``, ``sd_log__``, for full and
tied covariances with more than one feature ``cpc_logodds__``, and for Student-t components
``df_log__``. The kernel in :mod:`bayesmixture._kernels.gaussian` evaluates the model's
log-density (Jacobians included) there; a test holds it equal to PyMC's
``model.compile_logp()`` and ``compile_dlogp()`` to 1e-10.

Payload, in order: the header (``kernel.HEADER`` slots), the Dirichlet concentration (one per
weight: the K components, then the noise component if any), the CPC concentrations, X
(n_obs, n_features; a row with missing entries holds its observed entries first, then zeros),
then per row: its weight row, label group, case weight, known component (-1 when unlabelled),
noise log-density and missingness pattern (0: complete); last, the masks of the missingness
patterns other than the complete one (see ``_missingness_patterns``).
"""

from __future__ import annotations

import numpy as np
from scipy.special import betaln, gammaln

from bayesmixture._cholesky import lkj_cpc_concentration
from bayesmixture._kernels import gaussian as kernel
from bayesmixture._kernels.compiling import KernelDensity
from bayesmixture.estimators._weights import noise_concentration

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


def unsupported_reason(fit, covariance_type: str = "full") -> str | None:
    """Why the compiled density does not cover this fit, or None when it does.

    Every fit GaussianMixture builds is covered: the four covariance types of
    scikit-learn, per-group weights, shared labels, case weights and rows with missing
    entries, in any combination. A covariance type added to the table with another
    structure takes PyMC's graph.
    """
    if _code(covariance_type) is None:
        return f"covariance_type={covariance_type!r} (no kernel for its structure)"
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
        Its priors, covariance structure and component family.
    fit : FitData
        The validated (standardised) training data. It may hold
        ``noise_lower`` and ``noise_upper`` (the box of a noise component after the K
        components) and ``row_labels`` (per row: -1, or the component a labelled row belongs
        to).
    alpha : ndarray of shape (n_components,)
        Dirichlet concentration of the clusters' weights; a noise weight has the prior
        Beta(``noise_concentration(alpha)``, ``alpha.sum()``).
    """

    kernel = "gaussian"

    def __init__(self, estimator, fit, alpha: np.ndarray):
        X = np.asarray(fit.value, dtype=float)
        N, D = X.shape
        X, patterns, row_pattern = _missingness_patterns(X)
        K = int(estimator.n_components)
        noise = None
        if fit.has_noise:
            noise = noise_log_density(fit.value, fit.noise_lower, fit.noise_upper)
        n_weights = K + (noise is not None)
        if len(alpha) != K:
            raise ValueError(f"alpha has {len(alpha)} entries; expected {K}.")
        self.covariance_type = estimator.covariance_type
        self.cov = _structure(estimator.covariance_type, D)
        self.n_obs, self.n_features, self.n_components = N, D, K
        self.n_weights = n_weights
        group_index = fit.data.get("group_index")
        self.n_weight_rows = 1 if group_index is None else len(fit.group_names)
        self.weights_name = "weights" if group_index is None else "group_weights"
        label_codes = fit.label_group_codes
        case_weights = fit.sample_weight
        row_labels = fit.row_labels
        df_prior = estimator._df_prior()
        self.student = df_prior is not None
        self.n_sd = kernel.n_scale_params(self.cov, K, D)
        self.n_cpc = kernel.n_cpc_params(self.cov, K, D) if D > 1 else 0
        self.n_dim = (self.n_weight_rows * (n_weights - 1) + K * D + self.n_sd + self.n_cpc) + (
            K if self.student else 0
        )
        pairs = D * (D - 1) // 2
        conc = lkj_cpc_concentration(estimator.lkj_eta, D) if pairs else np.zeros(0)
        constant = self.n_weight_rows * (gammaln(alpha.sum()) - gammaln(alpha).sum() + np.log(K))
        if noise is not None:  # Beta(noise_alpha, sum alpha) of the noise weight
            noise_alpha = noise_concentration(alpha)
            constant -= betaln(noise_alpha, alpha.sum())
        constant += K * D * (-kernel.HALF_LOG_2PI - np.log(estimator.mean_prior_sd))
        constant += self.n_sd * (0.5 * np.log(2.0 / np.pi) - np.log(estimator.scale_prior_sd))
        n_factors = 1 if self.cov == kernel.TIED else K
        if self.n_cpc:
            constant -= n_factors * betaln(conc, conc).sum()
        header = np.zeros(kernel.HEADER)
        header[kernel.N_OBS], header[kernel.N_FEATURES], header[kernel.N_COMPONENTS] = N, D, K
        header[kernel.COVARIANCE] = self.cov
        header[kernel.N_WEIGHT_ROWS] = self.n_weight_rows
        if label_codes is not None:
            header[kernel.HAS_LABEL_GROUPS] = 1.0
            header[kernel.N_LABEL_GROUPS] = len(fit.label_group_names)
        if self.student:
            shape, rate = df_prior
            header[kernel.STUDENT_T] = 1.0
            header[kernel.DF_SHAPE], header[kernel.DF_RATE] = shape, rate
            constant += K * (shape * np.log(rate) - gammaln(shape))
        if noise is not None:
            header[kernel.HAS_NOISE] = 1.0
            header[kernel.NOISE_CONCENTRATION] = noise_alpha
        header[kernel.CONSTANT] = constant
        header[kernel.MEAN_PRIOR_SD] = estimator.mean_prior_sd
        header[kernel.SCALE_PRIOR_SD] = estimator.scale_prior_sd
        header[kernel.N_DIM] = self.n_dim
        header[kernel.N_PATTERNS] = len(patterns)
        parts = [
            header,
            np.asarray(alpha, dtype=float),
            conc if self.n_cpc else np.zeros(pairs),
            X.ravel(),
            np.zeros(N) if group_index is None else np.asarray(group_index, dtype=float),
            np.zeros(N) if label_codes is None else np.asarray(label_codes, dtype=float),
            np.ones(N) if case_weights is None else np.asarray(case_weights, dtype=float),
            np.full(N, -1.0) if row_labels is None else np.asarray(row_labels, dtype=float),
            np.zeros(N) if noise is None else np.asarray(noise, dtype=float),
            row_pattern,
            patterns.ravel(),
        ]
        # rows with gaps and shared labels take the kernel's general variant
        self.general = bool(len(patterns)) or label_codes is not None
        self.variant = (self.general, self.student)
        payload = np.ascontiguousarray(np.concatenate(parts))
        payload[kernel.PAYLOAD_SIZE] = payload.size
        payload.flags.writeable = False
        self.payload = payload

    # ------------------------------------------------------------------ evaluation

    # ------------------------------------------------------------------ value maps

    def _slices(self) -> dict[str, slice]:
        K, D = self.n_components, self.n_features
        sizes = {
            self.weights_name: self.n_weight_rows * (K - 1),
            "noise_weight": self.n_weights - K,
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
        log_w = np.log(np.asarray(values[self.weights_name], dtype=float))
        log_w = log_w.reshape(self.n_weight_rows, self.n_components)
        simplex = log_w[:, :-1] - log_w.mean(axis=1, keepdims=True)
        theta[cut[self.weights_name]] = simplex.ravel()
        if self.n_weights > self.n_components:
            pi = float(values["noise_weight"])
            theta[cut["noise_weight"]] = np.log(pi) - np.log1p(-pi)
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
        y = theta[..., cut[self.weights_name]].reshape(*batch, self.n_weight_rows, K - 1)
        a = np.concatenate([y, -y.sum(axis=-1, keepdims=True)], axis=-1)
        a = np.exp(a - a.max(axis=-1, keepdims=True))
        weights = a / a.sum(axis=-1, keepdims=True)
        out = {
            self.weights_name: weights[..., 0, :] if self.weights_name == "weights" else weights,
            "mu": theta[..., cut["mu"]].reshape(*batch, K, D),
            "sd": np.exp(theta[..., cut["sd"]]).reshape(*batch, *self._sd_shape()),
        }
        if self.n_cpc:
            u = theta[..., cut["cpc"]].reshape(*batch, *self._cpc_shape())
            out["cpc"] = 1.0 / (1.0 + np.exp(-u))
        if self.student:
            out["df"] = np.exp(theta[..., cut["df"]])
        if self.n_weights > K:
            out["noise_weight"] = 1.0 / (1.0 + np.exp(-theta[..., cut["noise_weight"]][..., 0]))
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
