"""Model selection by BIC, AIC or ICL, as R's ``Mclust`` does, for every
skmix estimator.

:func:`select_model` fits every candidate (each number of components, and
for :class:`~skmix.GaussianMixtureEM` each covariance model; several
estimators compare families) and returns a :class:`ModelSelection`: the
table of every candidate's criteria, the chosen candidate fitted, and the
criterion. Criteria are in scikit-learn's sign: lower is better (R's
mclust reports ``-BIC``).
"""

from __future__ import annotations

import copy
import time
import warnings

import numpy as np
from joblib import Parallel, delayed, effective_n_jobs
from scipy.special import xlogy
from sklearn.base import clone
from sklearn.cluster import KMeans
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state

from ._base import (
    HC_TRANSFORMATIONS,
    NO_RUNOFF,
    START_FAILURES,
    DegenerateFitWarning,
    FailedStartsWarning,
    Runoff,
    SharedValues,
    failure_reason,
    hc_labels,
    one_openmp_thread,
)
from ._config import FINAL_TOL_FACTOR
from ._selection_input import (
    as_templates,
    check_data,
    check_n_components,
    check_options,
    in_memory,
)
from .families.covariance_models import ITERATIVE_MODELS, SKLEARN_MODELS, check_model
from .families.degeneracy import data_scale, singular_components
from .gaussian import GaussianMixtureEM

#: mclust's 14 covariance models in its order, scikit-learn's four under
#: their scikit-learn names (spherical = VII, diag = VVI, tied = EEE,
#: full = VVV): the default ``covariance_types`` of a Gaussian search.
MCLUST_MODELS = (
    "EII",
    "spherical",
    "EEI",
    "VEI",
    "EVI",
    "diag",
    "tied",
    "VEE",
    "EVE",
    "VVE",
    "EEV",
    "VEV",
    "EVV",
    "full",
)

#: mclust's names of scikit-learn's four covariance types.
MCLUST_NAMES = dict(SKLEARN_MODELS)

#: Random starts (the estimator's ``init_params``, k-means by default) that
#: join the hierarchical-clustering start of each Gaussian candidate when
#: ``n_init`` is not given (see doc/performance.rst, "SELECTION_RANDOM_STARTS").
SELECTION_RANDOM_STARTS = 5

#: Inner iterations at most per M-step of the iterative covariance models
#: (VEI, VEV, VEE alternations, EVE's and VVE's orientation sweeps) while
#: the starts of a candidate are compared: a generalised EM step; the
#: chosen start is then continued with the exact M-step (see
#: doc/performance.rst, "SEARCH_INNER_MAX_ITER").
SEARCH_INNER_MAX_ITER = 3

#: How many of a Gaussian candidate's best starts (compared at ``tol``) run
#: on (``fit_multistart``'s ``runoff``): the others may replace the best if
#: they end proper and higher. At ``tol`` itself (1e-3 per row by default,
#: a change of 1 in the log-likelihood of 1,000 rows) a start still
#: crossing a plateau stops there and would lose to one that converged
#: lower (see doc/performance.rst, "SEARCH_RUNOFF").
SEARCH_RUNOFF = 5

#: The hierarchical clustering mclust starts from (``hc`` on the rows
#: scaled by their SVD, its default): the start of this partition always
#: joins a Gaussian candidate's runoff and runs to the final tolerance, so
#: that the search reaches what mclust's single start reaches.
MCLUST_TRANSFORMATION = "SVD"

#: Iterations at least that the start of ``MCLUST_TRANSFORMATION``'s
#: partition may run (the template's ``max_iter`` if larger): mclust runs
#: its start to convergence without a limit, and a start crossing a plateau
#: on a few hundred rows can take several hundred iterations (see
#: doc/performance.rst, "SEARCH_MAX_ITER").
SEARCH_MAX_ITER = 1000


