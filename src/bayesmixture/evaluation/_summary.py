"""Chunked summaries over every draw: the membership Dataset and the predictive density."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import xarray as xr

from bayesmixture.evaluation._arrays import permute_last_axis
from bayesmixture.evaluation._inputs import COMPONENT_DIM, stacked_draws

if TYPE_CHECKING:  # PyMC loads with the evaluator, not with the summaries
    from bayesmixture.evaluation._evaluator import MixtureEvaluator

# Below this many (row, draw) pairs the evaluator's chunks take well under a second (penguins:
# 342 rows x 2,000 draws in ~0.1 s), so an evaluator's fused pass, whose first use in a
# process compiles for ~1 s, is kept for larger inputs.
FUSED_MIN_ROW_DRAWS = 5_000_000


def summarise(
    evaluator: MixtureEvaluator,
    posterior: xr.Dataset,
    value: np.ndarray,
    perms: np.ndarray | None,
    *,
    obs_coords,
    component_coords,
    per_draw: bool = False,
    data=None,
    groups=None,
    case_weights=None,
) -> xr.Dataset:
    """Mean, sd, label and uncertainty of P(z = k) over every draw, chunk by chunk."""
    spec = evaluator.spec
    draws = stacked_draws(posterior, evaluator.rv_names)
    n_chains, n_draws = posterior.sizes["chain"], posterior.sizes["draw"]
    n_terms = len(obs_coords)
    total = np.zeros((n_terms, spec.n_components))
    total_sq = np.zeros_like(total)
    every_draw = np.empty((n_chains * n_draws, n_terms, spec.n_components)) if per_draw else None
    chunks = evaluator.chunks(draws, value, data=data, groups=groups, case_weights=case_weights)
    if _fused(evaluator, perms, every_draw, data, groups, value, n_chains * n_draws):
        # one pass over rows and draws keeping only the sums (e.g. GaussianMixture's scorer)
        total, total_sq, _ = evaluator.totals(draws, value, density=False)
        chunks = ()
    for chunk in chunks:
        resp = np.exp(chunk.log_resp)
        if perms is not None:
            resp = permute_last_axis(resp, perms[chunk.start : chunk.stop])
        rows = slice(chunk.row_start, chunk.row_stop)
        total[rows] += resp.sum(axis=0)
        total_sq[rows] += (resp**2).sum(axis=0)
        if every_draw is not None:
            every_draw[chunk.start : chunk.stop, rows] = resp
    count = n_chains * n_draws
    mean = total / count
    sd = np.sqrt(np.maximum(total_sq / count - mean**2, 0.0))
    obs_dim = "group" if groups is not None else "obs"
    result = xr.Dataset(
        {
            "probability": ((obs_dim, COMPONENT_DIM), mean),
            "probability_sd": ((obs_dim, COMPONENT_DIM), sd),
            "label": ((obs_dim,), mean.argmax(axis=1)),
            "uncertainty": ((obs_dim,), 1.0 - mean.max(axis=1)),
        },
        coords={obs_dim: obs_coords, COMPONENT_DIM: component_coords},
        attrs={"relabelled": str(perms is not None), "n_draws": count},
    )
    if every_draw is not None:
        result["probability_draws"] = xr.DataArray(
            every_draw.reshape(n_chains, n_draws, n_terms, spec.n_components),
            dims=("chain", "draw", obs_dim, COMPONENT_DIM),
            coords={"chain": posterior["chain"].values, "draw": posterior["draw"].values},
        )
    return result


def predictive_log_density(
    evaluator: MixtureEvaluator, posterior: xr.Dataset, value: np.ndarray, *, data=None
) -> np.ndarray:
    """log mean_s p(y_i | theta_s) for each row, accumulated chunk by chunk."""
    from scipy.special import logsumexp

    draws = stacked_draws(posterior, evaluator.rv_names)
    n_draws = posterior.sizes["chain"] * posterior.sizes["draw"]
    if _fused(evaluator, None, None, data, None, value, n_draws):
        return evaluator.totals(draws, value)[2] - np.log(n_draws)
    total = np.full(len(value), -np.inf)
    for chunk in evaluator.chunks(draws, value, data=data):
        rows = slice(chunk.row_start, chunk.row_stop)
        total[rows] = np.logaddexp(total[rows], logsumexp(chunk.log_marginal, axis=0))
    return total - np.log(n_draws)


def _fused(evaluator, perms, every_draw, data, groups, value, n_draws: int) -> bool:
    """Whether the evaluator's fused ``totals`` pass can (and should) replace the chunk loop."""
    plain = perms is None and every_draw is None and not data and groups is None
    fused = callable(getattr(evaluator, "totals", None))
    large = len(value) * n_draws >= FUSED_MIN_ROW_DRAWS
    # (the fused pass takes complete rows)
    return plain and fused and large and not np.isnan(np.asarray(value, dtype=float)).any()
