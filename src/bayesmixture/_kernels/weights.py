"""The mixture weights' block of every kernel: their prior, its transforms' Jacobians, gradient.

A kernel's parameter vector theta starts with the weights' block, in PyMC's order; its
payload holds a weights section laid out by :data:`WEIGHTS` (packed by :func:`pack`). Two
kinds:

- ``DIRICHLET``: ``n_rows`` rows of weights (one per group), each Dirichlet(alpha) on PyMC's
  simplex transform, w = softmax([y, -sum y]). With the Jacobian the prior is
  sum_k alpha_k log w_k + const. Optionally a noise component's weight pi after the K
  components (log-odds u, Beta(noise_alpha, sum alpha)): log w_k = log(1 - pi) + log w~_k,
  log w_K = log pi, by the Dirichlet's aggregation property the prior Dirichlet(alpha,
  noise_alpha). theta: the rows' K - 1 simplex values each, then u.
- ``STICK_BREAKING``: PyMC's ``StickBreakingWeights`` truncated at K weights (K - 1 sticks)
  with concentration c ~ Gamma(shape, rate) on its log. theta: log c, then the K - 1 simplex
  values of w. With T_j = sum_{m >= j} w_m (T_0 = 1), PyMC's density with the Jacobians is

      (K - 1) log c + c log w_{K-1} - sum_j log T_j + sum_k log w_k
      + shape log c - rate c + const,

  the tail sums taken in log space (no underflow when the last weights are tiny).

Each kernel gets d logp / d log w_gk of its likelihood (``g_log_w``) and hands it to
:func:`add_weights_grad`, which adds the prior's and goes through the transforms. The kind is
also a flag of the kernel's variant (a constant of its compiled code): a fit with Dirichlet
weights compiles no stick-breaking code, and the other way round.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from bayesmixture._kernels.payload import Layout
from bayesmixture._kernels.special import log_add_exp, log_sigmoid

DIRICHLET, STICK_BREAKING = 0, 1
WEIGHTS = Layout(
    "weights",
    header=(
        "kind",
        "n_rows",
        "n_components",
        "noise",
        "noise_concentration",
        "concentration_shape",
        "concentration_rate",
    ),
    sections=(("alpha", ("n_components",)),),
    common=False,
)
_S, _O = WEIGHTS.slot, WEIGHTS.offset

# Small helpers are inlined at Numba's IR level into the function that calls them; the two
# entry points are compiled once per kind (``_piece``): the untyped stage of an inlined
# function runs before a caller's constants prune it, so inlining both kinds would cost the
# compile time of both.
_jit = numba.njit(inline="always", error_model="numpy")
_piece = numba.njit(error_model="numpy")


# ------------------------------------------------------------------ packing (numpy)


def pack(
    kind: int,
    n_components: int,
    *,
    alpha=None,
    n_rows: int = 1,
    noise_concentration: float | None = None,
    concentration_prior: tuple[float, float] = (1.0, 1.0),
) -> tuple[np.ndarray, float]:
    """The weights section of a payload, and the constant part of the weights' log prior.

    ``alpha`` (K,) is the Dirichlet concentration; ``noise_concentration`` adds a noise
    weight; ``concentration_prior`` is the stick-breaking concentration's Gamma (shape, rate).
    """
    K = int(n_components)
    log_k = math.log(K)  # both transforms' Jacobians: log K + sum_k log w_k
    if kind == STICK_BREAKING:  # the kernel reads alpha = 1: the Jacobian's sum_k log w_k
        if n_rows != 1 or noise_concentration is not None:
            raise ValueError("stick-breaking weights take one row of weights and no noise.")
        shape, rate = (float(v) for v in concentration_prior)
        header = {"concentration_shape": shape, "concentration_rate": rate}
        constant = shape * math.log(rate) - math.lgamma(shape) + log_k
        alpha = np.ones(K)
    else:
        alpha = np.asarray(alpha, dtype=float)
        header = {}
        constant = n_rows * (math.lgamma(alpha.sum()) - sum(math.lgamma(a) for a in alpha) + log_k)
        if noise_concentration is not None:  # Beta(noise_alpha, sum alpha): minus log B(a, b)
            a, b = float(noise_concentration), float(alpha.sum())
            constant += math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b)
            header = {"noise": 1.0, "noise_concentration": a}
    header.update(kind=kind, n_rows=n_rows, n_components=K)
    return WEIGHTS.pack(header, {"alpha": alpha}), constant


def n_params_of(kind: int, n_components: int, n_rows: int = 1, noise: bool = False) -> int:
    """Length of the weights' block of theta."""
    if kind == STICK_BREAKING:
        return n_components
    return n_rows * (n_components - 1) + int(noise)


