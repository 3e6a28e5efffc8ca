"""Component families of :class:`bayesmixture.Mixture`: priors, distribution, support, starts.

Priors are weakly informative and scaled by the data (as bambi does): e.g. a normal
component's mean is Normal(mean(y), 2.5 sd(y)) and its sd HalfNormal(2.5 sd(y)). Every
parameter is one variable with dim ``component``, so relabelling permutes it. Priors are data
(:class:`Prior`): the PyMC model and the compiled density read the same table.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

# Support kinds: where observations must lie.
REAL, POSITIVE, UNIT, COUNT = "real", "positive", "unit interval (0, 1)", "count"


@dataclass(frozen=True)
class DataScale:
    """Summary statistics that scale the default priors."""

    mean: float
    sd: float
    log_mean: float
    log_sd: float

    @classmethod
    def of(cls, y: np.ndarray) -> DataScale:
        sd = float(np.std(y)) or 1.0
        positive = y[y > 0]
        logs = np.log(positive) if positive.size else np.zeros(1)
        return cls(float(np.mean(y)), sd, float(logs.mean()), float(logs.std()) or 1.0)


# PyMC distribution of each kind of prior; its default transform gives the unconstrained value
# (none for normal, log for halfnormal, lognormal and gamma, log-odds for beta).
PRIOR_DISTRIBUTIONS = {
    "normal": "Normal",
    "halfnormal": "HalfNormal",
    "lognormal": "LogNormal",
    "gamma": "Gamma",
    "beta": "Beta",
}


@dataclass(frozen=True)
class Prior:
    """One parameter's prior: a kind of :data:`PRIOR_DISTRIBUTIONS` and its parameters.

    The parameters enter PyMC as float64: PyTensor stores a Python float that float32 holds
    exactly (1.5, 2.0) as a float32 constant, and its log then loses ~1e-8 per term.
    """

    kind: str
    params: tuple[float, ...]

    def variable(self, name: str, dims):
        import pymc as pm

        params = [np.float64(p) for p in self.params]
        return getattr(pm, PRIOR_DISTRIBUTIONS[self.kind])(name, *params, dims=dims)


@dataclass(frozen=True)
class Family:
    """How one family of components enters a mixture."""

    name: str
    support: str
    prior_specs: Callable[[DataScale], dict[str, Prior]]  # parameter name -> prior, in order
    dist: Callable[..., object]  # parameters (and trials) -> unnamed PyMC distribution
    start: Callable[[np.ndarray], dict]  # data of one component -> its parameter values

    @property
    def discrete(self) -> bool:
        return self.support == COUNT

    def priors(self, scale: DataScale, dims, prefix: str = "") -> dict:
        """The parameters' PyMC variables (named ``prefix + parameter``), in order."""
        specs = self.prior_specs(scale)
        return {param: prior.variable(prefix + param, dims) for param, prior in specs.items()}


def _normal_priors(s: DataScale) -> dict[str, Prior]:
    return {
        "mu": Prior("normal", (s.mean, 2.5 * s.sd)),
        "sigma": Prior("halfnormal", (2.5 * s.sd,)),
    }


def _studentt_priors(s: DataScale) -> dict[str, Prior]:
    return {**_normal_priors(s), "nu": Prior("gamma", (2.0, 0.1))}


def _lognormal_priors(s: DataScale) -> dict[str, Prior]:
    return {
        "mu": Prior("normal", (s.log_mean, 2.5 * s.log_sd)),
        "sigma": Prior("halfnormal", (2.5 * s.log_sd,)),
    }


def _gamma_priors(s: DataScale) -> dict[str, Prior]:
    return {
        "mean": Prior("lognormal", (np.log(max(s.mean, 1e-8)), 1.5)),
        "shape": Prior("gamma", (2.0, 0.5)),
    }


def _exponential_priors(s: DataScale) -> dict[str, Prior]:
    return {"mean": Prior("lognormal", (np.log(max(s.mean, 1e-8)), 1.5))}


def _beta_priors(s: DataScale) -> dict[str, Prior]:
    return {
        "mean": Prior("beta", (1.0, 1.0)),
        "concentration": Prior("gamma", (2.0, 0.1)),
    }


def _count_rate_priors(s: DataScale) -> dict[str, Prior]:
    return {"mu": Prior("lognormal", (np.log(s.mean + 0.5), 1.5))}


