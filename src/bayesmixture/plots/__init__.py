"""Pictures of a fitted mixture: clusters in the data, memberships, posteriors, convergence.

Every function returns a new :class:`matplotlib.figure.Figure` built without pyplot, so
nothing is shown or kept in pyplot's global list of figures; save it with ``fig.savefig``.
Cluster ``k`` has the same colour in every figure (:func:`cluster_colors`).
"""

from __future__ import annotations

import warnings

import arviz as az
import matplotlib as mpl
import numpy as np
import pandas as pd
import xarray as xr
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

__all__ = [
    "UNCERTAIN_ABOVE",
    "cluster_colors",
    "cluster_name",
    "comparison_plot",
    "is_information_criteria",
    "membership_strip",
    "n_components_plot",
    "pair_plot",
    "posterior_plot",
    "trace_rank_plot",
]

# Rows whose uncertainty (1 - largest membership probability) exceeds this are ringed in the
# pair plot and counted as "uncertain" in the report.
UNCERTAIN_ABOVE = 0.2
# Central interval drawn thick in the posterior plot; the thin line is the 94% HDI (ArviZ's
# default credible mass).
INNER_INTERVAL = 0.5
HDI_PROB = 0.94


def cluster_colors(n_components: int) -> list[tuple[float, float, float, float]]:
    """One RGBA colour per cluster, the same in every figure.

    Parameters
    ----------
    n_components : int
        Number of clusters.

    Returns
    -------
    list of tuple
        ``n_components`` RGBA colours (tab10 up to 10 clusters, tab20 up to 20, then a
        continuous map).

    Examples
    --------
    >>> from bayesmixture.plots import cluster_colors
    >>> len(cluster_colors(3)), len(cluster_colors(3)[0])
    (3, 4)
    """
    if n_components <= 10:
        cmap = mpl.colormaps["tab10"]
        return [cmap(k) for k in range(n_components)]
    if n_components <= 20:
        cmap = mpl.colormaps["tab20"]
        return [cmap(k) for k in range(n_components)]
    cmap = mpl.colormaps["turbo"]
    return [cmap(x) for x in np.linspace(0.05, 0.95, n_components)]


def cluster_name(component) -> str:
    """How a figure or table names a component: ``cluster 0``, ``cluster Adelie`` (a fit's
    classes name its components), or ``noise``.

    Examples
    --------
    >>> cluster_name(0), cluster_name("Adelie"), cluster_name("noise")
    ('cluster 0', 'cluster Adelie', 'noise')
    """
    component = component.item() if isinstance(component, np.generic) else component
    return "noise" if component == "noise" else f"cluster {component}"


def _names(names, n_components: int) -> list[str]:
    """Display names of the components: ``names`` (coordinates) or 0..K-1."""
    values = range(n_components) if names is None else list(names)
    return [cluster_name(name) for name in values]


