"""exp and log that LLVM's loop vectoriser can take, for the kernels' passes over rows.

Numba compiles ``math.exp`` and ``math.log`` to calls of the C library's functions, and
without Intel's SVML (its wheel here has none) a call in a loop keeps the whole loop scalar:
one row at a time, the arithmetic around it included. These are the same functions written
as branch-free arithmetic on float64 and int64 (range reduction, a polynomial, the exponent
set through the bits), which the loop vectoriser turns into 4- or 8-wide SIMD code when the
loop around them has no other obstacle (no calls, no early exits, no data-dependent
branches: write ``a if c else b``, which becomes a select).

- :func:`exp`: x = k log 2 + r with |r| <= log(2) / 2 (Cody and Waite's two-part log 2, so
  that k log 2 is exact), exp(r) by its Taylor polynomial of degree 13 (truncation below
  5e-18 relative; Estrin's scheme), then 2^k in two factors so that results in the
  subnormal range underflow gradually as the C library's do. Overflow gives inf, -inf gives
  0, NaN gives NaN.
- :func:`log`: x = 2^e m with m in [sqrt(1/2), sqrt(2)), then fdlibm's log(m) = f - f^2/2
  + s (f^2/2 + R(s^2)) with f = m - 1, s = f / (2 + f) and its minimax R of degree 7 in
  s^2; subnormal arguments are scaled by 2^54 first. log(0) = -inf, log(x < 0) = NaN,
  log(inf) = inf.
- :func:`log1p`: log(1 + x) from :func:`log` of w = 1 + x, less the rounding of w.

All three agree with NumPy's to 1 ulp over the whole float64 range (``tests/test_fastmath.py``),
far inside the 1e-10 that holds the kernels equal to PyMC.

They are compiled as functions of their own with their fast-math flags set explicitly, to
contraction only (``a * b + c`` as one fused multiply-add, which rounds once): a Numba
function inherits its caller's flags unless it sets its own, and reassociating their
rounding tricks would undo them (exp would keep only its first digits). LLVM inlines them
into the loops that call them where the calling function is small (in a large one they stay
calls, and the loop scalar: keep the loops that call them in functions of their own); a loop
vectorises where the calling function may reassociate its sums (``fastmath={"reassoc",
...}``) or has no sum across iterations.
"""

from __future__ import annotations

import math

import numba
from llvmlite import ir
from numba.core import types
from numba.extending import intrinsic

# exp: k = round(x / log 2) by adding 1.5 * 2^52 (the sum's low bits are k), log 2 in two
# parts whose first has 11 trailing zero bits (k * LN2_HI is exact for |k| < 2^11).
_SHIFTER = 6755399441055744.0  # 1.5 * 2^52
_LOG2E = 1.4426950408889634
_LN2_HI = 6.93147180369123816490e-01
_LN2_LO = 1.90821492927058770002e-10
# Beyond these exp is 0 (below 2^-1075) or inf: clamping keeps k in the range of the
# two-factor scaling.
_EXP_LOWEST = -746.0
_EXP_HIGHEST = 710.0
# 1 / n! for n = 2..13
_INV_FACTORIAL = tuple(1.0 / math.factorial(n) for n in range(2, 14))

# log: fdlibm's e_log.c minimax coefficients of R(z) ~ log((1 + s) / (1 - s)) / s - 2.
_LG1 = 6.666666666666735130e-01
_LG2 = 3.999999999940941908e-01
_LG3 = 2.857142874366239149e-01
_LG4 = 2.222219843214978396e-01
_LG5 = 1.818357216161805012e-01
_LG6 = 1.531383769920937332e-01
_LG7 = 1.479819860511658591e-01
_SQRT2 = 1.4142135623730951
_SMALLEST_NORMAL = 2.2250738585072014e-308
_TWO54 = 18014398509481984.0
_MANTISSA = 0x000FFFFFFFFFFFFF
_ONE_BITS = 0x3FF0000000000000
# 2^52 + e as a float from the 11 exponent bits: OR them into the mantissa of 2^52
_TWO52_BITS = 0x4330000000000000
_TWO52 = 4503599627370496.0


