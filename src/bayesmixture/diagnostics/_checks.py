"""The sampling checks, one function each: the pieces of a fit in, a Finding out."""

from __future__ import annotations

import arviz as az
import numpy as np
import pandas as pd
import xarray as xr

from bayesmixture.diagnostics._finding import (
    CHAIN_SEPARATION_MAX,
    COMPONENT_DIM,
    ESS_MIN,
    ESS_PER_CHAIN,
    OBS_DIM,
    RHAT_MAX,
    WEIGHTS,
    Describe,
    Finding,
    arviz_name,
)
from bayesmixture.diagnostics._stats import extreme


def divergence_finding(idata: az.InferenceData) -> Finding:
    """Divergent transitions: count and share of the kept draws."""
    stats = idata.get("sample_stats")
    title = "Divergent transitions"
    if stats is None or "diverging" not in stats:
        return Finding(
            "divergences",
            "warning",
            np.nan,
            "The sampler recorded no divergence information.",
            "Sample with NUTS (any sampler of bayesmixture.sample), which records them.",
            title,
            "not recorded",
            "0",
        )
    diverging = np.asarray(stats["diverging"].values, dtype=bool)
    count, total = int(diverging.sum()), diverging.size
    return Finding(
        "divergences",
        "ok" if count == 0 else "warning",
        float(count),
        f"{count} of {total} draws ({count / total:.1%}) diverged.",
        "Divergences mean the sampler could not follow the posterior everywhere, so its "
        "answers may be biased; run more tuning steps (tune=) or fit fewer components.",
        title,
        f"{count} of {total} draws",
        "0",
    )


def rhat_finding(
    rhat: xr.Dataset, describe: Describe = arviz_name, *, tuning: int | None = None
) -> Finding:
    """Largest R-hat of the checked variables, and which parameter has it; ``tuning``: the
    tuning steps per chain the fit used, said in the detail."""
    value, name = extreme(rhat, largest=True, describe=describe)
    title, target = "Largest R-hat", f"< {RHAT_MAX}"
    if not np.isfinite(value):
        return Finding(
            "r_hat",
            "warning",
            np.nan,
            "R-hat could not be computed (no varying parameter).",
            "R-hat compares the spread within and between chains; run two or more chains.",
            title,
            "not available",
            target,
        )
    ok = value < RHAT_MAX
    return Finding(
        "r_hat",
        "ok" if ok else "warning",
        value,
        f"Largest R-hat {value:.4f} ({name}); target below {RHAT_MAX}"
        + (f", after {int(tuning)} tuning steps per chain." if tuning is not None else "."),
        "Above the target the chains disagree with each other; run more tuning steps and "
        "draws (tune=, draws=).",
        title,
        f"{value:.4f} ({name})",
        target,
    )


def ess_finding(
    ess: xr.Dataset, kind: str, n_chains: int, describe: Describe = arviz_name
) -> Finding:
    """Smallest bulk or tail ESS, against max(ESS_MIN, ESS_PER_CHAIN * chains)."""
    target = max(ESS_MIN, ESS_PER_CHAIN * n_chains)
    value, name = extreme(ess, largest=False, describe=describe)
    title, shown_target = f"Smallest {kind} ESS", f">= {target}"
    what = "centre" if kind == "bulk" else "5% and 95% quantiles"
    advice = (
        f"The effective number of independent draws for the {what} of each parameter; below "
        "the target, estimates and intervals are imprecise: run more draws (draws=, chains=)."
    )
    if not np.isfinite(value):
        detail = f"The {kind} ESS could not be computed (no varying parameter)."
        return Finding(f"ess_{kind}", "warning", np.nan, detail, advice, title, "n/a", shown_target)
    return Finding(
        f"ess_{kind}",
        "ok" if value >= target else "warning",
        value,
        f"Smallest {kind} ESS {value:.0f} ({name}); target at least {target}.",
        advice,
        title,
        f"{value:.0f} ({name})",
        shown_target,
    )


