"""The ``bayesmixture`` command: cluster a CSV file without writing code.

``fit`` clusters the rows of a CSV file and writes a folder with the assignments, the saved
fit, a parameter summary and an HTML report; ``predict`` assigns new rows with a saved fit;
``select`` compares numbers of clusters; ``demo`` runs everything on the bundled penguins.

Bad input (missing file, unknown or non-numeric column, empty data, missing values, an
impossible number of clusters) ends with one line on stderr and exit code 2, never a
traceback; the output folder is written only once the fit has succeeded.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import secrets
import shlex
import shutil
import warnings
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import numpy as np
import pandas as pd
import typer
from rich.console import Console
from rich.table import Table

import bayesmixture as bm
from bayesmixture._validation import describe_rows
from bayesmixture.exceptions import ConvergenceWarning
from bayesmixture.inference import SAMPLERS, resolve_sampler

__all__ = ["app", "main"]

FAMILIES = (
    "normal",
    "studentt",
    "lognormal",
    "gamma",
    "exponential",
    "beta",
    "poisson",
    "negbinomial",
    "binomial",
)
MODELS = ("gaussian", *FAMILIES)
COVARIANCES = ("full", "diag", "tied", "spherical")
MISSING = ("drop", "error")
METHODS = ("loo", "bic")
SETTINGS_FILE = "settings.json"
FIT_FILE = "fit.nc"
EXIT_BAD_INPUT = 2

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


class InputError(Exception):
    """Bad input found by the command line itself (shown as one line, exit code 2)."""


# ---------------------------------------------------------------------- options

DataArg = Annotated[
    Path, typer.Argument(metavar="DATA.csv", help="CSV file with a header row, e.g. data.csv.")
]
ColumnsOpt = Annotated[
    str | None,
    typer.Option(
        "--columns",
        "-c",
        help="Comma-separated numeric columns to cluster on, e.g. --columns height,weight. "
        "Default: every numeric column.",
    ),
]
CovarianceOpt = Annotated[
    str,
    typer.Option(
        help="Shape of each Gaussian cluster: full (any orientation), diag (axis-aligned), "
        "tied (one shared covariance), spherical (round). E.g. --covariance diag.",
    ),
]
SamplerOpt = Annotated[
    str,
    typer.Option(
        help="Sampling backend: auto (fastest installed), pymc, nutpie or numpyro. "
        "E.g. --sampler nutpie.",
    ),
]
DrawsOpt = Annotated[
    int, typer.Option(help="Posterior draws kept per chain, e.g. --draws 2000 for a final run.")
]
TuneOpt = Annotated[
    int, typer.Option(help="Tuning (warm-up) steps per chain, discarded, e.g. --tune 1000.")
]
ChainsOpt = Annotated[
    int, typer.Option(help="Independent chains; 4 lets R-hat compare them, e.g. --chains 4.")
]
SeedOpt = Annotated[
    int | None,
    typer.Option(
        help="Random seed: the same seed gives the same numbers, e.g. --seed 1. Default: "
        "a random seed, recorded in settings.json and the report.",
    ),
]
MissingOpt = Annotated[
    str,
    typer.Option(
        help="Rows with a missing value in the chosen columns: drop them (their count is "
        "printed) or error (stop and name them). E.g. --missing error.",
    ),
]
ProgressOpt = Annotated[
    bool,
    typer.Option(help="Show a spinner while compiling and the sampler's progress bar."),
]


@dataclass
class FitOptions:
    """What ``fit``, ``select`` and ``demo`` were asked for, in the command's own terms."""

    model: str = "gaussian"
    components: int = 2
    covariance: str = "full"
    sampler: str = "auto"
    draws: int = 1000
    tune: int = 1000
    chains: int = 4
    seed: int | None = None
    missing: str = "drop"
    progress: bool = True


