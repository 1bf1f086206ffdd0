"""Held-out RMSE of our imputers against scikit-learn's, SoftImpute and MissForest.

Usage::

    python benchmarks/bench_tabular.py                # 6 tables x 4 patterns x 3 seeds
    python benchmarks/bench_tabular.py --quick        # MCAR 30 %, one seed
    python benchmarks/bench_tabular.py --speed-only   # the 10,000 x 20 timing alone

Data: ``load_diabetes`` (442 x 10), ``load_wine`` (178 x 13), ``load_iris`` (150 x 4),
``load_linnerud`` (20 x 3, its exercise block), a synthetic rank-3 table (300 x 20,
noise 0.1) and a synthetic nonlinear table (300 x 10: smooth nonlinear functions of two
latent variables, noise 0.1). Missing patterns: MCAR at 10 / 30 / 50 % and a
missing-not-at-random pattern (an entry above its column's 70th percentile is missing
with probability 0.6), each drawn with seeds 0, 1 and 2. RMSE over the hidden entries
in units of each column's standard deviation (of the complete data); each cell shows
the mean over the seeds and, after ±, their spread (max - min) / 2.

Peers: column mean, ``KNNImputer``, ``IterativeImputer`` (BayesianRidge),
``SoftImputer`` (iterative soft-thresholded SVD, shrinkage = largest singular value /
50, the usual choice) and MissForest's stand-in, ``IterativeImputer`` with a random
forest (30 trees, 5 rounds). Ours at their defaults: ``DMFImputer(reg=INRR())``,
``INRImputer(reg=INRR())`` (``scaling="auto"``) and ``BlendImputer()``, the
recommended tabular imputer. Seconds are per fit (fit + transform), averaged over seeds.

The summary counts the (table, pattern, seed) cells where BlendImputer beats every peer
and its largest loss against the best peer. Downstream table (MCAR 30 %): 5-fold
row-wise ``cross_val_score`` of ``make_pipeline(imputer, Ridge())`` (R² for diabetes
and the low-rank table) or ``RidgeClassifier`` (accuracy for wine). Writes
``docs/benchmark_tabular.md``.
"""

import argparse
import time
import warnings
from pathlib import Path

import numpy as np
import torch
from sklearn.datasets import load_diabetes, load_iris, load_linnerud, load_wine
from sklearn.ensemble import RandomForestRegressor
from sklearn.exceptions import ConvergenceWarning
from sklearn.experimental import enable_iterative_imputer  # noqa: F401
from sklearn.impute import IterativeImputer, KNNImputer, SimpleImputer
from sklearn.linear_model import Ridge, RidgeClassifier
from sklearn.model_selection import KFold, cross_val_score
from sklearn.pipeline import make_pipeline

from inrr_sklearn import INRR, BlendImputer, DMFImputer, INRImputer, SoftImputer

SEEDS = (0, 1, 2)
PEERS = ("mean", "KNN", "Iterative", "SoftImpute", "MissForest")
OURS = ("DMF+INRR", "INR+INRR", "Blend")


def tables():
    """(X, y, task) per data set; y is the downstream target."""
    rng = np.random.default_rng(0)
    synthetic = rng.normal(size=(300, 3)) @ rng.normal(size=(3, 20))
    synthetic += 0.1 * rng.normal(size=synthetic.shape)
    target = synthetic @ rng.normal(size=20) + rng.normal(size=300)
    latent = rng.uniform(-2, 2, size=(300, 2))
    a, b = rng.normal(size=(2, 10)), rng.uniform(0, np.pi, size=10)
    nonlinear = np.column_stack(
        [np.sin(latent @ np.array([a[0, j], a[1, j]]) + b[j]) for j in range(5)]
        + [(latent @ np.array([a[0, j], a[1, j]])) ** 2 / 4 for j in range(5, 10)]
    )
    nonlinear += 0.1 * rng.normal(size=nonlinear.shape)
    return {
        "diabetes": (*load_diabetes(return_X_y=True), "regression"),
        "wine": (*load_wine(return_X_y=True), "classification"),
        "iris": (*load_iris(return_X_y=True), "classification"),
        "linnerud": (load_linnerud().data, None, None),
        "low-rank": (synthetic, target, "regression"),
        "nonlinear": (nonlinear, None, None),
    }


