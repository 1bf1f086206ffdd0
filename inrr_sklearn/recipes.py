"""Recipes: the library's recommended imputers, built from the estimators by name.

The estimators know nothing of these names; this module is the one place that maps
``"blend"``, ``"biharmonic"`` or ``"inr+inrr+tv"`` to a configured imputer, for the
command line, the demo and the benchmarks. Nothing below it imports it.
:func:`default_candidates` (the candidates of ``BlendImputer()``) is defined with the
blend, which needs it for ``estimators=None``, and shown here with the recipes.
"""

from inrr_sklearn._blend import BlendImputer, default_candidates
from inrr_sklearn._dmf import DMFImputer
from inrr_sklearn._inpaint import CLASSICAL_METHODS, InpaintImputer
from inrr_sklearn._inr import INRImputer
from inrr_sklearn.regularizers import make_regularizer

__all__ = [
    "BLEND_MAX_PIXELS",
    "BLEND_MODEL",
    "BLEND_SCHEDULE",
    "IMAGE_METHODS",
    "REFINED_METHOD",
    "default_candidates",
    "image_imputer",
]

#: The paper's eight image methods (model + regularizer), by name.
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

#: The classical fill corrected by trees learned from the image itself
#: (``InpaintImputer("auto", refine=True, n_jobs=-1)``: biharmonic, unless Telea or
#: Navier-Stokes fills held-out pixels shaped like the holes with a squared error at
#: least 5 % smaller), alone or inside the blend. Choosing among the three instead
#: of always biharmonic: +0.16 / +0.15 dB on average on the two wide patches of 10
#: images x seeds 0-2 / 3-5 at 128² (+1.3 to +2.2 dB where it chose Navier-Stokes
#: or Telea on brick and rocket, -0.4 to -0.6 dB where it chose Telea on a scanned
#: page), -0.005 to +0.012 dB on random, text and scribble masks, where biharmonic
#: was kept but on the page (``docs/refined_base.md``); at 256² one loss of 2.4 dB
#: (camera's patches, seed 2: ``docs/inpainting_refined256.md``), which neither a
#: paired test nor more held-out sets avoid (``docs/refined_rule.md``).
REFINED_METHOD = "refined"

#: The INR inside ``image_imputer("blend")``.
BLEND_MODEL = "inr+tv"

#: Its training schedule: ten times the estimator's step size, at most 300 steps, early
#: stopping after 75 without progress. One INR + TV fit at 1e-2 reaches its best
#: missing-pixel PSNR near step 200-400 and then drifts down, while at 1e-3 it still
#: rises at step 1,000 (camera and coins at 128², random 50 % and scribble, seed 0).
#: Two such fits averaged (held-out fit and refit) beat a 400-step fit continued for
#: 100 steps on all pixels by 0.01-0.60 dB on 9 masked images
#: (``docs/blend_variants.md``), and match the 1e-3 x 1,500 schedule in a third of the
#: steps (blend of the INR and biharmonic on the 36 cases of
#: ``docs/inpainting_holdout.md``: median margin over biharmonic +0.46 dB, was +0.50;
#: worst case -0.25 dB, was -0.62).
#: With every candidate at every size (``max_entries=None``; the recipe leaves the
#: INR out above ``BLEND_MAX_PIXELS``), above 80,000 pixels (about 283²) each step
#: trains on a random sub-grid
#: ``image[a::s, b::s]`` of at least ``batch_size`` pixels (s = 2, and 3 from about
#: 425²; ``docs/large_images.md``): at 512² the blend takes well under a minute
#: instead of several, within a few hundredths of a dB of the full-batch fit. Up to
#: 256² the steps stay full-batch: sub-grids of a quarter of the pixels lost
#: 0.2-0.4 dB there.
BLEND_SCHEDULE = {
    "learning_rate_init": 1e-2,
    "max_iter": 300,
    "n_iter_no_change": 75,
    "batch_size": 20_000,
}

#: Above this many pixels ``image_imputer("blend")`` is the refined fill alone: the
#: blend leaves its INR and plain biharmonic fill out (``BlendImputer(max_entries=...)``)
#: and fits no held-out set. The three-candidate blend minus the refined fill, mean
#: over camera, astronaut and coins x 4 masks x 3 seeds: +0.16 dB at 128² (rows
#: -0.15 to +0.54, ``docs/inpainting_holdout.md``), +0.08 dB at 192² (rows -0.08 to +0.44,
#: ``docs/inpainting_size192.md``), +0.03 dB at 256² (rows -0.16 to +0.19, in 13-50
#: times the refined fill's time; ``docs/inpainting_holdout256.md``).
BLEND_MAX_PIXELS = 50_000


