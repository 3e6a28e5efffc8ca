"""Sampling backends behind one call: ``sample(model, sampler=...)`` returns ArviZ data.

Every backend gets per-chain initial values (from EM, k-means or random starts) without extra
jitter, so chains start where the caller put them; the result always has the model's variable
names, dims and coords, whichever engine drew it.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import sys
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
from threadpoolctl import threadpool_limits

if TYPE_CHECKING:
    import arviz as az
    import pymc as pm

__all__ = [
    "SAMPLERS",
    "available_samplers",
    "fit_advi_minibatch",
    "resolve_sampler",
    "sample",
]

# "compiled": the built-in estimators' hand-written densities on nutpie's NUTS (the fast
# path; see bayesmixture.inference._compiled). The others sample any PyMC model.
SAMPLERS = ("auto", "compiled", "pymc", "nutpie", "numpyro")
# Order in which "auto" picks for a PyMC graph, fastest measured first (docs/benchmarks.md).
_AUTO_ORDER = ("pymc", "numpyro", "nutpie")
_REQUIRES = {"compiled": "nutpie", "pymc": "pymc", "nutpie": "nutpie", "numpyro": "numpyro"}


def available_samplers() -> list[str]:
    """The backends whose packages are installed."""
    return [name for name, module in _REQUIRES.items() if importlib.util.find_spec(module)]


def resolve_sampler(sampler: str) -> str:
    """Validate ``sampler``; ``"auto"`` becomes the fastest installed backend."""
    if sampler not in SAMPLERS:
        raise ValueError(f"sampler={sampler!r} is not a sampler; choose one of {SAMPLERS}.")
    installed = available_samplers()
    if sampler == "auto":
        return next(name for name in _AUTO_ORDER if name in installed)
    if sampler == "compiled" and importlib.util.find_spec("numba") is None:
        raise ValueError("sampler='compiled' needs the package 'numba'; install it.")
    if sampler not in installed:
        raise ValueError(
            f"sampler={sampler!r} needs the package {_REQUIRES[sampler]!r}, which is not "
            f"installed; install it or choose one of {installed}."
        )
    return sampler


def sample(
    model: pm.Model,
    *,
    sampler: str = "auto",
    draws: int = 1000,
    tune: int = 1000,
    chains: int = 4,
    initvals: Sequence[dict] | None = None,
    random_seed: int | None = None,
    progressbar: bool = True,
) -> az.InferenceData:
    """Draw from the posterior of ``model`` with the chosen backend.

    Parameters
    ----------
    model : pymc.Model
        The model.
    sampler : {"auto", "pymc", "nutpie", "numpyro"}, default "auto"
        ``"pymc"``: PyMC's NUTS on the C backend, chains in parallel processes;
        ``"nutpie"``: nutpie's NUTS on the Numba backend; ``"numpyro"``: NumPyro's NUTS on
        JAX (chains vectorised). ``"auto"`` picks the fastest installed one.
    draws, tune, chains : int
        Kept draws, tuning steps and chains.
    initvals : sequence of dict, optional
        One dict of initial values per chain (constrained space, by variable name).
    random_seed : int, optional
        Seed; the same seed gives the same draws.
    progressbar : bool, default True
        Show the sampler's progress.

    Returns
    -------
    arviz.InferenceData
        With ``posterior`` and ``sample_stats``; ``posterior.attrs`` records the sampler and
        the wall time.

    Examples
    --------
    >>> import numpy as np, pymc as pm
    >>> from bayesmixture.inference import sample
    >>> with pm.Model() as model:
    ...     mu = pm.Normal("mu", 0, 1)
    ...     _ = pm.Normal("y", mu, 1, observed=np.zeros(5))
    >>> idata = sample(model, sampler="pymc", draws=50, tune=50, chains=2, random_seed=1,
    ...                progressbar=False)
    >>> idata.posterior["mu"].shape
    (2, 50)
    """
    name = resolve_sampler(sampler)
    if name == "compiled":
        raise ValueError(
            "sampler='compiled' runs the built-in estimators' compiled densities "
            "(GaussianMixture, Mixture); a PyMC model of your own samples with 'pymc', "
            "'nutpie' or 'numpyro' (or 'auto')."
        )
    if initvals is not None and len(initvals) != chains:
        raise ValueError(
            f"initvals has {len(initvals)} entries; expected one per chain ({chains})."
        )
    started = time.perf_counter()
    idata = _BACKENDS[name](
        model,
        draws=draws,
        tune=tune,
        chains=chains,
        initvals=None if initvals is None else list(initvals),
        random_seed=random_seed,
        progressbar=progressbar,
    )
    idata.posterior.attrs["bayesmixture_sampler"] = name
    idata.posterior.attrs["bayesmixture_wall_time"] = time.perf_counter() - started
    return idata


def _sample_pymc(model, *, draws, tune, chains, initvals, random_seed, progressbar):
    import pymc as pm
    import pytensor

    from bayesmixture._rewrites import without_compiler_fusion

    # Forking a process that runs JAX's threads can deadlock; once JAX is loaded (our
    # membership evaluators use it) chains run one after the other in this process.
    parallel = "jax" not in sys.modules
    cores = min(chains, os.cpu_count() or 1) if parallel else 1
    with model, _single_threaded_workers():
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
            # (PyTensor's configured mode unless there is no C compiler to fuse for)
            compile_kwargs={} if pytensor.config.cxx else {"mode": without_compiler_fusion()},
        )


def _sample_numpyro(model, *, draws, tune, chains, initvals, random_seed, progressbar):
    import pymc as pm

    with model:
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


def _sample_nutpie(model, *, draws, tune, chains, initvals, random_seed, progressbar):
    import nutpie

    start = None if not initvals else {k: np.asarray(v) for k, v in initvals[0].items()}
    compiled = nutpie.compile_pymc_model(model, initial_points=start, jitter_rvs=set())
    idata = nutpie.sample(
        compiled,
        draws=draws,
        tune=tune,
        chains=chains,
        seed=random_seed,
        progress_bar=progressbar,
        save_warmup=False,
    )
    return idata


_BACKENDS = {"pymc": _sample_pymc, "numpyro": _sample_numpyro, "nutpie": _sample_nutpie}


_THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


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


def __getattr__(name: str):
    # minibatch ADVI needs PyMC's variational module: imported when first asked for
    if name == "fit_advi_minibatch":
        from bayesmixture.inference._advi import fit_advi_minibatch

        return fit_advi_minibatch
    raise AttributeError(f"module 'bayesmixture.inference' has no attribute {name!r}")
