"""The image blend's INR alone under other settings: missing-pixel PSNR against its own.

Usage::

    python benchmarks/study_inr_settings.py                   # every variant, ~30 min
    python benchmarks/study_inr_settings.py 96x4 80x4

The recipe's INR (``image_imputer("inr+tv")`` on ``BLEND_SCHEDULE`` with the
biharmonic fill prior) is fitted on all observed pixels of camera and astronaut ×
random 50 %, text and scribble at 128², seeds 0-2, once with its own settings and once
per variant (one setting changed). Prints each fit (PSNR, seconds on one thread, steps
run) and the mean difference of each variant to the recipe's INR per row and over
all 18 cases. Two fits run at a time, one thread each.
"""

import sys

import numpy as np
import torch
from _tasks import run_tasks, timed_fit_transform

from inrr_sklearn import InpaintImputer, image_imputer
from inrr_sklearn.image import image_scores, load_image
from inrr_sklearn.masks import make_mask
from inrr_sklearn.recipes import BLEND_SCHEDULE
from inrr_sklearn.regularizers import TV

IMAGES = ("camera", "astronaut")
MASKS = ("random", "text", "scribble")
SEEDS = (0, 1, 2)
#: name -> parameters of the INR over the recipe's
VARIANTS = {
    "recipe": {},
    "tv3e-4": {"reg": TV(alpha=3e-4)},
    "tv3e-5": {"reg": TV(alpha=3e-5)},
    "omega20": {"omega_0": 20.0},
    "omega45": {"omega_0": 45.0},
    "lr5e-3": {"learning_rate_init": 5e-3},
    "48x5": {"hidden_layer_sizes": (48,) * 5},
    "96x3": {"hidden_layer_sizes": (96,) * 3},
    "80x4": {"hidden_layer_sizes": (80,) * 4},
    "96x4": {"hidden_layer_sizes": (96,) * 4},
    "128x3": {"hidden_layer_sizes": (128,) * 3},
    "80x4-omega20": {"hidden_layer_sizes": (80,) * 4, "omega_0": 20.0},
    "96x4-omega20": {"hidden_layer_sizes": (96,) * 4, "omega_0": 20.0},
}


def _run(image_name, mask_name, seed, variant, threads):
    if threads is not None:
        torch.set_num_threads(threads)
    truth = load_image(image_name, 128)
    observed = make_mask(mask_name, truth.shape, random_state=seed)
    inr = image_imputer(
        "inr+tv",
        fill_prior=InpaintImputer("biharmonic"),
        **BLEND_SCHEDULE,
        random_state=seed,
    ).set_params(**VARIANTS[variant])
    completed, seconds = timed_fit_transform(inr, np.where(observed, truth, np.nan))
    psnr = image_scores(truth, completed, observed)["psnr_missing"]
    print(image_name, mask_name, seed, variant, f"{psnr:.2f} dB", f"{seconds:.1f} s",
          f"{inr.n_iter_} steps", flush=True)  # fmt: skip
    return psnr


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    variants = ["recipe", *(v for v in (argv or VARIANTS) if v != "recipe")]
    tasks = [
        (i, m, s, v) for i in IMAGES for m in MASKS for s in SEEDS for v in variants
    ]
    psnr = run_tasks(_run, tasks, 2)
    print("| image | mask | " + " | ".join(variants[1:]) + " |")
    print("|---|---|" + "---|" * (len(variants) - 1))
    gaps = {v: [] for v in variants[1:]}
    for i in IMAGES:
        for m in MASKS:
            cells = []
            for v in variants[1:]:
                gap = [psnr[i, m, s, v] - psnr[i, m, s, "recipe"] for s in SEEDS]
                gaps[v] += gap
                cells.append(f"{np.mean(gap):+.2f}")
            print(f"| {i} | {m} | " + " | ".join(cells) + " |")
    for v, gap in gaps.items():
        print(f"{v}: mean {np.mean(gap):+.2f} dB, worst case {min(gap):+.2f} dB")


if __name__ == "__main__":
    main()
