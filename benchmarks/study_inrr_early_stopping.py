"""INRR against an early-stopped SIREN: the comparison a user of the library needs.

Usage::

    python benchmarks/study_inrr_early_stopping.py                  # 128², 2,000 steps
    python benchmarks/study_inrr_early_stopping.py --max-iter 10001 # the paper's length

The paper shows a plain SIREN overfitting its observed pixels after a few thousand
steps while SIREN + INRR keeps improving. The library stops early by default (it holds
out 10 % of the observed pixels and keeps the best step), which removes that
overfitting by another route, so INRR has to beat the *early-stopped* SIREN to earn its
place. For each image (camera, astronaut, coins at ``--size``), mask (scribble and
the paper's two patches, text; the scribble drawn with the seed) and seed (0, 1, 2,
also seeding the models), three fits of the library's CPU SIREN (64 x 5, Adam 1e-3):

- ``inr``: plain, ``early_stopping=False``, ``--max-iter`` steps, its missing-pixel
  PSNR recorded every ``--max-iter / 20`` steps (the curve: its peak, its last step);
- ``inr, early stop``: plain with the library's early stopping (at most
  ``--max-iter`` steps), the PSNR of the model it returns;
- ``inr+inrr``: ``INRR()`` at its defaults, ``early_stopping=False``, the curve.

Each cell: mean over the seeds ± half their spread. Writes
``docs/inrr_early_stopping.md`` (``_<tag>.md`` with ``--tag``; with ``--cache DIR``,
each fit's curve to DIR, read back instead of fitting again). On a GPU
(``benchmarks/gpu_suite.sh``): ``--size 256 --max-iter 10001 --tag gpu256``.
"""

import argparse
import json
import sys
import warnings
from pathlib import Path

import numpy as np
import torch
from _tasks import command_line, run_tasks
from sklearn.exceptions import ConvergenceWarning

from inrr_sklearn import image_imputer
from inrr_sklearn.image import image_scores, load_image
from inrr_sklearn.masks import make_mask

IMAGES = ("camera", "astronaut", "coins")
MASKS = ("scribble", "text", "patch")
RUNS = ("inr", "inr, early stop", "inr+inrr")


def _psnr(truth, completion, observed):
    return image_scores(truth, completion, observed)["psnr_missing"]


def _fit(image_name, mask_name, run, seed, args, threads):
    """One fit; returns (steps, PSNR curve) — one point for the early-stopped run."""
    path = None
    if args.cache is not None:
        key = f"{image_name}_{mask_name}_{run}_{seed}_{args.size}_{args.max_iter}"
        path = Path(args.cache) / (key.replace(", ", "_").replace(" ", "_") + ".json")
        if path.exists():
            return tuple(json.loads(path.read_text()))
    if threads is not None:  # a joblib worker process: share the cores out
        torch.set_num_threads(threads)
    truth = load_image(image_name, args.size)
    observed = make_mask(mask_name, truth.shape, random_state=seed)
    early = run == "inr, early stop"
    imputer = image_imputer(
        "inr+inrr" if run == "inr+inrr" else "inr",
        max_iter=args.max_iter,
        early_stopping=early,
        record_every=None if early else max(1, args.max_iter // 20),
        random_state=seed,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        completed = imputer.fit_transform(np.where(observed, truth, np.nan))
    steps, completions = [imputer.n_iter_], [completed]
    if not early:
        steps = [*imputer.history_["iteration"], imputer.n_iter_]
        completions = [*imputer.history_["completion"], completed]
    curve = [float(_psnr(truth, c, observed)) for c in completions]
    print(image_name, mask_name, run, seed, f"{curve[-1]:.2f}", flush=True)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps([steps, curve]))
    return steps, curve


def _cell(values):
    values = np.asarray(values)
    return f"{values.mean():.2f} ± {(values.max() - values.min()) / 2:.2f}"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=128)
    parser.add_argument("--max-iter", type=int, default=2000)
    parser.add_argument("--images", nargs="+", default=list(IMAGES))
    parser.add_argument("--masks", nargs="+", default=list(MASKS))
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--cache", default=None)
    parser.add_argument(
        "--tag", default=None, help="writes docs/inrr_early_stopping_<tag>.md"
    )
    parser.add_argument("--note", default="", help="a sentence added to the page")
    parser.add_argument("--docs", default=str(Path(__file__).parents[1] / "docs"))
    args = parser.parse_args(argv)

    tasks = [  # seed by seed: a cut-short run leaves whole seeds in --cache
        (i, m, r, s)
        for s in args.seeds
        for i in args.images
        for m in args.masks
        for r in RUNS
    ]
    results = run_tasks(_fit, tasks, args.n_jobs, args)

    command = command_line(
        "study_inrr_early_stopping.py",
        argv or sys.argv[1:],
        hidden=("--cache", "--docs", "--n-jobs", "--note"),
    )
    lines = [
        f"# INRR against an early-stopped SIREN ({args.size}², {args.max_iter} steps)",
        "",
        f"Generated by `{command}`; torch {torch.__version__}; seeds {args.seeds}. "
        "SIREN 64 x 5, Adam 1e-3, `INRR()` at its defaults. Missing-pixel PSNR (dB), "
        "mean over the seeds ± half their spread. *peak*: the best recorded step of "
        "the run (an oracle: it reads the hidden pixels); *last*: the model after "
        f"{args.max_iter} steps; *early stop*: the model the library's early stopping "
        "returns (10 % of the observed pixels held out), and its mean step count. "
        + args.note,
        "",
        "| image | mask | inr peak (step) | inr last | inr early stop (steps) "
        "| inr+inrr peak (step) | inr+inrr last | inr+inrr last minus inr early stop |",
        "|---|---|---|---|---|---|---|---|",
    ]
    gains = {}
    for image_name in args.images:
        for mask_name in args.masks:

            def runs(run, image_name=image_name, mask_name=mask_name):
                return [results[image_name, mask_name, run, s] for s in args.seeds]

            def peak(curves):
                best = [int(np.argmax(c)) for _, c in curves]
                values = [c[b] for (_, c), b in zip(curves, best, strict=True)]
                at = [s[b] for (s, _), b in zip(curves, best, strict=True)]
                return f"{_cell(values)} (@{int(np.mean(at))})"

            plain, early, inrr = runs("inr"), runs("inr, early stop"), runs("inr+inrr")
            gain = [i[1][-1] - e[1][-1] for i, e in zip(inrr, early, strict=True)]
            gains[image_name, mask_name] = gain
            lines.append(
                f"| {image_name} | {mask_name} | {peak(plain)} "
                f"| {_cell([c[-1] for _, c in plain])} "
                f"| {_cell([c[-1] for _, c in early])} "
                f"(@{int(np.mean([s[-1] for s, _ in early]))}) "
                f"| {peak(inrr)} | {_cell([c[-1] for _, c in inrr])} "
                f"| {_cell(gain)} |"
            )
    lines += ["", "## Reading", ""]
    for mask_name in args.masks:
        gain = np.concatenate([gains[i, mask_name] for i in args.images])
        lines.append(
            f"- {mask_name}: INR + INRR after {args.max_iter} steps minus the "
            f"early-stopped SIREN: mean {gain.mean():+.2f} dB, from {gain.min():+.2f} "
            f"to {gain.max():+.2f} dB; ahead in {int((gain > 0).sum())} of {gain.size} "
            "(image, seed) cases."
        )
    suffix = f"_{args.tag}" if args.tag else ""
    path = Path(args.docs) / f"inrr_early_stopping{suffix}.md"
    path.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
