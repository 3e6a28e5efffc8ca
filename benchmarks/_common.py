"""Shared machinery of the benchmarks: cases in fresh child processes, diagnostics, doc writer.

A benchmark script is both the parent and the child. The parent starts
``python <script> --child CASE --params JSON`` with ``subprocess`` and ``sys.executable``, in a
new session (so a wall-clock cap can kill the whole process group, forked samplers included)
and with ``PYTENSOR_FLAGS=base_compiledir=<dir>,compiledir=<dir>/c`` (C modules and PyTensor's
Numba cache) and ``NUMBA_CACHE_DIR=<dir>/numba`` (our compiled densities): a new empty
directory for a *cold* run, the same directory again for the *warm*
run. JAX keeps no compile cache between processes unless asked to, so JAX paths compile
again in every process, warm or cold. The child times its own phases with :class:`Clock` and
prints one JSON line (``RESULT_MARK`` + JSON) that the parent parses.

Only the standard library is imported at module level, so that a child's import phase
measures what its path imports and nothing of this module; numpy, scipy and ArviZ are imported
inside the helpers that need them, after the child's timed path has ended.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import fcntl
import importlib.metadata
import json
import os
import platform
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
DOC = REPO / "docs" / "benchmarks.md"
RESULT_MARK = "BENCH_RESULT "
VERSIONED = (
    "pymc",
    "pytensor",
    "arviz",
    "nutpie",
    "numpyro",
    "jax",
    "numpy",
    "scikit-learn",
)
DOC_HEADER = """# Benchmarks

