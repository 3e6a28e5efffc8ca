"""
A mixture written in parts counts the data twice
================================================

The forum thread "Mixture model using pm.Mixture or writing in parts": one latent vector
``x`` is seen through one of two noisy linear operators, ``y = H x + noise`` with ``H``
either ``H1`` (noisier, and offset) or ``H2``. Writing the mixture as a weighted sum of
two observed likelihoods looks reasonable, but it adds both likelihoods of every
observation to the model: the weight never meets the data, and the data are counted
twice. :func:`~bayesmixture.check_model` says so before sampling, and
:func:`~bayesmixture.mixture` writes the same model correctly.
"""

# %%
# The data of the thread, generated with its own seed:
import numpy as np
import pymc as pm
import pytensor.tensor as pt

import bayesmixture as bm

data = bm.datasets.make_operator_mixture(random_seed=2)
print(data.y.shape, data.H1.shape, "true x:", data.x)

# %%
# In parts: two likelihoods of the same data
# ------------------------------------------
# The thread's second model. Each ``pm.Normal(..., observed=y)`` is a likelihood term of
# its own; multiplying them by ``alpha`` makes a new variable that nothing uses.
with pm.Model() as in_parts:
    x = pm.Normal("x", 1.5, 1.0, shape=3)
    alpha = pm.Beta("alpha", 2.0, 2.0)
    y1 = pm.Normal("y1", pt.dot(data.H1, x), data.noise, observed=data.y)
    y2 = pm.Normal("y2", pt.dot(data.H2, x), data.noise, observed=data.y)
    total = alpha * y1 + (1 - alpha) * y2  # enters no likelihood

for finding in bm.check_model(in_parts, warn=False):
    print(f"{finding.kind}: {finding.message}\n")

# %%
# Written with ``bm.mixture``: each observation counted once
# ----------------------------------------------------------
# The likelihood is the marginal mixture, sum_i log(w_1 p_1(y_i) + w_2 p_2(y_i)): the
# components share ``x``, and the weights now meet the data.
with pm.Model(coords={"component": ["H1", "H2"]}) as mixed:
    x = pm.Normal("x", 1.5, 1.0, shape=3)
    w = pm.Dirichlet("w", np.ones(2), dims="component")
    components = [pm.Normal.dist(pt.dot(H, x), data.noise) for H in (data.H1, data.H2)]
    bm.mixture("y", w, components, data.y)

print("findings:", bm.check_model(mixed, warn=False))

# %%
# Sample both and compare
# -----------------------
# ``bm.sample`` samples a PyMC model on the fastest backend that needs no C compiler
# (nutpie on JAX; ``sampler=`` picks another) and returns ArviZ data with the model's names.
settings = dict(draws=400, tune=400, chains=2, random_seed=1, progressbar=False)
idata_parts = bm.sample(in_parts, **settings)
idata_mixed = bm.sample(mixed, **settings)

# %%
# In parts, ``alpha`` stays at its Beta(2, 2) prior: nothing in the likelihood depends
# on it. The mixture learns that ``H2`` produced the data. And the in-parts posterior of
# ``x`` is too narrow: its likelihood is that of the data seen twice.
import matplotlib.pyplot as plt
from scipy import stats

fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.6))
grid = np.linspace(0, 1, 200)
left.plot(
    grid, stats.beta(2, 2).pdf(grid), color="0.5", ls="--", label="Beta(2, 2) prior"
)
left.hist(
    idata_parts.posterior["alpha"].values.ravel(),
    bins=30,
    density=True,
    alpha=0.6,
    label="in parts: alpha",
)
left.hist(
    idata_mixed.posterior["w"].sel(component="H1").values.ravel(),
    bins=30,
    density=True,
    alpha=0.6,
    label="bm.mixture: weight of H1",
)
left.set_xlabel("weight of the first operator")
left.legend()

sd_parts = idata_parts.posterior["x"].std(("chain", "draw")).values
sd_mixed = idata_mixed.posterior["x"].std(("chain", "draw")).values
right.bar(np.arange(3) - 0.2, sd_parts, width=0.4, label="in parts")
right.bar(np.arange(3) + 0.2, sd_mixed, width=0.4, label="bm.mixture")
right.set_xticks(range(3), ["x[0]", "x[1]", "x[2]"])
right.set_ylabel("posterior sd")
right.legend()
fig.tight_layout()

# %%
# Which operator produced each observation
# ----------------------------------------
# :func:`~bayesmixture.membership` computes P(z_i = k | y) for every draw of every
# chain, after undoing any label switching, and averages them.
m = bm.membership(mixed, idata_mixed, "y")
print("mean probability of H2:", float(m["probability"].sel(component="H2").mean()))
print("observations assigned to H2:", int((m["label"] == 1).sum()), "of", data.y.size)