# ------------------------------------------------------------------ the kernel's piece


@_jit
def n_weights(block) -> int:
    """Weights per row: the K components, and the noise component if any."""
    return int(block[_S.n_components]) + int(block[_S.noise])


@_jit
def n_rows(block) -> int:
    return int(block[_S.n_rows])


@_jit
def n_params(block) -> int:
    """Length of the weights' block of theta (see :func:`n_params_of`)."""
    K = int(block[_S.n_components])
    if int(block[_S.kind]) == STICK_BREAKING:
        return K
    return int(block[_S.n_rows]) * (K - 1) + int(block[_S.noise])


@_jit
def _log_softmax(theta, t, K, log_w_row) -> None:
    """log w = log softmax([y, -sum y]) of the K - 1 simplex values at theta[t:]."""
    total = 0.0
    top = -np.inf
    for k in range(K - 1):
        total += theta[t + k]
        top = max(top, theta[t + k])
    top = max(top, -total)
    z = math.exp(-total - top)
    for k in range(K - 1):
        z += math.exp(theta[t + k] - top)
    lz = top + math.log(z)
    for k in range(K):
        log_w_row[k] = (theta[t + k] if k < K - 1 else -total) - lz


@_jit
def _simplex_grad(t, log_w_row, log_rest, h, grad) -> None:
    """Chain rule from h_k = d logp / d log w_k to the simplex values at grad[t:]:
    d/d a_j = h_j - w_j sum_k h_k with a = [y, -sum y], and d/d y_j = d/d a_j - d/d a_last;
    w_k = exp(log_w_k - log_rest), the K weights' shares (summing to one)."""
    K = h.shape[0]
    total = 0.0
    for k in range(K):
        total += h[k]
    last = h[K - 1] - math.exp(log_w_row[K - 1] - log_rest) * total
    for k in range(K - 1):
        grad[t + k] = h[k] - math.exp(log_w_row[k] - log_rest) * total - last


@_jit
def _log_tails(log_w_row, log_tail) -> None:
    """log T_j = log sum_{m >= j} w_m, from the last weight back."""
    K = log_w_row.shape[0]
    log_tail[K - 1] = log_w_row[K - 1]
    for j in range(K - 2, -1, -1):
        log_tail[j] = log_add_exp(log_tail[j + 1], log_w_row[j])


def _named_for(function, stick_breaking: bool):
    """``function`` named after its kind. Numba names compiled code ``qualname$n`` with n
    counted per process, and kernels compiled in different processes (``warm.py``, a fit's
    background compile) are loaded from the disk cache into one: two kinds under one name
    would resolve to whichever was loaded first."""
    function.__qualname__ += "_stick_breaking" if stick_breaking else "_dirichlet"
    return function


def _log_weights_of(stick_breaking: bool):
    """``log_weights`` of one kind of weights, compiled on its own."""
    STICK_BREAKING = stick_breaking

    def log_weights(theta, t0, block, log_w) -> float:
        K = int(block[_S.n_components])
        alpha = block[int(block[_O.alpha]) :]
        t = t0 + 1 if STICK_BREAKING else t0  # the concentration's log comes first
        G = log_w.shape[0]
        logp = 0.0
        for g in range(G):
            _log_softmax(theta, t + g * (K - 1), K, log_w[g])
            for k in range(K):
                logp += alpha[k] * log_w[g, k]  # alpha is 1 for stick-breaking weights
        if STICK_BREAKING:  # (K - 1) log c + c log w_{K-1} - sum_j log T_j, Gamma prior of c
            u = theta[t0]
            c = math.exp(u)
            logp += block[_S.concentration_shape] * u - block[_S.concentration_rate] * c
            logp += (K - 1) * u + c * log_w[0, K - 1]
            log_tail = np.empty(K)
            _log_tails(log_w[0], log_tail)
            for j in range(K):
                logp -= log_tail[j]
        elif int(block[_S.noise]):
            u = theta[t + G * (K - 1)]
            log_pi, log_rest = log_sigmoid(u), log_sigmoid(-u)
            alpha_sum = 0.0
            for k in range(K):
                alpha_sum += alpha[k]
            for g in range(G):
                for k in range(K):
                    log_w[g, k] += log_rest
                log_w[g, K] = log_pi
            logp += block[_S.noise_concentration] * log_pi + alpha_sum * log_rest
        return logp

    return _piece(_named_for(log_weights, stick_breaking))


