"""Log-density and gradient of the Gaussian and Student-t mixtures' models, in Numba.

A pure function of (unconstrained parameters ``theta``, ``payload``): ``theta`` is PyMC's own
value vector of the model (``model.value_vars`` order, transforms and Jacobians included);
``payload`` is one float64 buffer holding the sizes, the prior constants and the data
(see :mod:`bayesmixture.estimators._fast.gaussian`, which packs it). Because the data travel
in the payload instead of being frozen into the compiled code, one compilation serves every
data set, covariance type and option, and Numba caches it on disk.

Notation. Rows i, components k, factors f (one per component, or one shared for "tied").
L_f = diag(sd_f) C_f is the Cholesky factor of a covariance, C_f the Cholesky factor of its
correlation, built from canonical partial correlations (``bayesmixture._cholesky``). With
v = L^{-1} (x - mu) and q = |v|^2, a component's log-density is

- Gaussian: -q / 2 - log|L| - D log(2 pi) / 2;
- Student-t with nu degrees of freedom: lgamma((nu + D) / 2) - lgamma(nu / 2)
  - D log(nu pi) / 2 - log|L| - (nu + D) / 2 log(1 + q / nu).

With a_ik = d logp / d log p_k(x_i) (responsibilities times case weights) and
u_ik = -2 d log p_k / d q (1 for the Gaussian, (nu + D) / (nu + q) for the t), the gradient
comes from sums over rows:

    d/d mu_k = L^{-T} sum_i a_ik u_ik v_i
    d/d L    = tril(L^{-T} (sum_i a_ik u_ik v_i v_i^T - (sum_i a_ik) I)),

then the chain rule to the standard deviations, the CPCs and their unconstrained values. An
optional noise component has a fixed log-density per row (mclust's uniform background); a
labelled row (semi-supervised fits) mixes over its own component only.

Rows with missing entries (``missing="marginalize"``) contribute the marginal density of their
observed coordinates o, with covariance L_o L_o^T (L_o: rows o of L); modified Gram-Schmidt on
the rows of L_o gives L_o = J_o Q_o, J_o lower triangular and Q_o with orthonormal rows, and
in the formulas above J_o takes the place of L, D the number of observed coordinates, and
d/d L_o = J_o^{-T} (...) Q_o is added into rows o of d/dL.

Two variants, chosen per fit: "complete" rows (one pass over the rows, each row's terms summed
as it goes) and "general" (rows with gaps, grouped by missingness pattern, and shared labels,
whose responsibilities need every row of a group first). Numba compiles a variant on first use
(its flags are constants of the compiled code, so a plain fit compiles no code for gaps or
t components); the parts both share are the small functions below, inlined into each.
"""

from __future__ import annotations

import functools
import math

import numba
import numpy as np

from bayesmixture._kernels.callbacks import LOGP_SIGNATURE, expand_cfunc

# Payload header slots.
N_OBS, N_FEATURES, N_COMPONENTS, COVARIANCE, N_WEIGHT_ROWS = 0, 1, 2, 3, 4
HAS_LABEL_GROUPS, N_LABEL_GROUPS, CONSTANT, MEAN_PRIOR_SD, SCALE_PRIOR_SD = 5, 6, 7, 8, 9
N_DIM, PAYLOAD_SIZE = 10, 11
# Missingness patterns besides the complete one (0 when every row is complete).
N_PATTERNS = 12
# Student-t components (1) with a Gamma(DF_SHAPE, DF_RATE) prior on their degrees of freedom.
STUDENT_T, DF_SHAPE, DF_RATE = 13, 14, 15
# A noise component after the K components (1), with its own weight, whose prior is
# Beta(NOISE_CONCENTRATION, sum of the clusters' Dirichlet concentrations).
HAS_NOISE, NOISE_CONCENTRATION = 16, 17
HEADER = 24
# Covariance structures.
FULL, TIED, DIAG, SPHERICAL = 0, 1, 2, 3
HALF_LOG_2PI = 0.5 * math.log(2.0 * math.pi)
LOG_PI = math.log(math.pi)
# Reassociation and contraction only: no assumptions about inf or NaN (-inf starts maxima).
_FASTMATH = {"nsz", "arcp", "contract", "reassoc"}
# The pieces both variants share are inlined into each (at Numba's IR level): compiled as
# separate functions they add ~2 s to a variant's first compile.
_jit = numba.njit(inline="always", error_model="numpy", fastmath=_FASTMATH)


