"""The Gaussian kernels' payload layout, covariance structures and where theta's blocks sit."""

from __future__ import annotations

import numba

from bayesmixture._kernels.payload import Layout

# Covariance structures.
FULL, TIED, DIAG, SPHERICAL = 0, 1, 2, 3

GAUSSIAN = Layout(
    "gaussian",
    header=(
        "n_obs",
        "n_features",
        "n_components",
        "covariance",
        "n_pairs",  # n_features (n_features - 1) / 2
        "n_patterns",  # missingness patterns besides the complete one
        "n_label_groups",  # groups sharing one label (0: every row mixes alone)
        "mean_prior_sd",
        "scale_prior_sd",
        "df_shape",  # Gamma(df_shape, df_rate) of Student-t degrees of freedom
        "df_rate",
    ),
    sections=(
        ("weights", None),  # the weights' block (bayesmixture._kernels.weights)
        ("cpc_concentration", ("n_pairs",)),  # Beta(b, b) of each CPC
        # column by column (feature a of row i at a * n_obs + i), so that a pass over rows
        # reads each feature contiguously; a row with missing entries holds its observed
        # entries first, then zeros
        ("x", ("n_features", "n_obs")),
        ("weight_row", ("n_obs",)),  # each row's row of weights (its group)
        ("label_group", ("n_obs",)),  # each row's label group
        ("case_weight", ("n_obs",)),
        ("known", ("n_obs",)),  # each row's known component, -1 when unlabelled
        ("noise", ("n_obs",)),  # each row's noise log-density
        ("pattern", ("n_obs",)),  # each row's missingness pattern, 0: complete
        ("masks", ("n_patterns", "n_features")),  # 1 where a pattern observes a coordinate
    ),
)
SLOT, OFFSET = GAUSSIAN.slot, GAUSSIAN.offset


def n_scale_params(cov: int, n_components: int, n_features: int) -> int:
    """Number of unconstrained standard deviations (``sd_log__``)."""
    if cov == TIED:
        return n_features
    if cov == SPHERICAL:
        return n_components
    return n_components * n_features


def n_cpc_params(cov: int, n_components: int, n_features: int) -> int:
    """Number of unconstrained CPCs (``cpc_logodds__``): none for diagonal structures."""
    pairs = n_features * (n_features - 1) // 2
    if cov == FULL:
        return n_components * pairs
    if cov == TIED:
        return pairs
    return 0


@numba.njit(inline="always")
def dims(payload):
    """(N, D, K, cov, NF, P): rows, features, components, structure, factors (one per
    component, or one for "tied") and CPCs per factor."""
    D = int(payload[SLOT.n_features])
    K = int(payload[SLOT.n_components])
    cov = int(payload[SLOT.covariance])
    NF = 1 if cov == TIED else K
    return int(payload[SLOT.n_obs]), D, K, cov, NF, D * (D - 1) // 2


@numba.njit(inline="always")
def theta_starts(t_mu, K, D, cov, NF, P):
    """Where sd_log__, cpc_logodds__ and df_log__ start in theta, after the means at t_mu."""
    t_sd = t_mu + K * D
    t_cpc = t_sd + (D if cov == TIED else (K if cov == SPHERICAL else K * D))
    t_df = t_cpc + (NF * P if cov == FULL or cov == TIED else 0)
    return t_sd, t_cpc, t_df
