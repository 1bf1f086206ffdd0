"""Held-out RMSE and seconds of our imputers against scikit-learn's, SoftImpute and
MissForest, on unordered and time-ordered tables.

Usage::

    python benchmarks/bench_tabular.py                # the full grid (about an hour)
    python benchmarks/bench_tabular.py --quick        # MCAR 30 %, one seed
    python benchmarks/bench_tabular.py --speed-only   # the large-table timings alone

Unordered data: ``load_diabetes`` (442 x 10), ``load_wine`` (178 x 13), ``load_iris``
(150 x 4), ``load_linnerud`` (20 x 3, its exercise block), a synthetic rank-3 table
(300 x 20, noise 0.1) and a synthetic nonlinear table (300 x 10: smooth nonlinear
functions of two latent variables, noise 0.1). Time-ordered data (rows in time order):
statsmodels' ``macrodata`` (203 quarters x 12 series), ``elnino`` (61 years x 12
months) and Grunfeld's investment panel (20 years x 11 firms x 3 series, as 20 x 33),
when statsmodels is installed (``pip install -e ".[bench]"``), and two generated panels
(``panel``: trend, seasonality and three shared AR(1) factors, each series in its own
units), 120 months x 20 and 200 quarters x 10. Missing patterns: MCAR at 10 / 30 / 50
% and a self-masking missing-not-at-random pattern (an entry above its column's 70th
percentile is missing with probability 0.6), each drawn with seeds 0, 1 and 2. RMSE
over the hidden entries in units of each column's standard deviation (of the complete
data); each cell shows the mean over the seeds and, after ±, their spread (max - min)
/ 2, then the seconds of one fit + transform (Blend: also its time over
IterativeImputer's).

Peers: column mean, ``KNNImputer``, ``IterativeImputer`` (BayesianRidge, 20 rounds),
``SoftImputer`` (iterative soft-thresholded SVD, shrinkage = largest singular value /
50, the usual choice) and MissForest's stand-in, ``IterativeImputer`` with a random
forest (30 trees, 5 rounds). Ours at their defaults: ``DMFImputer(reg=INRR())``,
``INRImputer(reg=INRR())`` and ``BlendImputer()``, the recommended tabular imputer.

Summaries: the cells where BlendImputer beats every peer, its largest loss and its
worst row mean against the best peer; its time against the budget 10 x
IterativeImputer's time + 10 s; the columns where ``INRImputer(reg=INRR())`` is worse
than the column mean. Study (``--no-study`` skips it): the blend with an INR + INRR
candidate added, its weight and what the blend gains, on MCAR 30 % and MNAR (seed 0).
Downstream table (MCAR 30 %): 5-fold row-wise ``cross_val_score`` of
``make_pipeline(imputer, Ridge())`` (R² for diabetes and the low-rank table) or
``RidgeClassifier`` (accuracy for wine). Writes ``docs/benchmark_tabular.md``.
"""

import argparse
import os
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
from inrr_sklearn.recipes import default_candidates

SEEDS = (0, 1, 2)
PEERS = ("mean", "KNN", "Iterative", "SoftImpute", "MissForest")
OURS = ("DMF+INRR", "INR+INRR", "Blend")


def tables():
    """(X, y, task) per unordered data set; y is the downstream target."""
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


def panel(n_time, n_series, period, seed):
    """A generated panel: trend, seasonality of ``period`` and three AR(1) factors
    shared by the series (cross-correlation), each series in its own units (spreads
    1 to 1,000) around its own level."""
    rng = np.random.default_rng(seed)
    t = np.arange(n_time)
    factors = np.zeros((n_time, 3))
    shocks = rng.normal(size=(n_time, 3))
    for i in range(1, n_time):
        factors[i] = 0.9 * factors[i - 1] + 0.4 * shocks[i]
    phases = rng.uniform(0, 2 * np.pi, 3)
    season = np.column_stack([np.sin(2 * np.pi * t / period + p) for p in phases])
    Z = (
        np.outer(t / n_time, rng.normal(size=n_series))
        + factors @ rng.normal(size=(3, n_series))
        + season @ rng.normal(size=(3, n_series))
        + 0.2 * rng.normal(size=(n_time, n_series))
    )
    scale = 10 ** rng.uniform(0, 3, n_series)
    return scale * (rng.uniform(2, 5, n_series) + Z)


