"""Partly labelled rows (semi-supervised fits): which rows have a known class, and which.

scikit-learn's convention: ``y`` holds a class for each labelled row and -1 (or NaN, None)
for the others. The classes name the first components (sorted); a labelled row then
contributes log w_k + log p_k(x) of its own class k only, and unlabelled rows are mixtures
as usual. Components without labelled rows (when there are more components than classes)
are named by the next integers when the classes are integers, else ``"component k"``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

# A class needs this many labelled rows: one row carries no spread for its component's start
# (the EM start of a class is its labelled rows' mean and covariance).
MIN_LABELLED_ROWS = 2
UNLABELLED = -1


def class_codes(y, n_obs: int, n_components: int) -> tuple[np.ndarray, list]:
    """Each row's class code (0..n_classes-1, -1 when unlabelled) and the classes, sorted.

    Raises ``ValueError`` naming the argument, the classes or the rows at fault.
    """
    array = np.asarray(y, dtype=object)
    if array.ndim != 1 or len(array) != n_obs:
        raise ValueError(
            f"y has shape {array.shape}; expected ({n_obs},): one class per row of X, -1 (or "
            "NaN, None) where the row is unlabelled."
        )
    values = pd.Series(array)
    unlabelled = values.isna() | values.map(_is_unlabelled_marker)
    labelled = values[~unlabelled]
    if labelled.empty:
        raise ValueError(
            "y labels no row (every entry is -1, NaN or None); pass y=None for an "
            "unsupervised fit, or give the class of some rows."
        )
    classes = _sorted(labelled.unique().tolist())
    if len(classes) > n_components:
        raise ValueError(
            f"y has {len(classes)} classes {classes}, more than n_components="
            f"{n_components}; each class needs its own component: raise n_components to at "
            f"least {len(classes)}."
        )
    counts = labelled.value_counts()
    few = [c for c in classes if counts[c] < MIN_LABELLED_ROWS]
    if few:
        raise ValueError(
            f"y has fewer than {MIN_LABELLED_ROWS} labelled rows for classes {few} "
            f"({', '.join(f'{c!r}: {counts[c]}' for c in few)}); a class needs "
            f"{MIN_LABELLED_ROWS} to start its component. Label more rows of these classes, "
            "or mark them -1 (unlabelled)."
        )
    lookup = {c: code for code, c in enumerate(classes)}
    codes = np.full(n_obs, UNLABELLED, dtype=np.int64)
    codes[~unlabelled.to_numpy()] = [lookup[c] for c in labelled]
    return codes, [_plain(c) for c in classes]


def component_names(classes: list, n_components: int) -> list:
    """The classes, then names for the components no class names: the next integers when
    the classes are integers, else ``"component k"``."""
    extra = range(len(classes), n_components)
    if all(isinstance(c, int | np.integer) and not isinstance(c, bool) for c in classes):
        start = max(classes) + 1
        return [*classes, *(start + j for j in range(len(extra)))]
    return [*classes, *(f"component {k}" for k in extra)]


def _is_unlabelled_marker(value) -> bool:
    if isinstance(value, str):
        return value.strip() == "-1"
    try:
        return float(value) == UNLABELLED
    except (TypeError, ValueError):
        return False


def _sorted(classes: list) -> list:
    try:
        return sorted(classes)
    except TypeError:  # mixed types: by their text
        return sorted(classes, key=str)


def _plain(value):
    """numpy scalars as Python ones (the classes are saved with the fit as JSON)."""
    return value.item() if isinstance(value, np.generic) else value
