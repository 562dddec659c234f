"""Mixture families: stateless strategies over parameter NamedTuples."""

from ._base import MixtureFamily, add_stats

__all__ = ["MixtureFamily", "add_stats"]