def chains_disagree_finding(posterior: xr.Dataset, describe: Describe = arviz_name) -> Finding:
    """Largest spread of chain means, in within-chain sds, of the per-component parameters."""
    title, target = "Chains still disagree after relabelling", f"<= {CHAIN_SEPARATION_MAX:g} sd"
    advice = (
        "Chains that disagree after relabelling found different solutions (several modes), "
        "which more draws will not fix; fit fewer components or fewer parameters (Gaussian "
        "clusters in many dimensions: covariance_type='tied' or 'diag'), use more informative "
        "priors (there: a larger lkj_eta), or compare the chains' clusterings."
    )
    n_chains = posterior.sizes["chain"]
    if n_chains < 2:
        detail = "Only one chain: whether other chains would find other solutions is unknown."
        return Finding("chains_disagree", "warning", np.nan, detail, advice, title, "n/a", target)
    value, name = chain_separation(posterior, describe)
    if not np.isfinite(value):
        detail = "No varying per-component parameter to compare between chains."
        return Finding("chains_disagree", "ok", np.nan, detail, advice, title, "n/a", target)
    ok = value <= CHAIN_SEPARATION_MAX
    return Finding(
        "chains_disagree",
        "ok" if ok else "warning",
        value,
        f"Chain means of {name} are {value:.1f} within-chain sds apart; target at most "
        f"{CHAIN_SEPARATION_MAX:g}.",
        advice,
        title,
        f"{value:.1f} sd ({name})",
        target,
    )


def chain_separation(posterior: xr.Dataset, describe: Describe = arviz_name) -> tuple[float, str]:
    """Largest (max - min of chain means) / within-chain sd over per-component scalars.

    Returns the value (NaN when no variable has dim "component" and varies) and that
    scalar named by ``describe`` (by default as ArviZ writes it: ``mu[1]``, ``means[0, x]``).
    """
    spreads = {}
    for name, var in posterior.data_vars.items():
        if COMPONENT_DIM not in var.dims or OBS_DIM in var.dims:
            continue
        chain_means = var.mean("draw")
        within_sd = np.sqrt(var.var("draw", ddof=1).mean("chain"))
        spread = (chain_means.max("chain") - chain_means.min("chain")) / within_sd
        spreads[name] = spread.where(within_sd > 0)
    return extreme(xr.Dataset(spreads), largest=True, describe=describe)


def emptied_components(posterior: xr.Dataset, membership: xr.Dataset) -> np.ndarray:
    """Indices of the components (of the posterior's component axis) that hold almost no data:
    mean weight below 1/(10 N) or fewer than one expected member."""
    return np.flatnonzero(_emptiness(posterior, membership)[0])


def _emptiness(posterior: xr.Dataset, membership: xr.Dataset):
    """(collapsed mask, expected members, mean weights or None, N, what N counts)."""
    # Rows, or groups when a group shares one label: whichever dimension is not the component.
    probability = membership["probability"]
    (unit_dim,) = (dim for dim in probability.dims if dim != COMPONENT_DIM)
    probability = probability.transpose(unit_dim, COMPONENT_DIM).values
    if "noise_weight" in posterior:  # a noise component may well be empty: not checked
        probability = probability[:, :-1]
    units = "rows" if unit_dim == OBS_DIM else f"{unit_dim}s"
    n_obs = probability.shape[0]
    expected = probability.sum(axis=0)  # (component,)
    weights = _mean_weights(posterior)
    collapsed = expected < 1.0
    if weights is not None and weights.shape == expected.shape:
        collapsed |= weights < 1.0 / (10.0 * n_obs)
    return collapsed, expected, weights, n_obs, units


