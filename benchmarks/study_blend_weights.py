"""Would blend weights that vary by region beat the image blend's one weight?

Usage::

    python benchmarks/study_blend_weights.py          # ~15 min on 2 cores

For camera, astronaut and coins × random 50 %, text and scribble at 128², seeds 0-2,
the recipe's two candidates (``image_imputer()``: INR + TV and biharmonic) are fitted
without one held-out set shaped like the holes (``holdout="mask"``, as the blend draws
it) and on all observed pixels. The INR's completion is the average of its two fits,
as in the recipe. Each weighting is learned on the held-out pixels and applied to the
missing ones:

- ``global``: one convex weight, as ``BlendImputer`` learns it (the reference);
- ``local s<σ> l<λ>``: a weight per pixel, the least-squares weight of the held-out
  errors around it (Gaussian window of σ pixels), shrunk toward the global one with
  strength λ;
- ``<feature><n>``: one weight per bin (n quantile bins over the held-out pixels) of
  the distance to the nearest observed pixel, of the biharmonic fill's gradient, or of
  the two candidates' disagreement;
- ``oracle``: the best single weight, chosen on the missing pixels themselves.

Prints each case's missing-pixel PSNR difference to ``global`` and the means.
"""

import numpy as np
import torch
from _tasks import run_tasks, timed_fit_transform
from scipy import ndimage
from sklearn.base import clone

from inrr_sklearn import image_imputer
from inrr_sklearn.image import load_image
from inrr_sklearn.masks import make_mask
from inrr_sklearn.model_selection import split_observed

CASES = [
    (image_name, mask_name, seed)
    for image_name in ("camera", "astronaut", "coins")
    for mask_name in ("random", "text", "scribble")
    for seed in (0, 1, 2)
]


def _fits(image_name, mask_name, seed, threads):
    """The two candidates fitted without the held-out set and on all pixels."""
    if threads is not None:
        torch.set_num_threads(threads)
    truth = load_image(image_name, 128)
    observed = make_mask(mask_name, truth.shape, random_state=seed)
    X = np.where(observed, truth, np.nan)
    (hidden,) = split_observed(
        observed, 0.1, holdout="mask", random_state=np.random.RandomState(seed)
    )
    inr, biharmonic = (est for _, est in image_imputer(random_state=seed).estimators)
    X_held = np.where(hidden, np.nan, X)
    inr_held, _ = timed_fit_transform(clone(inr), X_held)
    inr_all, _ = timed_fit_transform(clone(inr), X)
    return {
        "truth": truth,
        "observed": observed,
        "hidden": hidden,
        "inr_held": inr_held,
        "biharmonic_held": clone(biharmonic).fit_transform(X_held),
        "inr": (inr_held + inr_all) / 2,
        "biharmonic": clone(biharmonic).fit_transform(X),
    }


def _least_squares_weight(err_inr, err_bih, prior, strength):
    """The INR's weight w minimising sum (w e_inr + (1-w) e_bih)², shrunk to prior."""
    diff = err_bih - err_inr
    scale = strength * np.mean(diff**2)
    return np.clip(
        (np.sum(err_bih * diff) + scale * prior) / (np.sum(diff**2) + scale), 0, 1
    )


def _weightings(f):
    """Missing-pixel PSNR of each weighting."""
    truth, hidden, missing = f["truth"], f["hidden"], ~f["observed"]
    err_inr = np.where(hidden, f["inr_held"] - truth, 0.0)
    err_bih = np.where(hidden, f["biharmonic_held"] - truth, 0.0)
    w_global = _least_squares_weight(err_inr[hidden], err_bih[hidden], 0.5, 0.0)

    def psnr(weight):
        blend = weight * f["inr"] + (1 - weight) * f["biharmonic"]
        return -10 * np.log10(np.mean((blend - truth)[missing] ** 2))

    scores = {"global": psnr(w_global)}
    diff = err_bih - err_inr
    for sigma in (4, 8, 16):
        numerator = ndimage.gaussian_filter(err_bih * diff, sigma)
        denominator = ndimage.gaussian_filter(diff**2, sigma)
        density = ndimage.gaussian_filter(hidden.astype(float), sigma)
        typical = np.mean(diff[hidden] ** 2) * density
        for strength in (1, 10):
            weight = (numerator + strength * typical * w_global) / (
                denominator + strength * typical + 1e-12
            )
            scores[f"local s{sigma} l{strength}"] = psnr(np.clip(weight, 0, 1))
    features = {
        "distance": (
            ndimage.distance_transform_edt(missing | hidden),
            ndimage.distance_transform_edt(missing),
        ),
        "gradient": tuple(
            np.hypot(ndimage.sobel(fill, 0), ndimage.sobel(fill, 1))
            for fill in (f["biharmonic_held"], f["biharmonic"])
        ),
        "disagreement": (
            np.abs(f["inr_held"] - f["biharmonic_held"]),
            np.abs(f["inr"] - f["biharmonic"]),
        ),
    }
    for name, (on_held, on_missing) in features.items():
        for n_bins in (3, 5):
            edges = np.quantile(on_held[hidden], np.linspace(0, 1, n_bins + 1)[1:-1])
            bins_held = np.digitize(on_held[hidden], edges)
            weight = np.full(truth.shape, w_global)
            bins_missing = np.digitize(on_missing[missing], edges)
            per_bin = [
                _least_squares_weight(
                    err_inr[hidden][bins_held == b],
                    err_bih[hidden][bins_held == b],
                    w_global,
                    1.0,
                )
                if np.any(bins_held == b)
                else w_global  # tied quantiles (random masks: every distance is 1)
                for b in range(n_bins)
            ]
            weight[missing] = np.asarray(per_bin)[bins_missing]
            scores[f"{name}{n_bins}"] = psnr(weight)
    err_inr_missing = (f["inr"] - truth)[missing]
    err_bih_missing = (f["biharmonic"] - truth)[missing]
    scores["oracle"] = psnr(
        _least_squares_weight(err_inr_missing, err_bih_missing, 0.5, 0.0)
    )
    return scores


def main():
    fits = run_tasks(_fits, CASES, 2)
    scores = {case: _weightings(fits[case]) for case in CASES}
    names = [n for n in scores[CASES[0]] if n != "global"]
    print("| case | global (dB) | " + " | ".join(names) + " |")
    print("|---|---|" + "---|" * len(names))
    for case, s in scores.items():
        cells = [f"{s[n] - s['global']:+.2f}" for n in names]
        print(
            f"| {' '.join(map(str, case))} | {s['global']:.2f} | " + " | ".join(cells)
        )
    means = [np.mean([s[n] - s["global"] for s in scores.values()]) for n in names]
    print("| mean | | " + " | ".join(f"{m:+.2f}" for m in means) + " |")


if __name__ == "__main__":
    main()
