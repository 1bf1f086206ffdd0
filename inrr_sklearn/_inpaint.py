"""``InpaintImputer``: classical inpainting (biharmonic, Telea, Navier-Stokes) as an
imputer, optionally corrected by a model learned from the image itself, and
:func:`classical_inpaint`, the one-line call a user would make instead of this
library (the peers of the image benchmarks).
"""

from numbers import Integral

import numpy as np
from joblib import Parallel, delayed
from numpy.lib.stride_tricks import sliding_window_view
from scipy import ndimage
from sklearn.utils import check_random_state

from inrr_sklearn._base import _BaseImputer, document_contract
from inrr_sklearn._utils import N_JOBS_CONSTRAINT, Interval, StrOptions
from inrr_sklearn._validation import pixel_shape
from inrr_sklearn.model_selection import split_observed

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


#: Half-width of the neighbourhood the correction reads (7 x 7 pixels).
_HALF_WINDOW = 3
#: Held-out sets of the correction: drawn 9 at a time (disjoint, 10 % of the observed
#: pixels each), at most 27, fewer once they hold this many pixels.
_SET_FRACTION, _SETS_PER_DRAW = 0.1, 9
_MAX_SETS, _TARGET_PIXELS = 27, 50_000
#: Below this many held-out pixels the fill is not corrected (too few to learn from).
_MIN_PIXELS = 1_000
#: Missing pixels corrected per chunk (features and tree predictions in cache).
_PREDICT_PIXELS = 8_192
#: A classical method other than the first (biharmonic) is chosen only when its
#: held-out error is at least this fraction below the first's (``docs/refined_base.md``).
_SWITCH_MARGIN = 0.05
#: The correction's ``HistGradientBoostingRegressor`` (its other settings are
#: scikit-learn's defaults; cheaper ones are measured in ``docs/refined_trees.md``).
_TREE_PARAMS = {"max_iter": 200, "learning_rate": 0.05}


def _feature_maps(fill, observed):
    """What the features of :func:`_neighbourhood_features` read, computed once per
    fill: the planes of ``fill`` (H, W, C) and ``observed`` padded by reflection, and
    the distance of every pixel to the nearest observed one."""
    pad = _HALF_WINDOW
    return (
        np.pad(fill, ((pad, pad), (pad, pad), (0, 0)), mode="reflect"),
        np.pad(observed, pad, mode="reflect"),
        ndimage.distance_transform_edt(~observed),
    )


def _neighbourhood_features(maps, rows, cols):
    """Features of pixels ``(rows, cols)`` of each plane of the fill behind ``maps``
    (from :func:`_feature_maps`): the fill there, the fill of the 7 x 7
    neighbourhood minus it (alone and where observed), the distance to the nearest
    observed pixel; planes stacked in rows."""
    padded_fill, padded_observed, distance = maps
    width = 2 * _HALF_WINDOW + 1
    n_window = width * width
    known = sliding_window_view(padded_observed, (width, width))[rows, cols]
    known = known.reshape(rows.size, n_window)
    n_channels = padded_fill.shape[2]
    features = np.empty((n_channels, rows.size, 2 * n_window + 2))
    for c in range(n_channels):
        plane = padded_fill[..., c]
        centre = plane[rows + _HALF_WINDOW, cols + _HALF_WINDOW]
        values = sliding_window_view(plane, (width, width))[rows, cols]
        offsets = features[c, :, 1 : n_window + 1]
        np.subtract(values.reshape(rows.size, n_window), centre[:, None], out=offsets)
        np.multiply(offsets, known, out=features[c, :, n_window + 1 : -1])
        features[c, :, 0] = centre
        features[c, :, -1] = distance[rows, cols]
    return features.reshape(n_channels * rows.size, 2 * n_window + 2)


def _within_reach(observed):
    """Pixels whose 7 x 7 neighbourhood holds an observed pixel (the correction
    reads the fill there; deeper inside wide holes it is left alone)."""
    return (
        ndimage.distance_transform_cdt(~observed, metric="chessboard") <= _HALF_WINDOW
    )


