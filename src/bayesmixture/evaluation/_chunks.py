"""The blocks every evaluator yields, and their sizes: (draws x rows x components) pieces of
log responsibilities and log marginal densities, assembled into whole arrays on request.

Numpy only, so that the array scorers (no PyMC) and PyMC's compiled evaluator share them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

# Elements of one (draws x rows x components) block; a few such arrays live at once.
BLOCK_ELEMENTS = 4_000_000
ROW_BLOCK = 50_000


@dataclass
class Chunk:
    """One block: draws [start, stop) of terms [row_start, row_stop) (rows, or groups)."""

    start: int
    stop: int
    row_start: int
    row_stop: int
    log_resp: np.ndarray  # (draws, rows, component)
    log_marginal: np.ndarray  # (draws, rows)


def assemble(chunks: Iterable[Chunk], n_components: int) -> tuple[np.ndarray, np.ndarray]:
    """All blocks in place: log_resp (draws, obs, K) and log_marginal (draws, obs)."""
    blocks = list(chunks)
    n_draws = max(b.stop for b in blocks)
    n_terms = max(b.row_stop for b in blocks)
    log_resp = np.empty((n_draws, n_terms, n_components))
    log_marginal = np.empty((n_draws, n_terms))
    for b in blocks:
        log_resp[b.start : b.stop, b.row_start : b.row_stop] = b.log_resp
        log_marginal[b.start : b.stop, b.row_start : b.row_stop] = b.log_marginal
    return log_resp, log_marginal
