"""Variants of the recommended image blend, against the recipe, on the same cases.

Usage::

    python benchmarks/study_blend_variants.py                  # warm refit, INRR, 128²
    python benchmarks/study_blend_variants.py --variants inrr --seeds 0 1 2
    python benchmarks/study_blend_variants.py --variants splits2 seed3 inrr3 \
        --images camera astronaut --seeds 0 1 2 --tag ensembles

The recipe, ``image_imputer()``, blends an INR + TV fitted at a step size of 1e-2 for at
most 300 steps (``inrr_sklearn.recipes.BLEND_SCHEDULE``) with the biharmonic fill,
refitting the INR from scratch and averaging it with its held-out fit. Each variant
changes one thing, set on ``image_imputer()`` through ``set_params``:

- ``recipe``: ``image_imputer()`` itself;
- ``warm``: the refit continues the held-out fit (``BlendImputer(refit="warm")``),
  400 held-out steps then 100 on all pixels;
- ``inrr``: ``"inr+inrr+tv"`` as the blend's INR (INRR at its defaults on top of TV),
  400 + 100 steps warm, as ``warm`` (the first comparison made);
- ``inrr-recipe``: ``"inr+inrr+tv"`` on the recipe's own schedule;
- ``splits2``: two held-out sets (``n_splits=2``): the weights learned on twice the
  held-out pixels, three INR fits averaged (1.5x the steps);
- ``80x4``, ``96x4``: the INR's sine layers 4 x 80 or 4 x 96 wide instead of 5 x 64;
- ``seed3``: a third candidate, a second INR + TV with another seed (twice the steps);
- ``inrr3``: a third candidate, INR + INRR + TV on the recipe's schedule with
  full-batch steps (twice the steps).

Images camera, astronaut and coins (``--images``); masks random 50 %, text and
scribble (``--masks``; the masks where the SIREN beats the classical fill; on the
patches the recipe's INR is pulled to the biharmonic fill). Writes ``docs/blend_variants.md`` (``--tag T``:
``docs/blend_variants_T.md``): missing-pixel PSNR (dB) of each variant, and its
difference to the recipe, per case.
"""

import argparse
import sys
from pathlib import Path

import numpy as np
import torch
from _tasks import command_line, run_tasks, timed_fit_transform
from sklearn.base import clone

from inrr_sklearn import image_imputer
from inrr_sklearn.image import image_scores, load_image
from inrr_sklearn.masks import make_mask
from inrr_sklearn.recipes import BLEND_MODEL
from inrr_sklearn.regularizers import make_regularizer

IMAGES = ("camera", "astronaut", "coins")
MASKS = ("random", "text", "scribble")
WARM = {"learning_rate_init": 1e-2, "max_iter": 400, "n_iter_no_change": 100}
#: name -> (regularizers of the blend's INR or None for the recipe's, parameters of
#: that INR over the recipe's, parameters of the blend over the recipe's)
VARIANTS = {
    "recipe": (None, {}, {}),
    "warm": (None, {**WARM, "refit_max_iter": 100}, {"refit": "warm"}),
    "inrr": ("inrr+tv", {**WARM, "refit_max_iter": 100}, {"refit": "warm"}),
    "inrr-recipe": ("inrr+tv", {}, {}),
    "splits2": (None, {}, {"n_splits": 2}),
    "80x4": (None, {"hidden_layer_sizes": (80,) * 4}, {}),
    "96x4": (None, {"hidden_layer_sizes": (96,) * 4}, {}),
}
#: The classical peer, fitted on every case beside the recipe.
PEERS = ("biharmonic",)
#: name -> (method, parameters over the blend schedule) of a third candidate added to
#: the recipe's two, averaged over its fits like the recipe's INR.
EXTRA_CANDIDATES = {
    "inrr3": ("inr+inrr+tv", {"batch_size": None}),
    "seed3": ("inr+tv", {}),
}


