"""Mixture families: stateless strategies over parameter NamedTuples.

:class:`MixtureFamily` is the contract between a family and the EM engine
(its module docstring lists every method, hook and equality in one place).
"""

from ._base import (
    CompiledRun,
    MixtureFamily,
    Prepared,
    Runner,
    add_stats,
    chunk_bounds,
    kernel_weights,
    one_hot,
    softmax_in_place,
)

__all__ = [
    "CompiledRun",
    "MixtureFamily",
    "Prepared",
    "Runner",
    "add_stats",
    "chunk_bounds",
    "kernel_weights",
    "one_hot",
    "softmax_in_place",
]
