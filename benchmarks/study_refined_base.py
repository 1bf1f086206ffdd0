"""Which classical fill should the refined fill correct? Rules that choose it on held-out pixels.

Usage::

    python benchmarks/study_refined_base.py                  # ~25 min on 2 cores
    python benchmarks/study_refined_base.py --seeds 3 4 5 --tag seeds345
    python benchmarks/study_refined_base.py --images rocket brick --masks patch

For each (image, mask, seed) (masks as in ``bench_inpainting.py``), the refined fill
(``InpaintImputer(method, refine=True, random_state=seed)``) is fitted on each
classical fill: biharmonic, Telea and Navier-Stokes. The same seed draws the same
held-out sets (observed pixels hidden in the shape of the holes) and trees for all
three, so ``method="auto"`` returns exactly the refined fill of the method it
chooses. Each method's summed squared error on those held-out sets (what ``"auto"``
reads) is computed as the library computes it, and every rule is scored on the same
fits: keep biharmonic unless another method's held-out error is below ``1 - margin``
times biharmonic's, for several margins; the best of the three in hindsight
(``oracle``) bounds what any rule could win. The library's own choice
(``InpaintImputer("auto")``) is checked to be the rule at its margin. Prints and
writes ``docs/refined_base[_TAG].md``: per (image, mask), the three refined fills'
missing-pixel PSNR and the held-out error ratios; per mask and rule, the PSNR
minus that of the refined biharmonic fill over every (image, seed) case.
"""

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
from _tasks import (
    add_grid_arguments,
    command_line,
    grid_cases,
    run_tasks,
    timed_fit_transform,
)
from bench_inpainting import make_observed
from sklearn.utils import check_random_state
from study_blend_candidates import IMAGES  # the 11 images of the image studies

from inrr_sklearn import CLASSICAL_METHODS, InpaintImputer
from inrr_sklearn._inpaint import (
    _SWITCH_MARGIN,
    _chosen_index,
    _enough_heldout,
    _heldout_errors,
    _heldout_sets,
    _unit_pixels,
)
from inrr_sklearn.image import image_scores, load_image

MASKS = ("random 50%", "text", "scribble", "patch")
MARGINS = (0.0, 0.025, 0.05, 0.1, 0.2)


def run_case(image_name, mask_name, seed, size, cache, threads):
    """Each refined fill's missing-pixel PSNR and seconds, and the methods' summed
    held-out errors (None when there are too few held-out pixels to choose); kept
    in ``cache`` (a folder, or None) and read from it once there."""
    path = cache and Path(cache, f"{image_name}_{mask_name}_{seed}_{size}.json")
    if path and path.exists():
        case = json.loads(path.read_text())
        case["totals"] = None if case["totals"] is None else np.array(case["totals"])
        return case
    truth = load_image(image_name, size)
    observed = make_observed(mask_name, truth.shape, seed)
    X = np.where(observed, truth, np.nan)
    psnr, seconds = {}, {}
    for method in CLASSICAL_METHODS:
        imputer = InpaintImputer(method, refine=True, random_state=seed)
        completed, seconds[method] = timed_fit_transform(imputer, X)
        psnr[method] = image_scores(truth, completed, observed)["psnr_missing"]
    # The held-out sets and errors exactly as InpaintImputer("auto") draws them.
    unit, pixel_observed, _, _ = _unit_pixels(X, observed, 1)
    hidden_sets = _heldout_sets(pixel_observed, 1, check_random_state(seed))
    start = time.perf_counter()
    errors = _heldout_errors(unit, pixel_observed, hidden_sets, CLASSICAL_METHODS, 3)
    heldout_seconds = time.perf_counter() - start
    # Too few held-out pixels to judge: "auto" keeps biharmonic.
    totals = errors[0].sum(axis=1) if _enough_heldout(hidden_sets, 1) else None
    print(image_name, mask_name, seed, psnr, totals, flush=True)
    case = {"psnr": psnr, "seconds": seconds, "heldout_seconds": heldout_seconds,
            "totals": totals}  # fmt: skip
    if path:
        path.write_text(
            json.dumps({**case, "totals": None if totals is None else totals.tolist()})
        )
    return case


def check_library_rule(image_name, mask_name, seed, size, case):
    """``InpaintImputer("auto")`` chooses what the rule at the library's margin
    chooses from ``case``'s held-out errors (so that a cached case still reads as
    the library does today)."""
    truth = load_image(image_name, size)
    X = np.where(make_observed(mask_name, truth.shape, seed), truth, np.nan)
    library = InpaintImputer("auto", random_state=seed).fit(X).method_
    expected = rule_method(case, _SWITCH_MARGIN)
    assert library == expected, (image_name, mask_name, seed, library, expected)


