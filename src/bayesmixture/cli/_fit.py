"""``bayesmixture fit``: cluster the rows of a CSV file, write the results and a report."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from bayesmixture.cli._errors import reporting_errors
from bayesmixture.cli._fitting import fit_rows
from bayesmixture.cli._input import check_out_dir, read_rows
from bayesmixture.cli._options import (
    ChainsOpt,
    ColumnsOpt,
    CovarianceOpt,
    DataArg,
    DrawsOpt,
    FitOptions,
    LabelsOpt,
    MissingOpt,
    ModelOpt,
    NoiseOpt,
    ProgressOpt,
    SamplerOpt,
    SeedOpt,
    TuneOpt,
    WeightsPriorOpt,
    check_options,
    command_line,
)
from bayesmixture.cli._output import write_fit_dir

EPILOG = (
    "Example: bayesmixture fit data.csv --columns a,b -k 3 --out clusters "
    "(then open clusters/report.html)."
)


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
    model: ModelOpt = "gaussian",
    covariance: CovarianceOpt = "full",
    sampler: SamplerOpt = "auto",
    draws: DrawsOpt = 1000,
    tune: TuneOpt = 1000,
    chains: ChainsOpt = 4,
    seed: SeedOpt = None,
    missing: MissingOpt = "drop",
    weights_prior: WeightsPriorOpt = "1",
    noise: NoiseOpt = False,
    labels: LabelsOpt = None,
    progress: ProgressOpt = True,
) -> None:
    """Cluster the rows of a CSV file and write the results and an HTML report.

    Writes to --out: assignments.csv (row, label, p_0, p_1, ..., uncertainty for every row
    used), fit.nc (the fit, for `bayesmixture predict`), summary.csv (posterior summary),
    settings.json and report.html (one self-contained page).
    """
    options = FitOptions(model, components, covariance, sampler, draws, tune, chains, seed,
                         missing, progress, weights_prior, noise, labels)  # fmt: skip
    with reporting_errors():
        check_options(options)
        check_out_dir(out)
        console = Console()
        rows = read_rows(data, columns, options.missing, console, labels=labels)
        estimator = fit_rows(rows, options, console)
        command = command_line("fit", data, out, options, columns=list(rows.frame.columns))
        write_fit_dir(out, estimator, rows, options, console, command=command)
