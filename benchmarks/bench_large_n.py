"""Benchmark: fitting up to a million 1-D rows of a 3-component normal mixture.

Two paths on the same model (``bm.Mixture("normal", 3)``'s priors and k-means start):

(a) the library's default, NUTS through ``bm.Mixture(...).fit``, run in a child process with
    a wall-clock cap (it is killed when the cap is reached, and the time it would need is
    extrapolated from one log-density-and-gradient evaluation at that size and the leapfrog
    steps NUTS took at a size where it finished);
(b) minibatch ADVI, ``bayesmixture.inference._advi.fit_advi_minibatch`` on the same model.

Reported for each: wall time, membership accuracy against the generating labels (components
matched to the truth by their means), the accuracy of the true parameters as a ceiling, and
the largest absolute error of the means, sds and weights. Where both finish, ADVI is compared
with NUTS: posterior mean differences in NUTS posterior sds, and the ratio of posterior sds.

Stages (each well under 15 minutes on 2 cores):
``--stage compare --n 10000`` and ``--n 100000 --chains 2 --draws 500 --tune 500``: both paths;
``--stage large --n 1000000 --cap 600``: ADVI, then NUTS with the cap.
Figures are summarised in docs/scaling.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import subprocess
import sys
import time

import numpy as np
from _common import dump_results
from scipy.optimize import linear_sum_assignment
from scipy.stats import norm

import bayesmixture as bm

WEIGHTS = np.array([0.3, 0.5, 0.2])
MEANS = np.array([-4.0, 0.0, 5.0])
SDS = np.array([1.0, 0.7, 1.5])
PARAMS = {"mu": MEANS, "sigma": SDS, "weights": WEIGHTS}
ADVI = {"batch_size": 1_000, "n_iter": 20_000, "draws": 1_000, "learning_rate": 0.01}


def make_data(n_obs: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    labels = rng.choice(3, size=n_obs, p=WEIGHTS)
    return MEANS[labels] + SDS[labels] * rng.standard_normal(n_obs), labels


def oracle_accuracy(y: np.ndarray, labels: np.ndarray) -> float:
    """Accuracy of the Bayes classifier with the true parameters: the ceiling."""
    dens = WEIGHTS * norm.pdf(y[:, None], MEANS, SDS)
    return float(np.mean(dens.argmax(axis=1) == labels))


def scores(posterior, found_labels: np.ndarray, labels: np.ndarray) -> dict:
    """Accuracy and parameter errors, components matched to the truth by their means."""
    mu = posterior["mu"].mean(("chain", "draw")).values
    _, order = linear_sum_assignment(np.abs(mu[None, :] - MEANS[:, None]))  # true k -> found
    to_true = np.argsort(order)
    out = {"accuracy": float(np.mean(to_true[found_labels] == labels))}
    for name, truth in PARAMS.items():
        est = posterior[name].mean(("chain", "draw")).values[order]
        out[f"max_abs_error_{name}"] = float(np.max(np.abs(est - truth)))
    out["order"] = order.tolist()
    return out


def summaries(posterior, order) -> dict:
    """Posterior mean and sd of each parameter, in the truth's component order."""
    return {
        name: {
            "mean": posterior[name].mean(("chain", "draw")).values[order].tolist(),
            "sd": posterior[name].std(("chain", "draw")).values[order].tolist(),
        }
        for name in PARAMS
    }


def run_nuts(y, labels, *, draws, tune, chains, seed, sampler="auto") -> dict:
    started = time.perf_counter()
    est = bm.Mixture(
        "normal",
        3,
        draws=draws,
        tune=tune,
        chains=chains,
        sampler=sampler,
        random_seed=seed,
        progressbar=False,
    ).fit(y)
    wall = time.perf_counter() - started
    posterior = est.idata_.posterior
    out = {"wall_s": wall, "draws": draws, "tune": tune, "chains": chains, "sampler": sampler}
    out |= scores(posterior, est.membership_["label"].values, labels)
    out["posterior"] = summaries(posterior, out["order"])
    steps = est.idata_.sample_stats["n_steps"].values
    out["mean_leapfrog_steps"] = float(steps.mean())
    return out


def run_advi(y, labels, *, seed) -> dict:
    from bayesmixture.inference._advi import fit_advi_minibatch

    est = bm.Mixture("normal", 3, chains=1, random_seed=seed)
    fit = est._validate_fit_data(y)
    model = est._build_model(fit)  # the same model NUTS samples
    start = est._initial_values(fit, np.random.default_rng(seed))[0]  # its k-means start
    started = time.perf_counter()
    idata = fit_advi_minibatch(model, "y", **ADVI, start=start, random_seed=seed)
    wall = time.perf_counter() - started
    started = time.perf_counter()
    found = bm.membership(model, idata, "y")["label"].values
    membership_wall = time.perf_counter() - started
    out = {"wall_s": wall, "membership_wall_s": membership_wall, **ADVI}
    out |= scores(idata.posterior, found, labels)
    out["posterior"] = summaries(idata.posterior, out["order"])
    return out


