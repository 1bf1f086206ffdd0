"""Image helpers: loading sample and user images, and image-quality metrics.

Needs the ``demo`` extra (scikit-image). Metrics follow the paper's conventions: PSNR
over all pixels (the authors' tables) and over the missing pixels only (what an imputer
adds), SSIM over the whole image, and the normalised mean absolute error on the missing
pixels, :math:`\\mathrm{NMAE} = \\sum_{\\bar\\Omega} |\\hat X - X| /
(|\\bar\\Omega| \\, (X_{\\max} - X_{\\min}))`.
"""

import numpy as np

__all__ = [
    "IMAGE_METHODS",
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
    """
    from skimage import color, data, transform, util

    image = util.img_as_float(getattr(data, name)())
    if image.ndim == 3:
        image = color.rgb2gray(image[..., :3])
    if size is not None:
        image = transform.resize(image, (size, size), anti_aliasing=True)
    return image


def read_image(path, *, gray=False):
    """Read an image file into floats in [0, 1] (H x W, or H x W x 3 for colour).

    An alpha channel is dropped; ``gray=True`` converts colour to luminance.

    Raises
    ------
    ValueError
        If the file cannot be read as an image (the message names the file).
    """
    from skimage import color, io, util

    try:
        image = io.imread(path)
    except Exception as exc:  # imageio raises many types; name the file in one error
        raise ValueError(f"cannot read {path!s} as an image: {exc}") from exc
    image = util.img_as_float(np.asarray(image))
    if image.ndim == 3 and image.shape[2] in (2, 4):  # drop alpha
        image = image[..., :-1]
    if image.ndim == 3 and image.shape[2] == 1:
        image = image[..., 0]
    if image.ndim == 3 and gray:
        image = color.rgb2gray(image)
    if image.ndim not in (2, 3):
        raise ValueError(f"{path!s} has shape {image.shape}; expected an image.")
    return image


def write_image(path, image):
    """Write a float image in [0, 1] (clipped) as 8-bit PNG/JPEG/... by its suffix."""
    from skimage import io, util

    io.imsave(path, util.img_as_ubyte(np.clip(image, 0.0, 1.0)), check_contrast=False)


def image_scores(truth, completed, observed, *, data_range=1.0):
    """PSNR over all and over missing pixels, SSIM, NMAE on missing pixels.

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
        ``psnr_all``, ``psnr_missing``, ``ssim``, ``nmae_missing``.
    """
    from skimage.metrics import peak_signal_noise_ratio, structural_similarity

    missing = ~np.asarray(observed, dtype=bool)
    channel_axis = 2 if truth.ndim == 3 else None
    return {
        "psnr_all": peak_signal_noise_ratio(truth, completed, data_range=data_range),
        "psnr_missing": peak_signal_noise_ratio(
            truth[missing], completed[missing], data_range=data_range
        ),
        "ssim": structural_similarity(
            truth, completed, data_range=data_range, channel_axis=channel_axis
        ),
        "nmae_missing": float(
            np.abs(completed[missing] - truth[missing]).mean() / data_range
        ),
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


def image_imputer(method="inr+inrr", *, n_channels=1, **params):
    """The library's default imputer for an image, by method name.

    Parameters
    ----------
    method : str, default="inr+inrr"
        A model ("inr" = :class:`INRImputer`, "dmf" = :class:`DMFImputer`), then
        optionally "+" one or more regularizers ("l2", "tv", "air", "inrr"), each with
        its defaults; several are summed (e.g. "inr+inrr+tv"). ``IMAGE_METHODS`` lists
        the paper's eight. DMF uses the global min-max scaling of images.
    n_channels : int, default=1
        3 for an RGB image passed as ``image.reshape(H, W * 3)``.
    **params
        Any other estimator parameter (``max_iter``, ``random_state``, ``device``...).

    Returns
    -------
    imputer : INRImputer or DMFImputer
    """
    from inrr_sklearn import AIR, INRR, L2, TV, DMFImputer, INRImputer

    regs = {"l2": L2, "tv": TV, "air": AIR, "inrr": INRR}
    model, *reg_names = method.lower().split("+")
    if model not in ("inr", "dmf") or not set(reg_names) <= set(regs):
        raise ValueError(
            f"unknown method {method!r}: a model ('inr' or 'dmf') optionally followed "
            f"by '+' regularizers from {sorted(regs)}, e.g. one of {IMAGE_METHODS}."
        )
    reg = (
        sum((regs[name]() for name in reg_names[1:]), regs[reg_names[0]]())
        if reg_names
        else None
    )
    if model == "inr":
        return INRImputer(reg=reg, n_channels=n_channels, **params)
    return DMFImputer(reg=reg, n_channels=n_channels, scaling="global", **params)
