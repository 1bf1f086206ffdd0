"""Which candidates should the image blend weigh? Sets of candidates, from one set of fits.

Usage::

    python benchmarks/study_blend_candidates.py                  # ~45 min on 2 cores
    python benchmarks/study_blend_candidates.py --images rocket --seeds 0

For each (image, mask, seed) at 128², every candidate of a set that holds the recipe's
three (``image_imputer()``: INR + TV, the refined fill, biharmonic) and OpenCV's
Navier-Stokes and Telea fills is fitted once without the held-out set the blend draws
(``holdout="mask"``, seeded as ``BlendImputer(random_state=seed)`` seeds it) and once
on every observed pixel, the INR's two completions averaged, as in the recipe. Each
candidate set is then blended exactly as ``BlendImputer`` blends it (convex weights on
the held-out pixels in column-std units, weights under 0.1 % dropped), so a set's row is
what ``image_imputer()`` with those candidates returns (the recipe's set is checked
against ``image_imputer()`` itself on the first case). Prints, per (image, mask), the
missing-pixel PSNR of each set minus the best classical fill's (mean over seeds, worst
seed) and each set minus the recipe's; ``--cache DIR`` keeps each case's fits.
Writes ``docs/blend_candidates.md``.
"""

import argparse
import itertools
import sys
from pathlib import Path

import numpy as np
import torch
from _tasks import (
    add_grid_arguments,
    command_line,
    grid_cases,
    run_tasks,
    timed_fit_transform,
)
from sklearn.base import clone
from sklearn.utils import check_random_state

from inrr_sklearn import InpaintImputer, image_imputer
from inrr_sklearn._blend import _MIN_WEIGHT, _convex_least_squares
from inrr_sklearn._scaling import fit_scaling
from inrr_sklearn.image import image_scores, load_image
from inrr_sklearn.masks import make_mask
from inrr_sklearn.model_selection import split_observed

IMAGES = (
    "camera",
    "astronaut",
    "coins",
    "chelsea",
    "coffee",
    "rocket",
    "moon",
    "page",
    "brick",
    "horse",
    "shepp_logan_phantom",
)
MASKS = ("random", "text", "scribble", "patch")
RECIPE = ("inr+tv", "refined", "biharmonic")
EXTRA = ("ns", "telea")
PEERS = ("biharmonic", "telea", "ns")
#: Missing-pixel PSNR above which a fill counts as exact.
_EXACT_DB = 60.0


def candidate_sets():
    """The recipe's set, then the recipe's with each non-empty subset of the extras."""
    sets = [RECIPE]
    for k in range(1, len(EXTRA) + 1):
        sets += [RECIPE + extra for extra in itertools.combinations(EXTRA, k)]
    sets.append(("refined", "biharmonic", "ns"))  # the blend without its INR
    return sets


def _fits(image_name, mask_name, seed, size, cache, threads):
    """Every candidate's held-out predictions (column-std units) and completion."""
    path = None
    if cache is not None:
        path = Path(cache) / f"{image_name}_{mask_name}_{seed}_{size}.npz"
        if path.exists():
            with np.load(path) as stored:
                return dict(stored)
    if threads is not None:
        torch.set_num_threads(threads)
    truth = load_image(image_name, size)
    observed = make_mask(mask_name, truth.shape, random_state=seed)
    X = np.where(observed, truth, np.nan)
    recipe = image_imputer(random_state=seed)
    (hidden,) = split_observed(  # the recipe's held-out set, drawn as it draws it
        observed,
        recipe.holdout_fraction,
        n_splits=recipe.n_splits,
        holdout=recipe.holdout,
        X=X,
        random_state=check_random_state(seed),
    )
    candidates = {
        **dict(recipe.estimators),
        "ns": InpaintImputer("ns"),
        "telea": InpaintImputer("telea"),
    }
    std = fit_scaling(X, observed, "standard", empty="zero").span[0]
    X_held = np.where(hidden, np.nan, X)
    result = {"truth": truth, "observed": observed, "hidden": hidden}
    for name, estimator in candidates.items():
        held, held_seconds = timed_fit_transform(clone(estimator), X_held)
        full, full_seconds = timed_fit_transform(clone(estimator), X)
        if name in recipe.average_fits:
            full = (held + full) / 2
        result[f"{name}_heldout"] = (held / std)[hidden]
        result[f"{name}_full"] = full
        result[f"{name}_seconds"] = held_seconds + full_seconds
    result["truth_heldout"] = (X / std)[hidden]
    if path is not None:
        np.savez_compressed(path, **result)
    return result


def blend(fits, names):
    """The completion ``BlendImputer`` returns with these candidates."""
    predictions = np.column_stack([fits[f"{name}_heldout"] for name in names])
    weights = _convex_least_squares(predictions, fits["truth_heldout"])
    keep = weights >= _MIN_WEIGHT
    weights = weights[keep] / weights[keep].sum()
    kept = [name for name, k in zip(names, keep, strict=True) if k]
    completion = sum(w * fits[f"{n}_full"] for w, n in zip(weights, kept, strict=True))
    observed = fits["observed"].astype(bool)
    return np.where(observed, fits["truth"], completion), dict(
        zip(kept, weights, strict=True)
    )


