"""Image-quality metrics, computed with scikit-image.

The paper's conventions: PSNR over all pixels (the authors' tables) and over the
missing pixels only (what an imputer adds), SSIM over the whole image, and the
normalised mean absolute error on the missing pixels,
:math:`\\mathrm{NMAE} = \\sum_{\\bar\\Omega} |\\hat X - X| /
(|\\bar\\Omega| \\, (X_{\\max} - X_{\\min}))`.
"""

import numpy as np

__all__ = ["image_scores"]


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
