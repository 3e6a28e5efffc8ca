"""Scoring rows of a Gaussian mixture by one matrix product per block of draws.

The general evaluator (:mod:`bayesmixture.evaluation`) runs PyMC's MvNormal log density, which
solves one small triangular system per row and draw: for 100,000 rows and 4,000 draws that
is over a billion tiny solves. For a Gaussian component the log density is a quadratic form,

    log w_k + log N(x | mu_k, Sigma_k) = c_k + b_k' x + sum_{i<=j} q_kij x_i x_j,

with P = Sigma_k^-1, b_k = P mu_k, q_kii = -P_ii / 2, q_kij = -P_ij (i < j) and
c_k = log w_k - (D log 2 pi + log det Sigma_k + mu_k' P mu_k) / 2. With the features
phi(x) = (1, x, x_i x_j) of each row, every (draw, component) pair is one column of a weight
matrix, and a block of draws is one matrix product phi(X) @ W. The result equals PyMC's
density to rounding (tested to 1e-9 relative on standardised data).

A Student-t component's log density is a function of the same kind of product: with the
quadratic form q = (x - mu)' P (x - mu) = phi(x) . w_k (P the inverse scale matrix),
log t = c_k - (nu_k + D) / 2 log(1 + q / nu_k). A noise component (mclust's uniform
background) adds a column of constant density.

A row with missing entries has the density of its observed entries: the same product over
the features of those entries, with the means and matrices cut to them (one product per
pattern of gaps). Weights per group enter as each row's own log w_k.

Used by :class:`~bayesmixture.GaussianMixture` and :class:`~bayesmixture.StudentTMixture`
to relabel the draws and score training and new rows; only shared labels (rows of a group
sharing one component) go through the general evaluator.
"""

from __future__ import annotations

import numpy as np
from scipy.special import gammaln

from bayesmixture.evaluation import ArrayScorer

LOG_2PI = np.log(2.0 * np.pi)
# Draws whose coefficients are computed at once (Cholesky and inverse of S * K matrices).
DRAW_BLOCK = 2048


