"""Constants shared across skmix's layers, and its tuning constants.

This module is neutral ground: every layer may import it, and it imports
nothing from skmix. A constant lives here when more than one layer reads it
(the chunk size, the inference modes) or when it is a tuning choice (a size
or a threshold picked by measurement); its comment says what it controls and
why it has its value, and the measurements behind a tuning constant are in
``doc/performance.rst`` under the constant's name.
"""

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

#: k-means initialisations run on at most this many rows: a random
#: subsample beyond it, every row then labelled by its nearest centre, so
#: that initialising a long X costs no more memory than a chunk of it.
KMEANS_MAX_ROWS = 10_000

#: Starts seeded from a family's embedding of the rows (mixed-type tables)
#: are seeded and initialised from at most this many rows with positive
#: weight (a uniformly random subset beyond it).
SEED_MAX_ROWS = 20_000

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

# ------------------------------------------------------------- families

#: Rows per block that the threads of one Gaussian E-step claim (several
#: to an engine chunk, so that threads finish together). Each chunk's
#: statistics are the ordered sum of its blocks on every path, so results
#: stay independent of the thread count.
CLAIM_ROWS = 4096
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

# ------------------------------------------------------------ estimators

#: Rows per block when inference runs in threads (``n_jobs``); fewer than
#: two blocks run on the calling thread alone.
INFERENCE_BLOCK_ROWS = 65536
