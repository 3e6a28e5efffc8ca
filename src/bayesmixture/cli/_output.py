"""Writing the results: the output folder (all or nothing), the CSV files, what is printed.

Every file and folder goes through :func:`bayesmixture._atomic.atomic_path`: the folder is
built under a temporary name next to ``--out`` and swapped in only once every file is
written, so a failed or interrupted run leaves the previous output as it was.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
from rich.console import Console
from rich.table import Table

import bayesmixture as bm
from bayesmixture._atomic import atomic_path
from bayesmixture._validation import describe_rows
from bayesmixture.cli._choices import TABLE_MODELS
from bayesmixture.cli._errors import InputError
from bayesmixture.cli._input import FIT_FILE, SETTINGS_FILE, Rows, describe_skipped
from bayesmixture.cli._options import FitOptions
from bayesmixture.cli._progress import stderr_console


def component_labels(estimator) -> list:
    """Component coordinates of a fitted estimator (0..K-1)."""
    return [
        c.item() if hasattr(c, "item") else c for c in estimator.membership_["component"].values
    ]


def assignments(rows: pd.Index, probability: np.ndarray, components: list) -> pd.DataFrame:
    """The assignments table: row, label, p_<component>..., uncertainty."""
    table = pd.DataFrame({"row": np.asarray(rows), "label": probability.argmax(axis=1)})
    for j, component in enumerate(components):
        table[f"p_{component}"] = probability[:, j]
    table["uncertainty"] = 1.0 - probability.max(axis=1)
    table["label"] = [components[j] for j in table["label"]]
    return table


def write_csv(table: pd.DataFrame, path: Path) -> None:
    """Write ``table`` to the CSV file ``path`` atomically (--out of ``predict``)."""
    if path.is_dir():
        raise InputError(f"--out {path} is a folder; pass a file name such as predictions.csv.")
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as temporary:
        table.to_csv(temporary, index=False)


def write_fit_dir(
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
    """Write every output into a temporary folder next to ``out``, swap it in, then print."""
    from bayesmixture import report

    settings = _settings(estimator, rows, options, command)
    out.parent.mkdir(parents=True, exist_ok=True)
    with (
        atomic_path(out, folder=True) as staging,
        stderr_console().status("Writing the assignments, the fit and the report..."),
    ):
        membership = estimator.membership_
        table = assignments(
            rows.frame.index, membership["probability"].values, component_labels(estimator)
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
            diagnostics=estimator.diagnostics_,
        )
    diagnostics = report.diagnostics_table(
        estimator.idata_, estimator.membership_, findings=estimator.diagnostics_
    )
    _print_fit_summary(console, table, diagnostics, out, show_report=reference is None)


def _settings(estimator, rows: Rows, options: FitOptions, command: str) -> dict:
    posterior = estimator.idata_.posterior
    return {
        "command": command,
        "model": options.model,
        "description": _describe(options),
        "columns": [str(c) for c in rows.frame.columns],
        "columns_skipped": dict(rows.skipped),
        "n_components": options.components,
        "covariance": options.covariance if options.model in TABLE_MODELS else None,
        "noise": options.noise,
        "labels": options.labels,
        "sampler": options.sampler,
        "sampler_used": posterior.attrs.get("bayesmixture_sampler", options.sampler),
        "draws": options.draws,
        "tune": options.tune,
        "tune_used": estimator.tune_,
        "chains": options.chains,
        "seed": options.seed,
        "missing": options.missing,
        "data": rows.source,
        "read_as": rows.read_as,
        **({"format": rows.format} if rows.format is not None else {}),
        "rows_in_file": rows.n_rows,
        "rows_used": len(rows.frame),
        "rows_dropped": rows.dropped,
        "compile_and_sample_seconds": round(
            float(posterior.attrs.get("bayesmixture_wall_time", float("nan"))), 3
        ),
        "fit_seconds": round(estimator.fit_seconds_, 3),
        "bayesmixture_version": bm.__version__,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def _describe(options: FitOptions) -> str:
    extras = [
        *(["a noise component"] * options.noise),
        *([f"classes from column {options.labels}"] if options.labels else []),
    ]
    extra = f", with {' and '.join(extras)}" if extras else ""
    if options.model in TABLE_MODELS:
        kind = "Gaussian" if options.model == "gaussian" else "Student-t"
        return (
            f"Bayesian {kind} mixture with {options.components} clusters "
            f"({options.covariance} covariance){extra}, fitted by MCMC (NUTS)."
        )
    return f"Bayesian {options.model} mixture with {options.components} components{extra}."


def _save_comparison_plot(comparison: pd.DataFrame, path: Path) -> None:
    from bayesmixture.plots import comparison_plot

    comparison_plot(comparison).savefig(path, dpi=100)


def _report_settings(settings: dict) -> dict:
    shown = dict(settings)
    dropped = shown["rows_dropped"]
    shown["rows_dropped"] = f"{len(dropped)} ({describe_rows(dropped)})" if dropped else "0"
    shown["columns"] = ", ".join(shown["columns"])
    skipped = shown["columns_skipped"]
    shown["columns_skipped"] = describe_skipped(skipped) if skipped else "none"
    shown.pop("format", None)  # read_as says the same in words
    return shown


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


def print_confusion(console: Console, confusion: pd.DataFrame, out: Path) -> None:
    """The clusters against known classes, the best matching and how many it misassigns."""
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