def ordered_tables():
    """Tables whose rows are ordered in time (the real ones need statsmodels)."""
    found = {}
    try:
        import statsmodels.api as sm
    except ImportError:
        print("statsmodels is not installed: the real time-ordered tables are skipped")
    else:
        macro = sm.datasets.macrodata.load_pandas().data
        found["macro (quarterly)"] = macro.drop(columns=["year", "quarter"])
        elnino = sm.datasets.elnino.load_pandas().data
        found["elnino (monthly)"] = elnino.drop(columns=["YEAR"])
        grunfeld = sm.datasets.grunfeld.load_pandas().data
        found["grunfeld (yearly)"] = grunfeld.pivot_table(
            index="year", columns="firm", values=["invest", "value", "capital"]
        )
        found = {name: frame.to_numpy(dtype=float) for name, frame in found.items()}
    found["panel (monthly)"] = panel(120, 20, 12, seed=0)
    found["panel (quarterly)"] = panel(200, 10, 4, seed=1)
    return found


def datasets():
    """The unordered tables, by name."""
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


def _low_rank(n_rows, n_cols, rng):
    X = rng.normal(size=(n_rows, 5)) @ rng.normal(size=(5, n_cols))
    return X, np.where(rng.random(X.shape) < 0.3, np.nan, X)


def speed_lines(shapes=((10_000, 20), (5_000, 20))):
    """Seconds of BlendImputer() (fit + transform) and IterativeImputer on rank-5
    tables, 30 % MCAR."""
    lines = []
    for n_rows, n_cols in shapes:
        X, X_nan = _low_rank(n_rows, n_cols, np.random.default_rng(0))
        seconds = {}
        for name in ("Iterative", "Blend"):
            start = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                imputer = methods()[name]()
                completed = imputer.fit_transform(X_nan)
            seconds[name] = time.perf_counter() - start
            missing = np.isnan(X_nan)
            rmse = np.sqrt(np.mean(((completed - X) / X.std(axis=0))[missing] ** 2))
            if name == "Blend":
                weights = ", ".join(f"{k} {v:.2f}" for k, v in imputer.weights_.items())
        budget = 10 * seconds["Iterative"] + 10
        lines.append(
            f"Speed: `BlendImputer()` on a {n_rows:,} x {n_cols} rank-5 table (30 % "
            f"MCAR): {seconds['Blend']:.1f} s for fit + transform with {_threads()} "
            f"(the blend's candidates in {os.cpu_count()} worker processes) "
            f"(IterativeImputer {seconds['Iterative']:.1f} s, budget {budget:.1f} s; "
            f"held-out RMSE {rmse:.3f}; weights: {weights})."
        )
        print(lines[-1], flush=True)
    return lines


def run_cell(X, missing):
    """RMSE (column-std units) and seconds of every method on one masked table, the
    blend's weights, and INR+INRR's per-column RMSE against the column means'."""
    std = X.std(axis=0)
    X_nan = np.where(missing, np.nan, X)
    cells, extra = {}, {}
    for name, make in methods().items():
        imputer = make()
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            warnings.simplefilter("ignore", UserWarning)  # INR's column-mean fallback
            completed = imputer.fit_transform(X_nan)
        seconds = time.perf_counter() - start
        err = ((completed - X) / std)[missing]
        cells[name] = (float(np.sqrt(np.mean(err**2))), seconds)
        if name == "Blend":
            extra["weights"] = imputer.weights_
        if name in ("mean", "INR+INRR"):
            extra[name] = [
                np.sqrt(np.mean(((completed - X) / std)[missing[:, j], j] ** 2))
                for j in range(X.shape[1])
                if missing[:, j].any()
            ]
    return cells, extra