def _blend(variant, seed):
    """``image_imputer()`` with the variant's changes set on it (``"biharmonic"``:
    the classical peer)."""
    if variant == "biharmonic":
        return image_imputer("biharmonic")
    if variant in EXTRA_CANDIDATES:
        method, params = EXTRA_CANDIDATES[variant]
        blend = image_imputer(random_state=seed)
        extra = clone(dict(blend.estimators)[BLEND_MODEL]).set_params(
            reg=make_regularizer(method.partition("+")[2]),
            random_state=seed + 1000,
            **params,
        )
        name = f"{method}#2"
        return blend.set_params(
            estimators=[*blend.estimators, (name, extra)],
            average_fits=[*blend.average_fits, name],
        )
    reg_names, inr_params, blend_params = VARIANTS[variant]
    if reg_names is not None:
        # INRR is built for whole rows and columns: full-batch steps at any size.
        inr_params = {
            **inr_params,
            "reg": make_regularizer(reg_names),
            "batch_size": None,
        }
    return image_imputer(random_state=seed).set_params(
        **{f"{BLEND_MODEL}__{name}": value for name, value in inr_params.items()},
        **blend_params,
    )


def _run(image_name, mask_name, variant, seed, size, threads):
    if threads is not None:
        torch.set_num_threads(threads)
    truth = load_image(image_name, size)
    observed = make_mask(mask_name, truth.shape, random_state=seed)
    blend = _blend(variant, seed)
    completed, seconds = timed_fit_transform(blend, np.where(observed, truth, np.nan))
    psnr = image_scores(truth, completed, observed)["psnr_missing"]
    weights = getattr(blend, "weights_", {})
    print(image_name, mask_name, variant, seed, f"{psnr:.2f} dB {seconds:.0f}s",
          {k: round(w, 2) for k, w in weights.items()}, flush=True)  # fmt: skip
    return psnr, seconds


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variants", nargs="+", default=["warm", "inrr"])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0])
    parser.add_argument("--size", type=int, default=128)
    parser.add_argument("--images", nargs="+", default=list(IMAGES))
    parser.add_argument("--masks", nargs="+", default=list(MASKS))
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--tag", default="", help="page name: blend_variants_<tag>.md")
    parser.add_argument("--docs", default=str(Path(__file__).parents[1] / "docs"))
    args = parser.parse_args(argv)
    variants = ["recipe", *(v for v in args.variants if v not in PEERS)]
    tasks = [
        (i, m, v, s)
        for i in args.images
        for m in args.masks
        for s in args.seeds
        for v in ["biharmonic", *variants]
    ]
    results = run_tasks(_run, tasks, args.n_jobs, args.size)
    psnr = {task: result[0] for task, result in results.items()}

    def mean_seconds(i, m, v):
        return np.mean([results[i, m, v, s][1] for s in args.seeds])

    command = command_line(
        "study_blend_variants.py", argv or sys.argv[1:], hidden=("--docs",)
    )
    lines = [
        f"# Variants of the image blend ({args.size}²)",
        "",
        f"Generated by `{command}`; seeds {args.seeds}. Missing-pixel PSNR (dB) of "
        "scikit-image's biharmonic fill and of the recipe (`image_imputer()`), then "
        "each variant's difference to the recipe (mean over the seeds); in brackets "
        f"the seconds of fit + transform ({args.n_jobs} fit(s) at a time, the cores "
        "shared out). Variants: see the script's docstring.",
        "",
        "| image | mask | biharmonic | recipe | " + " | ".join(variants[1:]) + " |",
        "|---|---|---|---|" + "---|" * (len(variants) - 1),
    ]
    gaps = {v: [] for v in variants[1:]}
    for i in args.images:
        for m in args.masks:
            peer = np.mean([psnr[i, m, "biharmonic", s] for s in args.seeds])
            base = np.mean([psnr[i, m, "recipe", s] for s in args.seeds])
            cells = [
                f"{peer:.2f} ({mean_seconds(i, m, 'biharmonic'):.1f} s)",
                f"{base:.2f} ({mean_seconds(i, m, 'recipe'):.0f} s)",
            ]
            for v in variants[1:]:
                gap = np.mean([psnr[i, m, v, s] for s in args.seeds]) - base
                gaps[v].append(gap)
                cells.append(f"{gap:+.2f} ({mean_seconds(i, m, v):.0f} s)")
            lines.append(f"| {i} | {m} | " + " | ".join(cells) + " |")
    lines.append("")
    for v, gap in gaps.items():
        lines.append(
            f"- `{v}` minus the recipe: mean {np.mean(gap):+.2f} dB, from "
            f"{min(gap):+.2f} to {max(gap):+.2f} dB over the {len(gap)} rows."
        )
    path = Path(args.docs) / f"blend_variants{'_' * bool(args.tag)}{args.tag}.md"
    path.write_text("\n".join(lines) + "\n")
    print("\n".join(lines), f"wrote {path}", sep="\n")


if __name__ == "__main__":
    main()
