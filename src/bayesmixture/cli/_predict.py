"""``bayesmixture predict``: assign new rows with a saved fit, without sampling again."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

import bayesmixture as bm
from bayesmixture.cli._errors import check_choice, reporting_errors
from bayesmixture.cli._fitting import model_input
from bayesmixture.cli._input import FIT_FILE, read_rows, read_settings
from bayesmixture.cli._options import MISSING, MissingOpt, TableFormat, with_option_groups
from bayesmixture.cli._output import assignments, component_labels, write_csv
from bayesmixture.cli._warnings import tidy_warnings

EPILOG = (
    "Example: bayesmixture predict clusters new.csv --out new-labels.csv "
    "(clusters/ written by `bayesmixture fit ... --out clusters`)."
)


@with_option_groups
def predict(
    fit_dir: Annotated[
        Path,
        typer.Argument(
            metavar="FIT_DIR", help="Folder written by `bayesmixture fit --out`, e.g. clusters."
        ),
    ],
    data: Annotated[
        Path,
        typer.Argument(
            metavar="NEW",
            help="Table of new rows with the fitted columns (CSV, TSV, Parquet, or - for "
            "standard input), e.g. new.csv.",
        ),
    ],
    out: Annotated[
        Path,
        typer.Option(help="CSV file to write: row, label, p_0, p_1, ..., uncertainty per row."),
    ],
    missing: MissingOpt = "error",
    *,
    table_format: TableFormat,
) -> None:
    """Assign new rows to the clusters of a saved fit, without sampling again.

    The new table needs the columns the fit used (other columns are ignored); `row` in the
    output is the 0-based position of each row in the new file.
    """
    with reporting_errors(), tidy_warnings():
        check_choice(missing, MISSING, "--missing")
        settings = read_settings(fit_dir)
        console = Console()
        rows = read_rows(data, settings["columns"], missing, console, table_format=table_format)
        estimator = bm.load(fit_dir / FIT_FILE)
        probability = estimator.predict_proba(model_input(rows.frame, settings["model"]))
        table = assignments(rows.frame.index, probability, component_labels(estimator))
        write_csv(table, out)
        console.print(f"Assigned {len(table)} rows of {rows.source} to clusters; wrote {out}")
