"""The ``inrr-sklearn`` command line: complete an image file, or run the demo.

::

    inrr-sklearn complete photo.png --mask observed.png -o completed.png
    inrr-sklearn complete photo.png --mask-holes holes.png -o completed.png
    inrr-sklearn complete photo.png --missing-rate 0.5 --method inr+inrr -o out.png \\
        --figure compare.png
    inrr-sklearn demo

Two mask conventions are accepted; a mask file is an image of the same height and
width as the photo:

- ``--mask FILE`` is this library's convention, True = observed: white (> 0.5) marks
  an observed pixel, kept as it is; black marks a missing pixel, to be completed. A
  mask with exactly two levels is split between them, so a file of 0 and 1 samples
  reads 1 as observed.
- ``--mask-holes FILE`` is the inpainting convention of scikit-image
  (``skimage.restoration.inpaint_biharmonic``) and OpenCV (``cv2.inpaint``), the
  opposite one: every nonzero (white) pixel is a hole, to be completed; black pixels
  are observed.

Without either a mask is generated (``--mask-kind``, seeded by ``--random-state``) and
the scores on the hidden pixels are printed. Colour images are completed with all
channels at once (``n_channels=3``). The result has the input's bit depth: a 16-bit
PNG or TIFF gives a 16-bit file (observed pixels unchanged, bit for bit; ``-o`` must
then be PNG or TIFF to keep 16 bits), a float TIFF a float TIFF (values kept as they
are, also above 1; to another format only if they lie in [0, 1]), anything else an
8-bit one.

The output and figure paths are checked before any fitting; a bad path, an unreadable
image or mask, or a missing dependency ends with a one-line ``inrr-sklearn: error:``
message and exit status 2, as a usage error does. Needs the ``demo`` extra
(scikit-image; matplotlib for ``--figure``): ``pip install "inrr_sklearn[demo]"``.
"""

import argparse
import os
import sys
import time
import warnings
from pathlib import Path

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from inrr_sklearn._inpaint import CLASSICAL_METHODS
from inrr_sklearn.image import image_scores, read_image, write_image
from inrr_sklearn.image.io import FLOAT_SUFFIXES
from inrr_sklearn.masks import MASK_KINDS, make_mask
from inrr_sklearn.recipes import IMAGE_METHODS, REFINED_METHOD, image_imputer

#: Suffixes ``-o`` accepts (what :func:`~inrr_sklearn.image.write_image` writes).
OUTPUT_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp")
_EIGHT_BIT_SUFFIXES = (".jpg", ".jpeg", ".bmp")
_INSTALL_DEMO = 'pip install "inrr_sklearn[demo]"'


class _UsageError(Exception):
    """A problem with the command line or its files: one line, exit status 2."""


def _require_demo_extra(figure=False):
    """Refuse early, in one line, when scikit-image (or matplotlib) is missing."""
    try:
        import skimage.io
        import skimage.metrics  # noqa: F401
    except ImportError:
        raise _UsageError(
            f"inrr-sklearn complete needs scikit-image: {_INSTALL_DEMO}"
        ) from None
    if figure:
        try:
            import matplotlib  # noqa: F401
        except ImportError:
            raise _UsageError(f"--figure needs matplotlib: {_INSTALL_DEMO}") from None


def _figure_suffixes():
    from matplotlib.backend_bases import FigureCanvasBase

    return tuple(f".{ext}" for ext in FigureCanvasBase.get_supported_filetypes())


def _check_writable(path, suffixes, option):
    """Refuse a path with an unknown suffix or in a folder that cannot be written."""
    target = Path(path)
    known = ", ".join(suffix[1:] for suffix in suffixes)
    if not target.suffix:
        raise _UsageError(f"{option} {path}: no file suffix; use one of {known}.")
    if target.suffix.lower() not in suffixes:
        raise _UsageError(
            f"{option} {path}: {target.suffix} is not a format it can write; use one "
            f"of {known}."
        )
    if target.is_dir():
        raise _UsageError(f"{option} {path}: is a folder.")
    folder = target.parent
    if not folder.is_dir():
        raise _UsageError(f"{option} {path}: the folder {folder} does not exist.")
    if not os.access(folder, os.W_OK | os.X_OK) or (
        target.exists() and not os.access(target, os.W_OK)
    ):
        raise _UsageError(f"{option} {path}: not writable (permission denied).")
    existed = target.exists()
    try:  # os.access says yes to root everywhere: try it for real
        with open(target, "ab"):
            pass
    except OSError as exc:
        raise _UsageError(f"{option} {path}: not writable ({exc.strerror}).") from None
    if not existed:
        target.unlink()


