"""
The command line and its HTML report
====================================

``bayesmixture fit`` clusters the rows of a table without writing code: it says which
rows and columns it uses, fits, and writes a folder with every row's probabilities, the
saved fit (for ``bayesmixture predict``), a parameter summary and a self-contained HTML
report. This example runs the command on the penguins and shows the report it wrote.
"""

# %%
# A CSV file, as a spreadsheet would export it:
import subprocess
import sys
import tempfile
from pathlib import Path

import bayesmixture as bm

folder = Path(tempfile.mkdtemp())
bm.datasets.load_penguins().to_csv(folder / "penguins.csv", index=False)
print((folder / "penguins.csv").read_text().splitlines()[:3])

# %%
# The command
# -----------
# Four measurement columns, three clusters, a fixed seed; the other columns (species,
# island, sex, year) are left out and the command says so. (``sys.executable -m
# bayesmixture`` is the ``bayesmixture`` command of this Python.)
command = [
    "fit",
    "penguins.csv",
    "--columns",
    "bill_length_mm,bill_depth_mm,flipper_length_mm,body_mass_g",
    "-k",
    "3",
    "--draws",
    "1000",
    "--tune",
    "500",
    "--chains",
    "2",
    "--seed",
    "1",
    "--no-progress",
    "--out",
    "clusters",
]
print("$ bayesmixture", " ".join(command))
run = subprocess.run(
    [sys.executable, "-m", "bayesmixture", *command],
    cwd=folder,
    capture_output=True,
    text=True,
    check=True,
)
print(run.stdout)

# %%
# What it wrote
# -------------
import pandas as pd

print(sorted(path.name for path in (folder / "clusters").iterdir()))
pd.read_csv(folder / "clusters" / "assignments.csv").head()

# %%
# The report
# ----------
# One HTML page with its figures inside, readable without knowing the library: overview,
# clusters in the data, every row's membership, weights and means, convergence,
# diagnostics, the parameter table and the settings. Shown here as it is:
import html


class Page:
    """Shows an HTML file inside this page (in a frame of its own)."""

    def __init__(self, path):
        self.text = Path(path).read_text(encoding="utf-8")

    def _repr_html_(self):
        return (
            f'<iframe srcdoc="{html.escape(self.text)}" title="report" '
            'style="width: 100%; height: 900px"></iframe>'
        )


Page(folder / "clusters" / "report.html")
