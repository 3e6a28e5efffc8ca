"""Convergence: each chain's trace and rank histogram of a per-cluster parameter."""

from __future__ import annotations

import arviz as az
import matplotlib as mpl
from matplotlib.figure import Figure

from bayesmixture.plots._colors import display_names


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
    shown = display_names(draws["component"].values, n_components)
    _trace_panels(axes[:, 0], values, var_name, shown, colors)
    chain_colors = [colors(c % 8) for c in range(values.shape[0])]
    _rank_panels(axes[:, 1], idata, var_name, draws["component"].values, shown, chain_colors)
    axes[0, 0].legend(fontsize=7, loc="upper right", ncols=min(values.shape[0], 4))
    fig.suptitle(f"Convergence of the {var_name}: trace (left) and rank (right) per chain")
    return fig


def _trace_panels(axes, values, var_name: str, shown: list[str], colors) -> None:
    """values (chain, draw, component): each chain's draws in order, one panel per cluster."""
    for k, ax in enumerate(axes):
        for c, chain in enumerate(values[:, :, k]):
            ax.plot(chain, color=colors(c % 8), linewidth=0.7, alpha=0.8, label=f"chain {c}")
        ax.set_title(f"{var_name} of {shown[k]}: trace", fontsize=10)
        ax.set_xlabel("draw", fontsize=8)
        ax.tick_params(labelsize=8)


def _rank_panels(axes, idata, var_name: str, component, shown: list[str], chain_colors) -> None:
    """ArviZ's rank plot of each cluster's draws, one histogram per chain."""
    az.plot_rank(
        idata,
        var_names=[var_name],
        coords={"component": component},
        colors=chain_colors,
        ax=axes,
    )
    for k, ax in enumerate(axes):
        ax.set_title(f"{var_name} of {shown[k]}: rank", fontsize=10)
        ax.set_xlabel("rank among all draws", fontsize=8)
        ax.set_ylabel("chain", fontsize=8)
        ax.tick_params(labelsize=8)
