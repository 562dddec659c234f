"""The family contract shared by every mixture family.

A family is a stateless strategy object: it holds configuration only (for
example ``covariance_type`` and ``reg_covar``) and works on a parameter
``NamedTuple`` of arrays. The EM engine (:mod:`skmix._engine`) knows nothing
else about a family than :class:`MixtureFamily`'s methods, and a family
knows nothing of threads, chunks or starts: work it shares out goes through
the runner the engine hands it.

Statistics
----------
:meth:`~MixtureFamily.accumulate` and the ``accumulate_*`` hooks return a
``NamedTuple`` of arrays that are **additive over rows**: the statistics of
``X`` equal the field-wise sum (:func:`add_stats`) of the statistics of any
split of ``X`` into chunks (for the same parameters; up to rounding).
Every statistics tuple has the two fields

``resp_sum`` : ndarray of shape (n_components,)
    The (sample-weighted) sum of responsibilities of each component.
``log_likelihood`` : float ndarray of shape ()
    The (sample-weighted) sum over rows of ``log p(x)`` under the mixture
    (0 for statistics of given responsibilities).

One EM iteration
----------------
The engine calls ``prepared = prepare(params, log_weights)`` once per
E-step, ``accumulate(X_chunk, prepared, w_chunk)`` for every chunk of rows
(or ``accumulate_chunks`` once), adds the chunks' statistics in chunk order,
and calls ``m_step(stats, params)``. Initialisation assigns rows to
components (soft responsibilities, labels, the nearest of given centres, or
one selected row per component), accumulates their statistics with
``accumulate_responsibilities`` (or ``accumulate_labels`` /
``accumulate_nearest``) about ``reference(X, n_components)``, and calls
``initial_m_step(stats, reference)``.

Required methods (abstract): ``accumulate``, ``accumulate_responsibilities``,
``initial_m_step``, ``m_step``, ``log_prob``, ``sample``, ``n_parameters``.

Optional hooks, their defaults, and the equalities an override must keep
(``==`` exact, bit for bit; ``~`` equal up to rounding):

``prepare(params, log_weights)``
    Default ``Prepared(params, log_weights)``. An override returns what its
    kernels need, computed once per E-step (for example the log normalising
    constants); it must keep the attributes ``params`` and ``log_weights``.
    Nothing may modify a prepared value after ``prepare`` returned it.
``accumulate_chunks(X, prepared, sample_weight, chunk_size, run)``
    Default ``None`` (the engine then maps ``accumulate`` over the chunks).
    Else ``== reduce(add_stats, [accumulate(X[a:b], prepared, w[a:b]) for
    (a, b) in chunks of chunk_size])`` whatever ``run`` does with the work
    (see :data:`Runner`).
``accumulate_labels(X, labels, n_components, sample_weight, reference)``
    Default ``accumulate_responsibilities(X, one_hot(labels, n_components),
    ...)``; an override ``~`` it.
``accumulate_nearest(X, centres, n_components, sample_weight, reference)``
    Default ``None`` (the engine labels rows itself). Else ``==
    accumulate_labels`` of each row's nearest centre (squared Euclidean
    distance, the first of ties).
``reference(X, n_components)``
    Default ``None``: the value initial statistics are centred on.
``infer(X, prepared, mode, out, labels, scores)``
    Default: ``log_prob`` by blocks of ``INFER_ROWS`` rows and row kernels.
    An override ``~`` it: LOG_PROB ``log_prob(X, params) + log_weights``,
    SCORES their log-sum-exp, PROBABILITIES their softmax, LABELS their
    argmax.
``embed(X)``
    Default ``(X, None)``: a numeric view of the rows that starts are seeded
    on (k-means distances), and each feature's scale (see :meth:`embed`).
``match_clusters(X, labels, sample_weight)``
    Default: ``labels``. Which component each seeded cluster starts.
``data_scale(X, sample_weight)``, ``degenerate_components(params, stats, scale)``
    Defaults ``None`` and ``[]``. What makes an optimum spurious (see
    :meth:`MixtureFamily.degenerate_components`).
``with_data_scale(scale)``
    Default ``self``. The family a fit runs with, once its ``data_scale``
    is known (a regularisation relative to the data's scale).
``sharing_key()``
    Default ``None``. A hashable equal for two families whose
    ``data_scale`` and ``reference`` give the same values from the same
    rows: a model search then computes them once for its fits.
``to_unconstrained``, ``from_unconstrained``, ``unconstrained_scales``
    Default ``None`` (and no inverse): the family runs plain EM even when an
    estimator asks for ``accelerate``. Else a 1-D float64 vector of
    coordinates in which every point maps back to valid parameters, and its
    inverse: ``from_unconstrained(to_unconstrained(p), p) ~ p`` (the
    parameters the E-step reads); the engine's SQUAREM extrapolates in
    these coordinates (:mod:`skmix._engine.acceleration`). The mixing
    weights are the engine's (their log-softmax). The choices:

    - Gaussian: the means; for full and tied covariances the upper Cholesky
      factors of the precisions (``precisions_cholesky``) with their
      diagonals as logs; for diag and spherical the logs of the precision
      factors (-1/2 log of the variances).
    - NIG: locations and skewness; the dispersions as the Gaussian's
      covariances; the logs of the tail shapes (clipped back into
      [``LAMBDA_MIN``, ``LAMBDA_MAX``]).
    - Multinomial: the log probabilities of each component (floored at
      ``MIN_PROBABILITY``), mapped back by a softmax.
    - Composite: each column family's (``ColumnFamily.to_unconstrained``:
      normal and log-normal means and log variances, log rates, logits of
      probabilities, log shapes and rates of gammas, log probabilities of
      categorical levels) and the logits of the missingness probabilities;
      plain EM if one of its column families has none.
    - Grouped (hierarchical, sequence) and joint families: the log topic
      weights or log transitions (rows mapped back by a softmax), then the
      inner families' coordinates, then the logs of the Poisson lengths;
      plain EM if an inner family has none (:func:`log_coordinates`,
      :func:`probabilities_of_logs`).

    ``from_unconstrained`` may raise ``ValueError`` for a vector whose
    parameters are not numerically valid (the extrapolation is then
    rejected). ``unconstrained_scales`` (default ``None``: all 1) gives each
    coordinate's unit, so that the step length does not depend on the units
    of the data: a feature's scale for a mean or a skewness, its reciprocal
    for an off-diagonal precision factor, 1 for a logarithm or a logit.
``compiled_iterations(X, sample_weight, params)``
    Default ``None``: the engine runs each iteration's calls itself. Else
    ``run(params, log_weights, max_iter, fit_weights, lower_bound, tol,
    weight)``, which runs up to ``max_iter`` plain EM iterations from that
    point on these rows in compiled code and returns a
    :class:`CompiledRun`. It must ``==`` the engine's plain loop (one
    thread, no validation rows): for each iteration ``prepare``, the E-step,
    ``m_step``, the log-weights ``log(n_k + eps) - log(sum(n_k + eps))``
    if ``fit_weights`` (by ``skmix._kernels.mixing.mixing_log_weights``
    with eps ``RESP_EPS``, as the engine's loop computes them), the E-step's mean
    log-likelihood (its total over ``weight``) as the lower bound, and a
    stop once it changed by less than ``tol`` from ``lower_bound`` or the
    previous one. Where ``m_step`` fails, the run stops before that
    iteration (``CompiledRun.handed_back``) and the engine's loop redoes it
    (and raises or regularises as ``m_step`` does). Asked once per EM run,
    which goes on in the engine's own loop when the answer is ``None``
    (for example rows too many for one kernel call, or another dtype).
``compiled_squarem(X, sample_weight, params)``
    Default ``None``. Else ``run(params, log_weights, max_iter,
    fit_weights, lower_bound, tol, weight, coordinate_weights, scheme)``:
    SQUAREM in compiled code, which must ``==`` the engine's ``Squarem``
    step iterated by the engine's loop (one thread, no validation rows,
    no abandon rule): the same E-steps, M-steps and log-weights as above,
    the coordinates of ``to_unconstrained`` with the log-weights in front
    (``Parametrisation``), the shared kernels of ``skmix._kernels.squarem``
    for the step length and the maps, ``coordinate_weights``
    (``Parametrisation.weights``, or None) and the scheme's constants
    ``scheme`` (initial bound, factor, smallest step, plain step,
    extrapolation's smallest step). It returns a :class:`CompiledRun`
    whose statistics and point are the last accepted E-step's, or None if
    an M-step failed anywhere: the engine then runs the whole run itself.
``label_chunk_rows``, ``relative_weights``
    Class attributes (see their comments).
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Hashable
from typing import Any, NamedTuple

import numpy as np

from .._config import CHUNK_SIZE, INFER_ROWS, LABELS, PROBABILITIES, SCORES
from .._kernels.rows import (
    argmax_rows,
    column_sums,
    log_sum_exp_rows,
    softmax_rows,
)

#: ``run(work, n_units)``: how the engine lets a family share work out
#: (the argument ``run`` of :meth:`MixtureFamily.accumulate_chunks`). It
#: calls ``work()`` on the calling thread and on up to ``n_units - 1`` other
#: workers at once, and returns when every call has returned, re-raising
#: the first error. ``work`` takes its units (blocks of rows) from a counter
#: of its own until none is left and writes each unit's result in the
#: unit's own place, so results never depend on how many workers ran it.
#: ``lambda work, n_units: work()`` is a valid runner.
Runner = Callable[[Callable[[], None], int], None]


class Prepared(NamedTuple):
    """What :meth:`MixtureFamily.prepare` returns by default."""

    params: Any
    log_weights: np.ndarray


class CompiledRun(NamedTuple):
    """What a :meth:`MixtureFamily.compiled_iterations` run returns."""

    #: The parameters and mixing log-weights after the last M-step.
    params: Any
    log_weights: np.ndarray
    #: Iterations (E-steps) run, and whether the stopping rule was met.
    n_iter: int
    converged: bool
    #: The lower bound of each iteration run; when ``finite`` is False the
    #: last iteration's log-likelihood was not finite and has no entry.
    lower_bounds: np.ndarray
    finite: bool
    #: The last E-step's statistics and the point it read (``prepare``'s);
    #: None when no iteration ran or ``handed_back``.
    stats: Any
    prepared: Any
    #: The run stopped before an iteration whose M-step failed (not counted
    #: in ``n_iter``; ``params`` is its point): the engine runs that
    #: iteration and the rest itself, and raises or regularises as
    #: ``m_step`` does.
    handed_back: bool = False


def chunk_bounds(n_samples: int, chunk_size: int = CHUNK_SIZE) -> list[tuple]:
    """The (start, stop) row ranges of the engine's partition of
    ``n_samples`` rows into chunks (one empty chunk for no rows)."""
    return [
        (start, min(start + chunk_size, n_samples))
        for start in range(0, n_samples, chunk_size)
    ] or [(0, 0)]


def kernel_weights(sample_weight):
    """``(weights, weighted)`` as the kernels take them: C-contiguous float64
    weights and True, or an empty array and False for no weights."""
    if sample_weight is None:
        return np.empty(0), False
    return np.ascontiguousarray(sample_weight, dtype=np.float64), True


def one_hot(labels: np.ndarray, n_components: int) -> np.ndarray:
    """Indicator rows (n, n_components) of hard assignments ``labels``."""
    resp = np.zeros((labels.shape[0], n_components))
    resp[np.arange(labels.shape[0]), labels] = 1.0
    return resp


def softmax_in_place(weighted: np.ndarray) -> int:
    """Component probabilities from weighted log densities ``log p(x | k)
    + log w_k`` (n, k), in place, row by row; returns the number of rows
    whose largest value is not finite (density 0 under every component),
    which are left as they were."""
    return softmax_rows(weighted)


def add_stats(a: NamedTuple, b: NamedTuple) -> NamedTuple:
    """Return the field-wise sum of two statistics tuples of the same type."""
    return type(a)(*(x + y for x, y in zip(a, b)))


#: The smallest probability (or Poisson mean) of the unconstrained
#: coordinates: a probability 0 has the finite coordinate log(TINY), and
#: every probability mapped back is at least TINY.
TINY = np.finfo(np.float64).tiny


def log_coordinates(values) -> np.ndarray:
    """The logs of non-negative ``values`` (probabilities, Poisson means)
    floored at ``TINY``, flat: unconstrained coordinates, finite for 0."""
    return np.log(np.maximum(np.asarray(values, dtype=np.float64), TINY)).ravel()


def positive_of_logs(vector) -> np.ndarray:
    """The inverse of :func:`log_coordinates` for values of no constraint
    but their sign: ``exp(vector)``, at least ``TINY``."""
    return np.maximum(np.exp(vector), TINY)


def probabilities_of_logs(vector, shape) -> np.ndarray:
    """The inverse of :func:`log_coordinates` for probabilities whose last
    axis sums to 1: ``vector`` reshaped to ``shape`` and its softmax along
    that axis. Any finite coordinates map to probabilities of at least
    ``TINY`` that sum to 1."""
    logits = np.asarray(vector, dtype=np.float64).reshape(shape)
    probabilities = np.exp(logits - logits.max(axis=-1, keepdims=True))
    probabilities = np.maximum(probabilities, TINY)
    return probabilities / probabilities.sum(axis=-1, keepdims=True)


def coordinate_scales(family, params, coordinates) -> np.ndarray:
    """``family.unconstrained_scales(params)`` flat, or ones as many as
    ``coordinates`` (its ``to_unconstrained(params)``) when it has none."""
    scales = family.unconstrained_scales(params)
    if scales is None:
        return np.ones(np.size(coordinates))
    return np.ravel(np.asarray(scales, dtype=np.float64))


class MixtureFamily(abc.ABC):
    """The contract between the EM engine and a mixture family.

    See the module docstring for the whole contract in one place: the
    required methods below are abstract; the optional hooks have defaults.
    """

    #: Rows per chunk given to :meth:`accumulate_labels` and
    #: :meth:`accumulate_nearest`, or ``None`` for the engine's chunk size.
    #: A family that holds no n x k array for them may take longer chunks.
    label_chunk_rows: int | None = None

    #: Whether a fit depends on the sample weights only through their ratios,
    #: so that the estimator may rescale them (a family with pseudo-counts in
    #: units of weight says no).
    relative_weights: bool = True

    # ------------------------------------------------------------ E-step
    def prepare(self, params: Any, log_weights: np.ndarray) -> Any:
        """What every chunk of one E-step (and :meth:`infer`) needs of
        ``params`` and the mixing log-weights, computed once.

        The default keeps the two as they are. An override returns an
        object with the attributes ``params`` and ``log_weights`` (those
        given) and whatever its kernels take; the engine never modifies it.
        """
        return Prepared(params, log_weights)

    @abc.abstractmethod
    def accumulate(
        self, X: np.ndarray, prepared: Any, sample_weight: np.ndarray | None
    ) -> NamedTuple:
        """E-step over one chunk of rows, fused with the statistics.

        Returns the expected complete-data sufficient statistics of the chunk
        under ``prepared`` (from :meth:`prepare`), including ``resp_sum`` and
        the summed ``log_likelihood``. ``sample_weight`` is ``None`` (every
        row counts once) or a float64 array of the chunk's length.
        """

    def accumulate_chunks(
        self,
        X: np.ndarray,
        prepared: Any,
        sample_weight: np.ndarray | None,
        chunk_size: int,
        run: Runner,
    ) -> NamedTuple | None:
        """Optional: :meth:`accumulate` over all rows in one call.

        Must return exactly (bit for bit) the statistics of
        :meth:`accumulate` applied to each chunk of ``chunk_size`` rows and
        summed left to right, whatever ``run`` (:data:`Runner`) does with
        the work it is given, or ``None``: the engine then calls
        :meth:`accumulate` chunk by chunk itself. The default returns
        ``None``.
        """
        return None

    # ---------------------------------------------------- initialisation
    def reference(self, X: np.ndarray, n_components: int) -> Any:
        """A data summary that initial statistics are centred on (default:
        None), computed once for the rows a start is initialised from.

        It is passed to :meth:`accumulate_responsibilities` for every chunk
        and then to :meth:`initial_m_step`.
        """
        return None

    @abc.abstractmethod
    def accumulate_responsibilities(
        self,
        X: np.ndarray,
        resp: np.ndarray,
        sample_weight: np.ndarray | None,
        reference: Any,
    ) -> NamedTuple:
        """Statistics of one chunk for given responsibilities ``resp`` (n, k).

        :meth:`initial_m_step` of their sum over chunks is the weighted
        maximum-likelihood estimate given ``resp``.
        """

    def accumulate_labels(
        self,
        X: np.ndarray,
        labels: np.ndarray,
        n_components: int,
        sample_weight: np.ndarray | None,
        reference: Any,
    ) -> NamedTuple:
        """:meth:`accumulate_responsibilities` of hard assignments: row t
        wholly to component ``labels[t]`` (k-means initialisations).

        The default builds the chunk's indicator rows; a family may take the
        labels themselves (the Gaussian family does, without an n x k
        array).
        """
        return self.accumulate_responsibilities(
            X, one_hot(labels, n_components), sample_weight, reference
        )

    def accumulate_nearest(
        self,
        X: np.ndarray,
        centres: np.ndarray,
        n_components: int,
        sample_weight: np.ndarray | None,
        reference: Any,
    ) -> NamedTuple | None:
        """:meth:`accumulate_labels` of the labels of the nearest of
        ``centres`` (squared Euclidean distance, the first of ties), or
        ``None`` (the default), and the engine labels the rows itself.
        """
        return None

    # ------------------------------------------------------------ M-step
    @abc.abstractmethod
    def initial_m_step(self, stats: NamedTuple, reference: Any) -> Any:
        """Parameters from the statistics of given responsibilities.

        ``stats`` are sums of :meth:`accumulate_responsibilities` (or its
        label hooks) about ``reference``. This is the first M-step of a
        start: there are no previous parameters (an empty component gets a
        defined value of its own).
        """

    def adjust_selected_rows_start(
        self, params: Any, X: np.ndarray, sample_weight: np.ndarray | None
    ) -> Any:
        """Optional: the initial parameters of a start that selected one row
        per component (k-means++, random_from_data), given the
        :meth:`initial_m_step` of those rows' statistics and all of X.
        The default returns ``params``; the Gaussian family's tied
        covariance is scikit-learn's there, which uses every row.
        """
        return params

    @abc.abstractmethod
    def m_step(self, stats: NamedTuple, params: Any) -> Any:
        """Parameters maximising the expected complete-data log-likelihood
        of E-step statistics (or not decreasing it, for an ECM step).

        ``params`` are the parameters the statistics were computed under
        (given to :meth:`prepare`): a family may use them for centred
        statistics, for the parts a conditional step keeps, or to keep an
        empty component where it was.
        """

    # --------------------------------------------------------- inference
    @abc.abstractmethod
    def log_prob(self, X: np.ndarray, params: Any) -> np.ndarray:
        """Per-component log densities, shape (n_samples, n_components)."""

    def infer(
        self,
        X: np.ndarray,
        prepared: Any,
        mode: int,
        out: np.ndarray | None = None,
        labels: np.ndarray | None = None,
        scores: np.ndarray | None = None,
    ) -> int:
        """Inference on the rows of X, from ``log p(x | k) + log_weights[k]``.

        By ``mode`` (``LOG_PROB``, ``LABELS``, ``SCORES`` or
        ``PROBABILITIES`` of ``skmix._config``) fills ``out`` (n, k)
        with those weighted log densities, ``labels`` (n,) with each row's
        most probable component, ``scores`` (n,) with each row's log density
        under the mixture, or ``out`` with the component probabilities.
        ``prepared`` is :meth:`prepare`'s. Returns the number of rows whose
        largest weighted log density is not finite (density 0 under every
        component: their label is 0, their probabilities are left as log
        densities, and the caller raises).

        This default takes :meth:`log_prob` ``INFER_ROWS`` rows at a time
        and numba kernels along its rows (log-sum-exp with libm's exp and
        log, softmax, argmax). A family with a fused kernel overrides it.
        """
        lost = 0
        params, log_weights = prepared.params, prepared.log_weights
        for start in range(0, X.shape[0], INFER_ROWS):
            rows = slice(start, start + INFER_ROWS)
            # C order for the row kernels (a family may build its log
            # densities component by component, in F order).
            weighted = np.ascontiguousarray(self.log_prob(X[rows], params))
            weighted += log_weights
            if mode == SCORES:
                lost += log_sum_exp_rows(weighted, scores[rows])
            elif mode == LABELS:
                lost += argmax_rows(weighted, labels[rows])
            else:
                if mode == PROBABILITIES:
                    lost += softmax_rows(weighted)
                out[rows] = weighted
        return lost

    # ----------------------------------------------------------- seeding
    def embed(self, X: np.ndarray) -> tuple[Any, np.ndarray | None]:
        """A numeric view ``(Z, scales)`` of the rows, for seeding starts.

        ``Z`` (n, m) is what k-means measures distances on (the engine may
        take its rows lazily: ``embed(X[rows])`` must equal
        ``embed(X)[0][rows]``); ``scales`` (m,) is ``None`` or, for seeding
        that standardises, each feature's fixed scale (NaN: standardise the
        feature by its weighted standard deviation). The default is X
        itself.
        """
        return X, None

    def match_clusters(
        self, X: np.ndarray, labels: np.ndarray, sample_weight: np.ndarray | None
    ) -> np.ndarray:
        """Labels of seeded clusters, renumbered so that each cluster starts
        the component that suits it (components of different kinds). The
        default keeps them."""
        return labels

    def compiled_iterations(
        self, X: np.ndarray, sample_weight: np.ndarray | None, params: Any
    ) -> Callable[..., CompiledRun] | None:
        """A run of plain EM iterations in compiled code on these rows, or
        ``None`` (the default): the engine then runs each iteration's calls
        (see the module docstring for what a run must equal)."""
        return None

    def compiled_squarem(
        self, X: np.ndarray, sample_weight: np.ndarray | None, params: Any
    ) -> Callable[..., CompiledRun | None] | None:
        """A run of SQUAREM in compiled code on these rows, or ``None`` (the
        default: the engine's ``Squarem`` step runs; see the module
        docstring)."""
        return None

    # ------------------------------------------------------- degeneracy
    def data_scale(self, X: np.ndarray, sample_weight: np.ndarray | None) -> Any:
        """What :meth:`degenerate_components` compares a fit with: the
        data's own scale (for example the covariance of the rows), computed
        once per fit. The default is ``None``."""
        return None

    def with_data_scale(self, scale: Any) -> MixtureFamily:
        """The family a fit runs with, given :meth:`data_scale` of its rows
        (computed once per fit, before the first start): a family whose
        regularisation is relative to the data's scale fixes it here. The
        default is the family itself (an absolute regularisation)."""
        return self

    def sharing_key(self) -> Hashable | None:
        """A hashable equal for two families whose :meth:`data_scale` and
        :meth:`reference` give the same values from the same rows, so that
        the fits of one model search may compute them once
        (``skmix._engine.shared``); ``None`` (the default): never shared."""
        return None

    def degenerate_components(
        self, params: Any, stats: NamedTuple | None, scale: Any
    ) -> list[str]:
        """Why a fit is a spurious optimum, one sentence per degenerate
        component (empty for a proper fit; the default).

        A likelihood that is unbounded (a variance that may shrink to 0)
        has maxima at collapsed components: a component on too few rows to
        estimate what it does not share, or whose spread in some direction
        is negligible against the data's (``scale`` from
        :meth:`data_scale`). ``stats`` are the statistics of the fit's last
        E-step (``None`` without one), whose ``resp_sum`` is each
        component's effective number of rows.
        """
        return []

    # ------------------------------------------------------ acceleration
    def to_unconstrained(self, params: Any) -> np.ndarray | None:
        """``params`` as a 1-D float64 vector of unconstrained coordinates
        (see the module docstring), or None (the default): the family then
        runs plain EM, accelerated or not."""
        return None

    def unconstrained_scales(self, params: Any) -> np.ndarray | None:
        """The scale of each coordinate of :meth:`to_unconstrained` at
        ``params`` (positive; the units of the data for a mean, 1 for a
        logarithm), which SQUAREM's step length measures coordinates in; None
        (the default) for 1 everywhere."""
        return None

    def from_unconstrained(self, vector: np.ndarray, like: Any) -> Any:
        """The parameters of ``vector`` (:meth:`to_unconstrained`'s
        coordinates); ``like`` are parameters of the same shapes."""
        raise NotImplementedError(
            f"{type(self).__name__} has no unconstrained parametrisation."
        )

    # ---------------------------------------------------------- sampling
    @abc.abstractmethod
    def sample(
        self, params: Any, n_samples_per_component: np.ndarray, rng
    ) -> np.ndarray:
        """Draw ``n_samples_per_component[k]`` rows from each component k.

        Rows are returned grouped by component, in component order.
        """

    @abc.abstractmethod
    def n_parameters(self, params: Any) -> int:
        """Number of free parameters, mixing weights excluded."""


def column_means(X) -> np.ndarray:
    """Column means of X (float64; X may be float32, summed as such).

    Families centre their initial statistics on it (``reference``).
    """
    X = np.asarray(X)
    if X.dtype not in (np.float32, np.float64):
        X = X.astype(np.float64)
    total = np.zeros(X.shape[1])
    column_sums(X, total)  # any memory layout: no copy of X
    return total / max(X.shape[0], 1)
