"""Mixture's compiled density: pack the payload, map values to and from theta.

``theta`` is PyMC's value vector of the estimator's model, in ``model.value_vars`` order:
the weights' block (``estimators._fast.weights``: ``weights_simplex__``, or
``concentration_log__`` and ``weights_simplex__`` for Dirichlet-process weights), then the
components' parameters with PyMC's default transforms (log
for positive parameters, log-odds for those in (0, 1)). A single family (``family="normal"``)
has one variable per parameter with dim ``component``, so theta holds the parameters block by
block; a list of families has variables ``c{k}_{parameter}``, component by component. The
priors are read from the same table that builds the PyMC model (``Family.prior_specs``), and
each component's kernel code from its family's record (``Family.kernel``: an alias of a
family, say a normal family with other priors, runs on the normal family's code).
The kernel in :mod:`bayesmixture._kernels.univariate` evaluates the model's log-density
(Jacobians included) there; a test holds it equal to PyMC's
``model.compile_logp()`` and ``compile_dlogp()`` to 1e-10. The payload's layout is the
kernel's ``UNIVARIATE`` record.
"""

from __future__ import annotations

import numpy as np
from scipy.special import expit, gammaln

from bayesmixture._kernels import univariate as kernel
from bayesmixture._kernels.compiling import KernelDensity
from bayesmixture.estimators import _families
from bayesmixture.estimators._families import FAMILIES, DataScale, Prior
from bayesmixture.estimators._fast.weights import WeightsBlock, gamma_rate

# The kernel's family codes, by the name a Family record gives as its ``kernel``: the code,
# the parameters its component table reads (in order) and scipy's log-density of the same
# maths, against which a record's own is checked before its fit takes the compiled path.
KERNEL_FAMILIES = {
    "normal": (kernel.NORMAL, ("mu", "sigma"), _families._normal_log_density),
    "studentt": (kernel.STUDENTT, ("mu", "sigma", "nu"), _families._studentt_log_density),
    "lognormal": (kernel.LOGNORMAL, ("mu", "sigma"), _families._lognormal_log_density),
    "gamma": (kernel.GAMMA, ("mean", "shape"), _families._gamma_log_density),
    "exponential": (kernel.EXPONENTIAL, ("mean",), _families._exponential_log_density),
    "beta": (kernel.BETA, ("mean", "concentration"), _families._beta_log_density),
    "poisson": (kernel.POISSON, ("mu",), _families._poisson_log_density),
    "negbinomial": (kernel.NEGBINOMIAL, ("mu", "alpha"), _families.negbinomial_logpmf),
    "binomial": (kernel.BINOMIAL, ("p",), _families._binomial_log_density),
}
FAMILY_CODES = {name: code for name, (code, _, _) in KERNEL_FAMILIES.items()}
# Rows of the data a record's log-density is compared on, with the kernel's.
N_PROBE_ROWS = 5
PRIOR_CODES = {
    "normal": kernel.PRIOR_NORMAL,
    "halfnormal": kernel.PRIOR_HALFNORMAL,
    "lognormal": kernel.PRIOR_LOGNORMAL,
    "gamma": kernel.PRIOR_GAMMA,
    "beta": kernel.PRIOR_BETA,
}
# PyMC's default transform of each prior kind: (forward, backward).
_TRANSFORMS = {
    "normal": (lambda x: x, lambda u: u),
    "halfnormal": (np.log, np.exp),
    "lognormal": (np.log, np.exp),
    "gamma": (np.log, np.exp),
    "beta": (lambda x: np.log(x / (1 - x)), expit),
}


def unsupported_reason(families: list[str], y: np.ndarray, trials=None) -> str | None:
    """Why the compiled density does not cover these families on values ``y`` (with
    ``trials``), or None when it does."""
    scale = DataScale.of(y)
    gaps = [
        _kernel_gap(FAMILIES.get(name), name, y, trials, scale) for name in dict.fromkeys(families)
    ]
    gaps = [gap for gap in gaps if gap is not None]
    if gaps:
        return "; ".join(gaps)
    kinds = {
        prior.kind for name in families for prior in FAMILIES[name].prior_specs(scale).values()
    }
    if kinds - set(PRIOR_CODES):
        return f"priors {sorted(kinds - set(PRIOR_CODES))}"
    return None


