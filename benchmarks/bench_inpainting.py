"""The recommended image method against the classical inpainting peers, over seeds.

Usage::

    python benchmarks/bench_inpainting.py                     # 3 images x 4 masks x 3 seeds
    python benchmarks/bench_inpainting.py --images camera --masks text --seeds 0
    python benchmarks/bench_inpainting.py --methods blend inr+tv --tag variants
    python benchmarks/bench_inpainting.py --size 192 --methods blend-all refined biharmonic telea ns --tag size192
    python benchmarks/bench_inpainting.py --size 256 --methods refined biharmonic telea ns --tag refined256

Images (``skimage.data``, grey, 128 x 128 by default): camera, astronaut and coins.
Masks (``inrr_sklearn.masks``): random 50 % missing, text, scribble (drawn with the
seed) and the paper's two patches. For each seed s the random and scribble masks are
drawn with s and the models are seeded with s. Methods: scikit-image's biharmonic and
OpenCV's Telea / Navier-Stokes inpainting (``InpaintImputer``), and names accepted by
``inrr_sklearn.image_imputer``: ``"blend"``, its default, blends an INR with the
biharmonic fill, plain and ``"refined"`` (corrected by trees learned from the image
itself), on mask-shaped held-out pixels; above ``BLEND_MAX_PIXELS`` the refined fill
alone, and ``"blend-all"`` is the blend with all three candidates at any size. Each
cell: missing-pixel PSNR (dB),
mean over the seeds ± half their spread (max - min) / 2, the whole image's SSIM (mean
over the seeds) and seconds per fit. For each of the library's methods the summary
counts the (image, mask, seed) cases where it beats every classical peer, with its
smallest margin, and gives each row's margin (mean over the seeds, and the worst
seed); the first of them is compared with each other one, row by row.
``--n-jobs`` runs fits in parallel
processes with one thread each; ``--cache DIR`` keeps each case's result in DIR and
reuses it (to split a long grid over several runs). Writes
``docs/inpainting_<tag>.md``.
"""

import argparse
import json
import os
import sys
from pathlib import Path

import numpy as np
import torch
from _tasks import command_line, timed_fit_transform
from joblib import Parallel, delayed

from inrr_sklearn import CLASSICAL_METHODS, InpaintImputer, image_imputer
from inrr_sklearn.image import image_scores, load_image
from inrr_sklearn.masks import make_mask
from inrr_sklearn.recipes import REFINED_METHOD

IMAGES = ("camera", "astronaut", "coins")
MASKS = ("random 50%", "text", "scribble", "patch")
METHODS = ("blend", REFINED_METHOD, *CLASSICAL_METHODS)
#: ``image_imputer()`` with all three candidates at any size (``max_entries=None``).
BLEND_ALL = "blend-all"


def make_observed(mask_name, shape, seed):
    if mask_name.startswith("random"):
        rate = float(mask_name.split()[1].rstrip("%")) / 100
        return make_mask("random", shape, missing_rate=rate, random_state=seed)
    return make_mask(mask_name, shape, random_state=seed)


def refined_n_jobs(imputer):
    """The ``n_jobs`` parameters of the ``InpaintImputer`` in ``imputer`` (itself, or
    a blend's candidates; not the blend's own, which stays at the recipe's 1)."""
    if isinstance(imputer, InpaintImputer):
        return ["n_jobs"]
    return [
        f"{name}__n_jobs"
        for name, candidate in getattr(imputer, "estimators", None) or []
        if isinstance(candidate, InpaintImputer)
    ]


