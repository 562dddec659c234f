"""skmix: finite mixture models fitted by EM, scikit-learn compatible."""

from ._base import DegenerateFitWarning, FailedStartsWarning
from .coin import CoinMixture
from .composite import CompositeMixture
from .gaussian import GaussianMixtureEM
from .heterogeneous import HeterogeneousMixture
from .hierarchical import HierarchicalMixture
from .joint import JointMixture
from .nig import NIGMixture
from .selection import ModelSelection, select_model

__version__ = "0.1.0"

__all__ = [
    "CoinMixture",
    "CompositeMixture",
    "DegenerateFitWarning",
    "FailedStartsWarning",
    "GaussianMixtureEM",
    "HeterogeneousMixture",
    "HierarchicalMixture",
    "JointMixture",
    "ModelSelection",
    "NIGMixture",
    "__version__",
    "select_model",
]