def grid_lines(tables, quick, label):
    """The RMSE table of ``tables`` and its summary lines."""
    names = list(methods())
    seeds = SEEDS[:1] if quick else SEEDS
    lines = [
        "| data | pattern | " + " | ".join(names) + " |",
        "|---|---|" + "---|" * len(names),
    ]
    wins = cells_total = within = inr_worse = inr_columns = 0
    worst, worst_row, worst_budget, worst_inr = (0.0, ""), (0.0, ""), 0.0, (0.0, "")
    for data_name, X in tables.items():
        for pattern in missing_patterns(X, quick):
            runs = [
                run_cell(X, missing_patterns(X, quick, seed=seed)[pattern])
                for seed in seeds
            ]
            for seed, (cells, extra) in zip(seeds, runs, strict=True):
                where = f"{data_name} {pattern} seed {seed}"
                best_peer = min(cells[p][0] for p in PEERS)
                cells_total += 1
                wins += cells["Blend"][0] < best_peer
                ratio = cells["Blend"][0] / best_peer - 1
                worst = max(worst, (ratio, where))
                budget = 10 * cells["Iterative"][1] + 10
                within += cells["Blend"][1] <= budget
                worst_budget = max(worst_budget, cells["Blend"][1] / budget)
                for j, (inr, mean) in enumerate(
                    zip(extra["INR+INRR"], extra["mean"], strict=True)
                ):
                    inr_columns += 1
                    inr_worse += inr > mean * (1 + 1e-9)
                    worst_inr = max(worst_inr, (inr / mean - 1, f"{where} column {j}"))
            means = {n: np.mean([c[n][0] for c, _ in runs]) for n in names}
            best = min(means, key=means.get)
            best_peer_mean = min(means[p] for p in PEERS)
            worst_row = max(
                worst_row,
                (means["Blend"] / best_peer_mean - 1, f"{data_name} {pattern}"),
            )
            row = [data_name, pattern]
            for name in names:
                errors = [c[name][0] for c, _ in runs]
                seconds = np.mean([c[name][1] for c, _ in runs])
                spread = (max(errors) - min(errors)) / 2
                timing = f"{seconds:.1f}s"
                if name == "Blend":
                    iterative = np.mean([c["Iterative"][1] for c, _ in runs])
                    timing += f", {seconds / iterative:.0f}x Iterative"
                text = f"{means[name]:.3f} ± {spread:.3f} ({timing})"
                row.append(f"**{text}**" if name == best else text)
            lines.append("| " + " | ".join(row) + " |")
            print(lines[-1], flush=True)
    lines += [
        "",
        f"{label}: BlendImputer beats every peer ({', '.join(PEERS)}) in {wins} of "
        f"{cells_total} (table, pattern, seed) cells ({wins / cells_total:.0%}); its "
        f"largest loss against the best peer: {worst[0]:+.1%}"
        + (f" ({worst[1]})" if worst[1] else "")
        + f"; its worst row mean against the best peer's: {worst_row[0]:+.1%} "
        f"({worst_row[1]}). It finishes within 10 x IterativeImputer's time + 10 s in "
        f"{within} of {cells_total} cells (at most {worst_budget:.0%} of that budget). "
        f"INRImputer(reg=INRR()) is worse than the column mean on {inr_worse} of "
        f"{inr_columns} (cell, column) pairs of hidden entries (largest: "
        f"{worst_inr[0]:+.1%}, {worst_inr[1]}).",
    ]
    print(lines[-1], flush=True)
    return lines


