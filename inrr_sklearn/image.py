"""Image helpers: loading sample and user images, and image-quality metrics.

Needs the ``demo`` extra (scikit-image). Metrics follow the paper's conventions: PSNR
over all pixels (the authors' tables) and over the missing pixels only (what an imputer
adds), SSIM over the whole image, and the normalised mean absolute error on the missing
pixels, :math:`\\mathrm{NMAE} = \\sum_{\\bar\\Omega} |\\hat X - X| /
(|\\bar\\Omega| \\, (X_{\\max} - X_{\\min}))`.
"""

import os
import warnings
from numbers import Integral

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted, validate_data

from inrr_sklearn._utils import Interval, StrOptions, _fit_context

__all__ = [
    "CLASSICAL_METHODS",
    "IMAGE_METHODS",
    "InpaintImputer",
    "classical_inpaint",
    "image_imputer",
    "image_scores",
    "load_image",
    "read_image",
    "write_image",
]


def load_image(name="camera", size=96):
    """A ``skimage.data`` image as grayscale in [0, 1], resized to ``size`` x ``size``.

    Parameters
    ----------
    name : str, default="camera"
        A ``skimage.data`` function name ("camera", "astronaut", "coins", "grass", ...).
    size : int or None, default=96
        Side of the square output; ``None`` keeps the original size.

    Returns
    -------
    image : ndarray of shape (size, size), float64 in [0, 1]

    Examples
    --------
    >>> from inrr_sklearn.image import load_image
    >>> image = load_image("camera", size=32)
    >>> image.shape, bool(0 <= image.min() and image.max() <= 1)
    ((32, 32), True)
    """
    from skimage import color, data, transform, util

    image = util.img_as_float(getattr(data, name)())
    if image.ndim == 3:
        image = color.rgb2gray(image[..., :3])
    if size is not None:
        image = transform.resize(image, (size, size), anti_aliasing=True)
    return image


def read_image(path, *, gray=False, return_dtype=False):
    """Read an image file into floats in [0, 1] (H x W, or H x W x 3 for colour).

    An alpha channel is dropped; ``gray=True`` converts colour to luminance. An
    integer sample ``v`` becomes ``v / max`` (``max`` = 255 in an 8-bit file, 65535 in
    a 16-bit one), which :func:`write_image` with the same ``dtype`` writes back as
    ``v``.

    Pillow, which scikit-image uses for PNG, reads 16-bit *colour* PNGs as 8-bit; such
    a file is read with OpenCV when it is installed (``opencv-python-headless``),
    otherwise it is read as 8-bit with a warning. 16-bit grayscale PNGs and 16-bit TIFFs
    need nothing more.

    Parameters
    ----------
    path : str or path-like
        Any format scikit-image reads (PNG, JPEG, TIFF, BMP...).
    gray : bool, default=False
        Convert a colour image to luminance.
    return_dtype : bool, default=False
        Also return the dtype of the samples as read from the file.

    Returns
    -------
    image : ndarray of shape (H, W) or (H, W, 3), float64 in [0, 1]
    dtype : numpy.dtype
        Only with ``return_dtype=True``: the file's sample type (``uint8``, ``uint16``,
        ``bool`` for 1-bit images, ``float32``...); pass ``uint16`` on to
        :func:`write_image` to keep 16-bit files 16-bit.

    Raises
    ------
    ValueError
        If the file cannot be read as an image (the one-line message names the file).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> import numpy as np
    >>> from inrr_sklearn.image import read_image, write_image
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "ramp.png"
    >>> write_image(path, np.linspace(0, 1, 12).reshape(3, 4), dtype=np.uint16)
    >>> image, dtype = read_image(path, return_dtype=True)
    >>> image.shape, dtype
    ((3, 4), dtype('uint16'))
    """
    from skimage import color, io, util

    if not os.path.exists(path):
        raise ValueError(f"cannot read {path!s}: no such file.")
    if os.path.isdir(path):
        raise ValueError(f"cannot read {path!s}: it is a folder, not an image file.")
    try:
        raw = np.asarray(io.imread(path))
    except Exception as exc:  # imageio raises many types; name the file in one error
        reason = next(iter(str(exc).strip().splitlines()), type(exc).__name__)
        raise ValueError(f"cannot read {path!s} as an image: {reason}") from exc
    header = _png_header(path)  # (bit depth, colour type), or None
    if raw.dtype != np.uint16 and header is not None and header[0] == 16:
        raw = _read_png16(path, raw, gray=header[1] in (0, 4))
    if raw.dtype.kind == "u":  # v / max in float64, so that write_image gives v back
        image = raw / np.iinfo(raw.dtype).max
    else:  # bool, signed integers, floats: scikit-image's conventions
        image = util.img_as_float(raw)
    if image.ndim == 3 and image.shape[2] in (2, 4):  # drop alpha
        image = image[..., :-1]
    if image.ndim == 3 and image.shape[2] == 1:
        image = image[..., 0]
    if image.ndim == 3 and gray:
        image = color.rgb2gray(image)
    if image.ndim not in (2, 3):
        raise ValueError(f"{path!s} has shape {image.shape}; expected an image.")
    return (image, raw.dtype) if return_dtype else image


