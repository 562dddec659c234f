"""Constants shared across skmix's layers, and its tuning constants.

This module is neutral ground: every layer may import it, and it imports
nothing from skmix. A constant lives here when more than one layer reads it
(the chunk size, the inference modes) or when it is a tuning choice (a size
or a threshold picked by measurement); its comment says what it controls and
why it has its value, and the measurements behind a tuning constant are in
``doc/performance.rst`` under the constant's name.
"""

import hashlib
import os
import shutil
import sys

#: The skmix release (``skmix.__version__``). Pickled estimators record it,
#: and unpickling under another release warns (``BaseMixture.__setstate__``).
VERSION = "0.1.0"

# ---------------------------------------------------------- input limits

#: Normal families (Gaussian and NIG mixtures, gaussian columns) accept
#: values of magnitude at most this: their E- and M-steps square deviations,
#: and covariances beyond ~1.8e308 (deviations beyond ~1.3e154) are not
#: doubles. 1e150 leaves room for sums over 1e8 rows. Larger data are
#: refused with the reason (rescaling them is exact).
MAX_SQUARED_MAGNITUDE = 1e150

#: Gaussian columns whose values differ must have a variance of at least
#: this (the mirror of ``MAX_SQUARED_MAGNITUDE``): ``reg_covar`` is relative
#: to the column's variance, and a component's variance may shrink to
#: ``SINGULAR_RCOND`` times it, while a variance below ~2.2e-308 (deviations
#: below ~1.5e-154) is not a normal double and its reciprocal overflows.
#: Such columns are refused with the reason (rescaling them is exact); a
#: weighted variance below it takes the floor of a constant column.
MIN_COLUMN_VARIANCE = 1e-150

# --------------------------------------------------------------- tables

#: ``families='auto'`` models a column of non-negative integers as Poisson
#: only if ``n_components`` Poissons can account for its spread: split into
#: ``n_components`` groups by 1-D k-means, its variance within the groups
#: must be at most this many times their mean (a Poisson's variance is its
#: mean). k-means minimises the variance within groups, so a larger ratio
#: rules out a mixture of that many Poissons; otherwise the column is
#: gaussian. Wine's proline (mean 747, variance 99,167) is 17.6 for three
#: groups; three Poissons of rates 2, 20 and 60 give 1.1.
POISSON_MAX_DISPERSION = 2.0

#: ``families='auto'`` refuses to model a column of labels with more than
#: ``LABELS_MAX_UNIQUE_FRACTION`` of its observed rows as distinct levels
#: (and more than ``LABELS_MAX_UNIQUE_MIN`` of them): an identifier or free
#: text, whose levels each rest on a row or two and add
#: (n_components x levels) parameters.
LABELS_MAX_UNIQUE_FRACTION = 0.5
LABELS_MAX_UNIQUE_MIN = 20

# ---------------------------------------------------------- command line

#: ``python -m skmix`` searches the models on a random subsample of at most
#: this many rows of a larger file, then refits the chosen model on every
#: row (``--search-rows``): the search's fits then take the same time
#: whatever the file's length (``SEARCH_MAX_ROWS`` in
#: ``doc/performance.rst``).
SEARCH_MAX_ROWS = 20_000

# --------------------------------------------------------------- engine

#: Rows per chunk of the engine's E-steps. The partition of rows into chunks
#: never depends on the number of threads, so results are bit-identical for
#: any ``n_jobs``.
CHUNK_SIZE = 16384

#: Fewer rows than this never use threads (nor are offered to the idle
#: threads of parallel starts); from it on, each fit times its E-steps on
#: one thread and on ``n_jobs`` and keeps the faster. Results never depend
#: on the choice.
MIN_ROWS_FOR_THREADS = 8192

