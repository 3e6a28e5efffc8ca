"""
A mixture of Poisson regressions
================================

Counts whose relation to a covariate differs between two hidden groups: in one group the
rate rises with ``x``, in the other it falls. A single Poisson regression averages the
two into a flat line; :class:`~bayesmixture.MixtureRegression` with ``family="poisson"``
fits one log-linear regression per component and says which rows follow which.
"""

# %%
import numpy as np

import bayesmixture as bm

rng = np.random.default_rng(0)
n_obs = 150
x = rng.uniform(-1.5, 1.5, size=(n_obs, 1))
group = rng.integers(0, 2, n_obs)
log_rate = np.where(group == 0, 1.0 + 1.0 * x[:, 0], 2.5 - 1.0 * x[:, 0])
counts = rng.poisson(np.exp(log_rate))

# %%
# Fit two Poisson regressions (log link). The count families sample on a compiled
# density, as the normal one does (its Numba kernel is compiled once per machine).
glm = bm.MixtureRegression(
    2,
    family="poisson",
    draws=1000,
    tune=500,
    chains=2,
    random_seed=1,
    progressbar=False,
).fit(x, counts)
glm.summary().round(2)

# %%
# Each component's fitted rate, and every row coloured by its most probable component:
import matplotlib.pyplot as plt

post = glm.idata_.posterior
slopes = post["coefficients"].mean(("chain", "draw")).values[:, 0]
intercepts = post["intercepts"].mean(("chain", "draw")).values
grid = np.linspace(-1.5, 1.5, 100)
colors = bm.plots.cluster_colors(2)
fig, ax = plt.subplots(figsize=(8, 4))
labels = glm.labels_
for k in range(2):
    ax.scatter(x[labels == k, 0], counts[labels == k], s=12, color=colors[k])
    ax.plot(
        grid,
        np.exp(intercepts[k] + slopes[k] * grid),
        color=colors[k],
        lw=2,
        label=f"component {k}: log rate {intercepts[k]:.2f} {slopes[k]:+.2f} x",
    )
ax.set_xlabel("x")
ax.set_ylabel("count")
ax.legend()

# %%
# Recovered against the truth (log rates 1 + x and 2.5 - x), and how often the most
# probable component is the generating group (up to the components' order):
print(
    "slopes:",
    np.round(np.sort(slopes), 2),
    "intercepts:",
    np.round(np.sort(intercepts), 2),
)
agree = (labels == group).mean()
print(f"rows assigned to their group: {max(agree, 1 - agree):.2f}")

# %%
# New rows need their covariate *and* their count: the membership of a count depends on
# which regression explains it better.
x_new = np.array([[1.0], [1.0], [-1.0]])
y_new = np.array([6, 1, 30])
np.round(glm.predict_proba(x_new, y_new), 3)
