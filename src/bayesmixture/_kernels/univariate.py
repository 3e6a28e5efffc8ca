"""Log-density and gradient of Mixture's model, in Numba, for every family, on one payload.

A pure function of (unconstrained parameters ``theta``, ``payload``): ``theta`` is PyMC's own
value vector of the model (``model.value_vars`` order, transforms and Jacobians included);
``payload`` is one float64 buffer laid out by ``UNIVARIATE`` (packed by
:mod:`bayesmixture.estimators._fast.univariate`):

- a header: sizes, the constant part of the log-density, ``n_dim`` and ``payload_size``;
- the weights' block (:mod:`bayesmixture._kernels.weights`: Dirichlet or stick-breaking);
- one row of ``COMPONENT_WIDTH`` per component: its family code, where its parameters sit in
  ``theta`` (start and stride) and each parameter's prior (kind and two constants);
- ``N_OBS_COLUMNS`` columns of the observations, each of length n_obs: y and its
  observation-only terms (log y, log(1 - y), log y!, the trials n and log binom(n, y));
- each row's known component (partly labelled rows; -1 when unlabelled), which it mixes
  over alone.

Families and priors are codes in the payload, so one compilation serves every family, every
mixture of families and every data set, and Numba caches it on disk.

Each component log-density is PyMC's own formula (normalising constants included); its
gradient is analytic in the constrained parameters, then goes through the transforms: the
mixture's gradient is sum_i r_ik d log p_k(y_i) / d param, with r_ik the responsibilities.
"""

from __future__ import annotations

import functools
import math

import numba
import numpy as np

from bayesmixture._kernels.callbacks import (
    compile_logp,
    expand_cfunc,
    finish,
    open_payload,
    source_stamp,
    wrong_length,
)
from bayesmixture._kernels.payload import CONSTANT, Layout, section
from bayesmixture._kernels.special import (
    HALF_LOG_2PI,
    NEGBINOMIAL_POISSON_ALPHA,
    digamma,
    log_sigmoid,
    logpow,
)
from bayesmixture._kernels.weights import (
    add_weights_grad,
    log_weights,
    n_params,
    n_rows,
    n_weights,
)

# Families (component table, column FAMILY).
NORMAL, STUDENTT, LOGNORMAL, GAMMA, EXPONENTIAL = 0, 1, 2, 3, 4
BETA, POISSON, NEGBINOMIAL, BINOMIAL = 5, 6, 7, 8
N_PARAMS = (2, 3, 2, 2, 1, 2, 1, 2, 1)  # constrained parameters of each family, by code
MAX_PARAMS = 3
# Prior kinds and their transforms: normal (none); halfnormal, lognormal, gamma (log);
# beta (log-odds).
PRIOR_NORMAL, PRIOR_HALFNORMAL, PRIOR_LOGNORMAL, PRIOR_GAMMA, PRIOR_BETA = 0, 1, 2, 3, 4
# Component table: family, first theta index, stride between its parameters, then
# (prior kind, a, b) per parameter.
FAMILY, START, STRIDE, PRIORS = 0, 1, 2, 3
COMPONENT_WIDTH = PRIORS + 3 * MAX_PARAMS
# Observation columns.
OBS_Y, OBS_LOG_Y, OBS_LOG1M_Y, OBS_LOG_FACTORIAL, OBS_TRIALS, OBS_LOG_BINOM = 0, 1, 2, 3, 4, 5
N_OBS_COLUMNS = 6
# Per-component terms that depend on the parameters only (computed once per call).
N_PRE = 6

UNIVARIATE = Layout(
    "univariate",
    header=("n_obs", "n_components"),
    sections=(
        ("weights", None),
        ("components", ("n_components", COMPONENT_WIDTH)),
        ("observations", (N_OBS_COLUMNS, "n_obs")),
        ("known", ("n_obs",)),  # each row's known component, -1 when unlabelled
    ),
)
SLOT, OFFSET = UNIVARIATE.slot, UNIVARIATE.offset