def pair_plot(
    data: pd.DataFrame,
    labels: np.ndarray,
    uncertainty: np.ndarray,
    *,
    n_components: int | None = None,
    max_features: int = 6,
    names=None,
) -> Figure:
    """Every pair of columns as a scatter plot, coloured by each row's most probable cluster.

    Certain rows are opaque; the more uncertain a row, the more it fades, and rows with
    uncertainty above :data:`UNCERTAIN_ABOVE` are ringed in black. The diagonal shows each
    column's histogram, stacked by cluster. One column gives a single stacked histogram.

    Parameters
    ----------
    data : pandas.DataFrame of shape (n_obs, n_features)
        The rows that were clustered (numeric columns).
    labels : array-like of int, shape (n_obs,)
        Most probable cluster of each row.
    uncertainty : array-like of float, shape (n_obs,)
        1 - largest membership probability of each row.
    n_components : int, optional
        Number of clusters (default: largest label + 1, or the number of ``names``), so
        that empty clusters keep their colour.
    max_features : int, default 6
        Plot at most this many columns (the first ones), to keep the grid readable.
    names : sequence, optional
        The components' names (e.g. a fit's classes and ``"noise"``) in label order;
        default 0..K-1.

    Returns
    -------
    matplotlib.figure.Figure
        With ``d * d`` axes for ``d = min(n_features, max_features)``.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from bayesmixture.plots import pair_plot
    >>> df = pd.DataFrame({"a": [0.0, 0.1, 3.0, 3.1], "b": [1.0, 1.2, 0.0, 0.2]})
    >>> fig = pair_plot(df, np.array([0, 0, 1, 1]), np.array([0.0, 0.3, 0.0, 0.01]))
    >>> len(fig.axes)
    4
    """
    labels = np.asarray(labels, dtype=int)
    uncertainty = np.asarray(uncertainty, dtype=float)
    features = [str(c) for c in data.columns[:max_features]]
    values = data.iloc[:, : len(features)].to_numpy(dtype=float)
    n_components = int(n_components or (len(names) if names is not None else labels.max() + 1))
    shown = _names(names, n_components)
    colors = np.array(cluster_colors(n_components))
    uncertain = uncertainty > UNCERTAIN_ABOVE
    point_colors = colors[labels].copy()
    # uncertainty runs from 0 to 1 - 1/K; certain rows opaque, the most uncertain at 0.25.
    worst = max(1.0 - 1.0 / n_components, 1e-12)
    point_colors[:, 3] = 1.0 - 0.75 * np.clip(uncertainty / worst, 0.0, 1.0)
    d = len(features)
    side = min(2.4 * d, 12.0)  # the grid of panels; the legend takes about 2.6 in on the right
    fig = Figure(figsize=(side + 2.6, max(side, 3.5)), layout="constrained")
    axes = np.atleast_2d(fig.subplots(d, d, squeeze=False))
    for i in range(d):
        for j in range(d):
            ax = axes[i, j]
            if i == j:
                _stacked_histogram(ax, values[:, i], labels, colors)
            else:
                _scatter(ax, values[:, j], values[:, i], point_colors, uncertain)
            if i == d - 1:
                ax.set_xlabel(features[j])
            else:
                ax.tick_params(labelbottom=False)
            if j == 0:
                ax.set_ylabel(features[i] if d > 1 else "rows")
            ax.tick_params(labelsize=8)
    handles = [
        Patch(color=colors[k], label=f"{shown[k]} ({int((labels == k).sum())} rows)")
        for k in range(n_components)
    ]
    handles.append(
        Line2D(
            [],
            [],
            marker="o",
            linestyle="",
            markerfacecolor="none",
            markeredgecolor="black",
            label=f"uncertain\n(largest probability < {1 - UNCERTAIN_ABOVE:.0%})",
        )
    )
    fig.legend(handles=handles, loc="outside right upper", fontsize=8, frameon=False)
    fig.suptitle("Clusters in the data")
    return fig