def n_scale_params(cov: int, n_components: int, n_features: int) -> int:
    """Number of unconstrained standard deviations (``sd_log__``)."""
    if cov == TIED:
        return n_features
    if cov == SPHERICAL:
        return n_components
    return n_components * n_features


def n_cpc_params(cov: int, n_components: int, n_features: int) -> int:
    """Number of unconstrained CPCs (``cpc_logodds__``): none for diagonal structures."""
    pairs = n_features * (n_features - 1) // 2
    if cov == FULL:
        return n_components * pairs
    if cov == TIED:
        return pairs
    return 0


# ------------------------------------------------------------------ shared pieces


@_jit
def digamma(x):
    """psi(x) for x > 0: the recurrence psi(x) = psi(x + 1) - 1/x up to x >= 10, then the
    asymptotic series (its first omitted term is below 1e-15 there)."""
    result = 0.0
    while x < 10.0:
        result -= 1.0 / x
        x += 1.0
    inv2 = 1.0 / (x * x)
    series = inv2 * (
        1.0 / 12.0
        - inv2
        * (
            1.0 / 120.0
            - inv2
            * (1.0 / 252.0 - inv2 * (1.0 / 240.0 - inv2 * (1.0 / 132.0 - inv2 * 691.0 / 32760.0)))
        )
    )
    return result + math.log(x) - 0.5 / x - series


@_jit
def _weights_and_prior(theta, alpha, noise_alpha, log_w):
    """log w of each weight row (G, KW) from theta's first block; returns the weights' prior
    log-density with the transforms' Jacobians, up to a constant.

    Without noise (KW = K): w = softmax([y, -sum y]) with Dirichlet(alpha), whose density with
    the Jacobian is sum_k alpha_k log w_k. With a noise component (KW = K + 1, one weight row)
    the clusters' shares w~ (simplex, Dirichlet(alpha)) and the noise weight pi (log-odds u,
    Beta(noise_alpha, sum alpha)) give log w_k = log(1 - pi) + log w~_k and log w_K = log pi:
    by the Dirichlet's aggregation property, the same prior as Dirichlet(alpha, noise_alpha).
    """
    G, KW = log_w.shape
    K = alpha.shape[0]
    logp = 0.0
    for g in range(G):
        t = g * (KW - 1)
        total = 0.0
        top = -np.inf
        for k in range(K - 1):
            total += theta[t + k]
            if theta[t + k] > top:
                top = theta[t + k]
        if -total > top:
            top = -total
        z = math.exp(-total - top)
        for k in range(K - 1):
            z += math.exp(theta[t + k] - top)
        lz = top + math.log(z)
        for k in range(K):
            log_w[g, k] = (theta[t + k] if k < K - 1 else -total) - lz
            logp += alpha[k] * log_w[g, k]
        if KW > K:
            u = theta[t + K - 1]
            log_pi = -math.log1p(math.exp(-u)) if u > -30.0 else u
            log_rest = -math.log1p(math.exp(u)) if u < 30.0 else -u
            alpha_sum = 0.0
            for k in range(K):
                alpha_sum += alpha[k]
                log_w[g, k] += log_rest
            log_w[g, K] = log_pi
            logp += noise_alpha * log_pi + alpha_sum * log_rest
    return logp


