"""``InpaintImputer``: classical inpainting (biharmonic, Telea, Navier-Stokes) as an
imputer, and :func:`classical_inpaint`, the one-line call a user would make instead
of this library (the peers of the image benchmarks).
"""

from numbers import Integral

import numpy as np

from inrr_sklearn._base import _BaseImputer, document_contract
from inrr_sklearn._utils import Interval, StrOptions
from inrr_sklearn._validation import pixel_shape

__all__ = ["CLASSICAL_METHODS", "InpaintImputer", "classical_inpaint"]

#: The classical inpainting peers of :func:`classical_inpaint`.
CLASSICAL_METHODS = ("biharmonic", "telea", "ns")


def classical_inpaint(image, observed, method="biharmonic", *, radius=3):
    """Fill the missing pixels with a classical inpainting method (a peer, not ours).

    What a user would call instead of this library, in one line: scikit-image's
    biharmonic inpainting or OpenCV's Telea / Navier-Stokes inpainting. Observed pixels
    are returned unchanged.

    Parameters
    ----------
    image : ndarray of shape (H, W) or (H, W, C)
        Values in [0, 1]; missing pixels may hold anything (NaN included). OpenCV's
        methods work on 16-bit planes (values quantised to 1/65535).
    observed : ndarray of bool, shape (H, W)
        True where the pixel is known (the library's convention; these methods'
        own masks mark the holes, ``~observed``).
    method : {"biharmonic", "telea", "ns"}, default="biharmonic"
        ``skimage.restoration.inpaint_biharmonic``, or ``cv2.inpaint`` with
        ``INPAINT_TELEA`` / ``INPAINT_NS`` (OpenCV, in the ``[demo]`` extra).
    radius : int, default=3
        OpenCV's inpainting radius in pixels.

    Returns
    -------
    completed : ndarray of image's shape, float64

    Examples
    --------
    >>> import numpy as np
    >>> from inrr_sklearn import classical_inpaint
    >>> image = np.tile(np.linspace(0, 1, 16), (16, 1))
    >>> observed = np.ones((16, 16), dtype=bool)
    >>> observed[5:9, 5:9] = False
    >>> filled = classical_inpaint(image, observed, "biharmonic")
    >>> bool(np.abs(filled - image).max() < 0.01)
    True
    """
    image = np.asarray(image, dtype=np.float64)
    observed = np.asarray(observed, dtype=bool)
    holes = ~observed
    filled = np.where(observed if image.ndim == 2 else observed[..., None], image, 0.0)
    if method == "biharmonic":
        from skimage.restoration import inpaint_biharmonic

        channel_axis = -1 if image.ndim == 3 else None
        completed = inpaint_biharmonic(filled, holes, channel_axis=channel_axis)
    elif method in ("telea", "ns"):
        import cv2

        flag = cv2.INPAINT_TELEA if method == "telea" else cv2.INPAINT_NS
        hole_mask = holes.astype(np.uint8)
        # 16-bit single-channel planes: Telea mishandles float input, and colour
        # images are inpainted in 8 bits only; one plane per channel keeps 16 bits.
        planes = filled[..., None] if image.ndim == 2 else filled
        scale = np.iinfo(np.uint16).max
        completed = np.stack(
            [
                cv2.inpaint(
                    np.rint(np.clip(planes[..., c], 0, 1) * scale).astype(np.uint16),
                    hole_mask,
                    radius,
                    flag,
                )
                / scale
                for c in range(planes.shape[2])
            ],
            axis=-1,
        ).reshape(image.shape)
    else:
        raise ValueError(
            f"unknown classical method {method!r}: use one of {CLASSICAL_METHODS}."
        )
    keep = (
        observed
        if image.ndim == 2
        else np.broadcast_to(observed[..., None], image.shape)
    )
    return np.where(keep, image, completed)


@document_contract
class InpaintImputer(_BaseImputer):
    """A classical inpainting method behind the imputer API.

    Wraps :func:`classical_inpaint` so that scikit-image's biharmonic or OpenCV's
    Telea / Navier-Stokes inpainting can stand in a :class:`~inrr_sklearn.BlendImputer`
    or a pipeline beside the library's models, or pull an INR inside wide holes
    (``INRImputer(fill_prior=InpaintImputer())``). Nothing is learned: each matrix
    is inpainted from its own observed entries, after mapping them onto [0, 1] with
    their minimum and maximum (and back). Needs the ``[demo]`` extra.

    Parameters
    ----------
    method : {"biharmonic", "telea", "ns"}, default="biharmonic"
        See :func:`classical_inpaint`.
    radius : int, default=3
        OpenCV's inpainting radius in pixels.
    n_channels : int, default=1
        Channels interleaved in the columns (``image.reshape(H, W * C)``); a pixel
        counts as observed when all its channels are.
    {contract parameters}

    Attributes
    ----------
    n_features_in_ : int
        Number of columns seen in ``fit``.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Column names seen in ``fit`` (only for inputs with string column names).
    indicator_ : sklearn.impute.MissingIndicator or None
        The fitted indicator (None without ``add_indicator``).

    Notes
    -----
    ``keep_empty_features`` defaults to True here: the columns of an image are
    positions, and an all-missing one is a hole to fill. A matrix with no observed
    entry cannot be inpainted and is refused (in ``fit`` and ``transform``).

    Examples
    --------
    >>> import numpy as np
    >>> from inrr_sklearn import InpaintImputer
    >>> image = np.tile(np.linspace(0, 10, 16), (16, 1))
    >>> image[5:9, 5:9] = np.nan
    >>> filled = InpaintImputer("biharmonic").fit_transform(image)
    >>> bool(np.abs(filled[5:9, 5:9] - np.linspace(0, 10, 16)[5:9]).max() < 0.1)
    True
    """

    _parameter_constraints: dict = {
        **_BaseImputer._parameter_constraints,
        "method": [StrOptions(set(CLASSICAL_METHODS))],
        "radius": [Interval(Integral, 1, None, closed="left")],
        "n_channels": [Interval(Integral, 1, None, closed="left")],
    }

    def __init__(
        self,
        method="biharmonic",
        *,
        radius=3,
        n_channels=1,
        missing_values=np.nan,
        add_indicator=False,
        keep_empty_features=True,
    ):
        super().__init__(
            missing_values=missing_values,
            add_indicator=add_indicator,
            keep_empty_features=keep_empty_features,
        )
        self.method = method
        self.radius = radius
        self.n_channels = n_channels

    def _fit_completion(self, X, observed):
        pixel_shape(X, self.n_channels)
        return self._complete_new(X, observed)

    def _complete_new(self, X, observed):
        if not observed.any():
            raise ValueError(
                "X has no observed entry: there is nothing to inpaint from."
            )
        values = X[observed].astype(np.float64)
        low, high = values.min(), values.max()
        span = high - low if high > low else 1.0
        shape = pixel_shape(X, self.n_channels)
        unit = ((np.where(observed, X, low) - low) / span).reshape(shape)
        pixel_observed = observed.reshape(shape).all(axis=2)
        completed = classical_inpaint(
            unit if self.n_channels > 1 else unit[..., 0],
            pixel_observed,
            self.method,
            radius=self.radius,
        )
        return low + span * completed.reshape(X.shape)
