"""What the three kernels share at their boundary with nutpie: the C signatures, the expand
callback, and calling a log-density callback from Python exactly as nutpie calls it."""

from __future__ import annotations

import ctypes
import functools

import numba
import numpy as np

# int64 logp(dim, x*, grad*, logp*, payload*): 0 on success, 3/4 for a non-finite
# gradient/log-density, -1 for a parameter vector of the wrong length.
LOGP_SIGNATURE = numba.types.int64(
    numba.types.uint64,
    numba.types.CPointer(numba.types.double),
    numba.types.CPointer(numba.types.double),
    numba.types.CPointer(numba.types.double),
    numba.types.voidptr,
)
# int64 expand(dim, n_out, x*, out*, payload*)
EXPAND_SIGNATURE = numba.types.int64(
    numba.types.uint64,
    numba.types.uint64,
    numba.types.CPointer(numba.types.double),
    numba.types.CPointer(numba.types.double),
    numba.types.voidptr,
)
_DOUBLE_P = ctypes.POINTER(ctypes.c_double)
_FAILURES = {-1: "the parameter vector has the wrong length", 3: "the gradient is not finite"}


def _expand(dim, expanded, x_, out_, payload_):  # pragma: no cover - runs inside nutpie
    """Store the unconstrained draw itself; constrained values are computed afterwards."""
    if dim != expanded:
        return -1
    x = numba.carray(x_, (dim,))
    out = numba.carray(out_, (expanded,))
    for q in range(dim):
        out[q] = x[q]
    return 0


@functools.cache
def expand_cfunc():
    """The expand callback every kernel hands to nutpie (compiled once, cached on disk)."""
    return numba.cfunc(EXPAND_SIGNATURE, cache=True)(_expand)


def call_logp(
    cfunc, theta: np.ndarray, payload: np.ndarray, n_dim: int
) -> tuple[float, np.ndarray]:
    """Log-density and gradient of the C callback ``cfunc`` at ``theta``, as nutpie calls it.

    A non-finite log-density comes back as it is (status 4); other failures raise
    ``ValueError``.
    """
    theta = np.ascontiguousarray(theta, dtype=np.float64)
    if theta.shape != (n_dim,):
        raise ValueError(f"theta has shape {theta.shape}; expected ({n_dim},).")
    payload = np.ascontiguousarray(payload, dtype=np.float64)
    grad = np.empty(n_dim)
    logp = np.empty(1)
    status = cfunc.ctypes(
        n_dim,
        theta.ctypes.data_as(_DOUBLE_P),
        grad.ctypes.data_as(_DOUBLE_P),
        logp.ctypes.data_as(_DOUBLE_P),
        payload.ctypes.data_as(ctypes.c_void_p),
    )
    if status not in (0, 4):
        raise ValueError(f"the density failed with status {status}: {_FAILURES.get(status)}.")
    return float(logp[0]), grad