def _check_paths(args):
    _check_writable(args.output, OUTPUT_SUFFIXES, "-o")
    if args.figure:
        _check_writable(args.figure, _figure_suffixes(), "--figure")
        if Path(args.figure).resolve() == Path(args.output).resolve():
            raise _UsageError("--figure and -o are the same file.")


def _mask_from_args(args, shape):
    """The observed pixels (True = observed), from a mask file or generated."""
    path = args.mask if args.mask is not None else args.mask_holes
    if path is not None:
        mask = read_image(path, gray=True)
        if mask.shape != shape:
            raise ValueError(
                f"the mask {path} is {mask.shape[1]} x {mask.shape[0]} pixels, the "
                f"image {shape[1]} x {shape[0]}; they must match."
            )
        if args.mask_holes is not None:  # nonzero = hole (OpenCV's convention)
            return mask == 0
        levels = np.unique(mask)
        if levels.size == 2:  # a two-level mask (also 0/1 samples): the upper is white
            return mask > levels.mean()
        return mask > 0.5  # white (> 0.5) = observed
    return make_mask(
        args.mask_kind,
        shape,
        missing_rate=args.missing_rate,
        random_state=args.random_state,
    )


def _output_dtype(input_dtype, output, image):
    """float32 for float inputs written as TIFF; uint16 for other inputs deeper than
    8 bits (PNG and TIFF only), else uint8. A float image with values outside
    [0, 1] that the output cannot hold is a usage error."""
    suffix = Path(output).suffix.lower()
    if np.dtype(input_dtype).kind == "f":
        if suffix in FLOAT_SUFFIXES:
            return np.dtype(np.float32)
        low, high = float(np.nanmin(image)), float(np.nanmax(image))
        if low < 0 or high > 1:
            raise _UsageError(
                f"the image has float samples in [{low:.4g}, {high:.4g}], outside the "
                f"[0, 1] that {suffix[1:].upper()} holds: write a .tif to keep them."
            )
    if np.dtype(input_dtype).itemsize < 2:  # uint8, bool (1-bit files)
        return np.dtype(np.uint8)
    if suffix in _EIGHT_BIT_SUFFIXES:
        print(
            f"inrr-sklearn: warning: the input has more than 8 bits per channel but "
            f"{suffix[1:].upper()} holds 8; writing {output} as 8-bit (use .png or "
            ".tif to keep 16 bits).",
            file=sys.stderr,
        )
        return np.dtype(np.uint8)
    return np.dtype(np.uint16)


def _steps(imputer):
    """Training steps taken, for the summary line ("" for a classical method)."""
    models = getattr(imputer, "estimators_", {"": imputer})
    steps = [m.n_iter_ for m in models.values() if hasattr(m, "n_iter_")]
    return f" ({'+'.join(map(str, steps))} steps)" if steps else ""


