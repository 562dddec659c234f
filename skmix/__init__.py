"""skmix: finite mixture models fitted by EM, scikit-learn compatible."""

from ._base import InconsistentVersionWarning
from ._config import VERSION as __version__
from .coin import CoinMixture
from .composite import CompositeMixture
from .gaussian import GaussianMixtureEM
from .heterogeneous import HeterogeneousMixture
from .nig import NIGMixture

__all__ = [
    "CoinMixture",
    "CompositeMixture",
    "GaussianMixtureEM",
    "HeterogeneousMixture",
    "InconsistentVersionWarning",
    "NIGMixture",
    "__version__",
]