# The family functions are compiled once each (they are large, and called in one place);
# the kernel's body is inlined into its C callback, whose variant flag (stick-breaking
# weights or not) is then a constant of the compiled code.
_jit = numba.njit(nogil=True, error_model="numpy")
_inline = numba.njit(inline="always", error_model="numpy")


@_jit
def _prior(kind: int, a: float, b: float, u: float, out) -> float:
    """Prior of one parameter at its unconstrained value u, with the transform's Jacobian.

    The constant part (normalisers) is in the payload's CONSTANT. Writes the constrained
    value to out[0], d logprior / du to out[1] and d value / du to out[2].
    """
    if kind == PRIOR_NORMAL:  # Normal(a, b), no transform
        out[0], out[1], out[2] = u, -(u - a) / (b * b), 1.0
        return -0.5 * ((u - a) / b) ** 2
    if kind == PRIOR_BETA:  # Beta(a, b) on logit: a log x + b log(1 - x)
        x = 1.0 / (1.0 + math.exp(-u))
        out[0], out[1], out[2] = x, a * (1.0 - x) - b * x, x * (1.0 - x)
        return a * log_sigmoid(u) + b * log_sigmoid(-u)
    x = math.exp(u)
    out[0], out[2] = x, x
    if kind == PRIOR_HALFNORMAL:  # HalfNormal(a) on log x: -x^2 / (2 a^2) + u
        out[1] = 1.0 - (x / a) ** 2
        return -0.5 * (x / a) ** 2 + u
    if kind == PRIOR_LOGNORMAL:  # LogNormal(a, b) on log x: the Jacobian cancels -log x
        out[1] = -(u - a) / (b * b)
        return -0.5 * ((u - a) / b) ** 2
    # Gamma(a, b) on log x: (a - 1) u - b x + u
    out[1] = a - b * x
    return a * u - b * x


@_jit
def _precompute(family: int, x, pre) -> None:
    """Per-component terms of the log-density that depend on the parameters x only."""
    if family == NORMAL or family == LOGNORMAL:
        pre[0] = -math.log(x[1]) - HALF_LOG_2PI
        pre[1] = 1.0 / x[1]
    elif family == STUDENTT:
        sigma, nu = x[1], x[2]
        lam = sigma**-2.0
        pre[0] = (
            math.lgamma((nu + 1.0) / 2.0)
            + 0.5 * math.log(lam / (nu * math.pi))
            - math.lgamma(nu / 2.0)
        )
        pre[1] = 0.5 * (digamma((nu + 1.0) / 2.0) - digamma(nu / 2.0)) - 0.5 / nu
        pre[2] = lam / nu
    elif family == GAMMA:  # alpha = shape, beta = shape / mean
        mean, shape = x[0], x[1]
        rate = shape / mean
        pre[0] = -math.lgamma(shape) + shape * math.log(rate)
        pre[1] = rate
        pre[2] = -digamma(shape) + math.log(rate) + 1.0
    elif family == EXPONENTIAL:
        pre[0] = -math.log(x[0])
        pre[1] = 1.0 / x[0]
    elif family == BETA:  # alpha = mean * concentration, beta = (1 - mean) * concentration
        a = x[0] * x[1]
        b = (1.0 - x[0]) * x[1]
        psi_ab = digamma(a + b)
        pre[0] = -(math.lgamma(a) + math.lgamma(b) - math.lgamma(a + b))
        pre[1], pre[2] = a, b
        pre[3] = psi_ab - digamma(a)
        pre[4] = psi_ab - digamma(b)
    elif family == POISSON:
        pre[0] = math.log(x[0])
    elif family == NEGBINOMIAL:
        mu, alpha = x[0], x[1]
        total = mu + alpha
        pre[0] = -math.lgamma(alpha) + alpha * math.log(alpha / total)
        pre[1] = math.log(mu / total)
        pre[2] = digamma(alpha)
        pre[3] = math.log(alpha / total)
        pre[4] = total
        pre[5] = math.log(mu)
    else:  # BINOMIAL
        pre[0] = math.log(x[0])
        pre[1] = math.log1p(-x[0])