#: E-steps that open a threaded fit alternating ``n_jobs`` threads and one
#: (threads first), before the faster is kept.
THREAD_PROBES = 4
#: E-steps after the probes at which a fit that chose one thread tries
#: ``n_jobs`` again (a probe may have hit a slow moment of the machine).
THREAD_EARLY_REPROBES = (4, 8)
#: Every this many E-steps, the thread count not in use runs once and takes
#: over if it beat the last four E-steps of the one in use.
THREAD_REPROBE_EVERY = 16

#: With ``verbose >= 1``, an EM run that printed nothing for this many
#: seconds prints a progress line (its iteration, lower bound and the
#: seconds since the fit began), so that a long fit is never silent.
PROGRESS_SECONDS = 5.0

#: The Gaussian family centres a start's initial statistics on each
#: column's middle value (50th percentile) over at most this many evenly
#: spaced rows: a robust centre, where one far value moves the column means
#: so far that the statistics about them lose their digits.
REFERENCE_ROWS = 1024

#: The data's spread that degeneracy is judged against (a component's
#: variance relative to the data's) is estimated on at most this many evenly
#: spaced rows (skmix.families.degeneracy.data_scale).
DATA_SCALE_MAX_ROWS = 10_000

#: k-means initialisations run on at most this many rows: a random
#: subsample beyond it, every row then labelled by its nearest centre, so
#: that initialising a long X costs no more memory than a chunk of it.
KMEANS_MAX_ROWS = 10_000

#: Starts seeded from a family's embedding of the rows (mixed-type tables)
#: are seeded and initialised from at most this many rows with positive
#: weight (a uniformly random subset beyond it).
SEED_MAX_ROWS = 20_000

#: Rows beyond which model-based hierarchical clustering (``init_params="hc"``)
#: clusters a random subsample of this many rows: its memory and time grow as
#: the square of the rows. mclust's ``Mclust`` subsamples at the same size
#: (``mclust.options("subset")``).
HC_MAX_ROWS = 2000

#: Rows drawn at random to the client to initialise a fit on a Dask array
#: (every start's k-means, hc or random draw runs on them): enough for
#: k-means to find the clusters that EM then refines on all rows, and
#: small next to the data a cluster holds.
DASK_INIT_ROWS = 100_000

# ------------------------------------------------------------ inference

#: What a family's inference (``MixtureFamily.infer``) writes, by ``mode``:
#: LOG_PROB, the log densities log p(x | k) + log w_k into ``out`` (n, k);
#: LABELS, the index of each row's largest into ``labels``; SCORES, each
#: row's log-sum-exp (its log density under the mixture) into ``scores``;
#: PROBABILITIES, each row's softmax (its component probabilities) into
#: ``out``. The fused kernels never store an (n, k) array of log densities
#: for the last three, nor pass over one again.
LOG_PROB, LABELS, SCORES, PROBABILITIES = 0, 1, 2, 3

#: Rows per :meth:`MixtureFamily.log_prob` call of the default
#: :meth:`MixtureFamily.infer`: the (n, k) block it holds at a time.
INFER_ROWS = 16384

# -------------------------------------------------------------- kernels
#
# numba freezes a module global into a kernel when it compiles it, so these
# are compile-time constants of the kernels (after an edit, numba's cache of
# every kernel must go: ``tools/clear_kernel_cache.py``).


def _kernel_cache_usable():
    """Whether numba finds a writable cache directory for skmix's kernels.

    numba looks for one in ``NUMBA_CACHE_DIR`` when it is set, next to the
    source (``__pycache__``), then in the user's cache directory (under
    ``XDG_CACHE_HOME`` or ``~/.cache``); when none is writable
    (a read-only install run by a user without a home cache), a kernel
    declared with ``cache=True`` raises ``RuntimeError`` when its module is
    imported. The probe is a function of this module, whose directory is
    the package's: its kernels' subpackages share its permissions. Where
    numba caches in the user's directory, the package's own compiled
    kernels are copied there first (:func:`seed_user_cache`).
    """
    try:
        from numba.core.caching import FunctionCache
    except ImportError:  # a numba without this class: let it decide
        return True

    def probe():  # pragma: no cover - never called, only located
        pass

    try:
        cache = FunctionCache(probe)
    except (RuntimeError, OSError):
        return False
    seed_user_cache(str(cache.cache_path))
    return True