Every figure on this page is written by a script in `benchmarks/` (`make bench` runs them all);
each section says which script wrote it, when, on which machine, with which versions and under
what load. The machine has 2 cores shared with other work, so absolute times move between
runs; compare paths within one section, whose cases ran one after the other in the same run.
"""


# --------------------------------------------------------------------------- child side


class Clock:
    """Phase timer of a child process; ``started`` is taken when the clock is created.

    Create it first thing in the child (before any heavy import), time phases with
    ``with clock.phase("import"): ...``, call :meth:`stop` when the measured path has ended,
    then :meth:`emit` the result after any diagnostics (which are not timed).
    """

    def __init__(self) -> None:
        self.started = time.time()
        self.phases: dict[str, float] = {}
        self.stopped: float | None = None
        self.cpu: float | None = None

    @contextlib.contextmanager
    def phase(self, name: str) -> Iterator[None]:
        """Add the wall time of the block to phase ``name``."""
        begin = time.perf_counter()
        try:
            yield
        finally:
            self.phases[name] = self.phases.get(name, 0.0) + time.perf_counter() - begin

    def add(self, name: str, seconds: float | None) -> None:
        """Record a phase measured elsewhere (None is kept as missing)."""
        if seconds is not None:
            self.phases[name] = self.phases.get(name, 0.0) + float(seconds)

    def stop(self) -> None:
        """Mark the end of the measured path (the end-to-end time ends here).

        Also takes the CPU time used so far by this process and its waited-for children
        (sampler workers, compilers): less sensitive than wall time to other work on the
        machine, though it counts every core.
        """
        self.stopped = time.time()
        self.cpu = cpu_seconds()

    def emit(self, result: dict[str, Any], *, partial: bool = False) -> None:
        """Print the result line: phases, clock marks, peak memory, then ``result``.

        With ``partial=True`` the line is a checkpoint: the parent keeps the last one it saw
        if the run is later killed at its cap.
        """
        payload = {
            "status": "partial" if partial else "ok",
            "child_started": self.started,
            "child_stopped": self.stopped if self.stopped is not None else time.time(),
            "phases": self.phases,
            "cpu_seconds": self.cpu if self.cpu is not None else cpu_seconds(),
            **peak_rss_mib(),
            **result,
        }
        print(RESULT_MARK + json.dumps(payload, default=_jsonable), flush=True)


def peak_rss_mib() -> dict[str, float]:
    """Peak resident memory of this process and of its largest waited-for child, in MiB."""
    self_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return {"peak_rss_mib": self_kib / 1024, "peak_rss_children_mib": children_kib / 1024}


def cpu_seconds() -> float:
    """User + system CPU seconds of this process and of its waited-for children."""
    total = 0.0
    for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
        usage = resource.getrusage(who)
        total += usage.ru_utime + usage.ru_stime
    return total


def _jsonable(value: Any) -> Any:
    """numpy scalars and arrays as plain Python values."""
    if hasattr(value, "tolist"):
        return value.tolist()
    return str(value)


# --------------------------------------------------------------------------- parent side


def run_child(
    script: Path,
    case: str,
    params: dict[str, Any],
    *,
    cap: float,
    compiledir: Path,
    extra_env: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Run one case in a fresh interpreter; return its result with parent-side timings.

    Keys added here: ``status`` ("ok", "timeout" or "error"), ``wall`` (process start to
    the end of the measured path, the end-to-end time), ``startup`` (process start to the
    child's clock), ``process_wall`` (until the process exited, diagnostics included),
    ``load_before``/``load_after`` (1-minute load average).
    """
    env = dict(os.environ)
    # base_compiledir too: PyTensor keeps its Numba cache there, beside the C modules.
    flags = [
        env.get("PYTENSOR_FLAGS", ""),
        f"base_compiledir={compiledir}",
        f"compiledir={compiledir / 'c'}",
    ]
    env["PYTENSOR_FLAGS"] = ",".join(flag for flag in flags if flag)
    # Numba's on-disk cache of our compiled densities lives there too: cold means empty.
    env["NUMBA_CACHE_DIR"] = str(compiledir / "numba")
    env.update(extra_env or {})
    argv = [sys.executable, str(script), "--child", case, "--params", json.dumps(params)]
    load_before = os.getloadavg()[0]
    started = time.time()
    proc = subprocess.Popen(
        argv,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        cwd=REPO,
    )
    try:
        stdout, stderr = proc.communicate(timeout=cap)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        stdout, _ = proc.communicate()
        result = {"status": "timeout", "cap": cap, "load_before": load_before}
        # a child may have printed a partial result (emit(..., partial=True)) before the cap
        lines = [line for line in stdout.splitlines() if line.startswith(RESULT_MARK)]
        if lines:
            partial = json.loads(lines[-1][len(RESULT_MARK) :])
            partial["startup"] = partial["child_started"] - started
            result["partial"] = partial
        return result
    ended = time.time()
    lines = [line for line in stdout.splitlines() if line.startswith(RESULT_MARK)]
    if proc.returncode != 0 or not lines:
        tail = "\n".join(stderr.strip().splitlines()[-15:])
        return {"status": "error", "returncode": proc.returncode, "error": tail}
    result = json.loads(lines[-1][len(RESULT_MARK) :])
    result["startup"] = result["child_started"] - started
    result["wall"] = result["child_stopped"] - started
    result["process_wall"] = ended - started
    result["load_before"] = load_before
    result["load_after"] = os.getloadavg()[0]
    return result


def run_cold_warm(
    script: Path,
    case: str,
    params: dict[str, Any],
    *,
    cap: float,
    workdir: Path,
    warm: bool = True,
    name: str | None = None,
) -> dict[str, dict[str, Any]]:
    """The case with a new empty compile directory, then (if it finished) again reusing it."""
    name = name or case
    compiledir = Path(tempfile.mkdtemp(prefix=f"compiledir-{name}-", dir=workdir))
    runs = {"cold": run_child(script, case, params, cap=cap, compiledir=compiledir)}
    report("cold", name, runs["cold"])
    if warm:
        if runs["cold"]["status"] == "ok":
            runs["warm"] = run_child(script, case, params, cap=cap, compiledir=compiledir)
        else:
            runs["warm"] = {"status": "skipped", "why": f"cold run: {runs['cold']['status']}"}
        report("warm", name, runs["warm"])
    shutil.rmtree(compiledir, ignore_errors=True)
    return runs