@_jit
def _column(obs, c: int, N: int):
    """Observation column c (see the OBS_ slots)."""
    return obs[c * N : (c + 1) * N]


@_jit
def _column_logp(family: int, obs, N: int, x, pre, out) -> None:
    """out[i] = log p(y_i | x) of one component for every row; -inf outside the support."""
    y = _column(obs, OBS_Y, N)
    ly = _column(obs, OBS_LOG_Y, N)
    log_fact = _column(obs, OBS_LOG_FACTORIAL, N)
    if family == NORMAL:
        for i in range(N):
            z = (y[i] - x[0]) * pre[1]
            out[i] = -0.5 * z * z + pre[0]
    elif family == LOGNORMAL:
        for i in range(N):
            z = (ly[i] - x[0]) * pre[1]
            out[i] = -0.5 * z * z + pre[0] - ly[i] if y[i] > 0.0 else -np.inf
    elif family == STUDENTT:
        half_nu1 = (x[2] + 1.0) / 2.0
        for i in range(N):
            e = y[i] - x[0]
            out[i] = pre[0] - half_nu1 * math.log1p(pre[2] * e * e)
    elif family == GAMMA:
        for i in range(N):
            lp = pre[0] - pre[1] * y[i] + logpow(ly[i], y[i], x[1] - 1.0)
            out[i] = lp if y[i] >= 0.0 else -np.inf
    elif family == EXPONENTIAL:
        for i in range(N):
            out[i] = pre[0] - y[i] * pre[1] if y[i] >= 0.0 else -np.inf
    elif family == BETA:  # PyMC drops the (a - 1) log y term at a = 1 (and likewise for b)
        l1y = _column(obs, OBS_LOG1M_Y, N)
        a1 = pre[1] - 1.0
        b1 = pre[2] - 1.0
        for i in range(N):
            lp = pre[0]
            if a1 != 0.0:
                lp += a1 * ly[i]
            if b1 != 0.0:
                lp += b1 * l1y[i]
            out[i] = lp if y[i] >= 0.0 and y[i] <= 1.0 else -np.inf
    elif family == POISSON:
        for i in range(N):
            out[i] = y[i] * pre[0] - log_fact[i] - x[0] if y[i] >= 0.0 else -np.inf
    elif family == NEGBINOMIAL:
        alpha = x[1]
        poisson_limit = alpha > NEGBINOMIAL_POISSON_ALPHA
        for i in range(N):
            if not y[i] >= 0.0:
                out[i] = -np.inf
            elif poisson_limit:
                out[i] = y[i] * pre[5] - log_fact[i] - x[0]
            else:
                out[i] = math.lgamma(y[i] + alpha) - log_fact[i] + pre[0] + y[i] * pre[1]
    else:  # BINOMIAL
        n = _column(obs, OBS_TRIALS, N)
        log_binom = _column(obs, OBS_LOG_BINOM, N)
        for i in range(N):
            lp = log_binom[i] + logpow(pre[0], x[0], y[i])
            lp += logpow(pre[1], 1.0 - x[0], n[i] - y[i])
            out[i] = lp if y[i] >= 0.0 and y[i] <= n[i] else -np.inf


