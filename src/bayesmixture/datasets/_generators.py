"""Synthetic mixtures with known generating parameters, for examples and tests."""

from __future__ import annotations

import warnings
from typing import NamedTuple

import numpy as np

from bayesmixture._validation import check_positive_int


class OperatorMixture(NamedTuple):
    """The forum thread's problem: one latent ``x`` seen through two noisy operators."""

    y: np.ndarray
    """Observations, shape (n_obs,)."""
    H1: np.ndarray
    """The worse operator (offset 0.1, noise 0.1), shape (n_obs, n_features)."""
    H2: np.ndarray
    """The better operator (noise 0.01), shape (n_obs, n_features)."""
    x: np.ndarray
    """The true latent vector (1, 2, ..., n_features)."""
    noise: float
    """Observation noise standard deviation."""


def make_operator_mixture(
    random_seed: int = 2,
    *,
    n_obs: int = 60,
    n_features: int = 3,
    noise: float = 0.01,
    seed: int | None = None,
) -> OperatorMixture:
    """Generate the regression of the forum thread: y = H x + noise, seen through H1 or H2.

    The defaults reproduce the thread's numbers exactly (its code used NumPy's legacy seeding,
    so this uses a local ``np.random.RandomState(random_seed)``, never the global state).

    Parameters
    ----------
    random_seed : int, default 2
        Seed of the generator (``seed=``, its earlier name, still works with a
        ``FutureWarning``).
    n_obs, n_features : int, default 60 and 3
        Number of observations and length of x.
    noise : float, default 0.01
        Standard deviation of the observation noise; H1 gets 10x that as operator noise.

    Returns
    -------
    OperatorMixture
        ``y``, ``H1``, ``H2``, the true ``x`` and the ``noise``.

    Examples
    --------
    >>> from bayesmixture.datasets import make_operator_mixture
    >>> data = make_operator_mixture(random_seed=2)
    >>> data.y.shape, data.H1.shape, data.x.tolist()
    ((60,), (60, 3), [1.0, 2.0, 3.0])
    """
    rng = np.random.RandomState(_renamed(random_seed, seed, "make_operator_mixture"))
    H = rng.random_sample(size=(n_obs, n_features))
    x = np.arange(1, n_features + 1, dtype=float)
    y = H @ x + rng.normal(loc=0.0, scale=noise, size=n_obs)
    H1 = 0.1 + H + rng.normal(0.0, noise * 10, size=(n_obs, n_features))
    H2 = H + rng.normal(0.0, noise, size=(n_obs, n_features))
    return OperatorMixture(y=y, H1=H1, H2=H2, x=x, noise=noise)


def make_gaussian_mixture(n, weights, means, covs, random_seed=None, *, seed=None):
    """Draw ``n`` points from a Gaussian mixture with known parameters.

    Parameters
    ----------
    n : int
        Number of points.
    weights : array-like of shape (n_components,)
        Mixing weights (non-negative, summing to 1).
    means : array-like of shape (n_components, n_features)
        Component means.
    covs : array-like of shape (n_components, n_features, n_features)
        Component covariance matrices (symmetric positive definite).
    random_seed : int, numpy.random.Generator or None
        Random seed (``seed=``, its earlier name, still works with a ``FutureWarning``).

    Returns
    -------
    X : ndarray of shape (n, n_features)
        The points.
    labels : ndarray of shape (n,)
        The component each point was drawn from.

    Examples
    --------
    >>> import numpy as np
    >>> from bayesmixture.datasets import make_gaussian_mixture
    >>> X, z = make_gaussian_mixture(300, [0.5, 0.5], [[-3, 0], [3, 0]], [np.eye(2)] * 2,
    ...                              random_seed=0)
    >>> X.shape, np.bincount(z).sum()
    ((300, 2), np.int64(300))
    """
    n = check_positive_int(n, "n")
    weights = np.asarray(weights, dtype=float)
    means = np.atleast_2d(np.asarray(means, dtype=float))
    covs = np.asarray(covs, dtype=float)
    n_components, n_features = means.shape
    if weights.shape != (n_components,) or covs.shape != (n_components, n_features, n_features):
        raise ValueError(
            f"weights {weights.shape}, means {means.shape} and covs {covs.shape} disagree: "
            "expected (K,), (K, D) and (K, D, D)."
        )
    if (weights < 0).any() or not np.isclose(weights.sum(), 1.0):
        raise ValueError(f"weights must be non-negative and sum to 1, got {weights.tolist()}.")
    rng = np.random.default_rng(_renamed(random_seed, seed, "make_gaussian_mixture"))
    labels = rng.choice(n_components, size=n, p=weights)
    chol = np.linalg.cholesky(covs)
    noise = rng.standard_normal((n, n_features))
    X = means[labels] + np.einsum("nij,nj->ni", chol[labels], noise)
    return X, labels


def _renamed(random_seed, seed, owner: str):
    """``random_seed``, or ``seed`` (its earlier name) with a FutureWarning."""
    if seed is None:
        return random_seed
    warnings.warn(
        f"{owner}: seed= is now called random_seed= (as everywhere in bayesmixture and PyMC); "
        "seed= will stop working in the next release.",
        FutureWarning,
        stacklevel=3,
    )
    return seed