def _negbinomial_priors(s: DataScale) -> dict[str, Prior]:
    return {**_count_rate_priors(s), "alpha": Prior("gamma", (2.0, 0.5))}


def _binomial_priors(s: DataScale) -> dict[str, Prior]:
    return {"p": Prior("beta", (1.0, 1.0))}


def _moments(y):
    mean = float(np.mean(y)) if y.size else 1.0
    var = float(np.var(y)) if y.size > 1 else 1.0
    return mean, max(var, 1e-6)


def _normal_start(y):
    mean, var = _moments(y)
    return {"mu": mean, "sigma": np.sqrt(var)}


def _lognormal_start(y):
    logs = np.log(y[y > 0]) if np.any(y > 0) else np.zeros(1)
    return {"mu": float(logs.mean()), "sigma": max(float(logs.std()), 1e-2)}


def _gamma_start(y):
    mean, var = _moments(y)
    return {"mean": max(mean, 1e-6), "shape": min(max(mean**2 / var, 0.1), 100.0)}


def _beta_start(y):
    mean, var = _moments(y)
    mean = min(max(mean, 0.01), 0.99)
    return {"mean": mean, "concentration": min(max(mean * (1 - mean) / var - 1, 0.5), 500.0)}


def _negbinomial_start(y):
    mean, var = _moments(y)
    extra = max(var - mean, 1e-3)
    return {"mu": max(mean, 0.1), "alpha": min(max(mean**2 / extra, 0.1), 100.0)}


# The unnamed PyMC distribution of each family, from its parameters (PyMC is imported when a
# model is built, not with this table).
def _normal_dist(mu, sigma):
    import pymc as pm

    return pm.Normal.dist(mu, sigma)


def _studentt_dist(mu, sigma, nu):
    import pymc as pm

    return pm.StudentT.dist(nu=nu, mu=mu, sigma=sigma)


def _lognormal_dist(mu, sigma):
    import pymc as pm

    return pm.LogNormal.dist(mu, sigma)


def _gamma_dist(mean, shape):
    import pymc as pm

    return pm.Gamma.dist(alpha=shape, beta=shape / mean)


def _exponential_dist(mean):
    import pymc as pm

    return pm.Exponential.dist(lam=1.0 / mean)


def _beta_dist(mean, concentration):
    import pymc as pm

    return pm.Beta.dist(alpha=mean * concentration, beta=(1 - mean) * concentration)


def _poisson_dist(mu):
    import pymc as pm

    return pm.Poisson.dist(mu)


def _negbinomial_dist(mu, alpha):
    import pymc as pm

    return pm.NegativeBinomial.dist(mu=mu, alpha=alpha)


def _binomial_dist(p, trials):
    import pymc as pm

    return pm.Binomial.dist(n=trials, p=p)


FAMILIES = {
    "normal": Family("normal", REAL, _normal_priors, _normal_dist, _normal_start),
    "studentt": Family(
        "studentt",
        REAL,
        _studentt_priors,
        _studentt_dist,
        lambda y: {**_normal_start(y), "nu": 10.0},
    ),
    "lognormal": Family(
        "lognormal",
        POSITIVE,
        _lognormal_priors,
        _lognormal_dist,
        _lognormal_start,
    ),
    "gamma": Family(
        "gamma",
        POSITIVE,
        _gamma_priors,
        _gamma_dist,
        _gamma_start,
    ),
    "exponential": Family(
        "exponential",
        POSITIVE,
        _exponential_priors,
        _exponential_dist,
        lambda y: {"mean": max(_moments(y)[0], 1e-6)},
    ),
    "beta": Family(
        "beta",
        UNIT,
        _beta_priors,
        _beta_dist,
        _beta_start,
    ),
    "poisson": Family(
        "poisson",
        COUNT,
        _count_rate_priors,
        _poisson_dist,
        lambda y: {"mu": max(_moments(y)[0], 0.1)},
    ),
    "negbinomial": Family(
        "negbinomial",
        COUNT,
        _negbinomial_priors,
        _negbinomial_dist,
        _negbinomial_start,
    ),
    "binomial": Family(
        "binomial",
        COUNT,
        _binomial_priors,
        _binomial_dist,
        lambda y, trials=1: {"p": min(max(_moments(y)[0] / max(trials, 1), 0.01), 0.99)},
    ),
}
