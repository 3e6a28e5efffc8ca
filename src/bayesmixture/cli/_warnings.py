"""Warnings while a command runs: one tidy line each, after the results, never a file path.

The sampling checks (``ConvergenceWarning``) are left out: ``fit`` prints them as "Check:"
lines and ``select`` puts them in its table, both in their own words. Any other warning, of
the library or of PyMC, ArviZ, ..., becomes "Note (package): first line of the message",
once however often it was raised; notes that users cannot act on (installation notes,
floating-point notes, other packages' deprecations) are dropped. A run that ends in an error
shows its one error line only.
"""

from __future__ import annotations

import contextlib
import logging
import warnings
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import typer

# Messages users cannot act on (regular expressions matched at the start of the message):
# notes about the installation, floating-point notes from inside the libraries, and ArviZ's
# Pareto k note (the library's own PredictionWarning names the rows concerned).
DROPPED = (
    "PyTensor could not link to a BLAS",
    r"\s*ArviZ is undergoing a major refactor",
    "(invalid value|divide by zero|overflow) encountered",
    "Estimated shape parameter of Pareto distribution",
)
# Warnings about other packages' own code (deprecations) are for their authors, not for users.
DROPPED_CATEGORIES = (DeprecationWarning, PendingDeprecationWarning, FutureWarning)


# Loggers whose warnings repeat what the sampling checks say (ArviZ: "Shape validation failed"
# for one chain, where the checks say "R-hat not available").
QUIET_LOGGERS = ("arviz",)


@contextlib.contextmanager
def tidy_warnings() -> Iterator[list[warnings.WarningMessage]]:
    """Record the warnings of the block; on success print each as one line on stderr."""
    loggers = [logging.getLogger(name) for name in QUIET_LOGGERS]
    levels = [logger.level for logger in loggers]
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            for message in DROPPED:
                warnings.filterwarnings("ignore", message=message)
            for logger in loggers:
                logger.setLevel(logging.ERROR)
            yield caught
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)
    for line in tidy_lines(caught):
        typer.echo(line, err=True)


def tidy_lines(caught: list[warnings.WarningMessage]) -> list[str]:
    """'Note (arviz): Estimated shape parameter ... (3 times)', one per distinct warning."""
    if not caught:
        return []
    # here, not at the top: the class is made on first use, importing scikit-learn
    from bayesmixture.exceptions import ConvergenceWarning

    counts = Counter(
        (_package(w.filename), _first_line(w.message))
        for w in caught
        if not issubclass(w.category, ConvergenceWarning)
        and not (
            issubclass(w.category, DROPPED_CATEGORIES) and _package(w.filename) != "bayesmixture"
        )
    )
    return [
        f"Note ({package}): {text}" + (f" ({n} times)" if n > 1 else "")
        for (package, text), n in counts.items()
    ]


def _first_line(message: Warning | str) -> str:
    lines = [line.strip() for line in str(message).splitlines() if line.strip()]
    return lines[0] if lines else type(message).__name__


def _package(filename: str) -> str:
    """The package that raised a warning, from its file's path: 'arviz', 'bayesmixture'."""
    parts = Path(filename).parts
    for anchor in ("site-packages", "dist-packages"):
        if anchor in parts[:-1]:
            return parts[parts.index(anchor) + 1].removesuffix(".py")
    return "bayesmixture" if "bayesmixture" in parts else "python"
