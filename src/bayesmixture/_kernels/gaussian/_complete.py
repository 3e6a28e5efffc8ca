"""The complete-rows variant: one pass over the rows, each row's terms summed as it goes."""

from __future__ import annotations

import math

import numba
import numpy as np

from bayesmixture._kernels.callbacks import finish, open_payload, wrong_length
from bayesmixture._kernels.gaussian._layout import OFFSET, SLOT, TIED, dims, theta_starts
from bayesmixture._kernels.gaussian._parameters import (
    df_grad,
    df_prior,
    factor_grad,
    jit,
    kernel_weight,
    log_kernel,
    log_norm,
    parameters_and_priors,
    piece,
    weights_block,
)
from bayesmixture._kernels.payload import CONSTANT, section
from bayesmixture._kernels.weights import (
    add_weights_grad,
    log_weights,
    n_params,
    n_rows,
    n_weights,
)


def make_complete(student: bool, stick_breaking: bool, stamp: int):
    """The C callback's Python function of the complete-rows variant (t components or not,
    Dirichlet or stick-breaking weights)."""
    STUDENT, STICK_BREAKING, STAMP = student, stick_breaking, stamp

    def logp_callback(dim, x_, out_, logp_, payload_):  # pragma: no cover - in nutpie
        payload = open_payload(payload_)
        if wrong_length(dim, payload, STAMP):
            return -1
        theta = numba.carray(x_, (dim,))
        grad = numba.carray(out_, (dim,))
        for q in range(dim):
            grad[q] = 0.0
        _, D, K, cov, NF, _ = dims(payload)
        block = weights_block(payload)
        t_mu = n_params(block)
        t_sd, t_cpc, t_df = theta_starts(t_mu, K, D, cov, NF, D * (D - 1) // 2)
        log_w = np.zeros((n_rows(block), n_weights(block)))
        logp = payload[CONSTANT] + log_weights(theta, 0, block, log_w, STICK_BREAKING)
        L = np.zeros((NF, D, D))
        C = np.zeros((NF, D, D))
        sd = np.zeros((NF, D))
        logp += parameters_and_priors(theta, grad, payload, t_mu, t_sd, t_cpc, L, C, sd)
        nu = np.zeros(K)
        if STUDENT:
            shape, rate = payload[SLOT.df_shape], payload[SLOT.df_rate]
            logp += df_prior(theta, grad, t_df, K, shape, rate, nu)
        # sums over rows: av = sum a u v, M = sum a u v v^T (lower), n = sum a
        av = np.zeros((K, D))
        M = np.zeros((NF, D, D))
        n_k = np.zeros(NF)
        g_log_w = np.zeros_like(log_w)
        row_pass = _STUDENT_ROW_PASS if STUDENT else _GAUSSIAN_ROW_PASS
        logp += row_pass(theta, payload, grad, t_mu, t_df, L, nu, log_w, av, M, n_k, g_log_w)
        add_weights_grad(theta, 0, block, log_w, g_log_w, grad, STICK_BREAKING)
        _mean_grads(grad, cov, t_mu, L, av)
        H = np.zeros((D, D))
        for f in range(NF):
            _factor_gradient(L, M, n_k, f, H)
            factor_grad(theta, grad, cov, D, t_sd, t_cpc, f, H, C, sd)
        return finish(logp, grad, logp_)

    return logp_callback


def _row_pass_of(student: bool):
    """The pass over the rows of Gaussian (or Student-t) components, compiled on its own."""
    STUDENT = student

    def _row_pass(theta, payload, grad, t_mu, t_df, L, nu, log_w, av, M, n_k, g_log_w):
        """Each row's mixture term, its responsibilities a_ik, and their sums into av, M, n_k,
        g_log_w (and the degrees of freedom's gradient); returns the rows' log-density."""
        N, D, K, cov, _, _ = dims(payload)
        norm = np.zeros(K)  # the components' normalising constants, log|L| included
        inv_diag = np.empty((L.shape[0], D))  # 1 / L_aa: one division per factor, not per row
        for k in range(K):
            f = 0 if cov == TIED else k
            norm[k] = log_norm(STUDENT, nu[k], D)
            for a in range(D):
                norm[k] -= math.log(L[f, a, a])
                inv_diag[f, a] = 1.0 / L[f, a, a]
        KW = log_w.shape[1]  # the K components, then the noise component if any
        x = section(payload, OFFSET.x, N * D)
        weight_row = section(payload, OFFSET.weight_row, N)
        case_weight = section(payload, OFFSET.case_weight, N)
        known = section(payload, OFFSET.known, N)
        noise = section(payload, OFFSET.noise, N)
        v = np.zeros((K, D))
        qs = np.zeros(K)  # each component's quadratic form q
        term = np.zeros(KW)  # log w + log p of each component, then its share
        logp = 0.0
        for i in range(N):
            g = int(weight_row[i])
            label = int(known[i])  # -1: unlabelled, else the row's component
            top = -np.inf
            for k in range(KW):
                if label >= 0 and label != k:
                    term[k] = -np.inf
                    continue
                if k == K:  # the noise component
                    term[k] = log_w[g, k] + noise[i]
                else:
                    f = 0 if cov == TIED else k
                    q = 0.0
                    for a in range(D):
                        s = x[i * D + a] - theta[t_mu + k * D + a]
                        for b in range(a):
                            s -= L[f, a, b] * v[k, b]
                        v[k, a] = s * inv_diag[f, a]
                        q += v[k, a] * v[k, a]
                    qs[k] = q
                    term[k] = log_w[g, k] + norm[k] + log_kernel(STUDENT, nu[k], D, q)
                if term[k] > top:
                    top = term[k]
            z = 0.0
            for k in range(KW):
                term[k] = math.exp(term[k] - top)
                z += term[k]
            logp += case_weight[i] * (top + math.log(z))
            for k in range(KW):
                r = term[k] * case_weight[i] / z
                g_log_w[g, k] += r
                if k == K or r == 0.0:
                    continue
                f = 0 if cov == TIED else k
                n_k[f] += r
                ru = r * kernel_weight(STUDENT, nu[k], D, qs[k])
                for a in range(D):
                    av[k, a] += ru * v[k, a]
                    for b in range(a + 1):
                        M[f, a, b] += ru * v[k, a] * v[k, b]
                if STUDENT:
                    grad[t_df + k] += r * nu[k] * df_grad(nu[k], D, qs[k])
        return logp

    return piece(_row_pass)


# one pass over the rows per component family: a variant compiles its own only
_GAUSSIAN_ROW_PASS, _STUDENT_ROW_PASS = _row_pass_of(False), _row_pass_of(True)


@jit
def _mean_grads(grad, cov, t_mu, L, av):
    """Means: d/d mu_k = L^{-T} av_k, by back-substitution."""
    K, D = av.shape
    for k in range(K):
        f = 0 if cov == TIED else k
        for a in range(D - 1, -1, -1):
            s = av[k, a]
            for m in range(a + 1, D):
                s -= L[f, m, a] * av[k, m]
            av[k, a] = s / L[f, a, a]
            grad[t_mu + k * D + a] += av[k, a]


@jit
def _factor_gradient(L, M, n_k, f, H):
    """H = L_f^{-T} (M_sym - n I), whose lower part is d logp / d L_f."""
    D = H.shape[0]
    for j in range(D):
        for a in range(D - 1, -1, -1):
            s = (M[f, a, j] if j <= a else M[f, j, a]) - (n_k[f] if a == j else 0.0)
            for m in range(a + 1, D):
                s -= L[f, m, a] * H[m, j]
            H[a, j] = s / L[f, a, a]
