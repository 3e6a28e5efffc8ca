"""One self-contained HTML page about a fitted mixture, readable without knowing the library.

The page holds its figures as base64 PNG images and its styles inline, so it can be mailed
or archived as one file. Sections: overview, clusters in the data, memberships, posterior of
weights and means, convergence plots, diagnostics (R-hat, ESS, divergences, label switching),
parameter table, optional comparisons (known classes, numbers of clusters) and the settings
that produced the fit.
"""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Mapping
from pathlib import Path

import arviz as az
import numpy as np
import pandas as pd
import xarray as xr
from matplotlib.figure import Figure
from scipy.optimize import linear_sum_assignment

from bayesmixture import plots
from bayesmixture._atomic import atomic_path
from bayesmixture.diagnostics import Finding, findings_frame, label_switching_table, run_checks

__all__ = [
    "SECTIONS",
    "build_report",
    "diagnostics_table",
    "label_switching_table",
    "match_clusters",
    "write_report",
]

# (anchor, heading) of the sections every report has, in page order.
SECTIONS = (
    ("overview", "Overview"),
    ("clusters", "Clusters in the data"),
    ("membership", "Membership of every row"),
    ("posterior", "Weights and means"),
    ("convergence", "Convergence of the sampler"),
    ("diagnostics", "Diagnostics"),
    ("parameters", "Parameter table"),
    ("settings", "Settings"),
)
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
    n_components = probability.shape[1]
    names = _component_names(membership)
    counter = _FigureCounter()
    checks = diagnostics_table(idata, membership, findings=diagnostics)
    body = [
        _overview(description, data, labels, probability, uncertainty, checks, names),
        _section(
            "clusters",
            counter.figure(
                plots.pair_plot(data, labels, uncertainty, n_components=n_components, names=names),
                "Rows coloured by their most probable cluster",
                "Each panel plots one column against another (histograms of each column on "
                "the diagonal, stacked by cluster); faded points ringed in black are rows "
                "whose cluster is uncertain (largest membership probability below "
                f"{1 - plots.UNCERTAIN_ABOVE:.0%}).",
            ),
        ),
        _section(
            "membership",
            counter.figure(
                plots.membership_strip(probability, labels, names=names),
                "Membership probabilities, one thin bar per row",
                "Each vertical bar is one row, split into its probability of belonging to "
                "each cluster; rows are grouped by most probable cluster and sorted from most "
                "to least certain, so mixed colours at the right end of a block mark rows "
                "that could belong to two clusters.",
            ),
        ),
        _section(
            "posterior",
            counter.figure(
                plots.posterior_plot(idata),
                "Posterior of each cluster's weight and "
                + ("mean" if "means" in idata.posterior else "parameters"),
                "For each cluster, the dot is the posterior mean, the thick line the central "
                "50% interval and the thin line the 94% highest-density interval: the range "
                "the parameter lies in with 94% probability given the data and the model.",
            ),
        ),
        _section(
            "convergence",
            _convergence_figure(idata, counter),
        ),
        _section("diagnostics", _diagnostics_html(checks, idata)),
        _section("parameters", _parameters_html(summary)),
    ]
    noise = _noise_html(membership, data)
    if noise is not None:
        body.append(_section("noise", noise, "Rows taken by the noise component"))
    if reference is not None:
        body.append(_section("reference", _reference_html(reference), "Clusters vs known classes"))
    if comparison is not None:
        body.append(
            _section("comparison", _comparison_html(comparison, counter), "Number of clusters")
        )
    body.append(_section("settings", _table_html(_settings_frame(settings), index=False)))
    return _page(
        title, description, body, reference is not None, comparison is not None, noise is not None
    )


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


# ---------------------------------------------------------------------- tables


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
        _plain(confusion.columns[c]): _plain(confusion.index[r])
        for r, c in zip(rows, cols, strict=True)
    }
    return mapping, int(counts.sum() - counts[rows, cols].sum())


# ---------------------------------------------------------------------- page pieces


