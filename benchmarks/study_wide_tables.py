"""``BlendImputer()`` on wide tables: its IterativeImputer and KNN candidates' limits.

Usage::

    python benchmarks/study_wide_tables.py            # ~30 min on 2 cores
    python benchmarks/study_wide_tables.py --seeds 0  # one seed

``IterativeImputer`` (BayesianRidge) fits one regression per column and round, on
every other column: its time grows with columns x rounds (about 6 ms of
scikit-learn's own overhead a regression) and its memory with rounds x columns³ (each
stored BayesianRidge keeps a columns² covariance). Inside the blend it is fitted four
times (three held-out sets and the refit), up to 20 rounds each: on a 60 x 300 table
one fit of it alone held 2.7 GB (maximum resident memory) and took 121 s, and the
former blend's two worker processes were killed for memory (13 GB each) on a 24 GiB
machine. The blend's candidate now regresses each column on 30 others
(``n_nearest_features``, drawn by scikit-learn in proportion to their correlation
with it) above 64 columns and leaves the blend above 500; its KNN candidate joins
while rows² x columns is at most 3e8 (was 5e7).

Tables with more columns, or more rows x columns, than ``bench_tabular.py``'s (at
most 33 columns): generated rank-5 tables (noise 0.3) of 60 x 300, 300 x 120, 60 x
500 and 60 x 1,000, a generated nonlinear one (200 x 100: sines and squares of two
latent variables, noise 0.1), scikit-learn's ``load_digits`` (1,797 x 64, 8 x 8
images of digits) and ``load_breast_cancer`` (569 x 30, a control: the limits do not
change its blend). MCAR 20 %, seeds 0, 1, 2. RMSE on the hidden entries in units of
each column's standard deviation (mean over seeds, ± half the spread), seconds of one
fit + transform on this machine's 2 cores (the blend's candidates in its worker
processes).

Peers: column mean, ``KNNImputer()``, ``IterativeImputer()`` (scikit-learn's
defaults: BayesianRidge on every other column, 10 rounds; up to ``--iterative-max``
columns, for its memory) and ``SoftImputer()``. Blends, all with
``random_state=seed``: the former ``BlendImputer()`` (IterativeImputer on every other
column, KNN up to 5e7; up to ``--all-features-max`` columns, for its memory), the
``BlendImputer()`` of the library now, and it without its IterativeImputer candidate
(where it has one) or with it at any width (where it has none).

Prints and writes ``docs/wide_tables.md``.
"""

import argparse
import sys
from pathlib import Path

import numpy as np
from _tasks import command_line, missing_rmse, timed_fit_transform
from sklearn.datasets import load_breast_cancer, load_digits
from sklearn.experimental import enable_iterative_imputer  # noqa: F401
from sklearn.impute import IterativeImputer, KNNImputer, SimpleImputer

from inrr_sklearn import BlendImputer, SoftImputer
from inrr_sklearn._blend import (
    _ITERATIVE_COLUMNS,
    default_candidates,
)

# The KNN candidate's size limit (rows² x columns) before this study.
FORMER_KNN_WORK = 5e7


def tables():
    """Name -> complete table."""
    rng = np.random.default_rng(0)
    found = {}
    for n_rows, n_cols in ((60, 300), (300, 120), (60, 500), (60, 1000)):
        low_rank = rng.normal(size=(n_rows, 5)) @ rng.normal(size=(5, n_cols))
        found[f"rank 5, {n_rows} x {n_cols}"] = low_rank + 0.3 * rng.normal(
            size=low_rank.shape
        )
    latent = rng.uniform(-2, 2, size=(200, 2))
    directions = rng.normal(size=(2, 100))
    projected = latent @ directions + rng.uniform(0, np.pi, size=100)
    nonlinear = np.where(np.arange(100) % 2 == 0, np.sin(projected), projected**2 / 4)
    found["nonlinear, 200 x 100"] = nonlinear + 0.1 * rng.normal(size=nonlinear.shape)
    found["digits, 1797 x 64"] = load_digits().data
    found["breast cancer, 569 x 30"] = load_breast_cancer().data
    return found


