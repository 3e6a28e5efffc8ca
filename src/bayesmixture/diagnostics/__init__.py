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
    membership). Under sparse or Dirichlet-process weights, which are meant to empty the
    components the data do not need, emptied components are reported and pass.
``label_switching``
    Share of draws whose components were renumbered, and whether chains found the
    components in different orders. Always "ok": the fit has already been relabelled.

Parameters are named in words by the estimator that ran the checks (``correlation of a and
b in cluster Adelie``); without one, as ArviZ writes them (``cpc[0, a|b]``). An estimator
makes its checks once, when its fit ends (``diagnostics_``); :func:`diagnose`, the warning,
the report and the command line read them.

References
----------
Vehtari, A., Gelman, A., Simpson, D., Carpenter, B. and Bürkner, P.-C. (2021).
Rank-normalization, folding, and localization: an improved R-hat for assessing
convergence of MCMC. Bayesian Analysis 16(2), 667-718.
"""

from __future__ import annotations

import warnings

import arviz as az
import numpy as np
import pandas as pd
import xarray as xr

from bayesmixture.diagnostics._checks import (
    chain_separation,
    chains_disagree_finding,
    collapsed_finding,
    divergence_finding,
    emptied_components,
    ess_finding,
    label_switching_finding,
    label_switching_table,
    rhat_finding,
)
from bayesmixture.diagnostics._finding import (
    CHAIN_SEPARATION_MAX,
    COLUMNS,
    ESS_MIN,
    ESS_PER_CHAIN,
    RHAT_MAX,
    Describe,
    Finding,
    arviz_name,
)
from bayesmixture.diagnostics._stats import element_statistics

__all__ = [
    "CHAIN_SEPARATION_MAX",
    "COLUMNS",
    "ESS_MIN",
    "ESS_PER_CHAIN",
    "RHAT_MAX",
    "Finding",
    "arviz_name",
    "chain_separation",
    "diagnose",
    "findings_frame",
    "label_switching_table",
    "run_checks",
    "warn_if_unreliable",
]


def diagnose(fit) -> pd.DataFrame:
    """Sampling checks of a fitted estimator, one row per check, each with advice.

    See the module documentation for what each check measures and why its threshold. The
    checks were made when the fit ended (``fit.diagnostics_``); nothing is recomputed.

    Parameters
    ----------
    fit : fitted GaussianMixture, StudentTMixture, Mixture or MixtureRegression
        Any object with ``diagnostics_`` and the estimators' ``_check_fitted()`` is taken
        (this module imports no estimator).

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
    sklearn.exceptions.NotFittedError
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
    return fit.diagnostics_[COLUMNS].copy()


def findings_frame(findings: list[Finding]) -> pd.DataFrame:
    """The findings as a table: the columns of :func:`diagnose`, then ``title``, ``shown``
    and ``target`` (what the HTML report prints)."""
    rows = [f.to_dict() for f in findings]
    columns = list(Finding.__dataclass_fields__)
    frame = pd.DataFrame(rows, columns=columns)
    return frame.astype({"value": float})


def run_checks(
    idata: az.InferenceData,
    *,
    membership: xr.Dataset | None = None,
    permutations: xr.DataArray | None = None,
    empties_on_purpose: bool = False,
    describe: Describe = arviz_name,
    noun: str = "component",
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
    empties_on_purpose : bool, default False
        The weights prior (sparse, Dirichlet process) empties superfluous components: an
        empty component is reported, not a failure, and R-hat, ESS and the chains'
        agreement are those of the components in use (an emptied component's parameters are
        draws from their prior).
    describe : callable, optional
        ``describe(variable, {dim: label})`` names a parameter in the messages; by default
        as ArviZ does (``mu[0, x]``).
    noun : str, default "component"
        What a component is called in the messages ("cluster" for GaussianMixture).

    Returns
    -------
    list of Finding
    """
    posterior = idata.posterior
    checked = _components_in_use(idata, membership) if empties_on_purpose else idata
    statistics = element_statistics(checked)
    n_chains = posterior.sizes["chain"]
    # the tuning steps the fit used (bayesmixture's record, or pm.sample's)
    tuning = posterior.attrs.get("bayesmixture_tune", posterior.attrs.get("tuning_steps"))
    findings = [
        divergence_finding(idata),
        rhat_finding(statistics["r_hat"], describe, tuning=tuning),
        ess_finding(statistics["ess_bulk"], "bulk", n_chains, describe),
        ess_finding(statistics["ess_tail"], "tail", n_chains, describe),
        chains_disagree_finding(checked.posterior, describe),
        collapsed_finding(posterior, membership, empties_on_purpose=empties_on_purpose, noun=noun),
    ]
    if permutations is None and "label_permutation" in idata.groups():
        permutations = idata["label_permutation"]["permutation"]
    if permutations is not None:
        identity = posterior.attrs.get("component_identity")
        findings.append(label_switching_finding(label_switching_table(permutations), identity))
    return findings


def _components_in_use(idata: az.InferenceData, membership: xr.Dataset | None):
    """The fit without the components its weights prior emptied on purpose: their
    parameters are draws from their priors, whose R-hat and ESS say nothing of the fit."""
    if membership is None:
        return idata
    emptied = emptied_components(idata.posterior, membership)
    posterior = idata.posterior
    if not emptied.size or "component" not in posterior.dims:
        return idata
    in_use = np.setdiff1d(np.arange(posterior.sizes["component"]), emptied)
    return az.InferenceData(posterior=posterior.isel(component=in_use))


def warn_if_unreliable(table: pd.DataFrame, *, owner: str, stacklevel: int = 2) -> None:
    """Issue one :class:`~bayesmixture.exceptions.ConvergenceWarning` listing the failed
    checks of ``table``, if any."""
    from bayesmixture.exceptions import ConvergenceWarning

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
