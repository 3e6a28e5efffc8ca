"""The steps of a fit after its data are validated: sample, relabel, assign the rows.

Each step is a function of its inputs (no estimator state is written here): the estimator's
``fit`` calls them in order and keeps the results only once every step has succeeded.
"""

from __future__ import annotations

import functools
import time
import warnings
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import arviz as az
    import pymc as pm
    import xarray as xr

    from bayesmixture.estimators._state import FitState
    from bayesmixture.inference._compiled import InferenceLayout

COMPONENT_DIM = "component"
RAW_POSTERIOR_GROUP = "unrelabelled_posterior"
PERMUTATION_GROUP = "label_permutation"
# Jitter (unconstrained scale) of chain starts around the estimator's initial solution.
START_JITTER = 0.02
# Seconds of the whole fit, and of sampling alone, recorded on the posterior.
FIT_SECONDS = "bayesmixture_fit_seconds"
SAMPLING_SECONDS = "bayesmixture_wall_time"
# Tuning steps per chain that the fit used (tune=None chooses them).
TUNE_USED = "bayesmixture_tune"


def draw_posterior(
    model: pm.Model | None,
    density,
    initvals: list[dict] | None,
    *,
    sampler: str,
    draws: int,
    tune: int,
    chains: int,
    random_seed: int,
    progressbar: bool,
    posterior_values,
    low_rank: bool = True,
    layout: InferenceLayout | None = None,
) -> az.InferenceData:
    """Sample the posterior: on the compiled ``density`` if given, else on ``model``'s graph.

    ``posterior_values(theta)`` turns the compiled path's unconstrained draws into every
    posterior variable by name, and ``layout`` names them as ``pm.sample`` would (dims,
    coords, observed and constant data); without it the layout is read from ``model``, so the
    compiled path needs a model only when it has no layout. ``low_rank``: nutpie adapts a
    low-rank mass matrix (else a diagonal one); should its adaptation fail (nutpie's Rust
    code then panics), the chains are sampled again with a diagonal mass matrix. The sampling
    wall time is recorded in the posterior's attributes (``SAMPLING_SECONDS``) on either path.
    """
    from bayesmixture.inference import sample

    started = time.perf_counter()
    if density is None:
        idata = sample(
            model,
            sampler=sampler,
            draws=draws,
            tune=tune,
            chains=chains,
            initvals=initvals,
            random_seed=random_seed,
            progressbar=progressbar,
        )
    else:
        from bayesmixture.inference._compiled import (
            CompiledDensity,
            load_sampler,
            model_layout,
            sample_compiled,
            to_inference_data,
        )

        # nutpie's import (ArviZ's with it) overlaps the kernel's compile in its own process
        load_sampler()
        start = density.to_theta(initvals[0]) if initvals else np.zeros(density.n_dim)
        sample = functools.partial(
            sample_compiled,
            CompiledDensity(
                density.logp_cfunc, density.expand_cfunc, density.payload, density.n_dim
            ),
            lambda chain_rng: start + START_JITTER * chain_rng.standard_normal(start.shape),
            draws=draws,
            tune=tune,
            chains=chains,
            random_seed=random_seed,
            progressbar=progressbar,
        )
        try:
            theta, stats, seconds = sample(low_rank_mass_matrix=low_rank)
        except BaseException as err:  # pyo3's PanicException derives from BaseException
            if not (low_rank and type(err).__name__ == "PanicException"):
                raise
            theta, stats, seconds = sample(low_rank_mass_matrix=False)
        idata = to_inference_data(
            model_layout(model) if layout is None else layout,
            posterior_values(theta),
            stats,
            sampler="compiled",
            seconds=seconds,
        )
    idata.posterior.attrs[SAMPLING_SECONDS] = time.perf_counter() - started
    idata.posterior.attrs[TUNE_USED] = int(tune)
    return idata


def relabel_and_assign(
    evaluator,
    idata: az.InferenceData,
    fit: FitState,
    method: str | None,
    *,
    free: np.ndarray | None = None,
    component_coords=None,
):
    """Undo label switching, then the training rows' membership from every draw.

    ``free``: the components whose labels may switch (the others keep theirs); permutations
    cover the mixture's components, and the posterior's component axis (the first of them,
    when a noise component follows) is permuted with them. A labelled row's membership is
    its class's component, certainly. With one label per group (the mixture's groups),
    membership is per group.
    """
    import xarray as xr

    from bayesmixture.evaluation import summarise
    from bayesmixture.relabelling import find_permutations, permute_posterior

    posterior = idata.posterior
    n_chains, n_draws = posterior.sizes["chain"], posterior.sizes["draw"]
    if method is None:
        perms = np.tile(np.arange(evaluator.spec.n_components), (n_chains * n_draws, 1))
    else:
        perms = find_permutations(evaluator, posterior, method, free=free)
    spec = evaluator.spec
    weights_name = spec.weights_name if spec.weights_name in posterior else None
    n_posterior = posterior.sizes[COMPONENT_DIM]
    relabelled = permute_posterior(idata, perms[:, :n_posterior], weights_name=weights_name)
    membership = summarise(
        evaluator,
        relabelled.posterior,
        fit.value,
        None,
        obs_coords=np.arange(fit.n_obs) if spec.groups is None else spec.group_names,
        component_coords=(
            posterior[COMPONENT_DIM].values if component_coords is None else component_coords
        ),
        groups=spec.groups,
        case_weights=spec.case_weights,
    )
    if fit.row_labels is not None:
        membership = with_known_components(membership, np.asarray(fit.row_labels))
        if method is None:
            relabelled.posterior.attrs["component_identity"] = "fixed by labelled rows"
    permutations = xr.DataArray(
        perms[:, :n_posterior].reshape(n_chains, n_draws, -1),
        dims=("chain", "draw", COMPONENT_DIM),
        coords={"chain": posterior["chain"].values, "draw": posterior["draw"].values},
        name="permutation",
    )
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*not defined in the InferenceData scheme")
        relabelled.add_groups(
            {RAW_POSTERIOR_GROUP: posterior, PERMUTATION_GROUP: permutations.to_dataset()}
        )
    return relabelled, permutations, membership


def with_known_components(membership: xr.Dataset, known: np.ndarray) -> xr.Dataset:
    """Membership with labelled rows (``known`` >= 0) set to their component, certainly."""
    rows = np.flatnonzero(known >= 0)
    probability = membership["probability"].values.copy()
    probability[rows] = 0.0
    probability[rows, known[rows]] = 1.0
    sd = membership["probability_sd"].values.copy()
    sd[rows] = 0.0
    return membership.assign(
        probability=(membership["probability"].dims, probability),
        probability_sd=(membership["probability_sd"].dims, sd),
        label=(membership["label"].dims, probability.argmax(axis=1)),
        uncertainty=(membership["uncertainty"].dims, 1.0 - probability.max(axis=1)),
    )
