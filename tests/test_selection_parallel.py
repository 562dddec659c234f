"""``select_model(..., n_jobs)``: candidates fitted in parallel processes
give the serial search's table, choice and fitted estimators (the search's
results must not depend on ``n_jobs``, as in scikit-learn's searches)."""

from __future__ import annotations

import numpy as np
import pytest
from joblib import parallel_config

from skmix import GaussianMixtureEM, NIGMixture, select_model
from skmix.__main__ import main
from skmix.datasets import load_faithful

NUMBERS = ["log_likelihood", "n_parameters", "bic", "aic", "icl"]
FLAGS = ["estimator", "covariance_type", "n_components", "converged"]
FLAGS += ["degenerate", "failed", "reason"]


@pytest.fixture(scope="module")
def faithful():
    return load_faithful(return_X_y=True)


def _search(X, n_jobs, **options):
    templates = [GaussianMixtureEM(random_state=0), NIGMixture(random_state=0)]
    return select_model(
        templates,
        X,
        n_components=[1, 2, 3],
        # Closed-form and iterative M-steps, and NIG's scikit-learn types.
        covariance_types=["EII", "VEI", "tied", "VVE", "full"],
        n_jobs=n_jobs,
        **options,
    )


def _assert_same_search(serial, parallel, X):
    # Kernels compiled in this process and the workers' kernels loaded from
    # numba's cache may round differently in the last bits, hence rtol.
    a, b = serial.table, parallel.table
    np.testing.assert_allclose(
        a[NUMBERS].to_numpy(float), b[NUMBERS].to_numpy(float), rtol=1e-9
    )
    assert a[FLAGS].equals(b[FLAGS])
    assert serial.best_index_ == parallel.best_index_
    for one, other in zip(serial.estimators_, parallel.estimators_):
        assert type(one) is type(other)
        np.testing.assert_allclose(one.means_, other.means_, rtol=1e-9, atol=1e-12)
        np.testing.assert_array_equal(one.predict(X), other.predict(X))


def test_parallel_search_equals_the_serial_one(faithful):
    serial = _search(faithful, None)
    parallel = _search(faithful, 2)
    _assert_same_search(serial, parallel, faithful)
    # The NIG candidates ran too (their own starts, in their tasks).
    assert set(parallel.table["estimator"]) == {"GaussianMixtureEM", "NIGMixture"}
    best = parallel.best_estimator_
    assert (best.n_components, best.covariance_type) == (3, "tied")
    # The chosen estimator came back from a worker as a working estimator.
    assert best.score(faithful) == pytest.approx(-1126.3257 / 272, abs=1e-4)


def test_joblib_context_sets_the_processes(faithful):
    with parallel_config(n_jobs=2):
        parallel = _search(faithful, None, criterion="icl")
    serial = _search(faithful, 1, criterion="icl")
    _assert_same_search(serial, parallel, faithful)


def test_parallel_verbose_lines_follow_the_table(faithful, capsys):
    search = select_model(
        GaussianMixtureEM(random_state=0),
        faithful,
        n_components=[1, 2],
        covariance_types=["VVE", "EII"],
        n_jobs=2,
        verbose=1,
    )
    lines = capsys.readouterr().out.splitlines()
    # VVE's task starts first (an iterative model); the lines keep the
    # table's order.
    assert [line.split(":")[0] for line in lines[:-1]] == [
        "GaussianMixtureEM VVE, 1 components",
        "GaussianMixtureEM VVE, 2 components",
        "GaussianMixtureEM EII, 1 components",
        "GaussianMixtureEM EII, 2 components",
    ]
    assert lines[-1].startswith("Searched 4 in")
    assert list(search.table["covariance_type"]) == ["VVE", "VVE", "EII", "EII"]


@pytest.mark.parametrize("n_jobs", [0, 1.5, "2", True])
def test_n_jobs_must_be_a_nonzero_integer(faithful, n_jobs):
    with pytest.raises(ValueError, match="n_jobs must be None or a nonzero integer"):
        select_model(GaussianMixtureEM(), faithful, n_components=[1], n_jobs=n_jobs)


def test_command_line_fits_the_models_in_processes(capsys):
    assert main(["--n-jobs", "2", "--models", "EEE,VVV,VVE"]) == 0
    out = capsys.readouterr().out
    assert "chosen model: 3 components, covariance_type='tied' (mclust EEE)" in out
    with pytest.raises(SystemExit) as refused:  # argparse's usage error
        main(["--n-jobs", "0"])
    assert refused.value.code == 2
    assert "argument --n-jobs: 0 processes" in capsys.readouterr().err