def write_image(path, image, *, dtype=np.uint8):
    """Write a float image in [0, 1] (clipped) as an 8- or 16-bit file, by its suffix.

    Each value ``x`` is written as ``round(x * max)`` with ``max`` = 255 (``uint8``) or
    65535 (``uint16``): a value ``v / max`` read by :func:`read_image` from a file of
    the same depth is written back as exactly ``v``.

    Parameters
    ----------
    path : str or path-like
        Where to write; the suffix picks the format (``.png``, ``.jpg``, ``.tif``,
        ``.bmp``...). 16-bit needs PNG or TIFF.
    image : array-like of shape (H, W) or (H, W, C)
        Values in [0, 1]; outside values are clipped.
    dtype : {numpy.uint8, numpy.uint16}, default=numpy.uint8
        Sample type of the file.

    Raises
    ------
    ValueError
        If ``dtype`` is not ``uint8`` or ``uint16``, if a 16-bit image is asked for in
        a format that holds only 8 bits (JPEG, BMP), or if ``image`` has NaN or
        infinite values.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> import numpy as np
    >>> from inrr_sklearn.image import read_image, write_image
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "grey.png"
    >>> write_image(path, np.full((2, 2), 0.5))
    >>> read_image(path)[0, 0] * 255  # 0.5 * 255 rounds to 128
    np.float64(128.0)
    """
    from skimage import io

    dtype = np.dtype(dtype)
    if dtype not in (np.uint8, np.uint16):
        raise ValueError(f"dtype must be uint8 or uint16, got {dtype}.")
    suffix = os.path.splitext(os.fspath(path))[1].lower()
    if dtype == np.uint16 and suffix in (".jpg", ".jpeg", ".bmp"):
        raise ValueError(
            f"cannot write {path!s} as 16-bit: {suffix[1:].upper()} holds 8 bits per "
            "channel; use .png or .tif."
        )
    image = np.asarray(image, dtype=np.float64)
    if not np.all(np.isfinite(image)):
        raise ValueError(
            f"cannot write {path!s}: the image has NaN or infinite values."
        )
    data = np.rint(np.clip(image, 0.0, 1.0) * np.iinfo(dtype).max).astype(dtype)
    if dtype == np.uint16 and suffix == ".png" and data.ndim == 3:
        _write_png16(path, data)  # Pillow writes 16-bit PNGs in grayscale only
    else:
        io.imsave(path, data, check_contrast=False)


_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _png_header(path):
    """(bit depth, colour type) from a PNG file's header; None if not a PNG."""
    try:
        with open(path, "rb") as file:
            head = file.read(26)
    except OSError:
        return None
    if len(head) < 26 or head[:8] != _PNG_SIGNATURE or head[12:16] != b"IHDR":
        return None
    return head[24], head[25]