def report(label: str, case: str, result: dict[str, Any]) -> None:
    """One progress line on stderr."""
    status = result["status"]
    detail = f"{result['wall']:.1f} s" if status == "ok" else status
    if status == "error" and result["error"]:
        detail += ": " + result["error"].splitlines()[-1]
    print(f"[{time.strftime('%H:%M:%S')}] {case:<22} {label:<5} {detail}", file=sys.stderr)


@contextlib.contextmanager
def scratch_dir() -> Iterator[Path]:
    """A temporary directory for compile caches and data files, removed afterwards."""
    path = Path(tempfile.mkdtemp(prefix="bayesmixture-bench-"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


# --------------------------------------------------------------------------- diagnostics


def convergence(arrays: dict[str, Any]) -> tuple[float, float]:
    """Min bulk ESS and max R-hat over every element of ``arrays`` (chain, draw, ...)."""
    import arviz as az
    import numpy as np

    dataset = az.convert_to_dataset({name: np.asarray(a) for name, a in arrays.items()})
    ess = az.ess(dataset, method="bulk")
    rhat = az.rhat(dataset)
    min_ess = min(float(ess[name].min()) for name in ess.data_vars)
    max_rhat = max(float(rhat[name].max()) for name in rhat.data_vars)
    return min_ess, max_rhat


def misassigned(found: Sequence[int], truth: Sequence[Any]) -> int:
    """Rows whose label differs from the truth after the best one-to-one matching of labels."""
    import numpy as np
    from scipy.optimize import linear_sum_assignment

    found_codes, found_index = np.unique(np.asarray(found), return_inverse=True)
    truth_codes, truth_index = np.unique(np.asarray(truth), return_inverse=True)
    table = np.zeros((len(found_codes), len(truth_codes)), dtype=np.int64)
    np.add.at(table, (found_index, truth_index), 1)
    rows, cols = linear_sum_assignment(table, maximize=True)
    return int(len(found_index) - table[rows, cols].sum())


def relabel_by_means(means: Any, *, rounds: int = 3) -> Any:
    """Permutations (chain, draw, K) that match each draw's component means to a reference.

    ``means`` has shape (chain, draw, K, D). The reference starts as chain 0's posterior
    mean; every draw takes the permutation of its components (of all K!) closest to it in
    squared distance; the reference is then re-estimated from the relabelled draws, a few
    rounds. Cheap for small K, and enough for well separated components.
    """
    import itertools

    import numpy as np

    means = np.asarray(means, dtype=float)
    n_components = means.shape[2]
    candidates = np.array(list(itertools.permutations(range(n_components))))  # (P, K)
    reference = means[0].mean(axis=0)  # (K, D)
    for _ in range(rounds):
        permuted = means[:, :, candidates]  # (chain, draw, P, K, D)
        cost = ((permuted - reference) ** 2).sum(axis=(-1, -2))  # (chain, draw, P)
        perms = candidates[cost.argmin(axis=-1)]  # (chain, draw, K)
        reference = take_components(means, perms).mean(axis=(0, 1))
    return perms


def take_components(array: Any, perms: Any) -> Any:
    """array (chain, draw, K, ...) with component k of each draw taken from perms[..., k]."""
    import numpy as np

    array = np.asarray(array)
    index = perms.reshape(perms.shape + (1,) * (array.ndim - 3))
    return np.take_along_axis(array, index, axis=2)


# --------------------------------------------------------------------------- context


def versions() -> dict[str, str]:
    """Python and package versions (from metadata: nothing is imported)."""
    found = {"python": platform.python_version()}
    for name in VERSIONED:
        try:
            found[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            found[name] = "not installed"
    return found


def machine() -> dict[str, str]:
    """Platform, CPU model and count, memory, and the source revision measured."""
    model = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    memory = "unknown"
    with contextlib.suppress(OSError, ValueError, IndexError):
        kib = int(Path("/proc/meminfo").read_text().split()[1])
        memory = f"{kib / 2**20:.0f} GiB"
    return {
        "platform": platform.platform(),
        "cpu": model,
        "cpu_count": str(os.cpu_count()),
        "memory": memory,
        "revision": _revision(),
    }


def _revision() -> str:
    """Commit hash, and whether src/ had uncommitted changes when measured."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "src"], cwd=REPO, capture_output=True, text=True
        ).stdout.strip()
    except OSError:
        return "unknown"
    return f"{commit} (src/ with uncommitted changes)" if dirty else commit


def uptime() -> str:
    """The output of ``uptime`` (load averages over 1, 5 and 15 minutes)."""
    try:
        return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    except OSError:
        return "load average: " + ", ".join(f"{x:.2f}" for x in os.getloadavg())


# --------------------------------------------------------------------------- markdown


def fmt(value: Any, digits: int = 1, *, unit: str = "") -> str:
    """A number rounded for a table; None as an em dash."""
    if value is None:
        return "—"
    if isinstance(value, str):
        return value
    return f"{value:,.{digits}f}{unit}"


def md_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A GitHub markdown table."""
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def context_block(script: str, command: str, settings: str, loads: Sequence[str]) -> str:
    """The lines every section starts with: who wrote it, when, where, with what, under what."""
    env = machine()
    vers = versions()
    version_line = ", ".join(f"{name} {version}" for name, version in vers.items())
    load_lines = "\n".join(f"  - {line}" for line in loads)
    return (
        f"Written by `{script}` (`{command}`) on {dt.datetime.now():%Y-%m-%d %H:%M}.\n\n"
        f"- Machine: {env['cpu']}, {env['cpu_count']} cores, {env['memory']}; "
        f"{env['platform']}; source {env['revision']}.\n"
        f"- Versions: {version_line}.\n"
        f"- Settings: {settings}\n"
        f"- Load (`uptime`) during the run, other work included:\n{load_lines}\n"
    )


def table_section(
    title: str,
    context: str,
    headers: Sequence[str],
    rows: Sequence[Sequence[str]],
    notes: list[str],
) -> str:
    """A docs/benchmarks.md section: title, context block, one table, notes."""
    return "\n".join([title, "", context, md_table(headers, rows), "", *notes])


def write_section(name: str, body: str, *, doc: Path = DOC) -> None:
    """Replace the text between ``<!-- bench:NAME:start/end -->`` in ``doc`` (append if new).

    Text outside the markers is kept, so several scripts (and hand-written notes) share one
    file; a lock serialises writers and the file is replaced atomically.
    """
    start, end = f"<!-- bench:{name}:start -->", f"<!-- bench:{name}:end -->"
    block = f"{start}\n{body.strip()}\n{end}"
    doc.parent.mkdir(parents=True, exist_ok=True)
    with open(Path(tempfile.gettempdir()) / "bayesmixture-benchmarks.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        text = doc.read_text() if doc.exists() else DOC_HEADER
        if start in text and end in text:
            before, rest = text.split(start, 1)
            after = rest.split(end, 1)[1]
            text = before + block + after
        else:
            text = text.rstrip("\n") + "\n\n" + block + "\n"
        tmp = doc.with_suffix(".md.tmp")
        tmp.write_text(text)
        os.replace(tmp, doc)


def child_main(cases: dict[str, Any], argv: Sequence[str] | None = None) -> bool:
    """If invoked as ``--child CASE --params JSON``, run ``cases[CASE](params, clock)``.

    Returns False (doing nothing) when the script was started as the parent.
    """
    args = list(sys.argv[1:] if argv is None else argv)
    if "--child" not in args:
        return False
    clock = Clock()
    case = args[args.index("--child") + 1]
    params = json.loads(args[args.index("--params") + 1]) if "--params" in args else {}
    cases[case](params, clock)
    return True


def section_loads(runs: dict[str, dict[str, Any]]) -> list[float]:
    """1-minute load averages seen before and after every run of a section."""
    values = []
    for result in runs.values():
        for key in ("load_before", "load_after"):
            if key in result:
                values.append(result[key])
    return values


# --------------------------------------------------------------------------- paths


class FitTimer:
    """Split ``estimator.fit`` into build / compile / sample / post without changing it.

    Wraps the ``draw_posterior`` that ``bayesmixture.estimators._base`` calls: the time before
    it is validation, model building and the EM start ("build"); inside it, the sampler's own
    sampling time (``posterior.attrs["sampling_time"]`` from PyMC, or ``nutpie.sample``'s wall
    time) is "sample" and the rest is "compile" (graph rewriting, C/Numba/JAX compilation,
    worker start-up, trace conversion); after it, relabelling and membership ("post").
    """

    def __init__(self, sampler: str) -> None:
        import bayesmixture.estimators._base as base
        from bayesmixture.inference import resolve_sampler

        self.resolved = resolve_sampler(sampler)
        self.sample_started: float | None = None
        self.sample_ended: float | None = None
        self.sampling: float | None = None
        self.backend_import = 0.0
        # The whole sampling step of a fit: the compiled path (kernel load or Numba compile,
        # nutpie) or PyMC's graph (bayesmixture.inference.sample); the EM start comes before
        # it (build).
        original = base.draw_posterior

        def timed_sample(*args: Any, **kwargs: Any) -> Any:
            self.sample_started = time.perf_counter()
            idata = original(*args, **kwargs)
            self.sample_ended = time.perf_counter()
            attrs = idata.posterior.attrs
            self.sampling = attrs.get("sampling_time", self.sampling)
            if attrs.get("bayesmixture_sampler"):
                self.resolved = attrs["bayesmixture_sampler"]
            return idata

        base.draw_posterior = timed_sample
        if self.resolved == "nutpie":
            begin = time.perf_counter()
            import nutpie

            self.backend_import = time.perf_counter() - begin
            original_nutpie = nutpie.sample

            def timed_nutpie(*args: Any, **kwargs: Any) -> Any:
                begin = time.perf_counter()
                out = original_nutpie(*args, **kwargs)
                self.sampling = time.perf_counter() - begin
                return out

            nutpie.sample = timed_nutpie

    def fit(self, estimator: Any, data: Any, clock: Clock, y: Any = None) -> Any:
        """Fit ``estimator`` on ``data`` (and ``y``, if given), adding its phases to ``clock``."""
        begin = time.perf_counter()
        estimator.fit(data) if y is None else estimator.fit(data, y)
        end = time.perf_counter()
        if self.sample_started is None or self.sample_ended is None:
            raise RuntimeError("the fit did not call draw_posterior")
        inside = self.sample_ended - self.sample_started
        sampling = inside if self.sampling is None else float(self.sampling)
        clock.add("build", self.sample_started - begin)
        clock.add("compile", inside - sampling + self.backend_import)
        clock.add("sample", sampling)
        clock.add("post", end - self.sample_ended)
        return estimator


def sampler_stats(sample_stats: Any) -> dict[str, float | None]:
    """Mean leapfrog steps per draw and the number of divergences, where recorded."""
    steps = divergences = None
    if sample_stats is not None:
        if "n_steps" in sample_stats:
            steps = float(sample_stats["n_steps"].mean())
        if "diverging" in sample_stats:
            divergences = float(sample_stats["diverging"].sum())
    return {"steps_per_draw": steps, "divergences": divergences}


def gaussian_membership(
    x: Any, log_weights: Any, means: Any, chols: Any, *, block: int = 4_000_000
) -> Any:
    """Mean over draws of P(z_i = k | x_i, theta_s) for Gaussian components, in numpy.

    x (N, D); log_weights (S, K); means (S, K, D); chols (S, K, D, D) lower Cholesky factors.
    Returns (N, K). Draws are processed in blocks of about ``block`` numbers.
    """
    import numpy as np
    from scipy.special import logsumexp

    n_obs, n_features = x.shape
    n_draws, n_components = log_weights.shape
    step = max(1, block // (n_obs * n_components * n_features))
    total = np.zeros((n_obs, n_components))
    for start in range(0, n_draws, step):
        part = slice(start, start + step)
        inv = np.linalg.inv(chols[part])  # (s, K, D, D)
        diff = x[None, None] - means[part][:, :, None, :]  # (s, K, N, D)
        z = np.einsum("skij,sknj->skni", inv, diff)
        log_det = np.log(np.diagonal(chols[part], axis1=-2, axis2=-1)).sum(-1)  # (s, K)
        joint = -0.5 * (z**2).sum(-1) - log_det[..., None] + log_weights[part][..., None]
        joint -= logsumexp(joint, axis=1, keepdims=True)  # (s, K, N)
        total += np.exp(joint).sum(axis=0).T
    return total / n_draws


def normal_membership(
    y: Any, log_weights: Any, means: Any, sds: Any, *, block: int = 4_000_000
) -> Any:
    """As :func:`gaussian_membership` for 1-D normal components: y (N,), others (S, K)."""
    import numpy as np
    from scipy.special import logsumexp

    n_draws, n_components = log_weights.shape
    step = max(1, block // (len(y) * n_components))
    total = np.zeros((len(y), n_components))
    for start in range(0, n_draws, step):
        part = slice(start, start + step)
        z = (y[None, :, None] - means[part][:, None, :]) / sds[part][:, None, :]  # (s, N, K)
        joint = -0.5 * z**2 - np.log(sds[part])[:, None, :] + log_weights[part][:, None, :]
        joint -= logsumexp(joint, axis=2, keepdims=True)
        total += np.exp(joint).sum(axis=0)
    return total / n_draws


def blog_model(data: Any, *, n_clusters: int = 3) -> Any:
    """The blog post's penguin model, in PyMC 5 spelling.

    One ``pm.LKJCholeskyCov`` (eta 2, HalfNormal(1) sds, packed, as in the post) and one
    ``pm.Normal(0, 1.5)`` mean vector per cluster, ``Dirichlet(ones / K)`` weights, and
    ``pm.Mixture`` of ``pm.MvNormal`` components on the standardised data.
    """
    import numpy as np
    import pymc as pm
    import pytensor.tensor as pt

    _, n_features = data.shape
    with pm.Model() as model:
        lower = pt.stack(
            [
                pm.LKJCholeskyCov(
                    f"sigma_{k}",
                    n=n_features,
                    eta=2.0,
                    sd_dist=pm.HalfNormal.dist(sigma=1.0),
                    compute_corr=False,
                )
                for k in range(n_clusters)
            ]
        )
        chol = pt.stack(
            [pm.expand_packed_triangular(n_features, lower[k]) for k in range(n_clusters)]
        )
        mus = pt.stack(
            [pm.Normal(f"mu_{k}", 0.0, 1.5, shape=n_features) for k in range(n_clusters)]
        )
        components = [
            pm.MvNormal.dist(mus[k], chol=chol[k], shape=n_features) for k in range(n_clusters)
        ]
        w = pm.Dirichlet("w", np.ones(n_clusters) / n_clusters)
        pm.Mixture("obs", w=w, comp_dists=components, observed=data)
    return model


def blog_posterior_summary(posterior: Any, data: Any) -> dict[str, Any]:
    """Relabel the blog model's draws by their means; membership of ``data`` from all draws.

    Returns the relabelled arrays (``w``, ``mu``, ``sd``; chain, draw, K[, D]), the same
    before relabelling (``raw``), and ``probability`` (N, K).
    """
    import numpy as np

    n_clusters = posterior["w"].shape[-1]
    n_features = data.shape[1]
    rows, cols = np.tril_indices(n_features)
    mu = np.stack([posterior[f"mu_{k}"].values for k in range(n_clusters)], axis=2)
    packed = np.stack([posterior[f"sigma_{k}"].values for k in range(n_clusters)], axis=2)
    chol = np.zeros((*packed.shape[:3], n_features, n_features))
    chol[..., rows, cols] = packed
    weights = posterior["w"].values
    sd = np.sqrt((chol**2).sum(axis=-1))  # sqrt(diag(L L^T)): row norms of L
    perms = relabel_by_means(mu)
    relabelled = {
        "w": take_components(weights, perms),
        "mu": take_components(mu, perms),
        "sd": take_components(sd, perms),
    }
    chol = take_components(chol, perms)
    n_draws = mu.shape[0] * mu.shape[1]
    probability = gaussian_membership(
        data,
        np.log(relabelled["w"]).reshape(n_draws, -1),
        relabelled["mu"].reshape(n_draws, n_clusters, n_features),
        chol.reshape(n_draws, n_clusters, n_features, n_features),
    )
    raw = {"w": weights, "mu": mu, "sd": sd}
    return {**relabelled, "raw": raw, "probability": probability}


# ---------------------------------------------------------------- command lines


def script_parser(doc: str) -> argparse.ArgumentParser:
    """A parser whose description is the first paragraph of the script's docstring."""
    return argparse.ArgumentParser(
        description=doc.split("\n\n")[0], formatter_class=argparse.RawTextHelpFormatter
    )


def add_sampling_arguments(
    parser: argparse.ArgumentParser,
    *,
    cap: float,
    draws: int,
    tune: int,
    chains: int,
    seed: int,
    cap_what: str = "run",
) -> None:
    """``--cap --draws --tune --chains --seed`` with the given defaults."""
    parser.add_argument("--cap", type=float, default=cap, help=f"seconds per {cap_what} ({cap:g})")
    parser.add_argument("--draws", type=int, default=draws, help=f"kept draws per chain ({draws})")
    parser.add_argument("--tune", type=int, default=tune, help=f"tuning steps per chain ({tune})")
    parser.add_argument("--chains", type=int, default=chains, help=f"chains ({chains})")
    parser.add_argument("--seed", type=int, default=seed, help=f"random seed ({seed})")


def comma_choices(choices: Sequence[str]) -> Callable[[str], list[str]]:
    """An argparse ``type`` taking a comma-separated subset of ``choices``."""

    def parse(text: str) -> list[str]:
        chosen = text.split(",")
        unknown = [item for item in chosen if item not in choices]
        if unknown:
            raise argparse.ArgumentTypeError(f"unknown {unknown}; choose from {list(choices)}")
        return chosen

    return parse


def add_no_write(parser: argparse.ArgumentParser) -> None:
    """``--no-write``: print the section instead of writing docs/benchmarks.md."""
    parser.add_argument(
        "--no-write", action="store_true", help="print the section instead of writing the doc"
    )


def publish(report: dict[str, Any], section: str, name: str, results: Path, no_write: bool) -> None:
    """Write ``report`` to ``results`` and ``section`` to docs/benchmarks.md (or print it)."""
    if no_write:
        print(section)
        return
    results.parent.mkdir(exist_ok=True)
    results.write_text(json.dumps(report, indent=1))
    write_section(name, section)


def dump_results(results: dict[str, Any], out: str | None) -> None:
    """Print ``results`` as JSON, and write them to ``out`` when given."""
    print(json.dumps(results, indent=2))
    if out:
        with open(out, "w") as handle:
            json.dump(results, handle, indent=2)
