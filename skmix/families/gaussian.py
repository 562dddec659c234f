"""The Gaussian family: full, tied, diagonal and spherical covariances.

Statistics are centred on the component means they were computed under (the
``params`` given to ``accumulate``), so the M-step uses shifted two-pass
formulas and avoids the E[x^2] - mean^2 cancellation.
"""

from __future__ import annotations

import functools
import math
import warnings
from typing import Any, NamedTuple

import numpy as np

from .._config import (
    CHUNKS_PER_CALL,
    CLAIM_ROWS,
    LABEL_CHUNK_ROWS,
    LABEL_GROUP_MIN_WORK,
    REFERENCE_ROWS,
    RESP_EPS,
)
from .._kernels import gaussian as kernels
from .._kernels.squarem import diagonal_factors, log_entries
from ._base import MixtureFamily, Runner, kernel_weights
from .covariance_models import SKLEARN_MODELS
from .degeneracy import data_scale, gaussian_degeneracies
from .gaussian_loops import LOOP_KINDS, NO_OPTIONS, CompiledLoops, LoopSpec

COVARIANCE_TYPES = ("full", "tied", "diag", "spherical")
_LOG_2PI = math.log(2.0 * math.pi)

ILL_DEFINED_COVARIANCE = (
    "Fitting the mixture model failed because some components have "
    "ill-defined empirical covariance (for instance caused by singleton or "
    "collapsed samples). Try to decrease the number of components, increase "
    "reg_covar, or scale the input data."
)


class GaussianParams(NamedTuple):
    """Gaussian mixture parameters, shaped as scikit-learn's attributes."""

    means: np.ndarray
    covariances: np.ndarray
    precisions_cholesky: np.ndarray


class GaussianPrepared(NamedTuple):
    """The E-step's view of the parameters (``GaussianFamily.prepare``).

    ``log_norm`` is log w_k + log det U_k - d/2 log(2 pi) per component;
    ``centre`` the point the full and tied kernels shift each tile to (the
    mean of the means), None for diagonal covariances.
    """

    params: Any
    log_weights: np.ndarray
    means: np.ndarray
    precisions: np.ndarray
    log_norm: np.ndarray
    centre: np.ndarray | None


class GaussianStats(NamedTuple):
    """Additive statistics; ``sum_z`` is centred on the previous means.

    ``sum_zz`` is (k, d, d) upper triangles for 'full', the (d, d) upper
    triangle of the scatter about the centre of the means for 'tied',
    (k, d) element-wise squares for 'diag', and (k,) sums of squared
    distances sum_t r_tk |z_tk|^2 for 'spherical'.
    """

    resp_sum: np.ndarray
    log_likelihood: np.ndarray
    sum_z: np.ndarray
    sum_zz: np.ndarray


#: Fused E-step kernels over the chunks each calling thread claims (full
#: and tied take a centre after log_norm); a single chunk goes through them
#: too, so every path runs the same compiled code.
_CLAIMED_KERNELS = {
    "full": kernels.full_accumulate,
    "tied": kernels.tied_accumulate,
    "diag": kernels.diag_accumulate,
    "spherical": kernels.spherical_accumulate,
}


def _groups_labels(covariance_type, n_components, n_features):
    """Whether label statistics group the rows by label
    (``LABEL_GROUP_MIN_WORK``)."""
    return (
        covariance_type == "full"
        and (n_components - 1) * n_features >= LABEL_GROUP_MIN_WORK
    )


def _grouped_label_moments(
    X, labels, sample_weight, weighted, centre, kind, resp_sum, sum_z, sum_zz
):
    """``grouped_label_moments`` with ``label_moments``'s signature."""
    kernels.grouped_label_moments(
        X, labels, sample_weight, weighted, centre, resp_sum, sum_z, sum_zz
    )


#: ``responsibility_moments``'s code of each covariance type.
_MOMENT_KINDS = {
    "full": kernels.FULL,
    "tied": kernels.TIED,
    "diag": kernels.DIAG,
    "spherical": kernels.SPHERICAL,
}


