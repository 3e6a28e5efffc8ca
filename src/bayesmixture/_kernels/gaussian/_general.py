"""The general variant: rows with missing entries (by missingness pattern) and shared labels
(one label per group of rows), in passes over all rows.

A row with observed coordinates o contributes the marginal density of x_o, whose covariance
has the Cholesky-like factor L_o (rows o of L). Modified Gram-Schmidt on the rows of L_o gives
L_o = J_o Q_o, J_o lower triangular and Q_o with orthonormal rows; J_o then takes the place of
L, and d/d L_o = J_o^{-T} (...) Q_o goes into rows o of d/dL.
"""

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


def make_general(student: bool, stick_breaking: bool, stamp: int):
    """The C callback's Python function of the general variant (t components or not,
    Dirichlet or stick-breaking weights)."""
    STUDENT, STICK_BREAKING, STAMP = student, stick_breaking, stamp

    def logp_callback(dim, x_, out_, logp_, payload_):  # pragma: no cover - in nutpie
        payload = open_payload(payload_)
        if wrong_length(dim, payload, STAMP):
            return -1
        # The same opening as make_complete's, written out in each: moved into one inlined
        # function returning its arrays, the complete variant took 46 us a penguin gradient
        # instead of 13, and 0.5 s longer to compile cold (measured).
        theta = numba.carray(x_, (dim,))
        grad = numba.carray(out_, (dim,))
        for q in range(dim):
            grad[q] = 0.0
        N, D, K, cov, NF, _ = dims(payload)
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
        # each missingness pattern p: its observed coordinates and L_o = J_o Q_o
        n_pat = int(payload[SLOT.n_patterns]) + 1
        cols = np.zeros((n_pat, D))
        n_seen = np.zeros(n_pat)
        J = np.zeros((n_pat * NF, D, D))
        Q = np.zeros((n_pat * NF, D, D))
        log_det = np.zeros((n_pat, NF))
        _pattern_factors(payload, L, cols, n_seen, J, Q, log_det)
        # component log-densities lp, whitened residuals V, quadratic forms qs
        lp = np.zeros((N, log_w.shape[1]))
        V = np.zeros((N, K, D))
        qs = np.zeros((N, K))
        row_densities = _STUDENT_ROW_DENSITIES if STUDENT else _GAUSSIAN_ROW_DENSITIES
        row_densities(theta, payload, t_mu, nu, cols, n_seen, J, log_det, lp, V, qs)
        # the mixture over rows or label groups; A[i, k] = d logp / d lp[i, k]
        A = np.zeros((N, K))
        g_log_w = np.zeros_like(log_w)
        logp += _mixture(payload, log_w, lp, A, g_log_w)
        add_weights_grad(theta, 0, block, log_w, g_log_w, grad, STICK_BREAKING)
        # sums over rows by pattern: av = sum a u v, M = sum a u v v^T (lower), n = sum a
        av = np.zeros((n_pat * K, D))
        M = np.zeros((n_pat * NF, D, D))
        n_k = np.zeros((n_pat, NF))
        pattern_sums = _STUDENT_PATTERN_SUMS if STUDENT else _GAUSSIAN_PATTERN_SUMS
        pattern_sums(payload, grad, t_df, nu, n_seen, A, V, qs, av, M, n_k)
        _mean_grads(grad, cov, t_mu, cols, n_seen, J, av)
        GL = np.zeros((D, D))
        for f in range(NF):
            _factor_gradient(cols, n_seen, J, Q, M, n_k, f, GL)
            factor_grad(theta, grad, cov, D, t_sd, t_cpc, f, GL, C, sd)
        return finish(logp, grad, logp_)

    # one name per variant (see make_complete)
    logp_callback.__qualname__ += f"_general_{int(student)}_{int(stick_breaking)}"
    return logp_callback


