"""Scoring values of a :class:`~bayesmixture.Mixture` with scipy's densities, draw by draw.

Each family's log density is scipy's, in PyMC's parametrisation (the same numbers PyMC's
graph gives, tested to 1e-10): no graph to compile, so relabelling and membership of a fresh
process's first fit cost milliseconds instead of the ~15 s gcc spends on PyMC's graph.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

from bayesmixture._kernels.univariate import NEGBINOMIAL_POISSON_ALPHA
from bayesmixture.evaluation import ArrayScorer


def negbinomial_logpmf(y, mu, alpha):
    """PyMC's NegativeBinomial(mu, alpha), its Poisson limit above the kernel's threshold."""
    with np.errstate(divide="ignore", invalid="ignore"):
        log_p = stats.nbinom.logpmf(y, alpha, alpha / (mu + alpha))
    return np.where(alpha > NEGBINOMIAL_POISSON_ALPHA, stats.poisson.logpmf(y, mu), log_p)


# family -> log density of values y given its parameters (PyMC's names) and trials
LOG_DENSITIES = {
    "normal": lambda y, mu, sigma, n: stats.norm.logpdf(y, mu, sigma),
    "studentt": lambda y, mu, sigma, nu, n: stats.t.logpdf(y, nu, mu, sigma),
    "lognormal": lambda y, mu, sigma, n: stats.lognorm.logpdf(y, sigma, scale=np.exp(mu)),
    "gamma": lambda y, mean, shape, n: stats.gamma.logpdf(y, shape, scale=mean / shape),
    "exponential": lambda y, mean, n: stats.expon.logpdf(y, scale=mean),
    "beta": lambda y, mean, concentration, n: stats.beta.logpdf(
        y, mean * concentration, (1.0 - mean) * concentration
    ),
    "poisson": lambda y, mu, n: stats.poisson.logpmf(y, mu),
    "negbinomial": lambda y, mu, alpha, n: negbinomial_logpmf(y, mu, alpha),
    "binomial": lambda y, p, n: stats.binom.logpmf(y, n, p),
}


class UnivariateEvaluator(ArrayScorer):
    """Per-draw log responsibilities and marginal densities of a :class:`Mixture`.

    Parameters
    ----------
    spec : MixtureSpec
        The mixture's record (for the number of components).
    families : list of str
        Each component's family.
    parameters : list of list of str
        Each component's posterior variables, in its family's order: ``mu`` (one variable
        with a component axis) when all components share a family, ``c0_mu`` otherwise.
    trials : int or ndarray, optional
        The training rows' trials (binomial components); new rows pass theirs as
        ``data={"trials": ...}``.
    """

    def __init__(self, spec, families: list[str], parameters: list[list[str]], trials=None):
        self.spec = spec
        self.families = list(families)
        self.parameters = [list(names) for names in parameters]
        self.trials = trials
        names = dict.fromkeys(name for group in self.parameters for name in group)
        self.rv_names = ("weights", *names)

    @property
    def totals(self):
        """The fused pass over rows and draws that ``evaluation.summarise`` takes for large
        inputs (``_fast.univariate.fused_totals``); None where the kernel lacks a family."""
        from bayesmixture.estimators._fast.univariate import fused_totals

        return fused_totals(self.families, self.parameters, self.trials)

    def _row_data(self, data, n_rows: int) -> dict[str, np.ndarray]:
        data = dict(data or {})
        unknown = sorted(set(data) - {"trials"})
        if unknown:
            raise ValueError(f"the mixture's scorer takes trials as data, not {unknown}.")
        trials = data.get("trials", self.trials)
        if trials is None or np.ndim(trials) == 0:
            return {}
        trials = np.asarray(trials)
        if trials.shape != (n_rows,):
            raise ValueError(f"trials has shape {trials.shape}; expected ({n_rows},).")
        return {"trials": trials}

    def _log_joint(self, rows, draws, picked, row_data=None) -> np.ndarray:
        y = np.asarray(rows)[:, None]  # (rows, 1): broadcast against (draws,)
        trials = (row_data or {}).get("trials", self.trials)
        n = None if trials is None else np.reshape(trials, (-1, 1)) if np.ndim(trials) else trials
        with np.errstate(divide="ignore"):  # a weight of 0 (underflow): log 0 = -inf
            log_w = np.log(np.asarray(draws["weights"][picked], dtype=float))  # (draws, K)
        values = {name: np.asarray(draws[name][picked], dtype=float) for name in self.rv_names[1:]}
        joint = np.empty((len(y), len(picked), len(self.families)))
        for k, (family, names) in enumerate(zip(self.families, self.parameters, strict=True)):
            # one variable per parameter with a component axis, or one per component
            params = [
                values[name][:, k] if values[name].ndim == 2 else values[name] for name in names
            ]
            joint[..., k] = LOG_DENSITIES[family](y, *params, n) + log_w[:, k]
        return joint