class GaussianEvaluator(ArrayScorer):
    """Per-draw log responsibilities and marginal densities of a Gaussian or Student-t mixture.

    Duck-types :class:`~bayesmixture.evaluation.MixtureEvaluator` for
    ``summarise`` and ``predictive_log_density``. Draws are read from the posterior's
    ``weights``, ``means`` and ``covariances`` (data units; ``scales`` and ``df`` for Student-t
    components, ``noise_weight`` with a noise component) and moved to the model's
    standardised scale, where new values arrive.

    Parameters
    ----------
    spec : MixtureSpec
        The mixture's record (for the number of components, the noise column included).
    center, scale : ndarray of shape (n_features,)
        The standardisation of the fit.
    student : bool, default False
        Student-t components (``scales`` and ``df`` in the posterior).
    noise_log_density : float, optional
        The noise component's log density on the standardised scale (a constant); None
        without noise.
    group_index : ndarray of int, optional
        The training rows' groups when the weights are per group (``group_weights`` in the
        posterior, one row of weights per group); new rows give theirs as
        ``data={"group_index": ...}``.
    """

    def __init__(
        self,
        spec,
        center: np.ndarray,
        scale: np.ndarray,
        *,
        student: bool = False,
        noise_log_density: float | None = None,
        group_index: np.ndarray | None = None,
    ):
        self.spec = spec
        self.center = np.asarray(center, dtype=float)
        self.scale = np.asarray(scale, dtype=float)
        self.student = student
        self.noise_log_density = noise_log_density
        self.group_index = None if group_index is None else np.asarray(group_index, np.intp)
        self.matrices = "scales" if student else "covariances"
        self.weights_name = "weights" if group_index is None else "group_weights"
        self.rv_names = (self.weights_name, "means", self.matrices)
        self.rv_names += ("df",) * student + ("noise_weight",) * (noise_log_density is not None)
        # relabelling may score a subset of the rows only when rows carry no group
        self.row_chunkable = group_index is None
        # the fused pass (``totals``) covers plain Gaussian components only
        if student or noise_log_density is not None or group_index is not None:
            self.totals = None

    def _row_data(self, data, n_rows: int) -> dict[str, np.ndarray]:
        """Each row's group (per-group weights), from ``data`` or the training rows."""
        data = dict(data or {})
        unknown = sorted(set(data) - {"group_index"})
        if unknown:
            raise ValueError(f"the Gaussian scorer takes group_index as data, not {unknown}.")
        if self.group_index is None:
            if data:
                raise ValueError("group_index was given, but the weights are not per group.")
            return {}
        codes = np.asarray(data.get("group_index", self.group_index), dtype=np.intp)
        if codes.shape != (n_rows,):
            raise ValueError(f"group_index has shape {codes.shape}; expected ({n_rows},).")
        return {"group_index": codes}

    def totals(
        self, draws, value: np.ndarray, *, density: bool = True
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Sums over every draw, in one fused pass (Numba, blocks of rows on threads).

        Returns ``sum_s r_sik`` and ``sum_s r_sik^2`` of shape (n_rows, K) and
        ``log sum_s p(x_i | theta_s)`` of shape (n_rows,) (zeros unless ``density``);
        memory stays O(n_rows * K).
        """
        from bayesmixture._kernels.scoring import membership_totals, over_row_blocks

        value = np.asarray(value, dtype=float)
        K = self.spec.n_components
        features = np.ascontiguousarray(quadratic_features(value))
        n_draws = len(draws["weights"])
        columns = []  # (n_draws * K, F), built a block of draws at a time
        for start in range(0, n_draws, DRAW_BLOCK):
            stop = min(n_draws, start + DRAW_BLOCK)
            block = self._coefficients(
                draws["weights"][start:stop],
                draws["means"][start:stop],
                draws["covariances"][start:stop],
            )
            columns.append(block.T)
        weights = np.ascontiguousarray(np.concatenate(columns, axis=0))
        total = np.zeros((len(value), K))
        total_sq = np.zeros((len(value), K))
        log_density = np.empty(len(value))

        def run(start: int, stop: int) -> None:
            rows = slice(start, stop)
            membership_totals(
                features[rows], weights, K, total[rows], total_sq[rows], log_density[rows], density
            )

        over_row_blocks(len(value), run)
        return total, total_sq, log_density

    def _log_joint(
        self, x: np.ndarray, draws: dict, picked: np.ndarray, row_data: dict | None = None
    ) -> np.ndarray:
        """log w_k + log p_k(x) of standardised rows ``x`` (rows, D) for the draws ``picked``.

        Entries of ``x`` that are NaN are marginalised: a row's density is that of its
        observed entries (rows are grouped by their pattern of gaps); ``row_data`` holds each
        row's ``group_index`` when the weights are per group.
        """
        codes = (row_data or {}).get("group_index")
        n_rows, n_draws = len(x), len(picked)
        means, matrices = draws["means"][picked], draws[self.matrices][picked]
        nu = np.asarray(draws["df"][picked], dtype=float) if self.student else None
        K = means.shape[1]
        gaps = np.isnan(x)
        if not gaps.any():
            joint = self._log_densities(x, means, matrices, nu, None)
        else:
            joint = np.zeros((n_rows, n_draws, K))
            patterns, inverse = np.unique(gaps, axis=0, return_inverse=True)
            inverse = inverse.reshape(-1)
            for p, pattern in enumerate(patterns):
                rows, dims = np.flatnonzero(inverse == p), np.flatnonzero(~pattern)
                if len(dims):  # a row with no observed entry has density 1
                    joint[rows] = self._log_densities(
                        x[np.ix_(rows, dims)], means, matrices, nu, dims
                    )
        log_w = self._log_weights(draws, picked)  # (draws, [group,] K + noise)
        if codes is None:
            log_w = np.broadcast_to(log_w[None], (n_rows, *log_w.shape))
        else:
            log_w = log_w[:, codes].transpose(1, 0, 2)
        joint += log_w[..., :K]
        if self.noise_log_density is not None:
            noise_column = log_w[..., K] + self.noise_log_density
            joint = np.concatenate([joint, noise_column[..., None]], axis=-1)
        return joint

    def _log_weights(self, draws: dict, picked: np.ndarray) -> np.ndarray:
        """log w of the draws ``picked``: (draws, K), or (draws, group, K) per group; the noise
        component's weight last when there is one."""
        with np.errstate(divide="ignore"):  # a weight of 0 (underflow): log 0 = -inf
            log_w = np.log(np.asarray(draws[self.weights_name][picked], dtype=float))
        if self.noise_log_density is not None:
            noise = np.asarray(draws["noise_weight"][picked], dtype=float)
            noise = np.broadcast_to(
                noise.reshape(-1, *(1,) * (log_w.ndim - 1)), log_w[..., :1].shape
            )
            log_w = np.concatenate([log_w + np.log1p(-noise), np.log(noise)], axis=-1)
        return log_w

    def _log_densities(self, x, means, matrices, nu, dims) -> np.ndarray:
        """log p_k(x) of rows ``x`` over the dimensions ``dims`` (None: all), (rows, draws, K)."""
        n_rows, (n_draws, K) = len(x), means.shape[:2]
        features = quadratic_features(x)
        if not self.student:
            columns = self._coefficients(np.ones((n_draws, K)), means, matrices, dims)
            return (features @ columns).reshape(n_rows, n_draws, K)
        columns, log_det = self._quadratic_form(means, matrices, dims)
        quad = (features @ columns).reshape(n_rows, n_draws, K)
        D = x.shape[1]
        norm = (
            gammaln(0.5 * (nu + D))
            - gammaln(0.5 * nu)
            - 0.5 * D * np.log(nu * np.pi)
            - 0.5 * log_det
        )
        return norm - 0.5 * (nu + D) * np.log1p(np.maximum(quad, 0.0) / nu)

    def _standardised(self, means, matrices, dims):
        """Means, precisions and log det of the matrices on the standardised scale, over the
        dimensions ``dims`` (None: all)."""
        # Contiguous copies: the same draws then give the same bits, however they are stored
        # (a posterior loaded from disk is laid out differently from a fresh one).
        means, matrices = (np.ascontiguousarray(a, dtype=float) for a in (means, matrices))
        center, scale = self.center, self.scale
        if dims is not None:
            means, matrices = means[..., dims], matrices[..., dims[:, None], dims]
            center, scale = center[dims], scale[dims]
        mu = (means - center) / scale  # (S, K, D)
        cov = matrices / np.multiply.outer(scale, scale)  # (S, K, D, D)
        chol = np.linalg.cholesky(cov)
        D = mu.shape[-1]
        chol_inv = np.linalg.solve(chol, np.broadcast_to(np.eye(D), chol.shape))
        precision = np.swapaxes(chol_inv, -1, -2) @ chol_inv
        log_det = 2.0 * np.log(np.diagonal(chol, axis1=-2, axis2=-1)).sum(-1)
        return mu, precision, log_det

    def _quadratic_form(self, means: np.ndarray, matrices: np.ndarray, dims=None):
        """Columns of q = (x - mu)' P (x - mu) over phi(x) for each (draw, component), on the
        standardised scale, and log det of each matrix (draws, K)."""
        mu, precision, log_det = self._standardised(means, matrices, dims)
        b = np.einsum("skij,skj->ski", precision, mu)
        c = np.einsum("ski,ski->sk", mu, b)
        rows, cols = np.triu_indices(mu.shape[-1])
        q = precision[..., rows, cols] * np.where(rows == cols, 1.0, 2.0)
        columns = np.concatenate([c[..., None], -2.0 * b, q], axis=-1)  # (S, K, F)
        return columns.reshape(-1, columns.shape[-1]).T, log_det

    def _coefficients(
        self, w: np.ndarray, means: np.ndarray, covs: np.ndarray, dims=None
    ) -> np.ndarray:
        """Columns of W for each (draw, component), on the standardised scale."""
        w = np.ascontiguousarray(w, dtype=float)
        mu, precision, log_det = self._standardised(means, covs, dims)
        D = mu.shape[-1]
        b = np.einsum("skij,skj->ski", precision, mu)
        with np.errstate(divide="ignore"):  # a weight of 0 (underflow): log 0 = -inf
            log_w = np.log(w)
        c = log_w - 0.5 * (D * LOG_2PI + log_det + np.einsum("ski,ski->sk", mu, b))
        rows, cols = np.triu_indices(D)
        q = -precision[..., rows, cols] * np.where(rows == cols, 0.5, 1.0)
        columns = np.concatenate([c[..., None], b, q], axis=-1)  # (S, K, F)
        return columns.reshape(-1, columns.shape[-1]).T


def quadratic_features(x: np.ndarray) -> np.ndarray:
    """(1, x_1..x_D, x_i x_j for i <= j) of each row: shape (n, 1 + D + D(D+1)/2)."""
    rows, cols = np.triu_indices(x.shape[1])
    return np.concatenate([np.ones((len(x), 1)), x, x[:, rows] * x[:, cols]], axis=1)