class _FigureCounter:
    """Numbers the figures and turns each into an embedded <figure>."""

    def __init__(self) -> None:
        self.n = 0

    def figure(self, fig: Figure, title: str, caption: str) -> str:
        self.n += 1
        return (
            f'<figure><img src="{_png_data_uri(fig)}" alt="{_e(title)}">'
            f"<figcaption><b>Figure {self.n}. {_e(title)}.</b> {_e(caption)}</figcaption>"
            "</figure>"
        )


def _plain(value):
    return value.item() if isinstance(value, np.generic) else value


def _png_data_uri(fig: Figure) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=96)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _e(text) -> str:
    return html.escape(str(text), quote=True)


def _section(anchor: str, content: str, heading: str | None = None) -> str:
    heading = heading or dict(SECTIONS)[anchor]
    return f'<section id="{anchor}"><h2>{_e(heading)}</h2>{content}</section>'


def _component_names(membership: xr.Dataset) -> list:
    """The components' names: the coordinates of the membership's component dim."""
    probability = membership["probability"]
    if "component" in membership.coords:
        return [_plain(c) for c in membership["component"].values]
    return list(range(probability.shape[-1]))


def _named_by_classes(names: list) -> bool:
    """Whether the components are named by classes (not numbered 0..K-1, noise aside)."""
    return [n for n in names if n != "noise"] != list(range(len(names) - ("noise" in names)))


def _overview(description, data, labels, probability, uncertainty, diagnostics, names) -> str:
    n_obs, n_components = probability.shape
    counts = np.bincount(labels, minlength=n_components)
    expected = probability.sum(axis=0)
    n_uncertain = int((uncertainty > plots.UNCERTAIN_ABOVE).sum())
    sizes = pd.DataFrame(
        {
            "cluster": [plots.cluster_name(name) for name in names],
            "rows assigned": counts,
            "share of rows": [f"{c / n_obs:.1%}" for c in counts],
            "expected rows (sum of probabilities)": np.round(expected, 1),
            "uncertain rows": [
                int(((labels == k) & (uncertainty > plots.UNCERTAIN_ABOVE)).sum())
                for k in range(n_components)
            ],
        }
    )
    to_check = diagnostics.loc[diagnostics["status"] == "check", "check"].tolist()
    verdict = (
        '<p class="ok">All convergence checks passed (see <a href="#diagnostics">Diagnostics'
        "</a>).</p>"
        if not to_check
        else f'<p class="warn">{len(to_check)} convergence check(s) need attention: '
        f'{_e(", ".join(to_check))} (see <a href="#diagnostics">Diagnostics</a>). Treat the '
        "numbers below as provisional.</p>"
    )
    columns = ", ".join(str(c) for c in data.columns)
    noise = "noise" in names
    intro = (
        f"<p>{_e(description) + ' ' if description else ''}The model split "
        f"<b>{n_obs}</b> rows into <b>{n_components - noise}</b> clusters"
        f"{' and a noise component' if noise else ''} using the columns "
        f"<b>{_e(columns)}</b>.</p>"
        "<p>How to read this page: every row gets a <i>membership probability</i> for each "
        "cluster, averaged over all posterior draws of the model, so it reflects how sure the "
        "model is. A row's <i>label</i> is its most probable cluster; its <i>uncertainty</i> "
        "is 1 minus that probability (0 = certain). "
        + (
            "Clusters are named after the classes of the rows whose class was given. "
            if _named_by_classes(names)
            else "Cluster numbers are arbitrary names. "
        )
        + f"<b>{n_uncertain}</b> rows ({n_uncertain / n_obs:.1%}) have an uncertainty above "
        f"{plots.UNCERTAIN_ABOVE:g}.</p>"
    )
    return _section("overview", intro + verdict + _table_html(sizes, index=False))


def _convergence_figure(idata: az.InferenceData, counter: _FigureCounter) -> str:
    var_name = "weights" if "weights" in idata.posterior else None
    if var_name is None:
        candidates = [
            name
            for name, var in idata.posterior.data_vars.items()
            if set(var.dims) == {"chain", "draw", "component"}
        ]
        if not candidates:
            return "<p>No per-cluster parameter to plot.</p>"
        var_name = str(candidates[0])
    return counter.figure(
        plots.trace_rank_plot(idata, var_name=var_name),
        f"Trace and rank plots of each cluster's {var_name}",
        "Left: each chain's draws in order; the chains should look like overlapping noise "
        "around the same level, with no trends or jumps. Right: where each chain's draws rank "
        "among all draws; roughly flat, similar histograms mean the chains explored the same "
        "distribution.",
    )


