"""Model-based hierarchical clustering: skmix against R mclust's ``hc``.

Times ``hc(X, modelName = "VVV", use = "SVD")`` in R (through ``Rscript``,
where R and mclust are installed; skipped politely otherwise) and skmix's
``hc_tree(X)`` (the same SVD scaling and merges) on wine, Old Faithful and two
2,000-row Gaussian mixtures, in interleaved rounds (R, then skmix, per data
set), keeping each side's minimum. Each side's time is per call, the best of
``--reps`` batches of calls (batches of several calls for the small sets, as
R's clock ticks in milliseconds). It also checks that both make the same
merges. Run with ``python benchmarks/bench_hc.py``; timings are noisy on a
shared machine.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from skmix._engine.hc import hc_tree

DATA = Path(__file__).resolve().parent.parent / "tests" / "data"

R_SCRIPT = r"""
suppressMessages(library(mclust))
args <- commandArgs(TRUE)
X <- as.matrix(read.csv(args[1])); reps <- as.integer(args[2])
inner <- as.integer(args[3])
h <- hc(X, modelName = "VVV", use = "SVD")
write.table(t(h), args[4], row.names = FALSE, col.names = FALSE, sep = ",")
best <- Inf
for (i in 1:reps) {
  t0 <- proc.time()[["elapsed"]]
  for (j in 1:inner) h <- hc(X, modelName = "VVV", use = "SVD")
  best <- min(best, (proc.time()[["elapsed"]] - t0) / inner)
}
cat(sprintf("%.6f\n", best))
"""


def mixture(n_samples, n_features, n_components, seed):
    """Rows of a Gaussian mixture with random means and covariances."""
    rng = np.random.default_rng(seed)
    means = rng.normal(scale=3.0, size=(n_components, n_features))
    labels = rng.integers(n_components, size=n_samples)
    shapes = rng.normal(size=(n_components, n_features, n_features))
    noise = rng.normal(size=(n_samples, n_features))
    return means[labels] + np.einsum("nij,nj->ni", shapes[labels], noise)


def data_sets():
    """(name, X, calls per timed batch)."""
    return [
        (
            "wine",
            pd.read_csv(DATA / "wine.csv").drop(columns="label").to_numpy(float),
            20,
        ),
        ("faithful", pd.read_csv(DATA / "faithful.csv").to_numpy(float), 20),
        ("mixture 2000x6", mixture(2000, 6, 4, seed=2022), 1),
        ("mixture 2000x13", mixture(2000, 13, 5, seed=13), 1),
    ]


def time_skmix(X, reps, inner):
    hc_tree(X)  # compile (or load the cache)
    best = np.inf
    for _ in range(reps):
        start = time.perf_counter()
        for _ in range(inner):
            tree = hc_tree(X)
        best = min(best, (time.perf_counter() - start) / inner)
    return best, tree.merges


def time_r(X, reps, inner, folder):
    data, merges = folder / "X.csv", folder / "merges.csv"
    pd.DataFrame(X).to_csv(data, index=False, float_format="%.17g")
    script = folder / "hc.R"
    script.write_text(R_SCRIPT)
    out = subprocess.run(
        ["Rscript", str(script), str(data), str(reps), str(inner), str(merges)],
        capture_output=True,
        text=True,
        check=True,
    )
    return float(out.stdout.split()[-1]), np.loadtxt(merges, delimiter=",") - 1


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--reps", type=int, default=3)
    args = parser.parse_args()
    has_r = shutil.which("Rscript") is not None
    if not has_r:
        print("Rscript not found: timing skmix alone.")
    best = {}
    with tempfile.TemporaryDirectory() as folder:
        for _ in range(args.rounds):
            for name, X, inner in data_sets():
                r_time, r_merges = np.inf, None
                if has_r:
                    r_time, r_merges = time_r(X, args.reps, inner, Path(folder))
                skmix_time, merges = time_skmix(X, args.reps, inner)
                old = best.get(name, (np.inf, np.inf, True))
                same = r_merges is None or np.array_equal(merges, r_merges)
                best[name] = (min(old[0], r_time), min(old[1], skmix_time), same)
    print(
        f"{'data':<18}{'rows x cols':>12}{'R hc ms':>10}{'skmix ms':>10}"
        f"{'ratio':>8}  same merges"
    )
    for name, X, _ in data_sets():
        r_time, skmix_time, same = best[name]
        ratio = r_time / skmix_time if has_r else np.nan
        print(
            f"{name:<18}{f'{X.shape[0]} x {X.shape[1]}':>12}{1e3 * r_time:>10.1f}"
            f"{1e3 * skmix_time:>10.1f}{ratio:>8.2f}  {same if has_r else '-'}"
        )


if __name__ == "__main__":
    main()
