"""One check's outcome, the thresholds the checks use, and how parameters are named."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass

RHAT_MAX = 1.01
ESS_MIN = 400
ESS_PER_CHAIN = 100
CHAIN_SEPARATION_MAX = 3.0
COMPONENT_DIM = "component"
OBS_DIM = "obs"
WEIGHTS = "weights"
COLUMNS = ["check", "status", "value", "detail", "advice"]

# (variable name, {dim: label}) -> the parameter as users read it
Describe = Callable[[str, Mapping[str, object]], str]


def arviz_name(name: str, labels: Mapping[str, object]) -> str:
    """``name[label, ...]``, as ArviZ's summary writes an element (the default naming).

    Examples
    --------
    >>> arviz_name("mu", {"component": 0, "feature": "x"})
    'mu[0, x]'
    """
    if not labels:
        return name
    return f"{name}[{', '.join(str(label) for label in labels.values())}]"


@dataclass(frozen=True)
class Finding:
    """The outcome of one check.

    Attributes
    ----------
    check : str
        Short name (``"r_hat"``, ``"divergences"``...).
    status : {"ok", "warning"}
        Whether the check passed.
    value : float
        The measured number (NaN when it could not be measured).
    detail : str
        What was measured, in words (the parameter, the share, the chains).
    advice : str
        One sentence: what the finding means and what to do.
    title : str
        Heading of the check in the HTML report.
    shown : str
        The value as the HTML report prints it.
    target : str
        The passing range, as the HTML report prints it.
    """

    check: str
    status: str
    value: float
    detail: str
    advice: str
    title: str
    shown: str
    target: str

    def to_dict(self) -> dict:
        """The fields by name (how a saved fit stores its findings)."""
        return asdict(self)