def _as_float64(X):
    return np.ascontiguousarray(X, dtype=np.float64)


def _serial(work, n_units):
    """The runner of work on the calling thread alone (see ``Runner``)."""
    work()


def symmetrise_upper(upper):
    """Full symmetric matrices from their upper triangles (last two axes)."""
    upper = np.ascontiguousarray(upper, dtype=np.float64)
    if upper.ndim == 2:
        return kernels.symmetrise_upper(upper[None])[0]
    return kernels.symmetrise_upper(upper)


@functools.lru_cache(maxsize=64)
def _upper_rows(d):
    """The row of each entry of a d x d matrix's strict upper triangle, in
    ``np.triu_indices(d, 1)``'s order (``kernels.factor_coordinates``')."""
    return np.triu_indices(d, 1)[0]


def precision_factor_vector(precisions_cholesky, covariance_type, out=None):
    """Unconstrained coordinates of precision factors: for full and tied
    covariances each upper factor's log diagonal and strict upper triangle
    (``kernels.factor_coordinates``), for diag and spherical the logs of
    the factors. Written into ``out`` (1-D float64) if given."""
    pc = np.asarray(precisions_cholesky, dtype=np.float64)
    if covariance_type in ("diag", "spherical"):
        if out is None:
            out = np.empty(pc.size)
        log_entries(np.ascontiguousarray(pc).reshape(-1), out)
        return out
    d = pc.shape[-1]
    stack = pc.reshape(-1, d, d)
    if out is None:
        out = np.empty(stack.shape[0] * d * (d + 1) // 2)
    kernels.factor_coordinates(np.ascontiguousarray(stack), out)
    return out


def precision_factor_from_vector(vector, like_precisions_cholesky, covariance_type):
    """``(precisions_cholesky, covariances)`` of ``precision_factor_vector``'s
    coordinates, shaped as ``like_precisions_cholesky``.

    Covariances are (U U^T)^-1 = U^-T U^-1 (U upper triangular with a
    positive diagonal, so its inverse is upper triangular too).
    """
    shape = np.shape(like_precisions_cholesky)
    if covariance_type in ("diag", "spherical"):
        log_factors = np.ascontiguousarray(vector, dtype=np.float64).reshape(-1)
        factors, covariances = np.empty(shape), np.empty(shape)
        diagonal_factors(log_factors, factors.reshape(-1), covariances.reshape(-1))
        return factors, covariances
    d = shape[-1]
    n_matrices = 1 if len(shape) == 2 else shape[0]
    factors = np.empty((n_matrices, d, d))
    covariances = np.empty((n_matrices, d, d))
    kernels.factors_from_coordinates(
        np.ascontiguousarray(vector, dtype=np.float64), factors, covariances
    )
    if len(shape) == 2:
        return factors[0], covariances[0]
    return factors, covariances


def feature_scales(covariances, covariance_type, n_components, n_features):
    """Each feature's scale: the square root of its variance averaged over
    the components."""
    cov = np.asarray(covariances, dtype=np.float64)
    if covariance_type == "full":
        variances = cov.diagonal(axis1=1, axis2=2).sum(axis=0) / n_components
    elif covariance_type == "tied":
        variances = cov.diagonal()
    elif covariance_type == "diag":
        variances = cov.sum(axis=0) / n_components
    else:
        variances = np.full(n_features, cov.sum() / n_components)
    return np.sqrt(variances)


def precision_factor_scales(scales, n_matrices, covariance_type):
    """Units of :func:`precision_factor_vector`'s coordinates, given the
    features' ``scales``: 1 for the logs, 1 / scale_i for the entry (i, j)
    of an upper factor."""
    d = scales.shape[0]
    if covariance_type == "diag":
        return np.ones(n_matrices * d)
    if covariance_type == "spherical":
        return np.ones(n_matrices)
    rows = _upper_rows(d)
    off_diagonal = np.tile(1.0 / scales[rows], n_matrices)
    return np.concatenate([np.ones(n_matrices * d), off_diagonal])


#: The methods that define SQUAREM's coordinates (``compiled_squarem``).
_COORDINATES = ("to_unconstrained", "from_unconstrained", "unconstrained_scales")


class GaussianFamily(MixtureFamily):
    """Multivariate normal components with one of four covariance structures.

    Parameters
    ----------
    covariance_type : {'full', 'tied', 'diag', 'spherical'}
        Structure of the covariance matrices.
    reg_covar : float
        Non-negative value added to the diagonal of every covariance.
    """

    def __init__(self, covariance_type="full", reg_covar=1e-6):
        self.covariance_type = covariance_type
        self.reg_covar = reg_covar

    # --------------------------------------------------- kernel-side views
    def _log_norm(self, params, log_weights):
        """log w_k + log det U_k - d/2 log(2 pi) per component."""
        pc = params.precisions_cholesky
        d = params.means.shape[1]
        constant = self._log_norm_constant(d)
        if self.covariance_type in ("full", "tied"):
            out = np.empty(log_weights.shape[0])
            factors = np.ascontiguousarray(pc, dtype=np.float64).reshape(-1, d, d)
            kernels.triangular_log_norm(factors, log_weights, constant, out)
            return out
        out = np.empty(log_weights.shape[0])
        factors = np.ascontiguousarray(pc, dtype=np.float64)
        if self.covariance_type == "diag":
            kernels.diagonal_log_norm(factors, d, log_weights, constant, out)
        else:
            kernels.spherical_log_norm(factors, d, log_weights, constant, out)
        return out

    @staticmethod
    def _log_norm_constant(d):
        """-d/2 log(2 pi), the constant of every component's ``log_norm``."""
        return -0.5 * d * _LOG_2PI

    def _centre_of_means(self, means, log_weights):
        """The centre the full and tied kernels shift each tile to
        (``log_weights`` an array).

        'full': the mean of the heaviest component. The rounding of a
        component's distances is relative to its mean's distance from the
        centre: with the mean of the means, one far component (a lone value
        near 1e20) took the other components' precision with it (their
        means rounded to multiples of 1024). 'tied': the mean of the means,
        as ``means.mean(axis=0)`` computes it, which its M-step's scatter
        is taken about.
        """
        if self.covariance_type == "full":
            return means[int(log_weights.argmax())].copy()
        return np.add.reduce(means, axis=0) / means.shape[0]

    # --------------------------------------------------- contract
    def _empty_stats(self, k, d, n_chunks=None):
        """Zero statistics, with a leading axis of ``n_chunks`` if given."""
        lead = () if n_chunks is None else (n_chunks,)
        if self.covariance_type == "full":
            sum_zz = np.zeros(lead + (k, d, d))
        elif self.covariance_type == "tied":
            sum_zz = np.zeros(lead + (d, d))
        elif self.covariance_type == "diag":
            sum_zz = np.zeros(lead + (k, d))
        else:
            sum_zz = np.zeros(lead + (k,))
        return GaussianStats(
            np.zeros(lead + (k,)), np.zeros(lead), np.zeros(lead + (k, d)), sum_zz
        )

    def prepare(self, params, log_weights):
        """Means, precision factors, ``log_norm`` and the full / tied
        kernels' centre, as the kernels take them (see ``GaussianPrepared``)."""
        means = np.ascontiguousarray(params.means, dtype=np.float64)
        precisions = np.ascontiguousarray(params.precisions_cholesky)
        weights64 = np.asarray(log_weights, dtype=np.float64)
        log_norm = self._log_norm(params, weights64)
        centre = (
            self._centre_of_means(means, weights64)
            if self.covariance_type in ("full", "tied")
            else None
        )
        return GaussianPrepared(
            params, log_weights, means, precisions, log_norm, centre
        )

    def accumulate(self, X, prepared, sample_weight):
        X = _as_float64(X)
        chunk_size = max(X.shape[0], 1)
        return self._accumulate(X, prepared, sample_weight, chunk_size, _serial)

    def accumulate_chunks(self, X, prepared, sample_weight, chunk_size, run):
        """``accumulate`` of every chunk of ``chunk_size`` rows, summed in order.

        The same numbers as calling :meth:`accumulate` per chunk and adding
        the results left to right, whatever ``run`` does: the workers claim
        blocks of rows inside one kernel call each. Returns ``None`` when X
        is not C-contiguous float64 (converting all of it at once would copy
        X), or when ``chunk_size`` is above ``CLAIM_ROWS`` and not a multiple
        of it (its chunks would not split into whole blocks): the engine then
        goes chunk by chunk.
        """
        if X.dtype != np.float64 or not X.flags.c_contiguous:
            return None
        if chunk_size > CLAIM_ROWS and chunk_size % CLAIM_ROWS:
            return None
        return self._accumulate(X, prepared, sample_weight, chunk_size, run)

    def _accumulate(self, X, prepared, sample_weight, chunk_size, run: Runner):
        """Statistics of X as chunks of ``chunk_size`` rows, each the ordered
        sum of its blocks of at most ``CLAIM_ROWS`` rows (the unit the
        workers of ``run`` claim), and the chunks summed in order."""
        block = min(chunk_size, CLAIM_ROWS)
        if X.shape[0] <= block:
            return self._one_block(X, prepared, sample_weight, block)
        means, precisions = prepared.means, prepared.precisions
        log_norm, centre = prepared.log_norm, prepared.centre
        k, d = means.shape
        weights, weighted = kernel_weights(sample_weight)
        kernel = _CLAIMED_KERNELS[self.covariance_type]
        blocks_per_chunk = -(-chunk_size // block)
        stats = self._empty_stats(k, d)
        log_likelihood = 0.0
        # One kernel call per CHUNKS_PER_CALL chunks bounds the per-block
        # slots (k d^2 doubles each for full covariances) whatever n is;
        # the chunks' sums still reach ``stats`` one after another in order.
        rows_per_call = CHUNKS_PER_CALL * chunk_size
        for first_row in range(0, X.shape[0], rows_per_call) or [0]:
            rows = slice(first_row, first_row + rows_per_call)
            X_part = X[rows]
            n_blocks = max(-(-X_part.shape[0] // block), 1)
            parts = self._empty_stats(k, d, n_blocks)
            args = [X_part, weights[rows] if weighted else weights, weighted]
            args += [means, precisions, log_norm]
            if centre is not None:
                args.append(centre)
            counter = np.zeros(1, dtype=np.int64)
            part_arrays = (
                parts.resp_sum,
                parts.sum_z,
                parts.sum_zz,
                parts.log_likelihood,
            )
            run(lambda: kernel(*args, block, counter, part_arrays), n_blocks)
            for name in ("resp_sum", "sum_z", "sum_zz"):
                kernels.fold_parts(
                    getattr(parts, name), blocks_per_chunk, getattr(stats, name)
                )
            block_ll = parts.log_likelihood.tolist()
            for first in range(0, n_blocks, blocks_per_chunk):  # chunks in order
                chunk_ll = 0.0
                for value in block_ll[first : first + blocks_per_chunk]:
                    chunk_ll += value
                log_likelihood += chunk_ll
        return stats._replace(log_likelihood=np.asarray(log_likelihood))

    def _one_block(self, X, prepared, sample_weight, block):
        """``_accumulate`` of C-contiguous float64 rows that make one block
        of ``block`` rows at most: one kernel call on the calling thread (a
        runner given one unit runs it there alone), whose block statistics
        are the sums (0 + x = x, without the folding calls)."""
        weights, weighted = kernel_weights(sample_weight)
        means, centre = prepared.means, prepared.centre
        k, d = means.shape
        resp_sum, log_likelihood, sum_z, sum_zz = self._empty_stats(k, d, 1)
        part_arrays = (resp_sum, sum_z, sum_zz, log_likelihood)
        args = (X, weights, weighted, means, prepared.precisions, prepared.log_norm)
        if centre is not None:
            args += (centre,)
        kernel = _CLAIMED_KERNELS[self.covariance_type]
        kernel(*args, block, np.zeros(1, dtype=np.int64), part_arrays)
        return GaussianStats(
            resp_sum[0], log_likelihood.reshape(()), sum_z[0], sum_zz[0]
        )

    def reference(self, X, n_components):
        """Centre of the initial statistics: each column's middle value
        (50th percentile) over at most REFERENCE_ROWS evenly spaced rows.
        Not the column means: one value near 1e20 moved them so far that
        the other rows' statistics about them lost every digit (rounded to
        multiples of 1024)."""
        step = max(1, -(-X.shape[0] // REFERENCE_ROWS))
        centre = np.median(np.asarray(X[::step], dtype=np.float64), axis=0)
        means = np.repeat(centre[None, :], n_components, axis=0)
        return GaussianParams(means, None, None)

    def accumulate_responsibilities(self, X, resp, sample_weight, reference):
        resp = np.ascontiguousarray(resp, dtype=np.float64)
        return self._given_moments(
            kernels.responsibility_moments,
            X,
            resp,
            resp.shape[1],
            sample_weight,
            reference,
        )

    #: Hard assignments take 8 bytes a row here, not an n x k array.
    label_chunk_rows = LABEL_CHUNK_ROWS

    def accumulate_labels(self, X, labels, n_components, sample_weight, reference):
        """``accumulate_responsibilities`` of the indicator rows of ``labels``
        (hard assignments to components 0..n_components-1)."""
        labels = np.ascontiguousarray(labels, dtype=np.int64)
        kernel = kernels.label_moments
        if _groups_labels(self.covariance_type, n_components, np.shape(X)[1]):
            kernel = _grouped_label_moments
        return self._given_moments(
            kernel, X, labels, n_components, sample_weight, reference
        )

    def accumulate_nearest(self, X, centres, n_components, sample_weight, reference):
        # Where accumulate_labels groups rows by label, the engine labels.
        if _groups_labels(self.covariance_type, n_components, np.shape(X)[1]):
            return None
        centres = np.ascontiguousarray(centres, dtype=np.float64)
        return self._given_moments(
            kernels.nearest_label_moments,
            X,
            centres,
            n_components,
            sample_weight,
            reference,
        )

    def _given_moments(self, kernel, X, assignment, k, sample_weight, reference):
        """Statistics about the reference means of given responsibilities or
        labels (``kernel`` is the matching numba kernel)."""
        X = _as_float64(X)
        d = X.shape[1]
        resp_sum, sum_z = np.zeros(k), np.zeros((k, d))
        # One numba pass that releases the GIL (parallel starts initialise
        # at once). The kernels take sum_zz 3-D for every covariance type.
        stats_shape, kernel_shape = {
            "full": ((k, d, d), (k, d, d)),
            "tied": ((d, d), (1, d, d)),
            "diag": ((k, d), (k, 1, d)),
            "spherical": ((k,), (k, 1, 1)),
        }[self.covariance_type]
        sum_zz = np.zeros(kernel_shape)
        kernel(
            X,
            assignment,
            *kernel_weights(sample_weight),
            np.ascontiguousarray(reference.means[0], dtype=np.float64),
            _MOMENT_KINDS[self.covariance_type],
            resp_sum,
            sum_z,
            sum_zz,
        )
        return GaussianStats(resp_sum, np.zeros(()), sum_z, sum_zz.reshape(stats_shape))

    def initial_m_step(self, stats, reference):
        """The M-step about the reference means (every centre the column
        means of the rows the start is initialised from)."""
        return self._m_step(stats, reference.means)

    def adjust_selected_rows_start(self, params, X, sample_weight):
        """For 'tied', scikit-learn's covariance of a start that selected one
        row per component (its ``_estimate_gaussian_covariances_tied`` of
        one-hot rows): ``(sum_i w_i x_i x_i^T - sum_k n_k mu_k mu_k^T) /
        sum_k n_k`` plus ``reg_covar``, where the first sum runs over every
        row of X (n_k is 1 + 10 eps); the other types are unchanged."""
        if self.covariance_type != "tied":
            return params
        X = np.asarray(X)
        d = X.shape[1]
        second = np.zeros((d, d))
        for start in range(0, X.shape[0], LABEL_CHUNK_ROWS):
            rows = np.asarray(X[start : start + LABEL_CHUNK_ROWS], dtype=np.float64)
            if sample_weight is not None:
                second += (
                    rows * sample_weight[start : start + len(rows), None]
                ).T @ rows
            else:
                second += rows.T @ rows
        means = params.means
        n_k = np.full(means.shape[0], 1.0 + RESP_EPS)
        covariance = (second - (n_k * means.T) @ means) / n_k.sum()
        covariance.flat[:: d + 1] += self.reg_covar
        precisions_cholesky, covariance = self.precisions_cholesky(covariance)
        return GaussianParams(means, covariance, precisions_cholesky)

    def m_step(self, stats, params):
        return self._m_step(stats, params.means)

    def _m_step(self, stats, centres):
        """Means and covariances from statistics centred on ``centres``."""
        if self.covariance_type in ("diag", "spherical"):
            return self._diagonal_m_step(stats, centres)
        return self._full_m_step(stats, centres)

    def _full_m_step(self, stats, centres):
        """Means, covariances and their precision factors in one numba call.

        If a covariance is not numerically positive definite, the kernel
        still returns all covariances and ``precisions_cholesky`` regularises
        it (with a warning) or raises.
        """
        k, d = stats.sum_z.shape
        tied = self.covariance_type == "tied"
        n_cov = 1 if tied else k
        means = np.empty((k, d))
        covariances = np.empty((n_cov, d, d))
        precisions_cholesky = np.empty((n_cov, d, d))
        failed = kernels.full_m_step(
            np.ascontiguousarray(stats.resp_sum, dtype=np.float64),
            np.ascontiguousarray(stats.sum_z, dtype=np.float64),
            np.ascontiguousarray(stats.sum_zz, dtype=np.float64).reshape(n_cov, d, d),
            np.ascontiguousarray(centres, dtype=np.float64),
            float(self.reg_covar),
            RESP_EPS,
            tied,
            means,
            covariances,
            precisions_cholesky,
        )
        if tied:
            covariances, precisions_cholesky = covariances[0], precisions_cholesky[0]
        if failed >= 0:
            precisions_cholesky, covariances = self.precisions_cholesky(covariances)
        return GaussianParams(means, covariances, precisions_cholesky)

    def _diagonal_m_step(self, stats, centres):
        k, d = stats.sum_z.shape
        shape = (k, d) if self.covariance_type == "diag" else (k,)
        means = np.empty((k, d))
        covariances = np.empty(shape)
        precisions_cholesky = np.empty(shape)
        ok = kernels.diagonal_m_step(
            np.ascontiguousarray(stats.resp_sum, dtype=np.float64),
            np.ascontiguousarray(stats.sum_z, dtype=np.float64),
            np.ascontiguousarray(stats.sum_zz, dtype=np.float64),
            np.ascontiguousarray(centres, dtype=np.float64),
            float(self.reg_covar),
            RESP_EPS,
            means,
            covariances,
            precisions_cholesky,
        )
        if not ok:
            raise ValueError(ILL_DEFINED_COVARIANCE)
        return GaussianParams(means, covariances, precisions_cholesky)

    def to_unconstrained(self, params):
        """The means and the precision factors' coordinates
        (:func:`precision_factor_vector`)."""
        means = params.means
        k, d = means.shape
        if self.covariance_type in ("diag", "spherical"):
            n_factors = np.size(params.precisions_cholesky)
        else:
            n_factors = (1 if self.covariance_type == "tied" else k) * d * (d + 1) // 2
        out = np.empty(means.size + n_factors)
        out[: means.size] = means.ravel()
        precision_factor_vector(
            params.precisions_cholesky, self.covariance_type, out[means.size :]
        )
        return out

    def unconstrained_scales(self, params):
        """Feature scales for the means, their reciprocals for off-diagonal
        precision factors, 1 for the logs."""
        k, d = params.means.shape
        scales = feature_scales(params.covariances, self.covariance_type, k, d)
        n_matrices = 1 if self.covariance_type == "tied" else k
        factors = precision_factor_scales(scales, n_matrices, self.covariance_type)
        out = np.empty(k * d + factors.size)
        out[: k * d].reshape(k, d)[:] = scales
        out[k * d :] = factors
        return out

    def from_unconstrained(self, vector, like):
        n_means = like.means.size
        means = vector[:n_means].reshape(like.means.shape)
        precisions_cholesky, covariances = precision_factor_from_vector(
            vector[n_means:], like.precisions_cholesky, self.covariance_type
        )
        return GaussianParams(means, covariances, precisions_cholesky)

    # ------------------------------------------------------ compiled loops
    def _loops(self, X, sample_weight, params):
        """The compiled loops on these rows (``gaussian_loops``), or None
        where they do not take them."""
        k, d = params.means.shape
        shape = self._empty_stats(k, d).sum_zz.shape
        if not CompiledLoops.claims(X, params, shape):
            return None
        X = np.ascontiguousarray(X, dtype=np.float64)
        return CompiledLoops(self, X, sample_weight, self._loop())

    def _loop(self):
        """What the compiled loops run (``LoopSpec``)."""
        tied = self.covariance_type == "tied"
        return LoopSpec(LOOP_KINDS[self.covariance_type], (0, tied), NO_OPTIONS, 1)

    def compiled_iterations(self, X, sample_weight, params):
        """Plain EM in compiled code (``gaussian_loops``) on rows that make
        one block (``CLAIM_ROWS`` at most, as one E-step kernel call takes
        them; the rows as float64 C-contiguous, which is what the engine's
        E-step converts them to), else None."""
        loops = self._loops(X, sample_weight, params)
        return None if loops is None else loops.plain

    def compiled_squarem(self, X, sample_weight, params):
        """SQUAREM in compiled code on the rows ``compiled_iterations``
        takes, else None; None too for a subclass with coordinates of its
        own (the kernel computes this class's)."""
        cls = type(self)
        if any(
            getattr(cls, name) is not getattr(GaussianFamily, name)
            for name in _COORDINATES
        ):
            return None
        loops = self._loops(X, sample_weight, params)
        return None if loops is None else loops.squarem

    def precisions_cholesky(self, covariances):
        """Cholesky factors of the precisions, and the covariances used.

        A covariance that is not numerically positive definite raises a
        ``ValueError`` when ``reg_covar == 0``; otherwise its diagonal is
        raised by a growing multiple of its scale (with a warning) until it is.
        """
        cov_type = self.covariance_type
        if cov_type in ("diag", "spherical"):
            if not np.all(covariances > 0) or not np.all(np.isfinite(covariances)):
                raise ValueError(ILL_DEFINED_COVARIANCE)
            return 1.0 / np.sqrt(covariances), covariances
        stack = covariances if cov_type == "full" else covariances[None]
        stack = np.ascontiguousarray(stack, dtype=np.float64)
        out = np.zeros_like(stack)
        jitter = 0.0
        for _ in range(30):
            failed = kernels.precision_cholesky(stack, out)
            if failed < 0:
                break
            if self.reg_covar == 0 or not np.all(np.isfinite(stack)):
                raise ValueError(ILL_DEFINED_COVARIANCE)
            scale = max(np.abs(np.diagonal(stack[failed])).max(), self.reg_covar)
            jitter = scale * 1e-12 if jitter == 0 else jitter * 10
            idx = np.arange(stack.shape[-1])
            stack[failed, idx, idx] += jitter
        else:
            raise ValueError(ILL_DEFINED_COVARIANCE)
        if jitter:
            warnings.warn(
                "A component covariance was not numerically positive definite "
                f"even with reg_covar={self.reg_covar}; {jitter:.3g} was added to "
                "its diagonal. Scale the input data or increase reg_covar.",
                UserWarning,
                stacklevel=2,
            )
        if cov_type == "full":
            return out, stack
        return out[0], stack[0]

    def mclust_model(self):
        """mclust's name of this family's covariance model."""
        return SKLEARN_MODELS[self.covariance_type]

    def data_scale(self, X, sample_weight):
        """The rows' covariance (their column variances for diagonal
        models): see :mod:`skmix.families.degeneracy`."""
        diagonal = self.covariance_type in ("diag", "spherical")
        return data_scale(X, sample_weight, diagonal)

    def sharing_key(self):
        """:meth:`data_scale` reads the covariance type alone and
        :meth:`reference` nothing of the family."""
        return (type(self), self.covariance_type)

    def degenerate_components(self, params, stats, scale):
        """Components singular relative to the data or on too few rows
        (:mod:`skmix.families.degeneracy`)."""
        return gaussian_degeneracies(
            self.mclust_model(),
            self.covariance_type,
            params.covariances,
            None if stats is None else stats.resp_sum,
            self.reg_covar,
            scale,
        )

    def log_prob(self, X, params):
        X = _as_float64(X)
        k = params.means.shape[0]
        out = np.empty((X.shape[0], k))
        self.infer(X, self.prepare(params, np.zeros(k)), kernels.LOG_PROB, out=out)
        return out

    def infer(self, X, prepared, mode, out=None, labels=None, scores=None):
        """:meth:`MixtureFamily.infer` by the fused kernels (``full_infer``,
        ``diag_infer``): each tile's log densities go straight to what
        ``mode`` asks, with no (n, k) array stored or read again."""
        X = _as_float64(X)
        means, precisions = prepared.means, prepared.precisions
        log_norm, centre = prepared.log_norm, prepared.centre
        k = means.shape[0]
        out = np.empty((0, k)) if out is None else out
        labels = np.empty(0, dtype=np.intp) if labels is None else labels
        scores = np.empty(0) if scores is None else scores
        outputs = (mode, out, labels, scores)
        if self.covariance_type in ("full", "tied"):
            if self.covariance_type == "tied":
                precisions = np.repeat(precisions[None], k, axis=0)
            return kernels.full_infer(X, means, precisions, log_norm, centre, *outputs)
        if self.covariance_type == "spherical":
            precisions = np.repeat(precisions[:, None], means.shape[1], axis=1)
        return kernels.diag_infer(X, means, precisions, log_norm, *outputs)

    def sample(self, params, n_samples_per_component, rng):
        """Draw rows component by component (scikit-learn's sampling order)."""
        means, cov = params.means, params.covariances
        cov_type = self.covariance_type
        parts = []
        for k, (mean, count) in enumerate(zip(means, n_samples_per_component)):
            # Covariances are positive definite by construction; NumPy's
            # check, with an absolute tolerance, warns for large ones.
            if cov_type == "full":
                parts.append(
                    rng.multivariate_normal(mean, cov[k], int(count), "ignore")
                )
            elif cov_type == "tied":
                parts.append(rng.multivariate_normal(mean, cov, int(count), "ignore"))
            else:
                scale = np.sqrt(cov[k])
                parts.append(mean + rng.standard_normal((count, len(mean))) * scale)
        return np.vstack(parts)

    def n_parameters(self, params):
        k, d = params.means.shape
        n_cov = {
            "full": k * d * (d + 1) / 2.0,
            "tied": d * (d + 1) / 2.0,
            "diag": k * d,
            "spherical": k,
        }[self.covariance_type]
        return int(n_cov + k * d)
