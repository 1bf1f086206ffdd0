"""inrr_sklearn: matrix completion with implicit neural representations, scikit-learn style.

Public API (``__all__``): the imputers :class:`INRImputer`, :class:`DMFImputer`,
:class:`BlendImputer` (the recommendation for tables), :class:`SoftImputer` and
:class:`InpaintImputer` (classical inpainting); the regularizers :class:`INRR`,
:class:`AIR`, :class:`TV`, :class:`L2` (composable with ``+``); the image recipe
:func:`image_imputer` and :func:`classical_inpaint`. Modules: ``masks`` (missing
patterns), ``model_selection`` (the held-out splitter and scorers), ``image`` (image
I/O and metrics), ``nn`` (the torch modules), ``training`` (the training loop),
``exceptions``, ``plotting`` (the paper's figures) and ``cli`` (the ``inrr-sklearn``
command).

Layers, each importing only from its own and those before it (checked by
``tests/test_layout.py``): the helpers (``_version``, ``_utils``, ``exceptions``,
``_validation``, ``_scaling``, ``nn``, ``model_selection``, ``masks``, ``image``);
``training``; ``regularizers``; the estimators (``_base``, ``_torch_base`` and one
module per imputer); ``recipes``; ``cli``, ``demo``, ``plotting`` and this root.
"""

from inrr_sklearn._blend import BlendImputer
from inrr_sklearn._dmf import DMFImputer
from inrr_sklearn._inpaint import CLASSICAL_METHODS, InpaintImputer, classical_inpaint
from inrr_sklearn._inr import INRImputer
from inrr_sklearn._softimpute import SoftImputer
from inrr_sklearn._version import __version__
from inrr_sklearn.recipes import image_imputer
from inrr_sklearn.regularizers import AIR, INRR, L2, TV, BaseRegularizer, SumRegularizer

__all__ = [
    "AIR",
    "CLASSICAL_METHODS",
    "INRR",
    "L2",
    "TV",
    "BaseRegularizer",
    "BlendImputer",
    "DMFImputer",
    "INRImputer",
    "InpaintImputer",
    "SoftImputer",
    "SumRegularizer",
    "__version__",
    "classical_inpaint",
    "image_imputer",
]
