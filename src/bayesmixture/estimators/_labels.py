"""Partly labelled rows (semi-supervised fits): which rows have a known class, and which.

scikit-learn's convention: ``labels`` holds a class for each labelled row and -1 (or NaN,
None) for the others. The classes name the first components (sorted) and keep their type (a
class 1, 1.0 or "1" is predicted as given); a labelled row then contributes
log w_k + log p_k(x) of its own class k only, and unlabelled rows are mixtures as usual.
Components without labelled rows (when there are more components than classes) are named by
the next numbers when the classes are numbers, else ``"component k"``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

# A class needs this many labelled rows: one row carries no spread for its component's start
# (the EM start of a class is its labelled rows' mean and covariance).
MIN_LABELLED_ROWS = 2
UNLABELLED = -1


def class_codes(
    labels, n_obs: int, n_components: int, arg: str = "labels"
) -> tuple[np.ndarray, list]:
    """Each row's class code (0..n_classes-1, -1 when unlabelled) and the classes, sorted.

    Raises ``ValueError`` naming the argument, the classes or the rows at fault.
    """
    array = np.asarray(labels, dtype=object)
    if array.ndim != 1 or len(array) != n_obs:
        raise ValueError(
            f"{arg} has shape {array.shape}; expected ({n_obs},): one class per row of the "
            "data, -1 (or NaN, None) where the row is unlabelled."
        )
    values = pd.Series(array)
    unlabelled = values.isna() | values.map(_is_unlabelled_marker)
    labelled = values[~unlabelled]
    if labelled.empty:
        raise ValueError(
            f"{arg} marks no row as labelled (every entry is -1, NaN or None); pass "
            f"{arg}=None for an unsupervised fit, or give the class of some rows."
        )
    classes = [_plain(c) for c in labelled.unique().tolist()]
    kinds = {"text" if isinstance(c, str) else "number" for c in classes}
    if len(kinds) > 1:
        raise ValueError(
            f"{arg} mixes text and number classes {_sorted(classes)}; give every class the "
            "same kind (e.g. all strings), so that predictions have one type."
        )
    classes = _sorted(classes)
    if len(classes) > n_components:
        raise ValueError(
            f"{arg} has {len(classes)} classes {classes}, more than n_components="
            f"{n_components}; each class needs its own component: raise n_components to at "
            f"least {len(classes)}."
        )
    counts = labelled.map(_plain).value_counts()
    few = [c for c in classes if counts[c] < MIN_LABELLED_ROWS]
    if few:
        raise ValueError(
            f"{arg} has fewer than {MIN_LABELLED_ROWS} labelled rows for classes {few} "
            f"({', '.join(f'{c!r}: {counts[c]}' for c in few)}); a class needs "
            f"{MIN_LABELLED_ROWS} to start its component. Label more rows of these classes, "
            "or mark them -1 (unlabelled)."
        )
    lookup = {c: code for code, c in enumerate(classes)}
    codes = np.full(n_obs, UNLABELLED, dtype=np.int64)
    codes[~unlabelled.to_numpy()] = [lookup[_plain(c)] for c in labelled]
    return codes, classes


def component_names(classes: list, n_components: int) -> list:
    """The classes, then names for the components no class names: the next whole numbers
    (of the classes' type) when the classes are numbers, else ``"component k"``."""
    unnamed = range(len(classes), n_components)
    if all(isinstance(c, int | float | np.number) and not isinstance(c, bool) for c in classes):
        start = max(classes) + 1
        number = type(classes[0])
        return [*classes, *(number(start + j) for j in range(len(unnamed)))]
    return [*classes, *(f"component {k}" for k in unnamed)]


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
