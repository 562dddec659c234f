"""The family contract shared by every mixture family.

A family is a stateless strategy object: it holds configuration only (for
example ``covariance_type`` and ``reg_covar``) and works on a parameter
``NamedTuple`` of arrays. The EM engine (:mod:`skmix._engine`) knows nothing
else about a family than the methods below.

Statistics returned by :meth:`MixtureFamily.accumulate` and
:meth:`MixtureFamily.accumulate_responsibilities` are a ``NamedTuple`` of
arrays that are **additive over rows**: the statistics of ``X`` equal the sum
of the statistics of any split of ``X`` into chunks (for the same
parameters). Every statistics tuple has the two fields

``resp_sum`` : ndarray of shape (n_components,)
    The (sample-weighted) sum of responsibilities of each component.
``log_likelihood`` : float ndarray of shape ()
    The (sample-weighted) sum over rows of ``log p(x)`` under the mixture
    (0 for :meth:`accumulate_responsibilities`).
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from .._config import LABELS, PROBABILITIES, SCORES
from .._kernels.rows import (
    argmax_rows,
    column_sums,
    log_sum_exp_rows,
    softmax_rows,
)

#: Rows per :meth:`MixtureFamily.log_prob` call of the default
#: :meth:`MixtureFamily.infer` (its result is the memory it holds).
INFER_ROWS = 16384


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


def labelled_responsibilities(labels, n_components: int):
    """Responsibilities of hard assignments, as a chunk function.

    ``labels(start, stop)`` gives the component of rows ``start:stop``;
    ``responsibilities(start, stop)`` gives their indicator rows. The
    function carries ``labels``, so that initialisation hands them to
    :meth:`MixtureFamily.accumulate_labels` rather than an n x k array.
    """

    def responsibilities(start, stop):
        return one_hot(labels(start, stop), n_components)

    responsibilities.labels = labels
    return responsibilities


def add_stats(a: NamedTuple, b: NamedTuple) -> NamedTuple:
    """Return the field-wise sum of two statistics tuples of the same type."""
    return type(a)(*(x + y for x, y in zip(a, b)))


class MixtureFamily:
    """Interface of a mixture family (documentation and defaults).

    Subclasses implement every method that raises ``NotImplementedError``.
    """

    #: Rows per chunk given to :meth:`accumulate_labels` and
    #: :meth:`accumulate_nearest`, or ``None`` for the engine's chunk size.
    #: A family that holds no n x k array for them may take longer chunks
    #: (fewer calls from Python).
    label_chunk_rows: int | None = None

    #: Whether a fit depends on the sample weights only through their ratios,
    #: so that the estimator may rescale them (a family with pseudo-counts in
    #: units of weight says no).
    relative_weights: bool = True

    def accumulate(
        self,
        X: np.ndarray,
        params: Any,
        log_weights: np.ndarray,
        sample_weight: np.ndarray | None,
    ) -> NamedTuple:
        """E-step over one chunk of rows, fused with the statistics.

        Returns the expected complete-data sufficient statistics of the chunk
        under ``params`` and mixing weights ``exp(log_weights)``, including
        ``resp_sum`` and the summed ``log_likelihood``. ``sample_weight`` is
        ``None`` (every row counts once) or a float64 array of the chunk's
        length.
        """
        raise NotImplementedError

    def accumulate_chunks(
        self,
        X: np.ndarray,
        params: Any,
        log_weights: np.ndarray,
        sample_weight: np.ndarray | None,
        chunk_size: int,
        n_threads: int = 1,
    ) -> NamedTuple | None:
        """Optional: :meth:`accumulate` over all rows, with ``n_threads``.

        Must return exactly the statistics of :meth:`accumulate` applied to
        each chunk of ``chunk_size`` rows and summed left to right, whatever
        ``n_threads`` (so that results never depend on it), or ``None``, and
        the engine then calls :meth:`accumulate` chunk by chunk (on threads
        of its own). The default returns ``None``.
        """
        return None

    def accumulate_responsibilities(
        self,
        X: np.ndarray,
        resp: np.ndarray,
        sample_weight: np.ndarray | None,
        reference: Any,
    ) -> NamedTuple:
        """Statistics of one chunk for given responsibilities ``resp``.

        Used for initialisation: ``m_step`` of the summed result is the
        M-step applied to ``resp``. ``reference`` is a family-specific value
        computed once for the whole data by :meth:`reference` (for example a
        centre used for numerically stable centred sums).
        """
        raise NotImplementedError

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

        The Gaussian family labels and accumulates in one pass.
        """
        return None

    def reference(self, X: np.ndarray, n_components: int) -> Any:
        """A data summary used to centre initial statistics (default: None).

        It is passed to :meth:`accumulate_responsibilities` for every chunk and
        then, as ``params``, to :meth:`m_step`.
        """
        return None

    def m_step(self, stats: NamedTuple, params: Any | None) -> Any:
        """Parameters maximising the expected complete-data log-likelihood.

        ``params`` is what the statistics were computed under: the
        parameters given to :meth:`accumulate`, or at initialisation the
        value :meth:`reference` returned (the ``reference`` given to
        :meth:`accumulate_responsibilities`). A family may use it for centred
        statistics or to keep an empty component where it was.
        """
        raise NotImplementedError

    def log_prob(self, X: np.ndarray, params: Any) -> np.ndarray:
        """Per-component log densities, shape (n_samples, n_components)."""
        raise NotImplementedError

    def infer(
        self,
        X: np.ndarray,
        params: Any,
        log_weights: np.ndarray,
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
        Returns the number of rows whose largest weighted log density is not
        finite (density 0 under every component: their label is 0, their
        probabilities are left as log densities, and the caller raises).

        This default takes :meth:`log_prob` ``INFER_ROWS`` rows at a time
        and numba kernels along its rows (log-sum-exp with libm's exp and
        log, softmax, argmax). A family with a fused kernel overrides it.
        """
        lost = 0
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

    def sample(
        self, params: Any, n_samples_per_component: np.ndarray, rng
    ) -> np.ndarray:
        """Draw ``n_samples_per_component[k]`` rows from each component k.

        Rows are returned grouped by component, in component order.
        """
        raise NotImplementedError

    def n_parameters(self, params: Any) -> int:
        """Number of free parameters, mixing weights excluded."""
        raise NotImplementedError


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
