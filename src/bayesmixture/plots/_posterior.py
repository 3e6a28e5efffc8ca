"""The posterior of each cluster's weight and means: mean, central 50% and 94% HDI."""

from __future__ import annotations

import arviz as az
import numpy as np
import xarray as xr
from matplotlib.figure import Figure

from bayesmixture.plots._colors import cluster_colors, display_names

# Central interval drawn thick in the posterior plot; the thin line is the 94% HDI (ArviZ's
# default credible mass).
INNER_INTERVAL = 0.5
HDI_PROB = 0.94


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
    ax.set_yticks(y, display_names(draws["component"].values, n_components), fontsize=8)
    ax.set_ylim(-0.7, n_components - 0.3)
    ax.tick_params(axis="x", labelsize=8)
    ax.grid(axis="x", alpha=0.3)
