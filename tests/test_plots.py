"""Figures of a fitted mixture: right number of panels, titles, colours; nothing global."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import arviz as az
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from bayesmixture.plots import (
    UNCERTAIN_ABOVE,
    cluster_colors,
    comparison_plot,
    membership_strip,
    pair_plot,
    posterior_plot,
    trace_rank_plot,
)


@pytest.fixture
def clustered(rng):
    """Three well separated clusters in three columns, with made-up memberships."""
    labels = np.repeat([0, 1, 2], 20)
    X = rng.normal(size=(60, 3)) + 5.0 * labels[:, None]
    probability = np.full((60, 3), 0.02)
    probability[np.arange(60), labels] = 0.96
    probability[:5] = [0.5, 0.3, 0.2]  # five uncertain rows
    labels = probability.argmax(axis=1)
    data = pd.DataFrame(X, columns=["length", "depth", "mass"])
    return data, probability, labels, 1.0 - probability.max(axis=1)


@pytest.fixture
def posterior(rng):
    """A fake relabelled posterior: 2 chains x 80 draws, 3 components, 2 features."""
    return az.from_dict(
        posterior={
            "weights": rng.dirichlet([10, 20, 30], size=(2, 80)),
            "means": rng.normal([[0.0, 1.0], [4.0, 5.0], [8.0, 9.0]], 0.2, size=(2, 80, 3, 2)),
        },
        dims={"weights": ["component"], "means": ["component", "feature"]},
        coords={"component": [0, 1, 2], "feature": ["length", "depth"]},
    )


def test_pair_plot_has_one_panel_per_pair_of_columns(clustered):
    data, _, labels, uncertainty = clustered
    fig = pair_plot(data, labels, uncertainty)
    assert isinstance(fig, Figure)
    assert len(fig.axes) == 9
    assert fig.get_suptitle() == "Clusters in the data"
    assert [ax.get_xlabel() for ax in fig.axes[-3:]] == ["length", "depth", "mass"]


def test_pair_plot_caps_the_number_of_columns(clustered):
    data, _, labels, uncertainty = clustered
    assert len(pair_plot(data, labels, uncertainty, max_features=2).axes) == 4


def test_pair_plot_of_one_column_is_one_histogram(clustered):
    data, _, labels, uncertainty = clustered
    fig = pair_plot(data[["mass"]], labels, uncertainty)
    assert len(fig.axes) == 1
    assert fig.axes[0].get_xlabel() == "mass"


def test_pair_plot_fades_and_rings_uncertain_rows(clustered):
    data, _, labels, uncertainty = clustered
    ax = pair_plot(data, labels, uncertainty).axes[1]  # row 0, column 1: a scatter
    points, rings = ax.collections
    alpha = points.get_facecolors()[:, 3]
    # certain rows (uncertainty 0.04) stay nearly opaque, the uncertain ones (0.5) fade
    assert alpha[uncertainty < 0.1].min() > 0.9
    assert alpha[uncertainty > UNCERTAIN_ABOVE].max() < 0.6
    assert len(rings.get_offsets()) == int((uncertainty > UNCERTAIN_ABOVE).sum())


def test_membership_strip_is_one_panel_with_a_block_per_cluster(clustered):
    _, probability, labels, _ = clustered
    fig = membership_strip(probability, labels)
    assert len(fig.axes) == 1
    ax = fig.axes[0]
    assert ax.get_title() == "Membership probability of every row"
    assert ax.get_xlim() == (0.0, 60.0)
    assert [t.get_text() for t in ax.texts] == ["cluster 0", "cluster 1", "cluster 2"]


def test_posterior_plot_shows_weights_and_the_mean_of_each_column(posterior):
    fig = posterior_plot(posterior)
    titles = [ax.get_title() for ax in fig.axes]
    assert titles == ["Weight (share of rows)", "Mean of length", "Mean of depth"]
    ticks = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert ticks == ["cluster 0", "cluster 1", "cluster 2"]


def test_posterior_plot_of_a_one_column_family_uses_its_parameters(rng):
    idata = az.from_dict(
        posterior={
            "weights": rng.dirichlet([5, 5], size=(2, 40)),
            "mu": rng.normal(size=(2, 40, 2)),
        },
        dims={"weights": ["component"], "mu": ["component"]},
    )
    assert [ax.get_title() for ax in posterior_plot(idata).axes] == [
        "Weight (share of rows)",
        "mu",
    ]


def test_trace_rank_plot_has_a_trace_and_a_rank_panel_per_cluster(posterior):
    fig = trace_rank_plot(posterior)
    assert len(fig.axes) == 6
    titles = [ax.get_title() for ax in fig.axes]
    assert titles[:2] == ["weights of cluster 0: trace", "weights of cluster 0: rank"]
    assert len(fig.axes[0].get_lines()) == 2  # one line per chain


def test_trace_rank_plot_names_the_missing_variable(posterior):
    with pytest.raises(ValueError, match=r"var_name='sd' is not in the posterior; choose one of"):
        trace_rank_plot(posterior, var_name="sd")


def test_loo_comparison_plot_leaves_the_table_untouched():
    table = pd.DataFrame(
        {
            "rank": [1, 0],
            "elpd_loo": [-14.0, -10.0],
            "p_loo": [5.0, 3.0],
            "elpd_diff": [4.0, 0.0],
            "weight": [0.1, 0.9],
            "se": [1.2, 1.0],
            "dse": [1.5, 0.0],
            "warning": [False, False],
            "scale": "log",
        },
        index=[3, 2],
    )
    before = table.copy()
    fig = comparison_plot(table)
    assert len(fig.axes) == 1
    title = "Predictive accuracy of each number of clusters (higher is better)"
    assert fig.axes[0].get_title() == title
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert "2 clusters" in labels and "3 clusters" in labels
    pd.testing.assert_frame_equal(table, before)


def test_bic_comparison_plot_draws_both_criteria():
    table = pd.DataFrame(
        {"bic": [30.0, 20.0, 25.0], "icl": [30.0, 24.0, 31.0]},
        index=pd.Index([1, 2, 3], name="n_components"),
    )
    ax = comparison_plot(table).axes[0]
    assert ax.get_title() == "BIC and ICL of each number of clusters (lower is better)"
    assert [line.get_ydata().tolist() for line in ax.get_lines()] == [
        [30.0, 20.0, 25.0],
        [30.0, 24.0, 31.0],
    ]


@pytest.mark.parametrize("n_components", [1, 3, 10, 15, 25])
def test_cluster_colors_are_distinct(n_components):
    colors = cluster_colors(n_components)
    assert len(set(colors)) == n_components


def test_figures_are_not_kept_by_pyplot(clustered, posterior):
    data, probability, labels, uncertainty = clustered
    plt.close("all")
    pair_plot(data, labels, uncertainty)
    membership_strip(probability, labels)
    posterior_plot(posterior)
    trace_rank_plot(posterior)
    assert plt.get_fignums() == []


def test_n_components_plot_highlights_the_mode():
    import pandas as pd

    from bayesmixture.plots import n_components_plot

    fig = n_components_plot(pd.Series({2: 0.2, 3: 0.7, 4: 0.1}))
    bars = fig.axes[0].patches
    assert len(bars) == 3
    heights = [b.get_height() for b in bars]
    assert heights == [0.2, 0.7, 0.1]
    # only the most probable count is drawn in the dark colour
    assert bars[1].get_facecolor() != bars[0].get_facecolor() == bars[2].get_facecolor()
