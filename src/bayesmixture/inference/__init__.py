"""Sampling backends behind one call: ``sample(model, sampler=...)`` returns ArviZ data.

A PyMC model is sampled through PyMC's own graph, on the backend the caller names or, with
``sampler="auto"``, on the fastest one measured that needs no C compiler (nutpie's NUTS on
PyMC's density compiled by JAX; docs/benchmarks.md, "Your own PyMC model"). Backends that take
them get per-chain initial values without extra jitter, so chains start where the caller put
them; the result always has the model's variable names, dims and coords, whichever engine drew
it. The backends themselves are in ``_backends.py``.
"""

from __future__ import annotations

import importlib.util
import time
from collections.abc import Sequence
from functools import partial
from typing import TYPE_CHECKING

from bayesmixture.inference._backends import sample_numpyro, sample_nutpie, sample_pymc

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
SAMPLERS = ("auto", "compiled", "pymc", "pymc-numba", "nutpie", "nutpie-jax", "numpyro")
# Order in which "auto" picks for a PyMC graph, from benchmarks/bench_user_model.py (the forum
# model and a 200-row two-normal mixture, fresh processes, cold then warm caches, one run):
# nutpie on JAX was fastest cold on both (12.5 s and 10.1 s end to end with membership; the
# next, NumPyro, 27 s; PyMC's default 37-48 s) and 2-3 s behind the fastest warm (NumPyro's
# cached sampler, 10.8 s; PyMC's C sampler, 7.7 s), and a changed model is cold again for
# NumPyro, whose whole sampler compiles with the model. Numba compiles for 30-90 s cold.
_AUTO_ORDER = ("nutpie-jax", "numpyro", "pymc-numba", "nutpie", "pymc")
# the packages each sampler needs
_REQUIRES = {
    "compiled": ("nutpie", "numba"),
    "pymc": ("pymc",),
    "pymc-numba": ("pymc", "numba"),
    "nutpie": ("nutpie", "numba"),
    "nutpie-jax": ("nutpie", "jax"),
    "numpyro": ("numpyro", "jax"),
}
_BACKENDS = {
    "pymc": sample_pymc,
    "pymc-numba": partial(sample_pymc, mode="NUMBA"),
    "nutpie": partial(sample_nutpie, backend="numba"),
    "nutpie-jax": partial(sample_nutpie, backend="jax"),
    "numpyro": sample_numpyro,
}


def available_samplers() -> list[str]:
    """The backends whose packages are installed."""
    return [name for name, needs in _REQUIRES.items() if all(map(_installed, needs))]


def resolve_sampler(sampler: str) -> str:
    """Validate ``sampler``; ``"auto"`` becomes the fastest installed backend."""
    if sampler not in SAMPLERS:
        raise ValueError(f"sampler={sampler!r} is not a sampler; choose one of {SAMPLERS}.")
    installed = available_samplers()
    if sampler == "auto":
        return next(name for name in _AUTO_ORDER if name in installed)
    if sampler not in installed:
        missing = [name for name in _REQUIRES[sampler] if not _installed(name)]
        raise ValueError(
            f"sampler={sampler!r} needs the packages {missing}, which are not installed; "
            f"install them or choose one of {installed}."
        )
    return sampler


