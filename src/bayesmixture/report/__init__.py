"""One self-contained HTML page about a fitted mixture, readable without knowing the library.

The page holds its figures as base64 PNG images and its styles inline, so it can be mailed
or archived as one file. Sections: overview, clusters in the data, memberships, posterior of
weights and means, convergence plots, diagnostics (R-hat, ESS, divergences, label switching),
parameter table, optional comparisons (known classes, numbers of clusters) and the settings
that produced the fit.

``_sections``
    The page's sections, one function each, with their words for the reader.
``_tables``
    :func:`diagnostics_table` and :func:`match_clusters`, which the command line uses too.
``_page``
    The HTML skeleton: sections, tables, embedded figures, the CSS; ``SECTIONS``.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import arviz as az
import numpy as np
import pandas as pd
import xarray as xr

from bayesmixture._atomic import atomic_path
from bayesmixture.report._page import SECTIONS, FigureCounter, page
from bayesmixture.report._sections import (
    clusters_section,
    comparison_section,
    component_names,
    convergence_section,
    diagnostics_section,
    membership_section,
    noise_section,
    overview_section,
    parameters_section,
    posterior_section,
    reference_section,
    settings_section,
)
from bayesmixture.report._tables import diagnostics_table, label_switching_table, match_clusters

__all__ = [
    "SECTIONS",
    "build_report",
    "diagnostics_table",
    "label_switching_table",
    "match_clusters",
    "write_report",
]

SUMMARY_VARS = ("weights", "group_weights", "means", "sigmas")


def build_report(
    idata: az.InferenceData,
    membership: xr.Dataset,
    data: pd.DataFrame,
    *,
    settings: Mapping[str, object],
    description: str = "",
    summary: pd.DataFrame | None = None,
    reference: pd.DataFrame | None = None,
    comparison: pd.DataFrame | None = None,
    title: str = "Mixture model report",
    diagnostics: pd.DataFrame | None = None,
) -> str:
    """The HTML text of the report.

    Parameters
    ----------
    idata : arviz.InferenceData
        Relabelled posterior with ``weights`` (component) and ``means`` (component,
        feature) or other per-component parameters; optionally ``sample_stats`` and the
        group ``label_permutation`` (variable ``permutation``, dims (chain, draw, component)).
    membership : xarray.Dataset
        ``probability`` (obs, component), ``label`` and ``uncertainty`` (obs) of the rows.
    data : pandas.DataFrame of shape (n_obs, n_features)
        The rows that were clustered, in the order of ``membership``.
    settings : mapping
        What produced the fit (options, data file, versions...), shown as a table.
    description : str, optional
        One sentence naming the model, e.g. "Gaussian mixture with 3 clusters".
    summary : pandas.DataFrame, optional
        ArviZ summary of the parameters (computed from ``idata`` when not given).
    reference : pandas.DataFrame, optional
        Counts of known classes (rows) against clusters (columns), e.g. from
        ``pd.crosstab``; adds a section with the best matching of clusters to classes.
    comparison : pandas.DataFrame, optional
        :func:`arviz.compare` table of several numbers of clusters; adds a section.
    title : str, default "Mixture model report"
        Page title.
    diagnostics : pandas.DataFrame, optional
        The fit's own sampling checks (an estimator's ``diagnostics_``, which name
        parameters in the data's words); made from ``idata`` when not given.

    Components are named by the coordinates of ``membership``'s ``component`` dim: numbers
    for an unsupervised fit, the classes of a fit with labelled rows, ``noise`` for a noise
    component.

    Returns
    -------
    str
        A complete HTML document with no external resources.

    Examples
    --------
    >>> import arviz as az, numpy as np, pandas as pd, xarray as xr
    >>> from bayesmixture.report import build_report
    >>> rng = np.random.default_rng(0)
    >>> idata = az.from_dict(
    ...     posterior={"weights": rng.dirichlet([20, 20], size=(2, 50)),
    ...                "means": rng.normal([[-2.0], [2.0]], 0.1, size=(2, 50, 2, 1))},
    ...     dims={"weights": ["component"], "means": ["component", "feature"]},
    ...     coords={"feature": ["x"]})
    >>> p = np.array([[0.9, 0.1], [0.2, 0.8], [0.95, 0.05]])
    >>> membership = xr.Dataset({"probability": (("obs", "component"), p),
    ...                          "label": ("obs", p.argmax(1)),
    ...                          "uncertainty": ("obs", 1 - p.max(1))})
    >>> page = build_report(idata, membership, pd.DataFrame({"x": [-2.1, 1.9, -2.0]}),
    ...                     settings={"data": "example"})
    >>> page.startswith("<!DOCTYPE html>"), 'id="diagnostics"' in page
    (True, True)
    """
    if summary is None:
        names = [name for name in SUMMARY_VARS if name in idata.posterior]
        summary = az.summary(idata, var_names=names or None)
    probability = np.asarray(membership["probability"].values, dtype=float)
    labels = np.asarray(membership["label"].values, dtype=int)
    uncertainty = np.asarray(membership["uncertainty"].values, dtype=float)
    names = component_names(membership)
    counter = FigureCounter()  # figures are numbered in the order they are made
    checks = diagnostics_table(idata, membership, findings=diagnostics)
    body = [
        overview_section(description, data, labels, probability, uncertainty, checks, names),
        clusters_section(data, labels, uncertainty, names, counter),
        membership_section(probability, labels, names, counter),
        posterior_section(idata, counter),
        convergence_section(idata, counter),
        diagnostics_section(checks, idata),
        parameters_section(summary),
    ]
    optional = {
        "noise": noise_section(membership, data),
        "reference": None if reference is None else reference_section(reference),
        "comparison": None if comparison is None else comparison_section(comparison, counter),
    }
    body += [content for content in optional.values() if content is not None]
    body.append(settings_section(settings))
    shown = {anchor for anchor, content in optional.items() if content is not None}
    return page(title, body, shown)


def write_report(path, *args, **kwargs) -> Path:
    """Write :func:`build_report` to ``path`` (atomically: a finished page or none).

    Parameters
    ----------
    path : str or os.PathLike
        Destination, conventionally ``report.html``.
    *args, **kwargs
        As in :func:`build_report`.

    Returns
    -------
    pathlib.Path
        The path written.
    """
    path = Path(path)
    page = build_report(*args, **kwargs)
    with atomic_path(path) as temporary, open(temporary, "x", encoding="utf-8") as stream:
        stream.write(page)
    return path