@dataclass
class Rows:
    """The table to cluster: chosen columns of the rows used, indexed by CSV row (0-based)."""

    frame: pd.DataFrame
    source: str
    n_rows: int
    dropped: list[int] = field(default_factory=list)


# ---------------------------------------------------------------------- commands


@app.command(
    epilog="Example: bayesmixture fit data.csv --columns a,b -k 3 --out clusters "
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
    model: Annotated[
        str,
        typer.Option(
            help="gaussian (any number of columns) or a one-column family: normal, studentt, "
            "lognormal, gamma, exponential, beta, poisson, negbinomial. E.g. --model poisson.",
        ),
    ] = "gaussian",
    covariance: CovarianceOpt = "full",
    sampler: SamplerOpt = "auto",
    draws: DrawsOpt = 1000,
    tune: TuneOpt = 1000,
    chains: ChainsOpt = 4,
    seed: SeedOpt = None,
    missing: MissingOpt = "drop",
    progress: ProgressOpt = True,
) -> None:
    """Cluster the rows of a CSV file and write the results and an HTML report.

    Writes to --out: assignments.csv (row, label, p_0, p_1, ..., uncertainty for every row
    used), fit.nc (the fit, for `bayesmixture predict`), summary.csv (posterior summary),
    settings.json and report.html (one self-contained page).
    """
    options = FitOptions(model, components, covariance, sampler, draws, tune, chains, seed,
                         missing, progress)  # fmt: skip
    with _reporting_errors():
        _check_options(options)
        _check_out_dir(out)
        console = Console()
        rows = _read_rows(data, columns, options.missing, console)
        estimator = _fit_rows(rows, options, console)
        command = _command_line("fit", data, out, options, columns=list(rows.frame.columns))
        _write_fit_dir(out, estimator, rows, options, console, command=command)


@app.command(
    epilog="Example: bayesmixture predict clusters new.csv --out new-labels.csv "
    "(clusters/ written by `bayesmixture fit ... --out clusters`)."
)
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
            metavar="NEW.csv", help="CSV file of new rows with the fitted columns, e.g. new.csv."
        ),
    ],
    out: Annotated[
        Path,
        typer.Option(help="CSV file to write: row, label, p_0, p_1, ..., uncertainty per row."),
    ],
    missing: MissingOpt = "drop",
) -> None:
    """Assign new rows to the clusters of a saved fit, without sampling again.

    The new CSV needs the columns the fit used (other columns are ignored); `row` in the
    output is the 0-based position of each row in the new file.
    """
    with _reporting_errors():
        _check_choice(missing, MISSING, "--missing")
        settings = _read_settings(fit_dir)
        console = Console()
        rows = _read_rows(data, settings["columns"], missing, console)
        estimator = bm.load(fit_dir / FIT_FILE)
        probability = estimator.predict_proba(_model_input(rows.frame, settings["model"]))
        table = _assignments(rows.frame.index, probability, _components(estimator))
        _write_csv_atomically(table, out)
        console.print(f"Assigned {len(table)} rows of {data} to clusters; wrote {out}")


@app.command(
    epilog="Example: bayesmixture select data.csv --columns a,b -k 1..6 --out selection",
)
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
    with _reporting_errors():
        _check_choice(method, METHODS, "--method")
        ks = _parse_components(components)
        options = FitOptions("gaussian", max(ks), covariance, sampler, draws, tune, chains,
                             seed, missing, progress)  # fmt: skip
        _check_options(options)
        template = _make_estimator(options)
        if getattr(template, "select", None) is None:
            raise InputError(
                "model selection is not available in this version of bayesmixture yet; "
                "fit each number of clusters with `bayesmixture fit -k K` meanwhile."
            )
        _check_out_dir(out)
        console = Console()
        rows = _read_rows(data, columns, missing, console)
        _check_components_fit(max(ks), rows)
        _resolve_seed(options)
        template.set_params(random_seed=options.seed)
        what = (
            f"{_describe_ks(ks)} clusters, one model each"
            if method == "loo"
            else f"the best of {_describe_ks(ks)} clusters by BIC"
        )
        with _FitProgress(_stderr_console(), options, stdout=console, what=what):
            result = template.select(rows.frame, n_components=ks, method=method)
        options.components = int(result.best.n_components)
        console.print(f"Chosen: {options.components} clusters ({method}).")
        _write_fit_dir(
            out,
            result.best,
            rows,
            options,
            console,
            command=_command_line(
                "select",
                data,
                out,
                options,
                columns=list(rows.frame.columns),
                ks=components,
                method=method,
            ),
            comparison=result.comparison,
        )


