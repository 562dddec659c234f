"""Mixture families: stateless strategies over parameter NamedTuples."""

from .._kernels.rows import softmax_rows
from ._base import MixtureFamily, add_stats

__all__ = ["MixtureFamily", "add_stats", "softmax_rows"]