@_jit
def _weights_grad(alpha, noise_alpha, log_w, g_log_w, grad):
    """Gradient of the weights' block from g_log_w = d logp / d log w (likelihood part).

    With h_k = g_k + alpha_k for the clusters, a = [y, -sum y] and w~ the clusters' shares,
    d/d a_j = h_j - w~_j sum_k h_k and d/d y_j = d/d a_j - d/d a_last; the noise weight's
    log-odds u gets (g_K + noise_alpha)(1 - pi) - pi sum_k h_k.
    """
    G, KW = log_w.shape
    K = alpha.shape[0]
    for g in range(G):
        t = g * (KW - 1)
        total = 0.0
        for k in range(K):
            total += g_log_w[g, k] + alpha[k]
        log_rest = 0.0
        if KW > K:
            pi = math.exp(log_w[g, K])
            log_rest = math.log1p(-pi)
            grad[t + K - 1] = (g_log_w[g, K] + noise_alpha) * (1.0 - pi) - pi * total
        last = g_log_w[g, K - 1] + alpha[K - 1] - math.exp(log_w[g, K - 1] - log_rest) * total
        for k in range(K - 1):
            da = g_log_w[g, k] + alpha[k] - math.exp(log_w[g, k] - log_rest) * total
            grad[t + k] = da - last


@_jit
def _parameters_and_priors(theta, grad, cov, K, D, t_mu, t_sd, t_cpc, m0, s0, conc, L, C, sd):
    """Priors of the means (Normal(0, m0)), sds (HalfNormal(s0), log transform) and CPCs
    (Beta(b, b), log-odds transform: b log c + b log(1 - c)), with their gradients; and the
    Cholesky factors L = diag(sd) C, row i of C from the CPCs z_ij = 2 c_ij - 1:
    C_ij = z_ij sqrt(prod_{m<j} (1 - z_im^2)), C_ii = sqrt(prod_{m<i} (1 - z_im^2))."""
    NF, P = L.shape[0], D * (D - 1) // 2
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


@_jit
def _factor_grad(theta, grad, cov, D, t_sd, t_cpc, f, GL, C, sd):
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


@_jit
def _df_prior(theta, grad, t_df, K, shape, rate, nu):
    """Gamma(shape, rate) priors of the degrees of freedom (log transform); fills nu."""
    logp = 0.0
    for k in range(K):
        u = theta[t_df + k]
        nu[k] = math.exp(u)
        logp += shape * u - rate * nu[k]
        grad[t_df + k] = shape - rate * nu[k]
    return logp


@_jit
def _df_grad(nu, d, q):
    """d log t / d nu of a Student-t term with d coordinates and quadratic form q."""
    return (
        0.5 * (digamma(0.5 * (nu + d)) - digamma(0.5 * nu))
        - 0.5 * d / nu
        - 0.5 * math.log1p(q / nu)
        + 0.5 * (nu + d) * q / (nu * (nu + q))
    )


# ------------------------------------------------------------------ the two variants