def _describe_ks(ks: list[int]) -> str:
    if len(ks) > 2 and ks == list(range(ks[0], ks[-1] + 1)):
        return f"{ks[0]} to {ks[-1]}"
    return ", ".join(map(str, ks[:-1])) + f" and {ks[-1]}" if len(ks) > 1 else str(ks[0])


@app.command(
    epilog="Example: bayesmixture demo --out demo-output --draws 500 (then open "
    "demo-output/report.html).",
)
def demo(
    out: Annotated[
        Path, typer.Option(help="Folder to write the demo's outputs to, e.g. --out penguins.")
    ] = Path("demo-output"),
    sampler: SamplerOpt = "auto",
    draws: DrawsOpt = 1000,
    tune: TuneOpt = 1000,
    chains: ChainsOpt = 4,
    seed: Annotated[int, typer.Option(help="Random seed, e.g. --seed 2.")] = 1,
    progress: ProgressOpt = True,
) -> None:
    """Cluster the bundled Palmer penguins (4 measurements, 3 clusters) end to end.

    Writes the files of `bayesmixture fit` plus penguins.csv (the data used) to --out,
    then prints how the clusters line up with the three species the model never saw.
    """
    options = FitOptions("gaussian", 3, "full", sampler, draws, tune, chains, seed, "drop",
                         progress)  # fmt: skip
    with _reporting_errors():
        _check_options(options)
        _check_out_dir(out)
        console = Console()
        penguins = bm.datasets.load_penguins()
        rows = Rows(
            frame=penguins[bm.datasets.PENGUIN_MEASUREMENTS],
            source="Palmer penguins bundled with bayesmixture (2 rows with missing "
            "measurements already removed), written to penguins.csv",
            n_rows=len(penguins),
        )
        estimator = _fit_rows(rows, options, console)
        labels = estimator.membership_["label"].values
        confusion = pd.crosstab(
            penguins["species"].astype(str).to_numpy(), labels, rownames=["species"]
        )
        confusion.columns.name = "cluster"
        _write_fit_dir(
            out,
            estimator,
            rows,
            options,
            console,
            command=_command_line("demo", None, out, options),
            reference=confusion,
            extra_files={"penguins.csv": penguins},
        )
        _print_confusion(console, confusion, out)


def main() -> None:
    """Entry point of the ``bayesmixture`` script (and ``python -m bayesmixture``)."""
    # Users cannot act on PyTensor's note about BLAS; it only clutters the output.
    warnings.filterwarnings("ignore", message="PyTensor could not link to a BLAS")
    app(prog_name="bayesmixture")


# ---------------------------------------------------------------------- errors


@contextlib.contextmanager
def _reporting_errors():
    """Turn bad input into one line on stderr and exit code 2 (130 on Ctrl-C)."""
    try:
        yield
    except (InputError, ValueError, TypeError, OSError) as err:
        message = " ".join(str(err).split()) or type(err).__name__
        if isinstance(err, OSError) and err.filename and str(err.filename) not in message:
            message = f"{err.filename}: {message}"
        typer.echo(f"Error: {message}", err=True)
        raise typer.Exit(EXIT_BAD_INPUT) from None
    except KeyboardInterrupt:
        typer.echo("Interrupted; nothing was written.", err=True)
        raise typer.Exit(130) from None


