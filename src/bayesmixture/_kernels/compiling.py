"""Getting a kernel variant's C callbacks: compiled in a second process while the fit
prepares its model, or loaded from Numba's disk cache, or (failing both) compiled here.

A kernel module (``gaussian``, ``univariate``, ``regression`` in this package) has
``callbacks(*variant) -> (logp, expand)``, which compiles the variant or loads it from
Numba's disk cache; a variant's flags and codes (rows with gaps, t components, a regression
family, stick-breaking weights) are constants of its compiled code, taken as bools and ints
whatever the caller passes (the disk cache keys on them). Compiling takes seconds, so
:func:`start` hands it to a new process (``python -m bayesmixture._kernels.warm``) as soon
as a fit knows which variant it needs; the fit builds its model and starts on the other core
in the meantime, and :func:`callbacks` waits for that process, then loads the result from
the cache. Once loaded, a variant stays in this process, and a marker file beside Numba's
cache says it is there: a later process loads it without starting one (in a warm fit the
process only loaded the cache too, and took a core from the fit for ~1 s).
"""

from __future__ import annotations

import contextlib
import importlib
import subprocess
import sys
import threading
from pathlib import Path

import numba
import numpy as np

from bayesmixture._kernels.callbacks import call_logp, source_stamp

KERNELS = {
    "gaussian": "bayesmixture._kernels.gaussian",
    "univariate": "bayesmixture._kernels.univariate",
    "regression": "bayesmixture._kernels.regression",
}

_lock = threading.Lock()
_loaded: dict[tuple, tuple] = {}
_compiling: dict[tuple, subprocess.Popen] = {}


def variant_spec(kernel: str, variant: tuple[int, ...]) -> str:
    """``kernel:flag:flag...`` as ``warm.py`` takes it, e.g. ``gaussian:0:1:0``."""
    return ":".join([kernel, *(str(int(flag)) for flag in variant)])


def parse_spec(spec: str) -> tuple[str, tuple[int, ...]]:
    """Inverse of :func:`variant_spec`; raises ``ValueError`` naming a bad spec."""
    kernel, *flags = spec.split(":")
    if kernel not in KERNELS or not all(flag.isdigit() for flag in flags):
        raise ValueError(
            f"{spec!r} is not a kernel variant; expected one of {sorted(KERNELS)}, optionally "
            "followed by :N flags (0 or 1, or a code such as a family's; e.g. gaussian:0:1:0)."
        )
    return kernel, tuple(int(flag) for flag in flags)


def start(kernel: str, variant: tuple[int, ...] = ()) -> None:
    """Compile ``kernel``'s ``variant`` in a new process, unless it is loaded or on its way.

    Never raises: if no process can be started, :func:`callbacks` compiles in this one.
    """
    key = (kernel, tuple(variant))
    with _lock:
        if key in _loaded or key in _compiling or _marker(*key).exists():
            return
        command = [sys.executable, "-m", "bayesmixture._kernels.warm"]
        try:
            _compiling[key] = subprocess.Popen(
                [*command, variant_spec(*key)],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        except OSError:
            pass


def callbacks(kernel: str, variant: tuple[int, ...] = ()) -> tuple:
    """``(logp, expand)`` C callbacks of ``kernel``'s ``variant``.

    Waits for the process :func:`start` began (whatever its outcome), then loads the variant
    from Numba's cache, which compiles it here if the cache does not hold it.
    """
    key = (kernel, tuple(variant))
    with _lock:
        if key not in _loaded:
            process = _compiling.pop(key, None)
            if process is not None:
                process.wait()
            module = importlib.import_module(KERNELS[kernel])
            _loaded[key] = module.callbacks(*variant)
            with contextlib.suppress(OSError):  # no marker: the next process compiles aside
                _marker(*key).touch()
        return _loaded[key]


def _marker(kernel: str, variant: tuple[int, ...]) -> Path:
    """The file that says the variant is in Numba's disk cache (for these kernel sources)."""
    root = numba.config.CACHE_DIR or Path(__file__).parent / "__pycache__"
    name = variant_spec(kernel, variant).replace(":", "-")
    return Path(root) / f"bayesmixture-{name}-{source_stamp():x}.cached"


class KernelDensity:
    """What the densities of the estimators share: the kernel variant they run on,
    its C callbacks for nutpie, and one evaluation from Python (for tests and checks).

    Subclasses set ``kernel`` (a key of :data:`KERNELS`), ``variant``, ``payload`` and
    ``n_dim``.
    """

    kernel: str
    variant: tuple[int, ...] = ()
    payload: np.ndarray
    n_dim: int

    def start_compiling(self) -> None:
        """Begin compiling this density's kernel variant in another process (see ``start``)."""
        start(self.kernel, self.variant)

    @property
    def logp_cfunc(self):
        """nutpie's log-density callback (waits for, loads or compiles the variant)."""
        return callbacks(self.kernel, self.variant)[0]

    @property
    def expand_cfunc(self):
        return callbacks(self.kernel, self.variant)[1]

    def logp_and_grad(self, theta: np.ndarray) -> tuple[float, np.ndarray]:
        """Log-density and gradient at one unconstrained point, through the same C
        callback nutpie calls."""
        return call_logp(self.logp_cfunc, theta, self.payload, self.n_dim)
