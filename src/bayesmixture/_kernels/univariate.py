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
Rows are taken ``ROW_BLOCK`` at a time: each component's log-densities, the softmax over
components and each component's gradient sums are one loop over the block's rows each, which
the vectoriser takes where a family's formula has no call (exp, log and log1p from
:mod:`bayesmixture._kernels.fastmath`; lgamma and digamma stay calls).
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
from bayesmixture._kernels.fastmath import exp as fast_exp
from bayesmixture._kernels.fastmath import log as fast_log
from bayesmixture._kernels.fastmath import log1p as fast_log1p
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
# Rows taken together: their log-densities, responsibilities and gradient sums stay in the
# first-level cache, and each pass over them is one loop the vectoriser takes.
ROW_BLOCK = 512

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
# weights or not) is then a constant of the compiled code. The passes over a block of rows
# may reassociate their sums (``_rows``), so that the vectoriser takes them: that changes
# only the order in which a block's terms are added.
_jit = numba.njit(nogil=True, error_model="numpy")
_rows = numba.njit(nogil=True, error_model="numpy", fastmath={"nsz", "arcp", "contract", "reassoc"})
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


@_rows
def _column(obs, c: int, N: int, start: int, n: int):
    """Rows start .. start + n of observation column c (see the OBS_ slots)."""
    return obs[c * N + start : c * N + start + n]


@_rows
def _column_logp(family: int, obs, N: int, start: int, n: int, x, pre, out) -> None:
    """out[i] = log p(y_i | x) of one component for the n rows from ``start``; -inf outside
    the support. (Parameters are read into locals first: the loops then read only the rows,
    and the vectoriser takes them.)"""
    y = _column(obs, OBS_Y, N, start, n)
    ly = _column(obs, OBS_LOG_Y, N, start, n)
    log_fact = _column(obs, OBS_LOG_FACTORIAL, N, start, n)
    x0, x1, x2 = x[0], x[1], x[2]
    c0, c1, c2, c5 = pre[0], pre[1], pre[2], pre[5]
    if family == NORMAL:
        for i in range(n):
            z = (y[i] - x0) * c1
            out[i] = -0.5 * z * z + c0
    elif family == LOGNORMAL:
        for i in range(n):
            z = (ly[i] - x0) * c1
            out[i] = -0.5 * z * z + c0 - ly[i] if y[i] > 0.0 else -np.inf
    elif family == STUDENTT:
        half_nu1 = (x2 + 1.0) / 2.0
        for i in range(n):
            e = y[i] - x0
            out[i] = c0 - half_nu1 * fast_log1p(c2 * e * e)
    elif family == GAMMA:
        for i in range(n):
            lp = c0 - c1 * y[i] + logpow(ly[i], y[i], x1 - 1.0)
            out[i] = lp if y[i] >= 0.0 else -np.inf
    elif family == EXPONENTIAL:
        for i in range(n):
            out[i] = c0 - y[i] * c1 if y[i] >= 0.0 else -np.inf
    elif family == BETA:  # PyMC drops the (a - 1) log y term at a = 1 (and likewise for b)
        l1y = _column(obs, OBS_LOG1M_Y, N, start, n)
        a1 = c1 - 1.0
        b1 = c2 - 1.0
        for i in range(n):
            lp = c0
            if a1 != 0.0:
                lp += a1 * ly[i]
            if b1 != 0.0:
                lp += b1 * l1y[i]
            out[i] = lp if y[i] >= 0.0 and y[i] <= 1.0 else -np.inf
    elif family == POISSON:
        for i in range(n):
            out[i] = y[i] * c0 - log_fact[i] - x0 if y[i] >= 0.0 else -np.inf
    elif family == NEGBINOMIAL:
        poisson_limit = x1 > NEGBINOMIAL_POISSON_ALPHA
        for i in range(n):
            if not y[i] >= 0.0:
                out[i] = -np.inf
            elif poisson_limit:
                out[i] = y[i] * c5 - log_fact[i] - x0
            else:
                out[i] = math.lgamma(y[i] + x1) - log_fact[i] + c0 + y[i] * c1
    else:  # BINOMIAL
        trials = _column(obs, OBS_TRIALS, N, start, n)
        log_binom = _column(obs, OBS_LOG_BINOM, N, start, n)
        for i in range(n):
            lp = log_binom[i] + logpow(c0, x0, y[i])
            lp += logpow(c1, 1.0 - x0, trials[i] - y[i])
            out[i] = lp if y[i] >= 0.0 and y[i] <= trials[i] else -np.inf