def _stacked_histogram(ax, column: np.ndarray, labels: np.ndarray, colors: np.ndarray) -> None:
    observed = ~np.isnan(column)  # a fit with missing entries: each column's observed ones
    column, labels = column[observed], labels[observed]
    bins = np.histogram_bin_edges(column, bins=min(30, max(5, len(column) // 10)))
    groups = [column[labels == k] for k in range(len(colors))]
    ax.hist(groups, bins=bins, stacked=True, color=list(colors), edgecolor="none")
    ax.set_yticks([])


def _scatter(ax, x, y, point_colors, uncertain) -> None:
    ax.scatter(x, y, c=point_colors, s=14, linewidths=0)
    if uncertain.any():
        ax.scatter(
            x[uncertain],
            y[uncertain],
            s=40,
            facecolors="none",
            edgecolors="black",
            linewidths=0.8,
        )


def membership_strip(probability: np.ndarray, labels: np.ndarray, *, names=None) -> Figure:
    """Each row's membership probabilities as one stacked bar, rows grouped by cluster.

    Within a cluster, rows are sorted from most to least certain, so the uncertain rows
    are the ragged ends of each block.

    Parameters
    ----------
    probability : array-like of shape (n_obs, n_components)
        Membership probabilities (rows sum to 1).
    labels : array-like of int, shape (n_obs,)
        Most probable cluster of each row.
    names : sequence, optional
        The components' names, in column order (default 0..K-1).

    Returns
    -------
    matplotlib.figure.Figure
        With one axes.

    Examples
    --------
    >>> import numpy as np
    >>> from bayesmixture.plots import membership_strip
    >>> p = np.array([[0.9, 0.1], [0.6, 0.4], [0.2, 0.8]])
    >>> fig = membership_strip(p, p.argmax(axis=1))
    >>> len(fig.axes), fig.axes[0].get_title()
    (1, 'Membership probability of every row')
    """
    probability = np.asarray(probability, dtype=float)
    labels = np.asarray(labels, dtype=int)
    n_obs, n_components = probability.shape
    own = probability[np.arange(n_obs), labels]
    order = np.lexsort((-own, labels))
    sorted_p = probability[order]
    colors = cluster_colors(n_components)
    shown = _names(names, n_components)
    fig = Figure(figsize=(11, 3.2), layout="constrained")
    ax = fig.subplots()
    edges = np.arange(n_obs + 1)
    lower = np.zeros(n_obs)
    for k in range(n_components):
        upper = lower + sorted_p[:, k]
        ax.stairs(upper, edges, baseline=lower, fill=True, color=colors[k], label=shown[k])
        lower = upper
    counts = np.bincount(labels, minlength=n_components)
    starts = np.concatenate([[0], np.cumsum(counts)])
    for k in range(n_components):
        if counts[k]:
            ax.axvline(starts[k], color="white", linewidth=1.5)
            ax.text(
                (starts[k] + starts[k + 1]) / 2,
                1.02,
                shown[k],
                ha="center",
                va="bottom",
                fontsize=9,
                transform=ax.get_xaxis_transform(),
            )
    ax.set_xlim(0, n_obs)
    ax.set_ylim(0, 1)
    ax.set_xlabel("rows, grouped by most probable cluster, most certain first")
    ax.set_ylabel("probability")
    ax.set_title("Membership probability of every row", pad=18)
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8, frameon=False)
    return fig


def posterior_plot(idata: az.InferenceData, *, max_features: int = 6) -> Figure:
    """Posterior of each cluster's weight and mean (one panel per column of the data).

    For every cluster: a dot at the posterior mean, a thick line over the central 50%
    interval and a thin line over the 94% highest-density interval.

    Parameters
    ----------
    idata : arviz.InferenceData
        Fitted posterior with ``weights`` (component) and either ``means`` (component,
        feature) or other per-component parameters (component).
    max_features : int, default 6
        Show the means of at most this many columns.

    Returns
    -------
    matplotlib.figure.Figure
        One axes for the weights plus one per column (or per other parameter).

    Examples
    --------
    >>> import arviz as az, numpy as np
    >>> from bayesmixture.plots import posterior_plot
    >>> rng = np.random.default_rng(0)
    >>> idata = az.from_dict(
    ...     posterior={"weights": rng.dirichlet([5, 5], size=(2, 50)),
    ...                "means": rng.normal(size=(2, 50, 2, 3))},
    ...     dims={"weights": ["component"], "means": ["component", "feature"]},
    ...     coords={"feature": ["a", "b", "c"]})
    >>> fig = posterior_plot(idata)
    >>> [ax.get_title() for ax in fig.axes]
    ['Weight (share of rows)', 'Mean of a', 'Mean of b', 'Mean of c']
    """
    panels = _posterior_panels(idata.posterior, max_features)
    n_components = idata.posterior.sizes["component"]
    colors = cluster_colors(n_components)
    n_rows = -(-len(panels) // 4)  # at most 4 panels a row, rows filled evenly
    n_cols = -(-len(panels) // n_rows)
    fig = Figure(figsize=(3.2 * n_cols, 0.45 * n_components * n_rows + 1.6 * n_rows + 0.6))
    fig.set_layout_engine("constrained")
    axes = fig.subplots(n_rows, n_cols, squeeze=False).ravel()
    for ax, (title, draws) in zip(axes, panels, strict=False):
        _interval_panel(ax, draws, colors)
        ax.set_title(title, fontsize=10)
    for ax in axes[len(panels) :]:
        fig.delaxes(ax)
    fig.suptitle("Posterior of the weights and means of each cluster")
    return fig


def _posterior_panels(posterior: xr.Dataset, max_features: int) -> list[tuple[str, xr.DataArray]]:
    """(title, draws with dims (chain, draw, component)) for every panel to draw."""
    panels = []
    if "weights" in posterior:
        panels.append(("Weight (share of rows)", posterior["weights"]))
    if "means" in posterior and "feature" in posterior["means"].dims:
        for feature in posterior["feature"].values[:max_features]:
            panels.append((f"Mean of {feature}", posterior["means"].sel(feature=feature)))
    else:
        for name, var in posterior.data_vars.items():
            if name != "weights" and set(var.dims) == {"chain", "draw", "component"}:
                panels.append((str(name), var))
    return panels


def _interval_panel(ax, draws: xr.DataArray, colors) -> None:
    values = draws.transpose("chain", "draw", "component").values
    flat = values.reshape(-1, values.shape[-1])
    hdi = az.hdi(values, hdi_prob=HDI_PROB)  # (component, 2)
    tail = (1 - INNER_INTERVAL) / 2 * 100
    inner = np.percentile(flat, [tail, 100 - tail], axis=0).T
    n_components = flat.shape[1]
    y = np.arange(n_components)[::-1]
    for k in range(n_components):
        ax.plot(hdi[k], [y[k], y[k]], color=colors[k], linewidth=1.2)
        ax.plot(inner[k], [y[k], y[k]], color=colors[k], linewidth=4, solid_capstyle="butt")
        ax.plot(flat[:, k].mean(), y[k], "o", color="white", markeredgecolor=colors[k])
    ax.set_yticks(y, _names(draws["component"].values, n_components), fontsize=8)
    ax.set_ylim(-0.7, n_components - 0.3)
    ax.tick_params(axis="x", labelsize=8)
    ax.grid(axis="x", alpha=0.3)


def trace_rank_plot(idata: az.InferenceData, *, var_name: str = "weights") -> Figure:
    """Trace and rank plots of each cluster's weight, one row per cluster.

    Left: the draws of each chain in order (the chains should overlap like noise around
    the same level). Right: ArviZ rank plot, the histogram of each chain's ranks among all
    draws (roughly flat and alike when the chains sample the same distribution).

    Parameters
    ----------
    idata : arviz.InferenceData
        Fitted posterior containing ``var_name`` with dims (chain, draw, component).
    var_name : str, default "weights"
        The per-component parameter to show.

    Returns
    -------
    matplotlib.figure.Figure
        With ``2 * n_components`` axes.

    Examples
    --------
    >>> import arviz as az, numpy as np
    >>> from bayesmixture.plots import trace_rank_plot
    >>> w = np.random.default_rng(0).dirichlet([5, 5], size=(2, 50))
    >>> idata = az.from_dict(posterior={"weights": w}, dims={"weights": ["component"]})
    >>> fig = trace_rank_plot(idata)
    >>> len(fig.axes), fig.axes[0].get_title()
    (4, 'weights of cluster 0: trace')
    """
    if var_name not in idata.posterior:
        raise ValueError(
            f"var_name={var_name!r} is not in the posterior; choose one of "
            f"{sorted(map(str, idata.posterior.data_vars))}."
        )
    draws = idata.posterior[var_name]
    n_components = draws.sizes["component"]
    colors = mpl.colormaps["Dark2"]
    fig = Figure(figsize=(11, 1.9 * n_components + 0.8), layout="constrained")
    axes = fig.subplots(n_components, 2, squeeze=False)
    values = draws.transpose("chain", "draw", "component").values
    shown = _names(draws["component"].values, n_components)
    for k in range(n_components):
        ax = axes[k, 0]
        for c, chain in enumerate(values[:, :, k]):
            ax.plot(chain, color=colors(c % 8), linewidth=0.7, alpha=0.8, label=f"chain {c}")
        ax.set_title(f"{var_name} of {shown[k]}: trace", fontsize=10)
        ax.set_xlabel("draw", fontsize=8)
        ax.tick_params(labelsize=8)
    component = draws["component"].values
    az.plot_rank(
        idata,
        var_names=[var_name],
        coords={"component": component},
        colors=[colors(c % 8) for c in range(values.shape[0])],
        ax=axes[:, 1],
    )
    for k in range(n_components):
        ax = axes[k, 1]
        ax.set_title(f"{var_name} of {shown[k]}: rank", fontsize=10)
        ax.set_xlabel("rank among all draws", fontsize=8)
        ax.set_ylabel("chain", fontsize=8)
        ax.tick_params(labelsize=8)
    axes[0, 0].legend(fontsize=7, loc="upper right", ncols=min(values.shape[0], 4))
    fig.suptitle(f"Convergence of the {var_name}: trace (left) and rank (right) per chain")
    return fig


def comparison_plot(comparison: pd.DataFrame) -> Figure:
    """How well each number of clusters fits: LOO predictive accuracy, or BIC and ICL.

    Parameters
    ----------
    comparison : pandas.DataFrame
        One row per model: the output of :func:`arviz.compare` (drawn with ArviZ
        ``plot_compare``), or a table indexed by number of clusters with columns ``bic`` and
        ``icl`` (drawn as lines, lower is better).

    Returns
    -------
    matplotlib.figure.Figure
        With one axes.

    Examples
    --------
    >>> import pandas as pd
    >>> from bayesmixture.plots import comparison_plot
    >>> df = pd.DataFrame({"rank": [0, 1], "elpd_loo": [-10.0, -14.0], "p_loo": [3.0, 5.0],
    ...                    "elpd_diff": [0.0, 4.0], "weight": [0.9, 0.1], "se": [1.0, 1.2],
    ...                    "dse": [0.0, 1.5], "warning": [False, False], "scale": "log"},
    ...                   index=[2, 3])
    >>> comparison_plot(df).axes[0].get_title()
    'Predictive accuracy of each number of clusters (higher is better)'
    >>> bic = pd.DataFrame({"bic": [30.0, 20.0, 25.0], "icl": [30.0, 24.0, 31.0]},
    ...                    index=pd.Index([1, 2, 3], name="n_components"))
    >>> comparison_plot(bic).axes[0].get_title()
    'BIC and ICL of each number of clusters (lower is better)'
    """
    if is_information_criteria(comparison):
        fig = Figure(figsize=(7, 3.5), layout="constrained")
        ax = fig.subplots()
        ks = np.asarray(comparison.index)
        ax.plot(ks, comparison["bic"], "o-", label="BIC")
        if "icl" in comparison:
            ax.plot(ks, comparison["icl"], "s--", label="ICL (BIC + overlap penalty)")
        ax.set_xticks(ks)
        ax.set_xlabel("number of clusters")
        ax.set_ylabel("criterion")
        ax.legend(frameon=False)
        ax.set_title("BIC and ICL of each number of clusters (lower is better)")
        return fig
    fig = Figure(figsize=(7, 0.6 * len(comparison) + 1.8), layout="constrained")
    ax = fig.subplots()
    table = comparison.copy()  # ArviZ sorts the table in place
    table.index = [
        (f"{k} cluster" + "s" * (k != 1)) if isinstance(k, int | np.integer) else k
        for k in table.index
    ]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        warnings.filterwarnings("ignore", message=".*inplace keyword")
        az.plot_compare(table, ax=ax, title=False, legend=True)
    ax.set_title("Predictive accuracy of each number of clusters (higher is better)")
    return fig


def is_information_criteria(comparison: pd.DataFrame) -> bool:
    """True for a BIC/ICL table, False for an :func:`arviz.compare` table.

    Examples
    --------
    >>> import pandas as pd
    >>> from bayesmixture.plots import is_information_criteria
    >>> is_information_criteria(pd.DataFrame({"bic": [1.0]}))
    True
    """
    return "bic" in comparison.columns and "elpd_diff" not in comparison.columns


def n_components_plot(probability: pd.Series) -> Figure:
    """Posterior distribution of the number of non-empty components (sparse mixtures).

    Parameters
    ----------
    probability : pandas.Series
        Probability of each count, indexed by the count, as returned by
        :meth:`~bayesmixture.GaussianMixture.n_components_posterior`.

    Returns
    -------
    matplotlib.figure.Figure
        With one axes: a bar per count, the most probable one highlighted.

    Examples
    --------
    >>> import pandas as pd
    >>> from bayesmixture.plots import n_components_plot
    >>> fig = n_components_plot(pd.Series({2: 0.1, 3: 0.8, 4: 0.1}))
    >>> fig.axes[0].get_title()
    'Posterior of the number of non-empty clusters'
    """
    fig = Figure(figsize=(6, 3.2), layout="constrained")
    ax = fig.subplots()
    counts = np.asarray(probability.index, dtype=int)
    mode = counts[int(np.argmax(probability.to_numpy()))]
    colors = ["#1f77b4" if k == mode else "#9ecae1" for k in counts]
    ax.bar(counts, probability.to_numpy(), color=colors)
    ax.set_xticks(counts)
    ax.set_xlabel("number of clusters with at least one member")
    ax.set_ylabel("posterior probability")
    ax.set_ylim(0, 1)
    ax.set_title("Posterior of the number of non-empty clusters")
    return fig
