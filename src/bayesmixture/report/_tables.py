"""The report's tables that other parts use too: the diagnostics and the matching to classes.

The command line prints :func:`diagnostics_table` after a fit and reports
:func:`match_clusters` when the rows' classes are known.
"""

from __future__ import annotations

import arviz as az
import numpy as np
import pandas as pd
import xarray as xr
from scipy.optimize import linear_sum_assignment

from bayesmixture.diagnostics import Finding, findings_frame, label_switching_table, run_checks


def diagnostics_table(
    idata: az.InferenceData,
    membership: xr.Dataset | None = None,
    *,
    findings: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Convergence checks of a fit, each with its value, target and verdict.

    The checks of :func:`bayesmixture.diagnostics.diagnose` (R-hat and ESS unrounded over
    every parameter without an "obs" dim, divergences, chains that disagree after
    relabelling, collapsed components), laid out for the page, then the label switching that
    was found and fixed.

    Parameters
    ----------
    idata : arviz.InferenceData
        The fit (relabelled posterior, optional ``sample_stats`` and ``label_permutation``).
    membership : xarray.Dataset, optional
        ``probability`` (obs, component) of the rows, needed by the check of collapsed
        components (reported as not checked without it).
    findings : pandas.DataFrame, optional
        The checks already made (an estimator's ``diagnostics_``); made here otherwise.

    Returns
    -------
    pandas.DataFrame
        Columns ``check``, ``value``, ``target``, ``status`` ("ok", "check" or "fixed")
        and ``meaning``.

    Examples
    --------
    >>> import arviz as az, numpy as np
    >>> from bayesmixture.report import diagnostics_table
    >>> w = np.random.default_rng(0).dirichlet([20, 20], size=(4, 200))
    >>> table = diagnostics_table(az.from_dict(posterior={"weights": w},
    ...                                        dims={"weights": ["component"]}))
    >>> table["check"].tolist()[:3]
    ['Largest R-hat', 'Smallest bulk ESS', 'Smallest tail ESS']
    >>> table["status"].tolist()[:3]
    ['ok', 'ok', 'ok']
    """
    if findings is None:
        findings = findings_frame(run_checks(idata, membership=membership, permutations=None))
    by_check = {row.check: Finding(**row._asdict()) for row in findings.itertuples(index=False)}
    order = ("r_hat", "ess_bulk", "ess_tail", "divergences", "chains_disagree")
    order += ("collapsed_components",)
    rows = [_report_row(by_check[check]) for check in order]
    if "label_permutation" in idata.groups():
        rows.extend(
            _switching_rows(label_switching_table(idata["label_permutation"]["permutation"]))
        )
    return pd.DataFrame(rows, columns=["check", "value", "target", "status", "meaning"])


def _report_row(finding: Finding) -> tuple:
    status = {"ok": "ok", "warning": "check"}[finding.status]
    return (finding.title, finding.shown, finding.target, status, finding.advice)


def _switching_rows(per_chain: pd.DataFrame) -> list[tuple]:
    share = ", ".join(f"chain {c}: {s:.0%}" for c, s in per_chain["share_switched"].items())
    switched = bool((per_chain["share_switched"] > 0).any())
    disagree = per_chain["modal_permutation"].nunique() > 1
    return [
        (
            "Draws relabelled (label switching)",
            share,
            "any",
            "fixed" if switched else "ok",
            "Cluster numbers are arbitrary, so a sampler may swap them; every draw was "
            "relabelled to one consistent numbering before anything on this page was computed."
            if switched
            else "No draw had its clusters swapped.",
        ),
        (
            "Chains numbered the clusters differently",
            "yes" if disagree else "no",
            "any",
            "fixed" if disagree else "ok",
            "Chains that found the clusters in different orders were brought to one numbering."
            if disagree
            else "All chains found the clusters in the same order.",
        ),
    ]


def match_clusters(confusion: pd.DataFrame) -> tuple[dict, int]:
    """Best one-to-one matching of clusters (columns) to known classes (rows).

    Parameters
    ----------
    confusion : pandas.DataFrame
        Counts, known classes as rows and clusters as columns (e.g. ``pd.crosstab``).

    Returns
    -------
    mapping : dict
        Class matched to each matched cluster (Hungarian algorithm, most rows agreeing).
    n_misassigned : int
        Rows outside the matched cells.

    Examples
    --------
    >>> import pandas as pd
    >>> from bayesmixture.report import match_clusters
    >>> confusion = pd.DataFrame([[1, 9], [8, 2]], index=["a", "b"], columns=[0, 1])
    >>> match_clusters(confusion)
    ({1: 'a', 0: 'b'}, 3)
    """
    counts = confusion.to_numpy()
    rows, cols = linear_sum_assignment(counts, maximize=True)
    mapping = {
        plain(confusion.columns[c]): plain(confusion.index[r])
        for r, c in zip(rows, cols, strict=True)
    }
    return mapping, int(counts.sum() - counts[rows, cols].sum())


def plain(value):
    """A numpy scalar as the Python value it holds (names print as ``0``, not ``np.int64(0)``)."""
    return value.item() if isinstance(value, np.generic) else value