def datasets():
    return {name: X for name, (X, _, _) in tables().items()}


def missing_patterns(X, quick, seed=1004):
    rng = np.random.default_rng(seed)
    patterns = {}
    for rate in [0.3] if quick else [0.1, 0.3, 0.5]:
        patterns[f"MCAR {rate:.0%}"] = rng.random(X.shape) < rate
    if not quick:
        high = X > np.percentile(X, 70, axis=0)
        patterns["MNAR"] = high & (rng.random(X.shape) < 0.6)
    for missing in patterns.values():  # keep every row and column partly observed
        missing[np.arange(X.shape[0]), rng.integers(X.shape[1], size=X.shape[0])] = (
            False
        )
        missing[rng.integers(X.shape[0], size=X.shape[1]), np.arange(X.shape[1])] = (
            False
        )
    return patterns


def methods():
    return {
        "mean": lambda: SimpleImputer(),
        "KNN": lambda: KNNImputer(),
        "Iterative": lambda: IterativeImputer(random_state=0, max_iter=20),
        "SoftImpute": lambda: SoftImputer(),
        "MissForest": lambda: IterativeImputer(
            estimator=RandomForestRegressor(n_estimators=30, random_state=0),
            max_iter=5,
            random_state=0,
        ),
        "DMF+INRR": lambda: DMFImputer(reg=INRR(), random_state=0, device="cpu"),
        "INR+INRR": lambda: INRImputer(reg=INRR(), random_state=0, device="cpu"),
        "Blend": lambda: BlendImputer(random_state=0),
    }


def downstream_imputers():
    """sklearn transformers only: each must complete the held-out rows of a fold."""
    return {
        name: make
        for name, make in methods().items()
        if name in ("mean", "KNN", "Iterative", "SoftImpute", "DMF+INRR", "Blend")
    }


def downstream_lines():
    names = list(downstream_imputers())
    lines = [
        "",
        "## Downstream model through the Pipeline (MCAR 30 %, 5-fold row-wise CV)",
        "",
        "R² of `make_pipeline(imputer, Ridge())` (diabetes, low-rank) or accuracy of "
        "`make_pipeline(imputer, RidgeClassifier())` (wine); mean ± std over folds, "
        "seconds for the 5 folds. The model without missing entries is the last column.",
        "",
        "| data | " + " | ".join(names) + " | complete data |",
        "|---|" + "---|" * (len(names) + 1),
    ]
    for data_name, (X, y, task) in tables().items():
        if data_name not in ("diabetes", "wine", "low-rank"):
            continue
        missing = missing_patterns(X, quick=True)["MCAR 30%"]
        X_nan = np.where(missing, np.nan, X)
        head = RidgeClassifier if task == "classification" else Ridge
        cv = KFold(5, shuffle=True, random_state=0)
        row = [data_name]
        for make in downstream_imputers().values():
            start = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                scores = cross_val_score(make_pipeline(make(), head()), X_nan, y, cv=cv)
            seconds = time.perf_counter() - start
            row.append(f"{scores.mean():.3f} ± {scores.std():.3f} ({seconds:.0f}s)")
        complete = cross_val_score(head(), X, y, cv=cv)
        row.append(f"{complete.mean():.3f} ± {complete.std():.3f}")
        lines.append("| " + " | ".join(row) + " |")
        print(lines[-1], flush=True)
    return lines


def _threads():
    n = torch.get_num_threads()
    return f"{n} CPU thread{'s' if n > 1 else ''}"


