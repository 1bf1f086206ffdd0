"""Faster trees for the refined fill? Settings of its gradient boosting, from one set of training data.

Usage::

    python benchmarks/study_refined_trees.py                  # ~10 min on 2 cores
    python benchmarks/study_refined_trees.py --images coffee --seeds 0

For each (image, mask, seed) at 128² (masks as in ``bench_inpainting.py``), the
refined fill's training data is built once exactly as ``InpaintImputer("auto",
refine=True, random_state=seed)`` builds it (held-out sets shaped like the holes,
the classical fill chosen on them, the features of its fills), and each setting of
``HistGradientBoostingRegressor`` below is fitted on it and corrects the same fill
of the real holes. ``current`` is the library's setting (checked against
``InpaintImputer`` itself on the first case). Prints, by mask, the missing-pixel PSNR
of each setting minus ``current`` (mean, smallest, largest over images and seeds) and
the seconds of its trees (fit + predict, median). Writes ``docs/refined_trees.md``.
"""

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np
from _tasks import add_grid_arguments, command_line, grid_cases, run_tasks
from bench_inpainting import make_observed
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.utils import check_random_state
from study_blend_candidates import IMAGES  # the 11 images of the image studies

from inrr_sklearn import CLASSICAL_METHODS, InpaintImputer
from inrr_sklearn import _inpaint as inpaint
from inrr_sklearn.image import image_scores, load_image

MASKS = ("random 50%", "text", "scribble", "patch")
SETTINGS = {
    "current": {"max_iter": 200, "learning_rate": 0.05},
    "no early stopping": {
        "max_iter": 200,
        "learning_rate": 0.05,
        "early_stopping": False,
    },
    "63 bins": {"max_iter": 200, "learning_rate": 0.05, "max_bins": 63},
    "100 trees at 0.1, 63 bins": {
        "max_iter": 100,
        "learning_rate": 0.1,
        "max_bins": 63,
    },
    "100 trees at 0.1, 63 bins, no early stopping": {
        "max_iter": 100,
        "learning_rate": 0.1,
        "max_bins": 63,
        "early_stopping": False,
    },
}


def run_case(image_name, mask_name, seed, size, threads, check=False):
    """Missing-pixel PSNR and tree seconds of each setting on one masked image."""
    truth = load_image(image_name, size)
    observed = make_observed(mask_name, truth.shape, seed)
    # The unit scaling of InpaintImputer: observed values mapped onto [0, 1].
    low, high = truth[observed].min(), truth[observed].max()
    image = (np.where(observed, truth, low) - low)[..., None] / (high - low)
    rng = check_random_state(seed)
    rows, cols = np.nonzero(~observed & inpaint._within_reach(observed))
    hidden_sets = inpaint._heldout_sets(observed, 1, rng)
    method, fills = inpaint._best_method(
        image, observed, hidden_sets, CLASSICAL_METHODS, 3
    )
    features, targets = [], []
    for hidden, fill in zip(hidden_sets, fills, strict=True):
        kept = observed & ~hidden
        set_rows, set_cols = np.nonzero(hidden & inpaint._within_reach(kept))
        maps = inpaint._feature_maps(fill, kept)
        features.append(inpaint._neighbourhood_features(maps, set_rows, set_cols))
        targets.append((image - fill)[set_rows, set_cols].T.ravel())
    features, targets = np.concatenate(features), np.concatenate(targets)
    tree_seed = rng.randint(2**31 - 1)
    plain = inpaint.classical_inpaint(image, observed, method)
    maps = inpaint._feature_maps(plain, observed)
    missing_features = inpaint._neighbourhood_features(maps, rows, cols)
    results = {}
    for name, params in SETTINGS.items():
        start = time.perf_counter()
        model = HistGradientBoostingRegressor(random_state=tree_seed, **params)
        correction = model.fit(features, targets).predict(missing_features)
        seconds = time.perf_counter() - start
        completed = plain[..., 0].copy()
        completed[rows, cols] = np.clip(completed[rows, cols] + correction, 0, 1)
        completed = low + (high - low) * completed
        psnr = image_scores(truth, completed, observed)["psnr_missing"]
        results[name] = (psnr, seconds)
        if check and name == "current":
            imputer = InpaintImputer("auto", refine=True, random_state=seed)
            reference = imputer.fit_transform(np.where(observed, truth, np.nan))
            results["check"] = float(np.abs(reference - completed).max())
    print(image_name, mask_name, seed, method, flush=True)
    return results


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_grid_arguments(parser, IMAGES, MASKS)
    parser.add_argument("--docs", default=str(Path(__file__).parents[1] / "docs"))
    args = parser.parse_args(argv)
    cases = grid_cases(args)
    check = run_case(*cases[0], args.size, None, check=True)["check"]
    results = run_tasks(run_case, cases, args.n_jobs, args.size)
    command = command_line("study_refined_trees.py", argv or sys.argv[1:], ("--docs",))
    lines = [
        f"# Tree settings of the refined fill ({args.size}²)",
        "",
        f"Generated by `{command}`; seeds {args.seeds}, images {', '.join(args.images)}"
        " (the horse's patches left out: biharmonic fills them exactly). "
        "Missing-pixel PSNR of each `HistGradientBoostingRegressor` setting minus the "
        "library's (`current`), on the same training data and the same fill, mean "
        "[smallest, largest] over the (image, seed) cases of each mask; seconds of the "
        "trees (fit + predict), median over all cases "
        f"({args.n_jobs} case(s) at a time on {os.cpu_count()} cores). `current` "
        'reproduces `InpaintImputer("auto", refine=True)` to '
        f"{check:.1e} on the first case.",
        "",
        "| setting | " + " | ".join(args.masks) + " | seconds |",
        "|---|" + "---|" * (len(args.masks) + 1),
    ]
    for name in SETTINGS:
        cells = []
        for mask in args.masks:
            diff = np.array(
                [
                    results[case][name][0] - results[case]["current"][0]
                    for case in cases
                    if case[1] == mask and not (case[0] == "horse" and mask == "patch")
                ]
            )
            cells.append(f"{diff.mean():+.3f} [{diff.min():+.2f}, {diff.max():+.2f}]")
        seconds = np.median([results[case][name][1] for case in cases])
        lines.append(f"| {name} | " + " | ".join(cells) + f" | {seconds:.2f} |")
    text = "\n".join(lines) + "\n"
    print(text)
    Path(args.docs, "refined_trees.md").write_text(text)


if __name__ == "__main__":
    main()
