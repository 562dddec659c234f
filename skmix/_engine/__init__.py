"""The EM engine: one loop over additive statistics, chunks and multi-start."""

from .em import (
    CHUNK_SIZE,
    EMResult,
    accumulate,
    chunk_bounds,
    initialize,
    log_weights_from_stats,
    map_chunks,
    run_em,
    total_weight,
)
from .initialization import initial_responsibilities
from .multistart import MultiStartResult, fit_multistart

__all__ = [
    "CHUNK_SIZE",
    "EMResult",
    "MultiStartResult",
    "accumulate",
    "chunk_bounds",
    "fit_multistart",
    "initial_responsibilities",
    "initialize",
    "log_weights_from_stats",
    "map_chunks",
    "run_em",
    "total_weight",
]