@_jit
def _column_grad(family: int, obs, N: int, x, pre, resp, g) -> None:
    """g[j] = sum_i resp_i d log p(y_i | x) / d x_j (constrained x); rows with resp 0 skipped."""
    y = _column(obs, OBS_Y, N)
    ly = _column(obs, OBS_LOG_Y, N)
    g0 = g1 = g2 = 0.0
    if family == NORMAL or family == LOGNORMAL:
        v = y if family == NORMAL else ly
        for i in range(N):
            if resp[i] == 0.0:
                continue
            z = (v[i] - x[0]) * pre[1]
            g0 += resp[i] * z
            g1 += resp[i] * (z * z - 1.0)
        g0 *= pre[1]
        g1 *= pre[1]
    elif family == STUDENTT:
        mu, sigma, nu = x[0], x[1], x[2]
        for i in range(N):
            if resp[i] == 0.0:
                continue
            e = y[i] - mu
            q = pre[2] * e * e  # lam (y - mu)^2 / nu
            h = (nu + 1.0) / (1.0 + q)
            g0 += resp[i] * h * e
            g1 += resp[i] * (h * q - 1.0)
            g2 += resp[i] * (pre[1] - 0.5 * math.log1p(q) + 0.5 * h * q / nu)
        g0 *= pre[2]
        g1 /= sigma
    elif family == GAMMA:  # mean m, shape a: log p = a log(a / m) - a y / m + (a - 1) log y ...
        mean, shape = x[0], x[1]
        for i in range(N):
            if resp[i] == 0.0:
                continue
            g0 += resp[i] * (y[i] - mean)
            g1 += resp[i] * (pre[2] - y[i] / mean + ly[i])
        g0 *= shape / (mean * mean)
    elif family == EXPONENTIAL:
        for i in range(N):
            if resp[i] != 0.0:
                g0 += resp[i] * (y[i] * pre[1] - 1.0)
        g0 *= pre[1]
    elif family == BETA:  # through a = m c and b = (1 - m) c
        l1y = _column(obs, OBS_LOG1M_Y, N)
        for i in range(N):
            if resp[i] == 0.0:
                continue
            g_a = ly[i] + pre[3]
            g_b = l1y[i] + pre[4]
            g0 += resp[i] * (g_a - g_b)
            g1 += resp[i] * (x[0] * g_a + (1.0 - x[0]) * g_b)
        g0 *= x[1]
    elif family == POISSON:
        for i in range(N):
            if resp[i] != 0.0:
                g0 += resp[i] * (y[i] / x[0] - 1.0)
    elif family == NEGBINOMIAL:
        mu, alpha = x[0], x[1]
        poisson_limit = alpha > NEGBINOMIAL_POISSON_ALPHA
        for i in range(N):
            if resp[i] == 0.0:
                continue
            if poisson_limit:  # no dependence on alpha left
                g0 += resp[i] * (y[i] / mu - 1.0)
                continue
            g0 += resp[i] * (y[i] / mu - (y[i] + alpha) / pre[4])
            g1 += resp[i] * (digamma(y[i] + alpha) - pre[2] + pre[3] + (mu - y[i]) / pre[4])
    else:  # BINOMIAL
        n = _column(obs, OBS_TRIALS, N)
        for i in range(N):
            if resp[i] != 0.0:
                g0 += resp[i] * (y[i] / x[0] - (n[i] - y[i]) / (1.0 - x[0]))
    g[0], g[1], g[2] = g0, g1, g2


