"""The demo main job: hide pixels of a sample image, complete them, compare methods.

Run ``inrr-demo`` (or ``python -m inrr_sklearn.demo``) after ``pip install
".[demo]"``. It takes ``skimage.data.camera()`` resized to 96 x 96, hides pixels with
a random 50 % mask, a text mask and a scribble mask, completes them with the
classical peers a user would call instead (scikit-image's biharmonic inpainting,
OpenCV's Telea and Navier-Stokes; under a second each), with ``INRImputer`` plain,
with TV and with INRR, with ``image_imputer("refined")`` (the biharmonic fill
corrected by trees learned from the image; seconds) and with the recommended
``image_imputer("blend")`` (an INR blended with the biharmonic fill, plain and
refined, weights learned on held-out pixels) — library
defaults, the same budget of at most 800 steps per INR fit, so that the whole job takes
a few minutes on two CPU cores. It prints PSNR over all pixels and over the missing
ones plus seconds, and writes ``inrr_demo.png`` (observed / each method / truth). Each
mask shows where each method stands, peers included.
"""

import argparse
import time
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from inrr_sklearn._inpaint import CLASSICAL_METHODS, classical_inpaint
from inrr_sklearn.image import image_scores, load_image
from inrr_sklearn.masks import make_mask
from inrr_sklearn.recipes import REFINED_METHOD, image_imputer

# Label -> image_imputer name (ours) or classical_inpaint method (the peers a user
# would call instead: scikit-image's biharmonic, OpenCV's Telea and Navier-Stokes).
METHODS = {
    "biharmonic": "biharmonic",
    "Refined": REFINED_METHOD,
    "Telea": "telea",
    "NS": "ns",
    "INR": "inr",
    "INR+TV": "inr+tv",
    "INR+INRR": "inr+inrr",
    "Blend": "blend",
}


def run(
    image_name="camera",
    size=96,
    methods=None,
    random_state=0,
    output="inrr_demo.png",
    max_iter=800,
    verbose=0,
):
    """Complete the masked image with each method; print a table, save a figure.

    Returns
    -------
    rows : list of dict
        One record per (mask, method): PSNR over all and missing pixels, seconds.
    """
    truth = load_image(image_name, size)
    masks = {
        "random 50%": make_mask(
            "random", truth.shape, missing_rate=0.5, random_state=random_state
        ),
        "text": make_mask("text", truth.shape),
        "scribble": make_mask("scribble", truth.shape, random_state=random_state),
    }
    methods = METHODS if methods is None else {m: METHODS[m] for m in methods}
    rows, completions = [], {}
    header = (
        f"{'mask':<12} {'method':<10} {'PSNR all':>9} {'PSNR miss':>10} {'seconds':>8}"
    )
    print(f"{image_name} {size}x{size}\n{header}\n{'-' * len(header)}")
    for mask_name, observed in masks.items():
        X = np.where(observed, truth, np.nan)
        for method, name in methods.items():
            start = time.perf_counter()
            if name in CLASSICAL_METHODS:
                completed = classical_inpaint(X, observed, name)
            elif name == REFINED_METHOD:  # no training loop: no budget, no progress
                imputer = image_imputer(name, random_state=random_state)
                completed = imputer.fit_transform(X)
            else:
                imputer = image_imputer(
                    name,
                    max_iter=max_iter,
                    random_state=random_state,
                    verbose=verbose,
                )
                with warnings.catch_warnings():
                    # The demo's budget is fixed on purpose; a run it cuts short is
                    # expected, not news.
                    warnings.simplefilter("ignore", ConvergenceWarning)
                    completed = imputer.fit_transform(X)
            seconds = time.perf_counter() - start
            scores = image_scores(truth, completed, observed)
            p_all, p_miss = scores["psnr_all"], scores["psnr_missing"]
            rows.append(
                dict(
                    mask=mask_name,
                    method=method,
                    psnr_all=p_all,
                    psnr_missing=p_miss,
                    seconds=seconds,
                )
            )
            completions[mask_name, method] = completed
            print(
                f"{mask_name:<12} {method:<10} {p_all:9.2f} {p_miss:10.2f} "
                f"{seconds:8.1f}",
                flush=True,
            )
    if output:
        _save_figure(output, truth, masks, methods, completions)
        print(f"figure written to {output}")
    return rows


def _save_figure(path, truth, masks, methods, completions):
    """One completion-grid row per mask (``plot_completion_grid``), saved to path."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from inrr_sklearn.plotting import plot_completion_grid

    n_cols = len(methods) + 2
    fig, axes = plt.subplots(
        len(masks), n_cols, figsize=(2.2 * n_cols, 2.4 * len(masks)), squeeze=False
    )
    for row, (mask_name, observed) in enumerate(masks.items()):
        plot_completion_grid(
            truth,
            observed,
            {method: completions[mask_name, method] for method in methods},
            axes=axes[row],
        )
        axes[row, 0].set_title(f"observed ({mask_name})", fontsize=8)
    fig.suptitle("PSNR all / missing pixels", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--image", default="camera", help="a skimage.data image name")
    parser.add_argument("--size", type=int, default=96)
    parser.add_argument("--max-iter", type=int, default=800)
    parser.add_argument("--output", default="inrr_demo.png")
    parser.add_argument("--random-state", type=int, default=0)
    parser.add_argument("--verbose", type=int, default=0)
    args = parser.parse_args(argv)
    run(
        args.image,
        args.size,
        random_state=args.random_state,
        output=args.output,
        max_iter=args.max_iter,
        verbose=args.verbose,
    )


if __name__ == "__main__":
    main()