#: The table's columns, in order, with their NumPy types (the structured
#: array's when pandas is missing).
COLUMNS = (
    ("estimator", object),
    ("covariance_type", object),
    ("n_components", np.int64),
    ("log_likelihood", np.float64),
    ("n_parameters", np.float64),
    ("bic", np.float64),
    ("aic", np.float64),
    ("icl", np.float64),
    ("converged", bool),
    ("degenerate", bool),
    ("failed", bool),
    ("reason", object),
)


class ModelSelection:
    """What :func:`select_model` found.

    Attributes
    ----------
    table : pandas.DataFrame or numpy structured array
        One row per candidate, in the order fitted, with the columns
        ``estimator`` (the class name), ``covariance_type`` (None for
        estimators without one), ``n_components``, ``log_likelihood``,
        ``n_parameters``, ``bic``, ``aic``, ``icl`` (lower is better; NaN for
        a failed or degenerate candidate, as mclust's NA), ``converged``,
        ``degenerate``, ``failed`` and ``reason`` (why a candidate failed or
        is degenerate; empty otherwise). A DataFrame when pandas is
        installed.
    best_index_ : int
        The chosen row of ``table``.
    best_estimator_ : estimator
        The chosen candidate, fitted to X.
    criterion : str
        The criterion that chose it.
    estimators_ : list
        Every candidate's fitted estimator (None for a failed one), in the
        order of ``table``.
    """

    def __init__(self, table, best_index, estimators, criterion):
        self.table = table
        self.best_index_ = int(best_index)
        self.estimators_ = estimators
        self.best_estimator_ = estimators[best_index]
        self.criterion = criterion

    def __repr__(self):
        best = self.best_estimator_
        return (
            f"ModelSelection({len(self.estimators_)} candidates, best by "
            f"{self.criterion}: {type(best).__name__}(n_components="
            f"{best.n_components}"
            + (
                f", covariance_type={best.covariance_type!r})"
                if hasattr(best, "covariance_type")
                else ")"
            )
        )


def has_singular_component(model, X) -> bool:
    """Whether a Gaussian mixture fitted to X has a component that is
    singular relative to the data once ``reg_covar`` is taken off (see
    :mod:`skmix.families.degeneracy`, rule 1): ``reg_covar`` alone keeps it
    invertible, so its likelihood measures ``reg_covar``.

    The test compares each component's variances with the data's in the
    same directions, so it does not depend on the features' units.
    """
    layout = {"VII": "spherical", "VVI": "diag", "EEE": "tied", "VVV": "full"}
    covariance_type = layout.get(model.covariance_type, model.covariance_type)
    if covariance_type not in ("spherical", "diag", "tied"):
        covariance_type = "full"
    diagonal = covariance_type in ("diag", "spherical")
    scale = data_scale(np.asarray(X, dtype=np.float64), None, diagonal)
    k = len(model.means_)
    components = singular_components(
        model.covariances_, covariance_type, model.reg_covar, scale, k
    )
    return bool(len(components))


def _covariance_types(template, covariance_types):
    """The covariance types searched for one template (``[None]`` when the
    estimator has none)."""
    if "covariance_type" not in template.get_params():
        return [None]
    if not isinstance(template, GaussianMixtureEM):
        # Other estimators (NIGMixture) take scikit-learn's four types: the
        # given ones among them, else the template's own.
        given = list(SKLEARN_MODELS) if covariance_types is None else covariance_types
        given = [given] if isinstance(given, str) else list(given)
        return [t for t in given if t in SKLEARN_MODELS] or [template.covariance_type]
    if covariance_types is None:
        return list(MCLUST_MODELS)
    if isinstance(covariance_types, str):
        covariance_types = [covariance_types]
    covariance_types = list(covariance_types)
    for covariance_type in covariance_types:
        check_model(covariance_type)  # an unknown name raises here
    return covariance_types


def _candidates(templates, n_components, covariance_types):
    """``(template, n_components, covariance_type)`` for every candidate."""
    out = []
    for template in templates:
        searchable = "n_components" in template.get_params()
        ks = n_components if searchable else [template.get_params()["n_components"]]
        for covariance_type in _covariance_types(template, covariance_types):
            out.extend((template, k, covariance_type) for k in ks)
    return out