def _make_complete(student: bool):
    """The complete-rows variant: one pass over the rows, each row's terms summed as it goes."""
    STUDENT = student

    def logp_callback(dim, x_, out_, logp_, payload_):  # pragma: no cover - in nutpie
        header = numba.carray(payload_, (HEADER,), dtype=np.float64)
        if dim != int(header[N_DIM]):
            return -1
        payload = numba.carray(payload_, (int(header[PAYLOAD_SIZE]),), dtype=np.float64)
        theta = numba.carray(x_, (dim,))
        grad = numba.carray(out_, (dim,))
        N = int(payload[N_OBS])
        D = int(payload[N_FEATURES])
        K = int(payload[N_COMPONENTS])
        cov = int(payload[COVARIANCE])
        G = int(payload[N_WEIGHT_ROWS])
        KW = K + int(payload[HAS_NOISE])  # weights: the K components, then the noise
        NF = 1 if cov == TIED else K
        P = D * (D - 1) // 2
        alpha = payload[HEADER : HEADER + K]
        noise_alpha = payload[NOISE_CONCENTRATION]
        o_x = HEADER + K + P
        o_wrow = o_x + N * D
        o_case = o_wrow + 2 * N  # the label groups' column is not read here
        o_label = o_case + N
        o_noise = o_label + N
        t_mu = G * (KW - 1)
        t_sd = t_mu + K * D
        t_cpc = t_sd + (D if cov == TIED else (K if cov == SPHERICAL else K * D))
        t_df = t_cpc + (NF * P if cov == FULL or cov == TIED else 0)
        for q in range(dim):
            grad[q] = 0.0

        log_w = np.zeros((G, KW))
        logp = payload[CONSTANT] + _weights_and_prior(theta, alpha, noise_alpha, log_w)
        L = np.zeros((NF, D, D))
        C = np.zeros((NF, D, D))
        sd = np.zeros((NF, D))
        logp += _parameters_and_priors(
            theta,
            grad,
            cov,
            K,
            D,
            t_mu,
            t_sd,
            t_cpc,
            payload[MEAN_PRIOR_SD],
            payload[SCALE_PRIOR_SD],
            payload[HEADER + K : HEADER + K + P],
            L,
            C,
            sd,
        )
        nu = np.zeros(K)
        norm = np.zeros(K)  # the components' normalising constants, log|L| included
        for k in range(K):
            f = 0 if cov == TIED else k
            for a in range(D):
                norm[k] -= math.log(L[f, a, a])
        if STUDENT:
            logp += _df_prior(theta, grad, t_df, K, payload[DF_SHAPE], payload[DF_RATE], nu)
            for k in range(K):
                norm[k] += (
                    math.lgamma(0.5 * (nu[k] + D))
                    - math.lgamma(0.5 * nu[k])
                    - 0.5 * D * (math.log(nu[k]) + LOG_PI)
                )
        else:
            for k in range(K):
                norm[k] -= D * HALF_LOG_2PI

        # one pass over the rows: component terms, responsibilities, their sums
        v = np.zeros((K, D))
        qs = np.zeros(K)  # each component's quadratic form q
        term = np.zeros(KW)  # log w + log p of each component, then its share
        g_log_w = np.zeros((G, KW))
        av = np.zeros((K, D))
        M = np.zeros((NF, D, D))
        n_k = np.zeros(NF)
        for i in range(N):
            g = int(payload[o_wrow + i])
            label = int(payload[o_label + i])  # -1: unlabelled, else the row's component
            top = -np.inf
            for k in range(KW):
                if label >= 0 and label != k:
                    term[k] = -np.inf
                    continue
                if k == K:  # the noise component
                    term[k] = log_w[g, k] + payload[o_noise + i]
                else:
                    f = 0 if cov == TIED else k
                    q = 0.0
                    for a in range(D):
                        s = payload[o_x + i * D + a] - theta[t_mu + k * D + a]
                        for b in range(a):
                            s -= L[f, a, b] * v[k, b]
                        v[k, a] = s / L[f, a, a]
                        q += v[k, a] * v[k, a]
                    qs[k] = q
                    if STUDENT:
                        log_kernel = -0.5 * (nu[k] + D) * math.log1p(q / nu[k])
                    else:
                        log_kernel = -0.5 * q
                    term[k] = log_w[g, k] + norm[k] + log_kernel
                if term[k] > top:
                    top = term[k]
            z = 0.0
            for k in range(KW):
                term[k] = math.exp(term[k] - top)
                z += term[k]
            weight = payload[o_case + i]
            logp += weight * (top + math.log(z))
            for k in range(KW):
                r = term[k] * weight / z
                g_log_w[g, k] += r
                if k == K or r == 0.0:
                    continue
                f = 0 if cov == TIED else k
                n_k[f] += r
                ru = r * (nu[k] + D) / (nu[k] + qs[k]) if STUDENT else r
                for a in range(D):
                    av[k, a] += ru * v[k, a]
                    for b in range(a + 1):
                        M[f, a, b] += ru * v[k, a] * v[k, b]
                if STUDENT:
                    grad[t_df + k] += r * nu[k] * _df_grad(nu[k], D, qs[k])
        _weights_grad(alpha, noise_alpha, log_w, g_log_w, grad)

        # means: L^{-T} av; factors: H = L^{-T} (M_sym - n I), whose lower part is d/dL
        H = np.zeros((D, D))
        for k in range(K):
            f = 0 if cov == TIED else k
            for a in range(D - 1, -1, -1):
                s = av[k, a]
                for m in range(a + 1, D):
                    s -= L[f, m, a] * av[k, m]
                av[k, a] = s / L[f, a, a]
                grad[t_mu + k * D + a] += av[k, a]
        for f in range(NF):
            for j in range(D):
                for a in range(D - 1, -1, -1):
                    s = (M[f, a, j] if j <= a else M[f, j, a]) - (n_k[f] if a == j else 0.0)
                    for m in range(a + 1, D):
                        s -= L[f, m, a] * H[m, j]
                    H[a, j] = s / L[f, a, a]
            _factor_grad(theta, grad, cov, D, t_sd, t_cpc, f, H, C, sd)
        logp_[0] = logp
        if not np.isfinite(logp):
            return 4
        for q in range(dim):
            if not np.isfinite(grad[q]):
                return 3
        return 0

    return logp_callback


