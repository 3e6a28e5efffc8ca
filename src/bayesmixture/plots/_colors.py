"""How every figure names and colours the clusters: cluster ``k`` looks the same everywhere."""

from __future__ import annotations

import matplotlib as mpl
import numpy as np


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


def display_names(names, n_components: int) -> list[str]:
    """Display names of the components: ``names`` (coordinates) or 0..K-1."""
    values = range(n_components) if names is None else list(names)
    return [cluster_name(name) for name in values]
