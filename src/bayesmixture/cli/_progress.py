"""What the user sees while a fit runs: a spinner around the sampler's own progress bar."""

from __future__ import annotations

import logging

from rich.console import Console

from bayesmixture.cli._options import FitOptions


def stderr_console() -> Console:
    """Where progress goes: stderr, so that stdout holds only the results."""
    return Console(stderr=True)


class FitProgress:
    """Spinner while the model is built and compiled, and while draws are relabelled.

    In between, PyMC's sampler draws its own progress bar: its log messages ("Multiprocess
    sampling ...", "Sampling ... took ...") tell the phases apart, and its other info
    messages are hidden while the spinner runs. Other samplers show their own progress only.
    """

    def __init__(self, console: Console, options: FitOptions, *, stdout: Console, what: str):
        from bayesmixture.inference import resolve_sampler

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

    def __enter__(self) -> FitProgress:
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
