"""
Counts and proportions: Poisson and binomial mixtures
=====================================================

:class:`~bayesmixture.Mixture` fits one-column data with any of nine families. Counts of
events from two kinds of sources (a quiet and a busy one) are a Poisson mixture, or a
negative-binomial one when each kind is itself over-dispersed; successes out of a known
number of trials are a binomial mixture. The workflow is the same as for Gaussian
clusters: membership, prediction, checks.
"""

# %%
import numpy as np

import bayesmixture as bm

rng = np.random.default_rng(1)
busy = rng.random(300) < 0.3
counts = np.where(busy, rng.poisson(14.0, 300), rng.poisson(3.0, 300))

poisson = bm.Mixture(
    "poisson", 2, draws=500, tune=300, chains=2, random_seed=1, progressbar=False
).fit(counts)
poisson.summary().round(2)

# %%
# The fitted mixture against the data: each component's probabilities, weighted.
import matplotlib.pyplot as plt
from scipy import stats

post = poisson.idata_.posterior
rates = post["mu"].mean(("chain", "draw")).values
weights = post["weights"].mean(("chain", "draw")).values
values = np.arange(counts.max() + 1)
fig, ax = plt.subplots(figsize=(8, 3.4))
ax.bar(values, np.bincount(counts) / counts.size, color="0.8", label="data")
for k in range(2):
    ax.plot(
        values,
        weights[k] * stats.poisson(rates[k]).pmf(values),
        "o-",
        ms=3,
        label=f"component {k}: rate {rates[k]:.1f}, weight {weights[k]:.2f}",
    )
ax.set_xlabel("count")
ax.legend()

# %%
# Which kind of source produced a count of 7? Of 10? Scored from the stored draws:
print(np.round(poisson.predict_proba(np.array([3, 7, 10])), 3))

# %%
# Successes out of trials
# -----------------------
# Exam scores out of 20 questions from two groups of students (the ``binomial`` family
# needs the number of trials, per row or one for all):
groups = rng.random(200) < 0.4
scores = np.where(groups, rng.binomial(20, 0.85, 200), rng.binomial(20, 0.45, 200))
binomial = bm.Mixture(
    "binomial",
    2,
    trials=20,
    draws=500,
    tune=300,
    chains=2,
    random_seed=1,
    progressbar=False,
).fit(scores)
binomial.summary().round(2)
