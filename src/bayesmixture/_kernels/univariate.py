"""Log-density and gradient of Mixture's model, in Numba, for every family, on one payload.

A pure function of (unconstrained parameters ``theta``, ``payload``): ``theta`` is PyMC's own
value vector of the model (``model.value_vars`` order, transforms and Jacobians included);
``payload`` is one float64 buffer (see :mod:`bayesmixture.estimators._fast.univariate`, which
packs it) holding

- a header: sizes, the constant part of the log-density, ``N_DIM`` and ``PAYLOAD_SIZE``;
- the Dirichlet concentration (K);
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

from bayesmixture._kernels.callbacks import LOGP_SIGNATURE, expand_cfunc

# Payload header slots (N_DIM and PAYLOAD_SIZE are read by the C callbacks).
N_OBS, N_COMPONENTS, CONSTANT, N_DIM, PAYLOAD_SIZE = 0, 1, 2, 3, 4
HEADER = 8
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
HALF_LOG_2PI = 0.5 * math.log(2.0 * math.pi)
# Above this dispersion PyMC's NegativeBinomial is its Poisson limit.
NEGBINOMIAL_POISSON_ALPHA = 1e10
# digamma: shift the argument above 10, then psi(x) ~ log x - 1 / (2x) - sum_n c_n / x^(2n)
# with c_n = B_2n / (2n), n = 1..7 (the next term is below 1e-16 there).
_DIGAMMA_SHIFT = 10.0
_DIGAMMA_SERIES = (1 / 12, -1 / 120, 1 / 252, -1 / 240, 1 / 132, -691 / 32760, 1 / 12)

_jit = numba.njit(cache=True, nogil=True, error_model="numpy")


@_jit
def digamma(x: float) -> float:
    """psi(x) for x > 0: recurrence psi(x) = psi(x + 1) - 1/x, then the asymptotic series."""
    if not x > 0.0:
        return np.nan
    result = 0.0
    while x < _DIGAMMA_SHIFT:
        result -= 1.0 / x
        x += 1.0
    inv2 = 1.0 / (x * x)
    series = 0.0
    for n in range(len(_DIGAMMA_SERIES) - 1, -1, -1):  # Horner's rule in 1 / x^2
        series = series * inv2 + _DIGAMMA_SERIES[n]
    series *= inv2
    return result + math.log(x) - 0.5 / x - series


@_jit
def _log_sigmoid(u: float) -> float:
    """log(1 / (1 + exp(-u))), without overflow."""
    return -math.log1p(math.exp(-u)) if u > -30.0 else u - math.log1p(math.exp(u))


@_jit
def _logpow(log_x: float, x: float, m: float) -> float:
    """PyMC's logpow, log(x^m) = m log x, with log(0^0) = 0 and log(0^m) = -inf."""
    if x == 0.0:
        return 0.0 if m == 0.0 else -np.inf
    return m * log_x


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
        return a * _log_sigmoid(u) + b * _log_sigmoid(-u)
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
            lp = pre[0] - pre[1] * y[i] + _logpow(ly[i], y[i], x[1] - 1.0)
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
            lp = log_binom[i] + _logpow(pre[0], x[0], y[i])
            lp += _logpow(pre[1], 1.0 - x[0], n[i] - y[i])
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


@_jit
def _log_weights(theta, K: int, alpha, log_w) -> float:
    """Simplex-transformed Dirichlet weights: log w, and the prior with its Jacobian.

    w = softmax([y, -sum(y)]); Dirichlet(alpha) plus the transform's log-Jacobian is
    sum_k alpha_k log w_k + const (the constant is in the payload).
    """
    total = 0.0
    for k in range(K - 1):
        total += theta[k]
    top = -total
    for k in range(K - 1):
        top = max(top, theta[k])
    z = math.exp(-total - top)
    for k in range(K - 1):
        z += math.exp(theta[k] - top)
    lz = top + math.log(z)
    logp = 0.0
    for k in range(K):
        log_w[k] = (theta[k] if k < K - 1 else -total) - lz
        logp += alpha[k] * log_w[k]
    return logp


