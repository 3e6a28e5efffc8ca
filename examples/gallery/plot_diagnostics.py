"""
Diagnostics: when the chains disagree
=====================================

Every fit ends with seven checks of its draws (divergences, R-hat, bulk and tail ESS,
chains that disagree, collapsed components, label switching), each with a sentence of
advice; a failed check raises a :class:`~bayesmixture.exceptions.ConvergenceWarning`.
Here four chains started at random rows find different clusterings of the penguins, the
checks say so, and starting at the EM solution (the default) fixes it.
"""

# %%
import warnings

import bayesmixture as bm

X = bm.datasets.load_penguins()[bm.datasets.PENGUIN_MEASUREMENTS]
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always", bm.exceptions.ConvergenceWarning)
    bad = bm.GaussianMixture(
        3,
        init="random",
        draws=300,
        tune=300,
        chains=4,
        random_seed=5,
        progressbar=False,
    ).fit(X)
print(caught[0].message)

# %%
# The table behind the warning, one row per check:
table = bad.diagnose()
table[["check", "status", "value"]]

# %%
# Each failed check names the worst parameter in words and says what to do:
for row in table.itertuples():
    if row.status != "ok":
        print(f"{row.check}: {row.detail}\n    {row.advice}\n")

# %%
# Trace and rank plots of the weights: each chain sits at its own level. Relabelling
# cannot fix this: the chains found *different* clusterings (one splits the Gentoo
# penguins in two and merges Adelie with Chinstrap), not the same clusters under other
# numbers.
fig = bm.plots.trace_rank_plot(bad.idata_)

# %%
# The fix
# -------
# Start every chain at the EM solution (``init="em"``, the default), so that chains
# explore the same mode, and sample a little longer.
good = bm.GaussianMixture(
    3, draws=1000, tune=500, chains=4, random_seed=5, progressbar=False
).fit(X)
good.diagnose()[["check", "status", "value"]]

# %%
fig_good = bm.plots.trace_rank_plot(good.idata_)
