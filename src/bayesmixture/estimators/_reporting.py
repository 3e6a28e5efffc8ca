"""What a fitted estimator reports about its posterior: the summary table of its parameters
and its sampling checks (made once when ``fit`` ends, and stored)."""

from __future__ import annotations

import pandas as pd


class SummaryMixin:
    """``summary`` and ``diagnose`` of a fitted estimator (``BayesianMixture``'s mixin)."""

    # the posterior variables `summary` reports, in order (each estimator names its own)
    _summary_vars: tuple[str, ...] = ()

    def summary(self, *, hdi_prob: float = 0.94) -> pd.DataFrame:
        """Posterior summary (mean, sd, HDI, R-hat, ESS) of the reported parameters.

        Computed on the relabelled posterior, so every row is label-consistent; values are
        in the data's original units.
        """
        import arviz as az

        self._check_fitted()
        names = [name for name in self._summary_vars if name in self.idata_.posterior]
        return az.summary(self.idata_, var_names=names, hdi_prob=hdi_prob)

    def diagnose(self) -> pd.DataFrame:
        """Sampling checks of this fit, one row per check, each with one sentence of advice.

        Divergences, R-hat and bulk/tail ESS of the relabelled posterior, chains that still
        disagree after relabelling, collapsed components and the label switching that was
        fixed (see :func:`bayesmixture.diagnose`). The checks are made once, when ``fit``
        ends (``diagnostics_``), which issues one
        :class:`~bayesmixture.exceptions.ConvergenceWarning` listing the failed checks.
        Parameters are named in words, with the data's column names and the classes.

        Returns
        -------
        pandas.DataFrame
            Columns ``check``, ``status`` ("ok" or "warning"), ``value``, ``detail``,
            ``advice``.

        Examples
        --------
        >>> import warnings, numpy as np, bayesmixture as bm
        >>> rng = np.random.default_rng(0)
        >>> y = np.r_[np.full(30, -4.0), np.full(30, 4.0)] + rng.normal(size=60)
        >>> mix = bm.Mixture("normal", 2, draws=50, tune=50, chains=2, random_seed=0,
        ...                  progressbar=False)
        >>> with warnings.catch_warnings(record=True) as caught:
        ...     warnings.simplefilter("always", bm.exceptions.ConvergenceWarning)
        ...     _ = mix.fit(y)  # 100 draws in all: too few for an ESS of 400
        >>> table = mix.diagnose().set_index("check")
        >>> table.loc[["ess_bulk", "collapsed_components"], "status"].tolist()
        ['warning', 'ok']
        >>> [w.category.__name__ for w in caught if "sampling checks" in str(w.message)]
        ['ConvergenceWarning']
        >>> mix.converged_
        False
        """
        from bayesmixture.diagnostics import COLUMNS

        return self.diagnostics_[COLUMNS].copy()
