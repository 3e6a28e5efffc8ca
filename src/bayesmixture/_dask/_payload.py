"""What every block task receives: one payload per result, sent to each worker once.

The payload holds the model, the thinned draws (one chain) and, for an estimator, the
estimator without its posterior; its token names it in the graph and keys the evaluator
cache of every process that scores its blocks.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pymc as pm
import xarray as xr
from dask.base import tokenize

from bayesmixture._validation import check_positive_int
from bayesmixture.evaluation import stacked_draws


@dataclass(frozen=True)
class Payload:
    """Everything a block task needs; one graph key, sent to each worker once."""

    token: str
    model: pm.Model
    name: str  # the mixture's observed variable
    posterior: xr.Dataset  # (chain=1, draw=n_draws, ...): the draws used for scoring
    perms: np.ndarray | None  # (n_draws, K) relabelling, or None
    component_coords: np.ndarray
    estimator: object | None = None  # fitted estimator without its posterior: _new_value

    @property
    def n_draws(self) -> int:
        return self.posterior.sizes["draw"]


def thinned(posterior: xr.Dataset, names: list[str], draws: int | None):
    """The stacked draws as a (chain=1, draw) posterior, every one or ``draws`` evenly spaced."""
    stacked = stacked_draws(posterior, names)
    total = posterior.sizes["chain"] * posterior.sizes["draw"]
    if draws is None:
        index = np.arange(total)
    else:
        check_positive_int(draws, "draws", maximum=total)
        index = np.floor(np.linspace(0, total - 1, draws) + 0.5).astype(np.intp)
    data_vars = {
        name: (("chain", "draw", *posterior[name].dims[2:]), stacked[name][index][None])
        for name in names
    }
    return xr.Dataset(data_vars, coords={"chain": [0], "draw": index}), index


def token(model, name, posterior: xr.Dataset, perms) -> str:
    """The payload's name: the same model, draws and relabelling give the same token."""
    arrays = {k: v.values for k, v in posterior.data_vars.items()}
    return tokenize("bayesmixture", id(model), name, arrays, perms)
