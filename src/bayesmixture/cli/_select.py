"""``bayesmixture select``: compare numbers of clusters and keep the best supported one."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import pandas as pd
import typer
from rich.console import Console

from bayesmixture.cli._errors import InputError, check_choice, reporting_errors
from bayesmixture.cli._fitting import check_rows_fit, fit_arguments, make_estimator, resolve_seed
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
from bayesmixture.cli._progress import FitProgress, stderr_console
from bayesmixture.cli._warnings import tidy_warnings

EPILOG = "Example: bayesmixture select data.csv --columns a,b -k 1..6 --out selection"
# bayesmixture.selection.METHODS (a test holds them equal): reading the table there would
# import PyMC and ArviZ before a misspelt --method could be reported.
METHODS = ("loo", "bic")


@with_option_groups
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
    *,
    model_options: ModelOptions,
    sampling: SamplingOptions,
    missing: MissingOpt = "error",
    table_format: TableFormat,
) -> None:
    """Compare several numbers of clusters and keep the best supported one.

    Takes the model options of `bayesmixture fit`. Writes comparison.csv (one row per number
    of clusters, with the sampling checks of each fit), comparison.png and, for the chosen
    number of clusters, the same files as `bayesmixture fit` (the report gains a comparison
    section). With --method loo the choice is the smallest number of clusters whose
    predictive accuracy is within two standard errors of the best.
    """
    with reporting_errors(), tidy_warnings():
        check_choice(method, METHODS, "--method")
        ks = parse_components(components)
        options = FitOptions.of(max(ks), missing, model_options, sampling)
        check_plain_options(options)
        check_out_dir(out)
        console = Console()
        rows = read_rows(
            data, columns, options.missing, console, labels=options.labels,
            table_format=table_format,
        )  # fmt: skip
        check_options(options)
        check_rows_fit(max(ks), rows, options)
        template = make_estimator(options)
        if getattr(template, "select", None) is None:
            raise InputError(
                "model selection is not available in this version of bayesmixture yet; "
                "fit each number of clusters with `bayesmixture fit -k K` meanwhile."
            )
        resolve_seed(options)
        template.set_params(random_seed=options.seed)
        what = (
            f"{describe_ks(ks)} clusters, one model each"
            if method == "loo"
            else f"the best of {describe_ks(ks)} clusters by BIC"
        )
        args, kwargs = fit_arguments(rows, options)
        with FitProgress(stderr_console(), options, stdout=console, what=what):
            result = template.select(*args, n_components=ks, method=method, **kwargs)
        options.components = int(result.best.n_components)
        comparison = with_checks(result.comparison, result.fits)
        for k, checks in sorted(comparison["checks"].items()):
            console.print(f"K={k}: {checks}", markup=False, highlight=False)
        console.print(f"Chosen: {options.components} clusters ({method}).")
        command = command_line(
            "select", data, out, options, columns=list(rows.frame.columns), ks=components,
            method=method, table_format=table_format,
        )  # fmt: skip
        write_fit_dir(
            out, result.best, rows, options, console, command=command, comparison=comparison
        )


def with_checks(comparison: pd.DataFrame, fits: dict) -> pd.DataFrame:
    """The comparison with a column ``checks``: each fit's failed sampling checks, in words."""
    from bayesmixture.report import diagnostics_table

    words = {}
    for k, fit in fits.items():
        table = diagnostics_table(fit.idata_, fit.membership_)
        failed = table.loc[table["status"] == "check", "check"].tolist()
        words[int(k)] = (
            f"{len(failed)} check{'s' * (len(failed) > 1)} failed ({', '.join(failed)})"
            if failed
            else "all checks passed"
        )
    shown = comparison.copy()
    shown["checks"] = [words.get(int(k), "not sampled (screened by BIC)") for k in shown.index]
    return shown


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