def _make_general(student: bool):
    """The general variant: rows with missing entries (by missingness pattern) and shared
    labels (one label per group of rows), in passes over all rows."""
    STUDENT = student

    def logp_callback(dim, x_, out_, logp_, payload_):  # pragma: no cover - in nutpie
        header = numba.carray(payload_, (HEADER,), dtype=np.float64)
        if dim != int(header[N_DIM]):
            return -1
        payload = numba.carray(payload_, (int(header[PAYLOAD_SIZE]),), dtype=np.float64)
        theta = numba.carray(x_, (dim,))
        grad = numba.carray(out_, (dim,))
        N = int(payload[N_OBS])
        D = int(payload[N_FEATURES])
        K = int(payload[N_COMPONENTS])
        cov = int(payload[COVARIANCE])
        G = int(payload[N_WEIGHT_ROWS])
        KW = K + int(payload[HAS_NOISE])  # weights: the K components, then the noise
        n_pat = int(payload[N_PATTERNS]) + 1
        NF = 1 if cov == TIED else K
        P = D * (D - 1) // 2
        alpha = payload[HEADER : HEADER + K]
        noise_alpha = payload[NOISE_CONCENTRATION]
        o_x = HEADER + K + P
        o_wrow = o_x + N * D
        o_group = o_wrow + N
        o_case = o_group + N
        o_label = o_case + N
        o_noise = o_label + N
        o_pattern = o_noise + N
        o_masks = o_pattern + N
        t_mu = G * (KW - 1)
        t_sd = t_mu + K * D
        t_cpc = t_sd + (D if cov == TIED else (K if cov == SPHERICAL else K * D))
        t_df = t_cpc + (NF * P if cov == FULL or cov == TIED else 0)
        for q in range(dim):
            grad[q] = 0.0

        log_w = np.zeros((G, KW))
        logp = payload[CONSTANT] + _weights_and_prior(theta, alpha, noise_alpha, log_w)
        L = np.zeros((NF, D, D))
        C = np.zeros((NF, D, D))
        sd = np.zeros((NF, D))
        logp += _parameters_and_priors(
            theta,
            grad,
            cov,
            K,
            D,
            t_mu,
            t_sd,
            t_cpc,
            payload[MEAN_PRIOR_SD],
            payload[SCALE_PRIOR_SD],
            payload[HEADER + K : HEADER + K + P],
            L,
            C,
            sd,
        )
        nu = np.zeros(K)
        if STUDENT:
            logp += _df_prior(theta, grad, t_df, K, payload[DF_SHAPE], payload[DF_RATE], nu)

        # each missingness pattern p: its observed coordinates and L_o = J_o Q_o
        cols = np.zeros((n_pat, D))
        n_seen = np.zeros(n_pat)
        J = np.zeros((n_pat * NF, D, D))
        Q = np.zeros((n_pat * NF, D, D))
        log_det = np.zeros((n_pat, NF))
        for p in range(n_pat):
            d = 0
            for a in range(D):
                if p == 0 or payload[o_masks + (p - 1) * D + a] != 0.0:
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

        # component log-densities lp, whitened residuals V, quadratic forms qs
        lp = np.zeros((N, KW))
        V = np.zeros((N, K, D))
        qs = np.zeros((N, K))
        for i in range(N):
            p = int(payload[o_pattern + i])
            d = int(n_seen[p])
            for k in range(K):
                f = 0 if cov == TIED else k
                pf = p * NF + f
                q = 0.0
                for a in range(d):
                    s = payload[o_x + i * D + a] - theta[t_mu + k * D + int(cols[p, a])]
                    for b in range(a):
                        s -= J[pf, a, b] * V[i, k, b]
                    V[i, k, a] = s / J[pf, a, a]
                    q += V[i, k, a] * V[i, k, a]
                qs[i, k] = q
                if STUDENT:
                    lp[i, k] = (
                        math.lgamma(0.5 * (nu[k] + d))
                        - math.lgamma(0.5 * nu[k])
                        - 0.5 * d * (math.log(nu[k]) + LOG_PI)
                        - 0.5 * (nu[k] + d) * math.log1p(q / nu[k])
                        - log_det[p, f]
                    )
                else:
                    lp[i, k] = -0.5 * q - log_det[p, f] - d * HALF_LOG_2PI
            if KW > K:
                lp[i, K] = payload[o_noise + i]

        # the mixture over units: rows, or (shared labels) groups of rows whose log-density
        # is sum_{i in g} case_weight_i lp[i, k]; A[i, k] = d logp / d lp[i, k]
        grouped = payload[HAS_LABEL_GROUPS] != 0.0
        n_units = int(payload[N_LABEL_GROUPS]) if grouped else N
        unit_lp = np.zeros((n_units, KW))
        for i in range(N):
            u = int(payload[o_group + i]) if grouped else i
            for k in range(KW):
                unit_lp[u, k] += (payload[o_case + i] if grouped else 1.0) * lp[i, k]
        unit_r = np.zeros((n_units, KW))
        g_log_w = np.zeros((G, KW))
        term = np.zeros(KW)
        for u in range(n_units):
            g = 0 if grouped else int(payload[o_wrow + u])
            label = -1 if grouped else int(payload[o_label + u])  # -1: unlabelled
            weight = 1.0 if grouped else payload[o_case + u]
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
        _weights_grad(alpha, noise_alpha, log_w, g_log_w, grad)

        # sums over rows by pattern: av = sum a u v, M = sum a u v v^T (lower), n = sum a
        av = np.zeros((n_pat * K, D))
        M = np.zeros((n_pat * NF, D, D))
        n_k = np.zeros((n_pat, NF))
        for i in range(N):
            p = int(payload[o_pattern + i])
            d = int(n_seen[p])
            for k in range(K):
                if grouped:
                    a_ik = unit_r[int(payload[o_group + i]), k] * payload[o_case + i]
                else:
                    a_ik = unit_r[i, k]
                if a_ik == 0.0:
                    continue
                f = 0 if cov == TIED else k
                n_k[p, f] += a_ik
                au = a_ik * (nu[k] + d) / (nu[k] + qs[i, k]) if STUDENT else a_ik
                for a in range(d):
                    av[p * K + k, a] += au * V[i, k, a]
                    for b in range(a + 1):
                        M[p * NF + f, a, b] += au * V[i, k, a] * V[i, k, b]
                if STUDENT:
                    grad[t_df + k] += a_ik * nu[k] * _df_grad(nu[k], d, qs[i, k])

        # means: J_o^{-T} av by back-substitution, into the observed coordinates
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

        # factors: H = J_o^{-T} (M_sym - n I) Q_o, added into rows o of GL = d logp / d L
        GL = np.zeros((D, D))
        H = np.zeros((D, D))
        for f in range(NF):
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
            _factor_grad(theta, grad, cov, D, t_sd, t_cpc, f, GL, C, sd)
        logp_[0] = logp
        if not np.isfinite(logp):
            return 4
        for q in range(dim):
            if not np.isfinite(grad[q]):
                return 3
        return 0

    return logp_callback


@functools.cache
def callbacks(general: bool = False, student: bool = False) -> tuple:
    """The C callbacks nutpie calls for one variant: (logp, expand), compiled on first use
    or loaded from Numba's disk cache (see ``compiling.py``)."""
    make = _make_general if general else _make_complete
    logp = numba.cfunc(LOGP_SIGNATURE, cache=True, error_model="numpy", fastmath=_FASTMATH)
    return logp(make(student)), expand_cfunc()
