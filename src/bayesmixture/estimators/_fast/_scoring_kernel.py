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


@numba.njit(cache=True, nogil=True, error_model="numpy", fastmath={"nsz", "arcp", "contract"})
def membership_totals(features, weights, n_components, total, total_sq, log_density):
    """Accumulate sum_s r_sik, sum_s r_sik^2 and logsumexp_s log p_s(x_i) for a row block.

    features (n_rows, F); weights (n_draws * K, F); total, total_sq (n_rows, K) and
    log_density (n_rows,) are written in place (log_density: log sum_s p(x_i | theta_s)).
    """
    n_rows, F = features.shape
    K = n_components
    n_draws = weights.shape[0] // K
    joint = np.empty(K)
    for i in range(n_rows):
        running = -np.inf
        for s in range(n_draws):
            top = -np.inf
            for k in range(K):
                row = s * K + k
                acc = 0.0
                for f in range(F):
                    acc += weights[row, f] * features[i, f]
                joint[k] = acc
                top = max(top, acc)
            z = 0.0
            for k in range(K):
                joint[k] = math.exp(joint[k] - top)
                z += joint[k]
            for k in range(K):
                r = joint[k] / z
                total[i, k] += r
                total_sq[i, k] += r * r
            lse = top + math.log(z)
            if lse > running:
                running = lse + math.log1p(math.exp(running - lse))
            elif lse > -np.inf:
                running = running + math.log1p(math.exp(lse - running))
        log_density[i] = running