@jit
def _pattern_factors(payload, L, cols, n_seen, J, Q, log_det):
    """Per pattern p (0: complete): its observed coordinates, and per factor L_o = J_o Q_o
    by modified Gram-Schmidt on the rows of L_o, with log|J_o|."""
    _, D, _, _, NF, _ = dims(payload)
    n_pat = n_seen.shape[0]
    masks = section(payload, OFFSET.masks, (n_pat - 1) * D)
    for p in range(n_pat):
        d = 0
        for a in range(D):
            if p == 0 or masks[(p - 1) * D + a] != 0.0:
                cols[p, d] = a
                d += 1
        n_seen[p] = d
        for f in range(NF):
            pf = p * NF + f
            for a in range(D):
                for j in range(D):
                    J[pf, a, j] = 1.0 if a == j and a >= d else 0.0
                    Q[pf, a, j] = L[f, int(cols[p, a]), j] if a < d else 0.0
                if a >= d:
                    continue
                for m in range(a):
                    dot = 0.0
                    for j in range(D):
                        dot += Q[pf, m, j] * Q[pf, a, j]
                    J[pf, a, m] = dot
                    for j in range(D):
                        Q[pf, a, j] -= dot * Q[pf, m, j]
                norm = 0.0
                for j in range(D):
                    norm += Q[pf, a, j] * Q[pf, a, j]
                norm = math.sqrt(norm)
                J[pf, a, a] = norm
                log_det[p, f] += math.log(norm)
                for j in range(D):
                    Q[pf, a, j] /= norm


def _row_densities_of(student: bool):
    """Each row's component log-densities, compiled on its own per component family."""
    STUDENT = student

    def _row_densities(theta, payload, t_mu, nu, cols, n_seen, J, log_det, lp, V, qs):
        """lp[i, k] = log p_k(x_i) over the row's observed coordinates (the noise component's
        fixed log-density last), with the whitened residuals V and quadratic forms qs."""
        N, D, K, cov, NF, _ = dims(payload)
        x = section(payload, OFFSET.x, N * D)
        pattern = section(payload, OFFSET.pattern, N)
        noise = section(payload, OFFSET.noise, N)
        for i in range(N):
            p = int(pattern[i])
            d = int(n_seen[p])
            for k in range(K):
                f = 0 if cov == TIED else k
                pf = p * NF + f
                q = 0.0
                for a in range(d):
                    s = x[a * N + i] - theta[t_mu + k * D + int(cols[p, a])]
                    for b in range(a):
                        s -= J[pf, a, b] * V[i, k, b]
                    V[i, k, a] = s / J[pf, a, a]
                    q += V[i, k, a] * V[i, k, a]
                qs[i, k] = q
                lp[i, k] = log_norm(STUDENT, nu[k], d) + log_kernel(STUDENT, nu[k], d, q)
                lp[i, k] -= log_det[p, f]
            if lp.shape[1] > K:
                lp[i, K] = noise[i]

    _row_densities.__qualname__ += f"_{int(student)}"  # one name per variant
    return piece(_row_densities)


@jit
def _mixture(payload, log_w, lp, A, g_log_w):
    """The mixture over units: rows, or (shared labels) groups of rows whose log-density is
    sum_{i in g} case_weight_i lp[i, k]. Fills A[i, k] = d logp / d lp[i, k] of the K
    components and g_log_w; returns the log-likelihood."""
    N, _, K, _, _, _ = dims(payload)
    KW = log_w.shape[1]
    weight_row = section(payload, OFFSET.weight_row, N)
    label_group = section(payload, OFFSET.label_group, N)
    case_weight = section(payload, OFFSET.case_weight, N)
    known = section(payload, OFFSET.known, N)
    grouped = payload[SLOT.n_label_groups] > 0.0
    n_units = int(payload[SLOT.n_label_groups]) if grouped else N
    unit_lp = np.zeros((n_units, KW))
    for i in range(N):
        u = int(label_group[i]) if grouped else i
        for k in range(KW):
            unit_lp[u, k] += (case_weight[i] if grouped else 1.0) * lp[i, k]
    unit_r = np.zeros((n_units, KW))
    term = np.zeros(KW)
    logp = 0.0
    for u in range(n_units):
        g = 0 if grouped else int(weight_row[u])
        label = -1 if grouped else int(known[u])  # -1: unlabelled
        weight = 1.0 if grouped else case_weight[u]
        top = -np.inf
        for k in range(KW):
            term[k] = log_w[g, k] + unit_lp[u, k] if label < 0 or label == k else -np.inf
            if term[k] > top:
                top = term[k]
        z = 0.0
        for k in range(KW):
            term[k] = math.exp(term[k] - top)
            z += term[k]
        logp += weight * (top + math.log(z))
        for k in range(KW):
            unit_r[u, k] = term[k] * weight / z
            g_log_w[g, k] += unit_r[u, k]
    for i in range(N):
        for k in range(K):
            if grouped:
                A[i, k] = unit_r[int(label_group[i]), k] * case_weight[i]
            else:
                A[i, k] = unit_r[i, k]
    return logp


