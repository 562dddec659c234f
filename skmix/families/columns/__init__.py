"""Column families of composite mixtures, one small module each.

``get_column_family`` turns a name (``'gaussian'``, ``'poisson'``, ...) or a
family object into a family object. To add a family, write a module with a
:class:`ColumnFamily` subclass (and its kernels) and register it in
``COLUMN_FAMILIES``.
"""

from ._base import ColumnFamily
from .bernoulli import Bernoulli
from .binomial import Binomial
from .categorical import Categorical
from .exponential import Exponential
from .gamma import Gamma
from .gaussian import Gaussian
from .geometric import Geometric
from .lognormal import LogNormal
from .poisson import Poisson

COLUMN_FAMILIES = {
    family.name: family
    for family in (
        Gaussian,
        LogNormal,
        Exponential,
        Gamma,
        Poisson,
        Geometric,
        Binomial,
        Bernoulli,
        Categorical,
    )
}


def get_column_family(spec, column=None) -> ColumnFamily:
    """A column family object from a name or a family object."""
    if isinstance(spec, ColumnFamily):
        return spec
    if isinstance(spec, str) and spec in COLUMN_FAMILIES:
        return COLUMN_FAMILIES[spec]()
    where = "" if column is None else f" for column {column!r}"
    raise ValueError(
        f"Unknown column family {spec!r}{where}. Use one of "
        f"{sorted(COLUMN_FAMILIES)} or a family object such as "
        "skmix.families.columns.Binomial(n_trials=10)."
    )


__all__ = [
    "COLUMN_FAMILIES",
    "Bernoulli",
    "Binomial",
    "Categorical",
    "ColumnFamily",
    "Exponential",
    "Gamma",
    "Gaussian",
    "Geometric",
    "LogNormal",
    "Poisson",
    "get_column_family",
]
