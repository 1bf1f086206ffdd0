"""inrr_sklearn: matrix completion with implicit neural representations, scikit-learn style.

Public API: :class:`INRImputer`, :class:`DMFImputer`, :class:`BlendImputer` (tables) and the regularizers :class:`INRR`, :class:`AIR`,
:class:`TV`, :class:`L2` (composable with ``+``). Modules: ``masks`` (missing patterns),
``model_selection`` (hold-out scoring), ``image`` (image IO, metrics, per-method
imputers), ``plotting`` (the paper's figures) and ``cli`` (the ``inrr-sklearn`` command).
"""

from inrr_sklearn._blend import BlendImputer
from inrr_sklearn._dmf import DMFImputer
from inrr_sklearn._inr import INRImputer
from inrr_sklearn._softimpute import SoftImputer
from inrr_sklearn._version import __version__
from inrr_sklearn.regularizers import AIR, INRR, L2, TV, BaseRegularizer, SumRegularizer

__all__ = [
    "AIR",
    "INRR",
    "L2",
    "TV",
    "BaseRegularizer",
    "BlendImputer",
    "DMFImputer",
    "INRImputer",
    "SoftImputer",
    "SumRegularizer",
    "__version__",
]
