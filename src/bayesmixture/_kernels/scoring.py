"""Fused membership of many rows: component densities, softmax and averages in one pass.

For every row and every posterior draw the responsibilities r_sik = softmax_k(log w_sk +
log p_k(x_i | theta_s)) are computed and only their running sums over draws are kept (and
those of their squares, and optionally log sum_s p(x_i | theta_s)), so memory is
O(rows * K) whatever the number of draws, and nothing of size rows x draws is written out.
Rows are taken in tiles of ``ROW_TILE``; for each draw, every step over a tile's rows is one
loop the vectoriser takes (exp and log from ``_kernels.fastmath``). The kernels release the
GIL, so callers run blocks of rows on threads.

- :func:`membership_totals` (Gaussian components, ``estimators._gaussian_scorer``): for rows
  x and one weight matrix W of shape (n_draws * K, F) over the quadratic features
  phi(x) = (1, x, x_i x_j), every (draw, component) log-density is one dot product of
  length F.
- :func:`univariate_totals` (``Mixture``, every family): the log-densities of the
  univariate kernel's ``_column_logp``, which the kernel's tests hold equal to PyMC's.

Both are compiled on first use and cached on disk, keyed by the kernels' source stamp (as
the callbacks are, see ``callbacks.py``: they are built from several files of this package,
and Numba's cache checks only the file of the function it caches).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import numba
import numpy as np

from bayesmixture._kernels.callbacks import source_stamp
from bayesmixture._kernels.fastmath import exp as fast_exp
from bayesmixture._kernels.fastmath import log as fast_log
from bayesmixture._kernels.univariate import N_PRE, _column_logp, _precompute

ROW_TILE = 256  # rows scored together, so each draw's parameters are read once per tile
# Rows per thread at least: below, starting a thread costs more than it saves.
MIN_ROWS_PER_THREAD = 1000
_FASTMATH = {"nsz", "arcp", "contract", "reassoc"}
_inline = numba.njit(inline="always", error_model="numpy", fastmath=_FASTMATH)
# The steps that call exp or log are functions of their own: LLVM inlines fastmath's functions
# into a small caller's loops, not into a large one's (where they would stay calls, and the
# loops scalar).
_step = numba.njit(nogil=True, error_model="numpy", fastmath=_FASTMATH)


@_inline
def _reset(n, K, peak, mass, acc_total, acc_sq) -> None:
    for r in range(n):
        peak[r] = -np.inf
        mass[r] = 0.0
    for k in range(K):
        for r in range(n):
            acc_total[k, r] = 0.0
            acc_sq[k, r] = 0.0


@_step
def _add_draw(joint, n, density, top, z, peak, mass, acc_total, acc_sq) -> None:
    """Add one draw's responsibilities from joint[k, r] = log w_k + log p_k(x_r) (K, n)."""
    K = joint.shape[0]
    for r in range(n):
        top[r] = -np.inf
    for k in range(K):
        row = joint[k]
        for r in range(n):
            top[r] = max(top[r], row[r])
    for r in range(n):
        z[r] = 0.0
    for k in range(K):
        row = joint[k]
        for r in range(n):
            share = fast_exp(row[r] - top[r])
            row[r] = share
            z[r] += share
    if density:  # log p_s(x_r) = top + log z, summed over s with a running shift
        for r in range(n):
            shift = max(peak[r], top[r])
            mass[r] = mass[r] * fast_exp(peak[r] - shift) + z[r] * fast_exp(top[r] - shift)
            peak[r] = shift
    for r in range(n):
        z[r] = 1.0 / z[r]
    for k in range(K):
        row = joint[k]
        for r in range(n):
            q = row[r] * z[r]
            acc_total[k, r] += q
            acc_sq[k, r] += q * q


@_inline
def _dot_features(w, tile_t, n, row):
    """row[r] = sum_f w_f tile_t[f, r]: four features per pass over the tile's rows (a pass
    per feature would load and store ``row`` four times as often)."""
    F = w.shape[0]
    for r in range(n):
        row[r] = 0.0
    for f0 in range(0, F, 4):
        w0 = w[f0]
        w1 = w[f0 + 1] if f0 + 1 < F else 0.0
        w2 = w[f0 + 2] if f0 + 2 < F else 0.0
        w3 = w[f0 + 3] if f0 + 3 < F else 0.0
        c0 = tile_t[f0]
        c1 = tile_t[min(f0 + 1, F - 1)]
        c2 = tile_t[min(f0 + 2, F - 1)]
        c3 = tile_t[min(f0 + 3, F - 1)]
        for r in range(n):
            row[r] += w0 * c0[r] + w1 * c1[r] + w2 * c2[r] + w3 * c3[r]


@_step
def _write(start, n, density, peak, mass, acc_total, acc_sq, total, total_sq, log_density):
    K = acc_total.shape[0]
    for r in range(n):
        for k in range(K):
            total[start + r, k] += acc_total[k, r]
            total_sq[start + r, k] += acc_sq[k, r]
        log_density[start + r] = peak[r] + fast_log(mass[r]) if density else 0.0