def _add_weights_grad_of(stick_breaking: bool):
    """``add_weights_grad`` of one kind of weights, compiled on its own."""
    STICK_BREAKING = stick_breaking

    def add_weights_grad(theta, t0, block, log_w, g_log_w, grad) -> None:
        """The gradient of the weights' block (see :func:`add_weights_grad`).

        Dirichlet: d/d log w~_k = g_k + alpha_k (w~: the clusters' shares); the noise weight's
        log-odds u gets (noise_alpha + sum_g g_gK)(1 - pi) - pi sum_g,k (g_gk + alpha_k).
        Stick-breaking: d/d log c = shape - rate c + (K - 1) + c log w_{K-1}, and
        d/d log w_k = g_k + 1 + [k = K-1] c - w_k sum_{j <= k} 1 / T_j.
        """
        K = int(block[_S.n_components])
        alpha = block[int(block[_O.alpha]) :]
        noise = int(block[_S.noise]) != 0
        t = t0 + 1 if STICK_BREAKING else t0
        G = log_w.shape[0]
        h = np.empty(K)
        pi = math.exp(log_w[0, K]) if noise else 0.0
        log_rest = math.log1p(-pi)
        pi_grad = block[_S.noise_concentration] * (1.0 - pi)
        for k in range(K):
            pi_grad -= pi * alpha[k]
        for g in range(G):
            for k in range(K):
                h[k] = g_log_w[g, k] + alpha[k]
                pi_grad -= pi * g_log_w[g, k]
            if STICK_BREAKING:
                c = math.exp(theta[t0])
                shape, rate = block[_S.concentration_shape], block[_S.concentration_rate]
                grad[t0] = shape - rate * c + (K - 1) + c * log_w[0, K - 1]
                log_tail = np.empty(K)
                _log_tails(log_w[0], log_tail)
                for k in range(K):
                    for j in range(k + 1):  # w_k / T_j <= 1: no overflow however small the tail
                        h[k] -= math.exp(log_w[0, k] - log_tail[j])
                h[K - 1] += c
            elif noise:
                pi_grad += g_log_w[g, K] * (1.0 - pi)
            _simplex_grad(t + g * (K - 1), log_w[g], log_rest, h, grad)
        if noise:
            grad[t + G * (K - 1)] = pi_grad

    return _piece(_named_for(add_weights_grad, stick_breaking))


# Each kind of weights compiled on its own, once per process; a kernel's variant calls its
# kind's only (``stick_breaking`` is a constant of the variant's code).
_DIRICHLET_LOG_WEIGHTS, _STICK_BREAKING_LOG_WEIGHTS = _log_weights_of(False), _log_weights_of(True)
_DIRICHLET_ADD_GRAD, _STICK_BREAKING_ADD_GRAD = (
    _add_weights_grad_of(False),
    _add_weights_grad_of(True),
)


@_jit
def log_weights(theta, t0, block, log_w, stick_breaking) -> float:
    """Fill log w (n_rows, n_weights) from theta[t0:]; return the weights' log prior with the
    transforms' Jacobians, less the constant :func:`pack` gives. ``stick_breaking`` must be
    a constant of the calling kernel's variant, and agree with the block's kind."""
    if stick_breaking:
        return _STICK_BREAKING_LOG_WEIGHTS(theta, t0, block, log_w)
    return _DIRICHLET_LOG_WEIGHTS(theta, t0, block, log_w)


@_jit
def add_weights_grad(theta, t0, block, log_w, g_log_w, grad, stick_breaking) -> None:
    """Write the gradient of the weights' block, grad[t0 : t0 + n_params(block)], from
    g_log_w = d logp / d log w (n_rows, n_weights) of the likelihood, the prior included.
    ``stick_breaking`` as in :func:`log_weights`."""
    if stick_breaking:
        _STICK_BREAKING_ADD_GRAD(theta, t0, block, log_w, g_log_w, grad)
    else:
        _DIRICHLET_ADD_GRAD(theta, t0, block, log_w, g_log_w, grad)