def advi_against_nuts(advi: dict, nuts: dict) -> dict:
    out = {}
    for name in PARAMS:
        a, b = advi["posterior"][name], nuts["posterior"][name]
        z = (np.array(a["mean"]) - np.array(b["mean"])) / np.array(b["sd"])
        out[name] = {
            "mean_difference_in_nuts_sds": np.round(z, 2).tolist(),
            "sd_ratio_advi_to_nuts": np.round(np.array(a["sd"]) / np.array(b["sd"]), 2).tolist(),
        }
    return out


def gradient_seconds(y, mode: str | None = None) -> float:
    """One log-density-and-gradient evaluation of the NUTS model at this size.

    ``mode``: PyTensor's default (C) or ``"JAX"``, the backend ``sampler="numpyro"`` runs on.
    """
    from pymc.blocking import DictToArrayBijection
    from threadpoolctl import threadpool_limits

    est = bm.Mixture("normal", 3)
    model = est._build_model(est._validate_fit_data(y))
    point = DictToArrayBijection.map(model.initial_point()).data
    fn = model.logp_dlogp_function(ravel_inputs=True, mode=mode)
    fn.set_extra_values({})
    with threadpool_limits(1):
        fn(point)
        started = time.perf_counter()
        for _ in range(5):
            # np.asarray waits for JAX's asynchronous dispatch to finish the computation
            [np.asarray(output) for output in fn(point)]
    return (time.perf_counter() - started) / 5


def nuts_with_cap(args) -> dict:
    """Run the NUTS stage in a child process (own session) and kill it at the cap."""
    command = [
        sys.executable,
        __file__,
        "--stage",
        "nuts",
        "--n",
        str(args.n),
        "--seed",
        str(args.seed),
        "--draws",
        str(args.draws),
        "--tune",
        str(args.tune),
        "--chains",
        str(args.chains),
        "--sampler",
        args.sampler,
        "--out",
        f"{args.out or 'large_n'}.nuts.json",
    ]
    started = time.perf_counter()
    child = subprocess.Popen(command, start_new_session=True, stdout=subprocess.DEVNULL)
    try:
        child.wait(timeout=args.cap)
    except subprocess.TimeoutExpired:
        os.killpg(child.pid, signal.SIGKILL)  # the child and its chain processes
        child.wait()
        return {"finished": False, "cap_s": args.cap, "wall_s": time.perf_counter() - started}
    with open(command[-1]) as handle:
        return {"finished": True, **json.load(handle)}


def machine() -> dict:
    import pymc
    import pytensor

    return {
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "pymc": pymc.__version__,
        "pytensor": pytensor.__version__,
        "load_average_at_start": os.getloadavg(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stage", choices=["compare", "large", "nuts"], default="compare")
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--draws", type=int, default=1_000)
    parser.add_argument("--tune", type=int, default=1_000)
    parser.add_argument("--chains", type=int, default=4)
    parser.add_argument("--cap", type=float, default=600.0, help="NUTS wall-clock cap (s)")
    parser.add_argument("--out", default=None)
    parser.add_argument(
        "--sampler", default="auto", help="NUTS backend of bm.Mixture (auto, pymc, numpyro, nutpie)"
    )
    parser.add_argument(
        "--gradient-only",
        action="store_true",
        help="print one gradient's seconds at --n for the C and JAX backends, and stop",
    )
    args = parser.parse_args()

    y, labels = make_data(args.n, args.seed)
    if args.gradient_only:
        print(json.dumps({mode or "C": gradient_seconds(y, mode) for mode in (None, "JAX")}))
        return
    nuts_args = {
        "draws": args.draws,
        "tune": args.tune,
        "chains": args.chains,
        "seed": args.seed,
        "sampler": args.sampler,
    }
    results = {"stage": args.stage, "n_obs": args.n}
    if args.stage == "nuts":
        results |= run_nuts(y, labels, **nuts_args)
    else:
        results["machine"] = machine()
        results["oracle_accuracy"] = oracle_accuracy(y, labels)
        if args.stage == "compare":
            # NUTS first: once JAX is loaded (membership), PyMC runs chains one at a time.
            results["nuts"] = run_nuts(y, labels, **nuts_args)
            results["advi"] = run_advi(y, labels, seed=args.seed)
            results["advi_against_nuts"] = advi_against_nuts(results["advi"], results["nuts"])
        else:
            results["gradient_s"] = gradient_seconds(y)
            results["nuts"] = nuts_with_cap(args)
            results["advi"] = run_advi(y, labels, seed=args.seed)
    dump_results(results, args.out)


if __name__ == "__main__":
    main()