def numba_cache_subpath(folder: str) -> str:
    """The directory numba gives the kernels of the sources in ``folder``
    (an absolute path) under a cache root (``NUMBA_CACHE_DIR`` or the
    user's): the folder's name and the SHA-1 of its path."""
    digest = hashlib.sha1(folder.encode()).hexdigest()
    return "_".join([os.path.basename(folder), digest])


def seed_user_cache(cache_path: str, package: str | None = None) -> int:
    """Copy the compiled kernels the package carries to the user's cache
    directory when numba caches there; how many files were copied.

    A built package carries its kernels' compiled code in its
    ``__pycache__`` directories (``setup.py``), where numba looks only if
    it can write there too. In a read-only install it caches in the user's
    directory instead (``cache_path`` is where it put this module's), and
    would compile every kernel once more. numba loads a copied file as the
    original (its index records a hash of the source's text, not its
    place), and compiles again if the source, numba, Python or CPU differ.
    A file already there is replaced only by a newer one (a new install);
    nothing is copied where the kernels are cached beside the package, nor
    under ``NUMBA_CACHE_DIR`` (the user's choice, which keeps a measured
    cold cache cold). Best effort: where a copy fails, numba compiles.
    """
    package = package or os.path.dirname(os.path.abspath(__file__))
    if os.environ.get("NUMBA_CACHE_DIR") or os.path.basename(
        cache_path
    ) != numba_cache_subpath(package):
        return 0
    root, copied = os.path.dirname(cache_path), 0
    try:
        for folder, _, names in os.walk(package):
            if os.path.basename(folder) != "__pycache__":
                continue
            target = os.path.join(root, numba_cache_subpath(os.path.dirname(folder)))
            for name in names:
                if name.endswith((".nbi", ".nbc")):
                    copied += _copy_if_newer(folder, target, name)
    except OSError:
        pass
    return copied


def _copy_if_newer(folder, target, name) -> int:
    source, destination = os.path.join(folder, name), os.path.join(target, name)
    try:
        if os.stat(destination).st_mtime >= os.stat(source).st_mtime:
            return 0
    except FileNotFoundError:
        os.makedirs(target, exist_ok=True)
    # Whole or not at all: another process may be loading or copying it.
    partial = f"{destination}.{os.getpid()}.tmp"
    shutil.copy2(source, partial)
    os.replace(partial, destination)
    return 1


#: Whether the kernels keep numba's on-disk cache (compiled once per
#: installation); False compiles them in memory in each process instead of
#: failing at import.
CACHE_KERNELS = _kernel_cache_usable()

#: Compile options of the fused kernels. ``error_model="numpy"`` drops the
#: division-by-zero checks that stop LLVM from vectorising loops with a
#: division; reassociation lets it vectorise sums across rows. No flag
#: assumes finite values.
JIT_OPTIONS = dict(
    cache=CACHE_KERNELS,
    nogil=True,
    error_model="numpy",
    fastmath={"nsz", "arcp", "contract", "reassoc"},
)
#: Compile options of kernels whose sums must keep the order written (the
#: output exponential ``precise_exp``, wherever it is inlined): fused
#: multiply-adds only.
ORDERED_JIT_OPTIONS = dict(
    cache=CACHE_KERNELS, nogil=True, error_model="numpy", fastmath={"contract"}
)
#: Compile options of kernels that follow IEEE arithmetic as NumPy does (the
#: M-steps, Cholesky factors, log normalisers, Bessel functions): no
#: fastmath, so they give the numbers of the NumPy code they replace.
STRICT_JIT_OPTIONS = dict(cache=CACHE_KERNELS, nogil=True)
#: Compile options of the covariance models' M-step
#: (``skmix._kernels.gaussian.models``): IEEE arithmetic as
#: ``STRICT_JIT_OPTIONS``, and NumPy's division (inf or NaN, no exception):
#: a singular scatter then gives the non-finite covariance the NumPy code
#: gives, which the kernel reports as that code does.
IEEE_JIT_OPTIONS = dict(cache=CACHE_KERNELS, nogil=True, error_model="numpy")