def _kernel_gap(family, name: str, y: np.ndarray, trials, scale: DataScale) -> str | None:
    """Why ``family``'s record cannot use its kernel code, or None when it can: it names
    one the kernel has, with the same parameters and (at the start from ``y``) the same
    log-density."""
    if family is None:
        return f"family {name!r} (not in FAMILIES)"
    if family.kernel is None:
        return f"family {name!r} (its record names no kernel code: kernel=None)"
    if family.kernel not in KERNEL_FAMILIES:
        return (
            f"family {name!r} (kernel={family.kernel!r} is not one of the kernel's family "
            f"codes {sorted(KERNEL_FAMILIES)})"
        )
    _, parameters, reference = KERNEL_FAMILIES[family.kernel]
    if tuple(family.prior_specs(scale)) != parameters:
        return (
            f"family {name!r} (parameters {list(family.prior_specs(scale))}; kernel code "
            f"{family.kernel!r} reads {list(parameters)})"
        )
    rows = slice(0, N_PROBE_ROWS)
    n = None if trials is None else np.broadcast_to(np.asarray(trials), np.shape(y))[rows]
    start_args = {"trials": float(np.mean(trials))} if family.trials else {}
    values = family.start(np.asarray(y, dtype=float), **start_args)
    row_args = {"trials": n} if family.trials else {}
    with np.errstate(divide="ignore", invalid="ignore"):
        ours = family.log_density(y[rows], **values, **row_args)
        theirs = reference(y[rows], **values, **row_args)
    if not np.allclose(ours, theirs, rtol=1e-8, atol=0.0, equal_nan=True):
        return (
            f"family {name!r} (its log_density differs from kernel code {family.kernel!r}'s; "
            "a family with other maths takes kernel=None)"
        )
    return None


def _prior_constant(prior: Prior) -> float:
    """The part of a prior's log-density (with its transform's Jacobian) not in the kernel."""
    p = [float(v) for v in prior.params]
    if prior.kind == "normal":
        return -np.log(np.sqrt(2.0 * np.pi)) - np.log(p[1])
    if prior.kind == "halfnormal":
        return np.log(np.sqrt(2.0 / np.pi)) - np.log(p[0])
    if prior.kind == "lognormal":
        return -0.5 * np.log(2.0 * np.pi) - np.log(p[1])
    if prior.kind == "gamma":  # PyMC stores scale = 1 / beta and takes its reciprocal back
        return -gammaln(p[0]) + p[0] * np.log(gamma_rate(p[1]))
    return -(gammaln(p[0]) + gammaln(p[1]) - gammaln(p[0] + p[1]))  # beta


def _observation_table(y: np.ndarray, trials) -> np.ndarray:
    """(N_OBS_COLUMNS, n_obs): y and its observation-only terms; NaN/-inf outside a support."""
    n = np.broadcast_to(np.asarray(1 if trials is None else trials, dtype=float), y.shape)
    table = np.zeros((kernel.N_OBS_COLUMNS, len(y)))
    with np.errstate(divide="ignore", invalid="ignore"):
        table[kernel.OBS_Y] = y
        table[kernel.OBS_LOG_Y] = np.log(y)
        table[kernel.OBS_LOG1M_Y] = np.log1p(-y)
        table[kernel.OBS_LOG_FACTORIAL] = gammaln(y + 1)
        table[kernel.OBS_TRIALS] = n
        table[kernel.OBS_LOG_BINOM] = gammaln(n + 1) - gammaln(y + 1) - gammaln(n - y + 1)
    return table


