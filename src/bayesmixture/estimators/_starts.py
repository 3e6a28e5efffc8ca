"""Where chains start: EM (scikit-learn), k-means, or random rows.

Each start is a set of Gaussian mixture parameters on the model's (standardised) scale:
weights (K,), means (K, D) and covariances in scikit-learn's layout for the covariance type.
Starting every chain near the EM solution keeps chains in the same mode; random starts are
there for checking that they do.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from bayesmixture.estimators._covariance import CovarianceType

INITS = ("em", "kmeans", "random")
# Trimmed EM (Student-t and noise fits): share of rows left out, and refits.
TRIM_SHARE = 0.1
TRIM_ROUNDS = 3


@dataclass
class GaussianStart:
    weights: np.ndarray  # (K,)
    means: np.ndarray  # (K, D)
    # in the covariance type's layout: full (K, D, D), tied (D, D), diag (K, D), spherical (K,)
    covariances: np.ndarray


def em_start(
    Z: np.ndarray, n_components: int, covariance_type: CovarianceType, seed: int
) -> GaussianStart:
    """Best of a few EM runs (scikit-learn), the usual maximum-likelihood answer."""
    em = _em(n_components, covariance_type, seed).fit(Z)
    return _from_em(em, covariance_type)


def _from_em(em, covariance_type: CovarianceType) -> GaussianStart:
    covariances = covariance_type.from_em(em.covariances_, em.means_.shape[1])
    return GaussianStart(em.weights_, em.means_, covariances)


def trimmed_em_start(
    Z: np.ndarray, n_components: int, covariance_type: CovarianceType, seed: int
) -> GaussianStart:
    """EM that leaves out the rows it explains worst, for fits meant to resist outliers.

    Plain EM gives a far outlier group a component of its own, with the clusters sharing the
    rest (a mode the sampler then stays in). Here EM is refitted without the TRIM_SHARE of
    rows of lowest mixture density, TRIM_ROUNDS times (the trimmed likelihood of TCLUST,
    Garcia-Escudero et al. 2008): the outliers drop out and the components go to the clusters.
    """
    keep = np.ones(len(Z), dtype=bool)
    for _ in range(TRIM_ROUNDS):
        em = _em(n_components, covariance_type, seed).fit(Z[keep])
        density = em.score_samples(Z)
        keep = density >= np.quantile(density, TRIM_SHARE)
    return _from_em(em, covariance_type)


def _em(n_components: int, covariance_type: CovarianceType, seed: int, **options):
    """scikit-learn's EM as the starts use it: best of 3 runs, a little covariance floor."""
    from sklearn.mixture import GaussianMixture as EMGaussianMixture

    options.setdefault("n_init", 3)
    return EMGaussianMixture(
        n_components,
        covariance_type=covariance_type.em_type,
        reg_covar=1e-4,
        random_state=seed,
        **options,
    )


def kmeans_start(
    Z: np.ndarray, n_components: int, covariance_type: CovarianceType, seed: int
) -> GaussianStart:
    """k-means centres, cluster shares and within-cluster spreads."""
    from sklearn.cluster import KMeans

    km = KMeans(n_components, n_init=3, random_state=seed).fit(Z)
    return _start_from_labels(Z, km.labels_, km.cluster_centers_, covariance_type)


def random_start(
    Z: np.ndarray, n_components: int, covariance_type: CovarianceType, seed: int
) -> GaussianStart:
    """Means at randomly chosen rows, unit spreads, equal weights."""
    rng = np.random.default_rng(seed)
    means = Z[rng.choice(len(Z), size=n_components, replace=len(Z) < n_components)]
    labels = np.argmin(((Z[:, None, :] - means[None]) ** 2).sum(-1), axis=1)
    return _start_from_labels(Z, labels, means, covariance_type)


def _start_from_labels(Z, labels, means, covariance_type: CovarianceType) -> GaussianStart:
    n_components, n_features = means.shape
    counts = np.bincount(labels, minlength=n_components).astype(float)
    weights = (counts + 1.0) / (counts.sum() + n_components)
    variances = np.ones((n_components, n_features))
    for k in range(n_components):
        members = Z[labels == k]
        if len(members) > 1:
            variances[k] = np.maximum(members.var(axis=0), 1e-2)
    return GaussianStart(weights, means, covariance_type.from_variances(variances))


STARTS = {"em": em_start, "kmeans": kmeans_start, "random": random_start}


def labelled_start(
    Z: np.ndarray,
    codes: np.ndarray,
    n_components: int,
    covariance_type: CovarianceType,
    seed: int,
) -> GaussianStart:
    """EM from the classes' means (their labelled rows) and, for components no class names,
    k-means centres of the unlabelled rows: component k starts at class k."""
    from sklearn.cluster import KMeans

    n_classes = int(codes.max()) + 1
    means = [Z[codes == k].mean(axis=0) for k in range(n_classes)]
    extra = n_components - n_classes
    if extra:
        rest = Z[codes < 0] if (codes < 0).sum() >= extra else Z
        means += list(KMeans(extra, n_init=3, random_state=seed).fit(rest).cluster_centers_)
    em = _em(n_components, covariance_type, seed, n_init=1, means_init=np.asarray(means)).fit(Z)
    return _from_em(em, covariance_type)