def _read_png16(path, fallback, *, gray=False):
    """A 16-bit colour PNG with its 16 bits (OpenCV), or ``fallback`` with a warning."""
    try:
        import cv2

        data = cv2.imdecode(np.fromfile(path, dtype=np.uint8), cv2.IMREAD_UNCHANGED)
    except ImportError:
        data = None
    if data is None or data.dtype != np.uint16:
        warnings.warn(
            f"{path!s} is a 16-bit colour PNG, which Pillow reads as 8-bit: install "
            "opencv-python-headless to keep its 16 bits, or convert it to 16-bit TIFF.",
            UserWarning,
            stacklevel=3,
        )
        return fallback
    if data.ndim == 3 and gray:  # OpenCV expands gray + alpha to BGRA
        data = data[..., [0, 3]]
    elif data.ndim == 3:  # OpenCV orders colours BGR(A)
        data = data[..., [2, 1, 0, 3][: data.shape[2]]]
    return data


def _write_png16(path, data):
    """Write ``uint16`` colour data (H, W, 3 or 4) as a 16-bit PNG with OpenCV."""
    try:
        import cv2
    except ImportError:
        raise ValueError(
            f"cannot write {path!s} as a 16-bit colour PNG: Pillow writes 16-bit PNGs "
            "in grayscale only; install opencv-python-headless (in the [demo] extra) "
            "or write a .tif."
        ) from None
    bgr = data[..., [2, 1, 0, 3][: data.shape[2]]]  # OpenCV orders colours BGR(A)
    if not cv2.imwrite(os.fspath(path), np.ascontiguousarray(bgr)):
        raise ValueError(f"OpenCV could not write {path!s}.")


def image_scores(truth, completed, observed, *, data_range=1.0):
    """PSNR over all and over missing pixels, SSIM, NMAE on missing pixels.

    Works for any image of at least 1 x 1 pixel. SSIM uses scikit-image's 7 x 7
    window, or the largest odd window that fits an image with a side under 7 pixels
    (5 x 5 for a 5 x 5 or 6 x 6 image, 3 x 3 for a 3 x 3 or 4 x 4 one); an image with
    a side under 3 pixels has no SSIM, reported as NaN. With no missing pixel the
    missing-pixel scores are NaN; a perfect completion has an infinite PSNR.

    Parameters
    ----------
    truth, completed : ndarray of shape (H, W) or (H, W, C)
    observed : ndarray of bool, same shape
        True where the pixel was given to the imputer.
    data_range : float, default=1.0
        Peak-to-peak range of the pixel values.

    Returns
    -------
    scores : dict
        ``psnr_all``, ``psnr_missing``, ``ssim``, ``nmae_missing`` (floats; see above
        for NaN and infinite values).

    Examples
    --------
    >>> import numpy as np
    >>> from inrr_sklearn.image import image_scores
    >>> truth = np.linspace(0, 1, 64).reshape(8, 8)
    >>> observed = np.ones((8, 8), dtype=bool)
    >>> observed[2:4, 2:4] = False
    >>> scores = image_scores(truth, truth + 0.01 * ~observed, observed)
    >>> round(scores["psnr_missing"], 1), round(scores["nmae_missing"], 3)
    (40.0, 0.01)
    """
    from skimage.metrics import peak_signal_noise_ratio, structural_similarity

    truth = np.asarray(truth, dtype=np.float64)
    completed = np.asarray(completed, dtype=np.float64)
    missing = ~np.broadcast_to(np.asarray(observed, dtype=bool), truth.shape)

    def psnr(true, test):
        if true.size == 0:
            return float("nan")
        with np.errstate(divide="ignore"):  # identical: inf, not a warning
            return float(peak_signal_noise_ratio(true, test, data_range=data_range))

    side = min(truth.shape[:2])
    win_size = min(7, side if side % 2 else side - 1)
    ssim = float("nan")
    if win_size >= 3:
        ssim = float(
            structural_similarity(
                truth,
                completed,
                data_range=data_range,
                channel_axis=2 if truth.ndim == 3 else None,
                win_size=win_size,
            )
        )
    nmae = float("nan")
    if missing.any():
        nmae = float(np.abs(completed[missing] - truth[missing]).mean() / data_range)
    return {
        "psnr_all": psnr(truth, completed),
        "psnr_missing": psnr(truth[missing], completed[missing]),
        "ssim": ssim,
        "nmae_missing": nmae,
    }


