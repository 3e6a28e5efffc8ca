"""What an observation may carry beside its value: its group, its case weight, its component.

Each needs one batch axis of observations. Groups make all their observations share one
component; a case weight multiplies an observation's log-likelihood term; a known component
(partly labelled data) replaces the observation's mixture by its own component's term.
"""

from __future__ import annotations

import numpy as np

from bayesmixture._validation import (
    as_numeric_array,
    check_case_weights,
    describe_rows,
    group_codes,
)


def check_groups(groups, batch_shape):
    """(group code of each observation, group names), or (None, None) without groups."""
    if groups is None:
        return None, None
    if len(batch_shape) != 1:
        raise ValueError(
            f"groups needs one batch axis of observations; observed has batch shape {batch_shape}."
        )
    return group_codes(groups, batch_shape[0])


def case_weights_array(case_weights, batch_shape) -> np.ndarray | None:
    """The case weights as an array of shape (n_obs,), or None."""
    if case_weights is None:
        return None
    if len(batch_shape) != 1:
        raise ValueError(
            f"case_weights needs one batch axis of observations; observed has batch shape "
            f"{tuple(batch_shape)}."
        )
    return check_case_weights(case_weights, batch_shape[0])


def check_known(known, batch_shape, n_components: int, groups) -> np.ndarray | None:
    """Known components of partly labelled observations, as int codes (-1: unknown)."""
    if known is None:
        return None
    if groups is not None:
        raise ValueError(
            "known= labels observations, groups= makes groups share one; give one of them."
        )
    codes = as_numeric_array(known, "known")
    if codes.shape != tuple(batch_shape) or len(batch_shape) != 1:
        raise ValueError(
            f"known has shape {codes.shape}; expected {tuple(batch_shape)}: one component per "
            "observation (-1 where it is not known)."
        )
    bad = np.flatnonzero((codes != np.round(codes)) | (codes < -1) | (codes >= n_components))
    if bad.size:
        raise ValueError(
            f"known has {codes[bad[0]]!r} in {describe_rows(bad)}; each entry must be a "
            f"component index from 0 to {n_components - 1}, or -1 for an unlabelled observation."
        )
    return codes.astype(np.int64)
