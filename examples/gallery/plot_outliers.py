"""
Outliers: Student-t clusters and the noise component
====================================================

Two clusters and a sprinkle of rows that belong to neither. Gaussian components have
thin tails, so a far-away row drags a mean and inflates a covariance to reach it. Two
remedies: :class:`~bayesmixture.StudentTMixture`, whose clusters have heavy tails (each
its own degrees of freedom), and ``noise=True``, mclust's noise component, a uniform
background over the data's range that takes the rows no cluster explains.
"""

# %%
import numpy as np

import bayesmixture as bm

rng = np.random.default_rng(7)
clusters, truth = bm.datasets.make_gaussian_mixture(
    240,
    [0.5, 0.5],
    [[-2.0, 0.0], [2.0, 0.5]],
    [[[0.6, 0.3], [0.3, 0.6]], [[0.5, -0.2], [-0.2, 0.4]]],
    random_seed=7,
)
outliers = rng.uniform([-9, -7], [9, 7], size=(20, 2))
X = np.vstack([clusters, outliers])
print(X.shape, "of which outliers:", len(outliers))

# %%
# Three fits of two clusters
# --------------------------
settings = dict(draws=500, tune=300, chains=2, random_seed=1, progressbar=False)
fits = {
    "Gaussian": bm.GaussianMixture(2, **settings).fit(X),
    "Student-t": bm.StudentTMixture(2, **settings).fit(X),
    "Gaussian + noise": bm.GaussianMixture(2, noise=True, **settings).fit(X),
}

# %%
# The clusters each fit found: ellipses hold 95% of a Gaussian with the fitted
# covariance (for the t fit, of its scale matrix); grey crosses are the rows the noise
# component takes.
import matplotlib.pyplot as plt
from matplotlib.patches import Ellipse


def ellipse(mean, cov, color):
    values, vectors = np.linalg.eigh(cov)
    angle = np.degrees(np.arctan2(vectors[1, -1], vectors[0, -1]))
    width, height = 2 * np.sqrt(5.991 * values[::-1])  # chi-square(2) 95% quantile
    return Ellipse(mean, width, height, angle=angle, fill=False, color=color, lw=2)


fig, axes = plt.subplots(1, 3, figsize=(13, 4.2), sharex=True, sharey=True)
for ax, (name, fit) in zip(axes, fits.items(), strict=True):
    labels = fit.labels_
    colors = bm.plots.cluster_colors(2)
    for k in range(2):
        ax.scatter(*X[labels == k].T, s=10, color=colors[k])
        matrix = fit.scales_[k] if name == "Student-t" else fit.covariances_[k]
        ax.add_patch(ellipse(fit.means_[k], matrix, "black"))
    ax.scatter(*X[labels == -1].T, s=25, marker="x", color="0.4", label="noise")
    ax.scatter(
        *outliers.T,
        s=60,
        facecolors="none",
        edgecolors="red",
        lw=0.8,
        label="generated outliers",
    )
    ax.set_title(name)
axes[-1].legend(loc="lower right")
fig.tight_layout()

# %%
# What each fit learned
# ---------------------
# The Gaussian fit's covariances grow to cover the outliers; the t fit keeps compact
# scale matrices and lets small degrees of freedom (heavy tails) account for the far
# rows; the noise fit gives the background a weight close to the share of outliers (20
# of 260).
for name, fit in fits.items():
    spread = [
        float(np.sqrt(np.linalg.det(m)))
        for m in (fit.scales_ if name == "Student-t" else fit.covariances_)
    ]
    print(
        f"{name:17s} means {np.round(fit.means_, 2).tolist()}",
        f"sqrt(det) {np.round(spread, 2)}",
    )
print("degrees of freedom of the t clusters:", np.round(fits["Student-t"].df_, 1))
print("noise weight:", round(float(fits["Gaussian + noise"].noise_weight_), 3))

# %%
# The noise component is a column of the membership like any cluster, and ``predict``
# gives -1 for the rows it takes (``"noise"`` when the classes are strings):
noisy = fits["Gaussian + noise"]
print(noisy.membership_["probability"].coords["component"].values)
print("rows predicted noise:", int((noisy.labels_ == -1).sum()))
