"""BaseMixture: the scikit-learn face shared by every skmix estimator.

An estimator subclass supplies a family (:mod:`skmix.families`), the
mapping between the family's parameters and its public fitted attributes,
and a declaration of how its starts begin (:class:`StartRecipe`);
everything else (fit with multi-start, predict, scores, sampling, BIC/AIC,
warm start) lives here and in :mod:`skmix._engine`.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable
from numbers import Integral, Real
from typing import Any, NamedTuple

import numpy as np
from joblib import effective_n_jobs
from sklearn.base import BaseEstimator, DensityMixin, _fit_context
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import (
    _check_sample_weight,
    check_is_fitted,
    validate_data,
)

from ._config import (
    INFERENCE_BLOCK_ROWS,
    LABELS,
    LOG_PROB,
    PROBABILITIES,
    SCORES,
    VERSION,
)
from ._dask import fit_data as dask_fit_data
from ._dask import infer as dask_infer
from ._dask import initialised_on as dask_initialised_on
from ._dask import is_dask
from ._dask import scaled_weights as dask_scaled_weights

# For skmix.selection (estimators reach the engine through _base).
from ._engine import HC_TRANSFORMATIONS as HC_TRANSFORMATIONS
from ._engine import NO_RUNOFF as NO_RUNOFF
from ._engine import START_FAILURES as START_FAILURES
from ._engine import (
    DaskBlocks,
    InitialAssignment,
    LocalThreads,
    failure_reason,
    fit_multistart,
    one_blas_thread,
    shared_data_scale,
    start_initializer,
)
from ._engine import Runoff as Runoff
from ._engine import SharedValues as SharedValues
from ._engine import hc_labels as hc_labels
from ._engine import one_openmp_thread as one_openmp_thread
from ._validation import (
    as_numpy,
    check_n_samples,
    checked_fit_data,
    fields_to_float64,
    fitted_arrays_to_float32,
    is_plain_float_matrix,
    scaled_sample_weight,
)
from ._warnings import DegenerateFitWarning as DegenerateFitWarning
from ._warnings import FailedStartsWarning as FailedStartsWarning
from ._warnings import InconsistentVersionWarning as InconsistentVersionWarning
from ._warnings import warn_failed_starts
from .families import softmax_in_place


class StartRecipe(NamedTuple):
    """How an estimator's starts begin (``BaseMixture._start_recipe``).

    ``seeding`` says on what the ``init_params`` algorithm runs: ``"rows"``
    (the rows of X as they are), ``"distinct_rows"`` (the distinct rows, as
    the family embeds them, weighted by multiplicity) or ``"seeds"`` (seeds
    among the distinct rows of the family's standardised embedding; see
    ``skmix._engine.seeding``). ``reproduce_sklearn`` draws as
    scikit-learn does where it has the same initialisation. ``fixed``, a
    ``(params, log_weights)`` pair, is where every start begins (nothing is
    drawn); otherwise ``adjust(params, log_weights)``, if given, returns
    the start used in place of the one drawn from the data.
    """

    seeding: str = "rows"
    reproduce_sklearn: bool = True
    fixed: tuple | None = None
    adjust: Callable[[Any, np.ndarray], tuple] | None = None


def _interrupted(error):
    """Whether ``error`` is Ctrl-C that reached Python inside a numba call:
    numba's dispatcher (or a helper it calls) then returns a result with the
    KeyboardInterrupt set, which Python reports as a SystemError caused by
    it (possibly through further SystemErrors)."""
    seen = 0
    while isinstance(error, SystemError) and seen < 16:
        error, seen = error.__cause__ or error.__context__, seen + 1
        if isinstance(error, KeyboardInterrupt):
            return True
    return False


def _random_state_or_seed(random_state):
    """``check_random_state(random_state)``, except that an int stays an int
    (``fit_multistart`` then draws from a reseeded pooled state: the same
    draws, without building a RandomState)."""
    if isinstance(random_state, Integral):
        return int(random_state)
    return check_random_state(random_state)


def check_densities(weighted, first_row=0):
    """Raise if a row has density 0 under every component.

    ``weighted`` holds ``log p(x | k) + log w_k`` of consecutive rows of X,
    the first being row ``first_row``. Far outside the fitted data a row's
    density underflows to 0 under every component (its ``score_samples`` is
    -inf, a true value to double precision), and its responsibilities are
    0 / 0: a clear error rather than NaN probabilities or label 0.
    """
    lost = np.flatnonzero(~np.isfinite(weighted.max(axis=1, initial=-np.inf)))
    if lost.size:
        rows = ", ".join(str(first_row + int(r)) for r in lost[:3])
        more = f" and {lost.size - 3} more" if lost.size > 3 else ""
        raise ValueError(
            f"Row(s) {rows}{more} of X have density 0 to double precision under "
            "every component (score_samples gives -inf there), so their "
            "component probabilities are undefined. Such rows lie far outside "
            "the fitted data: check their values and units, or leave them out "
            "of predict, predict_proba, transform and impute."
        )


def inference_threads(n_samples, n_jobs):
    """Threads for inference on ``n_samples`` rows: ``n_jobs``'s from two
    blocks of ``INFERENCE_BLOCK_ROWS`` rows on (joblib's count of the CPUs
    is not free), else one."""
    if n_samples < 2 * INFERENCE_BLOCK_ROWS:
        return 1
    return effective_n_jobs(n_jobs)


def responsibilities_of(weighted, first_row=0):
    """Posterior probabilities from ``log p(x | k) + log w_k``, computed in
    place of ``weighted`` (see ``check_densities``)."""
    if softmax_in_place(weighted):
        # The rows with a non-finite largest value are left as they were.
        check_densities(weighted, first_row)
    return weighted


class BaseMixture(DensityMixin, BaseEstimator):
    """Common fit / predict / score / sample machinery of skmix mixtures.

    Subclasses implement ``_make_family``, ``_set_fitted_params`` and
    ``_get_fitted_params``; they may override ``_validate_X`` (input
    checks), ``_start_recipe`` (how their starts begin) and
    ``_fit_weights`` (whether the mixing weights are estimated). Their
    ``__init__`` is made by ``skmix._parameters.estimator_init`` from their
    own parameters and the ones every estimator shares.
    """

    _parameter_constraints: dict = {
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0.0, None, closed="left")],
        "max_iter": [Interval(Integral, 0, None, closed="left")],
        "n_init": [Interval(Integral, 1, None, closed="left")],
        "init_params": [
            StrOptions({"kmeans", "random", "random_from_data", "k-means++"})
        ],
        "random_state": ["random_state"],
        "warm_start": ["boolean"],
        "verbose": ["verbose"],
        "verbose_interval": [Interval(Integral, 1, None, closed="left")],
        "n_jobs": [Integral, None],
        "validation_fraction": [Interval(Real, 0.0, 1.0, closed="left")],
        "accelerate": [StrOptions({"squarem"}), None],
    }

    _fit_weights = True
    #: float32 X gives float32 fitted arrays and outputs (computed in
    #: float64), as scikit-learn's estimator this one replaces does.
    _keeps_float32 = False

    # ------------------------------------------------- pickling
    def __getstate__(self):
        """scikit-learn's state, with the skmix release that pickles it."""
        return dict(super().__getstate__(), _skmix_version=VERSION)

    def __setstate__(self, state):
        """Restore a pickled estimator; warn (InconsistentVersionWarning) if
        another skmix release pickled it."""
        state = dict(state)
        version = state.pop("_skmix_version", "unknown (no version recorded)")
        if version != VERSION:
            warnings.warn(
                InconsistentVersionWarning(
                    estimator_name=type(self).__name__,
                    current_version=VERSION,
                    original_version=version,
                ),
                stacklevel=2,
            )
        super().__setstate__(state)

    # Set on the candidates of a model search (skmix.select_model): whether
    # each start stops as soon as it is degenerate (it then loses to any
    # proper start; fit_multistart's ``abandon_degenerate``); label arrays
    # (n_samples,), one per start (their number replaces n_init), each start
    # the M-step on that partition of the rows (None: as init_params says;
    # not for warm starts); the search's ``SharedValues`` (None: none); the
    # starts' runoff (fit_multistart's ``runoff``).
    _abandon_degenerate_starts = False
    _start_partitions = None
    _search_shared = None
    _runoff = NO_RUNOFF

    # ------------------------------------------------- parameter checks
    @classmethod
    def _get_param_names(cls):
        """scikit-learn's, read once per class: it inspects ``__init__``'s
        signature on every ``get_params``, so on every fit."""
        names = cls.__dict__.get("_param_names")
        if names is None:
            names = super()._get_param_names()
            cls._param_names = names
        return list(names)

    def _validate_params(self):
        """scikit-learn's parameter validation, skipped when every parameter
        is the very object that last passed it.

        The constraints are on types and immutable values, so an object that
        passed once passes again. Holding the validated objects keeps their
        identities from being reused.
        """
        params = self.get_params(deep=False)
        passed = self.__dict__.get("_valid_params")
        if passed is not None and passed.keys() == params.keys():
            if all(passed[name] is value for name, value in params.items()):
                return
        super()._validate_params()
        self._valid_params = params

    # ----------------------------------------------------------- hooks
    def _validate_X(self, X, reset):
        """Validated float array (float64 or float32) of at least 1 row
        (array-API input converted to NumPy, see ``as_numpy``)."""
        X = as_numpy(X)
        if is_plain_float_matrix(X, 2 if reset else 1) and (
            reset
            or (
                getattr(self, "n_features_in_", None) == X.shape[1]
                and not hasattr(self, "feature_names_in_")
            )
        ):
            # What validate_data returns for it, without its generic checks.
            if reset:
                self.n_features_in_ = X.shape[1]
                self.__dict__.pop("feature_names_in_", None)
            return X
        return validate_data(
            self,
            X,
            reset=reset,
            dtype=[np.float64, np.float32],
            ensure_min_samples=2 if reset else 1,
        )

    def _n_components(self):
        """Number of components (an estimator may derive it, e.g. from a list)."""
        return self.n_components

    def _make_family(self, X):
        raise NotImplementedError

    def _check_fit_X(self, X):
        """Checks of the rows of a fit beyond ``_validate_X`` (which also
        checks the rows given to inference); with Dask input, of each
        block. The default checks nothing."""

    def _warm_start_mismatch(self, family):
        """Why the fitted parameters cannot seed a fit with ``family``.

        None if they can. Here: a changed covariance structure; the numbers
        of components and features are checked by ``_check_warm_start``.
        Estimators with other structural parameters extend it.
        """
        before = getattr(self._family, "covariance_type", None)
        now = getattr(family, "covariance_type", None)
        if before != now:
            return f"covariance_type={before!r} (now {now!r})"
        return None

    def _check_warm_start(self, previous_n_features, n_features, family):
        """warm_start continues the previous fit: it must have the same shape."""
        problems = []
        if len(self.weights_) != self._n_components():
            problems.append(
                f"{len(self.weights_)} components (now {self._n_components()})"
            )
        if previous_n_features != n_features:
            problems.append(f"{previous_n_features} features (now {n_features})")
        mismatch = self._warm_start_mismatch(family)
        if mismatch:
            problems.append(mismatch)
        if problems:
            raise ValueError(
                "warm_start=True continues the previous fit, which had "
                + " and ".join(problems)
                + ". Set warm_start=False to start afresh, or restore the "
                "parameters of the previous fit."
            )

    def _set_fitted_params(self, params):
        raise NotImplementedError

    def _get_fitted_params(self):
        raise NotImplementedError

    def _start_recipe(self, family, X) -> StartRecipe:
        """How this fit's starts begin (see :class:`StartRecipe`): by
        default ``init_params`` on the rows of X. Called once per fit, before
        any start, so it is where user-given initial parameters are checked.
        """
        return StartRecipe()

    def _init_fn(self, family, X, warm):
        """``init(X, sample_weight, rng) -> (params, log_weights)`` of one
        start: the previous fit's parameters for a warm start, else as
        ``_start_recipe`` declares."""
        if warm:
            recipe = StartRecipe(fixed=self._fitted_params())
        else:
            recipe = self._start_recipe(family, X)
        return start_initializer(
            family,
            self.init_params,
            self._n_components(),
            seeding=recipe.seeding,
            reproduce_sklearn=recipe.reproduce_sklearn,
            fixed=recipe.fixed,
            adjust=recipe.adjust,
        )

    # ----------------------------------------------------------- fitting
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None, sample_weight=None):
        """Estimate the model parameters with the EM algorithm.

        Runs ``n_init`` starts (in parallel with ``n_jobs``), keeps the best
        (by validation log-likelihood when ``validation_fraction > 0`` and
        ``n_init > 1``, else by training log-likelihood) and, after a
        validation selection, continues EM from it on all rows. With
        ``warm_start=True`` a fitted estimator continues from its parameters.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data.
        y : Ignored
            Not used, present for API consistency by convention.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative row weights; a row of weight 2 counts as two rows.

        Returns
        -------
        self : object
            The fitted mixture.
        """
        saved_state = self.__dict__.copy()
        try:
            self._fit(X, sample_weight)
        except BaseException as error:
            # A failed fit leaves a previously fitted estimator untouched.
            self.__dict__.clear()
            self.__dict__.update(saved_state)
            if _interrupted(error):
                raise KeyboardInterrupt from None
            raise
        return self

    def _checked_sample_weight(self, X, sample_weight):
        """Validated weights (or None); at least ``n_components`` rows with
        positive weight."""
        if sample_weight is not None:
            sample_weight = _check_sample_weight(
                as_numpy(sample_weight, "sample_weight"),
                X,
                dtype=np.float64,
                ensure_non_negative=True,
            )
            if not np.any(sample_weight > 0):
                raise ValueError(
                    "sample_weight sums to zero: at least one row needs a "
                    "positive weight to fit a mixture."
                )
        n_effective = (
            X.shape[0] if sample_weight is None else np.count_nonzero(sample_weight)
        )
        if n_effective < self._n_components():
            raise ValueError(
                "Expected n_samples >= n_components but got n_components = "
                f"{self._n_components()}, n_samples = {n_effective} (rows with "
                "positive weight). Use fewer components or more data."
            )
        return sample_weight

    def _fit(self, X, sample_weight):
        started = time.perf_counter()
        previous_n_features = getattr(self, "n_features_in_", None)
        if is_dask(X):
            # The rows stay in their blocks; a sample of them comes here.
            rows, X, sample_weight = dask_fit_data(
                self, X, sample_weight, check_random_state(self.random_state)
            )
            family = self._make_family(rows.X)
            rows, sample_weight = dask_scaled_weights(rows, sample_weight, family)
        else:
            rows = None
            X, sample_weight = checked_fit_data(self, X, sample_weight)
            family = self._make_family(X)
            if sample_weight is not None:
                sample_weight = scaled_sample_weight(
                    sample_weight, family, self._n_components()
                )
        warm = self.warm_start and hasattr(self, "converged_")
        if warm:
            self._check_warm_start(previous_n_features, X.shape[1], family)
        # The data's spread, against which degeneracy is judged and to which
        # a family may scale its regularisation (before the starts' first
        # M-step): of the sample drawn to the client for Dask input.
        shared = self._search_shared if rows is None else None
        scale = shared_data_scale(shared, family, X, sample_weight)
        family = family.with_data_scale(scale)
        init_fn = self._init_fn(family, X, warm)
        partitions = None if warm else self._start_partitions
        assignments = None
        if partitions is not None:
            k = self._n_components()
            assignments = [InitialAssignment.of_labels(p, k) for p in partitions]
        n_init = 1 if warm else self.n_init if partitions is None else len(partitions)
        em_options = {}
        if rows is not None:
            init_fn = dask_initialised_on(init_fn, X, sample_weight)
            X, sample_weight = rows, None
            em_options["executor"] = DaskBlocks()
        # One BLAS thread throughout (see one_blas_thread): spinning BLAS
        # workers left by an initialisation take the cores our threads need.
        with one_blas_thread():
            result = fit_multistart(
                family,
                X,
                sample_weight,
                init_fn,
                n_init=n_init,
                start_assignments=assignments,
                random_state=_random_state_or_seed(self.random_state),
                validation_fraction=self.validation_fraction,
                n_jobs=self.n_jobs,
                min_train_rows=self._n_components(),
                data_scale=scale if rows is not None else None,
                shared=shared,
                runoff=self._runoff,
                em_options=dict(
                    em_options,
                    tol=self.tol,
                    max_iter=self.max_iter,
                    fit_weights=self._fit_weights,
                    lower_bound=self.lower_bound_ if warm else -np.inf,
                    verbose=self.verbose,
                    verbose_interval=self.verbose_interval,
                    accelerate=self.accelerate,
                    started=started,
                    abandon_degenerate=self._abandon_degenerate_starts,
                ),
            )
        self._store_fit(family, result, X.shape[0], started)
        self._check_degeneracy(family, result.best, scale)
        if self._keeps_float32 and getattr(X, "dtype", None) == np.float32:
            fitted_arrays_to_float32(self)

    def _fitted_params(self):
        """``_get_fitted_params`` with float64 arrays, and the log weights:
        what inference, sampling and warm starts compute with."""
        params = fields_to_float64(self._get_fitted_params())
        with np.errstate(divide="ignore"):
            log_weights = np.log(np.asarray(self.weights_, dtype=np.float64))
        return params, log_weights

    def _check_degeneracy(self, family, best, scale):
        """``degeneracies_`` of the fitted model, and a warning naming what
        collapsed if it is a spurious optimum (see the family's
        ``degenerate_components``; ``scale`` is its ``data_scale`` of the
        rows)."""
        self.degeneracies_ = list(
            family.degenerate_components(best.params, best.stats, scale)
        )
        if self.degeneracies_:
            warnings.warn(
                "The fitted model is degenerate (a spurious maximum of the "
                "likelihood, whose value then measures the regularisation "
                "rather than the data): "
                + "; ".join(self.degeneracies_)
                + ". Try more starts, fewer components, a larger reg_covar or "
                "another covariance model.",
                DegenerateFitWarning,
                stacklevel=4,
            )

    def _store_fit(self, family, result, n_samples, started):
        """The fitted attributes from the engine's result on ``n_samples`` rows."""
        best = result.best
        if not best.converged and self.max_iter > 0:
            warnings.warn(
                "Best performing initialization did not converge. Try different "
                "init parameters, or increase max_iter, tol, or check for "
                "degenerate data.",
                ConvergenceWarning,
                stacklevel=3,
            )
        self._family = family
        self._set_fitted_params(best.params)
        self.weights_ = np.exp(best.log_weights)
        self.converged_ = bool(best.converged)
        self.n_iter_ = int(best.n_iter)
        self.lower_bound_ = float(best.lower_bound)
        self.lower_bounds_ = list(best.lower_bounds)
        self.start_lower_bounds_ = result.train_log_likelihoods
        self.start_validation_scores_ = result.validation_log_likelihoods
        self.start_traces_ = result.start_traces
        self.best_start_ = result.best_index
        self.start_failures_ = {
            index: failure_reason(error)
            for index, error in result.start_failures.items()
        }
        if self.start_failures_:
            warn_failed_starts(self.start_failures_, len(result.start_n_iter))
        self.n_samples_fit_ = n_samples
        if self.verbose:
            print(
                f"Fitted: start {result.best_index} of {len(result.start_n_iter)}, "
                f"{self.n_iter_} iterations, lower bound {self.lower_bound_:.6f}, "
                f"converged={self.converged_} "
                f"({time.perf_counter() - started:.2f} s)"
            )

    def fit_predict(self, X, y=None, sample_weight=None):
        """Fit the model and return the most probable component of each row.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data.
        y : Ignored
            Not used, present for API consistency by convention.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative row weights.

        Returns
        -------
        labels : ndarray of shape (n_samples,)
            Component labels.
        """
        return self.fit(X, sample_weight=sample_weight).predict(X)

    # ----------------------------------------------------------- inference
    def _weighted_log_prob(self, X):
        """``log p(x | k) + log w_k``, shape (n_samples, n_components), in up to
        ``n_jobs`` threads."""
        return self._infer(X, LOG_PROB)[0]

    def _infer(self, X, mode):
        """The family's inference (``infer``) of ``mode`` on the rows of X, by
        blocks of rows in up to ``n_jobs`` threads: ``(out, labels,
        scores)``, the arrays that ``mode`` fills (the others are empty).

        Raises ``check_densities``'s error if ``mode`` gives labels or
        probabilities and a row has density 0 under every component.
        """
        check_is_fitted(self)
        if is_dask(X):
            return dask_infer(self, X, mode)
        X = self._validate_X(X, reset=False)
        out, labels, scores = self._infer_rows(X, mode)
        if self._keeps_float32 and X.dtype == np.float32:
            # scikit-learn's outputs follow X's dtype (computed in float64).
            out, scores = out.astype(np.float32), scores.astype(np.float32)
        return out, labels, scores

    def _infer_rows(self, X, mode, first_row=0):
        """:meth:`_infer` on validated rows X, the first being row
        ``first_row`` of the caller's X (for the error's row numbers)."""
        params, log_weights = self._fitted_params()
        prepared = self._family.prepare(params, log_weights)
        n, k = X.shape[0], len(log_weights)
        out = np.empty((n if mode in (LOG_PROB, PROBABILITIES) else 0, k))
        labels = np.empty(n if mode == LABELS else 0, dtype=np.intp)
        scores = np.empty(n if mode == SCORES else 0)
        infer = self._family.infer

        def one_block(start, stop):
            rows = slice(start, stop)
            outputs = out[rows], labels[rows], scores[rows]
            return infer(X[rows], prepared, mode, *outputs)

        n_threads = inference_threads(n, self.n_jobs)
        plain = isinstance(X, np.ndarray) and X.dtype == np.float64
        if n_threads == 1 and plain and X.flags.c_contiguous:
            # One call: the family bounds what it holds (the Gaussian's kernel
            # copies nothing, the default infer goes by INFER_ROWS rows); a
            # float32 or strided X goes by blocks, whose float64 copies stay
            # small.
            lost = one_block(0, n)
        else:
            executor = LocalThreads(n_threads)
            lost = sum(executor.map_chunks(one_block, n, INFERENCE_BLOCK_ROWS))
        if lost and mode in (LABELS, PROBABILITIES):
            check_densities(self._infer_rows(X, LOG_PROB)[0], first_row)
        return out, labels, scores

    def score_samples(self, X):
        """Log density of each row under the mixture (for anomaly detection).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows to score.

        Returns
        -------
        log_prob : ndarray of shape (n_samples,)
            ``log p(x)`` of each row.
        """
        return self._infer(X, SCORES)[2]

    def score(self, X, y=None):
        """Mean log-likelihood of the rows of X.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows to score.
        y : Ignored
            Not used, present for API consistency by convention.

        Returns
        -------
        log_likelihood : float
            Mean of ``score_samples(X)``.
        """
        return float(self.score_samples(X).mean())

    def predict_proba(self, X):
        """Posterior probability of each component for each row.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows to evaluate.

        Returns
        -------
        resp : ndarray of shape (n_samples, n_components)
            Responsibilities; each row sums to 1.

        Raises
        ------
        ValueError
            If a row has density 0 (to double precision) under every
            component, far outside the fitted data: its probabilities would
            be 0 / 0 (scikit-learn returns NaN there).
        """
        return self._infer(X, PROBABILITIES)[0]

    def predict(self, X):
        """Most probable component of each row.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows to label.

        Returns
        -------
        labels : ndarray of shape (n_samples,)
            Component labels.

        Raises
        ------
        ValueError
            If a row has density 0 under every component (see
            :meth:`predict_proba`).
        """
        return self._infer(X, LABELS)[1]

    def sample(self, n_samples=1):
        """Draw random rows from the fitted mixture.

        Parameters
        ----------
        n_samples : int, default=1
            Number of rows to draw.

        Returns
        -------
        X : ndarray of shape (n_samples, n_features)
            The rows, grouped by component.
        y : ndarray of shape (n_samples,)
            The component of each row.
        """
        check_is_fitted(self)
        check_n_samples(n_samples)
        return self._draw(n_samples)

    def _draw(self, n_samples, **family_options):
        """Component counts from the weights, then rows from the family."""
        rng = check_random_state(self.random_state)
        weights = self.weights_
        if weights.dtype != np.float64:  # float32 sums may pass 1 by an ulp
            weights = weights.astype(np.float64) / weights.sum(dtype=np.float64)
        n_per_component = rng.multinomial(n_samples, weights)
        X = self._family.sample(
            self._fitted_params()[0], n_per_component, rng, **family_options
        )
        y = np.repeat(np.arange(len(n_per_component)), n_per_component)
        return X, y

    # ----------------------------------------------------------- criteria
    def _n_parameters(self):
        """Number of free parameters, mixing weights included."""
        n_weights = self._n_components() - 1 if self._fit_weights else 0
        return self._family.n_parameters(self._get_fitted_params()) + n_weights

    def bic(self, X):
        """Bayesian information criterion on X (lower is better).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data to evaluate.

        Returns
        -------
        bic : float
            ``-2 log L + n_parameters log(n_samples)``.
        """
        n_samples = _num_rows(X)
        return -2 * self.score(X) * n_samples + self._n_parameters() * np.log(n_samples)

    def summary(self, X=None):
        """Summarise the fit as R mclust's ``summary()`` does.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features), default=None
            The training data: with it, the log-likelihood of the final
            parameters, ICL and the component sizes; without it, the
            log-likelihood of the last EM iteration on the
            ``n_samples_fit_`` training rows, and no ICL or sizes.

        Returns
        -------
        summary : Summary
            Readable as text (``print(summary)``), with its values in
            ``summary.as_dict()``: the model, n, d, log-likelihood, number
            of parameters, BIC, ICL, weights, component sizes, convergence
            and how many starts reached the selected optimum.
        """
        from ._summary import summary

        return summary(self, X)

    def aic(self, X):
        """Akaike information criterion on X (lower is better).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data to evaluate.

        Returns
        -------
        aic : float
            ``-2 log L + 2 n_parameters``.
        """
        return -2 * self.score(X) * _num_rows(X) + 2 * self._n_parameters()


def _num_rows(X):
    return X.shape[0] if hasattr(X, "shape") else len(X)
