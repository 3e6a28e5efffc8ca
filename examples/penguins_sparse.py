"""How many penguin clusters does an overfitted sparse mixture find?

Fits ``GaussianMixture(K, weights_prior="sparse")`` to the bundled penguins (the four
measurements, or the two bill measurements with ``--columns bill``) and prints the posterior
of the number of non-empty components, the sampling diagnostics and the wall time.

Run: ``.venv/bin/python examples/penguins_sparse.py [--columns all|bill] [--k 6]``.
"""

from __future__ import annotations

import argparse
import json
import time

import bayesmixture as bm

COLUMNS = {
    "all": list(bm.datasets.PENGUIN_MEASUREMENTS),
    "bill": ["bill_length_mm", "bill_depth_mm"],
}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--columns", choices=sorted(COLUMNS), default="all")
    parser.add_argument("--k", type=int, default=6, help="components of the overfitted fit (6)")
    parser.add_argument("--draws", type=int, default=500, help="kept draws per chain (500)")
    parser.add_argument("--tune", type=int, default=500, help="tuning steps per chain (500)")
    parser.add_argument("--seed", type=int, default=1, help="random seed (1)")
    args = parser.parse_args(argv)

    X = bm.datasets.load_penguins()[COLUMNS[args.columns]]
    begin = time.perf_counter()
    gm = bm.GaussianMixture(
        args.k,
        weights_prior="sparse",
        draws=args.draws,
        tune=args.tune,
        chains=2,
        random_seed=args.seed,
    ).fit(X)
    wall = time.perf_counter() - begin
    posterior = gm.n_components_posterior(random_seed=args.seed)
    checks = gm.diagnose()
    print(
        json.dumps(
            {
                "columns": args.columns,
                "k": args.k,
                "wall_s": round(wall, 1),
                "n_components_posterior": {
                    str(k): round(float(p), 3) for k, p in posterior.items()
                },
                "checks": {row.check: f"{row.status}: {row.detail}" for row in checks.itertuples()},
            },
            indent=1,
            default=str,
        )
    )


if __name__ == "__main__":
    main()
