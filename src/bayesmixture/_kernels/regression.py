"""Log-density and gradient of MixtureRegression's model, in Numba, on one flat payload.

A pure function of (unconstrained parameters ``theta``, ``payload``): ``theta`` is PyMC's own
value vector of the model (``model.value_vars`` order, transforms and Jacobians included);
``payload`` is one float64 buffer (see :mod:`bayesmixture.estimators._fast.regression`, which
packs it) holding

- a header: sizes, the model's options as codes, the prior scales, the constant part of the
  log-density, ``N_DIM`` and ``PAYLOAD_SIZE``;
- the Dirichlet concentration (K);
- the response y (N);
- the design: one (N, P) table, or one per component (K, N, P), row-major;
- the gate inputs (N, G), row-major (G = 0 with constant weights).

theta holds, in this order: the weights (``weights_simplex__``, K - 1 values, or
``gate_coefficients`` of shape (G + 1, K)), ``beta`` (P, or (K, P)), ``alpha`` (K, with an
intercept) and ``sigma_log__`` (K, 1 or none for a known noise sd).

With m_ik = x_ik . beta_k + alpha_k, z_ik = (y_i - m_ik) / sigma_k and r_ik the
responsibilities, the mixture's gradient is

    d/d m_ik = r_ik z_ik / sigma_k,   d/d log sigma_k = sum_i r_ik (z_ik^2 - 1),
    d/d logit_ik = r_ik - w_ik  (gated weights),   d/d log w_k = sum_i r_ik  (constant weights),

then the chain rule to beta, alpha, the gate coefficients and the simplex values.
One pass over the rows, no allocation per row.
"""

from __future__ import annotations

import functools
import math

import numba
import numpy as np

from bayesmixture._kernels.callbacks import LOGP_SIGNATURE, expand_cfunc

# Payload header slots (N_DIM and PAYLOAD_SIZE are read by the C callbacks).
N_OBS, N_COMPONENTS, N_COEF, N_GATE, PER_COMPONENT_DESIGN, SHARED_COEF = 0, 1, 2, 3, 4, 5
INTERCEPT, NOISE, FIXED_SIGMA, COEF_PRIOR_SD, NOISE_PRIOR_SD, GATE_PRIOR_SD = 6, 7, 8, 9, 10, 11
CONSTANT, N_DIM, PAYLOAD_SIZE = 12, 13, 14
HEADER = 16
# Noise codes: one sd per component, one shared sd, a known sd (FIXED_SIGMA, model units).
NOISE_COMPONENT, NOISE_SHARED, NOISE_FIXED = 0, 1, 2
HALF_LOG_2PI = 0.5 * math.log(2.0 * math.pi)

_jit = numba.njit(cache=True, nogil=True, error_model="numpy")


@_jit
def n_sigma_params(noise: int, n_components: int) -> int:
    """Number of unconstrained noise sds (``sigma_log__``)."""
    if noise == NOISE_COMPONENT:
        return n_components
    if noise == NOISE_SHARED:
        return 1
    return 0


@_jit
def _normal_priors(theta, start: int, size: int, sd: float, grad) -> float:
    """Normal(0, sd) priors of theta[start : start + size], without their constant."""
    logp = 0.0
    inv_var = 1.0 / (sd * sd)
    for q in range(start, start + size):
        logp -= 0.5 * theta[q] * theta[q] * inv_var
        grad[q] = -theta[q] * inv_var
    return logp


