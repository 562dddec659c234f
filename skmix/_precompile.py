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
types with prediction, scoring and sampling, and one default fit of each
other estimator (NIG, coin, composite with real, count, binary and
categorical columns and missing values). Kernels of other paths (grouped
mixtures, Dask input, threads over row chunks) still compile on first use.
"""

from __future__ import annotations

import contextlib
import io
import warnings

import numpy as np


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


def main() -> None:
    """Run the calls (their output and warnings are discarded)."""
    from .__main__ import main as command_line
    from .datasets import load_faithful

    X = load_faithful(return_X_y=True)
    with (
        contextlib.redirect_stdout(io.StringIO()),
        contextlib.redirect_stderr(io.StringIO()),
        warnings.catch_warnings(),
    ):
        warnings.simplefilter("ignore")
        command_line([])
        _gaussian_calls(X)
        _other_estimators(X)


if __name__ == "__main__":
    main()
