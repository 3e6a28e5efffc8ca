"""Pictures of a fitted mixture: clusters in the data, memberships, posteriors, convergence.

Every function returns a new :class:`matplotlib.figure.Figure` built without pyplot, so
nothing is shown or kept in pyplot's global list of figures; save it with ``fig.savefig``.
Cluster ``k`` has the same colour in every figure (:func:`cluster_colors`).

``_clusters``
    :func:`pair_plot`, the rows in the data; ``UNCERTAIN_ABOVE``.
``_membership``
    :func:`membership_strip`, every row's membership probabilities.
``_posterior``
    :func:`posterior_plot`, intervals of each cluster's weight and means.
``_convergence``
    :func:`trace_rank_plot`, each chain's trace and ranks.
``_comparison``
    :func:`comparison_plot` and :func:`n_components_plot`, how many clusters.
``_colors``
    :func:`cluster_colors` and :func:`cluster_name`, shared by every figure.
"""

from bayesmixture.plots._clusters import UNCERTAIN_ABOVE, pair_plot
from bayesmixture.plots._colors import cluster_colors, cluster_name
from bayesmixture.plots._comparison import (
    comparison_plot,
    is_information_criteria,
    n_components_plot,
)
from bayesmixture.plots._convergence import trace_rank_plot
from bayesmixture.plots._membership import membership_strip
from bayesmixture.plots._posterior import posterior_plot

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
