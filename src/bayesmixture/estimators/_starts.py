"""Where chains start: EM (scikit-learn), k-means, or random rows.

Each start is a set of Gaussian mixture parameters on the model's (standardised) scale:
weights (K,), means (K, D) and covariances in scikit-learn's layout for the covariance type.
Starting every chain near the EM solution keeps chains in the same mode; random starts are
there for checking that they do.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.cluster import KMeans
from sklearn.mixture import GaussianMixture as EMGaussianMixture

INITS = ("em", "kmeans", "random")


@dataclass
class GaussianStart:
    weights: np.ndarray  # (K,)
    means: np.ndarray  # (K, D)
    covariances: np.ndarray  # full (K, D, D); tied (D, D); diag (K, D); spherical (K,)


def em_start(Z: np.ndarray, n_components: int, covariance_type: str, seed: int) -> GaussianStart:
    """Best of a few EM runs (scikit-learn), the usual maximum-likelihood answer."""
    em = EMGaussianMixture(
        n_components,
        covariance_type=covariance_type,
        n_init=3,
        reg_covar=1e-4,
        random_state=seed,
    ).fit(Z)
    return GaussianStart(em.weights_, em.means_, em.covariances_)


def kmeans_start(
    Z: np.ndarray, n_components: int, covariance_type: str, seed: int
) -> GaussianStart:
    """k-means centres, cluster shares and within-cluster spreads."""
    km = KMeans(n_components, n_init=3, random_state=seed).fit(Z)
    return _start_from_labels(Z, km.labels_, km.cluster_centers_, covariance_type)


def random_start(
    Z: np.ndarray, n_components: int, covariance_type: str, seed: int
) -> GaussianStart:
    """Means at randomly chosen rows, unit spreads, equal weights."""
    rng = np.random.default_rng(seed)
    means = Z[rng.choice(len(Z), size=n_components, replace=len(Z) < n_components)]
    labels = np.argmin(((Z[:, None, :] - means[None]) ** 2).sum(-1), axis=1)
    return _start_from_labels(Z, labels, means, covariance_type)


def _start_from_labels(Z, labels, means, covariance_type) -> GaussianStart:
    n_components, n_features = means.shape
    counts = np.bincount(labels, minlength=n_components).astype(float)
    weights = (counts + 1.0) / (counts.sum() + n_components)
    variances = np.ones((n_components, n_features))
    for k in range(n_components):
        members = Z[labels == k]
        if len(members) > 1:
            variances[k] = np.maximum(members.var(axis=0), 1e-2)
    covariances = {
        "full": np.stack([np.diag(v) for v in variances]),
        "tied": np.diag(variances.mean(axis=0)),
        "diag": variances,
        "spherical": variances.mean(axis=1),
    }[covariance_type]
    return GaussianStart(weights, means, covariances)


STARTS = {"em": em_start, "kmeans": kmeans_start, "random": random_start}
