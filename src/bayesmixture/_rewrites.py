"""Graph rewrites that make densities vectorised over posterior draws fast.

PyMC's multivariate log-densities solve one triangular system per observation
(``Blockwise(SolveTriangular(b_ndim=1))``). PyTensor turns that into one matrix solve when the
matrix has no batch dimensions; once we add a leading draw axis the matrix is batched over
draws only (shape (draws, 1, d, d)) and the solve falls back to one call per draw *and*
observation. The rewrite here handles that case: one matrix solve per draw, with all the
observations as columns. It is applied only in the compile mode of our evaluators.
"""

from __future__ import annotations

from pytensor.compile.mode import Mode, get_default_mode
from pytensor.graph.rewriting.basic import in2out, node_rewriter
from pytensor.tensor.blockwise import Blockwise
from pytensor.tensor.slinalg import SolveBase


@node_rewriter([Blockwise])
def draw_batched_vector_solve(fgraph, node):
    """Blockwise solve(a (*lead, 1.., d, d), b (*lead, *rows, d)) -> one solve per lead index."""
    core_op = node.op.core_op
    if not isinstance(core_op, SolveBase) or core_op.b_ndim != 1:
        return None
    a, b = node.inputs
    a_batch = a.type.broadcastable[:-2]
    b_batch_ndim = b.type.ndim - 1
    if len(a_batch) != b_batch_ndim or not a_batch or all(a_batch):
        return None
    n_lead = len(a_batch) - sum(1 for _ in _trailing_true(a_batch))
    if n_lead == len(a_batch) or any(a_batch[:n_lead]):
        return None
    props = core_op._props_dict()
    props["b_ndim"] = 2
    matrix_solve = Blockwise(type(core_op)(**props))
    a_core = a.squeeze(axis=tuple(range(n_lead, len(a_batch))))
    lead_shape = tuple(b.shape[:n_lead])
    rows_shape = tuple(b.shape[n_lead:-1])
    b_matrix = b.reshape((*lead_shape, -1, b.shape[-1]))
    solved = matrix_solve(a_core, b_matrix.swapaxes(-1, -2)).swapaxes(-1, -2)
    return [solved.reshape((*lead_shape, *rows_shape, b.shape[-1]))]


def _trailing_true(flags):
    for flag in reversed(flags):
        if not flag:
            return
        yield flag


def evaluator_mode() -> Mode:
    """The default compile mode plus the draw-batched solve rewrite."""
    mode = get_default_mode()
    return mode.register(
        (in2out(draw_batched_vector_solve, name="draw_batched_vector_solve"), 49.5)
    )