#: Rows per tile of the fused kernels: a tile of rows is transposed to
#: (n_features, TILE) so that inner loops run across rows and vectorise.
TILE = 256
#: Row length of 2-D tile buffers: 8 doubles of padding beyond TILE, so that
#: the rows of a buffer do not lie a multiple of 4 KiB apart and alias in
#: the L1 cache's index.
TILE_STRIDE = TILE + 8
#: Log-responsibilities relative to a row's largest are clamped here in the
#: E-steps: exp(-600) ~ 3e-261 is as negligible next to the largest term (1)
#: as the exact value, and keeps responsibilities and their products with
#: the data normal numbers (subnormal arithmetic is slow).
LOG_NEGLIGIBLE = -600.0
#: Up to this many columns ``column_sums`` sums one column of a tile at a
#: time into a scalar; beyond, all columns of a row at once.
COLUMN_SUM_MAX_FEATURES = 6
#: Up to this many features ``load_tile`` sweeps the tile's rows once per
#: pair of columns (the tile's rows of X stay in the L1 cache between
#: sweeps); above it, it goes four rows at a time through all the columns.
COLUMN_SWEEP_MAX_FEATURES = 12
#: ``prefetch_rows`` does nothing for X with fewer features: the hardware's
#: prefetchers bring in a tile of such short rows on their own.
PREFETCH_MIN_FEATURES = 8
#: The diagonal, spherical and tied E-steps (and diagonal inference) take
#: components two at a time (register blocking) from this many features on;
#: with fewer, one at a time.
PAIR_MIN_FEATURES = 4
#: A row whose responsibility for a component is below this times its
#: weight adds nothing to that component's statistics at double precision,
#: so the full E-step may leave it out.
NEGLIGIBLE_RESPONSIBILITY = 1e-200
#: The full E-step gathers a component's non-negligible rows when they are
#: at most this fraction of the tile, and forms its d x d products on those
#: rows alone ...
COMPACT_FRACTION = 0.5
#: ... from this many features on (below, the d x d products are too cheap
#: to pay for the gathering).
COMPACT_MIN_FEATURES = 8
#: Rows grouped by component at a time by ``grouped_label_moments`` (longer
#: loops than a tile's groups of ~TILE / k rows).
GROUP_ROWS = 1024
#: Rows per block in the composite's normal column kernels: a block of the
#: values and of the log densities or responsibilities stays in the L2
#: cache while every component sweeps it.
COLUMN_BLOCK_ROWS = 1024
#: The NIG E-step reads log Ke_nu(z) and log(K_{nu-1}(z) / K_nu(z)) from
#: tables of polynomial pieces in log z for z in [BESSEL_TABLE_Z_MIN,
#: BESSEL_TABLE_Z_MAX] (outside, the direct evaluation) ...
BESSEL_TABLE_Z_MIN = 1e-7
BESSEL_TABLE_Z_MAX = 1e10
#: ... each piece covering BESSEL_TABLE_STEP of log z with a polynomial of
#: BESSEL_TABLE_TERMS coefficients (degree 8 on 1/8: accurate to about
#: 50^-9, the Bernstein ellipse bound; see ``skmix._kernels.bessel``).
BESSEL_TABLE_STEP = 0.125
BESSEL_TABLE_TERMS = 9

#: Rows per block of the hierarchical mixture's E-step kernel
#: (``skmix._kernels.grouped.hierarchical_accumulate``): whole groups are
#: taken until a block holds this many rows (a longer group is a block
#: alone), so that the block's buffers, (K + 2 M) x rows doubles, stay in the
#: L2 cache while its loops run across rows.
GROUP_BLOCK_ROWS = 512

# ------------------------------------------------------------- families