class UnivariateDensity(KernelDensity):
    """Everything the sampler needs for one fit of Mixture: payload, sizes and the value maps.

    Parameters
    ----------
    estimator : Mixture
        Its families (one, or one per component) and whether they are homogeneous.
    fit : MixtureFitState
        The validated training data (``fit.trials`` for binomial components,
        ``fit.row_labels`` for partly labelled values).
    """

    kernel = "univariate"

    def __init__(self, estimator, fit):
        # what the fit learned from its data, read once
        trials = fit.trials
        row_labels = None if fit.row_labels is None else np.asarray(fit.row_labels, float)

        y = np.asarray(fit.value, dtype=float)
        K = int(estimator.n_components)
        self.n_obs, self.n_components = len(y), K
        self.families = list(estimator._families)
        self.homogeneous = bool(estimator._homogeneous)
        self.weights = WeightsBlock(estimator.weights_prior, K)
        scale = DataScale.of(y)
        self.priors = [FAMILIES[name].prior_specs(scale) for name in self.families]
        self.params = list(self._layout())
        self.n_dim = self.weights.n_params + len(self.params)
        table, prior_constant = self._component_table()
        header = {
            "n_obs": self.n_obs,
            "n_components": K,
            "n_dim": self.n_dim,
            "constant": self.weights.constant + prior_constant,
        }
        sections = {
            "weights": self.weights.section,
            "components": table,
            "observations": _observation_table(y, trials),
            "known": np.full(len(y), -1.0) if row_labels is None else row_labels,
        }
        self.variant = (self.weights.stick_breaking,)
        self.payload = kernel.UNIVARIATE.pack(header, sections)

    def _layout(self):
        """(component, position in it, variable name, prior, theta index), in theta order."""
        K, start = self.n_components, self.weights.n_params
        if self.homogeneous:  # one variable per parameter, dim "component"
            for j, (name, prior) in enumerate(self.priors[0].items()):
                for k in range(K):
                    yield k, j, name, prior, start + j * K + k
            return
        t = start
        for k, priors in enumerate(self.priors):  # variables c{k}_{parameter}
            for j, (name, prior) in enumerate(priors.items()):
                yield k, j, f"c{k}_{name}", prior, t
                t += 1

    def _component_table(self) -> tuple[np.ndarray, float]:
        """The kernel's component table, and the constant terms of the priors' log-densities."""
        table = np.zeros((self.n_components, kernel.COMPONENT_WIDTH))
        table[:, kernel.FAMILY] = [FAMILY_CODES[FAMILIES[name].kernel] for name in self.families]
        table[:, kernel.STRIDE] = self.n_components if self.homogeneous else 1
        constant = 0.0
        for k, j, _, prior, t in self.params:
            if j == 0:
                table[k, kernel.START] = t
            a, b = (*prior.params, 0.0)[:2]  # HalfNormal has one parameter
            if prior.kind == "gamma":
                b = gamma_rate(b)
            column = kernel.PRIORS + 3 * j
            table[k, column : column + 3] = PRIOR_CODES[prior.kind], a, b
            constant += _prior_constant(prior)
        return table, constant

    # ------------------------------------------------------------------ value maps

    def _variables(self) -> dict[str, tuple[str, list[int]]]:
        """Variable name -> (prior kind, theta indices), in theta order."""
        out: dict[str, tuple[str, list[int]]] = {}
        for _, _, name, prior, t in self.params:
            out.setdefault(name, (prior.kind, []))[1].append(t)
        return out

    def to_theta(self, values: dict) -> np.ndarray:
        """Constrained values by variable name (as the estimator's starts) -> theta."""
        theta = np.empty(self.n_dim)
        theta[: self.weights.n_params] = self.weights.to_theta(values)
        for name, (kind, index) in self._variables().items():
            forward = _TRANSFORMS[kind][0]
            theta[index] = forward(np.asarray(values[name], dtype=float)).ravel()
        return theta

    def from_theta(self, theta: np.ndarray) -> dict[str, np.ndarray]:
        """theta of shape (..., n_dim) -> the model's free variables in constrained space."""
        theta = np.asarray(theta, dtype=float)
        out = self.weights.from_theta(theta[..., : self.weights.n_params])
        for name, (kind, index) in self._variables().items():
            values = _TRANSFORMS[kind][1](theta[..., index])
            out[name] = values if self.homogeneous else values[..., 0]
        return out


def _row_labels(fit, n_rows: int) -> np.ndarray:
    """Each row's class code as the kernel reads it (-1: unlabelled)."""
    labels = fit.row_labels if fit.row_labels is not None else np.full(n_rows, -1)
    return np.asarray(labels, dtype=float)


def fused_totals(families: list[str], parameters: list[list[str]], trials):
    """The fused membership pass of a Mixture's scorer (``evaluation.summarise`` calls it for
    large inputs), or None when the kernel lacks a family.

    ``families`` and ``parameters`` as :class:`UnivariateEvaluator` holds them (each
    component's posterior variables, in its family's order, which is the kernel's), and the
    training rows' ``trials``. The returned ``totals(draws, value, *, density=True)`` gives
    ``sum_s r_sik``, ``sum_s r_sik^2`` (n_rows, K) and ``log sum_s p(y_i | theta_s)``
    (n_rows,) in one pass over rows and draws (``_kernels.scoring.univariate_totals``, the
    log-densities of the univariate kernel, held equal to PyMC's), blocks of rows on threads.
    """
    if any(name not in FAMILY_CODES for name in families):
        return None
    codes = np.array([FAMILY_CODES[name] for name in families], dtype=np.int64)

    def totals(draws, value, *, density: bool = True):
        from bayesmixture._kernels.scoring import over_row_blocks, univariate_totals

        y = np.asarray(value, dtype=float)
        n_obs, K = len(y), len(codes)
        if np.ndim(trials) and np.shape(trials) != (n_obs,):  # as the scorer's _row_data
            raise ValueError(f"trials has shape {np.shape(trials)}; expected ({n_obs},).")
        obs = np.ascontiguousarray(_observation_table(y, trials).ravel())
        with np.errstate(divide="ignore"):  # a weight of 0 (underflow): log 0 = -inf
            log_w = np.ascontiguousarray(np.log(np.asarray(draws["weights"], dtype=float)))
        x = np.ones((len(log_w), K, kernel.MAX_PARAMS))
        for k, names in enumerate(parameters):
            for j, name in enumerate(names):
                values = np.asarray(draws[name], dtype=float)
                x[:, k, j] = values[:, k] if values.ndim == 2 else values
        total, total_sq = np.zeros((n_obs, K)), np.zeros((n_obs, K))
        log_density = np.empty(n_obs)

        def run(start: int, stop: int) -> None:
            rows = slice(start, stop)
            univariate_totals(
                obs,
                n_obs,
                start,
                stop,
                codes,
                x,
                log_w,
                total[rows],
                total_sq[rows],
                log_density[rows],
                density,
            )

        over_row_blocks(n_obs, run)
        return total, total_sq, log_density

    return totals
