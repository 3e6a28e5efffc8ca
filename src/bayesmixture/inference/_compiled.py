"""nutpie's NUTS on a compiled log-density: no Python on any gradient, chains on every core.

A :class:`CompiledDensity` is a pair of Numba C callbacks with nutpie's signatures and one
float64 payload (sizes, constants and data) that they read through their user-data pointer.
nutpie's Rust sampler calls them from its own threads, so the chains run in parallel without
the GIL and without a C compiler: Numba caches the machine code on disk.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import xarray as xr


@dataclass(frozen=True)
class CompiledDensity:
    """A log-density with gradient that nutpie can call without Python.

    Attributes
    ----------
    logp_cfunc, expand_cfunc : numba CFunc
        ``int64 (dim, x*, grad*, logp*, payload*)`` and ``int64 (dim, n_out, x*, out*,
        payload*)``; the expansion stores the unconstrained draw itself.
    payload : ndarray of float64
        Read-only buffer handed to both callbacks.
    n_dim : int
        Length of the unconstrained parameter vector.
    """

    logp_cfunc: object
    expand_cfunc: object
    payload: np.ndarray
    n_dim: int


def sample_compiled(
    density: CompiledDensity,
    initial_point: Callable[[np.random.Generator], np.ndarray],
    *,
    draws: int,
    tune: int,
    chains: int,
    random_seed: int,
    progressbar: bool = True,
    low_rank_mass_matrix: bool = False,
) -> tuple[np.ndarray, xr.Dataset, float]:
    """Sample ``density`` with nutpie; return unconstrained draws and sampler statistics.

    Parameters
    ----------
    density : CompiledDensity
        The compiled log-density.
    initial_point : callable
        ``initial_point(rng) -> theta``: a chain's starting point, from a generator that
        nutpie seeds per chain (so the same ``random_seed`` gives the same starts).
    draws, tune, chains : int
        Kept draws, tuning draws and chains; chains run in parallel on every core.
    random_seed : int
        Seed of the sampler.
    progressbar : bool, default True
        Show nutpie's progress bar.
    low_rank_mass_matrix : bool, default False
        Use nutpie's low-rank modified mass matrix instead of a diagonal one.

    Returns
    -------
    theta : ndarray of shape (chains, draws, n_dim)
    sample_stats : xarray.Dataset
        nutpie's statistics (``diverging``, ``step_size``, ``n_steps``, ...).
    seconds : float
        Wall time of sampling.
    """
    import nutpie
    from nutpie.compile_pymc import CompiledPyMCModel

    n_dim = density.n_dim

    def init(seed) -> np.ndarray:
        theta = np.asarray(initial_point(np.random.default_rng(int(seed))), dtype=np.float64)
        if theta.shape != (n_dim,):
            raise ValueError(f"initial point has shape {theta.shape}; expected ({n_dim},).")
        return theta

    compiled = CompiledPyMCModel(
        dims={},
        compiled_logp_func=density.logp_cfunc,
        compiled_expand_func=density.expand_cfunc,
        initial_point_func=init,
        shared_data={},
        user_data=density.payload,
        n_expanded=n_dim,
        shape_info=(["theta"], [slice(0, n_dim)], [(n_dim,)]),
        logp_func=None,
        expand_func=None,
        _n_dim=n_dim,
        _shapes={"theta": (n_dim,)},
        _coords={},
    )
    started = time.perf_counter()
    idata = nutpie.sample(
        compiled,
        draws=draws,
        tune=tune,
        chains=chains,
        cores=min(chains, os.cpu_count() or 1),
        seed=random_seed,
        progress_bar=progressbar,
        save_warmup=False,
        low_rank_modified_mass_matrix=low_rank_mass_matrix,
    )
    seconds = time.perf_counter() - started
    theta = np.asarray(idata.posterior["theta"].values)
    stats = idata.sample_stats.load()
    return theta, stats, seconds


def to_inference_data(
    model,
    values: dict[str, np.ndarray],
    sample_stats: xr.Dataset,
    *,
    sampler: str,
    seconds: float,
):
    """Draws by variable name, shaped (chain, draw, ...), as ``pm.sample`` would return them.

    Dims and coords come from ``model``; ``observed_data`` and ``constant_data`` hold the
    model's data exactly as PyMC records them; ``sample_stats`` are the sampler's.
    """
    import arviz as az
    from pymc.backends.arviz import (
        coords_and_dims_for_inferencedata,
        find_constants,
        find_observations,
    )

    coords, dims = coords_and_dims_for_inferencedata(model)
    first = next(iter(values.values()))
    n_chains, n_draws = first.shape[:2]
    base = {"chain": np.arange(n_chains), "draw": np.arange(n_draws)}

    def dataset(arrays: dict, leading: tuple[str, ...]) -> xr.Dataset:
        data_vars = {}
        for name, array in arrays.items():
            array = np.asarray(array)
            var_dims = list(leading) + list(dims.get(name, ()))
            extra = array.ndim - len(var_dims)
            var_dims += [f"{name}_dim_{i}" for i in range(extra)]
            data_vars[name] = xr.DataArray(array, dims=var_dims)
        used = {d for array in data_vars.values() for d in array.dims}
        var_coords = {d: coords[d] for d in used if d in coords}
        var_coords.update({d: v for d, v in base.items() if d in used})
        return xr.Dataset(data_vars, coords=var_coords)

    posterior = dataset(values, ("chain", "draw"))
    posterior.attrs.update({"sampling_time": seconds, "bayesmixture_sampler": sampler})
    stats = sample_stats.assign_coords(base)
    groups = {"posterior": posterior, "sample_stats": stats}
    observed = find_observations(model)
    if observed:
        groups["observed_data"] = dataset(observed, ())
    constants = find_constants(model)
    if constants:
        groups["constant_data"] = dataset(constants, ())
    return az.InferenceData(**groups)
