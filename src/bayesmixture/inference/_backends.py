"""The samplers of a PyMC graph: PyMC's, nutpie's and NumPyro's NUTS, each on one backend.

Every function takes the model and the same keyword arguments (``draws``, ``tune``,
``chains``, ``initvals``, ``random_seed``, ``progressbar``) and returns ArviZ data with the
model's own variable names, dims and coords. Only ``sample_pymc`` on the C backend compiles C
code: the others trace PyMC's graph to JAX or Numba and are run with PyTensor's C compiler
switched off while they compile, so they behave the same on a machine that has none.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
import warnings
from collections.abc import Iterator
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

_THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def sample_pymc(model, *, mode=None, draws, tune, chains, initvals, random_seed, progressbar):
    """PyMC's NUTS, chains in forked processes; ``mode`` None is C, ``"NUMBA"`` is Numba."""
    import pymc as pm
    import pytensor

    from bayesmixture._rewrites import without_compiler_fusion

    # Forking a process that runs JAX's threads can deadlock; once JAX is loaded (the default
    # sampler and the membership evaluators use it) chains run one after the other here.
    parallel = "jax" not in sys.modules
    cores = min(chains, os.cpu_count() or 1) if parallel else 1
    if mode is None:
        # (PyTensor's configured mode unless there is no C compiler to fuse for)
        compile_kwargs = {} if pytensor.config.cxx else {"mode": without_compiler_fusion()}
        no_compiler = contextlib.nullcontext()
    else:
        # PyTensor's Numba cache is on disk: a second process loads the compiled density
        compile_kwargs = {"mode": mode}
        no_compiler = _no_c_compiler()
    with model, _single_threaded_workers(), no_compiler:
        return pm.sample(
            mp_ctx="fork",
            draws=draws,
            tune=tune,
            chains=chains,
            cores=cores,
            initvals=initvals,
            init="adapt_diag",
            random_seed=random_seed,
            progressbar=progressbar,
            compute_convergence_checks=False,
            compile_kwargs=compile_kwargs,
        )


def sample_numpyro(model, *, draws, tune, chains, initvals, random_seed, progressbar):
    """NumPyro's NUTS on JAX, chains vectorised; its compiled program is kept on disk."""
    import pymc as pm

    with model, _no_c_compiler(), persistent_jax_cache(), warnings.catch_warnings():
        # JAX's note that NumPyro's sampler could not reuse some input buffers: harmless
        warnings.filterwarnings("ignore", message="Some donated buffers were not usable")
        return pm.sample(
            draws=draws,
            tune=tune,
            chains=chains,
            initvals=initvals,
            random_seed=random_seed,
            progressbar=progressbar,
            nuts_sampler="numpyro",
            nuts_sampler_kwargs={"chain_method": "vectorized", "jitter": False},
            compute_convergence_checks=False,
        )


def sample_nutpie(model, *, backend, draws, tune, chains, initvals, random_seed, progressbar):
    """nutpie's NUTS (Rust, one thread per chain) on PyMC's density compiled by ``backend``.

    ``"jax"`` compiles in a second or two and is called through Python at every gradient;
    ``"numba"`` is called without Python but compiles for tens of seconds (its C wrapper is
    compiled again in every process). nutpie takes one starting point: every chain starts at
    ``initvals[0]``, without jitter. Without ``initvals`` each chain starts at the model's
    initial point jittered by U(-1, 1) on the unconstrained scale (as ``pm.sample`` does):
    nutpie's first step needs a nonzero gradient, and a mixture whose components share one
    prior has a zero gradient at that point.
    """
    import nutpie

    start = None if not initvals else {k: np.asarray(v) for k, v in initvals[0].items()}
    names = [var.name for var in [*model.free_RVs, *model.deterministics]]
    # (JAX's persistent cache made no measurable difference here: the time is in the calls)
    with _no_c_compiler():
        compiled = nutpie.compile_pymc_model(
            model,
            backend=backend,
            initial_points=start,
            jitter_rvs=None if start is None else set(),  # None: nutpie jitters every variable
            var_names=names,
        )
        started = time.perf_counter()
        idata = nutpie.sample(
            compiled,
            draws=draws,
            tune=tune,
            chains=chains,
            seed=random_seed,
            progress_bar=progressbar,
            save_warmup=False,
        )
    seconds = time.perf_counter() - started
    # the model's variables, without the unconstrained values nutpie adds (w_simplex__)
    idata.posterior = idata.posterior[[name for name in names if name in idata.posterior]]
    idata.posterior.attrs["sampling_time"] = seconds
    return _with_model_data(idata, model)


def _with_model_data(idata, model):
    """``observed_data`` and ``constant_data`` as ``pm.sample`` records them (nutpie cannot)."""
    from arviz.data.base import dict_to_dataset
    from pymc.backends.arviz import (
        coords_and_dims_for_inferencedata,
        find_constants,
        find_observations,
    )

    coords, dims = coords_and_dims_for_inferencedata(model)
    groups = {}
    for group, values in (
        ("observed_data", find_observations(model)),
        ("constant_data", find_constants(model)),
    ):
        if values:
            groups[group] = dict_to_dataset(
                values, library=None, coords=coords, dims=dims, default_dims=[]
            )
    if groups:
        idata.add_groups(groups)
    return idata


@contextlib.contextmanager
def persistent_jax_cache() -> Iterator[None]:
    """JAX keeps what it compiles beside PyTensor's caches, for the duration of the block.

    JAX's persistent compilation cache is off unless a directory is set; this sets
    ``<pytensor base_compiledir>/jax`` for the block, writes every compilation (NumPyro's
    sampler is several compilations: with only its loop cached, JAX's default of caching
    compilations over a second, a second process sampled a small model in 10.9 s instead of
    13.2 s; with all of them, in 3.5 s instead of 16.1 s), and restores JAX's settings
    afterwards. A directory the user set is used with the user's settings.
    """
    import jax
    import pytensor
    from jax.experimental.compilation_cache import compilation_cache

    if jax.config.jax_compilation_cache_dir is not None:
        yield
        return
    path = Path(pytensor.config.base_compiledir) / "jax"
    min_seconds = jax.config.jax_persistent_cache_min_compile_time_secs
    compilation_cache.reset_cache()  # JAX decides once per process whether a cache is used
    jax.config.update("jax_compilation_cache_dir", str(path))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
    try:
        yield
    finally:
        jax.config.update("jax_compilation_cache_dir", None)
        jax.config.update("jax_persistent_cache_min_compile_time_secs", min_seconds)
        compilation_cache.reset_cache()


@contextlib.contextmanager
def _no_c_compiler() -> Iterator[None]:
    """PyTensor compiles no C code in the block (its helper functions run in Python)."""
    import pytensor

    with pytensor.config.change_flags(cxx=""):
        yield


@contextlib.contextmanager
def _single_threaded_workers():
    """One BLAS thread per process while chains run in parallel processes.

    With one process per core, multi-threaded BLAS in each worker oversubscribes the cores:
    on the penguins model with 2 cores, sampling took 59 s instead of 5 s. Forked workers
    inherit this process's thread-pool limits, and processes started later read the
    environment; both are restored afterwards (variables the user set are kept).
    Sequential chains in this process also run single-threaded: at these sizes BLAS threads
    cost more than they give.
    """
    added = [name for name in _THREAD_VARIABLES if name not in os.environ]
    for name in added:
        os.environ[name] = "1"
    try:
        with threadpool_limits(limits=1):
            yield
    finally:
        for name in added:
            os.environ.pop(name, None)