def _check_choice(value: str, choices: tuple[str, ...], option: str) -> None:
    if value not in choices:
        raise InputError(
            f"{option} {value!r} is not an option; choose one of {', '.join(choices)}."
        )


def _check_options(options: FitOptions) -> None:
    _check_choice(options.model, MODELS, "--model")
    _check_choice(options.covariance, COVARIANCES, "--covariance")
    _check_choice(options.sampler, SAMPLERS, "--sampler")
    _check_choice(options.missing, MISSING, "--missing")
    if options.components < 1:
        raise InputError(
            f"-k {options.components}: the number of clusters must be at least 1, e.g. -k 3."
        )
    for name in ("draws", "chains"):
        if getattr(options, name) < 1:
            raise InputError(f"--{name} {getattr(options, name)} must be at least 1.")
    if options.tune < 0:
        raise InputError(f"--tune {options.tune} must be 0 or more.")
    if options.model == "binomial":
        raise InputError(
            "--model binomial needs the number of trials of every row, which the command line "
            "does not take; use the Python API: bm.Mixture('binomial', k, trials=...)."
        )
    if options.model != "gaussian" and not hasattr(bm, "Mixture"):
        raise InputError(
            f"--model {options.model}: one-column families are not available in this version "
            "of bayesmixture yet; use --model gaussian."
        )
    resolve_sampler(options.sampler)  # a sampler that is not installed fails now, not later


def _check_out_dir(out: Path) -> None:
    """Refuse, before any work, a destination that exists and is not ours to replace."""
    if out.exists() and not out.is_dir():
        raise InputError(f"--out {out} is a file; pass a folder name, e.g. --out clusters.")
    if out.is_dir() and any(out.iterdir()) and not (out / SETTINGS_FILE).is_file():
        raise InputError(
            f"--out {out} already holds files that bayesmixture did not write; choose a new "
            "folder (an earlier bayesmixture output folder is replaced after a successful fit)."
        )


def _check_components_fit(k: int, rows: Rows) -> None:
    if k > len(rows.frame):
        raise InputError(
            f"-k {k} is larger than the number of rows used ({len(rows.frame)}); pass a "
            "smaller -k or more rows."
        )


def _parse_components(text: str) -> list[int]:
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


# ---------------------------------------------------------------------- reading data


def _read_rows(path: Path, columns: str | list[str] | None, missing: str, console: Console) -> Rows:
    """The chosen numeric columns of a CSV file, rows with missing values dropped or refused.

    ``columns``: the --columns text, None for every numeric column, or the list of columns a
    saved fit needs.
    """
    table = _read_csv(path)
    names = _choose_columns(table, columns, path)
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
    return Rows(
        frame=frame.dropna(),
        source=str(path),
        n_rows=len(frame),
        dropped=[int(r) for r in incomplete],
    )


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


def _choose_columns(table: pd.DataFrame, columns: str | list[str] | None, path: Path) -> list[str]:
    available = [str(c) for c in table.columns]
    table.columns = available
    if columns is None:
        names = [c for c in available if _is_number_column(table[c])]
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


# ---------------------------------------------------------------------- fitting


def _estimator_params(options: FitOptions) -> dict:
    params = {
        "draws": options.draws,
        "tune": options.tune,
        "chains": options.chains,
        "sampler": options.sampler,
        "random_seed": options.seed,
        "progressbar": options.progress,
    }
    if options.model == "gaussian":
        params["covariance_type"] = options.covariance
    return params


def _make_estimator(options: FitOptions):
    params = _estimator_params(options)
    if options.model == "gaussian":
        return bm.GaussianMixture(options.components, **params)
    return bm.Mixture(options.model, options.components, **params)


