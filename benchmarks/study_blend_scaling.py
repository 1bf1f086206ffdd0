"""Does the blend depend on the columns' units? BlendImputer() on each table as given
against on the table standardised column by column (mean and std of the observed
entries, the completion mapped back), on every cell of bench_tabular.py, and on its
unordered tables with one column rescaled and one shifted, or every column shifted by
1e8.

Usage::

    python benchmarks/study_blend_scaling.py           # 276 cells, about 15 minutes
    python benchmarks/study_blend_scaling.py --quick   # MCAR 30 %, seed 0

``Blend std`` is ``BlendImputer()``, which standardises the columns for its candidates
(``standardize=True``, the default since this study); ``Blend`` is
``BlendImputer(standardize=False)``, the table as given. KNNImputer and
IterativeImputer (the candidates whose error depends on units) are standardised outside
the imputer. RMSE on the hidden entries in column-std units (mean over seeds ± half
their range); seconds of one fit + transform. Writes ``docs/blend_scaling.md``.
"""

import argparse
import sys
import time
from pathlib import Path

import numpy as np
from _tasks import command_line, missing_rmse, timed_fit_transform
from bench_tabular import SEEDS, datasets, missing_patterns, ordered_tables
from sklearn.experimental import enable_iterative_imputer  # noqa: F401
from sklearn.impute import IterativeImputer, KNNImputer

from inrr_sklearn import BlendImputer
from inrr_sklearn._scaling import fit_scaling

METHODS = {
    "KNN": lambda: KNNImputer(),
    "Iterative": lambda: IterativeImputer(random_state=0, max_iter=20),
}


def standardised(make):
    """fit_transform of ``make()`` on the table standardised by the observed entries'
    column moments, mapped back to the table's units (observed entries as given)."""

    def fit_transform(X_nan):
        observed = ~np.isnan(X_nan)
        scaling = fit_scaling(X_nan, observed, "standard", empty="zero")
        completed, seconds = timed_fit_transform(make(), scaling.to_scaled(X_nan))
        return np.where(observed, X_nan, scaling.from_scaled(completed)), seconds

    return fit_transform


def as_given(make):
    return lambda X_nan: timed_fit_transform(make(), X_nan)


def distorted(tables):
    """Each table with its first column in units a million times larger and its
    second shifted by a thousand of its standard deviations plus 1,000."""
    out = {}
    for name, X in tables.items():
        X = X.astype(float).copy()
        X[:, 0] *= 1e6
        X[:, 1] += 1e3 * X[:, 1].std() + 1e3
        out[f"{name} (rescaled)"] = X
    return out


def shifted(tables):
    """Each table with every column shifted by 1e8 (values such as timestamps)."""
    return {f"{name} (+1e8)": X + 1e8 for name, X in tables.items()}


def run(tables, quick):
    seeds = SEEDS[:1] if quick else SEEDS
    variants = {
        f"{name}{suffix}": wrap(make)
        for name, make in METHODS.items()
        for suffix, wrap in (("", as_given), (" std", standardised))
    }
    variants["Blend"] = as_given(
        lambda: BlendImputer(standardize=False, random_state=0)
    )
    variants["Blend std"] = as_given(lambda: BlendImputer(random_state=0))
    lines = [
        "| data | pattern | " + " | ".join(variants) + " |",
        "|---|---|" + "---|" * len(variants),
    ]
    ratios = []
    for data_name, X in tables.items():
        for pattern in missing_patterns(X, quick):
            scores = {name: [] for name in variants}
            for seed in seeds:
                missing = missing_patterns(X, quick, seed=seed)[pattern]
                X_nan = np.where(missing, np.nan, X)
                for name, fit_transform in variants.items():
                    completed, seconds = fit_transform(X_nan)
                    scores[name].append((missing_rmse(completed, X, missing), seconds))
                ratios.append(scores["Blend std"][-1][0] / scores["Blend"][-1][0])
            row = [data_name, pattern]
            for name in variants:
                errors = [e for e, _ in scores[name]]
                seconds = np.mean([s for _, s in scores[name]])
                spread = (max(errors) - min(errors)) / 2
                row.append(f"{np.mean(errors):.3f} ± {spread:.3f} ({seconds:.1f}s)")
            lines.append("| " + " | ".join(row) + " |")
            print(lines[-1], flush=True)
    ratios = np.array(ratios)
    lines += [
        "",
        f"Blend std / Blend over {len(ratios)} cells: geometric mean "
        f"{np.exp(np.mean(np.log(ratios))):.3f}, median {np.median(ratios):.3f}, "
        f"range {ratios.min():.3f} to {ratios.max():.3f}; lower in "
        f"{int((ratios < 1).sum())}, higher in {int((ratios > 1).sum())}.",
    ]
    print(lines[-1], flush=True)
    return lines


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--docs", default=str(Path(__file__).parents[1] / "docs"))
    args = parser.parse_args()
    start = time.perf_counter()
    unordered, ordered = datasets(), ordered_tables()
    lines = [
        "# BlendImputer and the columns' units",
        "",
        f"Generated by `{command_line('study_blend_scaling.py', sys.argv[1:], ('--docs',))}` "
        "(see its docstring). RMSE on the hidden entries in column-std units, mean over "
        "seeds ± half their range (seconds of one fit + transform). `KNN std`, "
        "`Iterative std`: the imputer on the table standardised by its observed "
        "entries' column means and standard deviations, the completion mapped back; "
        "`Blend std`: `BlendImputer()`, which does that for its candidates "
        "(`standardize=True`); `Blend`: `BlendImputer(standardize=False)`.",
        "",
        "## Unordered tables",
        "",
        *run(unordered, args.quick),
        "",
        "## Time-ordered tables",
        "",
        *run(ordered, args.quick),
        "",
        "## The unordered tables, first column x 1e6, second shifted by 1,000 stds + 1,000",
        "",
        *run(distorted(unordered), args.quick),
        "",
        "## The unordered tables, every column shifted by 1e8",
        "",
        *run(shifted(unordered), args.quick),
        "",
        f"Total {time.perf_counter() - start:.0f} s.",
    ]
    Path(args.docs, "blend_scaling.md").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