def _membership_totals_of(stamp: int):
    STAMP = stamp

    def membership_totals(features, weights, n_components, total, total_sq, log_density, density):
        """Accumulate sum_s r_sik, sum_s r_sik^2 and (if ``density``) log sum_s p(x_i | theta_s).

        features (n_rows, F); weights (n_draws * K, F); total, total_sq (n_rows, K) and
        log_density (n_rows,) are written in place. Rows are taken in tiles (transposed, so
        the dot products vectorise over rows) against every draw, so the weights stream
        through the cache once per tile.
        """
        n_rows, F = features.shape
        K = n_components
        n_draws = weights.shape[0] // K if STAMP >= 0 else 0
        tile_t = np.empty((F, ROW_TILE))
        joint = np.empty((K, ROW_TILE))
        top, z = np.empty(ROW_TILE), np.empty(ROW_TILE)
        peak, mass = np.empty(ROW_TILE), np.empty(ROW_TILE)
        acc_total, acc_sq = np.empty((K, ROW_TILE)), np.empty((K, ROW_TILE))
        for start in range(0, n_rows, ROW_TILE):
            n = min(n_rows, start + ROW_TILE) - start
            for f in range(F):
                for r in range(n):
                    tile_t[f, r] = features[start + r, f]
            _reset(n, K, peak, mass, acc_total, acc_sq)
            for s in range(n_draws):
                for k in range(K):
                    _dot_features(weights[s * K + k], tile_t, n, joint[k])
                _add_draw(joint, n, density, top, z, peak, mass, acc_total, acc_sq)
            _write(start, n, density, peak, mass, acc_total, acc_sq, total, total_sq, log_density)

    return numba.njit(cache=True, nogil=True, error_model="numpy", fastmath=_FASTMATH)(
        membership_totals
    )


def _univariate_totals_of(stamp: int):
    STAMP = stamp

    def univariate_totals(
        obs,
        n_obs,
        row_start,
        row_stop,
        family,
        x,
        log_w,
        total,
        total_sq,
        log_density,
        density,
    ):
        """As :func:`membership_totals`, for the rows row_start .. row_stop of the univariate
        kernel's observation table ``obs`` (its ``N_OBS_COLUMNS`` columns of ``n_obs``):
        family (K,) the components' family codes, x (n_draws, K, MAX_PARAMS) each draw's
        parameters in the kernel's order, log_w (n_draws, K). Row i's sums go to
        total[i - row_start]."""
        K = family.shape[0]
        n_draws = log_w.shape[0] if STAMP >= 0 else 0
        pre = np.zeros((n_draws, K, N_PRE))  # the terms the kernel computes once per call
        for s in range(n_draws):
            for k in range(K):
                _precompute(family[k], x[s, k], pre[s, k])
        joint = np.empty((K, ROW_TILE))
        top, z = np.empty(ROW_TILE), np.empty(ROW_TILE)
        peak, mass = np.empty(ROW_TILE), np.empty(ROW_TILE)
        acc_total, acc_sq = np.empty((K, ROW_TILE)), np.empty((K, ROW_TILE))
        for start in range(row_start, row_stop, ROW_TILE):
            n = min(row_stop, start + ROW_TILE) - start
            _reset(n, K, peak, mass, acc_total, acc_sq)
            for s in range(n_draws):
                for k in range(K):
                    row = joint[k]
                    _column_logp(family[k], obs, n_obs, start, n, x[s, k], pre[s, k], row)
                    lw = log_w[s, k]
                    for r in range(n):
                        row[r] += lw
                _add_draw(joint, n, density, top, z, peak, mass, acc_total, acc_sq)
            _write(
                start - row_start,
                n,
                density,
                peak,
                mass,
                acc_total,
                acc_sq,
                total,
                total_sq,
                log_density,
            )

    return numba.njit(cache=True, nogil=True, error_model="numpy", fastmath=_FASTMATH)(
        univariate_totals
    )


# Compiled on first call (or loaded from Numba's disk cache), keyed by the kernels' sources.
membership_totals = _membership_totals_of(source_stamp())
univariate_totals = _univariate_totals_of(source_stamp())


def over_row_blocks(n_rows: int, run: Callable[[int, int], None]) -> None:
    """Call ``run(start, stop)`` on consecutive blocks of rows covering ``n_rows``, one block
    per core on threads (the kernels release the GIL), at least ``MIN_ROWS_PER_THREAD`` a
    block."""
    n_threads = max(1, min(os.cpu_count() or 1, n_rows // MIN_ROWS_PER_THREAD))
    bounds = np.linspace(0, n_rows, n_threads + 1).astype(int)
    if n_threads == 1:
        run(0, n_rows)
        return
    with ThreadPoolExecutor(n_threads) as pool:
        list(pool.map(run, bounds[:-1], bounds[1:]))
