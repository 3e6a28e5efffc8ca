"""Log-density and gradient of MixtureRegression's model, in Numba, on one flat payload.

A pure function of (unconstrained parameters ``theta``, ``payload``): ``theta`` is PyMC's own
value vector of the model (``model.value_vars`` order, transforms and Jacobians included);
``payload`` is one float64 buffer laid out by ``REGRESSION`` (packed by
:mod:`bayesmixture.estimators._fast.regression`): a header of sizes, option codes, prior
scales and the constant part of the log-density; the weights' block
(:mod:`bayesmixture._kernels.weights`); y, its observation-only term and the trials per row;
the design, one (N, P) table or one per component (K, N, P); the gate inputs (N, G); each
row's known component (partly labelled rows; -1 when unlabelled).

theta holds, in this order: the weights (the weights' block, or ``gate_coefficients`` of
shape (G + 1, K) with covariate-dependent weights), ``beta`` (P, or (K, P)), ``alpha`` (K,
with an intercept), then the family's own parameters: ``sigma_log__`` (K, 1 or none for a
known noise sd) for the normal family, ``dispersion_log__`` (K) for the negative binomial.

With eta_ik = x_ik . beta_k + alpha_k the linear predictor, each family gives
log p_k(y_i) and its score s_ik = d log p_k(y_i) / d eta_ik (:mod:`._glm`); with r_ik the
responsibilities the mixture's gradient is

    d/d eta_ik = r_ik s_ik,   d/d logit_ik = r_ik - w_ik  (gated weights),
    d/d log w_k = sum_i r_ik  (constant weights),

then the chain rule to beta, alpha, the gate coefficients and the weights' block; a family
parameter theta_k gets sum_i r_ik d log p_k(y_i) / d theta_k. A labelled row of class c
contributes log w_ic + log p_c(y_i) alone: its responsibilities are 1 for c and 0 for the
others (whose terms are not computed), and the formulas above hold as they are. One pass
over the rows, no allocation per row.
"""

from __future__ import annotations

import functools
import math

import numba
import numpy as np

from bayesmixture._kernels._glm import (
    BINOMIAL,
    N_FAMILY_TERMS,
    NEGBINOMIAL,
    NORMAL,
    POISSON,
    component_term,
    negbinomial_terms,
    normal_terms,
)
from bayesmixture._kernels.callbacks import (
    compile_logp,
    expand_cfunc,
    finish,
    open_payload,
    source_stamp,
    wrong_length,
)
from bayesmixture._kernels.payload import CONSTANT, Layout, section
from bayesmixture._kernels.weights import add_weights_grad, log_weights, n_params

__all__ = ["BINOMIAL", "NEGBINOMIAL", "NORMAL", "POISSON", "REGRESSION", "callbacks"]

# Noise codes of the normal family: one sd per component, one shared sd, a known sd.
NOISE_COMPONENT, NOISE_SHARED, NOISE_FIXED = 0, 1, 2

REGRESSION = Layout(
    "regression",
    header=(
        "n_obs",
        "n_components",
        "n_coef",
        "n_gate",  # gate inputs (0: constant weights)
        "n_designs",  # 1, or one design per component (K)
        "shared_coef",  # one coefficient vector for every component
        "intercept",
        "family",  # NORMAL, POISSON, NEGBINOMIAL or BINOMIAL
        "noise",  # the normal family's NOISE_ code
        "fixed_sigma",  # a known noise sd (NOISE_FIXED), in model units
        "coef_prior_sd",
        "noise_prior_sd",
        "gate_prior_sd",
        "dispersion_shape",  # Gamma(shape, rate) of the negative binomial's dispersion
        "dispersion_rate",
    ),
    sections=(
        ("weights", None),  # empty with a gate
        ("y", ("n_obs",)),
        ("y_term", ("n_obs",)),  # -log y! (counts), log binom(n, y) (binomial), or 0
        ("trials", ("n_obs",)),
        ("design", ("n_designs", "n_obs", "n_coef")),
        ("gate", ("n_obs", "n_gate")),
        ("known", ("n_obs",)),  # each row's known component, -1 when unlabelled
    ),
)
SLOT, OFFSET = REGRESSION.slot, REGRESSION.offset

