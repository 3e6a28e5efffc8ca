"""Cholesky factors of correlation matrices from canonical partial correlations (CPCs).

LKJ(eta) on d x d correlation matrices is the distribution of the matrix built from
independent CPCs z_ij ~ Beta(b_j, b_j) on (-1, 1), b_j = eta + (d - 2 - j) / 2 for the
partial correlation of (i, j) given variables 0..j-1 (Lewandowski, Kurowicka & Joe 2009,
the vine method). Written this way the prior is a batch of plain Beta variables, one row per
component, which PyMC samples and relabels like any other parameter.

Row i of the factor: L_ij = z_ij sqrt(prod_{k<j} (1 - z_ik^2)) for j < i and
L_ii = sqrt(prod_{k<i} (1 - z_ik^2)).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from pytensor.tensor.variable import TensorVariable


def n_pairs(n_features: int) -> int:
    """Number of CPCs of a d x d correlation matrix: d (d - 1) / 2."""
    return n_features * (n_features - 1) // 2


def lkj_cpc_concentration(eta: float, n_features: int) -> np.ndarray:
    """Beta(b, b) concentration of each CPC, in row-major strict-lower-triangle order."""
    _, cols = np.tril_indices(n_features, -1)
    return eta + (n_features - 2 - cols) / 2.0


def corr_cholesky(cpc: TensorVariable, n_features: int) -> TensorVariable:
    """cpc (..., d (d - 1) / 2) in (-1, 1) -> Cholesky factor (..., d, d) of a correlation."""
    import pytensor.tensor as pt

    rows, cols = np.tril_indices(n_features, -1)
    # Scatter the CPCs into the strict lower triangle with a constant 0/1 matrix: a matmul
    # vectorises over draws, differentiates cheaply and keeps shapes static for JAX.
    scatter = np.zeros((len(rows), n_features, n_features))
    scatter[np.arange(len(rows)), rows, cols] = 1.0
    z = pt.tensordot(cpc, scatter, axes=[[cpc.ndim - 1], [0]])
    log_remaining = pt.log1p(-(z**2))  # 0 on and above the diagonal
    # exclusive cumulative sum along each row: sum_{k<j} log(1 - z_ik^2)
    exclusive = pt.cumsum(log_remaining, axis=-1) - log_remaining
    factor = (z + pt.eye(n_features)) * pt.exp(0.5 * exclusive)
    return pt.tril(factor)


def cpc_from_corr_cholesky(factor: np.ndarray) -> np.ndarray:
    """Inverse of :func:`corr_cholesky` in numpy: (..., d, d) -> (..., d (d - 1) / 2)."""
    factor = np.asarray(factor, dtype=float)
    n_features = factor.shape[-1]
    rows, cols = np.tril_indices(n_features, -1)
    squared_cumsum = np.cumsum(factor**2, axis=-1) - factor**2  # sum_{k<j} L_ik^2
    remaining = np.sqrt(np.clip(1.0 - squared_cumsum, 1e-300, None))
    return (factor / remaining)[..., rows, cols]


def covariance_to_sd_cpc(cov: np.ndarray, *, clip: float = 0.999) -> tuple[np.ndarray, np.ndarray]:
    """Covariances (..., d, d) -> standard deviations (..., d) and CPCs (..., pairs).

    CPCs are clipped to (-clip, clip) so that they make valid starting values.
    """
    sd = np.sqrt(np.diagonal(cov, axis1=-2, axis2=-1))
    corr = cov / (sd[..., :, None] * sd[..., None, :])
    cpc = cpc_from_corr_cholesky(np.linalg.cholesky(corr))
    return sd, np.clip(cpc, -clip, clip)