@_rows
def _column_grad(family: int, obs, N: int, start: int, n: int, x, pre, resp, g) -> None:
    """g[j] += sum_i resp_i d log p(y_i | x) / d x_j (constrained x) over the n rows from
    ``start``; a row with resp 0 adds nothing (its terms may be undefined there)."""
    y = _column(obs, OBS_Y, N, start, n)
    ly = _column(obs, OBS_LOG_Y, N, start, n)
    x0, x1, x2 = x[0], x[1], x[2]
    c1, c2, c3, c4 = pre[1], pre[2], pre[3], pre[4]
    g0 = g1 = g2 = 0.0
    if family == NORMAL:
        g0, g1 = _location_scale_grad(y, n, x0, c1, resp)
    elif family == LOGNORMAL:
        g0, g1 = _location_scale_grad(ly, n, x0, c1, resp)
    elif family == STUDENTT:  # mu, sigma, nu
        for i in range(n):
            e = y[i] - x0
            q = c2 * e * e  # lam (y - mu)^2 / nu
            h = (x2 + 1.0) / (1.0 + q)
            r = resp[i]
            g0 += r * h * e if r != 0.0 else 0.0
            g1 += r * (h * q - 1.0) if r != 0.0 else 0.0
            g2 += r * (c1 - 0.5 * fast_log1p(q) + 0.5 * h * q / x2) if r != 0.0 else 0.0
        g0 *= c2
        g1 /= x1
    elif family == GAMMA:  # mean m, shape a: log p = a log(a / m) - a y / m + (a - 1) log y ...
        for i in range(n):
            if resp[i] == 0.0:
                continue
            g0 += resp[i] * (y[i] - x0)
            g1 += resp[i] * (c2 - y[i] / x0 + ly[i])
        g0 *= x1 / (x0 * x0)
    elif family == EXPONENTIAL:
        for i in range(n):
            if resp[i] != 0.0:
                g0 += resp[i] * (y[i] * c1 - 1.0)
        g0 *= c1
    elif family == BETA:  # through a = m c and b = (1 - m) c
        l1y = _column(obs, OBS_LOG1M_Y, N, start, n)
        for i in range(n):
            if resp[i] == 0.0:
                continue
            g_a = ly[i] + c3
            g_b = l1y[i] + c4
            g0 += resp[i] * (g_a - g_b)
            g1 += resp[i] * (x0 * g_a + (1.0 - x0) * g_b)
        g0 *= x1
    elif family == POISSON:
        for i in range(n):
            if resp[i] != 0.0:
                g0 += resp[i] * (y[i] / x0 - 1.0)
    elif family == NEGBINOMIAL:  # mu, alpha
        poisson_limit = x1 > NEGBINOMIAL_POISSON_ALPHA
        for i in range(n):
            if resp[i] == 0.0:
                continue
            if poisson_limit:  # no dependence on alpha left
                g0 += resp[i] * (y[i] / x0 - 1.0)
                continue
            g0 += resp[i] * (y[i] / x0 - (y[i] + x1) / c4)
            g1 += resp[i] * (digamma(y[i] + x1) - c2 + c3 + (x0 - y[i]) / c4)
    else:  # BINOMIAL
        trials = _column(obs, OBS_TRIALS, N, start, n)
        for i in range(n):
            if resp[i] != 0.0:
                g0 += resp[i] * (y[i] / x0 - (trials[i] - y[i]) / (1.0 - x0))
    g[0] += g0
    g[1] += g1
    g[2] += g2