#: Rows per block that the threads of one Gaussian E-step claim (several
#: to an engine chunk, so that threads finish together). Each chunk's
#: statistics are the ordered sum of its blocks on every path, so results
#: stay independent of the thread count.
CLAIM_ROWS = 4096

#: Work (about the E-step's n k d^2 plus the M-step's inner iterations of
#: k d^3 multiply-adds per EM iteration) of one call of a compiled EM loop
#: (``MixtureFamily.compiled_iterations`` and ``compiled_squarem``). A run
#: goes back to Python between calls, where a Ctrl-C is raised: this bounds
#: the wait to tens of milliseconds, while a few hundred rows still run
#: whole in one call.
COMPILED_STRETCH_WORK = 20_000_000

#: Engine chunks per kernel call of a Gaussian E-step: bounds the memory of
#: the per-block statistics whatever the number of rows.
CHUNKS_PER_CALL = 64
#: Rows per chunk when the Gaussian family accumulates hard assignments
#: (labels, nearest centres): it stores 8 bytes a row, not an n x k array,
#: so longer chunks than the engine's mean fewer calls from Python.
LABEL_CHUNK_ROWS = 65536
#: Full covariances with (n_components - 1) * n_features at least this
#: group the rows by label to accumulate k-means labels
#: (``grouped_label_moments``); below it, grouping costs more than it saves.
LABEL_GROUP_MIN_WORK = 18

#: Scale of the label indicators (bernoulli, one-hot categorical) in the
#: numeric view of a composite table that seeds starts, where numbers are
#: standardised: standardised indicators would dominate the distances, and
#: k-means would split on any yes/no column.
INDICATOR_SCALE = 0.5

# ------------------------------------------------------------ estimators

#: Rows per block when inference runs in threads (``n_jobs``); fewer than
#: two blocks run on the calling thread alone.
INFERENCE_BLOCK_ROWS = 65536

# --------------------------------------------------- starts and selection
#: One-sided level of the paired test by which a start's better validation
#: log-likelihood overrules the best training log-likelihood (Bonferroni-
#: divided among the other proper starts; see ``skmix._engine.policy`` and
#: doc/user_guide "Choosing among starts").
VALIDATION_TEST_LEVEL = 0.05

#: A component is singular relative to the data when, in some direction, its
#: variance (less ``reg_covar``) is at or below this fraction of the data's
#: variance in that direction (see ``degenerate_components`` of the Gaussian
#: families): ``reg_covar`` alone keeps it invertible.
SINGULAR_RCOND = 1e-10

#: Iterations between the checks of a start that may be abandoned once it
#: is degenerate (``run_em``'s ``abandon``; see doc/performance.rst,
#: "ABANDON_CHECK_INTERVAL"): a degenerate start loses to any proper one,
#: and its EM, near a singular covariance, would otherwise tend to run to
#: ``max_iter``.
ABANDON_CHECK_INTERVAL = 10


#: After a multi-start selection, EM continues from the chosen start (on all
#: rows) until the mean log-likelihood changes by less than ``tol`` times
#: this factor, within the rest of the ``max_iter`` budget: short runs at
#: ``tol`` compare the starts, the chosen one runs to convergence
#: (Biernacki, Celeux & Govaert 2003's "em-EM" strategy). See
#: doc/user_guide "Choosing among starts".
FINAL_TOL_FACTOR = 1e-3

#: The tolerance, as a factor of ``tol``, to which a multi-start fit's
#: runoff (``fit_multistart``'s ``runoff``, set by ``select_model``) runs
#: the challengers of the selected start on before it judges them.
RUNOFF_TOL_FACTOR = 0.1

#: Added to every component's responsibility sum, as scikit-learn does, so
#: that an empty component keeps a finite mixing weight (and a Gaussian one
#: takes ``reg_covar`` I, or raises without it). One value for the engine's
#: log-weights and every family's M-steps and compiled loops, which must
#: agree to the bit.
RESP_EPS = 10 * sys.float_info.epsilon