@dataclass
class RegressionStart:
    coefficients: np.ndarray  # (K, P), or (P,) when shared
    sd: np.ndarray  # (K,)
    weights: np.ndarray  # (K,)


def regression_em_start(
    designs: np.ndarray,
    y: np.ndarray,
    *,
    shared: bool,
    random: bool,
    seed: int,
    known_sd: float | None = None,
    labels: np.ndarray | None = None,
    n_init: int = 3,
    n_iter: int = 100,
) -> RegressionStart:
    """Maximum-likelihood start for a mixture of regressions: EM, best of ``n_init`` restarts.

    ``designs`` is (K, n_obs, P): component k's design. With ``random`` the start is the
    least-squares fit perturbed per component (no EM), to check that chains agree anyway.
    ``labels`` (partly labelled rows: each row's class code, -1 when unlabelled) start
    component k at class k: EM's labelled rows belong to their class throughout (as in the
    model), and the random start fits class k's coefficients to its labelled rows.
    """
    rng = np.random.default_rng(seed)
    K, n_obs, _ = designs.shape
    sd_floor = 1e-3 * (float(np.std(y)) or 1.0)
    others = _other_classes(labels, K)  # (n_obs, K): components a labelled row is not in
    if random:
        coef = np.linalg.lstsq(designs[0], y, rcond=None)[0]
        spread = np.abs(coef) * 0.5 + 0.1
        coefs = coef if shared else coef + spread * rng.standard_normal((K, coef.size))
        if not shared and labels is not None:
            members = np.eye(K)[np.maximum(labels, 0)] * (labels >= 0)[:, None]  # (n_obs, K)
            for k in np.flatnonzero(members.any(axis=0)):
                rows = members[:, k : k + 1]
                coefs[k] = _weighted_least_squares(designs[k : k + 1], y, rows, False)[0]
        sd = np.full(K, known_sd or max(float(np.std(y - designs[0] @ coef)), sd_floor))
        return RegressionStart(coefs, sd, np.full(K, 1.0 / K))
    best, best_loglik = None, -np.inf
    for _ in range(n_init):
        resp = rng.dirichlet(np.ones(K), size=n_obs)
        if others is not None:
            resp = np.where(others, 0.0, resp)
            resp /= resp.sum(axis=1, keepdims=True)
        for _ in range(n_iter):
            weights = np.clip(resp.mean(axis=0), 1e-3, None)
            weights /= weights.sum()
            coefs = _weighted_least_squares(designs, y, resp, shared)
            means = _means(designs, coefs, shared)  # (n_obs, K)
            resid2 = (y[:, None] - means) ** 2
            if known_sd is None:
                sd = np.sqrt((resp * resid2).sum(0) / np.maximum(resp.sum(0), 1e-12))
                sd = np.maximum(sd, sd_floor)
            else:
                sd = np.full(K, known_sd)
            log_joint = np.log(weights) - np.log(sd) - 0.5 * resid2 / sd**2
            if others is not None:  # a labelled row's term is its own class's only
                log_joint = np.where(others, -np.inf, log_joint)
            log_norm = np.logaddexp.reduce(log_joint, axis=1, keepdims=True)
            resp = np.exp(log_joint - log_norm)
        loglik = float(log_norm.sum())
        if loglik > best_loglik:
            best, best_loglik = RegressionStart(coefs, sd, weights), loglik
    return best


def _other_classes(labels: np.ndarray | None, n_components: int) -> np.ndarray | None:
    """(n_obs, K) mask of the components each labelled row does not belong to; None
    without labels."""
    if labels is None:
        return None
    labels = np.asarray(labels)[:, None]
    return (labels >= 0) & (labels != np.arange(n_components))


def _weighted_least_squares(designs, y, resp, shared: bool) -> np.ndarray:
    K, _, n_coef = designs.shape
    ridge = 1e-8 * np.eye(n_coef)
    if shared:
        gram = sum(designs[k].T @ (resp[:, k, None] * designs[k]) for k in range(K))
        rhs = sum(designs[k].T @ (resp[:, k] * y) for k in range(K))
        return np.linalg.solve(gram + ridge, rhs)
    coefs = np.empty((K, n_coef))
    for k in range(K):
        gram = designs[k].T @ (resp[:, k, None] * designs[k])
        coefs[k] = np.linalg.solve(gram + ridge, designs[k].T @ (resp[:, k] * y))
    return coefs


def _means(designs, coefs, shared: bool) -> np.ndarray:
    if shared:
        return np.einsum("kni,i->nk", designs, coefs)
    return np.einsum("kni,ki->nk", designs, coefs)
