"""Log-density and gradient of GaussianMixture's model, in Numba, on one flat payload.

A pure function of (unconstrained parameters ``theta``, ``payload``): ``theta`` is PyMC's own
value vector of the model (``model.value_vars`` order, transforms and Jacobians included);
``payload`` is one float64 buffer holding the sizes, the prior constants and the data
(see :mod:`bayesmixture.estimators._fast.gaussian`, which packs it). Because the data travel
in the payload instead of being frozen into the compiled code, one compilation serves every
data set and every covariance type, and Numba caches it on disk.

The mixture's gradient uses the responsibilities a_ik = d logp / d log p_k(x_i). Rows are
taken by missingness pattern o, pattern 0 being the complete rows (o = every coordinate): a
row with missing entries (``missing="marginalize"``) contributes the marginal density of its
observed coordinates, N(x_o | mu_o, Sigma_oo) with Sigma_oo = L_o L_o^T (L_o: rows o of L).
Modified Gram-Schmidt on the rows of L_o gives L_o = J_o Q_o, with J_o lower triangular (the
Cholesky factor of Sigma_oo) and Q_o with orthonormal rows; for pattern 0, exactly J = L and
Q = I. With v_io = J_o^{-1} (x_io - mu_o) and sums over the rows of pattern o,

    d/d mu_o = J_o^{-T} sum_i a_ik v_io
    d/d L_o  = 2 (d/d Sigma_oo) L_o = J_o^{-T} (sum_i a_ik v_io v_io^T - (sum_i a_ik) I) Q_o,

added into rows o of d/dL (for pattern 0, tril(L^{-T} (sum_i a_ik v_i v_i^T - n_k I)));
then the chain rule to the standard deviations and the canonical partial correlations (CPCs,
see ``bayesmixture._cholesky``) and to their unconstrained values. J_o and Q_o are stored
padded to (D, D) (identity, zero rows) so that the full-size triangular solves act on the
observed block alone.
"""

from __future__ import annotations

import math

import numba
import numpy as np

# Payload header slots.
N_OBS, N_FEATURES, N_COMPONENTS, COVARIANCE, N_WEIGHT_ROWS = 0, 1, 2, 3, 4
HAS_LABEL_GROUPS, N_LABEL_GROUPS, CONSTANT, MEAN_PRIOR_SD, SCALE_PRIOR_SD = 5, 6, 7, 8, 9
N_DIM, PAYLOAD_SIZE = 10, 11
# Missingness patterns besides the complete one; 0 (no gaps): the payload ends after the case
# weights, else it goes on with the patterns' masks and each row's pattern.
N_PATTERNS = 12
HEADER = 16
FULL, TIED, DIAG, SPHERICAL = 0, 1, 2, 3
HALF_LOG_2PI = 0.5 * math.log(2.0 * math.pi)
# Reassociation and contraction only: no assumptions about inf or NaN (-inf starts maxima).
_FASTMATH = {"nsz", "arcp", "contract", "reassoc"}


@numba.njit(cache=True, nogil=True, error_model="numpy")
def n_scale_params(cov: int, n_components: int, n_features: int) -> int:
    """Number of unconstrained standard deviations (``sd_log__``)."""
    if cov == TIED:
        return n_features
    if cov == SPHERICAL:
        return n_components
    return n_components * n_features