def _n_sets(observed, n_channels, n_values):
    """How many held-out sets (10 % of the observed pixels each) hold ``n_values``
    values (all channels), at most 27."""
    n_hide = round(_SET_FRACTION * observed.sum())
    return min(_MAX_SETS, -(-n_values // max(n_hide * n_channels, 1)))


def _heldout_sets(observed, n_channels, rng, n_sets=None):
    """Sets of observed pixels shaped like the holes, to inpaint without them: 10 %
    of the observed pixels each, 9 disjoint sets a draw, ``n_sets`` of them (by
    default as many as hold 50,000 values, all channels, at most 27)."""
    if n_sets is None:
        n_sets = _n_sets(observed, n_channels, _TARGET_PIXELS)
    hidden_sets = []
    while len(hidden_sets) < n_sets:
        draw = split_observed(
            observed,
            _SET_FRACTION,
            n_splits=min(_SETS_PER_DRAW, n_sets - len(hidden_sets)),
            holdout="mask",
            random_state=rng,
        )
        if not draw:
            break
        hidden_sets += draw
    return hidden_sets


def _enough_heldout(hidden_sets, n_channels):
    """Whether the held-out sets hold enough values to judge or learn from."""
    return sum(int(h.sum()) for h in hidden_sets) * n_channels >= _MIN_PIXELS


def _heldout_errors(image, observed, hidden_sets, methods, radius, n_jobs=None):
    """Each method's fills of ``hidden_sets`` (each set inpainted without its
    pixels) and their summed squared errors there: an array (method, set). The
    fills run in ``n_jobs`` threads (scikit-image's sparse solve and OpenCV release
    the GIL for most of a fill)."""
    flat_fills = Parallel(n_jobs=n_jobs, require="sharedmem")(
        delayed(classical_inpaint)(image, observed & ~hidden, method, radius=radius)
        for method in methods
        for hidden in hidden_sets
    )
    n_sets = len(hidden_sets)
    fills = [flat_fills[m * n_sets : (m + 1) * n_sets] for m in range(len(methods))]
    errors = np.array(
        [
            [
                float(np.square(image - fill)[hidden].sum())
                for fill, hidden in zip(method_fills, hidden_sets, strict=True)
            ]
            for method_fills in fills
        ]
    )
    return errors, fills


def _chosen_index(errors, margin=_SWITCH_MARGIN):
    """Index of the method chosen from held-out ``errors`` (method, set): the first
    (the default) unless another's summed error is below ``1 - margin`` times the
    first's; then the one with the smallest sum (ties to the earlier)."""
    totals = errors.sum(axis=1)
    best = int(np.argmin(totals))
    return best if totals[best] < (1.0 - margin) * totals[0] else 0


def _best_method(image, observed, hidden_sets, methods, radius, n_jobs=None):
    """The method of ``methods`` chosen on its fills of ``hidden_sets`` (see
    :func:`_chosen_index`), and those fills (made in ``n_jobs`` threads)."""
    errors, fills = _heldout_errors(
        image, observed, hidden_sets, methods, radius, n_jobs
    )
    best = _chosen_index(errors)
    return methods[best], fills[best]


def _training_data(image, observed, hidden_sets, hidden_fills):
    """What the correction's trees learn from: at each held-out pixel whose 7 x 7
    window holds a kept observed pixel, the features of its set's fill (rows, all
    channels stacked) and the fill's error there."""
    features, targets = [], []
    for hidden, hidden_fill in zip(hidden_sets, hidden_fills, strict=True):
        kept = observed & ~hidden
        set_rows, set_cols = np.nonzero(hidden & _within_reach(kept))
        maps = _feature_maps(hidden_fill, kept)
        features.append(_neighbourhood_features(maps, set_rows, set_cols))
        targets.append((image - hidden_fill)[set_rows, set_cols].T.ravel())
    return np.concatenate(features), np.concatenate(targets)


def _classical_fill(image, observed, methods, radius, random_state, n_jobs=None):
    """``classical_inpaint`` with the one of ``methods`` that fills held-out sets
    shaped like the holes best (from :func:`_heldout_sets`; the first method when
    there is one, or too few held-out pixels to judge); returns the fill and the
    method."""
    if len(methods) > 1:
        rng = check_random_state(random_state)
        hidden_sets = _heldout_sets(observed, image.shape[2], rng)
        if _enough_heldout(hidden_sets, image.shape[2]):
            methods = [
                _best_method(image, observed, hidden_sets, methods, radius, n_jobs)[0]
            ]
    planes = image if image.shape[2] > 1 else image[..., 0]
    fill = classical_inpaint(planes, observed, methods[0], radius=radius)
    return fill.reshape(image.shape), methods[0]


def _corrected_fill(image, observed, methods, radius, random_state, n_jobs=None):
    """``classical_inpaint`` plus a correction learned on hidden observed pixels;
    returns the completion and the classical method under it.

    ``image`` is (H, W, C) in [0, 1], ``observed`` (H, W). Observed pixels are hidden
    in sets shaped like the holes; each set is inpainted without them by each of
    ``methods``, and the method with the smallest error there is kept.
    Gradient-boosted trees learn its fill's error at those pixels from the fill's
    neighbourhood. The same trees then correct the fill of the real holes.
    """
    from sklearn.ensemble import HistGradientBoostingRegressor

    rng = check_random_state(random_state)
    rows, cols = np.nonzero(~observed & _within_reach(observed))
    hidden_sets = _heldout_sets(observed, image.shape[2], rng) if rows.size else []
    if not _enough_heldout(hidden_sets, image.shape[2]):
        # Nothing missing within reach of an observed pixel, or too few held-out
        # pixels to learn from: the first method's fill, uncorrected.
        return classical_inpaint(image, observed, methods[0], radius=radius), methods[0]
    method, hidden_fills = _best_method(
        image, observed, hidden_sets, methods, radius, n_jobs
    )
    model = HistGradientBoostingRegressor(
        **_TREE_PARAMS, random_state=rng.randint(2**31 - 1)
    ).fit(*_training_data(image, observed, hidden_sets, hidden_fills))
    # Features and predictions a chunk of pixels at a time: each tree then walks
    # rows still in cache (on all of a 1024 x 1024 colour image at once, the 200
    # trees re-read 1.2 GB of features each, and the predictions took 17 s of 48).
    fill = classical_inpaint(image, observed, method, radius=radius)
    maps = _feature_maps(fill, observed)
    correction = np.empty((image.shape[2], rows.size))
    for start in range(0, rows.size, _PREDICT_PIXELS):
        chunk = slice(start, start + _PREDICT_PIXELS)
        features = _neighbourhood_features(maps, rows[chunk], cols[chunk])
        correction[:, chunk] = model.predict(features).reshape(image.shape[2], -1)
    fill[rows, cols] = np.clip(fill[rows, cols] + correction.T, 0.0, 1.0)
    return fill, method


def _unit_pixels(X, observed, n_channels):
    """``X`` (H, W * C) as the pixels the fills work on: (H, W, C) mapped onto
    [0, 1] by its observed entries' minimum ``low`` and range ``span`` (missing
    entries at 0), the (H, W) mask of pixels with every channel observed, ``low``
    and ``span``."""
    values = X[observed].astype(np.float64)
    low, high = values.min(), values.max()
    span = high - low if high > low else 1.0
    shape = pixel_shape(X, n_channels)
    unit = ((np.where(observed, X, low) - low) / span).reshape(shape)
    return unit, observed.reshape(shape).all(axis=2), low, span


@document_contract
class InpaintImputer(_BaseImputer):
    """A classical inpainting method behind the imputer API.

    Wraps :func:`classical_inpaint` so that scikit-image's biharmonic or OpenCV's
    Telea / Navier-Stokes inpainting can stand in a :class:`~inrr_sklearn.BlendImputer`
    or a pipeline beside the library's models, or pull an INR inside wide holes
    (``INRImputer(fill_prior=InpaintImputer())``). Each matrix is inpainted from its
    own observed entries, after mapping them onto [0, 1] with their minimum and
    maximum (and back); ``fit`` stores nothing learned. Needs the ``[demo]`` extra.

    Parameters
    ----------
    method : {"biharmonic", "telea", "ns", "auto"}, default="biharmonic"
        See :func:`classical_inpaint`. ``"auto"`` inpaints sets of observed pixels
        hidden in the shape of the holes (see Notes) with each of the three and
        keeps biharmonic unless another's squared error there is at least 5 %
        smaller (then the smallest; ``method_``). On the two wide patches of 10
        images x 3 seeds at 128² that refined fill scored +0.16 dB over the
        refined biharmonic fill on average (+1.3 to +2.2 dB where it chose
        Navier-Stokes, -0.4 to -0.6 dB where it chose Telea on a scanned page); on
        thin holes it changed method only on that page, by at most 0.1 dB
        (``docs/refined_base.md``). Its held-out fills cost a fraction of a second
        at 128².
    refine : bool, default=False
        Correct the fill with a model learned from the same image (see Notes): on
        camera, astronaut and coins at 128² the corrected biharmonic fill scores
        0.3 to 2.7 dB more missing-pixel PSNR than the plain one under random, text
        and scribble masks (means over 3 seeds; -0.3 to +0.6 dB on two wide
        rectangular holes), in a few seconds instead of a fraction of one
        (``docs/inpainting_holdout.md``).
    radius : int, default=3
        OpenCV's inpainting radius in pixels.
    n_channels : int, default=1
        Channels interleaved in the columns (``image.reshape(H, W * C)``); a pixel
        counts as observed when all its channels are.
    random_state : int, RandomState instance or None, default=None
        Seeds the held-out sets (``refine``, ``method="auto"``) and the trees of
        ``refine``; unused without either.
    n_jobs : int or None, default=None
        Threads for the held-out fills of ``refine`` and ``method="auto"`` (through
        joblib, which runs them in threads even inside a process-based
        ``parallel_backend``): scikit-image's and OpenCV's fills release the GIL for
        most of their work. ``-1``: one per core (on 2 cores, refined fits of 3
        images x 4 masks at 128² and 256², 24 cases: see ``docs/refined_threads.md``;
        the same completions to the bit); ``None`` or 1: one at a time.
    {contract parameters}

    Attributes
    ----------
    n_features_in_ : int
        Number of columns seen in ``fit``.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Column names seen in ``fit`` (only for inputs with string column names).
    indicator_ : sklearn.impute.MissingIndicator or None
        The fitted indicator (None without ``add_indicator``).
    method_ : str
        The classical method that filled the matrix seen in ``fit``: ``method``,
        or the one ``"auto"`` chose there (``transform`` chooses again for each
        matrix it completes, from that matrix's own pixels).

    Notes
    -----
    With ``refine`` or ``method="auto"``, observed pixels are hidden in sets
    shaped like the holes (10 % of them each, drawn 9 disjoint sets at a time; as
    many sets as hold 50,000 pixels, at most 27): :math:`H_1, H_2, \\dots`.
    ``"auto"`` inpaints every set without its pixels with each method :math:`m`
    (the fill :math:`f^{(s,m)}`), with held-out error
    :math:`E_m = \\sum_s \\sum_{p \\in H_s} (x_p - f^{(s,m)}_p)^2`, and keeps
    :math:`m^\\star = \\arg\\min_m E_m` when
    :math:`E_{m^\\star} < (1 - 0.05)\\, E_{\\mathrm{biharmonic}}`, biharmonic
    otherwise (a margin against choosing on held-out noise: at 192² a 2.6 %
    lower held-out error chose Navier-Stokes, 2.1 dB worse in the real holes);
    with fewer than 1,000 held-out pixels (all channels) it keeps biharmonic. With
    ``refine``, each set is inpainted without its pixels (by the chosen method), and
    gradient-boosted trees (``HistGradientBoostingRegressor``) learn the fill's
    error :math:`x_p - f_p` at those pixels from features of the fill :math:`f`
    around them: :math:`f_p`, the 7 x 7 neighbourhood :math:`f_q - f_p` (alone and
    where :math:`q` is observed) and the distance to the nearest observed pixel.
    With :math:`H_s` the held-out sets, :math:`f^{(s)}` the fill without
    :math:`H_s` and :math:`\\phi^{(s)}_p` those features, boosting fits
    :math:`g` to

    .. math::
        \\min_g \\sum_s \\sum_{p \\in H_s} \\big(x_p - f^{(s)}_p
            - g(\\phi^{(s)}_p)\\big)^2 ,

    over the pixels :math:`p` whose 7 x 7 window holds an observed pixel. The
    completion of such a missing pixel is :math:`\\mathrm{clip}(f_p + g(\\phi_p),
    0, 1)`, with :math:`f` the fill from all observed pixels; deeper inside wide
    holes it is :math:`f_p`. Held-out sets holding fewer than 1,000 pixels (all
    channels) leave the fill uncorrected.

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
        "method": [StrOptions({*CLASSICAL_METHODS, "auto"})],
        "refine": ["boolean"],
        "radius": [Interval(Integral, 1, None, closed="left")],
        "n_channels": [Interval(Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
        "n_jobs": N_JOBS_CONSTRAINT,
    }

    def __init__(
        self,
        method="biharmonic",
        *,
        refine=False,
        radius=3,
        n_channels=1,
        random_state=None,
        n_jobs=None,
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
        self.refine = refine
        self.radius = radius
        self.n_channels = n_channels
        self.random_state = random_state
        self.n_jobs = n_jobs

    def _fit_completion(self, X, observed):
        pixel_shape(X, self.n_channels)
        completion, self.method_ = self._complete(X, observed)
        return completion

    def _complete_new(self, X, observed):
        return self._complete(X, observed)[0]

    def _complete(self, X, observed):
        """The completion of ``X`` and the classical method under it."""
        if not observed.any():
            raise ValueError(
                "X has no observed entry: there is nothing to inpaint from."
            )
        unit, pixel_observed, low, span = _unit_pixels(X, observed, self.n_channels)
        methods = CLASSICAL_METHODS if self.method == "auto" else (self.method,)
        fill = _corrected_fill if self.refine else _classical_fill
        completed, method = fill(
            unit, pixel_observed, methods, self.radius, self.random_state, self.n_jobs
        )
        return low + span * completed.reshape(X.shape), method
