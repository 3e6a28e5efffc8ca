"""Per-element R-hat and ESS of the posterior, and which element is the worst, by name."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import arviz as az
import numpy as np
import xarray as xr

from bayesmixture.diagnostics._finding import OBS_DIM, Describe


def element_statistics(idata: az.InferenceData) -> dict[str, xr.Dataset]:
    """R-hat, bulk ESS and tail ESS of every element of every checked variable, keeping each
    variable's dims and coordinates (so the worst element can be named in words)."""
    posterior = idata.posterior[checked_vars(idata.posterior)]
    with _numpy_variances():
        return {
            "r_hat": az.rhat(posterior),
            "ess_bulk": az.ess(posterior, method="bulk"),
            "ess_tail": az.ess(posterior, method="tail"),
        }


def extreme(statistic: xr.Dataset, *, largest: bool, describe: Describe) -> tuple[float, str]:
    """The largest (or smallest) finite value over every element, and that element in words;
    (NaN, "") when there is none."""
    best, best_name = np.nan, ""
    for name, values in statistic.data_vars.items():
        array = np.asarray(values.values, dtype=float)
        finite = np.isfinite(array)
        if not finite.any():
            continue
        masked = np.where(finite, array, -np.inf if largest else np.inf)
        flat = int(np.argmax(masked) if largest else np.argmin(masked))
        value = float(masked.flat[flat])
        if np.isnan(best) or (value > best if largest else value < best):
            index = np.unravel_index(flat, array.shape)
            labels = {
                dim: values[dim].values[i] if dim in values.coords else i
                for dim, i in zip(values.dims, index, strict=True)
            }
            best, best_name = value, describe(str(name), _plain(labels))
    return best, best_name


def checked_vars(posterior: xr.Dataset) -> list[str]:
    """Every posterior variable except per-observation ones (one R-hat per parameter)."""
    return [str(name) for name, var in posterior.data_vars.items() if OBS_DIM not in var.dims]


def _plain(labels: dict) -> dict:
    return {dim: (v.item() if isinstance(v, np.generic) else v) for dim, v in labels.items()}


@contextlib.contextmanager
def _numpy_variances() -> Iterator[None]:
    """ArviZ's R-hat and ESS with numpy's variance instead of its Numba one.

    ArviZ compiles its Numba variance in every new process (0.4-1.2 s, a tenth of a fresh
    penguins fit), longer than numpy takes on any posterior here; the values agree to
    rounding (1e-10). ArviZ's own setting is restored afterwards.
    """
    flag = az.Numba.numba_flag
    az.Numba.numba_flag = False
    try:
        yield
    finally:
        az.Numba.numba_flag = flag
