"""Bad input ends as one line on stderr and exit code 2, never a traceback."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import typer

EXIT_BAD_INPUT = 2
EXIT_INTERRUPTED = 130


class InputError(Exception):
    """Bad input found by the command line itself (shown as one line, exit code 2)."""


@contextlib.contextmanager
def reporting_errors() -> Iterator[None]:
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
        raise typer.Exit(EXIT_INTERRUPTED) from None


def check_choice(value: str, choices: tuple[str, ...], option: str) -> None:
    """InputError naming ``option`` and listing ``choices`` if ``value`` is not one of them."""
    if value not in choices:
        raise InputError(
            f"{option} {value!r} is not an option; choose one of {', '.join(choices)}."
        )