def _installed(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


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
    """Draw from the posterior of a PyMC model, on the fastest backend that needs no C compiler.

    The model's own graph is sampled, so every PyMC model works, including mixtures written
    with :func:`bayesmixture.mixture` whose components share parameters. The result reads
    like ``pm.sample``'s, so :func:`bayesmixture.membership`, :func:`bayesmixture.relabel`
    and ArviZ take it as they are.

    Parameters
    ----------
    model : pymc.Model
        The model.
    sampler : {"auto", "nutpie-jax", "numpyro", "pymc-numba", "nutpie", "pymc"}, default "auto"
        The NUTS implementation and the backend that compiles the model's density:

        - ``"nutpie-jax"``: nutpie's NUTS (one thread per chain) on JAX; compiles in a second
          or two, so a new model samples soonest. What ``"auto"`` picks.
        - ``"numpyro"``: NumPyro's NUTS on JAX, chains vectorised; its compiled sampler is
          kept on disk (beside PyTensor's caches), so running the same model again in a new
          process is fastest, while a new model compiles for several seconds.
        - ``"pymc-numba"``: PyMC's NUTS, chains in parallel processes, on PyTensor's Numba
          backend; Numba's disk cache makes later runs fast, the first compile is slow.
        - ``"nutpie"``: nutpie's NUTS on Numba, called without Python; slow to compile.
        - ``"pymc"``: PyMC's default, on the C backend (needs a C compiler).

        ``"auto"`` takes the first of these that is installed. Timings of each on the forum
        model are in docs/benchmarks.md ("Your own PyMC model").
    draws, tune, chains : int, default 1000, 1000, 4
        Kept draws, tuning steps and chains. nutpie needs ``tune >= 1``: with ``tune=0``,
        ``"auto"`` takes PyMC's NUTS.
    initvals : sequence of dict, optional
        One dict of initial values per chain (constrained space, by variable name); chains
        start there without jitter. nutpie takes one starting point: it starts every chain at
        the first dict. Without them, nutpie starts each chain at the model's initial point
        jittered (as ``pm.sample`` does), the other backends at the initial point itself.
    random_seed : int, optional
        Seed; the same seed gives the same draws.
    progressbar : bool, default True
        Show the sampler's progress.

    Returns
    -------
    arviz.InferenceData
        ``posterior`` (the model's variables, with its dims and coords), ``sample_stats``,
        and the model's ``observed_data``; ``posterior.attrs`` records the sampler
        (``bayesmixture_sampler``) and the wall time.

    Raises
    ------
    ValueError
        If ``sampler`` is not one of the above or its packages are not installed, if
        ``initvals`` does not have one entry per chain, or if nutpie is asked for ``tune=0``.

    Examples
    --------
    >>> import numpy as np, pymc as pm, bayesmixture as bm
    >>> y = np.random.default_rng(0).normal(size=40) + np.repeat([-3.0, 3.0], 20)
    >>> with pm.Model(coords={"component": [0, 1]}) as model:
    ...     w = pm.Dirichlet("w", np.ones(2), dims="component")
    ...     mu = pm.Normal("mu", [-1.0, 1.0], 5.0, dims="component")
    ...     _ = bm.mixture("y", w, [pm.Normal.dist(mu[k], 1.0) for k in range(2)], y)
    >>> idata = bm.sample(model, draws=200, tune=200, chains=2, random_seed=1,
    ...                   progressbar=False)
    >>> idata.posterior["mu"].dims, idata.posterior.attrs["bayesmixture_sampler"]
    (('chain', 'draw', 'component'), 'nutpie-jax')
    >>> bool(abs(idata.posterior["mu"].mean(("chain", "draw")) + [3.0, -3.0]).max() < 1)
    True
    """
    name = resolve_sampler(sampler)
    if name == "compiled":
        raise ValueError(
            "sampler='compiled' runs the built-in estimators' compiled densities "
            "(GaussianMixture, Mixture, ...); a PyMC model of your own samples with "
            f"'auto' or one of {tuple(_BACKENDS)}."
        )
    if tune == 0 and name in ("nutpie", "nutpie-jax"):
        if sampler != "auto":
            raise ValueError(
                f"sampler={sampler!r} (nutpie's NUTS) needs at least one tuning step; pass "
                "tune >= 1, or sampler='pymc' to sample without tuning."
            )
        name = "pymc"  # PyMC's NUTS samples untuned (a diagnostic run)
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


def __getattr__(name: str):
    # minibatch ADVI needs PyMC's variational module: imported when first asked for
    if name == "fit_advi_minibatch":
        from bayesmixture.inference._advi import fit_advi_minibatch

        return fit_advi_minibatch
    raise AttributeError(f"module 'bayesmixture.inference' has no attribute {name!r}")
