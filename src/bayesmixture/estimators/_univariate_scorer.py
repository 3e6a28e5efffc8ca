"""Scoring values of a :class:`~bayesmixture.Mixture` with scipy's densities, draw by draw.

Each family's log density is its record's (``Family.log_density``: scipy's, in PyMC's
parametrisation, the same numbers PyMC's graph gives, tested to 1e-10): no graph to compile,
so relabelling and membership of a fresh process's first fit cost milliseconds instead of
the ~15 s gcc spends on PyMC's graph.
"""

from __future__ import annotations

import numpy as np

from bayesmixture.estimators._families import FAMILIES
from bayesmixture.evaluation import ArrayScorer


class UnivariateEvaluator(ArrayScorer):
    """Per-draw log responsibilities and marginal densities of a :class:`Mixture`.

    Parameters
    ----------
    spec : MixtureSpec
        The mixture's record (for the number of components).
    families : list of str
        Each component's family (its record in ``FAMILIES`` gives the log-density).
    parameters : list of dict of str to str
        Each component's parameters (in its family's order) and the posterior variable
        holding each: ``mu`` (one variable with a component axis) when all components share
        a family, ``c0_mu`` otherwise.
    trials : int or ndarray, optional
        The training rows' trials (binomial components); new rows pass theirs as
        ``data={"trials": ...}``.
    """

    def __init__(self, spec, families: list[str], parameters: list[dict[str, str]], trials=None):
        self.spec = spec
        self.families = [FAMILIES[name] for name in families]  # the records, read once
        self.parameters = [dict(names) for names in parameters]
        self.trials = trials
        names = dict.fromkeys(name for group in self.parameters for name in group.values())
        self.rv_names = ("weights", *names)

    @property
    def totals(self):
        """The fused pass over rows and draws that ``evaluation.summarise`` takes for large
        inputs (``_fast.univariate.fused_totals``); None where the kernel lacks a family."""
        from bayesmixture.estimators._fast.univariate import fused_totals

        # the kernel's own families only (an alias's record is checked where it samples)
        names = [f.name if f.kernel == f.name else f"{f.name} (alias)" for f in self.families]
        variables = [list(group.values()) for group in self.parameters]
        return fused_totals(names, variables, self.trials)

    def _row_data(self, data, n_rows: int) -> dict[str, np.ndarray]:
        data = dict(data or {})
        unknown = sorted(set(data) - {"trials"})
        if unknown:
            raise ValueError(f"the mixture's scorer takes trials as data, not {unknown}.")
        trials = data.get("trials", self.trials)
        if trials is None or np.ndim(trials) == 0:
            return {}
        trials = np.asarray(trials)
        if trials.shape != (n_rows,):
            raise ValueError(f"trials has shape {trials.shape}; expected ({n_rows},).")
        return {"trials": trials}

    def _log_joint(self, rows, draws, picked, row_data=None) -> np.ndarray:
        y = np.asarray(rows)[:, None]  # (rows, 1): broadcast against (draws,)
        trials = (row_data or {}).get("trials", self.trials)
        n = None if trials is None else np.reshape(trials, (-1, 1)) if np.ndim(trials) else trials
        with np.errstate(divide="ignore"):  # a weight of 0 (underflow): log 0 = -inf
            log_w = np.log(np.asarray(draws["weights"][picked], dtype=float))  # (draws, K)
        values = {name: np.asarray(draws[name][picked], dtype=float) for name in self.rv_names[1:]}
        joint = np.empty((len(y), len(picked), len(self.families)))
        for k, (family, names) in enumerate(zip(self.families, self.parameters, strict=True)):
            # one variable per parameter with a component axis, or one per component
            params = {
                param: values[name][:, k] if values[name].ndim == 2 else values[name]
                for param, name in names.items()
            }
            if family.trials:
                params["trials"] = n
            joint[..., k] = family.log_density(y, **params) + log_w[:, k]
        return joint