def _fit_quietly(estimator, X, sample_weight):
    """Fit, keeping the warnings a search reports in its table."""
    with warnings.catch_warnings():
        for category in (ConvergenceWarning, DegenerateFitWarning):
            warnings.simplefilter("ignore", category)
        warnings.simplefilter("ignore", FailedStartsWarning)
        return estimator.fit(X, sample_weight=sample_weight)


def _log_likelihood(estimator, X, sample_weight):
    scores = estimator.score_samples(X)
    return float(np.sum(scores if sample_weight is None else scores * sample_weight))


def _canonical(labels):
    """Labels renumbered in order of first appearance (equal partitions
    then have equal labels)."""
    _, first, inverse = np.unique(labels, return_index=True, return_inverse=True)
    rank = np.empty_like(first)
    rank[np.argsort(first)] = np.arange(first.size)
    return rank[inverse.ravel()].astype(np.int64)


class _Partitions:
    """The starting partitions of the Gaussian candidates, computed once per
    number of components and shared by every covariance model: the
    hierarchical clustering under mclust's transformations
    (``HC_TRANSFORMATIONS``: one tree each for the whole search) and
    ``n_kmeans`` k-means partitions of the standardised columns (k-means
    on raw units would let the widest column decide, as proline does on
    the wine data); equal partitions once."""

    def __init__(self, X, sample_weight, hc_start, n_kmeans, random_state):
        self.X = np.ascontiguousarray(X, dtype=np.float64)
        self.w = sample_weight
        self.hc_start, self.n_kmeans = hc_start, n_kmeans
        self.seed = check_random_state(random_state).randint(np.iinfo(np.int32).max)
        self.cache = {}
        # What the candidates' fits compute alike from the same rows.
        self.shared = SharedValues()

    def for_task(self):
        """A copy for one task of a parallel search: the same partitions
        (all computed before), its own shared values (they are kept by the
        identity of their inputs, which a task's copy of the rows does not
        share with another's; ``__setstate__`` makes them anew)."""
        return copy.copy(self)

    def __getstate__(self):
        state = dict(self.__dict__)
        state["shared"] = None  # values keyed by the ids of this process's objects
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        self.shared = SharedValues()

    def _standardised(self):
        if "Z" not in self.cache:
            scale = self.X.std(axis=0)
            self.cache["Z"] = (self.X - self.X.mean(axis=0)) / np.where(
                scale > 0, scale, 1.0
            )
        return self.cache["Z"]

    def of(self, k):
        if k in self.cache:
            return self.cache[k]
        found, seen = [], set()

        def add(labels):
            labels = _canonical(labels)
            key = labels.tobytes()
            if key not in seen and np.unique(labels).size == k:
                seen.add(key)
                found.append(labels)

        if self.hc_start:
            for use in HC_TRANSFORMATIONS:
                try:
                    add(hc_labels(self.X, k, use, self.w))
                except ValueError:
                    continue
                if use == MCLUST_TRANSFORMATION and found:
                    self.cache["mclust", k] = (0,)
        # One OpenMP thread: on data of this size, scikit-learn's threads
        # cost more than they save (doc/performance.rst, "select_model").
        # The engine's limit reuses one scan of the loaded libraries.
        with one_openmp_thread():
            for seed in range(self.n_kmeans if k > 1 else 0):
                kmeans = KMeans(k, n_init=1, random_state=self.seed + seed)
                add(kmeans.fit(self._standardised(), sample_weight=self.w).labels_)
        if k == 1 or not found:
            add(np.zeros(self.X.shape[0], dtype=np.int64))
        self.cache[k] = found
        return found

    def mclust_start(self, k):
        """``(0,)`` when the first partition of ``of(k)`` is mclust's own
        start (its hierarchical clustering of the SVD-scaled rows), else
        ``()``."""
        self.of(k)
        return self.cache.get(("mclust", k), ())


