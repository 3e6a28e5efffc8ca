"""Save and load fitted estimators: one netCDF file, written atomically.

The file holds every group of the estimator's InferenceData (relabelled posterior, the draws
before relabelling, the permutations, sample stats, observed and constant data), the training
rows' membership, and, in group ``bayesmixture``, a JSON spec (format version, library version,
estimator class and its parameters, the sampling checks made when the fit ended) beside the
arrays of the estimator's fit state (group ``fit_state``).

The fit state is a dataclass (``bayesmixture.estimators._state``); it is saved by walking its
fields, so a new field is saved and loaded without a change here. Arrays become netCDF
variables; numbers, strings, lists and ``None`` go to the JSON spec (keeping the type of
class labels: ``1``, ``1.0`` and ``"1"`` stay apart). Loading rebuilds nothing that needs
PyMC: the model is built when first asked for, and nothing is re-sampled, so a loaded
estimator predicts exactly as the saved one did.
"""

from __future__ import annotations

import dataclasses
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
FORMAT_VERSION = 2
SPEC_GROUP = "bayesmixture"
STATE_GROUP = "fit_state"
MEMBERSHIP_GROUP = "membership"

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

    Examples
    --------
    >>> import tempfile, pathlib, warnings, numpy as np, bayesmixture as bm
    >>> y = np.r_[np.full(20, -3.0), np.full(20, 3.0)] + np.random.default_rng(0).normal(size=40)
    >>> mix = bm.Mixture("normal", 2, draws=50, tune=50, chains=1, random_seed=0,
    ...                  progressbar=False)
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     _ = mix.fit(y)
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "fit.nc"
    >>> loaded = bm.load(bm.save(mix, path))
    >>> bool(np.array_equal(loaded.predict_proba(y), mix.predict_proba(y)))
    True
    """
    estimator._check_fitted()
    path = Path(path)
    if path.is_dir():
        raise ValueError(f"path={str(path)!r} is a folder; pass a file name such as fit.nc.")
    path.parent.mkdir(parents=True, exist_ok=True)
    state_spec, state_arrays = encode_state(estimator._fit_data)
    spec = _spec_of(estimator, state_spec)
    groups = {group: estimator.idata_[group] for group in estimator.idata_.groups()}
    groups[MEMBERSHIP_GROUP] = _storable_coords(estimator.membership_)
    groups[STATE_GROUP] = state_arrays
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
        If the file is not a bayesmixture fit, is corrupt or damaged, names an estimator
        this version does not know, or was written by a newer format.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no saved fit at {str(path)!r}.")
    idata = _read(path)
    if SPEC_GROUP not in idata.groups():
        raise ValueError(
            f"{str(path)!r} is a netCDF file but not a bayesmixture fit (no {SPEC_GROUP!r} group)."
        )
    spec = _read_spec(idata, path)
    try:
        return _rebuild(idata, spec, path)
    except (KeyError, TypeError, AttributeError, IndexError, ValueError) as err:
        if isinstance(err, ValueError) and str(path) in str(err):
            raise
        raise ValueError(
            f"{str(path)!r} holds a damaged bayesmixture fit ({type(err).__name__}: {err}); "
            "save the fit again."
        ) from err


def _read_spec(idata: az.InferenceData, path: Path) -> dict:
    try:
        spec = json.loads(str(idata[SPEC_GROUP]["spec"].values))
    except (KeyError, json.JSONDecodeError) as err:
        raise ValueError(
            f"{str(path)!r} has a damaged bayesmixture spec ({type(err).__name__}: {err}); "
            "save the fit again."
        ) from err
    if not isinstance(spec, dict) or spec.get("format") != FORMAT:
        format_name = spec.get("format") if isinstance(spec, dict) else None
        raise ValueError(f"{str(path)!r} is not a bayesmixture fit (format {format_name!r}).")
    version = spec.get("format_version")
    if not isinstance(version, int):
        raise ValueError(f"{str(path)!r} has a damaged spec: no format version.")
    if version > FORMAT_VERSION:
        raise ValueError(
            f"{str(path)!r} was written in format version {version} by bayesmixture "
            f"{spec.get('library_version')}; this version reads up to {FORMAT_VERSION}. "
            "Upgrade bayesmixture to load it."
        )
    return spec


def _rebuild(idata: az.InferenceData, spec: dict, path: Path):
    name = spec["estimator"]
    cls = estimator_class(name) if isinstance(name, str) else None
    if cls is None:
        raise ValueError(f"{str(path)!r} holds an unknown estimator {name!r}.")
    estimator = cls(**spec["params"])
    arrays = idata[STATE_GROUP] if STATE_GROUP in idata.groups() else xr.Dataset()
    if spec["format_version"] == 1:
        state = _state_from_version_1(cls._state_type, spec["fit"], idata, cls._mixture_name)
    else:
        state = decode_state(cls._state_type, spec["fit"]["state"], arrays)
    findings = [_finding(f) for f in spec["fit"].get("findings", [])]
    skipped = (SPEC_GROUP, MEMBERSHIP_GROUP, STATE_GROUP)
    groups = {g: idata[g] for g in idata.groups() if g not in skipped}
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*not defined in the InferenceData scheme")
        estimator._restore(az.InferenceData(**groups), idata[MEMBERSHIP_GROUP], state, findings)
    if not findings:  # a file written before fits kept their checks: make them now
        estimator._findings = estimator._run_checks(
            estimator.idata_, estimator.membership_, estimator.permutations_, state
        )
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


def _spec_of(estimator, state_spec: dict) -> dict:
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "library_version": __version__,
        "estimator": type(estimator).__name__,
        "params": _jsonable(estimator.get_params()),
        "fit": {
            "state": state_spec,
            "findings": _jsonable([f.to_dict() for f in estimator._findings]),
        },
    }


def _finding(fields: dict):
    from bayesmixture.diagnostics import Finding

    return Finding(**{**fields, "value": float(fields["value"])})


# ---------------------------------------------------------------------- the fit state


def encode_state(state) -> tuple[dict, xr.Dataset]:
    """A fit state (dataclass) as a JSON-able dict and a Dataset of its arrays.

    Each field becomes ``{"array": variable}`` (an array stored as a variable of the
    Dataset), ``{"dict": {...}}`` (a mapping, each value encoded the same way),
    ``{"value": ...}`` (numbers, strings, lists, None), or ``{"objects": [...]}`` (an array
    of Python objects, such as labels of mixed types).
    """
    arrays: dict[str, xr.DataArray] = {}
    spec = {
        f.name: _encode(f.name, getattr(state, f.name), arrays) for f in dataclasses.fields(state)
    }
    return spec, xr.Dataset(arrays)


def decode_state(state_type: type, spec: dict, arrays: xr.Dataset):
    """The fit state that :func:`encode_state` wrote."""
    return state_type(**{name: _decode(value, arrays) for name, value in spec.items()})


def _encode(name: str, value, arrays: dict):
    if isinstance(value, np.ndarray):
        if value.dtype == object:
            return {"objects": _jsonable(value.tolist())}
        arrays[name] = xr.DataArray(value, dims=[f"{name}_dim_{i}" for i in range(value.ndim)])
        return {"array": name}
    if isinstance(value, dict):
        return {"dict": {str(k): _encode(f"{name}__{k}", v, arrays) for k, v in value.items()}}
    return {"value": _jsonable(value)}


def _decode(encoded: dict, arrays: xr.Dataset):
    ((kind, value),) = encoded.items()
    if kind == "array":
        return np.asarray(arrays[value].values)
    if kind == "objects":
        return np.asarray(value, dtype=object)
    if kind == "dict":
        return {k: _decode(v, arrays) for k, v in value.items()}
    return value


def _state_from_version_1(state_type: type, fit: dict, idata: az.InferenceData, name: str):
    """The fit state of a file written by bayesmixture 0.1's first format (its ``extra``)."""
    extra = dict(fit["extra"])
    value = np.asarray(idata.observed_data[name].values)
    entries = extra.pop("missing_entries", None)
    if entries is not None:  # PyMC stores them as 0; the mixture needs NaN
        value = value.astype(float)
        rows, cols = np.asarray(entries, dtype=np.intp).reshape(-1, 2).T
        value[rows, cols] = np.nan
    fields = {f.name for f in dataclasses.fields(state_type)}
    state = {
        key: np.asarray(item)
        if isinstance(item, list) and key not in ("names", "gate", "classes")
        else item
        for key, item in extra.items()
        if key in fields
    }
    data = {key: np.asarray(idata.constant_data[key].values) for key in fit["data_names"]}
    return state_type(
        value=value,
        n_obs=fit["n_obs"],
        feature_names=fit["feature_names"],
        data=data,
        **state,
    )


def _storable_coords(dataset: xr.Dataset) -> xr.Dataset:
    """Coordinates of mixed types (``[0, 1, "noise"]``) as text, which netCDF can store; the
    estimator gives them back their types when it is loaded."""
    mixed = {
        dim: dataset[dim].values.astype(str)
        for dim in dataset.coords
        if dataset[dim].dtype == object and len({type(v) for v in dataset[dim].values.tolist()}) > 1
    }
    return dataset.assign_coords(mixed) if mixed else dataset


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
