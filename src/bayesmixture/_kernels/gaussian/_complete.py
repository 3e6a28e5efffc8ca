"""The complete-rows variant: one pass over the rows in blocks, each block's terms summed as it
goes."""

from __future__ import annotations

import math

import numba
import numpy as np

from bayesmixture._kernels.callbacks import finish, open_payload, wrong_length
from bayesmixture._kernels.fastmath import exp as fast_exp
from bayesmixture._kernels.fastmath import log as fast_log
from bayesmixture._kernels.gaussian._layout import OFFSET, SLOT, TIED, dims, theta_starts
from bayesmixture._kernels.gaussian._parameters import (
    df_grad_constant,
    df_grad_row,
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

# Rows taken together: their residuals, log-densities and responsibilities stay in the
# first-level cache, and each step over them is one loop the vectoriser takes.
ROW_BLOCK = 256


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

    # one name per variant: Numba names compiled code qualname$n with n counted per process,
    # and variants compiled in different processes are loaded into one (see weights.py)
    logp_callback.__qualname__ += f"_complete_{int(student)}_{int(stick_breaking)}"
    return logp_callback


def _row_pass_of(student: bool):
    """The pass over the rows of Gaussian (or Student-t) components, compiled on its own."""
    STUDENT = student

    def _row_pass(theta, payload, grad, t_mu, t_df, L, nu, log_w, av, M, n_k, g_log_w):
        """Each row's mixture term, its responsibilities a_ik, and their sums into av, M, n_k,
        g_log_w (and the degrees of freedom's gradient); returns the rows' log-density.

        Rows are taken ``ROW_BLOCK`` at a time, and every step over a block is one loop over
        its rows, which the vectoriser takes (the exp and log are ``_kernels.fastmath``'s):
        whitened residuals v = L^{-1} (x - mu) and their quadratic forms, the components'
        log-densities, the softmax over components, then the sums."""
        N, D, K, cov, _, _ = dims(payload)
        norm = np.zeros(K)  # the components' normalising constants, log|L| included
        inv_diag = np.empty((L.shape[0], D))  # 1 / L_aa: one division per factor, not per row
        df_constant = np.zeros(K)  # the part of d log t / d nu that does not depend on q
        for k in range(K):
            f = 0 if cov == TIED else k
            norm[k] = log_norm(STUDENT, nu[k], D)
            for a in range(D):
                norm[k] -= math.log(L[f, a, a])
                inv_diag[f, a] = 1.0 / L[f, a, a]
            if STUDENT:
                df_constant[k] = df_grad_constant(nu[k], D)
        KW = log_w.shape[1]  # the K components, then the noise component if any
        grouped = log_w.shape[0] > 1  # a row of weights per group
        x = section(payload, OFFSET.x, N * D)  # column by column
        weight_row = section(payload, OFFSET.weight_row, N)
        case_weight = section(payload, OFFSET.case_weight, N)
        known = section(payload, OFFSET.known, N)
        noise = section(payload, OFFSET.noise, N)
        V = np.empty((K, D, ROW_BLOCK))  # whitened residuals
        qs = np.empty((K, ROW_BLOCK))  # quadratic forms
        terms = np.empty((KW, ROW_BLOCK))  # log w + log p, then responsibilities a_ik
        top = np.empty(ROW_BLOCK)
        scale = np.empty(ROW_BLOCK)
        ru = np.empty(ROW_BLOCK)
        logp = 0.0
        for start in range(0, N, ROW_BLOCK):
            n = min(ROW_BLOCK, N - start)
            stop = start + n
            for k in range(K):
                f = 0 if cov == TIED else k
                _whiten(
                    x,
                    N,
                    start,
                    n,
                    theta[t_mu + k * D : t_mu + (k + 1) * D],
                    L[f],
                    inv_diag[f],
                    V[k],
                    qs[k],
                )
                term, q = terms[k], qs[k]
                norm_k, nu_k = norm[k], nu[k]  # locals: the loop then reads only its rows
                for i in range(n):
                    term[i] = norm_k + log_kernel(STUDENT, nu_k, D, q[i])
            if KW > K:
                for i in range(n):
                    terms[K, i] = noise[start + i]
            cases = case_weight[start:stop]
            rows = weight_row[start:stop]
            labels = known[start:stop]
            for k in range(KW):
                term = terms[k]
                if grouped:
                    for i in range(n):
                        term[i] += log_w[int(rows[i]), k]
                else:
                    log_w_k = log_w[0, k]
                    for i in range(n):
                        term[i] += log_w_k
                for i in range(n):  # a labelled row mixes over its own component only
                    term[i] = term[i] if labels[i] < 0.0 or labels[i] == k else -np.inf
            logp += _softmax(terms, n, cases, top, scale)
            # the sums over the block's rows
            if grouped:
                for i in range(n):
                    for k in range(KW):
                        g_log_w[int(rows[i]), k] += terms[k, i]
            else:
                for k in range(KW):
                    g_log_w[0, k] += _total(terms[k], n)
            for k in range(K):
                f = 0 if cov == TIED else k
                a_k, q, v = terms[k], qs[k], V[k]
                nu_k, df_k = nu[k], df_constant[k]
                n_k[f] += _total(a_k, n)
                for i in range(n):
                    ru[i] = a_k[i] * kernel_weight(STUDENT, nu_k, D, q[i])
                _moments(ru, v, n, av[k], M[f])
                if STUDENT:
                    total = 0.0
                    for i in range(n):
                        total += a_k[i] * (df_k + df_grad_row(nu_k, D, q[i]))
                    grad[t_df + k] += nu_k * total
        return logp

    _row_pass.__qualname__ += f"_{int(student)}"  # one name per variant (make_complete)
    return piece(_row_pass)


@jit
def _whiten(x, N, start, n, mu, L, inv_diag, v, q):
    """v[:, i] = L^{-1} (x_i - mu) and q[i] = |v[:, i]|^2 for the n rows from ``start``, one
    loop over the rows per step of the forward substitution."""
    D = mu.shape[0]
    for i in range(n):
        q[i] = 0.0
    for a in range(D):
        column = x[a * N + start : a * N + start + n]
        va = v[a]
        m = mu[a]
        for i in range(n):
            va[i] = column[i] - m
        for b in range(a):
            l_ab = L[a, b]
            vb = v[b]
            for i in range(n):
                va[i] -= l_ab * vb[i]
        inverse = inv_diag[a]
        for i in range(n):
            va[i] *= inverse
            q[i] += va[i] * va[i]


@piece
def _softmax(terms, n, cases, top, scale):
    """The rows' log-likelihood sum_i c_i log sum_k exp(t_ki), from t = log w + log p in
    ``terms[:, :n]``, which then holds a_ik = c_i exp(t_ki) / sum_k exp(t_ki) (c: case
    weights). A function of its own: LLVM inlines fastmath's exp and log into a small
    function's loops, not into the whole pass's (where they would stay calls)."""
    KW = terms.shape[0]
    for i in range(n):
        top[i] = -np.inf
    for k in range(KW):
        term = terms[k]
        for i in range(n):
            top[i] = max(top[i], term[i])
    for i in range(n):
        scale[i] = 0.0
    for k in range(KW):
        term = terms[k]
        for i in range(n):
            share = fast_exp(term[i] - top[i])
            term[i] = share
            scale[i] += share
    logp = 0.0
    for i in range(n):
        logp += cases[i] * (top[i] + fast_log(scale[i]))
        scale[i] = cases[i] / scale[i]
    for k in range(KW):
        term = terms[k]
        for i in range(n):
            term[i] *= scale[i]
    return logp


@jit
def _total(a, n):
    total = 0.0
    for i in range(n):
        total += a[i]
    return total


@jit
def _moments(ru, v, n, av, M):
    """av[a] += sum_i ru_i v_ai and M[a, b] += sum_i ru_i v_ai v_bi (b <= a) over n rows.

    Each pass over the rows takes one a and four b at once (four sums in registers: a pass
    per sum would read the rows from memory 2.5 times as often); b beyond a repeat the last
    row and their sums are dropped."""
    D = v.shape[0]
    for a in range(D):
        va = v[a]
        for b0 in range(0, a + 1, 4):
            w0, w1 = v[b0], v[min(b0 + 1, D - 1)]
            w2, w3 = v[min(b0 + 2, D - 1)], v[min(b0 + 3, D - 1)]
            t = s0 = s1 = s2 = s3 = 0.0
            for i in range(n):
                u = ru[i] * va[i]
                t += u
                s0 += u * w0[i]
                s1 += u * w1[i]
                s2 += u * w2[i]
                s3 += u * w3[i]
            if b0 == 0:
                av[a] += t
            M[a, b0] += s0
            if b0 + 1 <= a:
                M[a, b0 + 1] += s1
            if b0 + 2 <= a:
                M[a, b0 + 2] += s2
            if b0 + 3 <= a:
                M[a, b0 + 3] += s3


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