_jit = numba.njit(nogil=True, error_model="numpy")
_inline = numba.njit(inline="always", error_model="numpy")


@_inline
def n_family_params(family: int, noise: int, n_components: int) -> int:
    """Length of theta's last block: the noise sds or the dispersions."""
    if family == NEGBINOMIAL:
        return n_components
    if family != NORMAL or noise == NOISE_FIXED:
        return 0
    return n_components if noise == NOISE_COMPONENT else 1


@_inline
def logp_and_grad(theta, payload, grad, family, stick_breaking):
    """Log-density of MixtureRegression's model at ``theta``; writes its gradient to ``grad``.
    ``family`` and ``stick_breaking`` are the variant's (constants of the compiled code)."""
    K = int(payload[SLOT.n_components])
    P = int(payload[SLOT.n_coef])
    gated = payload[SLOT.n_gate] > 0.0
    shared = payload[SLOT.shared_coef] != 0.0
    block = payload[int(payload[OFFSET.weights]) :]
    # where each block sits in theta
    n_weights = (int(payload[SLOT.n_gate]) + 1) * K if gated else n_params(block)
    beta_start = n_weights
    alpha_start = beta_start + (P if shared else K * P)
    family_start = alpha_start + (K if payload[SLOT.intercept] != 0.0 else 0)
    for q in range(grad.shape[0]):
        grad[q] = 0.0
    logp = payload[CONSTANT]
    log_w = np.zeros((1, K))
    if gated:
        logp += _normal_priors(theta, 0, n_weights, payload[SLOT.gate_prior_sd], grad)
    else:
        logp += log_weights(theta, 0, block, log_w, stick_breaking)
    logp += _normal_priors(
        theta, beta_start, family_start - beta_start, payload[SLOT.coef_prior_sd], grad
    )
    # the family's parameters per component: sigma or dispersion, and their priors
    params = np.zeros((K, N_FAMILY_TERMS))
    logp += _family_parameters(theta, payload, family, family_start, grad, params)
    g_log_w = np.zeros((1, K))
    g_params = np.zeros(K)
    logp += _rows(
        theta, payload, grad, family, beta_start, alpha_start, params, log_w, g_log_w, g_params
    )
    _family_grad(payload, family, family_start, params, g_params, grad)
    if not gated:
        add_weights_grad(theta, 0, block, log_w, g_log_w, grad, stick_breaking)
    return logp


@_inline
def _normal_priors(theta, start, size, sd, grad) -> float:
    """Normal(0, sd) priors of theta[start : start + size], without their constant."""
    logp = 0.0
    inv_var = 1.0 / (sd * sd)
    for q in range(start, start + size):
        logp -= 0.5 * theta[q] * theta[q] * inv_var
        grad[q] = -theta[q] * inv_var
    return logp


@_inline
def _family_parameters(theta, payload, family, start, grad, params) -> float:
    """Each component's family terms (``_glm``) in ``params``, and the priors of theta's
    last block with their gradients: HalfNormal(noise_prior_sd) on log sigma (the normal
    family), Gamma(shape, rate) on log alpha (the negative binomial's dispersion)."""
    K = params.shape[0]
    logp = 0.0
    if family == NEGBINOMIAL:
        shape, rate = payload[SLOT.dispersion_shape], payload[SLOT.dispersion_rate]
        for k in range(K):
            u = theta[start + k]
            alpha = math.exp(u)
            logp += shape * u - rate * alpha
            grad[start + k] = shape - rate * alpha
            negbinomial_terms(alpha, params[k])
    elif family == NORMAL:
        noise = int(payload[SLOT.noise])
        s0 = payload[SLOT.noise_prior_sd]
        for q in range(start, start + n_family_params(family, noise, K)):
            s = math.exp(theta[q])
            logp += theta[q] - 0.5 * (s / s0) ** 2
            grad[q] = 1.0 - (s / s0) ** 2
        for k in range(K):
            if noise == NOISE_FIXED:
                sigma = payload[SLOT.fixed_sigma]
            else:
                sigma = math.exp(theta[start + (k if noise == NOISE_COMPONENT else 0)])
            normal_terms(sigma, params[k])
    return logp


