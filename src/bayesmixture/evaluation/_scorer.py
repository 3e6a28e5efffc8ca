"""Base of the array scorers: evaluators whose densities are numpy formulas, not compiled graphs.

A built-in estimator knows its components' densities in closed form, so it can score rows
without compiling PyMC's graph (which costs seconds to a minute of gcc in a fresh process).
A subclass gives the joint log density ``log w_k + log p_k(x)`` of a block of rows for a
block of draws; this base cuts rows and draws into blocks of bounded size and turns each
block into log responsibilities and log marginal densities, as
:class:`~bayesmixture.evaluation.MixtureEvaluator` yields them.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

import numpy as np

from bayesmixture.evaluation._chunks import BLOCK_ELEMENTS, ROW_BLOCK, Chunk, assemble


class ArrayScorer:
    """Duck-types :class:`~bayesmixture.evaluation.MixtureEvaluator` for ``summarise``,
    ``predictive_log_density`` and relabelling.

    Subclasses set ``spec`` (for ``n_components``) and ``rv_names`` (the posterior variables
    read), and implement :meth:`_log_joint`; :meth:`_row_data` gives the per-row arrays
    (covariates, trials, groups) that new rows pass as ``data``.
    """

    backend = "numpy"
    row_chunkable = True

    def data_values(self, data) -> dict:
        return {}

    def _row_data(self, data: Mapping | None, n_rows: int) -> dict[str, np.ndarray]:
        """Per-row arrays for ``n_rows`` rows (each of length n_rows); none by default."""
        if data:
            raise ValueError(f"{type(self).__name__} takes no data; got {sorted(data)}.")
        return {}

    def _log_joint(
        self, rows: np.ndarray, draws: dict, picked: np.ndarray, row_data: dict | None = None
    ) -> np.ndarray:
        """log w_k + log p_k(row) for the draws ``picked``: shape (rows, draws, K)."""
        raise NotImplementedError

    def chunks(
        self,
        draws,
        value: np.ndarray,
        *,
        data=None,
        groups=None,
        case_weights=None,
        draw_index=None,
        block_elements: int = BLOCK_ELEMENTS,
    ) -> Iterator[Chunk]:
        """Blocks of (log_resp, log_marginal) over draws and rows, as the general evaluator."""
        if groups is not None:
            raise ValueError(f"{type(self).__name__} scores rows one by one (no shared labels).")
        value = np.asarray(value)
        row_data = self._row_data(data, len(value))
        n_rows, K = len(value), self.spec.n_components
        n_draws = len(draws[self.rv_names[0]])
        index = np.arange(n_draws) if draw_index is None else draw_index
        row_block = min(n_rows, ROW_BLOCK)
        draw_block = max(1, min(len(index), block_elements // max(1, row_block * K)))
        for row_start in range(0, n_rows, row_block):
            row_stop = min(n_rows, row_start + row_block)
            rows = value[row_start:row_stop]
            block_data = {name: array[row_start:row_stop] for name, array in row_data.items()}
            for start in range(0, len(index), draw_block):
                stop = min(len(index), start + draw_block)
                joint = self._log_joint(rows, draws, index[start:stop], block_data)
                # logsumexp over the K components by hand: scipy's is ~7x slower here.
                peak = joint.max(axis=-1, keepdims=True)
                peak[~np.isfinite(peak)] = 0.0  # a row no component can have stays -inf
                joint -= peak
                log_sum = np.log(np.exp(joint).sum(axis=-1, keepdims=True))
                joint -= log_sum  # now log responsibilities
                log_marginal = (peak + log_sum)[..., 0]
                # (draw, row, component) views of the (row, draw, component) blocks
                yield Chunk(
                    start, stop, row_start, row_stop, joint.transpose(1, 0, 2), log_marginal.T
                )

    def responsibilities(self, draws, value, **kwargs) -> tuple[np.ndarray, np.ndarray]:
        """All blocks assembled: log_resp (draws, obs, K) and log_marginal (draws, obs)."""
        return assemble(self.chunks(draws, value, **kwargs), self.spec.n_components)
