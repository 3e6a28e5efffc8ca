"""How many rows a Gaussian mixture needs per component, by covariance type.

One rule for the estimators and the command line (which checks it before importing PyMC):
this module imports nothing but numpy and the covariance types' records, whose
``rows_per_component`` and ``min_rows`` hold the rule.

Why these numbers: the scatter of m rows about their own mean has rank at most m - 1, so a
component's covariance is informed by its rows in every direction only when m - 1 reaches the
number of free directions it estimates.

- ``full``: n_features variances and their correlations per component: more than n_features
  rows each (n_features + 1).
- ``tied``: one covariance pooled over the components: the rows less one mean per component
  must reach n_features (n_components + n_features rows in all), and 2 rows per component.
- ``diag`` and ``spherical`` (and any type without correlations of its own per component):
  variances only: 2 rows per component.

With fewer rows the posterior of the covariance is its prior, the clusters are not learnt from
the data, and the fit is a wrong answer that looks like one.
"""

from __future__ import annotations

import numpy as np

from bayesmixture.estimators._covariance import COVARIANCES


def min_rows(n_components: int, n_features: int, covariance_type: str) -> int:
    """Fewest rows that let ``n_components`` components of this covariance type be estimated.

    Examples
    --------
    >>> min_rows(3, 2, "full"), min_rows(3, 2, "diag"), min_rows(3, 5, "tied")
    (9, 6, 8)
    """
    return COVARIANCES[covariance_type].min_rows(n_components, n_features)


def check_rows_per_component(
    n_obs: int,
    n_components: int,
    n_features: int,
    covariance_type: str,
    *,
    arg: str = "n_components",
    covariance_arg: str = "covariance_type",
) -> None:
    """ValueError if ``n_obs`` rows are too few for the components and their covariances.

    Parameters
    ----------
    n_obs, n_components, n_features : int
    covariance_type : {"full", "tied", "diag", "spherical"}
    arg, covariance_arg : str
        How the message names the two options: ``n_components=3`` for the API; a name
        starting with "-" is shown as a command-line option (``-k 3``, ``--covariance full``).

    Raises
    ------
    ValueError
        Naming both options, the rows needed and the ways to fix it.

    Examples
    --------
    >>> check_rows_per_component(9, 3, 2, "full")
    >>> check_rows_per_component(3, 3, 2, "full", arg="-k", covariance_arg="--covariance")
    Traceback (most recent call last):
    ...
    ValueError: -k 3 with --covariance full needs at least 9 rows (3 per cluster: one more ...
    """
    kind = COVARIANCES.get(covariance_type) if isinstance(covariance_type, str) else None
    if kind is None:
        return  # the estimator's own check of covariance_type says what is wrong
    needed = kind.min_rows(n_components, n_features)
    if n_obs >= needed:
        return
    per = kind.rows_per_component(n_features)
    unit = "cluster" if arg.startswith("-") else "component"
    why = f"{per} per {unit}"
    if kind.correlated and not kind.shared:
        why += f": one more than the {n_features} columns"
    elif kind.correlated:
        why += f", and the rows less one per {unit} at least {n_features}"
    fits = [
        k
        for k in range(n_components - 1, 0, -1)
        if n_obs >= min_rows(k, n_features, covariance_type)
    ]
    smaller = None if not fits else _shown(arg, fits[0]) + " or fewer" * (fits[0] > 1)
    lighter = [
        c
        for c in ("diag", "spherical")
        if c != covariance_type and n_obs >= min_rows(n_components, n_features, c)
    ]
    fixes = [
        *([smaller] if smaller else []),
        *([f"{_shown(covariance_arg, lighter[0])} (fewer rows per {unit})"] if lighter else []),
        "more rows",
    ]
    raise ValueError(
        f"{_shown(arg, n_components)} with {_shown(covariance_arg, covariance_type)} needs at "
        f"least {needed} rows ({why}), but there are {n_obs}; pass {', or '.join(fixes)}."
    )


def _shown(arg: str, value) -> str:
    """``-k 3`` for a command-line option, ``n_components=3`` for an argument."""
    if arg.startswith("-"):
        return f"{arg} {value}"
    return f"{arg}={np.asarray(value).item()!r}"
