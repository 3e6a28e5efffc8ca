"""The clusters in the data: every pair of columns, rows coloured by their most probable cluster."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from bayesmixture.plots._colors import cluster_colors, display_names

# Rows whose uncertainty (1 - largest membership probability) exceeds this are ringed in the
# pair plot and counted as "uncertain" in the report.
UNCERTAIN_ABOVE = 0.2


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
    colors = np.array(cluster_colors(n_components))
    d = len(features)
    side = min(2.4 * d, 12.0)  # the grid of panels; the legend takes about 2.6 in on the right
    fig = Figure(figsize=(side + 2.6, max(side, 3.5)), layout="constrained")
    axes = np.atleast_2d(fig.subplots(d, d, squeeze=False))
    _draw_panels(axes, values, features, labels, uncertainty, colors)
    handles = _legend_handles(labels, colors, display_names(names, n_components))
    fig.legend(handles=handles, loc="outside right upper", fontsize=8, frameon=False)
    fig.suptitle("Clusters in the data")
    return fig


def _draw_panels(axes, values, features, labels, uncertainty, colors) -> None:
    """Scatter plots off the diagonal, stacked histograms on it; labels on the outer panels."""
    point_colors = _point_colors(colors, labels, uncertainty)
    uncertain = uncertainty > UNCERTAIN_ABOVE
    d = len(features)
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


def _point_colors(colors: np.ndarray, labels: np.ndarray, uncertainty: np.ndarray) -> np.ndarray:
    """Each row's cluster colour, fading with its uncertainty."""
    n_components = len(colors)
    point_colors = colors[labels].copy()
    # uncertainty runs from 0 to 1 - 1/K; certain rows opaque, the most uncertain at 0.25.
    worst = max(1.0 - 1.0 / n_components, 1e-12)
    point_colors[:, 3] = 1.0 - 0.75 * np.clip(uncertainty / worst, 0.0, 1.0)
    return point_colors


def _legend_handles(labels: np.ndarray, colors: np.ndarray, shown: list[str]) -> list:
    """One patch per cluster with its number of rows, and the ring of uncertain rows."""
    handles = [
        Patch(color=colors[k], label=f"{shown[k]} ({int((labels == k).sum())} rows)")
        for k in range(len(colors))
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
    return handles


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