def image_imputer(method="blend", *, n_channels=1, **params):
    """The library's imputer for an image, by method name.

    Parameters
    ----------
    method : str, default="blend"
        ``"blend"`` (the recommendation): a :class:`~inrr_sklearn.BlendImputer` of an
        INR (``BLEND_MODEL``, SIREN + TV, pulled toward the biharmonic fill inside
        holes at least 6 pixels deep: ``fill_prior=InpaintImputer()``, which took the
        patch masks from up to 4 dB below the biharmonic fill to ties with it),
        the classical fill corrected by trees learned from the image
        (``"refined"``, its held-out fills in a thread per core) and the plain
        biharmonic fill (Telea and Navier-Stokes, 1.3-4.7 dB below it on camera,
        astronaut and coins, only added noise to the weights there; on 11 images
        they gained 0.12-0.17 dB on wide patches and lost 0.005-0.028 dB on thin
        holes, ``docs/blend_candidates.md``), with
        convex weights learned on held-out pixels shaped like the holes
        (``holdout="mask"``), then refitted on all pixels, the INR's completion
        averaged with that of its held-out fit; the INR trains on
        ``BLEND_SCHEDULE`` (step size 1e-2, at most 300 steps), so the whole fit
        costs at most 600 INR steps and two refined fills. Above
        ``BLEND_MAX_PIXELS`` (50,000) pixels it is the refined fill alone: there the
        INR added a few hundredths of a dB for 13-50 times the time.
        ``"refined"``: ``InpaintImputer("auto", refine=True, n_jobs=-1)`` alone,
        the fast call (seconds; its held-out fills in a thread per core). A
        classical peer alone: ``"biharmonic"``, ``"telea"`` or ``"ns"``
        (:class:`InpaintImputer`). Otherwise a model ("inr" =
        :class:`INRImputer`, "dmf" = :class:`DMFImputer`), then optionally "+" one or
        more regularizers ("l2", "tv", "air", "inrr"), each with its defaults;
        several are summed (e.g. "inr+inrr+tv"). ``IMAGE_METHODS`` lists the paper's
        eight. The models use the global min-max scaling of images.
    n_channels : int, default=1
        3 for an RGB image passed as ``image.reshape(H, W * 3)``.
    **params
        Any other parameter of the model (``max_iter``, ``random_state``,
        ``device``...); for ``"blend"``, of its INR, over ``BLEND_SCHEDULE``
        (``random_state`` also seeds the held-out draw).

    Returns
    -------
    imputer : BlendImputer, InpaintImputer, INRImputer or DMFImputer

    Examples
    --------
    >>> from inrr_sklearn import image_imputer
    >>> image_imputer("inr+inrr+tv", max_iter=500)
    INRImputer(max_iter=500,
               reg=SumRegularizer(regularizers=[('inrr', INRR()), ('tv', TV())]),
               scaling='global')
    >>> [name for name, _ in image_imputer("blend").get_params()["estimators"]]
    ['inr+tv', 'refined', 'biharmonic']
    >>> image_imputer("refined")
    InpaintImputer(method='auto', n_jobs=-1, refine=True)
    """
    if method in CLASSICAL_METHODS:
        return InpaintImputer(method, n_channels=n_channels, **params)
    if method == REFINED_METHOD:
        # Held-out fills in threads: 7 % less time at the median
        # (docs/refined_threads.md).
        params = {"n_jobs": -1, **params}
        return InpaintImputer("auto", refine=True, n_channels=n_channels, **params)
    if method == "blend":
        model_params = {
            "fill_prior": InpaintImputer("biharmonic", n_channels=n_channels),
            **BLEND_SCHEDULE,
            **params,
        }
        candidates = [
            (
                BLEND_MODEL,
                image_imputer(BLEND_MODEL, n_channels=n_channels, **model_params),
            ),
            (
                REFINED_METHOD,
                image_imputer(
                    REFINED_METHOD,
                    n_channels=n_channels,
                    random_state=params.get("random_state"),
                ),
            ),
            ("biharmonic", InpaintImputer("biharmonic", n_channels=n_channels)),
        ]
        max_entries = BLEND_MAX_PIXELS * n_channels
        return BlendImputer(
            candidates,
            max_entries={BLEND_MODEL: max_entries, "biharmonic": max_entries},
            holdout="mask",
            standardize=False,  # one unit: scaling each column apart would add steps
            keep_empty_features=True,  # an all-missing column of an image is a hole
            n_splits=1,
            average_fits=[BLEND_MODEL],
            random_state=params.get("random_state"),
            # One heavy candidate: a worker process would only take threads from it.
            n_jobs=1,
        )
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
