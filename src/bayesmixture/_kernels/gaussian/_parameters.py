"""The Gaussian kernels' parameters: priors, Cholesky factors from sds and CPCs, the chain
rule back to them, and Student-t degrees of freedom. Both variants inline these."""

from __future__ import annotations

import math

import numba
import numpy as np

from bayesmixture._kernels.fastmath import log1p as fast_log1p
from bayesmixture._kernels.gaussian._layout import FULL, OFFSET, SLOT, SPHERICAL, TIED, dims
from bayesmixture._kernels.special import HALF_LOG_2PI, LOG_PI, digamma

# Reassociation and contraction only: no assumptions about inf or NaN (-inf starts maxima).
FASTMATH = {"nsz", "arcp", "contract", "reassoc"}
# Small and medium pieces are inlined at Numba's IR level into the variant's callback (``jit``),
# which calls each once: compiled as separate functions they add to a variant's first compile.
# The large passes over the rows are compiled on their own (``piece``), one per component
# family: inlining copies a function's IR, and its untyped stage runs before the variant's
# constants prune it, so an inlined pass would cost the compile time of both families.
jit = numba.njit(inline="always", error_model="numpy", fastmath=FASTMATH)
piece = numba.njit(error_model="numpy", fastmath=FASTMATH)


@jit
def weights_block(payload):
    """The weights' section of the payload (its own layout: ``_kernels.weights``)."""
    return payload[int(payload[OFFSET.weights]) :]