@numba.njit(cache=True, nogil=True, error_model="numpy")
def n_cpc_params(cov: int, n_components: int, n_features: int) -> int:
    """Number of unconstrained CPCs (``cpc_logodds__``): none for diagonal structures."""
    pairs = n_features * (n_features - 1) // 2
    if cov == FULL:
        return n_components * pairs
    if cov == TIED:
        return pairs
    return 0


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _weights_block(theta, start, n_rows, n_components, alpha, log_w, grad, logp):
    """Simplex-transformed Dirichlet weights: log w, and the prior with its Jacobian.

    w = softmax([y, -sum(y)]); Dirichlet(alpha) plus the transform's log-Jacobian is
    sum_k alpha_k log w_k + const.
    """
    k1 = n_components - 1
    for g in range(n_rows):
        t = start + g * k1
        total = 0.0
        for k in range(k1):
            total += theta[t + k]
        top = -total
        for k in range(k1):
            top = max(top, theta[t + k])
        z = math.exp(-total - top)
        for k in range(k1):
            z += math.exp(theta[t + k] - top)
        lz = top + math.log(z)
        for k in range(k1):
            log_w[g, k] = theta[t + k] - lz
        log_w[g, k1] = -total - lz
        for k in range(n_components):
            logp += alpha[k] * log_w[g, k]
    return logp


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _weights_grad(theta, start, n_rows, n_components, alpha, log_w, g_log_w, grad):
    """Chain rule from d/d log w (likelihood part in ``g_log_w``) to the simplex values."""
    k1 = n_components - 1
    for g in range(n_rows):
        t = start + g * k1
        total = 0.0
        for k in range(n_components):
            total += g_log_w[g, k] + alpha[k]
        # d logp / d a_j = g_j - w_j sum_k g_k, a = [y, -sum y]
        last = g_log_w[g, k1] + alpha[k1] - math.exp(log_w[g, k1]) * total
        for k in range(k1):
            da = g_log_w[g, k] + alpha[k] - math.exp(log_w[g, k]) * total
            grad[t + k] = da - last


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _cholesky_factors(theta, sd_start, cpc_start, cov, n_factors, n_features, L, C, sd):
    """Build the Cholesky factors L (n_factors, D, D) = diag(sd) C from theta."""
    D = n_features
    L[:] = 0.0
    C[:] = 0.0
    for f in range(n_factors):
        for i in range(D):
            if cov == SPHERICAL:
                sd[f, i] = math.exp(theta[sd_start + f])
            else:
                sd[f, i] = math.exp(theta[sd_start + f * D + i])
        if cov == FULL or cov == TIED:
            pairs = D * (D - 1) // 2
            for i in range(D):
                remaining = 1.0
                for j in range(i):
                    u = theta[cpc_start + f * pairs + i * (i - 1) // 2 + j]
                    z = 2.0 / (1.0 + math.exp(-u)) - 1.0
                    C[f, i, j] = z * math.sqrt(remaining)
                    remaining *= 1.0 - z * z
                C[f, i, i] = math.sqrt(remaining)
        else:
            for i in range(D):
                C[f, i, i] = 1.0
        for i in range(D):
            for j in range(i + 1):
                L[f, i, j] = sd[f, i] * C[f, i, j]


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _solve_upper_transposed(L, B, out):
    """out = L^{-T} B for lower-triangular L (D, D) and B (D, D) or (D,) via back-substitution."""
    D = L.shape[0]
    if B.ndim == 1:
        for i in range(D - 1, -1, -1):
            s = B[i]
            for m in range(i + 1, D):
                s -= L[m, i] * out[m]
            out[i] = s / L[i, i]
        return
    for j in range(B.shape[1]):
        for i in range(D - 1, -1, -1):
            s = B[i, j]
            for m in range(i + 1, D):
                s -= L[m, i] * out[m, j]
            out[i, j] = s / L[i, i]


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _pattern_factors(L, masks, cols, n_seen, J, Q, log_det):
    """Factor Sigma_oo = L_o L_o^T of every missingness pattern p and factor f.

    Pattern 0 is the complete one; ``masks[p - 1]`` (D,) is 1 where pattern p's coordinates
    are observed. Fills ``cols[p]`` with those coordinates, ``n_seen[p]`` with their number d,
    ``J[p, f]`` and ``Q[p, f]`` with L_o = J_o Q_o (modified Gram-Schmidt on the rows of L_o;
    identity and zero rows below the first d) and ``log_det[p, f]`` with log |J_o|.
    """
    D = L.shape[1]
    for p in range(J.shape[0]):
        d = 0
        for a in range(D):
            if p == 0 or masks[p - 1, a] != 0.0:
                cols[p, d] = a
                d += 1
        n_seen[p] = d
        for f in range(L.shape[0]):
            R, U = J[p, f], Q[p, f]
            total = 0.0
            for a in range(D):
                for j in range(D):
                    R[a, j] = 1.0 if a == j and a >= d else 0.0
                    U[a, j] = L[f, cols[p, a], j] if a < d else 0.0
                if a >= d:
                    continue
                for m in range(a):
                    dot = 0.0
                    for j in range(D):
                        dot += U[m, j] * U[a, j]
                    R[a, m] = dot
                    for j in range(D):
                        U[a, j] -= dot * U[m, j]
                norm = 0.0
                for j in range(D):
                    norm += U[a, j] * U[a, j]
                norm = math.sqrt(norm)
                R[a, a] = norm
                total += math.log(norm)
                for j in range(D):
                    U[a, j] /= norm
            log_det[p, f] = total


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _factor_grad(theta, sd_start, cpc_start, cov, f, n_features, GL, C, sd, cpc_conc, grad):
    """Chain rule from d/dL of factor f to its unconstrained sds and CPCs (priors included)."""
    D = n_features
    # d/d sd_i = sum_j GL_ij C_ij ; d/d C_ij = GL_ij sd_i
    if cov == SPHERICAL:
        total = 0.0
        for i in range(D):
            total += GL[i, i] * C[f, i, i]
        grad[sd_start + f] += total * sd[f, 0]
    else:
        for i in range(D):
            total = 0.0
            for j in range(i + 1):
                total += GL[i, j] * C[f, i, j]
            grad[sd_start + f * D + i] += total * sd[f, i]
    if cov != FULL and cov != TIED:
        return
    pairs = D * (D - 1) // 2
    z = np.empty(D)
    s = np.empty(D)
    for i in range(1, D):
        row = cpc_start + f * pairs + i * (i - 1) // 2
        # s[j] = sqrt(prod_{q<j} (1 - z_iq^2)), so that C_ij = z_ij s_j and C_ii = s_i
        s[0] = 1.0
        for j in range(i):
            z[j] = 2.0 / (1.0 + math.exp(-theta[row + j])) - 1.0
            if j + 1 < i:
                s[j + 1] = s[j] * math.sqrt(1.0 - z[j] * z[j])
        # tail = sum_{m < j <= i} dlogp/dC_ij C_ij, accumulated from the diagonal down
        tail = 0.0
        for m in range(i - 1, -1, -1):
            j = m + 1
            tail += GL[i, j] * sd[f, i] * C[f, i, j]
            g_z = GL[i, m] * sd[f, i] * s[m] - z[m] / (1.0 - z[m] * z[m]) * tail
            c = 0.5 * (z[m] + 1.0)
            grad[row + m] += g_z * 2.0 * c * (1.0 - c)
    # Beta(b, b) prior on cpc with the log-odds Jacobian: b log c + b log(1 - c) + const
    n_cpc = pairs
    for q in range(n_cpc):
        p = cpc_start + f * pairs + q
        c = 1.0 / (1.0 + math.exp(-theta[p]))
        grad[p] += cpc_conc[q] * (1.0 - 2.0 * c)


@numba.njit(cache=True, nogil=True, error_model="numpy", fastmath=_FASTMATH)
def logp_and_grad(theta, payload, grad):
    """Log-density of GaussianMixture's model at ``theta``; writes its gradient to ``grad``."""
    N = int(payload[N_OBS])
    D = int(payload[N_FEATURES])
    K = int(payload[N_COMPONENTS])
    cov = int(payload[COVARIANCE])
    G = int(payload[N_WEIGHT_ROWS])
    label_groups = payload[HAS_LABEL_GROUPS] != 0.0
    NG = int(payload[N_LABEL_GROUPS])
    m0 = payload[MEAN_PRIOR_SD]
    s0 = payload[SCALE_PRIOR_SD]
    P = D * (D - 1) // 2
    off = HEADER
    alpha = payload[off : off + K]
    off += K
    cpc_conc = payload[off : off + P]
    off += P
    X = payload[off : off + N * D].reshape((N, D))
    off += N * D
    weight_row = payload[off : off + N]
    off += N
    label_group = payload[off : off + N]
    off += N
    case_weight = payload[off : off + N]
    off += N
    # missingness patterns: 0 is the complete one, the payload holds the masks of the others
    n_pat = int(payload[N_PATTERNS]) + 1
    masks = payload[off : off + (n_pat - 1) * D].reshape((n_pat - 1, D))
    off += (n_pat - 1) * D
    row_pattern = payload[off : off + N]

    for q in range(grad.shape[0]):
        grad[q] = 0.0
    logp = payload[CONSTANT]

    # weights
    log_w = np.empty((G, K))
    logp = _weights_block(theta, 0, G, K, alpha, log_w, grad, logp)
    mu_start = G * (K - 1)
    sd_start = mu_start + K * D
    n_sd = n_scale_params(cov, K, D)
    cpc_start = sd_start + n_sd
    # means: Normal(0, m0)
    for q in range(K * D):
        m = theta[mu_start + q]
        logp -= 0.5 * (m / m0) ** 2
        grad[mu_start + q] = -m / (m0 * m0)
    # standard deviations: HalfNormal(s0) with the log Jacobian
    for q in range(n_sd):
        u = theta[sd_start + q]
        s = math.exp(u)
        logp += u - 0.5 * (s / s0) ** 2
        grad[sd_start + q] = 1.0 - (s / s0) ** 2
    # CPCs: Beta(b, b) with the log-odds Jacobian, b log c + b log(1 - c)
    n_factors = 1 if cov == TIED else K
    if cov == FULL or cov == TIED:
        for f in range(n_factors):
            for q in range(P):
                u = theta[cpc_start + f * P + q]
                log_c = -math.log1p(math.exp(-u)) if u > -30 else u
                log_1mc = -math.log1p(math.exp(u)) if u < 30 else -u
                logp += cpc_conc[q] * (log_c + log_1mc)

    L = np.empty((n_factors, D, D))
    C = np.empty((n_factors, D, D))
    sd = np.empty((n_factors, D))
    _cholesky_factors(theta, sd_start, cpc_start, cov, n_factors, D, L, C, sd)
    cols = np.empty((n_pat, D), dtype=np.int64)
    n_seen = np.empty(n_pat, dtype=np.int64)
    J = np.empty((n_pat, n_factors, D, D))
    Q = np.empty((n_pat, n_factors, D, D))
    log_det = np.empty((n_pat, n_factors))
    _pattern_factors(L, masks, cols, n_seen, J, Q, log_det)
    mu_o = np.zeros((n_pat, K, D))  # the means of each pattern's observed coordinates
    for p in range(n_pat):
        for k in range(K):
            for a in range(n_seen[p]):
                mu_o[p, k, a] = theta[mu_start + k * D + cols[p, a]]

    # component log-densities and whitened residuals (rows of X: observed entries first)
    lp = np.empty((N, K))
    V = np.empty((N, K, D))
    for i in range(N):
        p = int(row_pattern[i]) if n_pat > 1 else 0
        d = n_seen[p]
        for k in range(K):
            f = 0 if cov == TIED else k
            q = 0.0
            for a in range(d):
                s = X[i, a] - mu_o[p, k, a]
                for b in range(a):
                    s -= J[p, f, a, b] * V[i, k, b]
                v = s / J[p, f, a, a]
                V[i, k, a] = v
                q += v * v
            lp[i, k] = -0.5 * q - log_det[p, f] - d * HALF_LOG_2PI

    # mix: A[i, k] = d logp / d lp[i, k]; g_log_w = d logp / d log w (likelihood part)
    A = np.empty((N, K))
    g_log_w = np.zeros((G, K))
    terms = np.empty(K)
    if not label_groups:
        for i in range(N):
            g = int(weight_row[i])
            top = -np.inf
            for k in range(K):
                terms[k] = log_w[g, k] + lp[i, k]
                top = max(top, terms[k])
            z = 0.0
            for k in range(K):
                terms[k] = math.exp(terms[k] - top)
                z += terms[k]
            logp += case_weight[i] * (top + math.log(z))
            scale = case_weight[i] / z
            for k in range(K):
                r = terms[k] * scale
                A[i, k] = r
                g_log_w[g, k] += r
    else:
        S = np.zeros((NG, K))
        for i in range(N):
            for k in range(K):
                S[int(label_group[i]), k] += case_weight[i] * lp[i, k]
        R = np.empty((NG, K))
        for g in range(NG):
            top = -np.inf
            for k in range(K):
                terms[k] = log_w[0, k] + S[g, k]
                top = max(top, terms[k])
            z = 0.0
            for k in range(K):
                z += math.exp(terms[k] - top)
            lse = top + math.log(z)
            logp += lse
            for k in range(K):
                R[g, k] = math.exp(terms[k] - lse)
                g_log_w[0, k] += R[g, k]
        for i in range(N):
            for k in range(K):
                A[i, k] = R[int(label_group[i]), k] * case_weight[i]

    _weights_grad(theta, 0, G, K, alpha, log_w, g_log_w, grad)

    # sufficient statistics of the whitened residuals, by pattern
    av = np.zeros((n_pat, K, D))
    M = np.zeros((n_pat, n_factors, D, D))
    n_k = np.zeros((n_pat, n_factors))
    for i in range(N):
        p = int(row_pattern[i]) if n_pat > 1 else 0
        d = n_seen[p]
        for k in range(K):
            a_ik = A[i, k]
            if a_ik == 0.0:
                continue
            f = 0 if cov == TIED else k
            n_k[p, f] += a_ik
            for a in range(d):
                va = a_ik * V[i, k, a]
                av[p, k, a] += va
                for b in range(a + 1):
                    M[p, f, a, b] += va * V[i, k, b]
    # means
    step = np.empty(D)
    for p in range(n_pat):
        for k in range(K):
            _solve_upper_transposed(J[p, 0 if cov == TIED else k], av[p, k], step)
            for a in range(n_seen[p]):
                grad[mu_start + k * D + cols[p, a]] += step[a]
    # factors
    B = np.empty((D, D))
    BQ = np.empty((D, D))
    H = np.empty((D, D))
    GL = np.empty((D, D))
    for f in range(n_factors):
        GL[:] = 0.0
        for p in range(n_pat):
            d = n_seen[p]
            for a in range(D):
                for b in range(D):
                    B[a, b] = M[p, f, a, b] if b <= a else M[p, f, b, a]
                if a < d:
                    B[a, a] -= n_k[p, f]
            for a in range(D):
                for j in range(D):
                    t = 0.0
                    for b in range(d):
                        t += B[a, b] * Q[p, f, b, j]
                    BQ[a, j] = t
            _solve_upper_transposed(J[p, f], BQ, H)
            for a in range(d):
                for j in range(cols[p, a] + 1):
                    GL[cols[p, a], j] += H[a, j]
        _factor_grad(theta, sd_start, cpc_start, cov, f, D, GL, C, sd, cpc_conc, grad)
    return logp


_LOGP_SIGNATURE = numba.types.int64(
    numba.types.uint64,
    numba.types.CPointer(numba.types.double),
    numba.types.CPointer(numba.types.double),
    numba.types.CPointer(numba.types.double),
    numba.types.voidptr,
)
_EXPAND_SIGNATURE = numba.types.int64(
    numba.types.uint64,
    numba.types.uint64,
    numba.types.CPointer(numba.types.double),
    numba.types.CPointer(numba.types.double),
    numba.types.voidptr,
)


@numba.cfunc(_LOGP_SIGNATURE, cache=True)
def logp_cfunc(dim, x_, out_, logp_, payload_):  # pragma: no cover - runs inside nutpie
    """nutpie's C interface: 0 on success, 3/4 for a non-finite gradient/log-density."""
    header = numba.carray(payload_, (HEADER,), dtype=np.float64)
    if dim != int(header[N_DIM]):
        return -1
    payload = numba.carray(payload_, (int(header[PAYLOAD_SIZE]),), dtype=np.float64)
    x = numba.carray(x_, (dim,))
    out = numba.carray(out_, (dim,))
    logp = numba.carray(logp_, (1,))
    value = logp_and_grad(x, payload, out)
    logp[0] = value
    if not np.isfinite(value):
        return 4
    for q in range(dim):
        if not np.isfinite(out[q]):
            return 3
    return 0


@numba.cfunc(_EXPAND_SIGNATURE, cache=True)
def expand_cfunc(dim, expanded, x_, out_, payload_):  # pragma: no cover - runs inside nutpie
    """Store the unconstrained draw itself; constrained values are computed afterwards."""
    if dim != expanded:
        return -1
    x = numba.carray(x_, (dim,))
    out = numba.carray(out_, (expanded,))
    for q in range(dim):
        out[q] = x[q]
    return 0
