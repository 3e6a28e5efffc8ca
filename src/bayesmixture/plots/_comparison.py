"""How many clusters: the comparison of numbers of clusters, the posterior of the number."""

from __future__ import annotations

import warnings

import arviz as az
import numpy as np
import pandas as pd
from matplotlib.figure import Figure


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
        return _criteria_plot(comparison)
    return _loo_plot(comparison)


def _criteria_plot(comparison: pd.DataFrame) -> Figure:
    """BIC (and ICL) against the number of clusters, as lines."""
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


def _loo_plot(comparison: pd.DataFrame) -> Figure:
    """ArviZ's plot of an :func:`arviz.compare` table, models named by their clusters."""
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
