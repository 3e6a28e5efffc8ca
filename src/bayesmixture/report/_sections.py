"""The pieces of the page, one function per section, each with its words for the reader."""

from __future__ import annotations

from collections.abc import Mapping

import arviz as az
import numpy as np
import pandas as pd
import xarray as xr

from bayesmixture import plots
from bayesmixture.report._page import FigureCounter, e, section, table_html
from bayesmixture.report._tables import match_clusters, plain

# Rows of the noise section's table (the count is always given).
NOISE_ROWS_SHOWN = 50


def component_names(membership: xr.Dataset) -> list:
    """The components' names: the coordinates of the membership's component dim."""
    probability = membership["probability"]
    if "component" in membership.coords:
        return [plain(c) for c in membership["component"].values]
    return list(range(probability.shape[-1]))


def _named_by_classes(names: list) -> bool:
    """Whether the components are named by classes (not numbered 0..K-1, noise aside)."""
    return [n for n in names if n != "noise"] != list(range(len(names) - ("noise" in names)))


# ---------------------------------------------------------------------- overview


def overview_section(
    description, data, labels, probability, uncertainty, diagnostics, names
) -> str:
    """What was fitted, how to read the page, whether the checks passed, the cluster sizes."""
    intro = _introduction(description, data, probability, uncertainty, names)
    verdict = _verdict(diagnostics)
    sizes = _sizes(labels, probability, uncertainty, names)
    return section("overview", intro + verdict + table_html(sizes, index=False))