def _diagnostics_html(diagnostics: pd.DataFrame, idata: az.InferenceData) -> str:
    rows = []
    for row in diagnostics.itertuples(index=False):
        rows.append(
            f'<tr class="{row.status}"><td>{_e(row.check)}</td><td>{_e(row.value)}</td>'
            f"<td>{_e(row.target)}</td><td>{_e(row.status)}</td><td>{_e(row.meaning)}</td></tr>"
        )
    n_chains, n_draws = idata.posterior.sizes["chain"], idata.posterior.sizes["draw"]
    return (
        f"<p>Computed from {n_chains} chains of {n_draws} draws. "
        "<i>R-hat</i> compares the chains (1 means they agree); <i>ESS</i> is the effective "
        "number of independent draws; status <i>fixed</i> means a problem was found and "
        "corrected automatically.</p>"
        "<table><thead><tr><th>check</th><th>value</th><th>target</th><th>status</th>"
        f"<th>what it means</th></tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )


def _parameters_html(summary: pd.DataFrame) -> str:
    gaussian = any(str(name).startswith("means[") for name in summary.index)
    parts = (
        "means[k, column] and sigmas[k, column] the centre and spread of cluster k along a column"
        if gaussian
        else "the other rows are the parameters of each cluster's distribution"
    )
    return (
        "<p>Posterior summary of every parameter, in the data's units: weights[k] is the share "
        f"of rows in cluster k, {parts}; hdi_3% and hdi_97% bound the 94% highest-density "
        "interval; r_hat, ess_bulk and ess_tail are explained under Diagnostics. The same table "
        "is saved as summary.csv.</p>" + _table_html(summary.round(3), index=True)
    )


def _reference_html(confusion: pd.DataFrame) -> str:
    mapping, n_wrong = match_clusters(confusion)
    total = int(confusion.to_numpy().sum())
    matched = ", ".join(
        f"{_e(plots.cluster_name(k))} = {_e(v)}"
        for k, v in sorted(mapping.items(), key=lambda item: str(item[0]))
    )
    table = confusion.copy()
    classes = confusion.index.name or "known class"
    table.columns = [plots.cluster_name(c) for c in table.columns]
    table.index.name = None
    return (
        f"<p>The clustering never saw these known classes; the table counts the rows of each "
        f"{_e(classes)} (table rows) in each cluster (columns). Best one-to-one matching: "
        f"{matched}. "
        f"<b>{n_wrong}</b> of {total} rows ({n_wrong / total:.1%}) fall outside their class's "
        "matched cluster.</p>" + _table_html(table, index=True)
    )


def _comparison_html(comparison: pd.DataFrame, counter: _FigureCounter) -> str:
    if plots.is_information_criteria(comparison):
        title = "BIC and ICL of each number of clusters"
        caption = (
            "Criteria of maximum-likelihood (EM) fits, lower is better: BIC balances fit "
            "against the number of parameters, ICL also penalises overlapping clusters; only "
            "the number of clusters with the lowest BIC was then fitted by MCMC."
        )
    else:
        title = "Predictive accuracy of each number of clusters"
        caption = (
            "Expected log predictive density estimated by leave-one-out cross-validation "
            "(PSIS-LOO), higher is better; error bars show its standard error, so models whose "
            "bars overlap the best one predict about equally well and the simpler is kept."
        )
    figure = counter.figure(plots.comparison_plot(comparison), title, caption)
    return figure + _table_html(comparison.round(3), index=True)


def _settings_frame(settings: Mapping[str, object]) -> pd.DataFrame:
    values = [_setting_text(v) for v in settings.values()]
    return pd.DataFrame({"setting": list(settings), "value": values})


def _setting_text(value) -> str:
    """A setting in words: 'none' for None, 'yes'/'no', lists and mappings spelled out."""
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, Mapping):
        return "; ".join(f"{k}: {_setting_text(v)}" for k, v in value.items()) or "none"
    if isinstance(value, list | tuple):
        return ", ".join(_setting_text(v) for v in value) or "none"
    return str(value)