def methods(seed, shape, args):
    """Name -> imputer (None where it is not run on this shape)."""
    n_rows, n_cols = shape

    def blend(iterative="default", former_knn=False):
        """``BlendImputer`` of the default candidates, its IterativeImputer
        ``"default"``, on ``"all columns"``, ``"left out"`` or kept at ``"any
        width"`` (the one of a 500-column table); KNN under the former limit."""
        candidates = default_candidates(seed, shape)
        if iterative == "any width":
            wide = (n_rows, _ITERATIVE_COLUMNS)
            candidates.insert(
                2, ("iterative", dict(default_candidates(seed, wide))["iterative"])
            )
        elif iterative == "left out":
            candidates = [c for c in candidates if c[0] != "iterative"]
        elif iterative == "all columns":
            dict(candidates)["iterative"].set_params(n_nearest_features=None)
        if former_knn and n_rows**2 * n_cols > FORMER_KNN_WORK:
            candidates = [c for c in candidates if c[0] != "knn"]
        return BlendImputer(candidates, random_state=seed)

    wider = n_cols > _ITERATIVE_COLUMNS
    return {
        "mean": SimpleImputer(),
        "KNN": KNNImputer(),
        "Iterative": (
            IterativeImputer(random_state=seed)
            if n_cols <= args.iterative_max
            else None
        ),
        "SoftImpute": SoftImputer(),
        "former BlendImputer()": (
            blend("all columns", former_knn=True)
            if n_cols <= min(args.all_features_max, _ITERATIVE_COLUMNS)
            else None
        ),
        "BlendImputer()": blend(),
        "without its iterative candidate": blend("left out") if not wider else None,
        "with it at any width": blend("any width") if wider else None,
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--all-features-max", type=int, default=120)
    parser.add_argument("--iterative-max", type=int, default=300)
    args = parser.parse_args(argv)
    argv = sys.argv[1:] if argv is None else argv
    results = {}  # (table, method) -> list of (rmse, seconds)
    names = {}  # method names, in order
    for table_name, X in tables().items():
        for seed in args.seeds:
            missing = np.random.default_rng(seed).random(X.shape) < 0.2
            X_nan = np.where(missing, np.nan, X)
            found = methods(seed, X.shape, args)
            names.update(dict.fromkeys(found))
            for name, imputer in found.items():
                if imputer is None:
                    continue
                completed, seconds = timed_fit_transform(imputer, X_nan)
                rmse = missing_rmse(completed, X, missing)
                results.setdefault((table_name, name), []).append((rmse, seconds))
                print(f"{table_name} seed {seed} {name}: {rmse:.4f} {seconds:.1f} s")
    lines = [
        "# BlendImputer on wide tables",
        "",
        f"Generated by `{command_line('study_wide_tables.py', argv)}` (see its "
        "docstring). MCAR 20 %, seeds "
        f"{', '.join(map(str, args.seeds))}: RMSE on the hidden entries in column-std "
        "units (mean ± half the spread over seeds), then the mean seconds of fit + "
        "transform on 2 CPU cores. n/a: not run (the peer IterativeImputer above "
        f"{args.iterative_max} columns and the former blend above "
        f"{args.all_features_max}, for their memory; the last two columns only "
        f"where the blend keeps its IterativeImputer candidate, up to "
        f"{_ITERATIVE_COLUMNS} columns, and where it leaves it out).",
        "",
        "| table | " + " | ".join(names) + " |",
        "|---|" + "---|" * len(names),
    ]
    for table_name in dict.fromkeys(key[0] for key in results):
        cells = []
        for name in names:
            runs = results.get((table_name, name))
            if not runs:
                cells.append("n/a")
                continue
            rmse, seconds = np.array(runs).T
            spread = (rmse.max() - rmse.min()) / 2
            cells.append(f"{rmse.mean():.3f} ± {spread:.3f}, {seconds.mean():.1f} s")
        lines.append(f"| {table_name} | " + " | ".join(cells) + " |")
    text = "\n".join(lines) + "\n"
    print(text)
    out = Path(__file__).parents[1] / "docs" / "wide_tables.md"
    out.write_text(text)
    print(f"written to {out}")


if __name__ == "__main__":
    main()
