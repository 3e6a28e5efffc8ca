"""Memberships: every row's probabilities as one stacked bar, rows grouped by cluster."""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from bayesmixture.plots._colors import cluster_colors, display_names


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
    shown = display_names(names, n_components)
    fig = Figure(figsize=(11, 3.2), layout="constrained")
    ax = fig.subplots()
    _stacked_bars(ax, probability[order], cluster_colors(n_components), shown)
    _mark_clusters(ax, np.bincount(labels, minlength=n_components), shown)
    ax.set_xlim(0, n_obs)
    ax.set_ylim(0, 1)
    ax.set_xlabel("rows, grouped by most probable cluster, most certain first")
    ax.set_ylabel("probability")
    ax.set_title("Membership probability of every row", pad=18)
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8, frameon=False)
    return fig


def _stacked_bars(ax, sorted_p: np.ndarray, colors, shown: list[str]) -> None:
    """One bar per row (in the given order), split into its probability of each cluster."""
    n_obs, n_components = sorted_p.shape
    edges = np.arange(n_obs + 1)
    lower = np.zeros(n_obs)
    for k in range(n_components):
        upper = lower + sorted_p[:, k]
        ax.stairs(upper, edges, baseline=lower, fill=True, color=colors[k], label=shown[k])
        lower = upper


def _mark_clusters(ax, counts: np.ndarray, shown: list[str]) -> None:
    """A white line where each cluster's block of rows starts, its name above the block."""
    starts = np.concatenate([[0], np.cumsum(counts)])
    for k in range(len(counts)):
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
