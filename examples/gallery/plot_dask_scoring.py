"""
Scoring a large table with Dask
===============================

A fit made on a sample scores any number of new rows from its stored draws. Given a Dask
array or DataFrame, ``predict_proba``, ``predict`` and ``score_samples`` return lazy
results computed block by block, on whatever Dask scheduler is active (threads here; a
``dask.distributed`` cluster works the same way). Memory grows with the rows of a block,
not with the table: see the user guide's page on scaling.
"""

# %%
# Fit on the penguins, then make a table of a million penguin-like rows (drawn from the
# fitted mixture itself with ``sample``), held as a Dask array in blocks of 100,000
# rows.
import time

import dask.array as da
import numpy as np

import bayesmixture as bm

X = bm.datasets.load_penguins()[bm.datasets.PENGUIN_MEASUREMENTS]
gm = bm.GaussianMixture(
    3, draws=1000, tune=500, chains=2, random_seed=1, progressbar=False
).fit(X)

rows, _ = gm.sample(1_000_000, random_seed=2)
table = da.from_array(rows, chunks=(100_000, 4))
table

# %%
# Lazy results
# ------------
# Nothing is computed yet: the result is a Dask array of the same blocks. The input is
# checked on its metadata at once (number of columns, dtype), so a wrong table fails
# here. ``draws=200`` scores with 200 evenly spaced posterior draws instead of all
# 2,000.
proba = gm.predict_proba(table, draws=200)
labels = gm.predict(table, draws=200)  # the same, lazily, as labels
proba

# %%
# Compute
# -------
# One pass over the table gives every row's probabilities; the labels are their argmax.
started = time.perf_counter()
proba_now = proba.compute()
seconds = time.perf_counter() - started
labels_now = proba_now.argmax(axis=1)
print(
    f"{len(proba_now):,} rows scored in {seconds:.1f} s "
    f"({len(proba_now) / seconds:,.0f} rows per second)"
)
print("rows per cluster:", np.bincount(labels_now))

# %%
# How sure is the fit about each of the million rows? Most are near certain; the rows
# between two clusters make the long tail.
import matplotlib.pyplot as plt

fig, ax = plt.subplots(figsize=(8, 3.2))
ax.hist(1 - proba_now.max(axis=1), bins=50, color="0.4")
ax.set_yscale("log")
ax.set_xlabel("uncertainty (1 - largest membership probability)")
ax.set_ylabel("rows")

# %%
# With every draw (no ``draws=``), blocks give the in-memory answer exactly:
first = rows[:2000]
lazy = gm.predict_proba(da.from_array(first, chunks=(500, 4))).compute()
print(np.allclose(lazy, gm.predict_proba(first), rtol=1e-10, atol=0))

# %%
# A Dask DataFrame with the fit's column names works too, and keeps its index:
import dask.dataframe as dd
import pandas as pd

frame = dd.from_pandas(pd.DataFrame(rows[:200_000], columns=X.columns), npartitions=4)
gm.predict_proba(frame, draws=200).head()