def _rows_of(family: int):
    """The pass over the rows of one family, compiled on its own (see ``_rows``)."""
    FAMILY = family

    def rows(theta, payload, grad, beta_start, alpha_start, params, log_w, g_log_w, g_params):
        """The rows' mixture terms; their gradient into grad (coefficients, intercepts,
        gate), g_log_w (constant weights) and g_params (d/d the family's parameter)."""
        N = int(payload[SLOT.n_obs])
        K = int(payload[SLOT.n_components])
        P = int(payload[SLOT.n_coef])
        G = int(payload[SLOT.n_gate])
        per_component = payload[SLOT.n_designs] > 1.0
        shared = payload[SLOT.shared_coef] != 0.0
        intercept = payload[SLOT.intercept] != 0.0
        # one linear predictor serves every component: one design and one coefficient vector
        common_mean = shared and not per_component
        y = section(payload, OFFSET.y, N)
        y_term = section(payload, OFFSET.y_term, N)
        trials = section(payload, OFFSET.trials, N)
        design = section(payload, OFFSET.design, int(payload[SLOT.n_designs]) * N * P)
        gate = section(payload, OFFSET.gate, N * G)
        known = section(payload, OFFSET.known, N)
        eta = np.empty(K)  # each component's linear predictor, then
        r = np.empty(K)  # its responsibility
        score = np.empty(K)  # d log p_k(y_i) / d eta_ik
        param_score = np.empty(K)  # d log p_k(y_i) / d (family parameter's unconstrained value)
        w = np.empty(K)
        logp = 0.0
        for i in range(N):
            if G > 0:
                _gate_log_weights(theta, gate, i, K, G, log_w[0], w)
            _linear_predictors(theta, payload, design, i, beta_start, alpha_start, eta)
            label = int(known[i])
            for k in range(K):
                if label >= 0 and k != label:  # a labelled row: its own class's term only
                    r[k], score[k], param_score[k] = -np.inf, 0.0, 0.0
                    continue
                lp, score[k], param_score[k] = component_term(
                    FAMILY, y[i], y_term[i], trials[i], eta[k], params[k]
                )
                r[k] = log_w[0, k] + lp
            logp += _log_sum_exp_to_shares(r)
            # gradient through the responsibilities r_ik
            common = 0.0
            for k in range(K):
                g_params[k] += r[k] * param_score[k]
                a = r[k] * score[k]
                if intercept:
                    grad[alpha_start + k] += a
                if common_mean:
                    common += a
                else:
                    row = ((k if per_component else 0) * N + i) * P
                    coef = beta_start + (0 if shared else k * P)
                    for j in range(P):
                        grad[coef + j] += a * design[row + j]
                if G > 0:
                    d_logit = r[k] - w[k]
                    grad[k] += d_logit
                    for j in range(G):
                        grad[(j + 1) * K + k] += d_logit * gate[i * G + j]
                else:
                    g_log_w[0, k] += r[k]
            if common_mean:
                for j in range(P):
                    grad[beta_start + j] += common * design[i * P + j]
        return logp

    rows.__qualname__ += f"_{FAMILY}"  # one name per family (see _make_callback)
    return _jit(rows)


# One pass over the rows per family: a variant compiles its own family's only.
_ROWS_NORMAL, _ROWS_POISSON = _rows_of(NORMAL), _rows_of(POISSON)
_ROWS_NEGBINOMIAL, _ROWS_BINOMIAL = _rows_of(NEGBINOMIAL), _rows_of(BINOMIAL)


