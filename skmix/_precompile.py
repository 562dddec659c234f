"""Compile the kernels a new user's first calls need, into numba's cache.

``python -m skmix._precompile`` runs the calls below once, quietly, so that
numba compiles every kernel they reach and writes it to its on-disk cache:
beside each kernel's source (``__pycache__``), or under
``NUMBA_CACHE_DIR`` when that is set. Building the package
(``pip install .``) runs it on the built copy of the package
(``setup.py``), so that the installed package carries its compiled kernels
and the first ``python -m skmix`` and the first fits load them instead of
compiling them (numba checks that the source, numba, Python and the CPU are
those the cache was built for, and compiles again otherwise).

What runs: the command line's search on the embedded Old Faithful data
(every covariance model, hierarchical-clustering and k-means starts, the
summary), a ``GaussianMixtureEM`` fit of each of scikit-learn's covariance
types with prediction, scoring and sampling and an accelerated fit, and one
default fit of each
other estimator (NIG, coin, composite with real, count, binary and
categorical columns and missing values). Kernels of other paths (grouped
mixtures, Dask input, threads over row chunks) still compile on first use.

Where two CPUs or more are free, two processes share the compilation: this
one compiles the search's kernels (without the hierarchical clustering),
a second one, with a cache directory of its own, those of the hierarchical
clustering and of the other estimators; its files are then copied where
this process caches (each kernel's files whole, and only those of kernels
this process has not cached: two processes never write the same numba
index), and the calls above all run once more here, which compiles
whatever the two parts left out. numba compiles one kernel at a time, so
the parts are what can run side by side.
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import subprocess
import sys
import tempfile
import warnings

import numpy as np
from joblib import cpu_count


def _gaussian_calls(X):
    from .gaussian import GaussianMixtureEM

    for covariance_type in ("full", "tied", "diag", "spherical"):
        model = GaussianMixtureEM(3, covariance_type=covariance_type, random_state=0)
        model.fit(X)
        model.predict(X)
        model.predict_proba(X)
        model.score(X)
        model.sample(5)
        model.bic(X)
    # The compiled SQUAREM cycle (one kernel for every covariance type).
    GaussianMixtureEM(3, accelerate="squarem", random_state=0).fit(X)


def _other_estimators(X):
    from .coin import CoinMixture
    from .composite import CompositeMixture
    from .nig import NIGMixture

    rng = np.random.default_rng(0)
    NIGMixture(2, random_state=0).fit(X).predict_proba(X)
    counts = rng.binomial(10, [[0.2, 0.7]] * 100, size=(100, 2))
    CoinMixture(2, random_state=0).fit(counts).predict(counts)
    table = np.column_stack(
        [
            X[:100, 0],
            rng.poisson(3.0, 100),
            rng.integers(0, 2, 100),
            rng.integers(0, 3, 100),
        ]
    ).astype(float)
    table[::7, 0] = np.nan
    families = ["gaussian", "poisson", "bernoulli", "categorical"]
    CompositeMixture(2, families=families, random_state=0).fit(table).predict(table)


def _search_part(X):
    """The command line's search without its hierarchical clustering."""
    from .gaussian import GaussianMixtureEM
    from .selection import select_model

    template = GaussianMixtureEM(tol=1e-3, max_iter=1000, random_state=0)
    select_model(template, X, hc_start=False).best_estimator_.predict_proba(X)
    _gaussian_calls(X)


def _hc_and_others_part(X):
    """The hierarchical clustering under every transformation, and the
    other estimators."""
    from ._base import HC_TRANSFORMATIONS, hc_labels

    for use in HC_TRANSFORMATIONS:
        for k in range(2, 10):
            hc_labels(X, k, use)
    _other_estimators(X)


def _all_calls(X):
    from .__main__ import main as command_line

    command_line([])
    _gaussian_calls(X)
    _other_estimators(X)


PARTS = {"search": _search_part, "hc_and_others": _hc_and_others_part}


def _quietly(calls, X) -> None:
    """Run ``calls(X)``, discarding its output and warnings."""
    with (
        contextlib.redirect_stdout(io.StringIO()),
        contextlib.redirect_stderr(io.StringIO()),
        warnings.catch_warnings(),
    ):
        warnings.simplefilter("ignore")
        calls(X)


def merge_cache(source_root: str, package: str) -> int:
    """Copy the kernels numba cached under ``source_root`` (another
    process's ``NUMBA_CACHE_DIR``) for the sources in ``package`` to where
    this process caches them (``NUMBA_CACHE_DIR``, or beside the sources);
    how many files were copied. A kernel this process has cached keeps its
    own files (its index is never rewritten here)."""
    from ._config import numba_cache_subpath

    here = os.environ.get("NUMBA_CACHE_DIR")
    copied = 0
    for folder, _, names in os.walk(package):
        if not any(name.endswith(".py") for name in names):
            continue
        cached = os.path.join(source_root, numba_cache_subpath(folder))
        if not os.path.isdir(cached):
            continue
        target = os.path.join(
            *((here, numba_cache_subpath(folder)) if here else (folder, "__pycache__"))
        )
        os.makedirs(target, exist_ok=True)
        files = sorted(os.listdir(cached))
        for index in (name for name in files if name.endswith(".nbi")):
            if os.path.exists(os.path.join(target, index)):
                continue
            stem = index[: -len(".nbi")]
            data = [name for name in files if name.startswith(stem + ".")]
            # The data files first: the index names them.
            for name in [n for n in data if n.endswith(".nbc")] + [index]:
                shutil.copy2(os.path.join(cached, name), os.path.join(target, name))
                copied += 1
    return copied


def _in_two_processes(X) -> None:
    """:data:`PARTS` side by side, then every call once more here."""
    package = os.path.dirname(os.path.abspath(__file__))
    with tempfile.TemporaryDirectory() as cache:
        env = dict(os.environ, NUMBA_CACHE_DIR=cache)
        other = subprocess.Popen(
            [sys.executable, "-m", "skmix._precompile", "hc_and_others"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            _quietly(_search_part, X)
        finally:
            finished = other.wait() == 0
        if finished:
            merge_cache(cache, package)
    # Loads what the parts cached; compiles what they left out (all of the
    # second part's kernels if it failed).
    _quietly(_all_calls, X)


def main(argv=None) -> None:
    """Run the calls (their output and warnings are discarded); with a part's
    name (:data:`PARTS`), that part only."""
    from .datasets import load_faithful

    argv = sys.argv[1:] if argv is None else argv
    X = load_faithful(return_X_y=True)
    if argv:
        _quietly(PARTS[argv[0]], X)
    elif cpu_count() >= 2:  # joblib's: the CPUs this process may use
        _in_two_processes(X)
    else:
        _quietly(_all_calls, X)


if __name__ == "__main__":
    main()
