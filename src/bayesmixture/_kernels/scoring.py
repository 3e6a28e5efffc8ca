"""Fused membership of new rows: quadratic-form densities, softmax and averages in one pass.

For rows x and one weight matrix W of shape (n_draws * K, F) over the quadratic features
phi(x) = (1, x, x_i x_j) (see ``estimators._gaussian_scorer``), every (draw, component)
log-density is one dot product of length F. This kernel walks rows and draws once, keeping
only the running sums of the responsibilities and of their squares, so memory is
O(rows * K) whatever the number of draws, and nothing of size rows x draws is written out.
Row blocks run on threads (the kernel releases the GIL).
"""

from __future__ import annotations

import math

import numba
import numpy as np

ROW_TILE = 64  # rows scored together, so each weight column is read once per tile


@numba.njit(
    cache=True, nogil=True, error_model="numpy", fastmath={"nsz", "arcp", "contract", "reassoc"}
)
def membership_totals(features, weights, n_components, total, total_sq, log_density, density):
    """Accumulate sum_s r_sik, sum_s r_sik^2 and (if ``density``) log sum_s p(x_i | theta_s).

    features (n_rows, F); weights (n_draws * K, F); total, total_sq (n_rows, K) and
    log_density (n_rows,) are written in place. Rows are taken in tiles of ``ROW_TILE``
    (transposed, so the dot products vectorise over rows) against every draw, so the weights
    stream through the cache once per tile.
    """
    n_rows, F = features.shape
    K = n_components
    n_draws = weights.shape[0] // K
    tile_t = np.empty((F, ROW_TILE))
    joint = np.empty((K, ROW_TILE))
    peak = np.empty(ROW_TILE)  # running max of log p_s(x_i) over draws
    mass = np.empty(ROW_TILE)  # sum_s exp(log p_s(x_i) - peak)
    acc_total = np.empty((K, ROW_TILE))
    acc_sq = np.empty((K, ROW_TILE))
    for start in range(0, n_rows, ROW_TILE):
        tile = min(n_rows, start + ROW_TILE) - start
        for f in range(F):
            for r in range(tile):
                tile_t[f, r] = features[start + r, f]
        peak[:] = -np.inf
        mass[:] = 0.0
        acc_total[:] = 0.0
        acc_sq[:] = 0.0
        for s in range(n_draws):
            for k in range(K):
                w = weights[s * K + k]
                for r in range(tile):
                    joint[k, r] = 0.0
                for f in range(F):
                    wf = w[f]
                    for r in range(tile):
                        joint[k, r] += wf * tile_t[f, r]
            for r in range(tile):
                best = 0
                for k in range(1, K):
                    if joint[k, r] > joint[best, r]:
                        best = k
                top = joint[best, r]
                z = 0.0
                for k in range(K):  # exp(0) = 1 for the largest: one exp fewer per row
                    e = 1.0 if k == best else math.exp(joint[k, r] - top)
                    joint[k, r] = e
                    z += e
                inverse = 1.0 / z
                for k in range(K):
                    q = joint[k, r] * inverse
                    acc_total[k, r] += q
                    acc_sq[k, r] += q * q
                if density:  # log p_s(x_i) = top + log z, summed over s with a running shift
                    if top > peak[r]:
                        mass[r] = mass[r] * math.exp(peak[r] - top) + z
                        peak[r] = top
                    else:
                        mass[r] += z * math.exp(top - peak[r])
        for r in range(tile):
            for k in range(K):
                total[start + r, k] += acc_total[k, r]
                total_sq[start + r, k] += acc_sq[k, r]
            log_density[start + r] = peak[r] + math.log(mass[r]) if density else 0.0
