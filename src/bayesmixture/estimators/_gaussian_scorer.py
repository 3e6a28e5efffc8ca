"""Scoring new rows of a Gaussian mixture by one matrix product per block of draws.

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

Used by :class:`~bayesmixture.GaussianMixture` and :class:`~bayesmixture.StudentTMixture`
to score new rows without groups or missing entries; everything else goes through the general
evaluator.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import numpy as np
from scipy.special import gammaln

from bayesmixture.evaluation import BLOCK_ELEMENTS, ROW_BLOCK, Chunk, MixtureEvaluator

LOG_2PI = np.log(2.0 * np.pi)
# Draws whose coefficients are computed at once (Cholesky and inverse of S * K matrices).
DRAW_BLOCK = 2048


class GaussianEvaluator:
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
    """

    row_chunkable = True
    backend = "numpy"

    def __init__(
        self,
        spec,
        center: np.ndarray,
        scale: np.ndarray,
        *,
        student: bool = False,
        noise_log_density: float | None = None,
    ):
        self.spec = spec
        self.center = np.asarray(center, dtype=float)
        self.scale = np.asarray(scale, dtype=float)
        self.student = student
        self.noise_log_density = noise_log_density
        self.matrices = "scales" if student else "covariances"
        self.rv_names = ("weights", "means", self.matrices)
        self.rv_names += ("df",) * student + ("noise_weight",) * (noise_log_density is not None)
        # the fused pass (``totals``) covers plain Gaussian components only
        if student or noise_log_density is not None:
            self.totals = None

    def data_values(self, data) -> dict:
        return {}

    def chunks(
        self,
        draws,
        value: np.ndarray,
        *,
        data=None,
        groups=None,
        case_weights=None,
        draw_index=None,
        block_elements: int = BLOCK_ELEMENTS,
    ) -> Iterator[Chunk]:
        """Blocks of (log_resp, log_marginal) over draws and rows, as the general evaluator."""
        if groups is not None or data:
            raise ValueError("the Gaussian scorer takes rows without groups or data.")
        value = np.asarray(value, dtype=float)
        n_rows, K = len(value), self.spec.n_components
        index = np.arange(len(draws["means"])) if draw_index is None else draw_index
        row_block = min(n_rows, ROW_BLOCK)
        draw_block = max(1, min(len(index), block_elements // max(1, row_block * K)))
        for row_start in range(0, n_rows, row_block):
            row_stop = min(n_rows, row_start + row_block)
            features = quadratic_features(value[row_start:row_stop])
            for start in range(0, len(index), draw_block):
                stop = min(len(index), start + draw_block)
                picked = index[start:stop]
                joint = self._log_joint(features, draws, picked)  # (rows, draws, K)
                # logsumexp over the K components by hand: scipy's is ~7x slower here.
                peak = joint.max(axis=-1, keepdims=True)
                joint -= peak
                log_sum = np.log(np.exp(joint).sum(axis=-1, keepdims=True))
                joint -= log_sum  # now log responsibilities
                log_marginal = (peak + log_sum)[..., 0]
                # (draw, row, component) views of the (row, draw, component) blocks
                yield Chunk(
                    start, stop, row_start, row_stop, joint.transpose(1, 0, 2), log_marginal.T
                )

    def totals(
        self, draws, value: np.ndarray, *, density: bool = True
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Sums over every draw, in one fused pass (Numba, row blocks on threads).

        Returns ``sum_s r_sik`` and ``sum_s r_sik^2`` of shape (n_rows, K) and
        ``log sum_s p(x_i | theta_s)`` of shape (n_rows,) (zeros unless ``density``);
        memory stays O(n_rows * K).
        """
        from concurrent.futures import ThreadPoolExecutor

        from bayesmixture._kernels.scoring import membership_totals

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
        n_threads = max(1, min(os.cpu_count() or 1, len(value) // 1000))
        bounds = np.linspace(0, len(value), n_threads + 1).astype(int)

        def run(block: int) -> None:
            rows = slice(bounds[block], bounds[block + 1])
            membership_totals(
                features[rows], weights, K, total[rows], total_sq[rows], log_density[rows], density
            )

        if n_threads == 1:
            run(0)
        else:
            with ThreadPoolExecutor(n_threads) as pool:
                list(pool.map(run, range(n_threads)))
        return total, total_sq, log_density

    def responsibilities(self, draws, value, **kwargs) -> tuple[np.ndarray, np.ndarray]:
        """All blocks assembled: log_resp (draws, obs, K) and log_marginal (draws, obs)."""
        return MixtureEvaluator.responsibilities(self, draws, value, **kwargs)

    def _log_joint(self, features: np.ndarray, draws: dict, picked: np.ndarray) -> np.ndarray:
        """log w_k + log p_k(x) of rows phi(x) (rows, F) for the draws ``picked``."""
        n_rows, n_draws = len(features), len(picked)
        means, matrices = draws["means"][picked], draws[self.matrices][picked]
        K = means.shape[1]
        weights = np.asarray(draws["weights"][picked], dtype=float)
        log_w = np.log(weights)
        if self.noise_log_density is not None:
            noise = np.asarray(draws["noise_weight"][picked], dtype=float)
            log_w = np.concatenate(
                [log_w + np.log1p(-noise)[:, None], np.log(noise)[:, None]], axis=1
            )
        if not self.student:
            columns = self._coefficients(np.exp(log_w[:, :K]), means, matrices)
            joint = (features @ columns).reshape(n_rows, n_draws, K)
        else:
            nu = np.asarray(draws["df"][picked], dtype=float)  # (draws, K)
            columns, log_det = self._quadratic_form(means, matrices)
            quad = (features @ columns).reshape(n_rows, n_draws, K)
            D = means.shape[-1]
            norm = (
                gammaln(0.5 * (nu + D))
                - gammaln(0.5 * nu)
                - 0.5 * D * np.log(nu * np.pi)
                - 0.5 * log_det
                + log_w[:, :K]
            )
            joint = norm - 0.5 * (nu + D) * np.log1p(np.maximum(quad, 0.0) / nu)
        if self.noise_log_density is not None:
            noise_column = np.broadcast_to(log_w[:, K] + self.noise_log_density, (n_rows, n_draws))
            joint = np.concatenate([joint, noise_column[..., None]], axis=-1)
        return joint

    def _quadratic_form(self, means: np.ndarray, matrices: np.ndarray):
        """Columns of q = (x - mu)' P (x - mu) over phi(x) for each (draw, component), on the
        standardised scale, and log det of each matrix (draws, K)."""
        means, matrices = (np.ascontiguousarray(a, dtype=float) for a in (means, matrices))
        mu = (means - self.center) / self.scale  # (S, K, D)
        cov = matrices / np.multiply.outer(self.scale, self.scale)
        chol = np.linalg.cholesky(cov)
        D = mu.shape[-1]
        chol_inv = np.linalg.solve(chol, np.broadcast_to(np.eye(D), chol.shape))
        precision = np.swapaxes(chol_inv, -1, -2) @ chol_inv
        log_det = 2.0 * np.log(np.diagonal(chol, axis1=-2, axis2=-1)).sum(-1)
        b = np.einsum("skij,skj->ski", precision, mu)
        c = np.einsum("ski,ski->sk", mu, b)
        rows, cols = np.triu_indices(D)
        q = precision[..., rows, cols] * np.where(rows == cols, 1.0, 2.0)
        columns = np.concatenate([c[..., None], -2.0 * b, q], axis=-1)  # (S, K, F)
        return columns.reshape(-1, columns.shape[-1]).T, log_det

    def _coefficients(self, w: np.ndarray, means: np.ndarray, covs: np.ndarray) -> np.ndarray:
        """Columns of W for each (draw, component), on the standardised scale."""
        # Contiguous copies: the same draws then give the same bits, however they are stored
        # (a posterior loaded from disk is laid out differently from a fresh one).
        w, means, covs = (np.ascontiguousarray(a, dtype=float) for a in (w, means, covs))
        mu = (means - self.center) / self.scale  # (S, K, D)
        cov = covs / np.multiply.outer(self.scale, self.scale)  # (S, K, D, D)
        chol = np.linalg.cholesky(cov)
        D = mu.shape[-1]
        eye = np.broadcast_to(np.eye(D), chol.shape)
        chol_inv = np.linalg.solve(chol, eye)
        precision = np.swapaxes(chol_inv, -1, -2) @ chol_inv
        log_det = 2.0 * np.log(np.diagonal(chol, axis1=-2, axis2=-1)).sum(-1)
        b = np.einsum("skij,skj->ski", precision, mu)
        c = np.log(w) - 0.5 * (D * LOG_2PI + log_det + np.einsum("ski,ski->sk", mu, b))
        rows, cols = np.triu_indices(D)
        q = -precision[..., rows, cols] * np.where(rows == cols, 0.5, 1.0)
        columns = np.concatenate([c[..., None], b, q], axis=-1)  # (S, K, F)
        return columns.reshape(-1, columns.shape[-1]).T


def quadratic_features(x: np.ndarray) -> np.ndarray:
    """(1, x_1..x_D, x_i x_j for i <= j) of each row: shape (n, 1 + D + D(D+1)/2)."""
    rows, cols = np.triu_indices(x.shape[1])
    return np.concatenate([np.ones((len(x), 1)), x, x[:, rows] * x[:, cols]], axis=1)