@intrinsic
def _bits(typingctx, x):
    """The int64 whose bits are those of the float64 ``x``."""
    if not isinstance(x, types.Float):
        return None

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.IntType(64))

    return types.int64(types.float64), codegen


@intrinsic
def _float(typingctx, n):
    """The float64 whose bits are those of the int64 ``n``."""
    if not isinstance(n, types.Integer):
        return None

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.DoubleType())

    return types.float64(types.int64), codegen


# Contraction (a * b + c as one fused multiply-add) only: it keeps every rounding trick here
# intact (each rounds once instead of twice) and halves the polynomials' dependency chains.
_FLAGS = {"contract"}
_jit = numba.njit(nogil=True, error_model="numpy", fastmath=_FLAGS)
# log's body, inlined at Numba's IR level into log and log1p (so that log1p stays one small
# function that LLVM inlines into its callers' loops)
_body = numba.njit(inline="always", error_model="numpy", fastmath=_FLAGS)


@_jit
def exp(x: float) -> float:
    """e^x, branch free (see the module's docstring)."""
    x = min(max(x, _EXP_LOWEST), _EXP_HIGHEST)
    shifted = x * _LOG2E + _SHIFTER
    k = shifted - _SHIFTER  # round(x / log 2), as a float
    r = (x - k * _LN2_HI) - k * _LN2_LO
    # e^r = 1 + r + r^2 Q(r), Q(r) = sum_n r^(n-2) / n! for n = 2..13, by Estrin's scheme
    # (pairs, then powers r^2, r^4, r^8: a short dependency chain)
    c = _INV_FACTORIAL
    r2 = r * r
    r4 = r2 * r2
    r8 = r4 * r4
    q0 = (c[0] + c[1] * r) + (c[2] + c[3] * r) * r2
    q1 = (c[4] + c[5] * r) + (c[6] + c[7] * r) * r2
    q2 = (c[8] + c[9] * r) + (c[10] + c[11] * r) * r2
    p = 1.0 + (r + r2 * ((q0 + q1 * r4) + q2 * r8))
    n = _bits(shifted) - _bits(_SHIFTER)  # k as an int64
    half = n >> 1
    return p * _float((half + 1023) << 52) * _float((n - half + 1023) << 52)


@_jit
def log(x: float) -> float:
    """log x, branch free (see the module's docstring)."""
    return _log(x)


@_body
def _log(x: float) -> float:
    subnormal = x < _SMALLEST_NORMAL
    scaled = x * _TWO54 if subnormal else x
    bits = _bits(scaled)
    biased = (bits >> 52) & 0x7FF
    m = _float((bits & _MANTISSA) | _ONE_BITS)  # in [1, 2)
    e = _float(biased | _TWO52_BITS) - (_TWO52 + 1023.0)
    e = e - 54.0 if subnormal else e
    high = m > _SQRT2
    m = 0.5 * m if high else m
    e = e + 1.0 if high else e
    f = m - 1.0
    s = f / (2.0 + f)
    z = s * s
    w = z * z
    odd = z * (_LG1 + w * (_LG3 + w * (_LG5 + w * _LG7)))
    even = w * (_LG2 + w * (_LG4 + w * _LG6))
    half_f2 = 0.5 * f * f
    result = e * _LN2_HI - ((half_f2 - (s * (half_f2 + odd + even) + e * _LN2_LO)) - f)
    result = result if x < math.inf else x  # inf, and NaN stays NaN
    result = -math.inf if x == 0.0 else result
    return math.nan if x < 0.0 else result


@_jit
def log1p(x: float) -> float:
    """log(1 + x), accurate for small x: log w less the rounding of w = 1 + x, ((w - 1) - x) / w
    (exact in float64), to first order. Where that correction is undefined (x = -1, x
    huge, inf, NaN) log w itself is the answer. One select: more would keep LLVM from
    inlining it into the caller's loop."""
    w = 1.0 + x
    log_w = _log(w)
    corrected = log_w - ((w - 1.0) - x) / w
    return corrected if x > -1.0 and x < 1e300 else log_w
