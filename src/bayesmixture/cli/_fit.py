"""``bayesmixture fit``: cluster the rows of a table, write the results and a report."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from bayesmixture.cli._errors import reporting_errors
from bayesmixture.cli._fitting import fit_rows
from bayesmixture.cli._input import check_out_dir, read_rows
from bayesmixture.cli._options import (
    ColumnsOpt,
    DataArg,
    FitOptions,
    MissingOpt,
    ModelOptions,
    SamplingOptions,
    TableFormat,
    check_options,
    check_plain_options,
    command_line,
    with_option_groups,
)
from bayesmixture.cli._output import write_fit_dir
from bayesmixture.cli._warnings import tidy_warnings

EPILOG = (
    "Example: bayesmixture fit data.csv --columns a,b -k 3 --out clusters "
    "(then open clusters/report.html). A file from a spreadsheet in another locale: "
    "bayesmixture fit export.csv --sep ';' --decimal , -k 3 --out clusters."
)


@with_option_groups
def fit(
    data: DataArg,
    out: Annotated[
        Path,
        typer.Option(
            help="Folder to write assignments.csv, fit.nc, summary.csv, settings.json and "
            "report.html into, e.g. --out clusters. Written only if the fit succeeds; a "
            "previous bayesmixture output there is replaced.",
        ),
    ],
    columns: ColumnsOpt = None,
    components: Annotated[
        int, typer.Option("--components", "-k", help="Number of clusters, e.g. -k 3.")
    ] = 2,
    *,
    model_options: ModelOptions,
    sampling: SamplingOptions,
    missing: MissingOpt = "error",
    table_format: TableFormat,
) -> None:
    """Cluster the rows of a table (CSV, TSV, Parquet) and write the results and a report.

    Before fitting, one line says which rows and columns are used and why any column is
    skipped. Writes to --out: assignments.csv (row, label, p_0, p_1, ..., uncertainty for
    every row used), fit.nc (the fit, for `bayesmixture predict`), summary.csv (posterior
    summary), settings.json and report.html (one self-contained page).
    """
    options = FitOptions.of(components, missing, model_options, sampling)
    with reporting_errors(), tidy_warnings():
        check_plain_options(options)
        check_out_dir(out)
        console = Console()
        rows = read_rows(
            data, columns, options.missing, console, labels=options.labels,
            table_format=table_format,
        )  # fmt: skip
        check_options(options)
        estimator = fit_rows(rows, options, console)
        command = command_line(
            "fit", data, out, options, columns=list(rows.frame.columns), table_format=table_format
        )
        write_fit_dir(out, estimator, rows, options, console, command=command)