def _introduction(description, data, probability, uncertainty, names) -> str:
    n_obs, n_components = probability.shape
    n_uncertain = int((uncertainty > plots.UNCERTAIN_ABOVE).sum())
    columns = ", ".join(str(c) for c in data.columns)
    noise = "noise" in names
    return (
        f"<p>{e(description) + ' ' if description else ''}The model split "
        f"<b>{n_obs}</b> rows into <b>{n_components - noise}</b> clusters"
        f"{' and a noise component' if noise else ''} using the columns "
        f"<b>{e(columns)}</b>.</p>"
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


def _verdict(diagnostics: pd.DataFrame) -> str:
    to_check = diagnostics.loc[diagnostics["status"] == "check", "check"].tolist()
    if not to_check:
        return (
            '<p class="ok">All convergence checks passed (see <a href="#diagnostics">Diagnostics'
            "</a>).</p>"
        )
    return (
        f'<p class="warn">{len(to_check)} convergence check(s) need attention: '
        f'{e(", ".join(to_check))} (see <a href="#diagnostics">Diagnostics</a>). Treat the '
        "numbers below as provisional.</p>"
    )


def _sizes(labels, probability, uncertainty, names) -> pd.DataFrame:
    n_obs, n_components = probability.shape
    counts = np.bincount(labels, minlength=n_components)
    return pd.DataFrame(
        {
            "cluster": [plots.cluster_name(name) for name in names],
            "rows assigned": counts,
            "share of rows": [f"{c / n_obs:.1%}" for c in counts],
            "expected rows (sum of probabilities)": np.round(probability.sum(axis=0), 1),
            "uncertain rows": [
                int(((labels == k) & (uncertainty > plots.UNCERTAIN_ABOVE)).sum())
                for k in range(n_components)
            ],
        }
    )


# ---------------------------------------------------------------------- figures


def clusters_section(data, labels, uncertainty, names, counter: FigureCounter) -> str:
    """The pair plot of the rows, coloured by cluster."""
    n_components = len(names)  # one name per column of the membership probabilities
    figure = plots.pair_plot(data, labels, uncertainty, n_components=n_components, names=names)
    return section(
        "clusters",
        counter.figure(
            figure,
            "Rows coloured by their most probable cluster",
            "Each panel plots one column against another (histograms of each column on "
            "the diagonal, stacked by cluster); faded points ringed in black are rows "
            "whose cluster is uncertain (largest membership probability below "
            f"{1 - plots.UNCERTAIN_ABOVE:.0%}).",
        ),
    )


def membership_section(probability, labels, names, counter: FigureCounter) -> str:
    """Every row's membership probabilities as a strip of bars."""
    return section(
        "membership",
        counter.figure(
            plots.membership_strip(probability, labels, names=names),
            "Membership probabilities, one thin bar per row",
            "Each vertical bar is one row, split into its probability of belonging to "
            "each cluster; rows are grouped by most probable cluster and sorted from most "
            "to least certain, so mixed colours at the right end of a block mark rows "
            "that could belong to two clusters.",
        ),
    )


def posterior_section(idata: az.InferenceData, counter: FigureCounter) -> str:
    """The posterior intervals of each cluster's weight and means (or parameters)."""
    return section(
        "posterior",
        counter.figure(
            plots.posterior_plot(idata),
            "Posterior of each cluster's weight and "
            + ("mean" if "means" in idata.posterior else "parameters"),
            "For each cluster, the dot is the posterior mean, the thick line the central "
            "50% interval and the thin line the 94% highest-density interval: the range "
            "the parameter lies in with 94% probability given the data and the model.",
        ),
    )


def convergence_section(idata: az.InferenceData, counter: FigureCounter) -> str:
    """Trace and rank plots of the weights (or of another per-cluster parameter)."""
    return section("convergence", _convergence_figure(idata, counter))


def _convergence_figure(idata: az.InferenceData, counter: FigureCounter) -> str:
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


# ---------------------------------------------------------------------- tables


def diagnostics_section(checks: pd.DataFrame, idata: az.InferenceData) -> str:
    """The diagnostics table, with how to read it."""
    rows = []
    for row in checks.itertuples(index=False):
        rows.append(
            f'<tr class="{row.status}"><td>{e(row.check)}</td><td>{e(row.value)}</td>'
            f"<td>{e(row.target)}</td><td>{e(row.status)}</td><td>{e(row.meaning)}</td></tr>"
        )
    n_chains, n_draws = idata.posterior.sizes["chain"], idata.posterior.sizes["draw"]
    content = (
        f"<p>Computed from {n_chains} chains of {n_draws} draws. "
        "<i>R-hat</i> compares the chains (1 means they agree); <i>ESS</i> is the effective "
        "number of independent draws; status <i>fixed</i> means a problem was found and "
        "corrected automatically.</p>"
        "<table><thead><tr><th>check</th><th>value</th><th>target</th><th>status</th>"
        f"<th>what it means</th></tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )
    return section("diagnostics", content)


def parameters_section(summary: pd.DataFrame) -> str:
    """The posterior summary of every parameter, with what its rows are."""
    gaussian = any(str(name).startswith("means[") for name in summary.index)
    parts = (
        "means[k, column] and sigmas[k, column] the centre and spread of cluster k along a column"
        if gaussian
        else "the other rows are the parameters of each cluster's distribution"
    )
    content = (
        "<p>Posterior summary of every parameter, in the data's units: weights[k] is the share "
        f"of rows in cluster k, {parts}; hdi_3% and hdi_97% bound the 94% highest-density "
        "interval; r_hat, ess_bulk and ess_tail are explained under Diagnostics. The same table "
        "is saved as summary.csv.</p>" + table_html(summary.round(3), index=True)
    )
    return section("parameters", content)


# ---------------------------------------------------------------------- optional sections


def noise_section(membership: xr.Dataset, data: pd.DataFrame) -> str | None:
    """The noise section, or None for a fit without a noise component."""
    content = _noise_html(membership, data)
    if content is None:
        return None
    return section("noise", content, "Rows taken by the noise component")


def reference_section(confusion: pd.DataFrame) -> str:
    """Clusters against known classes, with the best one-to-one matching."""
    mapping, n_wrong = match_clusters(confusion)
    total = int(confusion.to_numpy().sum())
    matched = ", ".join(
        f"{e(plots.cluster_name(k))} = {e(v)}"
        for k, v in sorted(mapping.items(), key=lambda item: str(item[0]))
    )
    table = confusion.copy()
    classes = confusion.index.name or "known class"
    table.columns = [plots.cluster_name(c) for c in table.columns]
    table.index.name = None
    content = (
        f"<p>The clustering never saw these known classes; the table counts the rows of each "
        f"{e(classes)} (table rows) in each cluster (columns). Best one-to-one matching: "
        f"{matched}. "
        f"<b>{n_wrong}</b> of {total} rows ({n_wrong / total:.1%}) fall outside their class's "
        "matched cluster.</p>" + table_html(table, index=True)
    )
    return section("reference", content, "Clusters vs known classes")


def comparison_section(comparison: pd.DataFrame, counter: FigureCounter) -> str:
    """The numbers of clusters compared: a figure and the table."""
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
    content = figure + table_html(comparison.round(3), index=True)
    return section("comparison", content, "Number of clusters")


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
    return intro + shown + table_html(table, index=True)


def settings_section(values: Mapping[str, object]) -> str:
    """What produced the fit, one setting a row."""
    return section("settings", table_html(_settings_frame(values), index=False))


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
