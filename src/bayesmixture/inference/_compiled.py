"""nutpie's NUTS on a compiled log-density: no Python on any gradient, chains on every core.

A :class:`CompiledDensity` is a pair of Numba C callbacks with nutpie's signatures and one
float64 payload (sizes, constants and data) that they read through their user-data pointer.
nutpie's Rust sampler calls them from its own threads, so the chains run in parallel without
the GIL and without a C compiler: Numba caches the machine code on disk.

The draws become the InferenceData ``pm.sample`` would return through an
:class:`InferenceLayout`: the names' dims, the coords, the observed and constant data. An
estimator writes its own from its fit state, so that sampling on a kernel needs no PyMC
model (nor PyMC); :func:`model_layout` reads the same from a PyMC model, the reference.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field

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


@dataclass(frozen=True)
class InferenceLayout:
    """What ``pm.sample`` reads from a model besides the draws, to name them.

    Attributes
    ----------
    coords : dict of str to ndarray
        The model's coordinates, as PyMC keeps them (``np.array(tuple(values))``).
    dims : dict of str to tuple of str
        The dims of each named variable (posterior, observed and constant data alike).
    observed : dict of str to ndarray
        The observed data, by the observed variable's name (``observed_data``).
    constant : dict of str to ndarray
        The data containers that are not observed values (``constant_data``).
    """

    coords: dict[str, np.ndarray]
    dims: dict[str, tuple[str, ...]]
    observed: dict[str, np.ndarray] = field(default_factory=dict)
    constant: dict[str, np.ndarray] = field(default_factory=dict)


def pymc_coords(coords: dict) -> dict[str, np.ndarray]:
    """Coordinates as a PyMC model keeps them and ``pm.sample`` records them."""
    return {name: np.array(tuple(values)) for name, values in coords.items()}


# What PyMC stores data as (``pm.Data``, observed values) with its default floatX, float64:
# floats as float64 and integers as int32 (``pymc.pytensorf.smarttypeX``).
_PYMC_DTYPES = {"f": np.float64, "i": np.int32, "u": np.int32}


def pymc_data(values) -> np.ndarray:
    """Data as ``pm.Data`` (or an observed value) stores them, and ``pm.sample`` records them."""
    array = np.asarray(values)
    return array.astype(_PYMC_DTYPES.get(array.dtype.kind, array.dtype), copy=False)


def model_layout(model) -> InferenceLayout:
    """The layout ``pm.sample`` takes from ``model`` (the reference of the estimators' own)."""
    from pymc.backends.arviz import (
        coords_and_dims_for_inferencedata,
        find_constants,
        find_observations,
    )

    coords, dims = coords_and_dims_for_inferencedata(model)
    return InferenceLayout(
        coords=coords,
        dims={name: tuple(value) for name, value in dims.items()},
        observed=find_observations(model),
        constant=find_constants(model),
    )


def load_sampler() -> None:
    """What sampling and naming the draws load on first use, loaded now: a fit calls this
    before it waits for its kernel to compile, so that the loading overlaps the compile.

    nutpie imports ArviZ (and matplotlib with it), and a process's first xarray array makes
    xarray import ``dask.array`` when Dask is installed (its check for lazy arrays).
    """
    import nutpie  # noqa: F401

    xr.DataArray(np.zeros(1))


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
    layout: InferenceLayout,
    values: dict[str, np.ndarray],
    sample_stats: xr.Dataset,
    *,
    sampler: str,
    seconds: float,
):
    """Draws by variable name, shaped (chain, draw, ...), as ``pm.sample`` would return them.

    Dims and coords come from ``layout`` (an estimator's, or :func:`model_layout` of a PyMC
    model); ``observed_data`` and ``constant_data`` hold its data as PyMC records them;
    ``sample_stats`` are the sampler's.
    """
    import arviz as az

    coords, dims = layout.coords, layout.dims
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
    if layout.observed:
        groups["observed_data"] = dataset(layout.observed, ())
    if layout.constant:
        groups["constant_data"] = dataset(layout.constant, ())
    return az.InferenceData(**groups)
