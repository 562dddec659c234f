"""skmix: finite mixture models fitted by EM, scikit-learn compatible."""

from .coin import CoinMixture
from .composite import CompositeMixture
from .gaussian import GaussianMixtureEM
from .heterogeneous import HeterogeneousMixture
from .hierarchical import HierarchicalMixture
from .joint import JointMixture
from .nig import NIGMixture

__version__ = "0.1.0"

__all__ = [
    "CoinMixture",
    "CompositeMixture",
    "GaussianMixtureEM",
    "HeterogeneousMixture",
    "HierarchicalMixture",
    "JointMixture",
    "NIGMixture",
    "__version__",
]
