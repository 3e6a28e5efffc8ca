"""Reading the input: the rows and columns to cluster, the output folder, a fit's settings.

``_table`` reads the file, ``_columns`` chooses the columns; here the rows with missing or
infinite values are dropped or refused, and one line says what is used. Every problem is an
:class:`InputError` that names the file, the column and the rows (0-based data rows), and
says what to do.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from rich.console import Console

from bayesmixture._validation import describe_rows
from bayesmixture.cli._columns import choose_columns, classes
from bayesmixture.cli._errors import InputError
from bayesmixture.cli._options import TableFormat
from bayesmixture.cli._table import read_table

SETTINGS_FILE = "settings.json"
FIT_FILE = "fit.nc"


@dataclass
class Rows:
    """The table to cluster: chosen columns of the rows used, indexed by data row (0-based)."""

    frame: pd.DataFrame
    source: str
    n_rows: int
    dropped: list[int] = field(default_factory=list)
    labels: pd.Series | None = None  # --labels: each used row's class (NaN: unlabelled)
    skipped: dict[str, str] = field(default_factory=dict)  # column -> why it was not used
    read_as: str = ""  # how the file was read, e.g. "';' separated, ',' decimals, UTF-8"
    format: dict | None = None  # the same for settings.json (text tables only)

    def describe(self) -> str:
        """One line: the rows and columns used, each column skipped and why, how it was read."""
        line = (
            f"Using {len(self.frame)} of {self.n_rows} rows of {self.source} and the columns "
            f"{', '.join(map(str, self.frame.columns))}"
        )
        if self.skipped:
            line += f"; {describe_skipped(self.skipped)}"
        return f"{line} (read as {self.read_as})."


def describe_skipped(skipped: dict[str, str]) -> str:
    """ "skipped 'name', 'city' (text), 'id' (row numbers 0 to 9)": names grouped by reason."""
    by_reason: dict[str, list[str]] = {}
    for name, reason in skipped.items():
        by_reason.setdefault(reason, []).append(repr(name))
    return "skipped " + ", ".join(f"{', '.join(n)} ({r})" for r, n in by_reason.items())


def read_rows(
    path: Path | str,
    columns: str | list[str] | None,
    missing: str,
    console: Console,
    *,
    labels: str | None = None,
    table_format: TableFormat | None = None,
    stdin=None,
) -> Rows:
    """The chosen numeric columns of a table file, rows with missing values dropped or refused.

    ``columns``: the --columns text, None for every column of measurements, or the list of
    columns a saved fit needs. ``labels``: the column holding known classes (--labels), left
    out of the columns clustered on. ``table_format``: --sep, --decimal, --thousands,
    --encoding. Prints the rows dropped, then one line saying what is used.
    """
    options = table_format or TableFormat()
    table = read_table(path, **options.checked(), stdin=stdin)
    source = table.source
    if labels is not None and labels not in table.names:
        raise InputError(
            f"--labels {labels}: no such column in {source}; its columns are "
            f"{', '.join(table.names)}."
        )
    chosen, skipped = choose_columns(table, columns, exclude=labels)
    names = [table.names[j] for j in chosen]
    frame = pd.DataFrame(
        {table.names[j]: table.readings[j].values for j in chosen},
        index=pd.RangeIndex(table.n_rows, name="row"),
    )
    infinite = np.flatnonzero(np.isinf(frame.to_numpy()).any(axis=1))
    if infinite.size:
        raise InputError(
            f"{source} has infinite values in {describe_rows(infinite)} (0-based data rows); "
            "fix or remove them."
        )
    incomplete = np.flatnonzero(frame.isna().any(axis=1).to_numpy())
    if incomplete.size and missing == "error":
        raise InputError(
            f"{source} has missing values in {describe_rows(incomplete)} (0-based data rows) "
            f"of the columns {', '.join(names)}; fill them in, or pass --missing drop (or "
            "--missing marginalize with --model gaussian or t)."
        )
    if incomplete.size == len(frame) and missing != "marginalize":
        raise InputError(f"{source}: every row has a missing value in {', '.join(names)}.")
    if incomplete.size and missing == "drop":
        console.print(
            f"Dropped {incomplete.size} of {len(frame)} rows with missing values "
            f"({describe_rows(incomplete)}); pass --missing error to stop instead.",
            markup=False,
            highlight=False,
        )
    kept = frame if missing == "marginalize" else frame.dropna()
    rows = Rows(
        frame=kept,
        source=source,
        n_rows=len(frame),
        dropped=[] if missing == "marginalize" else [int(r) for r in incomplete],
        labels=None if labels is None else classes(table, labels).loc[kept.index],
        skipped=skipped,
        read_as=table.describe_format(),
        format=table.format.settings() if table.format is not None else None,
    )
    console.print(rows.describe(), markup=False, highlight=False)
    return rows


def check_components_fit(k: int, rows: Rows, covariance: str | None = None) -> None:
    """InputError if there are fewer rows than clusters, or too few for their covariances.

    ``covariance``: the --covariance of a Gaussian or t model (None for a one-column family);
    the rule is the estimators' own (``estimators/_sizes.py``, which imports only numpy).
    """
    if k > len(rows.frame):
        raise InputError(
            f"-k {k} is larger than the number of rows used ({len(rows.frame)}); pass a "
            "smaller -k or more rows."
        )
    if covariance is not None:
        from bayesmixture.estimators._sizes import check_rows_per_component

        n_obs, n_features = rows.frame.shape
        check_rows_per_component(
            n_obs, k, n_features, covariance, arg="-k", covariance_arg="--covariance"
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
