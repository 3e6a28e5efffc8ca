"""``bayesmixture demo``: the whole workflow on the bundled Palmer penguins."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import pandas as pd
import typer
from rich.console import Console

import bayesmixture as bm
from bayesmixture.cli._errors import reporting_errors
from bayesmixture.cli._fitting import fit_rows
from bayesmixture.cli._input import Rows, check_out_dir
from bayesmixture.cli._options import (
    ChainsOpt,
    DrawsOpt,
    FitOptions,
    ProgressOpt,
    SamplerOpt,
    TuneOpt,
    check_options,
    command_line,
)
from bayesmixture.cli._output import print_confusion, write_fit_dir
from bayesmixture.cli._warnings import tidy_warnings

EPILOG = (
    "Example: bayesmixture demo --out demo-output --draws 500 (then open demo-output/report.html)."
)


def demo(
    out: Annotated[
        Path, typer.Option(help="Folder to write the demo's outputs to, e.g. --out penguins.")
    ] = Path("demo-output"),
    sampler: SamplerOpt = "auto",
    draws: DrawsOpt = 1000,
    tune: TuneOpt = None,
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
    with reporting_errors(), tidy_warnings():
        check_options(options)
        check_out_dir(out)
        console = Console()
        penguins = bm.datasets.load_penguins()
        rows = Rows(
            frame=penguins[bm.datasets.PENGUIN_MEASUREMENTS],
            source="Palmer penguins bundled with bayesmixture (2 rows with missing "
            "measurements already removed), written to penguins.csv",
            n_rows=len(penguins),
            skipped={
                "species": "the known species, compared with the clusters afterwards",
                **{name: "not a measurement" for name in ("island", "sex", "year")},
            },
            read_as="bundled data",
        )
        estimator = fit_rows(rows, options, console)
        labels = estimator.membership_["label"].values
        confusion = pd.crosstab(
            penguins["species"].astype(str).to_numpy(), labels, rownames=["species"]
        )
        confusion.columns.name = "cluster"
        write_fit_dir(
            out,
            estimator,
            rows,
            options,
            console,
            command=command_line("demo", None, out, options),
            reference=confusion,
            extra_files={"penguins.csv": penguins},
        )
        print_confusion(console, confusion, out)
