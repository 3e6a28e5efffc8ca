"""Component families of :class:`bayesmixture.Mixture`: one record each, read by every layer.

A family's record (:class:`Family`) carries its support, its priors scaled by the data (as
bambi does: e.g. a normal component's mean is Normal(mean(y), 2.5 sd(y)) and its sd
HalfNormal(2.5 sd(y))), its PyMC distribution, the start of its chains, scipy's log-density
in PyMC's parametrisation (the scorer that relabels and scores rows without PyMC's graph),
the compiled kernel's family code it shares (or none: then it samples on PyMC's graph) and
whether its rows need a number of trials. Every parameter is one variable with dim
``component``, so relabelling permutes it. Priors are data (:class:`Prior`): the PyMC model
and the compiled density read the same table. Adding a family is one record in
``FAMILIES``, or ``register_family(Family(...))`` at run time (``docs/architecture.md``, "A
component family").

The table imports numpy only (the command line reads it before anything heavy loads): PyMC
and scipy are imported by the functions that use them.
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
    """One parameter's prior: its kind and the kind's parameters, as PyMC takes them.

    The kinds are PyMC's distributions of these names, each with its default transform (the
    compiled kernel knows the same ones): ``"normal"`` (mu, sigma), ``"halfnormal"``
    (sigma), ``"lognormal"`` (mu, sigma), ``"gamma"`` (alpha, beta) and ``"beta"`` (alpha,
    beta). The parameters enter PyMC as float64: PyTensor stores a Python float that float32
    holds exactly (1.5, 2.0) as a float32 constant, and its log then loses ~1e-8 per term.

    Attributes
    ----------
    kind : {"normal", "halfnormal", "lognormal", "gamma", "beta"}
        The distribution.
    params : tuple of float
        Its parameters, in PyMC's order.
    """

    kind: str
    params: tuple[float, ...]

    def __post_init__(self):
        if self.kind not in PRIOR_DISTRIBUTIONS:
            raise ValueError(
                f"Prior kind {self.kind!r} is not known; choose one of "
                f"{sorted(PRIOR_DISTRIBUTIONS)}."
            )

    def variable(self, name: str, dims):
        import pymc as pm

        params = [np.float64(p) for p in self.params]
        return getattr(pm, PRIOR_DISTRIBUTIONS[self.kind])(name, *params, dims=dims)


# ``Family.kernel``'s default: the family's own name (resolved when the record is made).
_OWN_NAME = "<the family's name>"


@dataclass(frozen=True)
class Family:
    """One family of components of :class:`~bayesmixture.Mixture`, as every layer reads it.

    Attributes
    ----------
    name : str
        What ``Mixture(family=...)`` and the command line's ``--model`` take.
    support : {"real", "positive", "unit interval (0, 1)", "count"}
        Where values must lie (checked before a fit).
    prior_specs : callable
        ``prior_specs(scale) -> {parameter: Prior}``, the parameters in order with their
        priors; ``scale`` holds the data's ``mean``, ``sd``, ``log_mean`` and ``log_sd``.
    dist : callable
        ``dist(**parameters)``: an unnamed PyMC distribution (``trials=`` too when
        ``trials``), the reference density.
    start : callable
        ``start(values) -> {parameter: value}``: a start from one component's values
        (``trials=`` too, the mean number, when ``trials``).
    log_density : callable
        ``log_density(y, **parameters)``: log p(y), scipy's in PyMC's parametrisation
        (``trials=`` too when ``trials``), broadcasting y against arrays of parameters.
        Relabelling, membership and scoring use it instead of compiling PyMC's graph (for
        the built-in families a test holds it equal to PyMC's).
    kernel : str or None, default the family's name
        The compiled kernel's family code with the same maths (the same parameters in the
        same order, e.g. ``"normal"`` for a normal family with other priors); ``None`` when
        the kernel has no code for it: its fits then sample on PyMC's graph, and
        ``sampler="compiled"`` says why.
    trials : bool, default False
        Its rows need a number of trials (``Mixture(trials=...)``), as ``"binomial"``.
    """

    name: str
    support: str
    prior_specs: Callable[[DataScale], dict[str, Prior]]  # parameter name -> prior, in order
    dist: Callable[..., object]  # parameters (and trials) -> unnamed PyMC distribution
    start: Callable[..., dict]  # values of one component (and trials) -> parameter values
    log_density: Callable[..., np.ndarray]  # y, parameters (and trials) -> scipy's log p(y)
    kernel: str | None = _OWN_NAME
    trials: bool = False

    def __post_init__(self):
        if self.kernel == _OWN_NAME:
            object.__setattr__(self, "kernel", self.name)

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


# scipy's log-density of each family in PyMC's parametrisation (scipy is imported on use).
def _normal_log_density(y, mu, sigma):
    from scipy import stats

    return stats.norm.logpdf(y, mu, sigma)


def _studentt_log_density(y, mu, sigma, nu):
    from scipy import stats

    return stats.t.logpdf(y, nu, mu, sigma)


def _lognormal_log_density(y, mu, sigma):
    from scipy import stats

    return stats.lognorm.logpdf(y, sigma, scale=np.exp(mu))


def _gamma_log_density(y, mean, shape):
    from scipy import stats

    return stats.gamma.logpdf(y, shape, scale=mean / shape)


def _exponential_log_density(y, mean):
    from scipy import stats

    return stats.expon.logpdf(y, scale=mean)


def _beta_log_density(y, mean, concentration):
    from scipy import stats

    return stats.beta.logpdf(y, mean * concentration, (1.0 - mean) * concentration)


def _poisson_log_density(y, mu):
    from scipy import stats

    return stats.poisson.logpmf(y, mu)


def negbinomial_logpmf(y, mu, alpha):
    """PyMC's NegativeBinomial(mu, alpha), its Poisson limit above the kernels' threshold."""
    from scipy import stats

    from bayesmixture._kernels.special import NEGBINOMIAL_POISSON_ALPHA

    with np.errstate(divide="ignore", invalid="ignore"):
        log_p = stats.nbinom.logpmf(y, alpha, alpha / (mu + alpha))
    return np.where(alpha > NEGBINOMIAL_POISSON_ALPHA, stats.poisson.logpmf(y, mu), log_p)


def _binomial_log_density(y, p, trials):
    from scipy import stats

    return stats.binom.logpmf(y, trials, p)


FAMILIES: dict[str, Family] = {
    "normal": Family(
        "normal", REAL, _normal_priors, _normal_dist, _normal_start, _normal_log_density
    ),
    "studentt": Family(
        "studentt",
        REAL,
        _studentt_priors,
        _studentt_dist,
        lambda y: {**_normal_start(y), "nu": 10.0},
        _studentt_log_density,
    ),
    "lognormal": Family(
        "lognormal",
        POSITIVE,
        _lognormal_priors,
        _lognormal_dist,
        _lognormal_start,
        _lognormal_log_density,
    ),
    "gamma": Family(
        "gamma", POSITIVE, _gamma_priors, _gamma_dist, _gamma_start, _gamma_log_density
    ),
    "exponential": Family(
        "exponential",
        POSITIVE,
        _exponential_priors,
        _exponential_dist,
        lambda y: {"mean": max(_moments(y)[0], 1e-6)},
        _exponential_log_density,
    ),
    "beta": Family("beta", UNIT, _beta_priors, _beta_dist, _beta_start, _beta_log_density),
    "poisson": Family(
        "poisson",
        COUNT,
        _count_rate_priors,
        _poisson_dist,
        lambda y: {"mu": max(_moments(y)[0], 0.1)},
        _poisson_log_density,
    ),
    "negbinomial": Family(
        "negbinomial",
        COUNT,
        _negbinomial_priors,
        _negbinomial_dist,
        _negbinomial_start,
        negbinomial_logpmf,
    ),
    "binomial": Family(
        "binomial",
        COUNT,
        _binomial_priors,
        _binomial_dist,
        lambda y, trials=1: {"p": min(max(_moments(y)[0] / max(trials, 1), 0.01), 0.99)},
        _binomial_log_density,
        trials=True,
    ),
}
SUPPORTS = (REAL, POSITIVE, UNIT, COUNT)


def register_family(family: Family) -> Family:
    """Add a component family of :class:`~bayesmixture.Mixture` (or replace one of the same
    name); every layer reads the table.

    Parameters
    ----------
    family : Family
        The record: support, priors, PyMC distribution, start, scipy's log-density, and the
        compiled kernel's family code it shares (``kernel=None`` when there is none: its
        fits sample on PyMC's graph).

    Returns
    -------
    Family
        ``family``, now in ``FAMILIES``.

    Raises
    ------
    TypeError
        If ``family`` is not a ``Family``.
    ValueError
        If its support is not one of the four kinds.

    Examples
    --------
    A normal family with wider priors, on the compiled path as ``"normal"`` is:

    >>> import dataclasses
    >>> from bayesmixture.estimators import FAMILIES, Prior, register_family
    >>> def wide(scale):
    ...     return {"mu": Prior("normal", (scale.mean, 10 * scale.sd)),
    ...             "sigma": Prior("halfnormal", (10 * scale.sd,))}
    >>> wide_normal = dataclasses.replace(FAMILIES["normal"], name="wide_normal",
    ...                                   prior_specs=wide)
    >>> register_family(wide_normal).kernel
    'normal'
    >>> del FAMILIES["wide_normal"]  # (this example leaves the table as it was)
    """
    if not isinstance(family, Family):
        raise TypeError(
            f"register_family takes a Family record, not {type(family).__name__}; build one "
            "with bayesmixture.estimators.Family(name, support, prior_specs, dist, start, "
            "log_density, kernel=..., trials=...)."
        )
    if family.support not in SUPPORTS:
        raise ValueError(
            f"family {family.name!r} has support={family.support!r}; choose one of {SUPPORTS}."
        )
    FAMILIES[family.name] = family
    return family