def _model_input(frame: pd.DataFrame, model: str):
    """What the estimator's fit/predict takes: the table, or its one column."""
    if model == "gaussian":
        return frame
    if frame.shape[1] != 1:
        raise InputError(
            f"--model {model} models one column, but {frame.shape[1]} were chosen "
            f"({', '.join(frame.columns)}); pass one with --columns, or use --model gaussian."
        )
    return frame.iloc[:, 0]


def _fit_rows(rows: Rows, options: FitOptions, console: Console):
    """Fit the chosen model to the rows, with a spinner while it compiles."""
    _check_components_fit(options.components, rows)
    _resolve_seed(options)
    estimator = _make_estimator(options)
    X = _model_input(rows.frame, options.model)
    what = f"{options.components} clusters"
    with (
        _FitProgress(_stderr_console(), options, stdout=console, what=what),
        warnings.catch_warnings(),
    ):
        warnings.filterwarnings("ignore", message="PyTensor could not link to a BLAS")
        # The summary printed after the fit lists every failed check with its advice.
        warnings.filterwarnings("ignore", category=ConvergenceWarning)
        return estimator.fit(X)


def _resolve_seed(options: FitOptions) -> None:
    if options.seed is None:
        options.seed = secrets.randbelow(2**31 - 1)  # recorded, so the fit can be repeated


def _stderr_console() -> Console:
    return Console(stderr=True)


