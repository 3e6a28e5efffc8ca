"""Special functions and constants the kernels share, in Numba (inlined into each kernel).

``math.lgamma`` serves the log-gamma function (Numba compiles it to the C library's); what
the C library lacks is here: the digamma function, a log-sigmoid that never overflows, and
PyMC's ``logpow`` convention.
"""

from __future__ import annotations

import math

import numba
import numpy as np

HALF_LOG_2PI = 0.5 * math.log(2.0 * math.pi)
LOG_PI = math.log(math.pi)
# Above this dispersion PyMC's NegativeBinomial is its Poisson limit.
NEGBINOMIAL_POISSON_ALPHA = 1e10
# digamma: shift the argument above 10, then psi(x) ~ log x - 1 / (2x) - sum_n c_n / x^(2n)
# with c_n = B_2n / (2n), n = 1..7 (the next term is below 1e-16 there).
_DIGAMMA_SHIFT = 10.0
_DIGAMMA_SERIES = (1 / 12, -1 / 120, 1 / 252, -1 / 240, 1 / 132, -691 / 32760, 1 / 12)

# Inlined at Numba's IR level into the kernel that calls them: compiled as separate functions
# they would add to every kernel's first compile.
_jit = numba.njit(inline="always", error_model="numpy")


@_jit
def digamma(x: float) -> float:
    """psi(x) for x > 0 (NaN otherwise): recurrence psi(x) = psi(x + 1) - 1/x, then the
    asymptotic series."""
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
def log_sigmoid(u: float) -> float:
    """log(1 / (1 + exp(-u))), without overflow."""
    return -math.log1p(math.exp(-u)) if u > -30.0 else u - math.log1p(math.exp(u))


@_jit
def logpow(log_x: float, x: float, m: float) -> float:
    """PyMC's logpow, log(x^m) = m log x, with log(0^0) = 0 and log(0^m) = -inf."""
    if x == 0.0:
        return 0.0 if m == 0.0 else -np.inf
    return m * log_x


@_jit
def log_add_exp(a: float, b: float) -> float:
    """log(exp(a) + exp(b)) without overflow (-inf when both are)."""
    top = max(a, b)
    if top == -np.inf:
        return top
    return top + math.log(math.exp(a - top) + math.exp(b - top))
