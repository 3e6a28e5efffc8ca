"""Save and load fitted estimators: one netCDF file, written atomically.

The file holds every group of the estimator's InferenceData (relabelled posterior, the draws
before relabelling, the permutations, sample stats, observed and constant data) and, in group
``bayesmixture``, a JSON spec: format version, library version, estimator class and its
parameters, and what prediction needs besides the draws (standardisation, column and group
names). Loading rebuilds the PyMC model from the spec and the stored data; nothing is
re-sampled, so a loaded estimator predicts exactly as the saved one did.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import arviz as az
import numpy as np
import xarray as xr

from bayesmixture._atomic import atomic_path
from bayesmixture._registry import estimator_class
from bayesmixture._version import __version__

FORMAT = "bayesmixture-fit"
FORMAT_VERSION = 1
SPEC_GROUP = "bayesmixture"

__all__ = ["load", "save"]


def save(estimator, path) -> Path:
    """Write a fitted estimator to ``path`` (netCDF), replacing any file there atomically.

    The file is written under a temporary name in the same folder and renamed over ``path``
    only once complete: an interrupted save leaves the previous file intact.

    Parameters
    ----------
    estimator : fitted bayesmixture estimator
    path : str or os.PathLike
        Destination file, conventionally ending in ``.nc``.

    Returns
    -------
    pathlib.Path
        The path written.
    """
    estimator._check_fitted()
    path = Path(path)
    if path.is_dir():
        raise ValueError(f"path={str(path)!r} is a folder; pass a file name such as fit.nc.")
    path.parent.mkdir(parents=True, exist_ok=True)
    spec = _spec_of(estimator)
    groups = {group: estimator.idata_[group] for group in estimator.idata_.groups()}
    groups["membership"] = estimator.membership_
    groups[SPEC_GROUP] = xr.Dataset({"spec": ((), json.dumps(spec))})
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*not defined in the InferenceData scheme")
        idata = az.InferenceData(**groups)
    with atomic_path(path) as temporary:
        idata.to_netcdf(temporary)
    return path


def load(path):
    """Load an estimator saved with ``save`` (or ``estimator.save``).

    Parameters
    ----------
    path : str or os.PathLike

    Returns
    -------
    estimator
        Fitted, ready to predict without sampling; its class is the registered estimator
        class of the saved name (see ``bayesmixture/_registry.py``).

    Raises
    ------
    FileNotFoundError
        If there is no file at ``path``.
    ValueError
        If the file is not a bayesmixture fit, is corrupt, or was written by a newer format.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no saved fit at {str(path)!r}.")
    idata = _read(path)
    if SPEC_GROUP not in idata.groups():
        raise ValueError(
            f"{str(path)!r} is a netCDF file but not a bayesmixture fit (no {SPEC_GROUP!r} group)."
        )
    spec = json.loads(str(idata[SPEC_GROUP]["spec"].values))
    if spec.get("format") != FORMAT:
        raise ValueError(
            f"{str(path)!r} is not a bayesmixture fit (format {spec.get('format')!r})."
        )
    if spec["format_version"] > FORMAT_VERSION:
        raise ValueError(
            f"{str(path)!r} was written in format version {spec['format_version']} by "
            f"bayesmixture {spec['library_version']}; this version reads up to "
            f"{FORMAT_VERSION}. Upgrade bayesmixture to load it."
        )
    cls = estimator_class(spec["estimator"])
    if cls is None:
        raise ValueError(f"{str(path)!r} holds an unknown estimator {spec['estimator']!r}.")
    estimator = cls(**spec["params"])
    groups = {g: idata[g] for g in idata.groups() if g not in (SPEC_GROUP, "membership")}
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*not defined in the InferenceData scheme")
        estimator._restore(az.InferenceData(**groups), idata["membership"], spec["fit"])
    return estimator


def _read(path: Path) -> az.InferenceData:
    """Read every group into memory and close the file (netCDF loading is lazy)."""
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*not defined in the InferenceData scheme")
            lazy = az.from_netcdf(path)
            groups = {group: lazy[group].load() for group in lazy.groups()}
            for group in lazy.groups():
                lazy[group].close()
            return az.InferenceData(**groups)
    except (OSError, ValueError, KeyError) as err:
        raise ValueError(
            f"could not read {str(path)!r} as a saved fit ({type(err).__name__}: {err}); the "
            "file is corrupt or not a bayesmixture fit."
        ) from err


def _spec_of(estimator) -> dict:
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "library_version": __version__,
        "estimator": type(estimator).__name__,
        "params": _jsonable(estimator.get_params()),
        "fit": _jsonable(estimator._fit_state()),
    }


def _jsonable(value):
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return _jsonable(value.tolist())
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.random.Generator):
        raise ValueError(
            "random_seed is a numpy Generator, which cannot be saved; fit with an int seed to "
            "save the estimator."
        )
    return value
