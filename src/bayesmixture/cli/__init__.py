"""The ``bayesmixture`` command: cluster a table without writing code.

``fit`` clusters the rows of a table (CSV with any usual separator, TSV, Parquet, standard
input) and writes a folder with the assignments, the saved fit, a parameter summary and an
HTML report; ``predict`` assigns new rows with a saved fit; ``select`` compares numbers of
clusters; ``demo`` runs everything on the bundled penguins.

Bad input (missing file, unknown column, a column of numbers that cannot be read as such,
empty data, missing values, too many clusters for the rows) ends with one line on stderr and
exit code 2, never a traceback; the output folder is written only once the fit has succeeded.

Help, ``--version`` and bad input answer at once: this package and the command modules import
only typer, rich and pandas; PyMC, ArviZ, scikit-learn and matplotlib load inside a command,
once its input has been checked (``_choices`` reads the library's tables when needed).

One module per command (``_fit``, ``_predict``, ``_select``, ``_demo``); what they share:
``_options`` (the options, in groups, and their checks), ``_choices`` (the library's tables),
``_table``, ``_dialect``, ``_numbers``, ``_columns`` and ``_input`` (reading the input),
``_fitting`` (options to a fitted estimator), ``_progress`` (the spinner), ``_output`` (the
output folder, written atomically, and what is printed), ``_warnings`` (tidy notes),
``_errors`` (one-line errors).
"""

from __future__ import annotations

import warnings
from typing import Annotated

import typer

from bayesmixture._version import __version__
from bayesmixture.cli import _demo, _fit, _predict, _select
from bayesmixture.cli._choices import HelpCommand, HelpGroup

__all__ = ["app", "main"]

app = typer.Typer(
    name="bayesmixture",
    help=(
        "Cluster the rows of a table (CSV, TSV, Parquet) with a Bayesian mixture model and "
        "get, for every row, the probability of each cluster, plus an HTML report.\n\n"
        "Example: bayesmixture fit data.csv --columns height,weight -k 3 --out clusters"
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="markdown",
    cls=HelpGroup,
)
app.command(epilog=_fit.EPILOG, cls=HelpCommand)(_fit.fit)
app.command(epilog=_predict.EPILOG, cls=HelpCommand)(_predict.predict)
app.command(epilog=_select.EPILOG, cls=HelpCommand)(_select.select)
app.command(epilog=_demo.EPILOG, cls=HelpCommand)(_demo.demo)


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"bayesmixture {__version__}")
        raise typer.Exit()


@app.callback()
def _options(
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            callback=_print_version,
            is_eager=True,
            help="Print the version of bayesmixture and exit.",
        ),
    ] = False,
) -> None:
    """Options of the command itself (the commands have their own)."""


def main() -> None:
    """Entry point of the ``bayesmixture`` script (and ``python -m bayesmixture``)."""
    # Users cannot act on PyTensor's note about BLAS; it only clutters the output.
    warnings.filterwarnings("ignore", message="PyTensor could not link to a BLAS")
    app(prog_name="bayesmixture")