@_rows
def _location_scale_grad(v, n, mu, inv_sigma, resp):
    """(sum_i r_i z_i, sum_i r_i (z_i^2 - 1)) / sigma with z = (v - mu) / sigma: the normal
    log-density's gradient in (mu, sigma) (of log y for the lognormal)."""
    g0 = g1 = 0.0
    for i in range(n):
        z = (v[i] - mu) * inv_sigma
        r = resp[i]
        g0 += r * z if r != 0.0 else 0.0
        g1 += r * (z * z - 1.0) if r != 0.0 else 0.0
    return g0 * inv_sigma, g1 * inv_sigma


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
    # the rows, block by block: the mixture's log-likelihood, and per component the sums
    # g_x[k, j] = sum_i r_ik d log p_k(y_i) / d x_kj and g_log_w[0, k] = sum_i r_ik
    g_x = np.zeros((K, MAX_PARAMS))
    g_log_w = np.zeros((1, K))
    likelihood = _row_blocks(obs, known, N, family, x, pre, log_w[0], g_x, g_log_w[0])
    if likelihood == -np.inf:  # a value outside every component's support
        return likelihood
    logp += likelihood
    # gradient: through the transforms; the weights' simplex
    for k in range(K):
        for j in range(N_PARAMS[family[k]]):
            grad[index[k, j]] += g_x[k, j] * dx[k, j]
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


@_rows
def _row_blocks(obs, known, N, family, x, pre, log_w, g_x, resp_sums) -> float:
    """The mixture's log-likelihood over all rows, ``ROW_BLOCK`` rows at a time; adds each
    component's gradient sums to g_x and its responsibilities' sum to resp_sums. -inf (and
    nothing added) when a value is outside every component's support."""
    K = family.shape[0]
    resp = np.empty((K, ROW_BLOCK))
    top = np.empty(ROW_BLOCK)
    z = np.empty(ROW_BLOCK)
    logp = 0.0
    for start in range(0, N, ROW_BLOCK):
        n = min(ROW_BLOCK, N - start)
        for k in range(K):
            _column_logp(family[k], obs, N, start, n, x[k], pre[k], resp[k])
        block_logp = _responsibilities(log_w, known[start : start + n], resp, n, top, z)
        if block_logp == -np.inf:
            return block_logp
        logp += block_logp
        for k in range(K):
            _column_grad(family[k], obs, N, start, n, x[k], pre[k], resp[k], g_x[k])
            row = resp[k]
            total = 0.0
            for i in range(n):
                total += row[i]
            resp_sums[k] += total
    return logp


@_rows
def _responsibilities(log_w, known, resp, n, top, z) -> float:
    """The mixture's log-likelihood of n rows from log p_k(y_i) in ``resp[:, :n]`` (K, n),
    which then holds the responsibilities; -inf when a value is outside every component's
    support. Each pass is one loop over the rows (``top`` and ``z``: scratch of n values)."""
    K = resp.shape[0]
    for i in range(n):
        top[i] = -np.inf
    for k in range(K):
        lw = log_w[k]
        row = resp[k]
        for i in range(n):  # a labelled row mixes over its own component only
            label = known[i]
            term = lw + row[i] if label < 0.0 or label == k else -np.inf
            row[i] = term
            top[i] = max(top[i], term)
    outside = 0
    for i in range(n):
        outside += top[i] == -np.inf
    if outside:
        return -np.inf
    for i in range(n):
        z[i] = 0.0
    for k in range(K):
        row = resp[k]
        for i in range(n):
            share = fast_exp(row[i] - top[i])
            row[i] = share
            z[i] += share
    logp = 0.0
    for i in range(n):
        logp += top[i] + fast_log(z[i])
        z[i] = 1.0 / z[i]
    for k in range(K):
        row = resp[k]
        for i in range(n):
            row[i] *= z[i]
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

    # one name per variant: Numba names compiled code qualname$n with n counted per process,
    # and variants compiled in different processes are loaded into one (see weights.py)
    logp_callback.__qualname__ += f"_{int(STICK_BREAKING)}"
    return logp_callback


@functools.cache
def callbacks(stick_breaking: bool = False) -> tuple:
    """The C callbacks nutpie calls: (logp, expand), compiled on first use or loaded from
    Numba's disk cache (see ``compiling.py``)."""
    return compile_logp(_make_callback(bool(stick_breaking), source_stamp())), expand_cfunc()