def _gaussian_fits(template, k, covariance_type, partitions, X, w):
    """The fit of one Gaussian candidate from its starting partitions (one
    fit, a start per partition, compared by their log-likelihoods): a
    generator of the fitted estimator, or of the error when every start
    failed."""
    params = {"n_components": k, "validation_fraction": 0.0}
    if covariance_type is not None:
        params["covariance_type"] = covariance_type
    estimator = clone(template).set_params(**params)
    # A degenerate start loses the candidate to any proper one (and has NaN
    # criteria when it is the best there is): stop it early.
    estimator._abandon_degenerate_starts = True
    estimator._inner_max_iter = SEARCH_INNER_MAX_ITER
    estimator._search_shared = partitions.shared
    try:
        estimator._start_partitions = partitions.of(k)
        if not estimator._start_partitions:
            raise ValueError(
                f"No starting partition into {k} groups: the hierarchical "
                f"clustering and k-means found fewer than {k} groups of rows (the "
                f"rows take fewer than {k} distinct values, or differ by less "
                "than double precision resolves)."
            )
        estimator._runoff = Runoff(
            SEARCH_RUNOFF, partitions.mclust_start(k), SEARCH_MAX_ITER
        )
        yield _fit_quietly(estimator, X, w)
    except START_FAILURES as failure:
        yield failure


def _own_fits(template, k, covariance_type, n_init, X, w):
    """The fit of a non-Gaussian candidate, with its own starts."""
    params = {"n_components": k} if "n_components" in template.get_params() else {}
    if covariance_type is not None:
        params["covariance_type"] = covariance_type
    if n_init is not None:
        params["n_init"] = n_init
    estimator = clone(template).set_params(**params)
    try:
        yield _fit_quietly(estimator, X, w)
    except START_FAILURES as failure:
        yield failure


def _best_fit(fits, X, sample_weight):
    """The best of a candidate's fits: ``(estimator, log_likelihood,
    error)``; proper fits beat degenerate ones, then the higher
    log-likelihood; ``error`` is the last failure when every fit failed."""
    best, best_key, error = None, None, None
    for fitted in fits:
        if isinstance(fitted, BaseException):
            error = fitted
            continue
        log_likelihood = _log_likelihood(fitted, X, sample_weight)
        proper = not getattr(fitted, "degeneracies_", [])
        key = (proper, log_likelihood if np.isfinite(log_likelihood) else -np.inf)
        if best_key is None or key > best_key:
            best, best_key = (fitted, log_likelihood), key
    if best is None:
        return None, np.nan, error
    return best[0], best[1], None


def _polished(estimator, template, X, sample_weight):
    """The chosen fit continued with the exact M-step to ``tol *
    FINAL_TOL_FACTOR``, its start parameters reset to the template's.

    Its starts were compared at ``tol`` with the capped M-step
    (``SEARCH_INNER_MAX_ITER``) and the best was continued to the final
    tolerance; an iterative model then goes on with the exact M-step, and a
    single start (which was not continued) to the final tolerance.
    """
    tol = estimator.tol
    if _continues(estimator):
        estimator.set_params(warm_start=True, tol=tol * FINAL_TOL_FACTOR)
        estimator._inner_max_iter = None
        try:
            _fit_quietly(estimator, X, sample_weight)
        except START_FAILURES:
            pass  # the fit is left as it was (a failed fit changes nothing)
    # A later fit of the returned estimator behaves as a fresh one's.
    estimator._abandon_degenerate_starts = False
    estimator._inner_max_iter = None
    estimator._runoff = NO_RUNOFF
    estimator._start_partitions = None
    estimator._search_shared = None
    own = template.get_params()
    return estimator.set_params(
        warm_start=own["warm_start"],
        tol=tol,
        validation_fraction=own["validation_fraction"],
    )


def _continues(estimator) -> bool:
    """Whether :func:`_polished` fits the chosen fit again (an iterative
    model, or a single start); otherwise its parameters stay as they are."""
    model = check_model(estimator.covariance_type)
    return model in ITERATIVE_MODELS or len(estimator._start_partitions) == 1