def run_case(image_name, mask_name, method, seed, size, threads, cache=None):
    """Missing-pixel PSNR, seconds and SSIM of one method on one masked image."""
    path = None
    if cache is not None:
        path = Path(cache) / f"{image_name}_{mask_name}_{method}_{seed}_{size}.json"
        if path.exists():
            cached = json.loads(path.read_text())
            if len(cached) == 3:  # older caches lack the SSIM: run again
                return tuple(cached)
    if threads is not None:
        torch.set_num_threads(threads)
    truth = load_image(image_name, size)
    observed = make_observed(mask_name, truth.shape, seed)
    params = {} if method in CLASSICAL_METHODS else {"random_state": seed}
    if method == BLEND_ALL:  # every candidate at every size
        imputer = image_imputer(**params).set_params(max_entries=None)
    else:
        imputer = image_imputer(method, **params)
    if threads is not None:  # the refined fill's held-out fills: threads as torch's
        imputer.set_params(**dict.fromkeys(refined_n_jobs(imputer), threads))
    completed, seconds = timed_fit_transform(imputer, np.where(observed, truth, np.nan))
    scores = image_scores(truth, completed, observed)
    psnr, ssim = scores["psnr_missing"], scores["ssim"]
    print(image_name, mask_name, method, seed, f"{psnr:.2f} dB {seconds:.0f}s",
          flush=True)  # fmt: skip
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps([psnr, seconds, ssim]))
    return psnr, seconds, ssim


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", nargs="+", default=list(IMAGES))
    parser.add_argument("--masks", nargs="+", default=list(MASKS))
    parser.add_argument("--methods", nargs="+", default=list(METHODS))
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--size", type=int, default=128)
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--tag", default="holdout")
    parser.add_argument("--cache", default=None)
    parser.add_argument("--docs", default=str(Path(__file__).parents[1] / "docs"))
    args = parser.parse_args(argv)
    tasks = [
        (image, mask, method, seed)
        for image in args.images
        for mask in args.masks
        for seed in args.seeds
        for method in args.methods
    ]
    threads = None if args.n_jobs == 1 else max(1, (os.cpu_count() or 2) // args.n_jobs)
    results = dict(
        zip(
            tasks,
            Parallel(n_jobs=args.n_jobs)(
                delayed(run_case)(*task, args.size, threads, args.cache)
                for task in tasks
            ),
            strict=True,
        )
    )
    command = command_line(
        "bench_inpainting.py", argv or sys.argv[1:], hidden=("--cache", "--docs")
    )
    lines = [
        f"# Inpainting against the classical peers ({args.size}², {args.tag})",
        "",
        f"Generated by `{command}`; seeds {args.seeds}. Missing-pixel PSNR in dB, "
        "mean ± half the spread over the seeds, then the SSIM of the whole image "
        "(mean over the seeds) and seconds per fit "
        f"({threads or torch.get_num_threads()} CPU thread(s) per fit, "
        f"{args.n_jobs} fit(s) at a time).",
        "",
        "| image | mask | " + " | ".join(args.methods) + " |",
        "|---|---|" + "---|" * len(args.methods),
    ]
    peers = [m for m in args.methods if m in CLASSICAL_METHODS]
    for image in args.images:
        for mask in args.masks:
            cells = []
            for method in args.methods:
                psnr = np.array(
                    [results[image, mask, method, s][0] for s in args.seeds]
                )
                secs = np.mean([results[image, mask, method, s][1] for s in args.seeds])
                ssim = np.mean([results[image, mask, method, s][2] for s in args.seeds])
                spread = (psnr.max() - psnr.min()) / 2
                cells.append(
                    f"{psnr.mean():.2f} ± {spread:.2f} / {ssim:.3f} ({secs:.0f}s)"
                )
            lines.append(f"| {image} | {mask} | " + " | ".join(cells) + " |")
    for ours in [m for m in args.methods if m not in peers] if peers else []:
        margins, row_margins = [], []
        for image in args.images:
            for mask in args.masks:
                row = [
                    results[image, mask, ours, s][0]
                    - max(results[image, mask, p, s][0] for p in peers)
                    for s in args.seeds
                ]
                row_margins.append(
                    f"| {image} | {mask} | {np.mean(row):+.2f} | {min(row):+.2f} |"
                )
                margins += row
        wins = sum(margin > 0 for margin in margins)
        lines += [
            "",
            f"`{ours}` beats every classical peer ({', '.join(peers)}) in {wins} of "
            f"{len(margins)} (image, mask, seed) cases; margin over the best peer: "
            f"min {min(margins):+.2f} dB, median {np.median(margins):+.2f} dB, "
            f"max {max(margins):+.2f} dB.",
            "",
            f"| image | mask | `{ours}` minus best peer, mean (dB) | worst seed (dB) |",
            "|---|---|---|---|",
            *row_margins,
        ]
    ours = [m for m in args.methods if m not in peers]
    for other in ours[1:]:
        first, rows, gaps = ours[0], [], []
        for image in args.images:
            for mask in args.masks:
                row = [
                    results[image, mask, first, s][0]
                    - results[image, mask, other, s][0]
                    for s in args.seeds
                ]
                gaps += row
                rows.append(
                    f"| {image} | {mask} | {np.mean(row):+.2f} | "
                    f"{min(row):+.2f} to {max(row):+.2f} |"
                )
        lines += [
            "",
            f"`{first}` minus `{other}`: mean {np.mean(gaps):+.2f} dB over the "
            f"{len(gaps)} cases (min {min(gaps):+.2f}, max {max(gaps):+.2f}).",
            "",
            f"| image | mask | `{first}` minus `{other}`, mean (dB) | range (dB) |",
            "|---|---|---|---|",
            *rows,
        ]
    text = "\n".join(lines) + "\n"
    out = Path(args.docs) / f"inpainting_{args.tag}.md"
    out.write_text(text)
    print(text, f"written to {out}", sep="\n")


if __name__ == "__main__":
    main()
