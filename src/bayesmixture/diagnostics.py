"""Can a fit be trusted? Sampling checks of a fitted mixture, each with one sentence of advice.

Seven checks, all on the stored draws (nothing is re-sampled):

``divergences``
    Divergent NUTS transitions (count and share of draws); any is a warning.
``r_hat``
    Largest rank-normalised split R-hat of the relabelled posterior; warning at
    ``RHAT_MAX`` = 1.01 or above (Vehtari et al. 2021).
``ess_bulk``, ``ess_tail``
    Smallest bulk and tail effective sample size; warning below
    ``max(ESS_MIN, ESS_PER_CHAIN * chains)``: 400 effective draws put the Monte Carlo error
    of a posterior mean at 5% of a posterior sd, and 100 per chain are what the per-chain
    variance estimates behind R-hat need to be reliable (Vehtari et al. 2021, section 4).
``chains_disagree``
    Chains that still sit in different places after relabelling (multimodality). For each
    scalar per-component parameter, the spread of the chain means (largest minus smallest)
    is divided by the within-chain sd (root mean of the per-chain variances). Chains of one
    unimodal posterior have means within a few Monte Carlo errors of each other, a small
    fraction of that sd; relabelling has already removed the spread that comes from chains
    numbering the components differently. A spread above ``CHAIN_SEPARATION_MAX`` = 3 sds
    means the chains' draws barely overlap: they found different solutions (for example
    different clusterings), which more draws will not cure. The within-chain sd is the
    right unit because the pooled sd grows with the very separation being measured.
``collapsed_components``
    Components that hold almost no data: posterior mean weight below 1/(10 N), i.e. a
    tenth of one observation in expectation, or fewer than one expected member (the sum
    of the observations' membership probabilities; N counts groups under grouped
    membership).
``label_switching``
    Share of draws whose components were renumbered, and whether chains found the
    components in different orders. Always "ok": the fit has already been relabelled.

References
----------
Vehtari, A., Gelman, A., Simpson, D., Carpenter, B. and Bürkner, P.-C. (2021).
Rank-normalization, folding, and localization: an improved R-hat for assessing
convergence of MCMC. Bayesian Analysis 16(2), 667-718.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator
from dataclasses import dataclass

import arviz as az
import numpy as np
import pandas as pd
import xarray as xr

from bayesmixture.exceptions import ConvergenceWarning

__all__ = [
    "CHAIN_SEPARATION_MAX",
    "ESS_MIN",
    "ESS_PER_CHAIN",
    "RHAT_MAX",
    "Finding",
    "diagnose",
    "findings_frame",
    "label_switching_table",
    "run_checks",
    "warn_if_unreliable",
]

RHAT_MAX = 1.01
ESS_MIN = 400
ESS_PER_CHAIN = 100
CHAIN_SEPARATION_MAX = 3.0
COMPONENT_DIM = "component"
OBS_DIM = "obs"
WEIGHTS = "weights"
COLUMNS = ["check", "status", "value", "detail", "advice"]


@dataclass(frozen=True)
class Finding:
    """The outcome of one check.

    Attributes
    ----------
    check : str
        Short name (``"r_hat"``, ``"divergences"``...).
    status : {"ok", "warning"}
        Whether the check passed.
    value : float
        The measured number (NaN when it could not be measured).
    detail : str
        What was measured, in words (the variable, the share, the chains).
    advice : str
        One sentence: what the finding means and what to do.
    title : str
        Heading of the check in the HTML report.
    shown : str
        The value as the HTML report prints it.
    target : str
        The passing range, as the HTML report prints it.
    """

    check: str
    status: str
    value: float
    detail: str
    advice: str
    title: str
    shown: str
    target: str


def diagnose(fit) -> pd.DataFrame:
    """Sampling checks of a fitted estimator, one row per check, each with advice.

    See the module documentation for what each check measures and why its threshold.

    Parameters
    ----------
    fit : fitted GaussianMixture, Mixture or MixtureRegression
        Its relabelled posterior ``idata_``, ``membership_`` and ``permutations_`` are read;
        nothing is modified or re-sampled. Any object with those attributes and the
        estimators' ``_check_fitted()`` is taken (this module imports no estimator).

    Returns
    -------
    pandas.DataFrame
        One row per check (``divergences``, ``r_hat``, ``ess_bulk``, ``ess_tail``,
        ``chains_disagree``, ``collapsed_components``, ``label_switching``) with columns
        ``check``, ``status`` ("ok" or "warning"), ``value`` (float), ``detail`` and
        ``advice``.

    Raises
    ------
    TypeError
        If ``fit`` is not a bayesmixture estimator.
    AttributeError
        If it has not been fitted.

    Examples
    --------
    >>> import numpy as np, bayesmixture as bm, warnings
    >>> y = np.r_[np.full(30, -4.0), np.full(30, 4.0)] + np.random.default_rng(0).normal(size=60)
    >>> with warnings.catch_warnings():  # 2 chains of 50 draws are too few for ESS >= 400
    ...     warnings.simplefilter("ignore", bm.exceptions.ConvergenceWarning)
    ...     mix = bm.Mixture("normal", 2, draws=50, tune=100, chains=2, random_seed=0,
    ...                      progressbar=False).fit(y)
    >>> table = bm.diagnose(mix)
    >>> table["check"].tolist()
    ['divergences', 'r_hat', 'ess_bulk', 'ess_tail', 'chains_disagree',
     'collapsed_components', 'label_switching']
    >>> sorted(set(table["status"]) - {"ok", "warning"})
    []
    """
    if not callable(getattr(fit, "_check_fitted", None)):
        raise TypeError(
            f"diagnose takes a fitted bayesmixture estimator (GaussianMixture, Mixture, "
            f"MixtureRegression), got {type(fit).__name__}; fit one first, or load one with "
            "bayesmixture.load(path)."
        )
    fit._check_fitted()
    findings = run_checks(fit.idata_, membership=fit.membership_, permutations=fit.permutations_)
    return findings_frame(findings)


def findings_frame(findings: list[Finding]) -> pd.DataFrame:
    """The table :func:`diagnose` returns, from its findings."""
    rows = [[getattr(f, column) for column in COLUMNS] for f in findings]
    frame = pd.DataFrame(rows, columns=COLUMNS)
    return frame.astype({"value": float})


def run_checks(
    idata: az.InferenceData,
    *,
    membership: xr.Dataset | None = None,
    permutations: xr.DataArray | None = None,
) -> list[Finding]:
    """Every check of :func:`diagnose` that the given pieces allow, in table order.

    Parameters
    ----------
    idata : arviz.InferenceData
        Relabelled posterior, with ``sample_stats`` when the sampler recorded them.
    membership : xarray.Dataset, optional
        ``probability`` with dims (obs, component); without it, collapsed components are
        not checked (their row says so, with status "ok").
    permutations : xarray.DataArray, optional
        Dims (chain, draw, component); taken from the group ``label_permutation`` of
        ``idata`` when not given. Without either, label switching is not reported.

    Returns
    -------
    list of Finding
    """
    posterior = idata.posterior
    with _numpy_variances():
        summary = az.summary(
            idata, var_names=_checked_vars(posterior), kind="diagnostics", round_to="none"
        )
    n_chains = posterior.sizes["chain"]
    findings = [
        divergence_finding(idata),
        rhat_finding(summary),
        ess_finding(summary, "bulk", n_chains),
        ess_finding(summary, "tail", n_chains),
        chains_disagree_finding(posterior),
        collapsed_finding(posterior, membership),
    ]
    if permutations is None and "label_permutation" in idata.groups():
        permutations = idata["label_permutation"]["permutation"]
    if permutations is not None:
        identity = posterior.attrs.get("component_identity")
        findings.append(label_switching_finding(label_switching_table(permutations), identity))
    return findings


def warn_if_unreliable(table: pd.DataFrame, *, owner: str, stacklevel: int = 2) -> None:
    """Issue one :class:`ConvergenceWarning` listing the failed checks of ``table``, if any."""
    failed = table[table["status"] == "warning"]
    if failed.empty:
        return
    lines = [f"- {row.check}: {row.detail} {row.advice}" for row in failed.itertuples()]
    warnings.warn(
        f"{owner}: {len(failed)} of {len(table)} sampling checks failed; treat the results as "
        "provisional (the full table: .diagnose()).\n" + "\n".join(lines),
        ConvergenceWarning,
        stacklevel=stacklevel + 1,
    )


# ---------------------------------------------------------------------- the checks


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
            "Sample with NUTS (sampler 'pymc', 'nutpie' or 'numpyro'), which records them.",
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


def rhat_finding(summary: pd.DataFrame) -> Finding:
    """Largest R-hat of the checked variables, and which element has it."""
    rhat = summary["r_hat"] if "r_hat" in summary else pd.Series(dtype=float)
    rhat = rhat[np.isfinite(rhat)]
    title, target = "Largest R-hat", f"< {RHAT_MAX}"
    if rhat.empty:
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
    name, value = rhat.idxmax(), float(rhat.max())
    ok = value < RHAT_MAX
    return Finding(
        "r_hat",
        "ok" if ok else "warning",
        value,
        f"Largest R-hat {value:.4f} ({name}); target below {RHAT_MAX}.",
        "Above the target the chains disagree with each other; run more tuning steps and "
        "draws (tune=, draws=).",
        title,
        f"{value:.4f} ({name})",
        target,
    )


def ess_finding(summary: pd.DataFrame, kind: str, n_chains: int) -> Finding:
    """Smallest bulk or tail ESS, against max(ESS_MIN, ESS_PER_CHAIN * chains)."""
    column = f"ess_{kind}"
    target = max(ESS_MIN, ESS_PER_CHAIN * n_chains)
    ess = summary[column] if column in summary else pd.Series(dtype=float)
    ess = ess[np.isfinite(ess)]
    title, shown_target = f"Smallest {kind} ESS", f">= {target}"
    what = "centre" if kind == "bulk" else "5% and 95% quantiles"
    advice = (
        f"The effective number of independent draws for the {what} of each parameter; below "
        "the target, estimates and intervals are imprecise: run more draws (draws=, chains=)."
    )
    if ess.empty:
        detail = f"The {kind} ESS could not be computed (no varying parameter)."
        return Finding(f"ess_{kind}", "warning", np.nan, detail, advice, title, "n/a", shown_target)
    name, value = ess.idxmin(), float(ess.min())
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


def chains_disagree_finding(posterior: xr.Dataset) -> Finding:
    """Largest spread of chain means, in within-chain sds, of the per-component parameters."""
    title, target = "Chains still disagree after relabelling", f"<= {CHAIN_SEPARATION_MAX:g} sd"
    advice = (
        "Chains that disagree after relabelling found different solutions (several modes), "
        "which more draws will not fix; fit fewer components, use more informative priors, "
        "or compare the chains' clusterings."
    )
    n_chains = posterior.sizes["chain"]
    if n_chains < 2:
        detail = "Only one chain: whether other chains would find other solutions is unknown."
        return Finding("chains_disagree", "warning", np.nan, detail, advice, title, "n/a", target)
    value, name = chain_separation(posterior)
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


def chain_separation(posterior: xr.Dataset) -> tuple[float, str]:
    """Largest (max - min of chain means) / within-chain sd over per-component scalars.

    Returns the value (NaN when no variable has dim "component" and varies) and the name of
    the scalar, written as ArviZ writes it (``mu[1]``, ``means[0, x]``).
    """
    best, best_name = np.nan, ""
    for name, var in posterior.data_vars.items():
        if COMPONENT_DIM not in var.dims or OBS_DIM in var.dims:
            continue
        chain_means = var.mean("draw")
        within_sd = np.sqrt(var.var("draw", ddof=1).mean("chain"))
        spread = (chain_means.max("chain") - chain_means.min("chain")) / within_sd
        spread = spread.where(within_sd > 0)
        if not bool(spread.notnull().any()):
            continue
        flat = spread.stack(element=spread.dims) if spread.dims else spread
        index = int(np.nanargmax(np.atleast_1d(flat.values)))
        value = float(np.atleast_1d(flat.values)[index])
        if np.isnan(best) or value > best:
            best, best_name = value, _element_name(str(name), flat, index)
    return best, best_name


def collapsed_finding(posterior: xr.Dataset, membership: xr.Dataset | None) -> Finding:
    """Components with mean weight below 1/(10 N) or fewer than one expected member."""
    title, target = "Components with almost no rows", "none"
    advice = (
        "A component that holds almost no data is fitted to its prior alone, so its "
        "parameters mean nothing; fit fewer components (compare several with .select()), "
        "unless a sparse or Dirichlet-process weights prior emptied it on purpose."
    )
    if membership is None:
        detail = "Not checked: it needs the membership probabilities of the rows."
        return Finding("collapsed_components", "ok", np.nan, detail, advice, title, "n/a", target)
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
    labels = membership[COMPONENT_DIM].values if COMPONENT_DIM in membership.coords else None
    said = []
    for k in np.flatnonzero(collapsed):
        label = labels[k] if labels is not None else k
        weight = f"mean weight {weights[k]:.2g}, " if weights is not None else ""
        said.append(f"component {label}: {weight}{expected[k]:.2g} expected members")
    detail = (
        "; ".join(said) + f" (of {n_obs} {units})."
        if said
        else f"Every component has at least one expected member (fewest: {expected.min():.1f} "
        f"of {n_obs} {units})."
    )
    return Finding(
        "collapsed_components",
        "warning" if said else "ok",
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


# ---------------------------------------------------------------------- helpers


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


def _checked_vars(posterior: xr.Dataset) -> list[str]:
    """Every posterior variable except per-observation ones (one R-hat per parameter)."""
    return [str(name) for name, var in posterior.data_vars.items() if OBS_DIM not in var.dims]


def _mean_weights(posterior: xr.Dataset) -> np.ndarray | None:
    """Posterior mean of the global weights (dims chain, draw, component), if there are any."""
    var = posterior.get(WEIGHTS)
    if var is None or var.dims != ("chain", "draw", COMPONENT_DIM):
        return None
    return np.asarray(var.mean(("chain", "draw")).values, dtype=float)


def _element_name(name: str, flat: xr.DataArray, index: int) -> str:
    """``name[label, ...]`` of element ``index`` of a stacked array, as ArviZ names it."""
    if "element" not in flat.dims:
        return name
    labels = flat["element"].values[index]
    labels = labels if isinstance(labels, tuple) else (labels,)
    return f"{name}[{', '.join(str(label) for label in labels)}]"


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