def rule_method(case, margin):
    """The method the rule with ``margin`` chooses in ``case`` (None: oracle)."""
    if case["totals"] is None:
        return "biharmonic"
    if margin is None:
        return max(CLASSICAL_METHODS, key=case["psnr"].get)
    return CLASSICAL_METHODS[_chosen_index(case["totals"][:, None], margin)]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_grid_arguments(parser, IMAGES, MASKS)
    parser.add_argument("--tag", default="")
    parser.add_argument("--cache", default=None)
    parser.add_argument("--docs", default=str(Path(__file__).parents[1] / "docs"))
    args = parser.parse_args(argv)
    tasks = grid_cases(args)
    if args.cache:
        Path(args.cache).mkdir(parents=True, exist_ok=True)
    results = run_tasks(run_case, tasks, args.n_jobs, args.size, args.cache)
    for task, case in results.items():
        check_library_rule(*task, args.size, case)
    hidden = ("--docs", "--cache")
    command = command_line("study_refined_base.py", argv or sys.argv[1:], hidden)
    rules = [(f"margin {100 * m:g} %", m) for m in MARGINS] + [("oracle", None)]
    lines = [
        f"# The classical fill under the refined fill ({args.size}²)",
        "",
        f"Generated by `{command}`; seeds {args.seeds}. Per (image, mask): the "
        "missing-pixel PSNR of the refined fill on each classical fill (mean over "
        "the seeds); the held-out error of Telea and of Navier-Stokes over "
        "biharmonic's (the sets the refined fill learns from, each inpainted "
        "without its pixels; mean ratio over the seeds); the method each seed "
        "gets under the library's rule (one letter a seed: b biharmonic, t Telea, "
        f"n Navier-Stokes; a method other than biharmonic needs a held-out error "
        f"{100 * _SWITCH_MARGIN:g} % below biharmonic's) and under no margin; "
        "seconds of one refined fit and of the three methods' held-out fills "
        f"(medians; {args.n_jobs} fit(s) at a time on {os.cpu_count()} cores).",
        "",
        "| image | mask | refined b / t / n (dB) | held-out t/b, n/b "
        "| chosen | chosen, no margin | s: refined / held-out fills |",
        "|---|---|---|---|---|---|---|",
    ]
    for image in args.images:
        for mask in args.masks:
            cases = [results[(image, mask, seed)] for seed in args.seeds]
            psnr = [np.mean([c["psnr"][m] for c in cases]) for m in CLASSICAL_METHODS]
            judged = [c["totals"] for c in cases if c["totals"] is not None]
            ratios = (
                " / ".join(
                    f"{np.mean([t[k] / t[0] for t in judged]):.3f}" for k in (1, 2)
                )
                if judged
                else "-"
            )
            chosen = [
                "".join(rule_method(c, margin)[0] for c in cases)
                for margin in (_SWITCH_MARGIN, 0.0)
            ]
            seconds = np.median([c["seconds"]["biharmonic"] for c in cases])
            heldout = np.median([c["heldout_seconds"] for c in cases])
            lines.append(
                f"| {image} | {mask} | {' / '.join(f'{p:.2f}' for p in psnr)} "
                f"| {ratios} | {chosen[0]} | {chosen[1]} "
                f"| {seconds:.1f} / {heldout:.2f} |"
            )
    lines += [
        "",
        "Each rule's refined fill minus the refined biharmonic fill, by mask, over "
        "every (image, seed) case (the horse's patches left out: biharmonic fills "
        "them exactly, and every refined fill there is 50-60 dB, an invisible "
        "error): mean dB, smallest, largest, cases that changed method.",
        "",
        "| rule | " + " | ".join(args.masks) + " |",
        "|---|" + "---|" * len(args.masks),
    ]
    for name, margin in rules:
        cells = []
        for mask in args.masks:
            diff = np.array(
                [
                    results[(image, mask, seed)]["psnr"][
                        rule_method(results[(image, mask, seed)], margin)
                    ]
                    - results[(image, mask, seed)]["psnr"]["biharmonic"]
                    for image in args.images
                    for seed in args.seeds
                    if not (image == "horse" and mask == "patch")
                ]
            )
            cells.append(
                f"{diff.mean():+.3f} [{diff.min():+.2f}, {diff.max():+.2f}] "
                f"{int(np.sum(diff != 0))}/{diff.size}"
            )
        shipped = " (the library's)" if margin == _SWITCH_MARGIN else ""
        lines.append(f"| {name}{shipped} | " + " | ".join(cells) + " |")
    text = "\n".join(lines) + "\n"
    print(text)
    suffix = f"_{args.tag}" if args.tag else ""
    Path(args.docs, f"refined_base{suffix}.md").write_text(text)


if __name__ == "__main__":
    main()
