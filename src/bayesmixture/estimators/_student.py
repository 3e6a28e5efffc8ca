"""StudentTMixture: heavy-tailed clusters, robust to outliers (teigen's model, Bayesian)."""

from __future__ import annotations

import numpy as np

from bayesmixture._registry import register_estimator
from bayesmixture.estimators._gaussian import GaussianMixture

# Gamma(shape, rate) prior of each component's degrees of freedom: mean 20, most mass from
# about 3 to 50, so that tails are learnt from the data (Juarez & Steel 2010, the prior also
# used by Mixture's "studentt" family).
DF_PRIOR = (2.0, 0.1)
# Starting degrees of freedom (jittered): tails that a few outliers can still move.
DF_START = 10.0


@register_estimator
class StudentTMixture(GaussianMixture):
    """Bayesian mixture of multivariate Student-t components, fitted with NUTS.

    The components of :class:`GaussianMixture` with heavier tails: component k is
    MvStudentT(df_k, mu_k, Sigma_k), so rows far from every cluster (outliers) pull on the
    means and scales far less than under Gaussian components. Each component has its own
    degrees of freedom ``df`` ~ Gamma(``df_prior``); small df means heavy tails, large df
    approaches the Gaussian. Priors of the means, scales (``covariance_type``) and weights,
    label switching, membership and prediction are those of :class:`GaussianMixture`.

    The posterior reports ``means``, ``scales`` (the scale matrices Sigma_k, data units),
    ``sigmas`` (the square roots of their diagonals) and ``df``. The covariance of a t
    component is df / (df - 2) Sigma when df > 2 and infinite otherwise
    (:attr:`covariances_`).

    Parameters
    ----------
    n_components : int, default 2
        Number of components K.
    df_prior : tuple of two positive floats, default (2.0, 0.1)
        Shape and rate of the Gamma prior of each component's degrees of freedom (mean 20).
    **others
        As :class:`GaussianMixture`: ``covariance_type``, ``standardize``, ``draws``,
        ``tune``, ``chains``, ``sampler``, ``init``, ``weights_prior``, ``mean_prior_sd``,
        ``scale_prior_sd``, ``lkj_eta``, ``missing``, ``noise``, ``random_seed``,
        ``progressbar``.

    Attributes
    ----------
    idata_, model_, membership_, permutations_
        As :class:`GaussianMixture`.
    weights_, means_, scales_, df_, covariances_ : ndarray
        Posterior means, in the data's units.

    Examples
    --------
    >>> import numpy as np, bayesmixture as bm
    >>> rng = np.random.default_rng(0)
    >>> X = np.r_[rng.standard_t(3, size=(60, 2)) - 4, rng.standard_t(3, size=(60, 2)) + 4]
    >>> tm = bm.StudentTMixture(2, draws=150, tune=150, chains=2, random_seed=1,
    ...                         progressbar=False).fit(X)
    >>> tm.df_.shape, sorted(np.round(tm.means_[:, 0]).tolist())
    ((2,), [-4.0, 4.0])
    """

    _matrix_name = "scales"

    def __init__(
        self,
        n_components: int = 2,
        *,
        covariance_type: str = "full",
        df_prior=DF_PRIOR,
        standardize: bool = True,
        draws: int = 1000,
        tune: int | None = None,
        chains: int = 4,
        sampler: str = "auto",
        init: str = "em",
        weights_prior=1.0,
        mean_prior_sd: float = 1.5,
        scale_prior_sd: float = 1.0,
        lkj_eta: float = 2.0,
        missing: str = "error",
        noise: bool = False,
        random_seed=None,
        progressbar: bool = True,
    ):
        super().__init__(
            n_components,
            covariance_type=covariance_type,
            standardize=standardize,
            draws=draws,
            tune=tune,
            chains=chains,
            sampler=sampler,
            init=init,
            weights_prior=weights_prior,
            mean_prior_sd=mean_prior_sd,
            scale_prior_sd=scale_prior_sd,
            lkj_eta=lkj_eta,
            missing=missing,
            noise=noise,
            random_seed=random_seed,
            progressbar=progressbar,
        )
        self.df_prior = df_prior

    # ------------------------------------------------------------------ public

    @property
    def scales_(self) -> np.ndarray:
        self._check_fitted()
        return self.idata_.posterior["scales"].mean(("chain", "draw")).values

    @property
    def df_(self) -> np.ndarray:
        self._check_fitted()
        return self.idata_.posterior["df"].mean(("chain", "draw")).values

    @property
    def covariances_(self) -> np.ndarray:
        """Posterior mean covariance of each component, df / (df - 2) Sigma: all ``inf`` for
        a component some of whose draws have df <= 2 (its variance does not exist there)."""
        self._check_fitted()
        post = self.idata_.posterior
        df, scales = post["df"].values, post["scales"].values  # (chain, draw, K[, D, D])
        finite = df > 2.0
        factor = np.where(finite, df / np.where(finite, df - 2.0, 1.0), 0.0)
        covariances = (factor[..., None, None] * scales).mean(axis=(0, 1))
        covariances[~finite.all(axis=(0, 1))] = np.inf
        return covariances

    # ------------------------------------------------------------------ contract

    @property
    def _summary_vars(self):
        return (*super()._summary_vars, "df")

    def _check_params(self) -> None:
        super()._check_params()
        self._df_prior()

    def _df_prior(self) -> tuple[float, float]:
        """(shape, rate) of the degrees of freedom's Gamma prior, checked."""
        try:
            shape, rate = (float(v) for v in self.df_prior)
        except (TypeError, ValueError):
            shape = rate = float("nan")
        if not (np.isfinite(shape) and np.isfinite(rate) and shape > 0 and rate > 0):
            raise ValueError(
                f"df_prior={self.df_prior!r} must be two positive numbers: the shape and rate "
                "of the Gamma prior of each component's degrees of freedom, e.g. (2.0, 0.1)."
            )
        return shape, rate

    def _component_params(self) -> dict:
        import pymc as pm

        shape, rate = (np.float64(v) for v in self._df_prior())
        K = self.n_components
        return {"df": pm.Gamma("df", alpha=shape, beta=rate, dims="component", shape=(K,))}

    def _component_param_dims(self) -> dict[str, tuple[str, ...]]:
        return {"df": ("component",)}

    def _component_dist(self, mu, chol, *, df):
        import pymc as pm

        return pm.MvStudentT.dist(nu=df, mu=mu, chol=chol)

    def _robust_start(self) -> bool:
        return True

    def _component_param_starts(self, jitter) -> dict:
        return {"df": DF_START * np.exp(jitter((self.n_components,)))}

    def _component_draws(self, post, picked, labels, rng) -> np.ndarray:
        """One Student-t draw: mu + L z / sqrt(g / df), g ~ chi-squared(df)."""
        means = post["means"].transpose("sample", ...).values[picked, labels]
        scales = post["scales"].transpose("sample", ...).values[picked, labels]
        df = post["df"].transpose("sample", ...).values[picked, labels]
        z = rng.standard_normal(means.shape)
        shrink = np.sqrt(rng.chisquare(df) / df)[:, None]
        return means + np.einsum("nij,nj->ni", np.linalg.cholesky(scales), z) / shrink
