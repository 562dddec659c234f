"""select_model on Dask input: the search holds the rows in memory (as
mclust's), so a Dask array or frame gives the table and choice of the same
rows in memory (which ``tests/test_selection.py`` checks against mclust),
and an array larger than the memory available is refused before anything
is computed."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import skmix._selection_input as selection_input
from skmix import GaussianMixtureEM, NIGMixture, select_model
from skmix.datasets import load_faithful

da = pytest.importorskip("dask.array")
dask = pytest.importorskip("dask")
dd = pytest.importorskip("dask.dataframe")

CANDIDATES = dict(n_components=[1, 2, 3], covariance_types=["tied", "EVE", "VVV"])


def _same_search(a, b):
    table_a, table_b = pd.DataFrame(a.table), pd.DataFrame(b.table)
    pd.testing.assert_frame_equal(
        table_a.drop(columns="estimator"), table_b.drop(columns="estimator")
    )
    assert a.best_index_ == b.best_index_
    np.testing.assert_array_equal(a.best_estimator_.means_, b.best_estimator_.means_)


def test_dask_array_and_weights_search_as_in_memory():
    X = load_faithful(return_X_y=True)
    w = np.random.default_rng(0).uniform(0.5, 2.0, size=X.shape[0])
    template = GaussianMixtureEM(random_state=0)
    expected = select_model(template, X, sample_weight=w, **CANDIDATES)
    found = select_model(
        template,
        da.from_array(X, chunks=(50, 2)),
        sample_weight=da.from_array(w, chunks=50),
        **CANDIDATES,
    )
    _same_search(found, expected)
    assert isinstance(found.best_estimator_.means_, np.ndarray)


def test_dask_frame_of_several_families_searches_as_in_memory():
    X = load_faithful(return_X_y=True)
    frame = pd.DataFrame(X, columns=["eruptions", "waiting"])
    templates = [GaussianMixtureEM(random_state=0), NIGMixture(random_state=0)]
    options = dict(n_components=[1, 2], covariance_types=["tied", "VVV"])
    expected = select_model(templates, frame, **options)
    found = select_model(templates, dd.from_pandas(frame, npartitions=3), **options)
    _same_search(found, expected)


def test_an_array_beyond_memory_is_refused_before_computing(monkeypatch):
    computed = []

    def block():
        computed.append(True)
        return np.zeros((10, 2))

    X = da.from_delayed(dask.delayed(block)(), shape=(10, 2), dtype=np.float64)
    monkeypatch.setattr(selection_input, "_available_memory", lambda: 100)
    with pytest.raises(ValueError, match="holds the rows in memory") as error:
        select_model(GaussianMixtureEM(), X, n_components=[1])
    assert "best_estimator_" in str(error.value)
    assert not computed
