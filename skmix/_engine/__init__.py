"""The EM engine: one loop over additive statistics, chunks and multi-start.

Modules: ``em`` (one EM run), ``multistart`` (plan, run, select, continue),
``parallel`` (running the starts), ``policy`` (choosing one),
``initialization`` and ``seeding`` (how a start begins), ``hc`` (mclust's
hierarchical start), ``executor`` (where an E-step's work runs), ``threads``
(the threading machinery behind it), ``dask_blocks`` (E-steps on the
blocks of a Dask array) and ``shared`` (values a model search's fits
compute alike).
"""

from .._config import CHUNK_SIZE
from .dask_blocks import DaskBlocks, DaskRows
from .em import (
    EMResult,
    StepResult,
    accumulate,
    em_step,
    log_weights_from_stats,
    run_em,
    total_weight,
)
from .executor import SERIAL, LocalThreads, chunk_bounds
from .hc import HC_TRANSFORMATIONS, hc_labels
from .initialization import InitialAssignment, initial_assignment, initialize
from .multistart import (
    NO_RUNOFF,
    START_FAILURES,
    MultiStartResult,
    Runoff,
    StartOutcome,
    fit_multistart,
)
from .policy import (
    AllStartsFailed,
    BestScore,
    PairedValidation,
    SelectionPolicy,
    failure_reason,
    validation_gain_is_significant,
)
from .seeding import SEEDINGS, start_initializer
from .shared import SharedValues, shared_data_scale, shared_value
from .threads import one_blas_thread, one_openmp_thread

__all__ = [
    "CHUNK_SIZE",
    "HC_TRANSFORMATIONS",
    "hc_labels",
    "START_FAILURES",
    "AllStartsFailed",
    "PairedValidation",
    "failure_reason",
    "validation_gain_is_significant",
    "SEEDINGS",
    "SharedValues",
    "SERIAL",
    "BestScore",
    "DaskBlocks",
    "DaskRows",
    "EMResult",
    "InitialAssignment",
    "LocalThreads",
    "MultiStartResult",
    "SelectionPolicy",
    "StartOutcome",
    "StepResult",
    "accumulate",
    "chunk_bounds",
    "em_step",
    "NO_RUNOFF",
    "Runoff",
    "fit_multistart",
    "initial_assignment",
    "initialize",
    "log_weights_from_stats",
    "one_blas_thread",
    "one_openmp_thread",
    "run_em",
    "shared_data_scale",
    "shared_value",
    "start_initializer",
    "total_weight",
]