def missing_psnr(fits, completion):
    observed = fits["observed"].astype(bool)
    return image_scores(fits["truth"], completion, observed)["psnr_missing"]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_grid_arguments(parser, IMAGES, MASKS)
    parser.add_argument("--cache", default=None)
    parser.add_argument("--docs", default=str(Path(__file__).parents[1] / "docs"))
    args = parser.parse_args(argv)
    cases = grid_cases(args)
    fits = run_tasks(_fits, cases, args.n_jobs, args.size, args.cache)

    first = fits[cases[0]]
    seed = cases[0][2]
    X = np.where(first["observed"], first["truth"], np.nan)
    reference = image_imputer(random_state=seed).fit_transform(X)
    recipe_gap = np.abs(blend(first, RECIPE)[0] - reference).max()

    sets = candidate_sets()
    labels = [" + ".join(s) for s in sets]
    rows = {}  # (image, mask) -> set -> list of (PSNR - best peer, PSNR - recipe)
    weights = {}
    exact = {}  # (image, mask) -> the best peer's PSNR of each seed
    for case, f in fits.items():
        best_peer = max(missing_psnr(f, f[f"{p}_full"]) for p in PEERS)
        exact.setdefault(case[:2], []).append(best_peer)
        recipe = missing_psnr(f, blend(f, RECIPE)[0])
        for names, label in zip(sets, labels, strict=True):
            completion, w = blend(f, names)
            psnr = missing_psnr(f, completion)
            rows.setdefault(case[:2], {}).setdefault(label, []).append(
                (psnr - best_peer, psnr - recipe)
            )
            weights.setdefault(label, []).append(w)
    seconds = {
        name: np.mean([f[f"{name}_seconds"] for f in fits.values()])
        for name in (*RECIPE, *EXTRA)
    }
    lines = [
        "# Image blend: which candidates?",
        "",
        f"Generated by `{command_line('study_blend_candidates.py', argv or sys.argv[1:], ('--cache', '--docs'))}`"
        f"; torch {torch.__version__}. {args.size}² images, seeds {args.seeds}, one "
        "thread a case. Each cell: the set's missing-pixel PSNR minus the best "
        "classical fill's (scikit-image biharmonic, OpenCV Navier-Stokes and Telea) "
        "of the same case, mean over seeds (worst seed). The recipe's set "
        f"reproduces `image_imputer()` to {recipe_gap:.1e} (first case).",
        "",
        "| image | mask | " + " | ".join(labels) + " |",
        "|---|---|" + "---|" * len(labels),
    ]
    for (image, mask), by_set in rows.items():
        cells = []
        for label in labels:
            margins = np.array([m for m, _ in by_set[label]])
            cells.append(f"{margins.mean():+.2f} ({margins.min():+.2f})")
        lines.append(f"| {image} | {mask} | " + " | ".join(cells) + " |")
    # A case a peer fills exactly (a hole in a flat background) has no meaningful
    # margin in dB: it stays in the table above, not in the summary.
    summarised = {
        key: by_set for key, by_set in rows.items() if max(exact[key]) <= _EXACT_DB
    }
    left_out = [f"{i} {m}" for (i, m) in rows if (i, m) not in summarised]
    lines += [
        "",
        "Over the cases no peer fills exactly (a peer above "
        f"{_EXACT_DB:.0f} dB; left out: {', '.join(left_out) or 'none'}):",
        "",
        "| set | won of cases | median margin | worst | minus the recipe's, mean "
        "(worst row) | minus the recipe's by mask: " + ", ".join(args.masks) + " |",
        "|---|---|---|---|---|---|",
    ]
    for label in labels:
        margins = np.concatenate(
            [[m for m, _ in r[label]] for r in summarised.values()]
        )
        gains = np.concatenate([[g for _, g in r[label]] for r in summarised.values()])
        row_gains = [np.mean([g for _, g in r[label]]) for r in summarised.values()]
        by_mask = [
            np.mean(
                [
                    g
                    for (_, m), r in summarised.items()
                    if m == mask
                    for _, g in r[label]
                ]
            )
            for mask in args.masks
        ]
        lines.append(
            f"| {label} | {int((margins > 0).sum())} of {len(margins)} | "
            f"{np.median(margins):+.2f} | {margins.min():+.2f} | "
            f"{gains.mean():+.3f} ({min(row_gains):+.2f}) | "
            + ", ".join(f"{g:+.3f}" for g in by_mask)
            + " |"
        )
    lines += [
        "",
        "Seconds per case (held-out fit + fit on every observed pixel, one thread): "
        + ", ".join(f"{name} {s:.2f}" for name, s in seconds.items())
        + ".",
        "",
        "Mean weight per candidate: "
        + "; ".join(
            f"{label}: "
            + ", ".join(
                f"{n} {np.mean([w.get(n, 0.0) for w in weights[label]]):.2f}"
                for n in names
            )
            for names, label in zip(sets, labels, strict=True)
        )
        + ".",
    ]
    text = "\n".join(lines) + "\n"
    print(text)
    Path(args.docs, "blend_candidates.md").write_text(text)


if __name__ == "__main__":
    main()
