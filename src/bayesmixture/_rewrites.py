"""Graph rewrites that make densities vectorised over posterior draws fast.

PyMC's multivariate log-densities solve one triangular system per observation
(``Blockwise(SolveTriangular(b_ndim=1))``). PyTensor turns that into one matrix solve when the
matrix has no batch dimensions; once we add a leading draw axis (and components form another
batch axis) the matrix is batched, broadcast along the observations only, and the solve falls
back to one call per draw, component *and* observation. The rewrite here handles that case:
one matrix solve per (draw, component), with all observations as columns.

It is registered with PyTensor's "specialize" rewrites for the C backend (tag ``cxx_only``, so
JAX and Numba, which need static shapes and batch solves themselves, skip it), the way PyMC
registers its own rewrites: every C-compiled graph of this process benefits, including the
logp and gradient of ``pm.sample`` in worker processes (they import this module when they
unpickle a mixture's log-density). It never changes a result, only how it is computed.

A second rewrite, for every backend, joins pieces of which some have a draw axis and some do
not (rows with every entry missing) as one array instead of a Blockwise of Join, which JAX
cannot trace. Below them: the compile modes of the membership evaluators (JAX by default).
"""

from __future__ import annotations

import numpy as np
import pytensor
import pytensor.tensor as pt
from pytensor.compile.mode import Mode, get_mode
from pytensor.graph.basic import Constant
from pytensor.graph.rewriting.basic import node_rewriter
from pytensor.tensor.basic import Join
from pytensor.tensor.blockwise import Blockwise
from pytensor.tensor.rewriting.basic import register_canonicalize, register_specialize
from pytensor.tensor.slinalg import SolveBase


@register_specialize("cxx_only")
@node_rewriter([Blockwise])
def broadcast_matrix_vector_solve(fgraph, node):
    """solve(a (*batch, d, d), b (*batch, d)) where a broadcasts along some batch axes.

    The batch axes along which ``a`` is broadcastable are moved last and folded into the
    columns of one matrix right-hand side per remaining batch index.
    """
    core_op = node.op.core_op
    if not isinstance(core_op, SolveBase) or core_op.b_ndim != 1:
        return None
    a, b = node.inputs
    n_batch = b.type.ndim - 1
    a_flags = a.type.broadcastable[:-2]
    if len(a_flags) != n_batch or not any(a_flags) or all(a_flags):
        return None
    b_flags = b.type.broadcastable[:-1]
    keep = [i for i in range(n_batch) if not a_flags[i]]
    fold = [i for i in range(n_batch) if a_flags[i]]
    if any(b_flags[i] for i in keep):
        return None  # b broadcasts where a does not: nothing to fold into columns
    order = [*keep, *fold, n_batch]
    b_moved = b.transpose(order)
    keep_shape = [b.shape[i] for i in keep]
    fold_shape = [b.shape[i] for i in fold]
    b_matrix = b_moved.reshape((*keep_shape, -1, b.shape[-1])).swapaxes(-1, -2)
    a_core = a.squeeze(axis=tuple(fold))
    props = core_op._props_dict()
    props["b_ndim"] = 2
    solved = Blockwise(type(core_op)(**props))(a_core, b_matrix)
    unfolded = solved.swapaxes(-1, -2).reshape((*keep_shape, *fold_shape, b.shape[-1]))
    inverse = np.argsort(order).tolist()
    return [pt.specify_broadcastable(unfolded.transpose(inverse), *_broadcastable_axes(node))]


@register_canonicalize
@node_rewriter([Blockwise])
def join_batched_tensors(fgraph, node):
    """Blockwise(Join)(axis, *tensors) with a constant axis -> one Join of broadcast tensors.

    Vectorising a concatenation over draws gives a Blockwise of Join when some pieces do not
    depend on the draws (a block of zeros for rows with nothing observed). JAX cannot trace
    that Blockwise (the axis becomes a traced value); the tensors broadcast to the common
    batch shape and joined along the shifted axis are the same array.
    """
    if not isinstance(node.op.core_op, Join):
        return None
    axis, *tensors = node.inputs
    # the axis is a core scalar, padded with batch axes of length one
    if not isinstance(axis, Constant) or np.size(axis.data) != 1:
        return None
    n_batch = node.op.batch_ndim(node)
    core_ndim = node.outputs[0].type.ndim - n_batch
    padded = [pt.shape_padleft(t, n_batch + core_ndim - t.type.ndim) for t in tensors]
    # Blockwise broadcasts only axes of static length one: take each length from a tensor
    # that is not broadcastable along it
    batch_shape = [
        next((t.shape[i] for t in padded if not t.type.broadcastable[i]), 1) for i in range(n_batch)
    ]
    broadcast = [pt.broadcast_to(t, (*batch_shape, *t.shape[n_batch:])) for t in padded]
    joined = pt.join(int(np.ravel(axis.data)[0]) % core_ndim + n_batch, *broadcast)
    return [pt.specify_broadcastable(joined, *_broadcastable_axes(node))]


def _broadcastable_axes(node) -> list[int]:
    return [i for i, flag in enumerate(node.outputs[0].type.broadcastable) if flag]


def evaluator_mode(backend: str) -> Mode:
    """Compile mode of the membership evaluators: ``"JAX"``, ``"NUMBA"`` or ``"FAST_RUN"`` (C).

    Posterior draws are valid parameters, so PyMC's parameter checks are dropped (JAX could
    not keep them anyway); importing PyMC registers that rewrite.
    """
    if backend == "PYTHON":
        return (
            Mode(linker="py", optimizer="fast_run")
            .excluding("fusion")
            .including("local_remove_check_parameter")
        )
    mode = get_mode(backend)
    # PyTensor 2.38 on a machine with no C compiler (cxx="") wraps FAST_RUN in a 1-tuple
    if isinstance(mode, tuple):
        mode = mode[0]
    if backend == "FAST_RUN":
        mode = without_compiler_fusion(mode)
    return mode.including("local_remove_check_parameter")


def python_mode() -> Mode:
    """PyTensor's Python implementations and few rewrites: small helper graphs (shapes), no C.

    ``FAST_COMPILE`` would still build PyTensor's C virtual machine (a gcc run of about a
    second on a machine whose caches are empty).
    """
    return Mode(linker="py", optimizer="fast_compile")


def without_compiler_fusion(mode: Mode | None = None) -> Mode:
    """``mode`` (default FAST_RUN) without elementwise fusion when there is no C compiler.

    Without a C compiler (``cxx=""``) a fused elementwise op runs its scalar code in Python
    once per element (700,000 calls for 200 draws x 100 rows x 2 components, ~10 s); unfused,
    each op is one numpy call. With a compiler the mode is returned unchanged.
    """
    if mode is None:
        mode = get_mode("FAST_RUN")
        mode = mode[0] if isinstance(mode, tuple) else mode
    return mode if pytensor.config.cxx else mode.excluding("fusion")


def default_backend() -> str:
    """JAX: the backend that compiles the evaluators fastest, with no C compiler.

    Measured on the forum model's evaluator with 4,000 draws in fresh processes with empty
    caches (docs/benchmarks.md, "the membership evaluator per backend"): JAX 1.4 s including
    its import (a few tenths of a second once JAX is loaded, as after ``bayesmixture.sample``),
    Numba 6.3 s, C 8.6 s of gcc. With warm caches Numba and C load in about half a second.
    """
    return "JAX"