def study_lines(tables):
    """The blend with an INR + INRR candidate added: its weight and the gain."""
    lines = [
        "",
        "## INR + INRR as a blend candidate (seed 0)",
        "",
        "`BlendImputer(estimators=default_candidates(...) + [('inr+inrr', "
        "INRImputer(reg=INRR(), hidden_layer_sizes=(32,) * 3, max_iter=600, "
        "learning_rate_init=3e-3, n_iter_no_change=100))])` against `BlendImputer()`: "
        "the INR's weight learned on held-out entries, and both blends' RMSE on the "
        "hidden entries.",
        "",
        "| data | pattern | INR + INRR weight | Blend | Blend + INR + INRR | "
        "seconds (Blend / with INR) |",
        "|---|---|---|---|---|---|",
    ]
    for data_name, X in tables.items():
        for pattern in ("MCAR 30%", "MNAR"):
            missing = missing_patterns(X, False, seed=0)[pattern]
            X_nan = np.where(missing, np.nan, X)
            # The default candidates as BlendImputer(random_state=0) seeds them; both
            # blends get them explicitly, so that both hold out the same entries.
            seed = np.random.RandomState(0).randint(np.iinfo(np.int32).max)
            candidates = default_candidates(seed, X.shape)
            inr = INRImputer(
                reg=INRR(), hidden_layer_sizes=(32,) * 3, max_iter=600,
                learning_rate_init=3e-3, n_iter_no_change=100, device="cpu",
                random_state=seed,
            )  # fmt: skip
            results = []
            for estimators in (candidates, [*candidates, ("inr+inrr", inr)]):
                imputer = BlendImputer(estimators, random_state=0)
                start = time.perf_counter()
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", ConvergenceWarning)
                    completed = imputer.fit_transform(X_nan)
                seconds = time.perf_counter() - start
                err = ((completed - X) / X.std(axis=0))[missing]
                results.append((np.sqrt(np.mean(err**2)), seconds, imputer))
            weight = results[1][2].weights_.get("inr+inrr", 0.0)
            lines.append(
                f"| {data_name} | {pattern} | {weight:.2f} | {results[0][0]:.3f} | "
                f"{results[1][0]:.3f} | {results[0][1]:.0f} / {results[1][1]:.0f} |"
            )
            print(lines[-1], flush=True)
    return lines


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--speed-only", action="store_true")
    parser.add_argument("--docs", default=str(Path(__file__).parents[1] / "docs"))
    parser.add_argument(
        "--no-downstream", action="store_true", help="skip the Ridge CV table"
    )
    parser.add_argument(
        "--no-study", action="store_true", help="skip the INR-in-the-blend study"
    )
    args = parser.parse_args(argv)
    if args.speed_only:
        speed_lines()
        return
    seeds = SEEDS[:1] if args.quick else SEEDS
    lines = [
        "# Tabular imputation: held-out RMSE (column-std units) and seconds",
        "",
        "Generated by `python benchmarks/bench_tabular.py "
        + " ".join(argv or [])
        + f"` with {_threads()} per fit (see the script's docstring for the data, "
        f"patterns and peers). Mean over seeds {list(seeds)} ± half their range; best "
        "mean per row in bold; library defaults throughout; (seconds of one fit + "
        "transform; Blend: and its time over IterativeImputer's). BlendImputer fits "
        f"its candidates in {os.cpu_count()} worker processes (n_jobs=-1, every core "
        "of this machine), each with that one thread.",
        "",
        "## Unordered tables",
        "",
    ]
    lines += grid_lines(datasets(), args.quick, "Unordered tables")
    ordered = ordered_tables()
    lines += ["", "## Time-ordered tables", ""]
    lines += grid_lines(ordered, args.quick, "Time-ordered tables")
    if not args.quick:
        lines += ["", *speed_lines()]
    if not args.no_study:
        study = {
            **ordered,
            **{n: datasets()[n] for n in ("diabetes", "wine", "low-rank")},
        }
        lines += study_lines(study)
    if not args.no_downstream:
        lines += downstream_lines()
    text = "\n".join(lines) + "\n"
    out = Path(args.docs) / "benchmark_tabular.md"
    out.write_text(text)
    print(text, f"written to {out}", sep="\n")


if __name__ == "__main__":
    main()
