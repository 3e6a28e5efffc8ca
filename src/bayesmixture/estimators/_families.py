"""Component families of :class:`bayesmixture.Mixture`: priors, distribution, support, starts.

Priors are weakly informative and scaled by the data (as bambi does): e.g. a normal
component's mean is Normal(mean(y), 2.5 sd(y)) and its sd HalfNormal(2.5 sd(y)). Every
parameter is one variable with dim ``component``, so relabelling permutes it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pymc as pm

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


@dataclass(frozen=True)
class Family:
    """How one family of components enters a mixture."""

    name: str
    support: str
    priors: Callable[..., dict]  # (scale, dims, prefix) -> parameter variables by name
    dist: Callable[..., object]  # parameters (and trials) -> unnamed PyMC distribution
    start: Callable[[np.ndarray], dict]  # data of one component -> its parameter values

    @property
    def discrete(self) -> bool:
        return self.support == COUNT


def _normal_priors(s: DataScale, dims, prefix=""):
    return {
        "mu": pm.Normal(prefix + "mu", s.mean, 2.5 * s.sd, dims=dims),
        "sigma": pm.HalfNormal(prefix + "sigma", 2.5 * s.sd, dims=dims),
    }


def _studentt_priors(s: DataScale, dims, prefix=""):
    return {**_normal_priors(s, dims, prefix), "nu": pm.Gamma(prefix + "nu", 2.0, 0.1, dims=dims)}


def _lognormal_priors(s: DataScale, dims, prefix=""):
    return {
        "mu": pm.Normal(prefix + "mu", s.log_mean, 2.5 * s.log_sd, dims=dims),
        "sigma": pm.HalfNormal(prefix + "sigma", 2.5 * s.log_sd, dims=dims),
    }


def _gamma_priors(s: DataScale, dims, prefix=""):
    return {
        "mean": pm.LogNormal(prefix + "mean", np.log(max(s.mean, 1e-8)), 1.5, dims=dims),
        "shape": pm.Gamma(prefix + "shape", 2.0, 0.5, dims=dims),
    }


def _exponential_priors(s: DataScale, dims, prefix=""):
    return {"mean": pm.LogNormal(prefix + "mean", np.log(max(s.mean, 1e-8)), 1.5, dims=dims)}


def _beta_priors(s: DataScale, dims, prefix=""):
    return {
        "mean": pm.Beta(prefix + "mean", 1.0, 1.0, dims=dims),
        "concentration": pm.Gamma(prefix + "concentration", 2.0, 0.1, dims=dims),
    }


def _count_rate_priors(s: DataScale, dims, prefix=""):
    return {"mu": pm.LogNormal(prefix + "mu", np.log(s.mean + 0.5), 1.5, dims=dims)}


def _negbinomial_priors(s: DataScale, dims, prefix=""):
    return {
        **_count_rate_priors(s, dims, prefix),
        "alpha": pm.Gamma(prefix + "alpha", 2.0, 0.5, dims=dims),
    }


def _binomial_priors(s: DataScale, dims, prefix=""):
    return {"p": pm.Beta(prefix + "p", 1.0, 1.0, dims=dims)}


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


FAMILIES = {
    "normal": Family(
        "normal", REAL, _normal_priors, lambda mu, sigma: pm.Normal.dist(mu, sigma), _normal_start
    ),
    "studentt": Family(
        "studentt",
        REAL,
        _studentt_priors,
        lambda mu, sigma, nu: pm.StudentT.dist(nu=nu, mu=mu, sigma=sigma),
        lambda y: {**_normal_start(y), "nu": 10.0},
    ),
    "lognormal": Family(
        "lognormal",
        POSITIVE,
        _lognormal_priors,
        lambda mu, sigma: pm.LogNormal.dist(mu, sigma),
        _lognormal_start,
    ),
    "gamma": Family(
        "gamma",
        POSITIVE,
        _gamma_priors,
        lambda mean, shape: pm.Gamma.dist(alpha=shape, beta=shape / mean),
        _gamma_start,
    ),
    "exponential": Family(
        "exponential",
        POSITIVE,
        _exponential_priors,
        lambda mean: pm.Exponential.dist(lam=1.0 / mean),
        lambda y: {"mean": max(_moments(y)[0], 1e-6)},
    ),
    "beta": Family(
        "beta",
        UNIT,
        _beta_priors,
        lambda mean, concentration: pm.Beta.dist(
            alpha=mean * concentration, beta=(1 - mean) * concentration
        ),
        _beta_start,
    ),
    "poisson": Family(
        "poisson",
        COUNT,
        _count_rate_priors,
        lambda mu: pm.Poisson.dist(mu),
        lambda y: {"mu": max(_moments(y)[0], 0.1)},
    ),
    "negbinomial": Family(
        "negbinomial",
        COUNT,
        _negbinomial_priors,
        lambda mu, alpha: pm.NegativeBinomial.dist(mu=mu, alpha=alpha),
        _negbinomial_start,
    ),
    "binomial": Family(
        "binomial",
        COUNT,
        _binomial_priors,
        lambda p, trials: pm.Binomial.dist(n=trials, p=p),
        lambda y, trials=1: {"p": min(max(_moments(y)[0] / max(trials, 1), 0.01), 0.99)},
    ),
}