@jit
def parameters_and_priors(theta, grad, payload, t_mu, t_sd, t_cpc, L, C, sd):
    """Priors of the means (Normal(0, m0)), sds (HalfNormal(s0), log transform) and CPCs
    (Beta(b, b), log-odds transform: b log c + b log(1 - c)), with their gradients; and the
    Cholesky factors L = diag(sd) C, row i of C from the CPCs z_ij = 2 c_ij - 1:
    C_ij = z_ij sqrt(prod_{m<j} (1 - z_im^2)), C_ii = sqrt(prod_{m<i} (1 - z_im^2))."""
    _, D, K, cov, NF, P = dims(payload)
    m0, s0 = payload[SLOT.mean_prior_sd], payload[SLOT.scale_prior_sd]
    conc = payload[int(payload[OFFSET.cpc_concentration]) :]
    cpcs = cov == FULL or cov == TIED
    logp = 0.0
    for q in range(K * D):
        m = theta[t_mu + q]
        logp -= 0.5 * m * m / (m0 * m0)
        grad[t_mu + q] = -m / (m0 * m0)
    for q in range(t_cpc - t_sd):
        u = theta[t_sd + q]
        s = math.exp(u)
        logp += u - 0.5 * s * s / (s0 * s0)
        grad[t_sd + q] = 1.0 - s * s / (s0 * s0)
    for f in range(NF):
        for i in range(D):
            u = theta[t_sd + f] if cov == SPHERICAL else theta[t_sd + f * D + i]
            sd[f, i] = math.exp(u)
            remaining = 1.0
            for j in range(i if cpcs else 0):
                u = theta[t_cpc + f * P + i * (i - 1) // 2 + j]
                b = conc[i * (i - 1) // 2 + j]
                logp -= b * (math.log1p(math.exp(-u)) + math.log1p(math.exp(u)))
                c = 1.0 / (1.0 + math.exp(-u))
                grad[t_cpc + f * P + i * (i - 1) // 2 + j] = b * (1.0 - 2.0 * c)
                z = 2.0 * c - 1.0
                C[f, i, j] = z * math.sqrt(remaining)
                remaining *= 1.0 - z * z
            C[f, i, i] = math.sqrt(remaining)
            for j in range(i + 1):
                L[f, i, j] = sd[f, i] * C[f, i, j]
    return logp


@jit
def factor_grad(theta, grad, cov, D, t_sd, t_cpc, f, GL, C, sd):
    """Chain rule from GL = d logp / d L_f to the unconstrained sds and CPCs of factor f:
    d/d sd_i = sum_j GL_ij C_ij (times sd_i for the log transform); for the CPCs of row i,
    with s_m = sqrt(prod_{q<m} (1 - z_q^2)) so that C_im = z_m s_m and C_ii = s_i, and
    tail = sum_{m < j <= i} dlogp/dC_ij C_ij accumulated from the diagonal down."""
    P = D * (D - 1) // 2
    spherical_total = 0.0
    for i in range(D):
        total = 0.0
        for j in range(i + 1):
            total += GL[i, j] * C[f, i, j]
        if cov == SPHERICAL:
            spherical_total += total * sd[f, i]
        else:
            grad[t_sd + f * D + i] += total * sd[f, i]
    if cov == SPHERICAL:
        grad[t_sd + f] += spherical_total
    if cov != FULL and cov != TIED:
        return
    zs = np.zeros((2, D + 1))
    for i in range(1, D):
        row = t_cpc + f * P + i * (i - 1) // 2
        zs[1, 0] = 1.0
        for m in range(i):
            zs[0, m] = 2.0 / (1.0 + math.exp(-theta[row + m])) - 1.0
            zs[1, m + 1] = zs[1, m] * math.sqrt(1.0 - zs[0, m] * zs[0, m])
        tail = 0.0
        for m in range(i - 1, -1, -1):
            tail += GL[i, m + 1] * sd[f, i] * C[f, i, m + 1]
            z = zs[0, m]
            g_z = GL[i, m] * sd[f, i] * zs[1, m] - z / (1.0 - z * z) * tail
            c = 0.5 * (z + 1.0)
            grad[row + m] += g_z * 2.0 * c * (1.0 - c)


@jit
def df_prior(theta, grad, t_df, K, shape, rate, nu):
    """Gamma(shape, rate) priors of the degrees of freedom (log transform); fills nu."""
    logp = 0.0
    for k in range(K):
        u = theta[t_df + k]
        nu[k] = math.exp(u)
        logp += shape * u - rate * nu[k]
        grad[t_df + k] = shape - rate * nu[k]
    return logp


@jit
def df_grad(nu, d, q):
    """d log t / d nu of a Student-t term with d coordinates and quadratic form q."""
    return df_grad_constant(nu, d) + df_grad_row(nu, d, q)


@jit
def df_grad_constant(nu, d):
    """The part of :func:`df_grad` that does not depend on q (digamma functions: computed
    once per component, out of the loops over rows)."""
    return 0.5 * (digamma(0.5 * (nu + d)) - digamma(0.5 * nu)) - 0.5 * d / nu


@jit
def df_grad_row(nu, d, q):
    """The part of :func:`df_grad` that depends on q (no calls: it vectorises)."""
    return -0.5 * fast_log1p(q / nu) + 0.5 * (nu + d) * q / (nu * (nu + q))


@jit
def log_norm(student, nu, d):
    """A component's normalising constant with d coordinates, log|L| left out:
    -d log(2 pi) / 2, or lgamma((nu + d) / 2) - lgamma(nu / 2) - d log(nu pi) / 2."""
    if student:
        log_gammas = math.lgamma(0.5 * (nu + d)) - math.lgamma(0.5 * nu)
        return log_gammas - 0.5 * d * (math.log(nu) + LOG_PI)
    return -d * HALF_LOG_2PI


@jit
def log_kernel(student, nu, d, q):
    """A component's log-density less its normalising constant, from the quadratic form q."""
    if student:
        return -0.5 * (nu + d) * fast_log1p(q / nu)
    return -0.5 * q


@jit
def kernel_weight(student, nu, d, q):
    """u = -2 d log p / d q: 1 for the Gaussian, (nu + d) / (nu + q) for the t."""
    if student:
        return (nu + d) / (nu + q)
    return 1.0