def _num_rows(X):
    return X.shape[0] if hasattr(X, "shape") else len(X)


def _criteria(estimator, X, sample_weight, log_likelihood):
    """``(n_parameters, bic, aic, icl)`` of a fitted candidate; mclust's ICL:
    BIC plus twice the sum over rows of ``-log`` of each row's largest
    posterior probability (its MAP classification)."""
    n_parameters = estimator._n_parameters()
    n = _num_rows(X) if sample_weight is None else float(np.sum(sample_weight))
    bic = -2.0 * log_likelihood + n_parameters * np.log(n)
    aic = -2.0 * log_likelihood + 2.0 * n_parameters
    probabilities = estimator.predict_proba(X)
    map_terms = -xlogy(1.0, probabilities.max(axis=1))
    if sample_weight is not None:
        map_terms = map_terms * sample_weight
    icl = bic + 2.0 * float(np.sum(map_terms))
    return n_parameters, bic, aic, icl


def _row(template, k, covariance_type, estimator, log_likelihood, error, X, w):
    row = dict(
        estimator=type(template).__name__,
        covariance_type=covariance_type,
        n_components=k,
        log_likelihood=np.nan,
        n_parameters=np.nan,
        bic=np.nan,
        aic=np.nan,
        icl=np.nan,
        converged=False,
        degenerate=False,
        failed=estimator is None,
        reason="" if error is None else failure_reason(error),
    )
    if estimator is None:
        return row
    degeneracies = list(getattr(estimator, "degeneracies_", []))
    n_parameters, bic, aic, icl = _criteria(estimator, X, w, log_likelihood)
    row.update(
        log_likelihood=log_likelihood,
        n_parameters=n_parameters,
        converged=bool(estimator.converged_),
        degenerate=bool(degeneracies),
        reason="; ".join(degeneracies),
    )
    if not degeneracies and np.isfinite(log_likelihood):
        row.update(bic=bic, aic=aic, icl=icl)
    return row


def _table(rows):
    """A DataFrame of the rows when pandas is installed, else a structured
    array."""
    try:
        import pandas as pd
    except ImportError:
        dtype = [(name, kind) for name, kind in COLUMNS]
        return np.array(
            [tuple(row[name] for name, _ in COLUMNS) for row in rows], dtype=dtype
        )
    return pd.DataFrame(rows, columns=[name for name, _ in COLUMNS])


def _say_candidate(row, seconds):
    model = row["estimator"]
    if row["covariance_type"] is not None:
        model += f" {row['covariance_type']}"
    if row["failed"]:
        outcome = f"failed ({row['reason']})"
    elif row["degenerate"]:
        outcome = f"degenerate ({row['reason']})"
    else:
        outcome = (
            f"log-likelihood {row['log_likelihood']:.4f}, BIC {row['bic']:.4f}, "
            f"ICL {row['icl']:.4f}"
        )
    print(f"{model}, {row['n_components']} components: {outcome} ({seconds:.2f} s)")


def _fit_candidate(candidate, partitions, n_init, X, w):
    """One candidate's table row, fitted estimator (None when it failed)
    and seconds."""
    template, k, covariance_type = candidate
    begun = time.perf_counter()
    if isinstance(template, GaussianMixtureEM):
        fits = _gaussian_fits(template, k, covariance_type, partitions, X, w)
    else:
        fits = _own_fits(template, k, covariance_type, n_init, X, w)
    fitted, log_likelihood, error = _best_fit(fits, X, w)
    if fitted is not None and isinstance(template, GaussianMixtureEM):
        continued = _continues(fitted)
        fitted = _polished(fitted, template, X, w)
        if continued:  # else the parameters it was scored at are kept
            log_likelihood = _log_likelihood(fitted, X, w)
    row = _row(template, k, covariance_type, fitted, log_likelihood, error, X, w)
    return row, fitted, time.perf_counter() - begun


def _fit_group(candidates, partitions, n_init, X, w):
    """:func:`_fit_candidate` of each candidate of one task of a parallel
    search, in order."""
    partitions = None if partitions is None else partitions.for_task()
    return [_fit_candidate(c, partitions, n_init, X, w) for c in candidates]