def speed_line(n_rows=10_000, n_cols=20):
    """Seconds of BlendImputer() on a rank-5 n_rows x n_cols table, 30 % MCAR."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(n_rows, 5)) @ rng.normal(size=(5, n_cols))
    X_nan = np.where(rng.random(X.shape) < 0.3, np.nan, X)
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        imp = BlendImputer(random_state=0).fit(X_nan)
        imp.transform(X_nan)
    seconds = time.perf_counter() - start
    weights = ", ".join(f"{k} {v:.2f}" for k, v in imp.weights_.items())
    return (
        f"Speed: `BlendImputer()` on a {n_rows:,} x {n_cols} rank-5 table (30 % MCAR): "
        f"{seconds:.1f} s for fit + transform with {_threads()} (weights: {weights})."
    )


def run_cell(X, missing):
    """RMSE (column-std units) and seconds of every method on one masked table."""
    std = X.std(axis=0)
    X_nan = np.where(missing, np.nan, X)
    cells = {}
    for name, make in methods().items():
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            completed = make().fit_transform(X_nan)
        seconds = time.perf_counter() - start
        err = ((completed - X) / std)[missing]
        cells[name] = (float(np.sqrt(np.mean(err**2))), seconds)
    return cells


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--speed-only", action="store_true")
    parser.add_argument("--docs", default=str(Path(__file__).parents[1] / "docs"))
    parser.add_argument(
        "--no-downstream", action="store_true", help="skip the Ridge CV table"
    )
    args = parser.parse_args(argv)
    if args.speed_only:
        print(speed_line())
        return
    names = list(methods())
    seeds = SEEDS[:1] if args.quick else SEEDS
    lines = [
        "# Tabular imputation: held-out RMSE (column-std units) and seconds",
        "",
        "Generated by `python benchmarks/bench_tabular.py "
        + " ".join(argv or [])
        + f"` with {_threads()} per fit (see the script's docstring for the data, patterns and "
        f"peers). Mean over seeds {list(seeds)} ± half their range; best mean per row "
        "in bold; library defaults throughout.",
        "",
        "| data | pattern | " + " | ".join(names) + " |",
        "|---|---|" + "---|" * len(names),
    ]
    wins, cells_total, worst = 0, 0, (0.0, "")
    for data_name, X in datasets().items():
        for pattern in missing_patterns(X, args.quick):
            runs = [
                run_cell(X, missing_patterns(X, args.quick, seed=seed)[pattern])
                for seed in seeds
            ]
            for seed, cells in zip(seeds, runs, strict=True):
                best_peer = min(cells[p][0] for p in PEERS)
                cells_total += 1
                wins += cells["Blend"][0] < best_peer
                ratio = cells["Blend"][0] / best_peer - 1
                if ratio > worst[0]:
                    worst = (ratio, f"{data_name} {pattern} seed {seed}")
            means = {n: np.mean([c[n][0] for c in runs]) for n in names}
            best = min(means, key=means.get)
            row = [data_name, pattern]
            for name in names:
                errors = [c[name][0] for c in runs]
                seconds = np.mean([c[name][1] for c in runs])
                spread = (max(errors) - min(errors)) / 2
                text = f"{means[name]:.3f} ± {spread:.3f} ({seconds:.1f}s)"
                row.append(f"**{text}**" if name == best else text)
            lines.append("| " + " | ".join(row) + " |")
            print(lines[-1], flush=True)
    lines += [
        "",
        f"BlendImputer beats every peer ({', '.join(PEERS)}) in {wins} of "
        f"{cells_total} (table, pattern, seed) cells ({wins / cells_total:.0%}); its "
        f"largest loss against the best peer: {worst[0]:+.1%}"
        + (f" ({worst[1]})." if worst[1] else "."),
    ]
    if not args.quick:
        lines += ["", speed_line()]
    print("\n".join(lines[-3:]), flush=True)
    if not args.no_downstream:
        lines += downstream_lines()
    text = "\n".join(lines) + "\n"
    out = Path(args.docs) / "benchmark_tabular.md"
    out.write_text(text)
    print(text, f"written to {out}", sep="\n")


if __name__ == "__main__":
    main()
