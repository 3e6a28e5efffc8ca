"""What the kernels share at their boundary with nutpie: the C signatures, the expand
callback, the opening and closing of every log-density callback, and calling one from Python
exactly as nutpie calls it.

Numba's disk cache checks only the source file of the function it caches, and a kernel is
built from several files of this package. So every log-density callback is a closure over
:func:`source_stamp`, a hash of every source file here: the cache keys a compiled callback
by its closure's values too, so an edit to any kernel file compiles the callbacks again.
"""

from __future__ import annotations

import ctypes
import functools
import hashlib
from pathlib import Path

import numba
import numpy as np

from bayesmixture._kernels.payload import N_DIM, PAYLOAD_SIZE

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
def source_stamp() -> int:
    """A 60-bit hash of the kernels' source files (see the module's docstring)."""
    digest = hashlib.sha256()
    for path in sorted(Path(__file__).parent.rglob("*.py")):
        digest.update(path.relative_to(Path(__file__).parent).as_posix().encode())
        digest.update(path.read_bytes())
    return int.from_bytes(digest.digest()[:8], "little") >> 4


@numba.njit(inline="always")
def open_payload(payload_):
    """The payload behind nutpie's user-data pointer, as long as its header says."""
    size = numba.carray(payload_, (PAYLOAD_SIZE + 1,), dtype=np.float64)[PAYLOAD_SIZE]
    return numba.carray(payload_, (int(size),), dtype=np.float64)


@numba.njit(inline="always")
def wrong_length(dim, payload, stamp) -> bool:
    """Whether theta's length differs from the payload's ``n_dim`` (the stamp is never
    negative: comparing it keeps it in the compiled code's closure)."""
    return stamp < 0 or dim != int(payload[N_DIM])


@numba.njit(inline="always")
def finish(value, grad, logp_) -> int:
    """Store the log-density; nutpie's status: 0, or 4/3 for a non-finite log-density or
    gradient."""
    logp_[0] = value
    if not np.isfinite(value):
        return 4
    for q in range(grad.shape[0]):
        if not np.isfinite(grad[q]):
            return 3
    return 0


def compile_logp(callback, *, fastmath=False):
    """nutpie's log-density C callback from ``callback(dim, x*, grad*, logp*, payload*)``,
    compiled or loaded from Numba's disk cache."""
    return numba.cfunc(LOGP_SIGNATURE, cache=True, error_model="numpy", fastmath=fastmath)(callback)


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
