"""Constants shared across skmix's layers, and its tuning constants.

This module is neutral ground: every layer may import it, and it imports
nothing from skmix. A constant lives here when more than one layer reads it
(the chunk size, the inference modes) or when it is a tuning choice (a size
or a threshold picked by measurement); its comment says what it controls and
why it has its value, and the measurements behind a tuning constant are in
``doc/performance.rst`` under the constant's name.
"""

#: The skmix release (``skmix.__version__``). Pickled estimators record it,
#: and unpickling under another release warns (``BaseMixture.__setstate__``).
VERSION = "0.1.0"

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

#: Rows beyond which model-based hierarchical clustering (``init_params="hc"``)
#: clusters a random subsample of this many rows: its memory and time grow as
#: the square of the rows. mclust's ``Mclust`` subsamples at the same size
#: (``mclust.options("subset")``).
HC_MAX_ROWS = 2000

# ------------------------------------------------------------ inference

#: What a family's inference (``MixtureFamily.infer``) writes, by ``mode``:
#: LOG_PROB, the log densities log p(x | k) + log w_k into ``out`` (n, k);
#: LABELS, the index of each row's largest into ``labels``; SCORES, each
#: row's log-sum-exp (its log density under the mixture) into ``scores``;
#: PROBABILITIES, each row's softmax (its component probabilities) into
#: ``out``. The fused kernels never store an (n, k) array of log densities
#: for the last three, nor pass over one again.
LOG_PROB, LABELS, SCORES, PROBABILITIES = 0, 1, 2, 3

# -------------------------------------------------------------- kernels

#: Rows per block of the composite's normal-column kernels
#: (``skmix._kernels.columns``): a block of the values and of the log
#: densities or responsibilities stays in the L2 cache while every component
#: sweeps it.
ROW_BLOCK = 1024

# ------------------------------------------------------------- families

#: Scale of the label indicators (bernoulli, one-hot categorical) in the
#: numeric view of a composite table that seeds starts, where numbers are
#: standardised: standardised indicators would dominate the distances, and
#: k-means would split on any yes/no column.
INDICATOR_SCALE = 0.5

# ------------------------------------------------------------ estimators
