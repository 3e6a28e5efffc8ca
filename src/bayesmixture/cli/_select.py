"""``bayesmixture select``: compare numbers of clusters and keep the best supported one."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from bayesmixture.cli._errors import InputError, check_choice, reporting_errors
from bayesmixture.cli._fitting import make_estimator, resolve_seed
from bayesmixture.cli._input import check_components_fit, check_out_dir, read_rows
from bayesmixture.cli._options import (
    ChainsOpt,
    ColumnsOpt,
    CovarianceOpt,
    DataArg,
    DrawsOpt,
    FitOptions,
    MissingOpt,
    ProgressOpt,
    SamplerOpt,
    SeedOpt,
    TuneOpt,
    check_options,
    command_line,
)
from bayesmixture.cli._output import write_fit_dir
from bayesmixture.cli._progress import FitProgress, stderr_console
from bayesmixture.selection import METHODS

EPILOG = "Example: bayesmixture select data.csv --columns a,b -k 1..6 --out selection"


def select(
    data: DataArg,
    out: Annotated[
        Path,
        typer.Option(
            help="Folder for comparison.csv, comparison.png and the best model's outputs "
            "(as written by fit), e.g. --out selection.",
        ),
    ],
    columns: ColumnsOpt = None,
    components: Annotated[
        str,
        typer.Option(
            "--components",
            "-k",
            help="Numbers of clusters to compare: a range 1..6 or a list 2,3,5.",
        ),
    ] = "1..6",
    method: Annotated[
        str,
        typer.Option(
            help="loo: fit every number of clusters and compare them by leave-one-out "
            "cross-validation (thorough); bic: screen them by EM and BIC, then fit only the "
            "best (fast). E.g. --method bic.",
        ),
    ] = "loo",
    covariance: CovarianceOpt = "full",
    sampler: SamplerOpt = "auto",
    draws: DrawsOpt = 1000,
    tune: TuneOpt = 1000,
    chains: ChainsOpt = 4,
    seed: SeedOpt = None,
    missing: MissingOpt = "drop",
    progress: ProgressOpt = True,
) -> None:
    """Compare several numbers of clusters and keep the best supported one.

    Writes comparison.csv (one row per number of clusters), comparison.png and, for the
    chosen number of clusters, the same files as `bayesmixture fit` (the report gains a
    comparison section). With --method loo the choice is the smallest number of clusters
    whose predictive accuracy is within two standard errors of the best.
    """
    with reporting_errors():
        check_choice(method, METHODS, "--method")
        ks = parse_components(components)
        options = FitOptions("gaussian", max(ks), covariance, sampler, draws, tune, chains,
                             seed, missing, progress)  # fmt: skip
        check_options(options)
        template = make_estimator(options)
        if getattr(template, "select", None) is None:
            raise InputError(
                "model selection is not available in this version of bayesmixture yet; "
                "fit each number of clusters with `bayesmixture fit -k K` meanwhile."
            )
        check_out_dir(out)
        console = Console()
        rows = read_rows(data, columns, missing, console)
        check_components_fit(max(ks), rows)
        resolve_seed(options)
        template.set_params(random_seed=options.seed)
        what = (
            f"{describe_ks(ks)} clusters, one model each"
            if method == "loo"
            else f"the best of {describe_ks(ks)} clusters by BIC"
        )
        with FitProgress(stderr_console(), options, stdout=console, what=what):
            result = template.select(rows.frame, n_components=ks, method=method)
        options.components = int(result.best.n_components)
        console.print(f"Chosen: {options.components} clusters ({method}).")
        used = list(rows.frame.columns)
        command = command_line(
            "select", data, out, options, columns=used, ks=components, method=method
        )
        write_fit_dir(
            out, result.best, rows, options, console, command=command, comparison=result.comparison
        )


def parse_components(text: str) -> list[int]:
    """'1..6' -> [1, ..., 6]; '2,3,5' -> [2, 3, 5]."""
    try:
        if ".." in text:
            low, high = (int(part) for part in text.split("..", 1))
            ks = list(range(low, high + 1))
        else:
            ks = sorted({int(part) for part in text.split(",") if part.strip()})
    except ValueError:
        ks = []
    if not ks or ks[0] < 1:
        raise InputError(
            f"-k {text!r} is not a set of cluster numbers from 1 up; pass a range such as "
            "-k 1..6 or a list such as -k 2,3,5."
        )
    return ks


def describe_ks(ks: list[int]) -> str:
    """[1, 2, 3, 4] -> '1 to 4'; [2, 5] -> '2 and 5'."""
    if len(ks) > 2 and ks == list(range(ks[0], ks[-1] + 1)):
        return f"{ks[0]} to {ks[-1]}"
    return ", ".join(map(str, ks[:-1])) + f" and {ks[-1]}" if len(ks) > 1 else str(ks[0])