@_inline
def logp_and_grad(theta, payload, grad, stick_breaking):
    """Log-density of Mixture's model at ``theta``; writes its gradient to ``grad``."""
    N = int(payload[SLOT.n_obs])
    K = int(payload[SLOT.n_components])
    block = payload[int(payload[OFFSET.weights]) :]
    table = section(payload, OFFSET.components, K * COMPONENT_WIDTH)
    obs = section(payload, OFFSET.observations, N * N_OBS_COLUMNS)
    known = section(payload, OFFSET.known, N)  # each row's known component (-1: unlabelled)
    for q in range(grad.shape[0]):
        grad[q] = 0.0
    log_w = np.empty((n_rows(block), n_weights(block)))
    logp = payload[CONSTANT] + log_weights(theta, 0, block, log_w, stick_breaking)
    # priors: constrained values x, d x / d u, and the priors' own gradient
    family = np.empty(K, dtype=np.int64)
    index = np.zeros((K, MAX_PARAMS), dtype=np.int64)
    x = np.ones((K, MAX_PARAMS))
    dx = np.zeros((K, MAX_PARAMS))
    pre = np.zeros((K, N_PRE))
    logp += _component_priors(theta, table, grad, n_params(block), family, index, x, dx, pre)
    # component log-densities, one column per component, then responsibilities in place
    resp = np.empty((K, N))
    for k in range(K):
        _column_logp(family[k], obs, N, x[k], pre[k], resp[k])
    likelihood = _responsibilities(log_w[0], known, resp)
    if likelihood == -np.inf:  # a value outside every component's support
        return likelihood
    logp += likelihood
    # gradient: sum_i r_ik d log p_k(y_i), through the transforms; the weights' simplex
    g_x = np.empty(MAX_PARAMS)
    g_log_w = np.empty((1, K))
    for k in range(K):
        g_log_w[0, k] = resp[k].sum()
        _column_grad(family[k], obs, N, x[k], pre[k], resp[k], g_x)
        for j in range(N_PARAMS[family[k]]):
            grad[index[k, j]] += g_x[j] * dx[k, j]
    add_weights_grad(theta, 0, block, log_w, g_log_w, grad, stick_breaking)
    return logp


@_jit
def _component_priors(theta, table, grad, t0, family, index, x, dx, pre):
    """Each component's family, its parameters' theta indices, constrained values x and
    d x / d u; writes the priors' gradients; returns the priors' log-density."""
    step = np.empty(3)
    logp = 0.0
    for k in range(family.shape[0]):
        row = k * COMPONENT_WIDTH
        family[k] = int(table[row + FAMILY])
        for j in range(N_PARAMS[family[k]]):
            t = int(table[row + START]) + j * int(table[row + STRIDE])
            p = row + PRIORS + 3 * j
            index[k, j] = t
            logp += _prior(int(table[p]), table[p + 1], table[p + 2], theta[t], step)
            x[k, j], grad[t], dx[k, j] = step[0], step[1], step[2]
        _precompute(family[k], x[k], pre[k])
    return logp


@_jit
def _responsibilities(log_w, known, resp) -> float:
    """The mixture's log-likelihood from log p_k(y_i) in ``resp`` (K, N), which then holds
    the responsibilities; -inf when a value is outside every component's support."""
    K, N = resp.shape
    terms = np.empty(K)
    logp = 0.0
    for i in range(N):
        top = -np.inf
        label = int(known[i])
        for k in range(K):
            terms[k] = log_w[k] + resp[k, i] if label < 0 or label == k else -np.inf
            top = max(top, terms[k])
        if top == -np.inf:  # outside every component's support
            return -np.inf
        z = 0.0
        for k in range(K):
            terms[k] = math.exp(terms[k] - top)
            z += terms[k]
        logp += top + math.log(z)
        inv = 1.0 / z
        for k in range(K):
            resp[k, i] = terms[k] * inv
    return logp


def _make_callback(stick_breaking: bool, stamp: int):
    STICK_BREAKING, STAMP = stick_breaking, stamp

    def logp_callback(dim, x_, out_, logp_, payload_):  # pragma: no cover - runs inside nutpie
        payload = open_payload(payload_)
        if wrong_length(dim, payload, STAMP):
            return -1
        grad = numba.carray(out_, (dim,))
        value = logp_and_grad(numba.carray(x_, (dim,)), payload, grad, STICK_BREAKING)
        return finish(value, grad, logp_)

    return logp_callback


@functools.cache
def callbacks(stick_breaking: bool = False) -> tuple:
    """The C callbacks nutpie calls: (logp, expand), compiled on first use or loaded from
    Numba's disk cache (see ``compiling.py``)."""
    return compile_logp(_make_callback(bool(stick_breaking), source_stamp())), expand_cfunc()