@_jit
def _weights_grad(K: int, alpha, log_w, g_log_w, grad) -> None:
    """Chain rule from d/d log w (likelihood part in ``g_log_w``) to the simplex values."""
    total = 0.0
    for k in range(K):
        total += g_log_w[k] + alpha[k]
    # d logp / d a_j = g_j - w_j sum_k g_k, with a = [y, -sum y]
    last = g_log_w[K - 1] + alpha[K - 1] - math.exp(log_w[K - 1]) * total
    for k in range(K - 1):
        grad[k] = g_log_w[k] + alpha[k] - math.exp(log_w[k]) * total - last


@_jit
def logp_and_grad(theta, payload, grad):
    """Log-density of Mixture's model at ``theta``; writes its gradient to ``grad``."""
    N = int(payload[N_OBS])
    K = int(payload[N_COMPONENTS])
    off = HEADER
    alpha = payload[off : off + K]
    off += K
    table = payload[off : off + K * COMPONENT_WIDTH]
    off += K * COMPONENT_WIDTH
    obs = payload[off : off + N * N_OBS_COLUMNS]
    off += N * N_OBS_COLUMNS
    known = payload[off : off + N]  # each row's known component (-1: unlabelled)
    for q in range(grad.shape[0]):
        grad[q] = 0.0
    logp = payload[CONSTANT]

    log_w = np.empty(K)
    logp += _log_weights(theta, K, alpha, log_w)
    # priors: constrained values x, d x / d u, and the priors' own gradient
    family = np.empty(K, dtype=np.int64)
    index = np.zeros((K, MAX_PARAMS), dtype=np.int64)
    x = np.ones((K, MAX_PARAMS))
    dx = np.zeros((K, MAX_PARAMS))
    pre = np.zeros((K, N_PRE))
    step = np.empty(3)
    for k in range(K):
        row = k * COMPONENT_WIDTH
        family[k] = int(table[row + FAMILY])
        for j in range(N_PARAMS[family[k]]):
            t = int(table[row + START]) + j * int(table[row + STRIDE])
            p = row + PRIORS + 3 * j
            index[k, j] = t
            logp += _prior(int(table[p]), table[p + 1], table[p + 2], theta[t], step)
            x[k, j], grad[t], dx[k, j] = step[0], step[1], step[2]
        _precompute(family[k], x[k], pre[k])

    # component log-densities, one column per component, then responsibilities in place
    resp = np.empty((K, N))
    for k in range(K):
        _column_logp(family[k], obs, N, x[k], pre[k], resp[k])
    terms = np.empty(K)
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

    # gradient: sum_i r_ik d log p_k(y_i), through the transforms; the weights' simplex
    g_x = np.empty(MAX_PARAMS)
    g_log_w = np.empty(K)
    for k in range(K):
        g_log_w[k] = resp[k].sum()
        _column_grad(family[k], obs, N, x[k], pre[k], resp[k], g_x)
        for j in range(N_PARAMS[family[k]]):
            grad[index[k, j]] += g_x[j] * dx[k, j]
    _weights_grad(K, alpha, log_w, g_log_w, grad)
    return logp


def _logp_callback(dim, x_, out_, logp_, payload_):  # pragma: no cover - runs inside nutpie
    """nutpie's C interface: 0 on success, 3/4 for a non-finite gradient/log-density."""
    header = numba.carray(payload_, (HEADER,), dtype=np.float64)
    if dim != int(header[N_DIM]):
        return -1
    payload = numba.carray(payload_, (int(header[PAYLOAD_SIZE]),), dtype=np.float64)
    x = numba.carray(x_, (dim,))
    out = numba.carray(out_, (dim,))
    value = logp_and_grad(x, payload, out)
    logp_[0] = value
    if not np.isfinite(value):
        return 4
    for q in range(dim):
        if not np.isfinite(out[q]):
            return 3
    return 0


@functools.cache
def callbacks() -> tuple:
    """The C callbacks nutpie calls: (logp, expand), compiled on first use or loaded from
    Numba's disk cache (see ``_compile.py``)."""
    return numba.cfunc(LOGP_SIGNATURE, cache=True)(_logp_callback), expand_cfunc()
