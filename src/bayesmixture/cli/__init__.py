"""The ``bayesmixture`` command: cluster a CSV file without writing code.

``fit`` clusters the rows of a CSV file and writes a folder with the assignments, the saved
fit, a parameter summary and an HTML report; ``predict`` assigns new rows with a saved fit;
``select`` compares numbers of clusters; ``demo`` runs everything on the bundled penguins.

Bad input (missing file, unknown or non-numeric column, empty data, missing values, an
impossible number of clusters) ends with one line on stderr and exit code 2, never a
traceback; the output folder is written only once the fit has succeeded.

One module per command (``_fit``, ``_predict``, ``_select``, ``_demo``); what they share:
``_options`` (choices from the library's tables, help, checks), ``_input`` (CSV files),
``_fitting`` (options to a fitted estimator), ``_progress`` (the spinner), ``_output``
(the output folder, written atomically, and what is printed), ``_errors`` (one-line errors).
"""

from __future__ import annotations

import warnings

import typer

from bayesmixture.cli import _demo, _fit, _predict, _select

__all__ = ["app", "main"]

app = typer.Typer(
    name="bayesmixture",
    help=(
        "Cluster the rows of a CSV file with a Bayesian mixture model and get, for every row, "
        "the probability of each cluster, plus an HTML report.\n\n"
        "Example: bayesmixture fit data.csv --columns height,weight -k 3 --out clusters"
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="markdown",
)
app.command(epilog=_fit.EPILOG)(_fit.fit)
app.command(epilog=_predict.EPILOG)(_predict.predict)
app.command(epilog=_select.EPILOG)(_select.select)
app.command(epilog=_demo.EPILOG)(_demo.demo)


def main() -> None:
    """Entry point of the ``bayesmixture`` script (and ``python -m bayesmixture``)."""
    # Users cannot act on PyTensor's note about BLAS; it only clutters the output.
    warnings.filterwarnings("ignore", message="PyTensor could not link to a BLAS")
    app(prog_name="bayesmixture")