IMAGE_METHODS = (
    "inr",
    "inr+l2",
    "inr+tv",
    "inr+air",
    "inr+inrr",
    "dmf",
    "dmf+air",
    "dmf+inrr",
)


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
    >>> from inrr_sklearn.image import classical_inpaint
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


class InpaintImputer(TransformerMixin, BaseEstimator):
    """A classical inpainting method behind the imputer API (NaN = missing).

    Wraps :func:`classical_inpaint` so that scikit-image's biharmonic or OpenCV's
    Telea / Navier-Stokes inpainting can stand in a :class:`~inrr_sklearn.BlendImputer`
    or a pipeline beside the library's models. Nothing is learned: ``transform``
    inpaints the matrix it is given, after mapping its observed values onto [0, 1]
    with their minimum and maximum (and back).

    Parameters
    ----------
    method : {"biharmonic", "telea", "ns"}, default="biharmonic"
        See :func:`classical_inpaint`.
    radius : int, default=3
        OpenCV's inpainting radius in pixels.
    n_channels : int, default=1
        Channels interleaved in the columns (``image.reshape(H, W * C)``).

    Attributes
    ----------
    n_features_in_ : int
        Number of columns seen in ``fit``.

    Examples
    --------
    >>> import numpy as np
    >>> from inrr_sklearn.image import InpaintImputer
    >>> image = np.tile(np.linspace(0, 10, 16), (16, 1))
    >>> image[5:9, 5:9] = np.nan
    >>> filled = InpaintImputer("biharmonic").fit_transform(image)
    >>> bool(np.abs(filled[5:9, 5:9] - np.linspace(0, 10, 16)[5:9]).max() < 0.1)
    True
    """

    _parameter_constraints: dict = {
        "method": [StrOptions(set(CLASSICAL_METHODS))],
        "radius": [Interval(Integral, 1, None, closed="left")],
        "n_channels": [Interval(Integral, 1, None, closed="left")],
    }

    def __init__(self, method="biharmonic", *, radius=3, n_channels=1):
        self.method = method
        self.radius = radius
        self.n_channels = n_channels

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Check X (nothing is learned).

        Parameters
        ----------
        X : array-like of shape (n_rows, n_cols)
            The image, NaN where missing.
        y : Ignored
            Not used, present here for API consistency by convention.

        Returns
        -------
        self : object
            Fitted estimator.
        """
        X = validate_data(self, X, dtype=np.float64, ensure_all_finite="allow-nan")
        if X.shape[1] % self.n_channels:
            raise ValueError(
                f"X has {X.shape[1]} columns, not a multiple of n_channels="
                f"{self.n_channels}."
            )
        return self

    def transform(self, X):
        """Inpaint the NaN entries of X.

        Parameters
        ----------
        X : array-like of shape (n_rows, n_cols)
            The image, NaN where missing.

        Returns
        -------
        X_completed : ndarray of shape (n_rows, n_cols)
        """
        check_is_fitted(self)
        X = validate_data(
            self, X, dtype=np.float64, ensure_all_finite="allow-nan", reset=False
        )
        observed = ~np.isnan(X)
        if not observed.any():
            raise ValueError(
                "X has no observed entry: there is nothing to inpaint from."
            )
        if observed.all():
            return X
        low, high = X[observed].min(), X[observed].max()
        span = high - low if high > low else 1.0
        shape = (X.shape[0], X.shape[1] // self.n_channels, self.n_channels)
        unit = ((X - low) / span).reshape(shape)
        pixel_observed = observed.reshape(shape).all(axis=2)
        completed = classical_inpaint(
            unit if self.n_channels > 1 else unit[..., 0],
            pixel_observed,
            self.method,
            radius=self.radius,
        )
        completed = low + span * completed.reshape(X.shape)
        return np.where(observed, X, completed)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        return tags


#: The INR inside ``image_imputer("blend")``.
BLEND_MODEL = "inr+tv"


def image_imputer(method="blend", *, n_channels=1, **params):
    """The library's imputer for an image, by method name.

    Parameters
    ----------
    method : str, default="blend"
        ``"blend"`` (the recommendation): a :class:`~inrr_sklearn.BlendImputer` of an
        INR (``BLEND_MODEL``, SIREN + TV, pulled toward the biharmonic fill inside
        holes at least 6 pixels deep: ``fill_prior="biharmonic"``, which took the
        patch masks from up to 4 dB below the biharmonic fill to ties with it) and
        the classical biharmonic fill (Telea,
        3 dB below it on every measured case, only added noise to the weights), with
        convex weights learned on held-out pixels shaped like the holes
        (``holdout="mask"``), then refitted on all pixels, the INR's completion
        averaged with that of its held-out fit; about twice the time of one INR
        fit. A classical peer alone: ``"biharmonic"``, ``"telea"`` or ``"ns"``
        (:class:`InpaintImputer`). Otherwise a model ("inr" =
        :class:`INRImputer`, "dmf" = :class:`DMFImputer`), then optionally "+" one or
        more regularizers ("l2", "tv", "air", "inrr"), each with its defaults;
        several are summed (e.g. "inr+inrr+tv"). ``IMAGE_METHODS`` lists the paper's
        eight. The models use the global min-max scaling of images.
    n_channels : int, default=1
        3 for an RGB image passed as ``image.reshape(H, W * 3)``.
    **params
        Any other parameter of the model (``max_iter``, ``random_state``,
        ``device``...); for ``"blend"``, of its INR (``random_state`` also seeds the
        held-out draw).

    Returns
    -------
    imputer : BlendImputer, InpaintImputer, INRImputer or DMFImputer

    Examples
    --------
    >>> from inrr_sklearn.image import image_imputer
    >>> image_imputer("inr+inrr+tv", max_iter=500)
    INRImputer(max_iter=500, reg=SumRegularizer(first=INRR(), second=TV()),
               scaling='global')
    >>> sorted(image_imputer("blend").get_params()["estimators"][i][0] for i in (0, 1))
    ['biharmonic', 'inr+tv']
    """
    if method in CLASSICAL_METHODS:
        return InpaintImputer(method, n_channels=n_channels, **params)
    if method == "blend":
        from inrr_sklearn import BlendImputer

        model_params = {"fill_prior": "biharmonic", **params}
        candidates = [
            (
                BLEND_MODEL,
                image_imputer(BLEND_MODEL, n_channels=n_channels, **model_params),
            ),
            ("biharmonic", InpaintImputer("biharmonic", n_channels=n_channels)),
        ]
        return BlendImputer(
            candidates,
            holdout="mask",
            n_splits=1,
            average_fits=[BLEND_MODEL],
            random_state=params.get("random_state"),
        )
    from inrr_sklearn import DMFImputer, INRImputer
    from inrr_sklearn.regularizers import make_regularizer

    model, _, reg_names = method.lower().partition("+")
    try:
        if model not in ("inr", "dmf") or (_ and not all(reg_names.split("+"))):
            raise ValueError(
                "a model ('inr' or 'dmf') optionally followed by '+' names"
            )
        reg = make_regularizer(reg_names) if reg_names else None
    except ValueError as exc:
        raise ValueError(
            f"unknown method {method!r} ({exc}): 'blend', a classical method "
            f"{CLASSICAL_METHODS}, or a model ('inr' or 'dmf') optionally followed by "
            f"'+' regularizers, e.g. one of {IMAGE_METHODS}."
        ) from None
    params = {"scaling": "global", **params}  # one scale for the whole image
    if model == "inr":
        return INRImputer(reg=reg, n_channels=n_channels, **params)
    return DMFImputer(reg=reg, n_channels=n_channels, **params)