#: Covariance models without a closed-form M-step, in the order a parallel
#: search starts their tasks: their inner iterations make them the longest
#: (EVE and VVE most), and a long task started last would end the search
#: alone.
_LONG_FIRST = ("EVE", "VVE", "EEV", "VEV", "EVV", "VEE", "VEI")


def _groups(candidates):
    """The tasks of a parallel search: the candidates of one template and
    covariance type (they share computed values, ``SharedValues``), the
    iterative models' first; each a list of ``(index, candidate)``."""
    groups = {}
    for index, (template, k, covariance_type) in enumerate(candidates):
        key = (id(template), covariance_type)
        groups.setdefault(key, []).append((index, (template, k, covariance_type)))

    def rank(group):
        try:
            model = check_model(group[0][1][2])
        except (TypeError, ValueError):  # None, or a name the fit will reject
            return len(_LONG_FIRST)
        return _LONG_FIRST.index(model) if model in _LONG_FIRST else len(_LONG_FIRST)

    return sorted(groups.values(), key=rank)


def _search(templates, ks, covariance_types, n_init, hc_start, X, w, n_jobs, verbose):
    """Fit every candidate: the table's rows and the fitted estimators, in
    the order of :func:`_candidates`; with ``verbose``, a line each (as it
    ends in a serial search, at the end of a parallel one)."""
    candidates = _candidates(templates, ks, covariance_types)
    partitions = None
    gaussian = [c for c in candidates if isinstance(c[0], GaussianMixtureEM)]
    if gaussian:
        # The first Gaussian template's random state seeds the k-means
        # partitions, shared by every Gaussian candidate, before any
        # candidate is fitted (serial or parallel: the same draws).
        n_kmeans = SELECTION_RANDOM_STARTS if n_init is None else n_init
        seed = gaussian[0][0].random_state
        partitions = _Partitions(X, w, hc_start, n_kmeans, seed)
    if effective_n_jobs(n_jobs) == 1:
        results = []
        for candidate in candidates:
            results.append(_fit_candidate(candidate, partitions, n_init, X, w))
            if verbose:
                _say_candidate(results[-1][0], results[-1][2])
        return [r[0] for r in results], [r[1] for r in results]
    # Every partition is computed here, once, before the tasks copy them
    # (in the order a serial search computes them: the same partitions).
    for k in dict.fromkeys(k for _, k, _ in gaussian):
        partitions.of(k)
    groups = _groups(candidates)
    done = Parallel(n_jobs=n_jobs, batch_size=1)(
        delayed(_fit_group)([c for _, c in group], partitions, n_init, X, w)
        for group in groups
    )
    results = [None] * len(candidates)
    for group, outcomes in zip(groups, done):
        for (index, _), outcome in zip(group, outcomes):
            results[index] = outcome
    if verbose:
        for row, _, seconds in results:
            _say_candidate(row, seconds)
    return [r[0] for r in results], [r[1] for r in results]


