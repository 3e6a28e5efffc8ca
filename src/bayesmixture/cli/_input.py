"""Reading the input: CSV files checked column by column, and a saved fit's settings.

Every problem is an :class:`InputError` that names the file, the column and the rows
(0-based data rows), and says what to do.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from rich.console import Console

from bayesmixture._validation import describe_rows
from bayesmixture.cli._errors import InputError

SETTINGS_FILE = "settings.json"
FIT_FILE = "fit.nc"


@dataclass
class Rows:
    """The table to cluster: chosen columns of the rows used, indexed by CSV row (0-based)."""

    frame: pd.DataFrame
    source: str
    n_rows: int
    dropped: list[int] = field(default_factory=list)
    labels: pd.Series | None = None  # --labels: each used row's class (NaN: unlabelled)


def read_rows(
    path: Path,
    columns: str | list[str] | None,
    missing: str,
    console: Console,
    *,
    labels: str | None = None,
) -> Rows:
    """The chosen numeric columns of a CSV file, rows with missing values dropped or refused.

    ``columns``: the --columns text, None for every numeric column, or the list of columns a
    saved fit needs. ``labels``: the column holding known classes (--labels), left out of
    the columns clustered on.
    """
    table = _read_csv(path)
    if labels is not None and labels not in [str(c) for c in table.columns]:
        raise InputError(
            f"--labels {labels}: no such column in {path}; its columns are "
            f"{', '.join(map(str, table.columns))}."
        )
    names = _choose_columns(table, columns, path, exclude=labels)
    frame = table[names].copy()
    for name in names:
        _check_numeric(frame[name], name, path)
    frame = frame.astype(float)
    infinite = np.flatnonzero(np.isinf(frame.to_numpy()).any(axis=1))
    if infinite.size:
        raise InputError(
            f"{path} has infinite values in {describe_rows(infinite)} (0-based data rows); "
            "fix or remove them."
        )
    incomplete = np.flatnonzero(frame.isna().any(axis=1).to_numpy())
    if incomplete.size and missing == "error":
        raise InputError(
            f"{path} has missing values in {describe_rows(incomplete)} (0-based data rows) of "
            f"the columns {', '.join(names)}; fill them in, or pass --missing drop."
        )
    if incomplete.size == len(frame):
        raise InputError(f"{path}: every row has a missing value in {', '.join(names)}.")
    if incomplete.size:
        console.print(
            f"Dropped {incomplete.size} of {len(frame)} rows with missing values "
            f"({describe_rows(incomplete)}); pass --missing error to stop instead."
        )
    kept = frame.dropna()
    return Rows(
        frame=kept,
        source=str(path),
        n_rows=len(frame),
        dropped=[int(r) for r in incomplete],
        labels=None if labels is None else table.loc[kept.index, labels],
    )


def check_components_fit(k: int, rows: Rows) -> None:
    """InputError if there are fewer rows than clusters."""
    if k > len(rows.frame):
        raise InputError(
            f"-k {k} is larger than the number of rows used ({len(rows.frame)}); pass a "
            "smaller -k or more rows."
        )


def check_out_dir(out: Path) -> None:
    """Refuse, before any work, a destination that exists and is not ours to replace."""
    if out.exists() and not out.is_dir():
        raise InputError(f"--out {out} is a file; pass a folder name, e.g. --out clusters.")
    if out.is_dir() and any(out.iterdir()) and not (out / SETTINGS_FILE).is_file():
        raise InputError(
            f"--out {out} already holds files that bayesmixture did not write; choose a new "
            "folder (an earlier bayesmixture output folder is replaced after a successful fit)."
        )


def read_settings(fit_dir: Path) -> dict:
    """The settings.json of a folder written by ``bayesmixture fit``."""
    if not (fit_dir / FIT_FILE).is_file() or not (fit_dir / SETTINGS_FILE).is_file():
        raise InputError(
            f"{fit_dir} is not a fit folder (no {FIT_FILE} and {SETTINGS_FILE}); create one with "
            f"`bayesmixture fit DATA.csv --out {fit_dir}`."
        )
    return json.loads((fit_dir / SETTINGS_FILE).read_text())


def _read_csv(path: Path) -> pd.DataFrame:
    if not path.exists():
        raise InputError(f"{path}: no such file; check the path (relative to {Path.cwd()}).")
    if path.is_dir():
        raise InputError(f"{path} is a folder; pass a CSV file.")
    try:
        table = pd.read_csv(path)
    except pd.errors.EmptyDataError:
        raise InputError(
            f"{path} is empty; pass a CSV file with a header row and data rows."
        ) from None
    except (pd.errors.ParserError, UnicodeDecodeError) as err:
        raise InputError(f"{path} could not be read as CSV ({err}).") from None
    if table.empty:
        raise InputError(f"{path} has a header but no data rows; add rows to cluster.")
    table.index = pd.RangeIndex(len(table), name="row")
    return table


def _choose_columns(
    table: pd.DataFrame, columns: str | list[str] | None, path: Path, *, exclude=None
) -> list[str]:
    available = [str(c) for c in table.columns]
    table.columns = available
    if columns is None:
        names = [c for c in available if _is_number_column(table[c]) and c != exclude]
        if not names:
            raise InputError(f"{path} has no numeric columns; its columns are {available}.")
        return names
    if isinstance(columns, list):  # the columns of a saved fit
        lacking = [c for c in columns if c not in available]
        if lacking:
            raise InputError(
                f"{path} lacks the column(s) {', '.join(map(repr, lacking))} that the fit used; "
                f"it needs {', '.join(columns)} (other columns are ignored)."
            )
        return list(columns)
    names = [c.strip() for c in columns.split(",") if c.strip()]
    if not names:
        raise InputError("--columns is empty; pass column names, e.g. --columns a,b.")
    unknown = [c for c in names if c not in available]
    if unknown:
        raise InputError(
            f"--columns: {', '.join(map(repr, unknown))} not in {path}; its columns are "
            f"{', '.join(available)}."
        )
    repeated = sorted({c for c in names if names.count(c) > 1})
    if repeated:
        raise InputError(f"--columns names {', '.join(repeated)} twice; list each column once.")
    if exclude in names:
        raise InputError(
            f"--labels {exclude} is also in --columns; the classes are not clustered on: "
            "drop it from --columns."
        )
    return names


def _is_number_column(column: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column)


def _check_numeric(column: pd.Series, name: str, path: Path) -> None:
    if _is_number_column(column):
        return
    converted = pd.to_numeric(column, errors="coerce")
    bad = np.flatnonzero(converted.isna().to_numpy() & column.notna().to_numpy())
    where = f" (row {bad[0]} holds {column.iloc[bad[0]]!r})" if bad.size else ""
    raise InputError(
        f"column {name!r} of {path} is not numeric{where}; cluster on numeric columns "
        "(choose them with --columns) or encode this one as numbers first."
    )