def collapsed_finding(
    posterior: xr.Dataset,
    membership: xr.Dataset | None,
    *,
    empties_on_purpose: bool = False,
    noun: str = "component",
) -> Finding:
    """Components with mean weight below 1/(10 N) or fewer than one expected member.

    With ``empties_on_purpose`` (sparse or Dirichlet-process weights, fitted with more
    components than the data need so that the superfluous ones empty out) empty components
    are the answer, reported with status "ok".
    """
    title, target = "Components with almost no rows", "none"
    advice = (
        "A component that holds almost no data is fitted to its prior alone, so its "
        "parameters mean nothing; fit fewer components (compare several with .select())."
    )
    if empties_on_purpose:
        title, target = "Components emptied by the weights prior", "any"
        advice = (
            "The weights prior empties the components the data do not need, as intended: "
            "their parameters are their priors'. The number of components in use is read "
            "from n_components_posterior()."
        )
    if membership is None:
        detail = "Not checked: it needs the membership probabilities of the rows."
        return Finding("collapsed_components", "ok", np.nan, detail, advice, title, "n/a", target)
    collapsed, expected, weights, n_obs, units = _emptiness(posterior, membership)
    labels = membership[COMPONENT_DIM].values if COMPONENT_DIM in membership.coords else None
    said = []
    for k in np.flatnonzero(collapsed):
        label = labels[k] if labels is not None else k
        weight = f"mean weight {weights[k]:.2g}, " if weights is not None else ""
        said.append(f"{noun} {label}: {weight}{expected[k]:.2g} expected members")
    detail = (
        "; ".join(said) + f" (of {n_obs} {units})."
        if said
        else f"Every {noun} has at least one expected member (fewest: {expected.min():.1f} "
        f"of {n_obs} {units})."
    )
    if said and empties_on_purpose:
        in_use = expected.size - len(said)
        detail = (
            f"{len(said)} of {expected.size} {noun}s emptied by the weights prior, as "
            f"intended ({in_use} in use): " + detail
        )
    return Finding(
        "collapsed_components",
        "warning" if said and not empties_on_purpose else "ok",
        float(len(said)),
        detail,
        advice,
        title,
        "; ".join(said) or "none",
        target,
    )


def label_switching_finding(per_chain: pd.DataFrame, identity: str | None = None) -> Finding:
    """Share of draws relabelled and whether chains disagreed on the order; always ok.

    ``identity``: why the components could not switch (e.g. "fixed by labelled rows").
    """
    if identity is not None:
        return Finding(
            "label_switching",
            "ok",
            0.0,
            f"No relabelling was needed: every component's identity is {identity} (each "
            "component has rows known to belong to it).",
            "Nothing needs doing.",
            "Label switching",
            f"none: {identity}",
            "any",
        )
    share = float(per_chain["share_switched"].mean())
    disagree = per_chain["modal_permutation"].nunique() > 1
    by_chain = ", ".join(f"chain {c}: {s:.0%}" for c, s in per_chain["share_switched"].items())
    orders = (
        "chains found the components in different orders"
        if disagree
        else "all chains found the components in the same order"
    )
    detail = f"Draws relabelled: {by_chain}; {orders}."
    advice = (
        "Fixed: every draw was brought to one consistent numbering before any result was "
        "computed, so nothing needs doing."
        if share > 0
        else "No draw had its components swapped; nothing needs doing."
    )
    return Finding(
        "label_switching", "ok", share, detail, advice, "Label switching", by_chain, "any"
    )


def label_switching_table(permutations: xr.DataArray) -> pd.DataFrame:
    """Per chain: share of draws that were relabelled, and the chain's usual labelling.

    Parameters
    ----------
    permutations : xarray.DataArray with dims (chain, draw, component)
        The label permutation applied to each draw (``estimator.permutations_``).

    Returns
    -------
    pandas.DataFrame
        Indexed by chain, with ``share_switched`` (draws whose permutation is not the
        identity) and ``modal_permutation`` (the most frequent permutation, a tuple).

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> from bayesmixture.diagnostics import label_switching_table
    >>> perms = np.array([[[0, 1], [0, 1]], [[1, 0], [1, 0]]])  # chain 1 found them swapped
    >>> label_switching_table(xr.DataArray(perms, dims=("chain", "draw", "component")))
           share_switched modal_permutation
    chain
    0                 0.0            (0, 1)
    1                 1.0            (1, 0)
    """
    values = np.asarray(permutations.transpose("chain", "draw", COMPONENT_DIM).values)
    identity = np.arange(values.shape[-1])
    rows = []
    for chain_perms in values:
        switched = float((chain_perms != identity).any(axis=1).mean())
        unique, counts = np.unique(chain_perms, axis=0, return_counts=True)
        rows.append((switched, tuple(int(k) for k in unique[counts.argmax()])))
    chains = permutations["chain"].values if "chain" in permutations.coords else None
    index = pd.Index(chains if chains is not None else np.arange(len(values)), name="chain")
    return pd.DataFrame(rows, columns=["share_switched", "modal_permutation"], index=index)


def _mean_weights(posterior: xr.Dataset) -> np.ndarray | None:
    """Posterior mean of the global weights (dims chain, draw, component), if there are any."""
    var = posterior.get(WEIGHTS)
    if var is None or var.dims != ("chain", "draw", COMPONENT_DIM):
        return None
    return np.asarray(var.mean(("chain", "draw")).values, dtype=float)