class _FitProgress:
    """Spinner while the model is built and compiled, and while draws are relabelled.

    In between, PyMC's sampler draws its own progress bar: its log messages ("Multiprocess
    sampling ...", "Sampling ... took ...") tell the phases apart, and its other info
    messages are hidden while the spinner runs. Other samplers show their own progress only.
    """

    def __init__(self, console: Console, options: FitOptions, *, stdout: Console, what: str):
        self.console = console
        self.enabled = options.progress and resolve_sampler(options.sampler) == "pymc"
        self.status = None
        self.handlers: list[logging.Handler] = []
        if not options.progress:
            return
        stdout.print(
            f"Fitting {what}: {options.chains} chains of "
            f"{options.tune} tuning steps and {options.draws} draws."
        )

    def __enter__(self) -> _FitProgress:
        if self.enabled:
            self._spin("Building and compiling the model (about 10-30 s)...")
            self.handlers = list(logging.getLogger("pymc").handlers)
            for handler in self.handlers:
                handler.addFilter(self._on_log)
        return self

    def __exit__(self, *exc) -> None:
        for handler in self.handlers:
            handler.removeFilter(self._on_log)
        self._stop()

    def _spin(self, text: str) -> None:
        self._stop()
        self.status = self.console.status(text)
        self.status.start()

    def _stop(self) -> None:
        if self.status is not None:
            self.status.stop()
            self.status = None

    def _on_log(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if message.startswith(("Multiprocess sampling", "Sequential sampling")):
            self._stop()  # the sampler's progress bar takes over
            return True
        if message.startswith("Initializing NUTS") and self.status is not None:
            self.status.update("Compiling the model...")
            return False
        if message.startswith("Sampling ") and " took " in message:
            self._spin("Relabelling the draws and computing memberships...")
            return True
        return self.status is None or record.levelno >= logging.WARNING


# ---------------------------------------------------------------------- writing


def _components(estimator) -> list:
    """Component coordinates of a fitted estimator (0..K-1)."""
    return [
        c.item() if hasattr(c, "item") else c for c in estimator.membership_["component"].values
    ]


def _assignments(rows: pd.Index, probability: np.ndarray, components: list) -> pd.DataFrame:
    table = pd.DataFrame({"row": np.asarray(rows), "label": probability.argmax(axis=1)})
    for j, component in enumerate(components):
        table[f"p_{component}"] = probability[:, j]
    table["uncertainty"] = 1.0 - probability.max(axis=1)
    table["label"] = [components[j] for j in table["label"]]
    return table


def _settings(estimator, rows: Rows, options: FitOptions, command: str) -> dict:
    posterior = estimator.idata_.posterior
    return {
        "command": command,
        "model": options.model,
        "description": _describe(options),
        "columns": [str(c) for c in rows.frame.columns],
        "n_components": options.components,
        "covariance": options.covariance if options.model == "gaussian" else None,
        "sampler": options.sampler,
        "sampler_used": posterior.attrs.get("bayesmixture_sampler", options.sampler),
        "draws": options.draws,
        "tune": options.tune,
        "chains": options.chains,
        "seed": options.seed,
        "missing": options.missing,
        "data": rows.source,
        "rows_in_file": rows.n_rows,
        "rows_used": len(rows.frame),
        "rows_dropped": rows.dropped,
        "compile_and_sample_seconds": round(
            float(posterior.attrs.get("bayesmixture_wall_time", 0.0)), 1
        ),
        "bayesmixture_version": bm.__version__,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def _describe(options: FitOptions) -> str:
    if options.model == "gaussian":
        return (
            f"Bayesian Gaussian mixture with {options.components} clusters "
            f"({options.covariance} covariance), fitted by MCMC (NUTS)."
        )
    return f"Bayesian {options.model} mixture with {options.components} components."


def _write_fit_dir(
    out: Path,
    estimator,
    rows: Rows,
    options: FitOptions,
    console: Console,
    *,
    command: str,
    reference: pd.DataFrame | None = None,
    comparison: pd.DataFrame | None = None,
    extra_files: dict[str, pd.DataFrame] | None = None,
) -> None:
    """Write every output into a temporary folder next to ``out``, then swap it in."""
    from bayesmixture import report

    settings = _settings(estimator, rows, options, command)
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = out.with_name(f".{out.name}.{secrets.token_hex(6)}.tmp")
    staging.mkdir()  # not mkdtemp: the folder gets the usual permissions of new folders
    try:
        with _stderr_console().status("Writing the assignments, the fit and the report..."):
            membership = estimator.membership_
            table = _assignments(
                rows.frame.index, membership["probability"].values, _components(estimator)
            )
            table.to_csv(staging / "assignments.csv", index=False)
            estimator.save(staging / FIT_FILE)
            summary = estimator.summary()
            summary.to_csv(staging / "summary.csv", index_label="parameter")
            (staging / SETTINGS_FILE).write_text(json.dumps(settings, indent=2) + "\n")
            for name, frame in (extra_files or {}).items():
                frame.to_csv(staging / name, index_label="row")
            if comparison is not None:
                comparison.to_csv(staging / "comparison.csv", index_label="n_components")
                _save_comparison_plot(comparison, staging / "comparison.png")
            report.write_report(
                staging / "report.html",
                estimator.idata_,
                membership,
                rows.frame,
                settings=_report_settings(settings),
                description=settings["description"],
                summary=summary,
                reference=reference,
                comparison=comparison,
            )
        _replace_dir(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    diagnostics = report.diagnostics_table(estimator.idata_, estimator.membership_)
    _print_fit_summary(console, table, diagnostics, out, show_report=reference is None)


def _save_comparison_plot(comparison: pd.DataFrame, path: Path) -> None:
    from bayesmixture.plots import comparison_plot

    comparison_plot(comparison).savefig(path, dpi=100)


def _report_settings(settings: dict) -> dict:
    shown = dict(settings)
    dropped = shown["rows_dropped"]
    shown["rows_dropped"] = f"{len(dropped)} ({describe_rows(dropped)})" if dropped else "0"
    shown["columns"] = ", ".join(shown["columns"])
    return shown


def _replace_dir(staging: Path, out: Path) -> None:
    """Move the finished folder to ``out``; an earlier output there goes only afterwards."""
    if not out.exists():
        os.replace(staging, out)
        return
    old = out.with_name(f".{out.name}.{secrets.token_hex(6)}.old")
    os.replace(out, old)
    try:
        os.replace(staging, out)
    except BaseException:
        os.replace(old, out)
        raise
    shutil.rmtree(old, ignore_errors=True)


def _write_csv_atomically(table: pd.DataFrame, path: Path) -> None:
    if path.is_dir():
        raise InputError(f"--out {path} is a folder; pass a file name such as predictions.csv.")
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    try:
        table.to_csv(temporary, index=False)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def _read_settings(fit_dir: Path) -> dict:
    if not (fit_dir / FIT_FILE).is_file() or not (fit_dir / SETTINGS_FILE).is_file():
        raise InputError(
            f"{fit_dir} is not a fit folder (no {FIT_FILE} and {SETTINGS_FILE}); create one with "
            f"`bayesmixture fit DATA.csv --out {fit_dir}`."
        )
    return json.loads((fit_dir / SETTINGS_FILE).read_text())


def _command_line(
    command: str,
    data: Path | None,
    out: Path,
    options: FitOptions,
    *,
    columns: list[str] | None = None,
    ks: str | None = None,
    method: str | None = None,
) -> str:
    """The command that repeats this fit exactly: every option spelled out, seed included."""
    words = ["bayesmixture", command, *([str(data)] if data is not None else [])]
    if columns is not None:
        words += ["--columns", ",".join(columns)]
    if command == "fit":
        words += ["-k", str(options.components), "--model", options.model]
    if command == "select":
        words += ["-k", str(ks), "--method", str(method)]
    if command != "demo" and options.model == "gaussian":
        words += ["--covariance", options.covariance]
    words += ["--sampler", options.sampler, "--draws", str(options.draws)]
    words += ["--tune", str(options.tune), "--chains", str(options.chains)]
    words += ["--seed", str(options.seed)]
    if command != "demo":
        words += ["--missing", options.missing]
    return shlex.join([*words, "--out", str(out)])


# ---------------------------------------------------------------------- printing


def _print_fit_summary(
    console: Console, table: pd.DataFrame, diagnostics, out: Path, *, show_report: bool
) -> None:
    sizes = Table(title=f"{len(table)} rows in {table.filter(like='p_').shape[1]} clusters")
    for name in ("cluster", "rows", "share", "uncertain rows (uncertainty > 0.2)"):
        sizes.add_column(name, justify="right")
    for label, group in table.groupby("label"):
        sizes.add_row(
            str(label),
            str(len(group)),
            f"{len(group) / len(table):.0%}",
            str(int((group["uncertainty"] > 0.2).sum())),
        )
    console.print(sizes)
    for row in diagnostics.itertuples(index=False):
        if row.status == "check":
            console.print(
                f"[yellow]Check:[/yellow] {row.check} = {row.value} (target {row.target})"
            )
    console.print(f"Wrote {out}{os.sep}: {', '.join(sorted(p.name for p in out.iterdir()))}")
    if show_report:
        console.print(f"Report: {out / 'report.html'}")


def _print_confusion(console: Console, confusion: pd.DataFrame, out: Path) -> None:
    from bayesmixture.report import match_clusters

    mapping, n_wrong = match_clusters(confusion)
    total = int(confusion.to_numpy().sum())
    table = Table(title="Clusters (columns) against the species the model never saw")
    table.add_column("species")
    for cluster in confusion.columns:
        table.add_column(f"cluster {cluster}", justify="right")
    for species, counts in confusion.iterrows():
        table.add_row(str(species), *(str(int(c)) for c in counts))
    console.print(table)
    matched = ", ".join(f"cluster {k} = {v}" for k, v in sorted(mapping.items()))
    console.print(f"Best matching: {matched}")
    console.print(
        f"Misassigned after the best matching: {n_wrong} of {total} penguins "
        f"({n_wrong / total:.1%})"
    )
    console.print(f"Report: {out / 'report.html'}")


if __name__ == "__main__":  # pragma: no cover
    main()
