"""The kernels' vectorisable exp, log and log1p equal NumPy's (the C library's) to 1 ulp over
the whole float64 range, with the same answers at 0, +-inf, NaN, overflow and underflow; and
they stay exact inside a caller compiled with fast-math flags (which they must not inherit).
"""

from __future__ import annotations

import math

import numba
import numpy as np
import pytest

from bayesmixture._kernels import fastmath

FUNCTIONS = {"exp": np.exp, "log": np.log, "log1p": np.log1p}


def _loop(name: str, flags):
    """A jitted loop over an array calling ``fastmath.<name>``, with the caller's flags."""
    function = getattr(fastmath, name)

    @numba.njit(error_model="numpy", fastmath=flags)
    def apply(x, out):
        for i in range(x.shape[0]):
            out[i] = function(x[i])

    return apply


def _arguments(name: str, rng) -> np.ndarray:
    """Arguments covering every range each function meets (finite, non-zero results)."""
    if name == "exp":  # normal results, subnormal ones, and the kernels' shifts (<= 0)
        return np.r_[
            rng.uniform(-708.3, 709.7, 200_000),
            rng.uniform(-745.0, -708.4, 20_000),
            rng.uniform(-40.0, 0.0, 100_000),
            rng.uniform(-1e-3, 1e-3, 10_000),
        ]
    if name == "log":  # every binade, subnormals, and the kernels' sums of shares (>= 1)
        return np.r_[
            np.exp(rng.uniform(-708.0, 709.0, 200_000)),
            rng.uniform(0.0, 1.0, 10_000) * 2.2e-308,
            rng.uniform(1.0, 8.0, 100_000),
            1.0 + rng.uniform(-1e-6, 1e-6, 10_000),
        ]
    return np.r_[  # log1p: tiny, moderate and huge arguments, and arguments near -1
        np.exp(rng.uniform(-700.0, 700.0, 200_000)),
        -np.exp(rng.uniform(-700.0, -1e-12, 100_000)),
        rng.uniform(-0.5, 0.5, 100_000),
    ]


@pytest.mark.parametrize("flags", [False, {"nsz", "arcp", "contract", "reassoc"}])
@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_agrees_with_numpy_to_one_ulp(rng, name, flags):
    x = _arguments(name, rng)
    out = np.empty_like(x)
    _loop(name, flags)(x, out)
    expected = FUNCTIONS[name](x)
    normal = np.abs(expected) >= np.finfo(float).tiny
    # range reduction and a polynomial accurate to ~5e-18 relative: the result is the
    # correctly rounded value or its neighbour (NumPy's, from the C library, likewise)
    ulps = np.abs(out[normal] - expected[normal]) / np.spacing(np.abs(expected[normal]))
    assert ulps.max() <= 1.0
    # a subnormal result: one ulp of the subnormal range (gradual underflow)
    np.testing.assert_allclose(out[~normal], expected[~normal], rtol=0, atol=5e-324)


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_special_values_as_numpy(name):
    x = np.r_[
        [0.0, -0.0, 1.0, -1.0, -2.0, np.inf, -np.inf, np.nan, 5e-324, 1e-310, 2.2e-308],
        [709.78, 709.79, 1e300, -745.1, -745.2, -1e300],  # overflow and underflow of exp
    ]
    out = np.empty_like(x)
    _loop(name, False)(x, out)
    with np.errstate(all="ignore"):
        expected = FUNCTIONS[name](x)
    # the same 0, inf and NaN (assert_array_equal matches NaN with NaN); finite non-zero
    # results to 1 ulp as above
    exact = ~np.isfinite(expected) | (expected == 0.0)
    np.testing.assert_array_equal(out[exact], expected[exact])
    np.testing.assert_allclose(out[~exact], expected[~exact], rtol=2.3e-16, atol=5e-324)


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_loops_calling_them_vectorise(name):
    # what they are for: a loop calling one compiles to packed SIMD arithmetic; the
    # machine's widest vector registers are ymm (AVX2) or zmm (AVX-512)
    apply = _loop(name, {"nsz", "arcp", "contract", "reassoc"})
    x = np.linspace(0.5, 2.0, 64)
    apply(x, np.empty_like(x))
    assembly = next(iter(apply.inspect_asm().values()))
    packed = ("vfmadd", "vmulpd", "vaddpd")
    lines = assembly.splitlines()
    assert any(op in line and ("ymm" in line or "zmm" in line) for line in lines for op in packed)


def test_exp_of_a_shift_by_the_largest_term_is_one():
    # the kernels' softmax computes exp(t - max t): the largest term must give exactly 1
    out = np.empty(1)
    _loop("exp", False)(np.zeros(1), out)
    assert out[0] == 1.0 == math.exp(0.0)