@_jit
def _simplex_log_weights(theta, K: int, alpha, log_w) -> float:
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
def _simplex_grad(K: int, alpha, log_w, g_log_w, grad) -> None:
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
    """Log-density of MixtureRegression's model at ``theta``; writes its gradient to ``grad``."""
    N = int(payload[N_OBS])
    K = int(payload[N_COMPONENTS])
    P = int(payload[N_COEF])
    G = int(payload[N_GATE])
    per_component = payload[PER_COMPONENT_DESIGN] != 0.0
    shared = payload[SHARED_COEF] != 0.0
    intercept = payload[INTERCEPT] != 0.0
    noise = int(payload[NOISE])
    gated = G > 0
    # one linear predictor serves every component: one design and one coefficient vector
    common_mean = shared and not per_component
    off = HEADER
    conc = payload[off : off + K]
    off += K
    y = payload[off : off + N]
    off += N
    n_designs = K if per_component else 1
    design = payload[off : off + n_designs * N * P]
    off += n_designs * N * P
    gate = payload[off : off + N * G]

    # where each block sits in theta
    n_weights = (G + 1) * K if gated else K - 1
    beta_start = n_weights
    n_beta = P if shared else K * P
    alpha_start = beta_start + n_beta
    sigma_start = alpha_start + (K if intercept else 0)
    n_sigma = n_sigma_params(noise, K)

    for q in range(grad.shape[0]):
        grad[q] = 0.0
    logp = payload[CONSTANT]

    # priors (constants in the payload)
    log_w = np.empty(K)
    if gated:
        logp += _normal_priors(theta, 0, n_weights, payload[GATE_PRIOR_SD], grad)
    else:
        logp += _simplex_log_weights(theta, K, conc, log_w)
    logp += _normal_priors(theta, beta_start, n_beta, payload[COEF_PRIOR_SD], grad)
    if intercept:
        logp += _normal_priors(theta, alpha_start, K, payload[COEF_PRIOR_SD], grad)
    s0 = payload[NOISE_PRIOR_SD]
    for q in range(sigma_start, sigma_start + n_sigma):  # HalfNormal(s0) on log sigma
        s = math.exp(theta[q])
        logp += theta[q] - 0.5 * (s / s0) ** 2
        grad[q] = 1.0 - (s / s0) ** 2
    # per-component noise: 1 / sigma_k and -log sigma_k - log sqrt(2 pi)
    inv_sigma = np.empty(K)
    norm = np.empty(K)
    for k in range(K):
        if noise == NOISE_FIXED:
            sigma = payload[FIXED_SIGMA]
        else:
            sigma = math.exp(theta[sigma_start + (k if noise == NOISE_COMPONENT else 0)])
        inv_sigma[k] = 1.0 / sigma
        norm[k] = -math.log(sigma) - HALF_LOG_2PI

    terms = np.empty(K)
    score = np.empty(K)  # d logp_i / d m_ik
    g_log_w = np.zeros(K)
    g_log_sigma = np.zeros(K)
    w = np.empty(K)
    for i in range(N):
        if gated:  # log-softmax of gamma[0] + x_gate_i . gamma[1:]
            top = -np.inf
            for k in range(K):
                logit = theta[k]
                for j in range(G):
                    logit += gate[i * G + j] * theta[(j + 1) * K + k]
                log_w[k] = logit
                top = max(top, logit)
            z = 0.0
            for k in range(K):
                w[k] = math.exp(log_w[k] - top)
                z += w[k]
            lz = top + math.log(z)
            for k in range(K):
                log_w[k] -= lz
                w[k] /= z
        # component log-densities, then log-sum-exp
        mean = 0.0
        top = -np.inf
        for k in range(K):
            if k == 0 or not common_mean:
                row = ((k if per_component else 0) * N + i) * P
                coef = beta_start + (0 if shared else k * P)
                mean = 0.0
                for j in range(P):
                    mean += design[row + j] * theta[coef + j]
            m = mean + theta[alpha_start + k] if intercept else mean
            e = (y[i] - m) * inv_sigma[k]
            score[k] = e
            terms[k] = log_w[k] - 0.5 * e * e + norm[k]
            top = max(top, terms[k])
        z = 0.0
        for k in range(K):
            terms[k] = math.exp(terms[k] - top)
            z += terms[k]
        logp += top + math.log(z)
        # gradient through the responsibilities r_ik = terms[k] / z
        inv_z = 1.0 / z
        common = 0.0
        for k in range(K):
            r = terms[k] * inv_z
            e = score[k]
            g_log_sigma[k] += r * (e * e - 1.0)
            a = r * e * inv_sigma[k]
            if intercept:
                grad[alpha_start + k] += a
            if common_mean:
                common += a
            else:
                row = ((k if per_component else 0) * N + i) * P
                coef = beta_start + (0 if shared else k * P)
                for j in range(P):
                    grad[coef + j] += a * design[row + j]
            if gated:
                d_logit = r - w[k]
                grad[k] += d_logit
                for j in range(G):
                    grad[(j + 1) * K + k] += d_logit * gate[i * G + j]
            else:
                g_log_w[k] += r
        if common_mean:
            row = i * P
            for j in range(P):
                grad[beta_start + j] += common * design[row + j]

    if noise == NOISE_COMPONENT:
        for k in range(K):
            grad[sigma_start + k] += g_log_sigma[k]
    elif noise == NOISE_SHARED:
        grad[sigma_start] += g_log_sigma.sum()
    if not gated:
        _simplex_grad(K, conc, log_w, g_log_w, grad)
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