# Rows of the noise section's table (the count is always given).
NOISE_ROWS_SHOWN = 50


def _noise_html(membership: xr.Dataset, data: pd.DataFrame) -> str | None:
    """The rows whose most probable component is the noise (a fit with ``noise=True``)."""
    components = [str(c) for c in membership["component"].values]
    if "noise" not in components:
        return None
    probability = np.asarray(membership["probability"].values, dtype=float)
    column = components.index("noise")
    taken = np.flatnonzero(probability.argmax(axis=1) == column)
    expected = probability[:, column].sum()
    intro = (
        f"<p>The noise component spreads a constant density over the data's range, for rows "
        f"no cluster explains (outliers, background). It takes <b>{len(taken)}</b> of "
        f"{len(probability)} rows as their most probable component (expected number of noise "
        f"rows: {expected:.1f}).</p>"
    )
    if not len(taken):
        return intro
    order = taken[np.argsort(-probability[taken, column])][:NOISE_ROWS_SHOWN]
    table = data.iloc[order].copy()
    table.insert(0, "P(noise)", probability[order, column].round(3))
    shown = f"<p>The {len(order)} most certain of them:</p>" if len(taken) > len(order) else ""
    return intro + shown + _table_html(table, index=True)


def _table_html(frame: pd.DataFrame, *, index: bool) -> str:
    return frame.to_html(index=index, border=0, escape=True, na_rep="")


def _page(
    title: str,
    description: str,
    body: list[str],
    reference: bool,
    comparison: bool,
    noise: bool = False,
):
    sections = list(SECTIONS)
    if noise:
        sections.insert(-1, ("noise", "Rows taken by the noise component"))
    if reference:
        sections.insert(-1, ("reference", "Clusters vs known classes"))
    if comparison:
        sections.insert(-1, ("comparison", "Number of clusters"))
    nav = " · ".join(f'<a href="#{anchor}">{_e(heading)}</a>' for anchor, heading in sections)
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_e(title)}</title><style>{_CSS}</style></head><body>"
        f"<header><h1>{_e(title)}</h1><nav>{nav}</nav></header><main>"
        + "".join(body)
        + "</main></body></html>\n"
    )


_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 0;
       color: #222; background: #fafafa; line-height: 1.45; }
header { background: #243447; color: white; padding: 1em 2em; }
header h1 { margin: 0 0 0.3em 0; font-size: 1.6em; }
nav a { color: #cfe3ff; text-decoration: none; font-size: 0.9em; }
main { max-width: 1150px; margin: 0 auto; padding: 0 2em 3em 2em; }
section { background: white; margin: 1.2em 0; padding: 0.6em 1.4em 1.2em 1.4em;
          border-radius: 6px; box-shadow: 0 1px 3px rgba(0,0,0,0.08); }
h2 { border-bottom: 1px solid #ddd; padding-bottom: 0.2em; font-size: 1.25em; }
figure { margin: 1em 0; }
figure img { max-width: 100%; height: auto; display: block; margin: 0 auto; }
figcaption { font-size: 0.9em; color: #444; margin-top: 0.5em; }
table { border-collapse: collapse; font-size: 0.85em; margin: 0.6em 0; }
th, td { padding: 0.25em 0.7em; border-bottom: 1px solid #e4e4e4; text-align: right; }
th { background: #f0f3f7; }
td:first-child, th:first-child { text-align: left; }
#diagnostics td, #diagnostics th, #settings th { text-align: left; vertical-align: top; }
#settings td { text-align: left; font-family: ui-monospace, monospace; }
tr.ok td:nth-child(4) { color: #1a7f37; font-weight: bold; }
tr.check td:nth-child(4) { color: #b35900; font-weight: bold; }
tr.fixed td:nth-child(4) { color: #0b5cad; font-weight: bold; }
p.ok { color: #1a7f37; } p.warn { color: #b35900; font-weight: bold; }
"""
