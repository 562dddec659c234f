"""The EM engine: one loop over additive statistics, chunks and multi-start.

Modules: ``em`` (one EM run), ``multistart`` (plan, run, select, continue),
``parallel`` (running the starts), ``initialization`` and ``seeding`` (how
a start begins), ``executor`` (where an E-step's work runs) and ``threads``
(the threading machinery behind it).
"""

from .._config import CHUNK_SIZE
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
from .initialization import InitialAssignment, initial_assignment, initialize
from .multistart import (
    BestScore,
    MultiStartResult,
    SelectionPolicy,
    StartOutcome,
    fit_multistart,
)
from .seeding import SEEDINGS, start_initializer
from .threads import one_blas_thread

__all__ = [
    "CHUNK_SIZE",
    "SEEDINGS",
    "SERIAL",
    "BestScore",
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
    "fit_multistart",
    "initial_assignment",
    "initialize",
    "log_weights_from_stats",
    "one_blas_thread",
    "run_em",
    "start_initializer",
    "total_weight",
]
