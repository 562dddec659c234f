"""skmix: finite mixture models fitted by EM, scikit-learn compatible."""

from ._base import (
    DegenerateFitWarning,
    FailedStartsWarning,
    InconsistentVersionWarning,
)
from ._config import VERSION as __version__
from .coin import CoinMixture
from .composite import CompositeMixture
from .gaussian import GaussianMixtureEM
from .heterogeneous import HeterogeneousMixture
from .hierarchical import HierarchicalMixture
from .joint import JointMixture
from .nig import NIGMixture
from .selection import ModelSelection, select_model

__all__ = [
    "CoinMixture",
    "CompositeMixture",
    "DegenerateFitWarning",
    "FailedStartsWarning",
    "GaussianMixtureEM",
    "HeterogeneousMixture",
    "HierarchicalMixture",
    "JointMixture",
    "InconsistentVersionWarning",
    "ModelSelection",
    "NIGMixture",
    "__version__",
    "select_model",
]
