"""
Partly labelled rows
====================

Often a few rows are known: a handful of penguins were identified by an expert, the rest
only measured. ``fit(X, labels=...)`` takes the class of the labelled rows and -1 (or
NaN, None) for the others, scikit-learn's convention for semi-supervised learning. A
labelled row counts only in its own class's component, the classes name the components,
and ``predict`` answers in the classes' own values, so no relabelling is needed.
"""

# %%
import numpy as np
import pandas as pd

import bayesmixture as bm

penguins = bm.datasets.load_penguins()
X = penguins[bm.datasets.PENGUIN_MEASUREMENTS]
species = penguins["species"].astype(str).to_numpy()

# Five identified penguins per species; every other row unlabelled.
rng = np.random.default_rng(0)
labels = np.full(len(X), -1, dtype=object)
for name in np.unique(species):
    known = rng.choice(np.flatnonzero(species == name), size=5, replace=False)
    labels[known] = name
print(pd.Series(labels).value_counts())

# %%
# Fit with the labels, and without them for comparison
# ----------------------------------------------------
settings = dict(draws=1000, tune=500, chains=2, random_seed=2, progressbar=False)
labelled = bm.GaussianMixture(3, **settings).fit(X, labels=labels)
unlabelled = bm.GaussianMixture(3, **settings).fit(X)

# %%
# The components are named by the classes; ``predict`` and ``labels_`` give species
# names.
print(labelled.membership_["probability"].coords["component"].values)
print(labelled.predict(X.iloc[[0, 200, 300]]))

# %%
# Agreement with the species on the rows that were not labelled. Without labels, the
# clusters must first be matched to species (here: by the largest overlap); with labels,
# the answer is the species itself.
from scipy.optimize import linear_sum_assignment

hidden = labels == -1
table = pd.crosstab(species[hidden], unlabelled.labels_[hidden])
rows, cols = linear_sum_assignment(table.to_numpy(), maximize=True)
agree_unlabelled = table.to_numpy()[rows, cols].sum() / hidden.sum()
agree_labelled = (labelled.labels_[hidden] == species[hidden]).mean()
print(
    f"agreement with species: without labels {agree_unlabelled:.3f} (after matching), "
    f"with 15 labels {agree_labelled:.3f}"
)

# %%
# The penguins' clusters are clear, so here the labels mostly *name* the components;
# where clusters overlap, labelled rows also pull each component towards its class.
#
# Membership of the unlabelled rows, by the class they were given:
fig = bm.plots.membership_strip(
    labelled.membership_["probability"].values[hidden],
    labelled.membership_["label"].values[hidden],
    names=list(labelled.membership_["probability"].coords["component"].values),
)