def _pattern_sums_of(student: bool):
    """The sums over rows by pattern, compiled on its own per component family."""
    STUDENT = student

    def _pattern_sums(payload, grad, t_df, nu, n_seen, A, V, qs, av, M, n_k):
        """av, M, n_k per pattern from the rows' a_ik; the degrees of freedom's gradient."""
        N, _, K, cov, NF, _ = dims(payload)
        pattern = section(payload, OFFSET.pattern, N)
        for i in range(N):
            p = int(pattern[i])
            d = int(n_seen[p])
            for k in range(K):
                a_ik = A[i, k]
                if a_ik == 0.0:
                    continue
                f = 0 if cov == TIED else k
                n_k[p, f] += a_ik
                au = a_ik * kernel_weight(STUDENT, nu[k], d, qs[i, k])
                for a in range(d):
                    av[p * K + k, a] += au * V[i, k, a]
                    for b in range(a + 1):
                        M[p * NF + f, a, b] += au * V[i, k, a] * V[i, k, b]
                if STUDENT:
                    grad[t_df + k] += a_ik * nu[k] * df_grad(nu[k], d, qs[i, k])

    _pattern_sums.__qualname__ += f"_{int(student)}"  # one name per variant
    return piece(_pattern_sums)


# the passes over the rows per component family: a variant compiles its own only
_GAUSSIAN_ROW_DENSITIES, _STUDENT_ROW_DENSITIES = _row_densities_of(False), _row_densities_of(True)
_GAUSSIAN_PATTERN_SUMS, _STUDENT_PATTERN_SUMS = _pattern_sums_of(False), _pattern_sums_of(True)


@jit
def _mean_grads(grad, cov, t_mu, cols, n_seen, J, av):
    """Means: J_o^{-T} av by back-substitution, into the observed coordinates."""
    n_pat, D = n_seen.shape[0], cols.shape[1]
    K = av.shape[0] // n_pat
    NF = J.shape[0] // n_pat
    for p in range(n_pat):
        d = int(n_seen[p])
        for k in range(K):
            pf = p * NF + (0 if cov == TIED else k)
            pk = p * K + k
            for a in range(d - 1, -1, -1):
                s = av[pk, a]
                for m in range(a + 1, d):
                    s -= J[pf, m, a] * av[pk, m]
                av[pk, a] = s / J[pf, a, a]
                grad[t_mu + k * D + int(cols[p, a])] += av[pk, a]


@jit
def _factor_gradient(cols, n_seen, J, Q, M, n_k, f, GL):
    """GL = d logp / d L_f: per pattern H = J_o^{-T} (M_sym - n I) Q_o, added into rows o."""
    n_pat, D = n_seen.shape[0], cols.shape[1]
    NF = J.shape[0] // n_pat
    H = np.zeros((D, D))
    GL[:, :] = 0.0
    for p in range(n_pat):
        pf = p * NF + f
        d = int(n_seen[p])
        for a in range(d):
            for j in range(D):
                t = -n_k[p, f] * Q[pf, a, j]
                for b in range(d):
                    t += (M[pf, a, b] if b <= a else M[pf, b, a]) * Q[pf, b, j]
                H[a, j] = t
        for j in range(D):
            for a in range(d - 1, -1, -1):
                s = H[a, j]
                for m in range(a + 1, d):
                    s -= J[pf, m, a] * H[m, j]
                H[a, j] = s / J[pf, a, a]
        for a in range(d):
            c = int(cols[p, a])
            for j in range(c + 1):
                GL[c, j] += H[a, j]
