"""
Label switching: the penguins' chains before and after relabelling
===================================================================

A mixture's likelihood does not change when its components are renumbered, so a sampler
is free to call the Gentoo cluster "0" in one chain and "2" in another, or to swap
labels within a chain. Averaging draws across such chains mixes clusters (the blog post
used one chain only, "as groups can differ between chains"). The estimators relabel
every draw of every chain to one consistent numbering (Stephens' method by default) and
permute every component-indexed variable with it; the draws as sampled are kept.
"""

# %%
# Chains started at random rows (``init="random"``) rather than at the EM solution are
# free to number the clusters differently:
import bayesmixture as bm

X = bm.datasets.load_penguins()[bm.datasets.PENGUIN_MEASUREMENTS]
gm = bm.GaussianMixture(
    3, init="random", draws=500, tune=500, chains=4, random_seed=1, progressbar=False
).fit(X)
print(gm.idata_.groups())

# %%
# Before and after
# ----------------
# Each chain's draws of the three clusters' mean flipper length, chain after chain.
# ``unrelabelled_posterior`` holds the draws as the sampler returned them: chain 1 found
# the two smaller clusters in the opposite order. After relabelling, each cluster keeps
# one colour in every chain.
import matplotlib.pyplot as plt
import numpy as np

colors = bm.plots.cluster_colors(3)
fig, axes = plt.subplots(2, 1, figsize=(10, 5.5), sharex=True, sharey=True)
for ax, group, title in zip(
    axes,
    ("unrelabelled_posterior", "posterior"),
    ("as sampled", "relabelled"),
    strict=True,
):
    flipper = gm.idata_[group]["means"].sel(feature="flipper_length_mm")
    n_draws = flipper.sizes["draw"]
    for chain in range(flipper.sizes["chain"]):
        steps = chain * n_draws + np.arange(n_draws)
        for k in range(3):
            ax.plot(
                steps,
                flipper.isel(chain=chain, component=k),
                color=colors[k],
                lw=0.6,
                label=f"cluster {k}" if chain == 0 else None,
            )
        ax.axvline(chain * n_draws, color="0.3", lw=0.8)
        ax.text(
            chain * n_draws + 10,
            0.92,
            f"chain {chain}",
            transform=ax.get_xaxis_transform(),
        )
    ax.set_title(title)
    ax.set_ylabel("mean flipper length (mm)")
axes[0].legend(loc="center right", ncols=3)
axes[-1].set_xlabel("draw (chains one after the other)")
fig.tight_layout()

# %%
# What was undone
# ---------------
# The permutation applied to every draw is stored (``permutations_``, dims chain, draw,
# component); per chain, the share of draws that were renumbered:
from bayesmixture.diagnostics import label_switching_table

label_switching_table(gm.permutations_)

# %%
# The checks run on the relabelled draws: R-hat compares chains that now agree.
gm.diagnose()[["check", "status", "value"]]

# %%
# For a model of your own
# -----------------------
# :func:`~bayesmixture.relabel` does the same for any model written with
# :func:`~bayesmixture.mixture` (``method="stephens"``, ``"ecr"`` or ``"pivot"``), and
# :func:`~bayesmixture.label_switching` measures the switching without changing
# anything; :func:`~bayesmixture.membership` relabels before it averages.