def complete(args):
    """The ``complete`` subcommand; returns the scores when the truth is known.

    Checks the dependencies and the output paths, then reads the image and the mask,
    all before fitting. Usage problems raise ``_UsageError``, unreadable files
    ``ValueError``; :func:`main` turns both into a one-line message and exit status 2.
    """
    _require_demo_extra(figure=bool(args.figure))
    _check_paths(args)
    image, input_dtype = read_image(args.image, gray=args.gray, return_dtype=True)
    height, width = image.shape[:2]
    observed = _mask_from_args(args, (height, width))
    output_dtype = _output_dtype(input_dtype, args.output, image)
    mask_given = args.mask is not None or args.mask_holes is not None
    channels = 1 if image.ndim == 2 else image.shape[2]
    pixel_observed = observed if channels == 1 else observed[..., None]
    X = np.where(pixel_observed, image, np.nan).reshape(height, width * channels)
    params = {}  # a classical method trains nothing and takes none of these
    if args.method == REFINED_METHOD:  # trees learned in seconds, no training loop
        params = {"random_state": args.random_state}
    elif args.method not in CLASSICAL_METHODS:
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
    write_image(args.output, completed, dtype=output_dtype)
    print(
        f"{args.method}: {int((~observed).sum())} of {height * width} pixels completed "
        f"in {seconds:.1f} s{_steps(imputer)} -> {args.output} "
        f"({8 * output_dtype.itemsize}-bit{' float' if output_dtype.kind == 'f' else ''})"
    )
    scores = None
    if not mask_given:  # the hidden pixels are known: report how well they came back
        scores = image_scores(
            image, completed, np.broadcast_to(pixel_observed, image.shape)
        )
        ssim = (
            "n/a (a side under 3 pixels)"
            if np.isnan(scores["ssim"])
            else f"{scores['ssim']:.3f}"
        )
        print(
            f"PSNR {scores['psnr_all']:.2f} dB (all) / {scores['psnr_missing']:.2f} dB "
            f"(missing), SSIM {ssim}"
        )
    if args.figure:
        import matplotlib

        from inrr_sklearn.plotting import plot_completion_grid

        matplotlib.use("Agg")
        fig = plot_completion_grid(
            image, observed, {args.method: completed}, scores=not mask_given
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
    c = commands.add_parser(
        "complete",
        help="complete the missing pixels of an image",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Complete the missing pixels of an image file.\n\n"
        "Mask files, two opposite conventions:\n"
        "  --mask FILE        white = OBSERVED (this library's, True = observed)\n"
        "  --mask-holes FILE  white/nonzero = HOLE (skimage's and OpenCV's\n"
        "                     inpainting masks: inpaint_biharmonic, cv2.inpaint)",
    )
    c.add_argument("image", help="image file (PNG, JPEG, TIFF, BMP; 8- or 16-bit)")
    c.add_argument(
        "-o",
        "--output",
        required=True,
        help="where to write the result: .png, .jpg/.jpeg, .tif/.tiff or .bmp; a "
        "16-bit input gives a 16-bit PNG or TIFF",
    )
    masks = c.add_mutually_exclusive_group()
    masks.add_argument(
        "--mask",
        metavar="FILE",
        help="mask of the OBSERVED pixels (this library's convention): white (> 0.5) "
        "= observed, kept; black = missing, completed",
    )
    masks.add_argument(
        "--mask-holes",
        metavar="FILE",
        help="mask of the HOLES (skimage/OpenCV inpainting convention): every "
        "nonzero (white) pixel is missing, completed; black = observed, kept",
    )
    c.add_argument(
        "--mask-kind",
        choices=MASK_KINDS,
        default="random",
        help="generated mask when no mask file is given (default: random)",
    )
    c.add_argument(
        "--missing-rate", type=float, default=0.5, help="for --mask-kind random"
    )
    c.add_argument(
        "--method",
        type=_method,
        default="blend",
        help="blend (the default: an INR blended with the biharmonic fill, plain and "
        "refined, weights learned on held-out pixels; above 50,000 pixels the "
        "refined fill alone), refined (the biharmonic fill "
        "corrected by trees learned from the image: seconds), one of "
        f"{', '.join(CLASSICAL_METHODS)} (classical "
        f"inpainting), one of {', '.join(IMAGE_METHODS)}, or a model with several "
        "regularizers summed, e.g. inr+inrr+tv",
    )
    c.add_argument("--max-iter", type=int, help="training steps (default: the model's)")
    c.add_argument(
        "--figure",
        metavar="FILE",
        help="also write observed / completed / truth side by side (any format "
        "matplotlib saves: .png, .pdf, .svg, .jpg...)",
    )
    c.add_argument("--gray", action="store_true", help="convert a colour image to gray")
    c.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:N")
    c.add_argument("--random-state", type=int, default=0)
    c.add_argument("--quiet", action="store_true", help="no progress bar")
    commands.add_parser("demo", help="the packaged demo (see inrr-demo --help)")
    return parser


def _error(message):
    """Print ``inrr-sklearn: error: message`` on one line to stderr; return 2."""
    print(
        f"inrr-sklearn: error: {' '.join(str(message).splitlines())}", file=sys.stderr
    )
    return 2


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["demo"]:
        from inrr_sklearn.demo import main as demo_main

        try:
            return demo_main(argv[1:])
        except ImportError as exc:
            if (exc.name or "").partition(".")[0] not in ("skimage", "matplotlib"):
                raise
            return _error(
                f"inrr-sklearn demo needs scikit-image and matplotlib: {_INSTALL_DEMO}"
            )
    args = build_parser().parse_args(argv)
    try:
        complete(args)
    except (_UsageError, ValueError, OSError) as exc:
        return _error(exc)
    return 0


if __name__ == "__main__":
    sys.exit(main())
