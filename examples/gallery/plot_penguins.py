"""
Penguins, end to end
====================

Three species of penguins measured on four scales, and no species given to the model:
can a Gaussian mixture find them? This is the blog post's problem ("Faster mixture
models in PyMC3"), done with :class:`~bayesmixture.GaussianMixture`: fit, read the
clusters and their uncertainty, check the sampler, score new penguins without sampling
again, and keep the fit in a file.
"""

# %%
# The data
# --------
# The Palmer penguins ship with the library: 342 penguins with all four measurements.
import bayesmixture as bm

penguins = bm.datasets.load_penguins()
X = penguins[bm.datasets.PENGUIN_MEASUREMENTS]
X.describe().round(1)

# %%
# Fit
# ---
# Three components with full covariance matrices. The columns are standardised for
# sampling and the results come back in grams and millimetres. Chains start at an EM
# solution, so that they explore the same mode; sampling runs on the compiled density.
gm = bm.GaussianMixture(
    3, draws=1000, tune=500, chains=2, random_seed=1, progressbar=False
)
gm.fit(X)
print(f"fitted in {gm.fit_seconds_:.1f} s; every check passed: {gm.converged_}")

# %%
# The posterior of the weights and the means, with R-hat and effective sample sizes:
summary = gm.summary()[["mean", "sd", "hdi_3%", "hdi_97%", "ess_bulk", "r_hat"]]
summary[summary.index.str.startswith(("weights", "means"))].round(2)

# %%
# Who belongs where
# -----------------
# ``membership_`` holds every penguin's probability of each cluster, averaged over all
# draws of both chains after label switching was undone. Rows fade with their
# uncertainty (1 minus their largest probability); the uncertain ones are ringed.
membership = gm.membership_
fig = bm.plots.pair_plot(
    X, membership["label"].values, membership["uncertainty"].values
)

# %%
# The same probabilities as one stacked bar per penguin, grouped by cluster: the ragged
# ends of each block are the penguins the model is unsure about.
fig_strip = bm.plots.membership_strip(membership["probability"].values, gm.labels_)

# %%
# The clusters against the species the model never saw:
import pandas as pd

pd.crosstab(penguins["species"], gm.labels_, rownames=["species"], colnames=["cluster"])

# %%
# Can the sampler be trusted?
# ---------------------------
# Seven checks made when the fit ended, each with advice (see the user guide's page on
# diagnostics).
gm.diagnose()[["check", "status", "value"]]

# %%
# New penguins, no new sampling
# -----------------------------
# ``predict_proba`` scores new rows against every stored draw: a second of numpy, not a
# new fit. Here, two made-up penguins: a large one and one between the clusters.
new = pd.DataFrame(
    {
        "bill_length_mm": [49.0, 44.0],
        "bill_depth_mm": [15.5, 17.5],
        "flipper_length_mm": [222.0, 200.0],
        "body_mass_g": [5600.0, 4200.0],
    }
)
pd.DataFrame(
    gm.predict_proba(new), columns=["cluster 0", "cluster 1", "cluster 2"]
).round(3)

# %%
# Keep the fit
# ------------
# One netCDF file holds the draws, the membership and what the model needs to score new
# rows; loading it builds nothing and compiles nothing.
import tempfile
from pathlib import Path

with tempfile.TemporaryDirectory() as folder:
    path = gm.save(Path(folder) / "penguins.nc")
    again = bm.load(path)
    print(type(again).__name__, (again.predict(new) == gm.predict(new)).all())
