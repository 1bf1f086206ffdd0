"""``BlendImputer()``'s DMF candidate on tables of 100,000 entries and more, where its
step budget sits at the 300-step floor: its step size, or no DMF at all.

Usage::

    python benchmarks/study_blend_dmf.py              # ~20 min on 2 cores
    python benchmarks/study_blend_dmf.py --seeds 0    # one seed

DMF gets 3e7 / entries steps, between 300 and 3,000, at a step size of 3e-3 chosen on
the benchmark's small tables, where it runs 1,000 steps and more. From 100,000
entries it gets the floor's 300 steps, which at 3e-3 leave it short of its fit. Tables
(30 % MCAR, seeds 0, 1, 2, each seed its own table and mask; ``load_digits`` is one
table, the seed draws its mask): ``lowrank`` (rank 5,
a tanh of the first factor added to every column, noise 0.3) and ``nonlinear`` (sines
and products of two latent variables, noise 0.1) as in
``benchmarks/study_blend_large.py``, at 10,000 x 20 to 500,000 x 10, and
scikit-learn's ``load_digits`` (1,797 x 64). Imputers: ``IterativeImputer`` at
scikit-learn's defaults, and the blend with each variant of its DMF candidate (the
library's candidates otherwise, ``random_state=seed``, so every variant hides the same
entries). RMSE on the hidden entries in units of each column's standard deviation
(mean over seeds ± half the spread), seconds of one fit + transform on this machine's
2 cores (the blends' candidates in 2 worker processes), DMF's blend weight.

Prints and writes ``docs/blend_dmf.md``.
"""

import argparse
import contextlib
import sys
from pathlib import Path

import numpy as np
from _tasks import command_line, missing_rmse, seeds_cell, timed_fit_transform
from sklearn.datasets import load_digits
from sklearn.experimental import enable_iterative_imputer  # noqa: F401
from sklearn.impute import IterativeImputer
from study_blend_large import lowrank, nonlinear

import inrr_sklearn._blend as blend_module
from inrr_sklearn import BlendImputer


def digits(seed):
    return load_digits().data.astype(np.float64)


TABLES = {
    "digits 1,797 x 64": digits,
    "lowrank 10,000 x 20": lambda seed: lowrank(seed, 10_000, 20),
    "nonlinear 10,000 x 20": lambda seed: nonlinear(seed, 10_000, 20),
    "nonlinear 30,000 x 30": nonlinear,
    "lowrank 50,000 x 40": lowrank,
    "lowrank 200,000 x 20": lambda seed: lowrank(seed, 200_000, 20),
    "nonlinear 500,000 x 10": lambda seed: nonlinear(seed, 500_000, 10),
}

_DEFAULT_CANDIDATES = blend_module.default_candidates


def _dmf_at(learning_rate=None, drop=False):
    def candidates(random_state=None, shape=(0, 0)):
        found = _DEFAULT_CANDIDATES(random_state, shape)
        if drop:
            return [(name, est) for name, est in found if name != "dmf"]
        for name, est in found:
            if name == "dmf" and est.max_iter == blend_module._DMF_STEPS[0]:
                est.set_params(learning_rate_init=learning_rate)
        return found

    return candidates


VARIANTS = {
    "BlendImputer()": _DEFAULT_CANDIDATES,
    "DMF at 1e-2 on the floor": _dmf_at(1e-2),
    "no DMF": _dmf_at(drop=True),
}


@contextlib.contextmanager
def variant(name):
    blend_module.default_candidates = VARIANTS[name]
    try:
        yield
    finally:
        blend_module.default_candidates = _DEFAULT_CANDIDATES


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--tables", nargs="+", default=list(TABLES))
    parser.add_argument("--docs", default=str(Path(__file__).parents[1] / "docs"))
    args = parser.parse_args(argv)
    names = ["IterativeImputer", *VARIANTS]
    results = {}
    for table in args.tables:
        for seed in args.seeds:
            X = TABLES[table](seed)
            missing = np.random.default_rng(seed + 100).random(X.shape) < 0.3
            X_nan = np.where(missing, np.nan, X)
            for name in names:
                if name == "IterativeImputer":
                    imputer = IterativeImputer(random_state=seed)
                    completed, seconds = timed_fit_transform(imputer, X_nan)
                    weight = np.nan
                else:
                    imputer = BlendImputer(random_state=seed)
                    with variant(name):
                        completed, seconds = timed_fit_transform(imputer, X_nan)
                    cv = imputer.cv_results_
                    weight = dict(zip(cv["estimator"], cv["weight"], strict=True))
                    weight = weight.get("dmf", np.nan)
                rmse = missing_rmse(completed, X, missing)
                results[table, name, seed] = (rmse, seconds, weight)
                print(f"{table} seed {seed} {name}: {rmse:.4f} {seconds:.1f} s "
                      f"DMF weight {weight:.2f}", flush=True)  # fmt: skip
    command = command_line("study_blend_dmf.py", sys.argv[1:], ("--docs",))
    lines = [
        "# The blend's DMF candidate on tables of 100,000 entries and more",
        "",
        f"Generated by `{command}` (see its docstring): 30 % MCAR, seeds "
        f"{args.seeds}; RMSE on the hidden entries in column-std units, mean over "
        "seeds ± half their spread, the mean seconds of fit + transform on 2 CPU "
        "cores, and DMF's mean blend weight.",
        "",
        "| table | " + " | ".join(names) + " |",
        "|---|" + "---|" * len(names),
    ]
    for table in args.tables:
        cells = []
        for name in names:
            runs = [results[table, name, s] for s in args.seeds]
            rmse, seconds, weight = zip(*runs, strict=True)
            cell = seeds_cell(rmse, seconds)
            if not np.isnan(weight).all():
                cell += f", DMF {np.mean(weight):.2f}"
            cells.append(cell)
        lines.append(f"| {table} | " + " | ".join(cells) + " |")
    print("\n".join(lines))
    Path(args.docs, "blend_dmf.md").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
