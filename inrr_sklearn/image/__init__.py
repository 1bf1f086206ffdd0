"""Images: file I/O (:mod:`.io`) and quality metrics (:mod:`.metrics`).

Needs the ``demo`` extra (scikit-image). The estimators for images live with the
others: :class:`~inrr_sklearn.InpaintImputer` (classical inpainting) and the recipe
:func:`~inrr_sklearn.image_imputer`.
"""

from inrr_sklearn.image.io import load_image, read_image, write_image
from inrr_sklearn.image.metrics import image_scores

__all__ = ["image_scores", "load_image", "read_image", "write_image"]

# Names that lived here before the package was split, and where they are now.
_MOVED = {
    "image_imputer": "inrr_sklearn.image_imputer (inrr_sklearn.recipes)",
    "IMAGE_METHODS": "inrr_sklearn.recipes.IMAGE_METHODS",
    "BLEND_MODEL": "inrr_sklearn.recipes.BLEND_MODEL",
    "InpaintImputer": "inrr_sklearn.InpaintImputer",
    "classical_inpaint": "inrr_sklearn.classical_inpaint",
    "CLASSICAL_METHODS": "inrr_sklearn.CLASSICAL_METHODS",
}


def __getattr__(name):
    if name in _MOVED:
        raise AttributeError(
            f"inrr_sklearn.image.{name} has moved: use {_MOVED[name]}."
        )
    raise AttributeError(f"module 'inrr_sklearn.image' has no attribute {name!r}")
