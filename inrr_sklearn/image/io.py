"""Image files and sample images: read, write, load, as floats in [0, 1].

Needs the ``demo`` extra (scikit-image; OpenCV for 16-bit colour PNGs). Integer
samples ``v`` read as ``v / max`` and write back as ``v``; float TIFFs keep their
values (:func:`write_image` with ``dtype=numpy.float32``).
"""

import os
import warnings

import numpy as np

__all__ = ["FLOAT_SUFFIXES", "load_image", "read_image", "write_image"]

#: Suffixes of the formats that hold float samples (TIFF).
FLOAT_SUFFIXES = (".tif", ".tiff")


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
        if raw.dtype.kind in "iu" and raw.dtype.itemsize >= 2 and _fits_uint16(raw):
            raw = raw.astype(np.uint16)  # Pillow's 32-bit mode for 16-bit grey: exact
        else:
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


def _fits_uint16(raw):
    return raw.size == 0 or (raw.min() >= 0 and raw.max() <= np.iinfo(np.uint16).max)


def write_image(path, image, *, dtype=np.uint8):
    """Write a float image in [0, 1] (clipped) as an 8- or 16-bit file, by its suffix,
    or any float image as a float32 TIFF.

    Each value ``x`` is written as ``round(x * max)`` with ``max`` = 255 (``uint8``) or
    65535 (``uint16``): a value ``v / max`` read by :func:`read_image` from a file of
    the same depth is written back as exactly ``v``. With ``dtype=numpy.float32``
    (TIFF only) the values are written as they are, unclipped: a float TIFF read by
    :func:`read_image` is written back unchanged (to float32 precision).

    Parameters
    ----------
    path : str or path-like
        Where to write; the suffix picks the format (``.png``, ``.jpg``, ``.tif``,
        ``.bmp``...). 16-bit needs PNG or TIFF.
    image : array-like of shape (H, W) or (H, W, C)
        Values in [0, 1] for integer files (outside values are clipped); any finite
        values for a float TIFF.
    dtype : {numpy.uint8, numpy.uint16, numpy.float32}, default=numpy.uint8
        Sample type of the file.

    Raises
    ------
    ValueError
        If ``dtype`` is not one of those, if a 16-bit image is asked for in a format
        that holds only 8 bits (JPEG, BMP), a float image in another format than
        TIFF, or if ``image`` has NaN or infinite values.

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
    if dtype not in (np.uint8, np.uint16, np.float32):
        raise ValueError(f"dtype must be uint8, uint16 or float32, got {dtype}.")
    suffix = os.path.splitext(os.fspath(path))[1].lower()
    if dtype == np.float32 and suffix not in FLOAT_SUFFIXES:
        raise ValueError(
            f"cannot write {path!s} with float samples: only TIFF holds them; use .tif."
        )
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
    if dtype == np.float32:
        io.imsave(path, image.astype(np.float32), check_contrast=False)
        return
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
