"""The ``inrr-sklearn`` command line: complete an image file, or run the demo.

::

    inrr-sklearn complete photo.png --mask mask.png -o completed.png
    inrr-sklearn complete photo.png --missing-rate 0.5 --method inr+inrr -o out.png \\
        --figure compare.png
    inrr-sklearn demo

A mask file is an image of the same height and width: white (> 0.5) marks an observed
pixel, black a missing one. Without ``--mask`` a mask is generated (``--mask-kind``,
seeded by ``--random-state``). Colour images are completed with all channels at once
(``n_channels=3``). Needs the ``demo`` extra (scikit-image, matplotlib).
"""

import argparse
import sys
import time
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from inrr_sklearn.image import (
    IMAGE_METHODS,
    image_imputer,
    image_scores,
    read_image,
    write_image,
)
from inrr_sklearn.masks import patch_mask, random_mask, scribble_mask, text_mask


def _mask_from_args(args, shape):
    if args.mask is not None:
        mask = read_image(args.mask, gray=True)
        if mask.shape != shape:
            raise ValueError(
                f"the mask {args.mask} is {mask.shape[1]} x {mask.shape[0]} pixels, the "
                f"image {shape[1]} x {shape[0]}; they must match."
            )
        return mask > 0.5
    if args.mask_kind == "random":
        return random_mask(shape, args.missing_rate, random_state=args.random_state)
    if args.mask_kind == "text":
        return text_mask(shape)
    if args.mask_kind == "scribble":
        return scribble_mask(shape, random_state=args.random_state)
    return patch_mask(shape)


def complete(args):
    """The ``complete`` subcommand; returns the scores when the truth is known."""
    image = read_image(args.image, gray=args.gray)
    height, width = image.shape[:2]
    observed = _mask_from_args(args, (height, width))
    channels = 1 if image.ndim == 2 else image.shape[2]
    pixel_observed = observed if channels == 1 else observed[..., None]
    X = np.where(pixel_observed, image, np.nan).reshape(height, width * channels)
    params = dict(random_state=args.random_state, device=args.device)
    params["verbose"] = 0 if args.quiet else 1
    if args.max_iter is not None:
        params["max_iter"] = args.max_iter
    imputer = image_imputer(args.method, n_channels=channels, **params)
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # a budget is a choice
        completed = imputer.fit_transform(X).reshape(image.shape)
    seconds = time.perf_counter() - start
    write_image(args.output, completed)
    print(
        f"{args.method}: {int((~observed).sum())} of {height * width} pixels completed "
        f"in {seconds:.1f} s ({imputer.n_iter_} steps) -> {args.output}"
    )
    scores = None
    if args.mask is None:  # the hidden pixels are known: report how well they came back
        scores = image_scores(
            image, completed, np.broadcast_to(pixel_observed, image.shape)
        )
        print(
            f"PSNR {scores['psnr_all']:.2f} dB (all) / {scores['psnr_missing']:.2f} dB "
            f"(missing), SSIM {scores['ssim']:.3f}"
        )
    if args.figure:
        import matplotlib

        from inrr_sklearn.plotting import plot_completion_grid

        matplotlib.use("Agg")
        fig = plot_completion_grid(
            image, observed, {args.method: completed}, scores=args.mask is None
        )
        fig.savefig(args.figure, dpi=110)
        print(f"figure -> {args.figure}")
    return scores


def _method(name):
    """argparse type: a method name ``image_imputer`` accepts, refused at parse time."""
    try:
        image_imputer(name)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
    return name.lower()


def build_parser():
    parser = argparse.ArgumentParser(
        prog="inrr-sklearn", description="Complete images with INR/DMF and INRR."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    c = commands.add_parser("complete", help="complete the missing pixels of an image")
    c.add_argument("image", help="image file (PNG, JPEG, TIFF...)")
    c.add_argument("-o", "--output", required=True, help="where to write the result")
    c.add_argument("--mask", help="mask image: white = observed, black = missing")
    c.add_argument(
        "--mask-kind",
        choices=("random", "text", "scribble", "patch"),
        default="random",
        help="generated mask when --mask is not given (default: random)",
    )
    c.add_argument(
        "--missing-rate", type=float, default=0.5, help="for --mask-kind random"
    )
    c.add_argument(
        "--method",
        type=_method,
        default="inr+inrr",
        help=f"one of {', '.join(IMAGE_METHODS)}, or a model with several regularizers "
        "summed, e.g. inr+inrr+tv (default: inr+inrr)",
    )
    c.add_argument("--max-iter", type=int, help="training steps (default: the model's)")
    c.add_argument(
        "--figure", help="also write observed / completed / truth side by side"
    )
    c.add_argument("--gray", action="store_true", help="convert a colour image to gray")
    c.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:N")
    c.add_argument("--random-state", type=int, default=0)
    c.add_argument("--quiet", action="store_true", help="no progress bar")
    commands.add_parser("demo", help="the packaged demo (see inrr-demo --help)")
    return parser


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["demo"]:
        from inrr_sklearn.demo import main as demo_main

        return demo_main(argv[1:])
    args = build_parser().parse_args(argv)
    try:
        complete(args)
    except (ValueError, FileNotFoundError) as exc:
        print(f"inrr-sklearn: error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