def select_model(
    estimator,
    X,
    y=None,
    *,
    n_components=range(1, 10),
    covariance_types=None,
    criterion="bic",
    n_init=None,
    hc_start=True,
    sample_weight=None,
    n_jobs=None,
    verbose=0,
) -> ModelSelection:
    """Fit every candidate model and choose one by BIC, AIC or ICL.

    R's ``Mclust(X, G = 1:9)`` for Gaussians, and the same search for every
    skmix estimator: each number of components in ``n_components``, and for
    :class:`~skmix.GaussianMixtureEM` each covariance model in
    ``covariance_types`` (by default mclust's 14). Several estimators
    compare families (a Gaussian against an NIG mixture, by BIC).

    Each Gaussian candidate starts from mclust's hierarchical clustering
    (SVD, STD and VARS) and ``n_init`` k-means partitions, and keeps its best
    fit, mclust's own start (SVD) run to convergence; others keep theirs.

    A candidate that fails (every start failed: a singular covariance
    without regularisation, ...) or is degenerate (a spurious maximum; see
    the estimator's ``degeneracies_``) gets missing criteria (NaN, as
    mclust's NA) and is never chosen.

    Parameters
    ----------
    estimator : skmix estimator or list of skmix estimators
        The template(s): every candidate is a clone with ``n_components``
        (and ``covariance_type``) set; their other parameters (``tol``,
        ``reg_covar``, ``random_state``, ...) are kept.
    X : array-like of shape (n_samples, n_features)
        The data, as the estimators take it (Dask's: :doc:`/user_guide/dask`).
    y : Ignored
        Not used, present for API consistency by convention.
    n_components : int or iterable of int, default=range(1, 10)
        Numbers of components tried (estimators without an
        ``n_components`` parameter are fitted as they are).
    covariance_types : str or sequence of str, default=None
        Gaussian candidates' ``covariance_type`` values. None: mclust's 14
        (:data:`MCLUST_MODELS`, scikit-learn's names for its four). NIGMixture:
        scikit-learn's four types among these (all four for None).
    criterion : {'bic', 'aic', 'icl'}, default='bic'
        What chooses the model: ``-2 log L + p log n`` (BIC), ``-2 log L +
        2 p`` (AIC), or mclust's ``icl()``, ``BIC + 2 sum_i -log max_k
        z_ik`` (each row's largest posterior probability: its MAP
        classification). Lower is better.
    n_init : int, default=None
        k-means starts of each Gaussian candidate beside its hierarchical
        ones (None: ``SELECTION_RANDOM_STARTS``, 5); other estimators' own
        ``n_init`` (None: the template's).
    hc_start : bool, default=True
        Whether Gaussian candidates also start from the hierarchical
        clustering (mclust's default start).
    sample_weight : array-like of shape (n_samples,), default=None
        Row weights, passed to every fit; n in BIC is their sum.
    n_jobs : int, default=None
        Processes fitting the candidates (joblib's: None is 1 outside a
        :func:`joblib.parallel_config` context, -1 every CPU), each running the
        estimators' own ``n_jobs`` threads; results do not depend on it.
    verbose : int, default=0
        1: a line per candidate with its criteria and its time.

    Returns
    -------
    ModelSelection
        The table, the chosen candidate (fitted) and every candidate.

    Raises
    ------
    ValueError
        If every candidate failed or is degenerate, or before any fit for
        data an estimator's fit refuses (with that fit's message).

    Examples
    --------
    >>> from skmix import GaussianMixtureEM, select_model
    >>> from skmix.datasets import load_faithful
    >>> X = load_faithful(return_X_y=True)
    >>> search = select_model(GaussianMixtureEM(random_state=0), X, n_components=[2, 3])
    >>> best = search.best_estimator_
    >>> best.n_components, best.covariance_type
    (3, 'tied')
    """
    check_options(criterion, n_jobs, n_init, hc_start)
    templates, ks = as_templates(estimator), check_n_components(n_components)
    X, w, started = in_memory(X), in_memory(sample_weight), time.perf_counter()
    w = check_data(templates, X, w, n_init)
    args = (templates, ks, covariance_types, n_init, hc_start, X, w, n_jobs, verbose)
    rows, estimators = _search(*args)
    best_index = _best_index(rows, criterion)
    if verbose:
        print(f"Searched {len(rows)} in {time.perf_counter() - started:.2f} s")
    return ModelSelection(_table(rows), best_index, estimators, criterion)


def _best_index(rows, criterion):
    values = np.array([row[criterion] for row in rows], dtype=np.float64)
    if not np.any(np.isfinite(values)):
        reasons = sorted({row["reason"] for row in rows if row["reason"]})
        raise ValueError(
            "No model could be fitted: every candidate failed or was degenerate"
            + (f" ({'; '.join(reasons[:3])})" if reasons else "")
            + ". Try fewer components, other covariance models, a larger "
            "reg_covar, or scale the data."
        )
    return int(np.nanargmin(values))
