"""Shared by the benchmark scripts: run their cases in worker processes, time and
score their fits."""

import os
import time
import warnings

import numpy as np
from joblib import Parallel, delayed
from sklearn.exceptions import ConvergenceWarning


def run_tasks(function, tasks, n_jobs, *extra):
    """``{task: function(*task, *extra, threads)}``, ``n_jobs`` tasks at a time.

    ``threads`` is the torch thread count of each worker (the cores shared out), or
    None with ``n_jobs=1`` (one task at a time, in this process, every core).
    """
    threads = None if n_jobs == 1 else max(1, (os.cpu_count() or 2) // n_jobs)
    results = Parallel(n_jobs=n_jobs)(
        delayed(function)(*task, *extra, threads) for task in tasks
    )
    return dict(zip(tasks, results, strict=True))


def add_grid_arguments(parser, images, masks):
    """The options of an image study's grid: ``--images``, ``--masks``, ``--seeds``
    (0 1 2), ``--size`` (128) and ``--n-jobs`` (2)."""
    parser.add_argument("--images", nargs="+", default=list(images))
    parser.add_argument("--masks", nargs="+", default=list(masks))
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--size", type=int, default=128)
    parser.add_argument("--n-jobs", type=int, default=2)


def grid_cases(args):
    """The (image, mask, seed) cases of the grid parsed by :func:`add_grid_arguments`."""
    return [
        (image, mask, seed)
        for image in args.images
        for mask in args.masks
        for seed in args.seeds
    ]


def command_line(script, argv, hidden=()):
    """The command that reproduces a page: ``python benchmarks/<script>`` and its
    arguments, without the ``hidden`` options and their values (where results are
    cached or written, which does not change them)."""
    shown, skip = [], False
    for arg in argv:
        if not skip and arg not in hidden:
            shown.append(arg)
        skip = arg in hidden
    return " ".join([f"python benchmarks/{script}", *shown])


def missing_rmse(completed, X, missing):
    """RMSE on the ``missing`` entries in units of each column's std in the complete
    ``X`` (a constant column in its own units: its std counts as 1)."""
    std = X.std(axis=0)
    std[std == 0] = 1.0
    err = ((completed - X) / std)[missing]
    return float(np.sqrt(np.mean(err**2)))


def seeds_cell(rmses, seconds):
    """A table cell over seeds: the mean RMSE ± half its spread, the mean seconds."""
    rmses = np.asarray(rmses)
    spread = (rmses.max() - rmses.min()) / 2
    return f"{rmses.mean():.4f} ± {spread:.4f}, {np.mean(seconds):.1f} s"


def timed_fit_transform(imputer, X):
    """``imputer.fit_transform(X)`` and the seconds it took, without the
    ConvergenceWarning of fits that stop at ``max_iter`` (the benchmarks' budgets)."""
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        completed = imputer.fit_transform(X)
    return completed, time.perf_counter() - start