@_inline
def _rows(theta, payload, grad, family, beta_start, alpha_start, params, log_w, g_log_w, g_params):
    """The pass over the rows of ``family`` (a constant of the variant): log-likelihood."""
    if family == NORMAL:
        rows = _ROWS_NORMAL
    elif family == POISSON:
        rows = _ROWS_POISSON
    elif family == NEGBINOMIAL:
        rows = _ROWS_NEGBINOMIAL
    else:
        rows = _ROWS_BINOMIAL
    return rows(theta, payload, grad, beta_start, alpha_start, params, log_w, g_log_w, g_params)


@_inline
def _linear_predictors(theta, payload, design, i, beta_start, alpha_start, eta) -> None:
    """eta_ik = x_ik . beta_k (+ alpha_k) of row i, for every component k."""
    N = int(payload[SLOT.n_obs])
    P = int(payload[SLOT.n_coef])
    per_component = payload[SLOT.n_designs] > 1.0
    shared = payload[SLOT.shared_coef] != 0.0
    for k in range(eta.shape[0]):
        if k == 0 or per_component or not shared:
            row = ((k if per_component else 0) * N + i) * P
            coef = beta_start + (0 if shared else k * P)
            eta[k] = 0.0
            for j in range(P):
                eta[k] += design[row + j] * theta[coef + j]
        else:  # one design and one coefficient vector: one predictor for every component
            eta[k] = eta[0]
    if payload[SLOT.intercept] != 0.0:
        for k in range(eta.shape[0]):
            eta[k] += theta[alpha_start + k]


@_inline
def _log_sum_exp_to_shares(terms) -> float:
    """log sum_k exp(terms_k); ``terms`` then holds exp(terms_k) / sum (the shares)."""
    top = -np.inf
    for k in range(terms.shape[0]):
        top = max(top, terms[k])
    z = 0.0
    for k in range(terms.shape[0]):
        terms[k] = math.exp(terms[k] - top)
        z += terms[k]
    for k in range(terms.shape[0]):
        terms[k] /= z
    return top + math.log(z)


@_inline
def _gate_log_weights(theta, gate, i, K, G, log_w, w) -> None:
    """log w and w of row i: the log-softmax of gamma[0] + x_gate_i . gamma[1:]."""
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


@_inline
def _family_grad(payload, family, start, params, g_params, grad) -> None:
    """Add the likelihood's gradient of the family's parameters (per component, or one
    shared noise sd) to theta's last block."""
    K = params.shape[0]
    size = n_family_params(family, int(payload[SLOT.noise]), K)
    if size == K:
        for k in range(K):
            grad[start + k] += g_params[k]
    elif size == 1:
        for k in range(K):
            grad[start] += g_params[k]


def _make_callback(family: int, stick_breaking: bool, stamp: int):
    FAMILY, STICK_BREAKING, STAMP = family, stick_breaking, stamp

    def logp_callback(dim, x_, out_, logp_, payload_):  # pragma: no cover - runs inside nutpie
        payload = open_payload(payload_)
        if wrong_length(dim, payload, STAMP):
            return -1
        grad = numba.carray(out_, (dim,))
        value = logp_and_grad(numba.carray(x_, (dim,)), payload, grad, FAMILY, STICK_BREAKING)
        return finish(value, grad, logp_)

    # One name per variant: Numba names compiled code ``qualname$n`` with n counted per
    # process, and variants compiled in different processes (warm.py, a fit's background
    # compile) are loaded from the disk cache into one, where a name shared by two variants
    # resolves to whichever was loaded first. Each variant also gets its own cache index,
    # which no two processes compiling different variants then write at once.
    logp_callback.__qualname__ += f"_{FAMILY}_{int(STICK_BREAKING)}"
    return logp_callback


@functools.cache
def callbacks(family: int = NORMAL, stick_breaking: bool = False) -> tuple:
    """The C callbacks nutpie calls for one variant (a family code, stick-breaking weights or
    not): (logp, expand), compiled on first use or loaded from Numba's disk cache (see
    ``compiling.py``)."""
    logp = _make_callback(int(family), bool(stick_breaking), source_stamp())
    return compile_logp(logp), expand_cfunc()
