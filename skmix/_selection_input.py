"""The checks of :func:`skmix.select_model`'s arguments, and its Dask
input (computed into memory: the search holds the rows)."""

from __future__ import annotations

import inspect
import os
from numbers import Integral

import numpy as np
from sklearn.base import clone

from ._base import BaseMixture, is_dask
from ._validation import checked_fit_data
from .gaussian import GaussianMixtureEM

CRITERIA = ("bic", "aic", "icl")
#: The arguments of the fits a search makes (an estimator whose fit takes
#: more, such as groups of rows, cannot be searched on X alone).
FIT_ARGS = ("X", "y", "sample_weight")


def as_templates(estimator):
    """The estimator, or each of a list, as a list of skmix estimators."""
    templates = list(estimator) if isinstance(estimator, (list, tuple)) else [estimator]
    if not templates:
        raise ValueError("select_model needs at least one estimator.")
    for template in templates:
        if not isinstance(template, BaseMixture):
            raise TypeError(
                f"select_model takes skmix estimators (or a list of them), got "
                f"{type(template).__name__}."
            )
        name = type(template).__name__
        more = [
            p for p in inspect.signature(template.fit).parameters if p not in FIT_ARGS
        ]
        if more:
            raise TypeError(
                f"select_model fits X alone, and {name}.fit also takes "
                f"{', '.join(more)} (data in groups): fit {name} at each "
                "number of components with them and compare their bic(...)."
            )
    return templates


def check_options(criterion, n_jobs, n_init, hc_start):
    """Raise a ValueError for an option select_model does not take:
    ``criterion`` one of ``CRITERIA``, ``n_jobs`` None or a nonzero count,
    ``n_init`` None or a count (0: a Gaussian candidate's hierarchical
    starts only), ``hc_start`` a bool."""
    if criterion not in CRITERIA:
        raise ValueError(f"criterion must be one of {CRITERIA}, got {criterion!r}.")
    if not (n_jobs is None or (_is_count(n_jobs) and n_jobs != 0)):
        raise ValueError(
            f"n_jobs must be None or a nonzero integer (-1: all CPUs), got {n_jobs!r}."
        )
    if n_init is not None and not (_is_count(n_init) and n_init >= 0):
        raise ValueError(
            f"n_init must be None or a non-negative integer, got {n_init!r}."
        )
    if not isinstance(hc_start, (bool, np.bool_)):
        raise ValueError(f"hc_start must be True or False, got {hc_start!r}.")


def check_n_components(n_components):
    """The numbers of components searched, as a list of ints."""
    values = [n_components] if isinstance(n_components, Integral) else n_components
    try:
        values = list(values)
    except TypeError:
        values = None
    if not values or not all(_is_count(k) for k in values) or min(values) < 1:
        raise ValueError(
            f"n_components must be positive integers, got {n_components!r}."
        )
    return [int(k) for k in values]


def _is_count(value) -> bool:
    return isinstance(value, Integral) and not isinstance(value, bool)


def check_data(templates, X, sample_weight, n_init):
    """``sample_weight`` as float64 (or None), after raising, as each
    template's own fit would, for data it cannot fit (not 2-D, empty, not
    numeric, NaN, bad weights, ...) or an ``n_init`` it does not take,
    before any candidate runs: a candidate's fit would fail the same way,
    and the search then blame every model in its table."""
    for template in templates:
        probe = clone(template)
        params = probe.get_params()
        if "n_components" in params:
            probe.set_params(n_components=1)
        if n_init is not None and "n_init" in params:
            if not isinstance(template, GaussianMixtureEM):  # k-means starts there
                probe.set_params(n_init=n_init)
        probe._validate_params()
        checked_fit_data(probe, X, sample_weight)
    return None if sample_weight is None else np.asarray(sample_weight, np.float64)


def in_memory(data):
    """``data`` itself, or a Dask collection computed into memory (a NumPy
    array or a pandas frame): every candidate's starts and hierarchical
    clustering read all rows many times, as mclust's search does, so the
    search holds them (each fit would otherwise read the blocks once per EM
    iteration). Raises a ValueError, before computing anything, if the
    array would not fit in the memory available now."""
    if data is None or not is_dask(data):
        return data
    try:
        size = float(data.nbytes)  # NaN with unknown chunk sizes
    except (AttributeError, NotImplementedError):  # a frame does not say
        size = np.nan
    available = _available_memory()
    if np.isfinite(size) and available is not None and size > available:
        raise ValueError(
            f"select_model holds the rows in memory, and this Dask array takes "
            f"{size / 2**30:.3g} GiB, more than the {available / 2**30:.3g} GiB "
            "available. Search a random subsample that fits (for example "
            "X[rows].compute() for sorted random row indices `rows`), then fit "
            "the chosen estimator (search.best_estimator_) on the Dask array."
        )
    return data.compute()


def _available_memory():
    """Bytes of physical memory available now, or None where the system
    does not say (``os.sysconf`` exists on POSIX systems only)."""
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):
        return None
