"""Held-out RMSE of our imputers against scikit-learn's and SoftImpute on tables.

Usage::

    python benchmarks/bench_tabular.py            # MCAR 10/30/50 % + MNAR, 3 data sets
    python benchmarks/bench_tabular.py --quick    # MCAR 30 % only

Data: ``load_diabetes`` (442 x 10), ``load_wine`` (178 x 13) and a synthetic rank-3
table (300 x 20, noise 0.1). Missing patterns: MCAR at 10 / 30 / 50 % and a
missing-not-at-random pattern (an entry above its column's 70th percentile is missing
with probability 0.6). RMSE over the hidden entries in units of each column's standard
deviation (of the complete data). Seconds include fit and transform. SoftImpute is the
iterative singular-value soft-thresholding of Mazumder, Hastie and Tibshirani (2010),
written here (fancyimpute no longer installs with current scikit-learn), on standardised
columns with the shrinkage max(singular value) / 50. "DMF+INRR tuned" picks INRR's
weight (rows and columns alike) from {0.01, 0.1, 1} by the RMSE on 10 % of the observed
entries hidden with ``hide_observed``, then refits on all observed entries (the recipe
of ``docs/model_selection.md``).

Downstream table (MCAR 30 %): 5-fold row-wise ``cross_val_score`` of
``make_pipeline(imputer, Ridge())`` (R² for diabetes and for the low-rank table, whose
target is a noisy linear function of its complete rows) and of
``make_pipeline(imputer, RidgeClassifier())`` (accuracy for wine): every imputer must
complete the held-out rows of each fold. Writes ``docs/benchmark_tabular.md``.
"""

import argparse
import time
import warnings
from pathlib import Path

import numpy as np
from sklearn.datasets import load_diabetes, load_wine
from sklearn.exceptions import ConvergenceWarning
from sklearn.experimental import enable_iterative_imputer  # noqa: F401
from sklearn.impute import IterativeImputer, KNNImputer, SimpleImputer
from sklearn.linear_model import Ridge, RidgeClassifier
from sklearn.model_selection import KFold, cross_val_score
from sklearn.pipeline import make_pipeline

from inrr_sklearn import INRR, DMFImputer, INRImputer
from inrr_sklearn.model_selection import heldout_rmse, hide_observed

INRR_WEIGHTS = (0.01, 0.1, 1.0)


def soft_impute(X_nan, shrink_ratio=1 / 50, max_iter=200, tol=1e-5):
    """SoftImpute on standardised columns; returns the completed matrix."""
    mean = np.nanmean(X_nan, axis=0)
    std = np.nanstd(X_nan, axis=0)
    std[std == 0] = 1
    Z_obs = (X_nan - mean) / std
    observed = ~np.isnan(Z_obs)
    Z = np.where(observed, Z_obs, 0.0)
    shrink = np.linalg.svd(Z, compute_uv=False)[0] * shrink_ratio
    for _ in range(max_iter):
        U, s, Vt = np.linalg.svd(Z, full_matrices=False)
        low_rank = (U * np.maximum(s - shrink, 0)) @ Vt
        new = np.where(observed, Z_obs, low_rank)
        change = np.linalg.norm(new - Z) / max(np.linalg.norm(Z), 1e-12)
        Z = new
        if change < tol:
            break
    return Z * std + mean


class SoftImpute:
    def fit_transform(self, X):
        return soft_impute(X)


class TunedDMFINRR:
    """DMF+INRR with INRR's weight chosen on hidden observed entries, then refitted."""

    def fit_transform(self, X_nan):
        X_hidden = hide_observed(X_nan, 0.1, random_state=0)
        scale = np.nanstd(X_nan, axis=0)

        def make(alpha):
            reg = INRR(alpha_row=alpha, alpha_col=alpha)
            return DMFImputer(reg=reg, random_state=0, device="cpu")

        errors = {
            alpha: heldout_rmse(make(alpha).fit_transform(X_hidden) / scale,
                                X_hidden / scale, X_nan / scale)
            for alpha in INRR_WEIGHTS
        }  # fmt: skip
        self.alpha_ = min(errors, key=errors.get)
        return make(self.alpha_).fit_transform(X_nan)


def tables():
    """(X, y, task) per data set; y is the downstream target."""
    rng = np.random.default_rng(0)
    synthetic = rng.normal(size=(300, 3)) @ rng.normal(size=(3, 20))
    synthetic += 0.1 * rng.normal(size=synthetic.shape)
    target = synthetic @ rng.normal(size=20) + rng.normal(size=300)
    return {
        "diabetes": (*load_diabetes(return_X_y=True), "regression"),
        "wine": (*load_wine(return_X_y=True), "classification"),
        "low-rank": (synthetic, target, "regression"),
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
    return patterns


def methods():
    return {
        "mean": lambda: SimpleImputer(),
        "KNN": lambda: KNNImputer(),
        "Iterative": lambda: IterativeImputer(random_state=0, max_iter=20),
        "SoftImpute": SoftImpute,
        "INR": lambda: INRImputer(scaling="per_column", random_state=0, device="cpu"),
        "INR+INRR": lambda: INRImputer(
            reg=INRR(), scaling="per_column", random_state=0, device="cpu"
        ),
        "DMF": lambda: DMFImputer(random_state=0, device="cpu"),
        "DMF+INRR": lambda: DMFImputer(reg=INRR(), random_state=0, device="cpu"),
        "DMF+INRR tuned": TunedDMFINRR,
    }


def downstream_imputers():
    """sklearn transformers only: each must complete the held-out rows of a fold."""
    return {
        name: make
        for name, make in methods().items()
        if name not in ("SoftImpute", "DMF+INRR tuned")
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


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--docs", default=str(Path(__file__).parents[1] / "docs"))
    parser.add_argument(
        "--no-downstream", action="store_true", help="skip the Ridge CV table"
    )
    args = parser.parse_args(argv)
    names = list(methods())
    lines = [
        "# Tabular imputation: held-out RMSE (column-std units) and seconds",
        "",
        "Generated by `python benchmarks/bench_tabular.py "
        + " ".join(argv or [])
        + "` on 2 CPU cores. Best RMSE per row in bold; library defaults throughout.",
        "",
        "| data | pattern | " + " | ".join(names) + " |",
        "|---|---|" + "---|" * len(names),
    ]
    for data_name, X in datasets().items():
        std = X.std(axis=0)
        for pattern, missing in missing_patterns(X, args.quick).items():
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
            best = min(cells, key=lambda n: cells[n][0])
            row = [data_name, pattern]
            for name in names:
                text = f"{cells[name][0]:.3f} ({cells[name][1]:.1f}s)"
                row.append(f"**{text}**" if name == best else text)
            lines.append("| " + " | ".join(row) + " |")
            print(lines[-1], flush=True)
    if not args.no_downstream:
        lines += downstream_lines()
    text = "\n".join(lines) + "\n"
    out = Path(args.docs) / "benchmark_tabular.md"
    out.write_text(text)
    print(text, f"written to {out}", sep="\n")


if __name__ == "__main__":
    main()
