"""Where the table blend's time goes, and what a faster ``BlendImputer()`` would lose.

Usage::

    python benchmarks/study_blend_speed.py              # ~20 min on 2 cores
    python benchmarks/study_blend_speed.py --cache DIR  # keep (or reuse) each cell's fits

On the 132 (table, pattern, seed) cells of ``benchmarks/bench_tabular.py`` (its
unordered and time-ordered tables, MCAR 10 / 30 / 50 % and MNAR, seeds 0, 1, 2), every
default candidate of ``BlendImputer(random_state=0)`` is fitted once per held-out set
the blend draws (the same sets: its own ``_hide``) and once on every observed entry,
each fit timed on one CPU thread, on the table standardised as the blend gives it its
candidates (``standardize=True``); so are two cheaper variants of the scikit-learn
candidates (``IterativeImputer`` with 10 rounds instead of 20, the forest with 2
rounds instead of 3) and the peers of the benchmark. Blends are then formed from those
fits exactly as ``BlendImputer`` forms them (convex weights on the held-out entries in
column-std units, weights under 0.1 % dropped, the kept candidates' refits weighted),
with the first ``k`` held-out sets (what ``n_splits=k`` draws: the sets are runs of
one shuffle) or without refits (each kept candidate's held-out completions averaged:
``bag``). A blend's seconds are the sum of its fits' (one thread; the library's
``n_jobs=-1`` spreads them over the cores). The default blend is checked against
``BlendImputer(random_state=0, n_jobs=1)`` on the first cell.

Prints and writes ``docs/blend_speed.md``: per variant, the cells where it beats every
peer, its mean RMSE over the default blend's (and the worst cell), and its seconds over
the default blend's.
"""

import argparse
import pickle
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import torch
from _tasks import command_line, missing_rmse
from bench_tabular import PEERS, datasets, methods, missing_patterns, ordered_tables
from joblib import Parallel, delayed
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from threadpoolctl import threadpool_limits

from inrr_sklearn import BlendImputer
from inrr_sklearn._blend import (
    _MIN_WEIGHT,
    _convex_least_squares,
    _quiet_fit_transform,
    default_candidates,
)
from inrr_sklearn._scaling import fit_scaling

SEEDS = (0, 1, 2)
PATTERNS = ("MCAR 10%", "MCAR 30%", "MCAR 50%", "MNAR")


def candidates(seed, shape):
    """The default candidates and the cheaper variants, by name."""
    found = dict(default_candidates(seed, shape))
    if "iterative" in found:
        found["iterative10"] = clone(found["iterative"]).set_params(max_iter=10)
    if "forest" in found:
        found["forest2"] = clone(found["forest"]).set_params(max_iter=2)
    return found


def former_splits(observed, fraction=0.1):
    """The sets ``n_splits="auto"`` drew before this study: on at most 2,500 entries
    as many as fit, up to 10 and to max(3, 150 / columns); else as many as hold
    2,000 entries, between 1 and 5."""
    n_observed = int(observed.sum())
    n_hide = max(round(fraction * n_observed), 1)
    if observed.size <= 2500:
        return min(10, (n_observed - 1) // n_hide, max(3, 150 // observed.shape[1]))
    return int(np.clip(-(-2000 // n_hide), 1, 5))


def blend_seeding():
    """The candidates' seed and the generator left to draw the held-out sets, as
    ``BlendImputer(random_state=0)`` draws them."""
    rng = check_random_state(0)
    return rng.randint(np.iinfo(np.int32).max), rng


def timed(imputer, X):
    start = time.perf_counter()
    completed = _quiet_fit_transform(clone(imputer), X)
    return completed, time.perf_counter() - start


def fit_cell(X, missing):
    """Every candidate's held-out and full fits on one cell, and the peers' errors."""
    torch.set_num_threads(1)
    with threadpool_limits(1), warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.simplefilter("ignore", UserWarning)
        X_nan = np.where(missing, np.nan, X)
        observed = ~missing
        # The candidates see the table standardised as BlendImputer() gives it them
        # (its statistics from its copy of the columns, the same sums in the same
        # order), and the held-out errors are measured as it measures them.
        columns = observed.any(axis=0)
        scaling = fit_scaling(
            X_nan[:, columns], observed[:, columns], "standard", empty="zero"
        )
        Z = scaling.to_scaled(X_nan)
        to_std = fit_scaling(Z, observed, "standard").to_scaled
        Z_std = to_std(Z)
        blend = BlendImputer(random_state=0, n_splits=former_splits(observed))
        seed, rng = blend_seeding()
        found = candidates(seed, X.shape)
        folds = blend._hide(observed, rng, Z)
        fits = {}
        for cand, imputer in found.items():
            held = [timed(imputer, np.where(hidden, np.nan, Z)) for hidden in folds]
            full = timed(imputer, Z)
            fits[cand] = {
                "held": [
                    (to_std(c)[hidden], c[missing], s)
                    for (c, s), hidden in zip(held, folds, strict=True)
                ],
                "full": (full[0][missing], full[1]),
            }
        peers = {}
        for peer in PEERS:
            completed, seconds = timed(methods()[peer](), X_nan)
            peers[peer] = (missing_rmse(completed, X, missing), seconds)
    return {
        "folds": folds,
        "fits": fits,
        "peers": peers,
        "truth_held": [Z_std[hidden] for hidden in folds],
        "scaling": scaling,
        "missing": missing,
        "truth_missing": X[missing],
        "std_truth": X.std(axis=0),
    }


def blend(cell, names, k=None, bag=False):
    """RMSE (truth's column-std units) and seconds of the blend of ``names`` with
    the first ``k`` held-out sets, refitted or bagged."""
    fits = cell["fits"]
    k = len(cell["folds"]) if k is None else k
    truth = np.concatenate(cell["truth_held"][:k])
    preds = np.column_stack(
        [np.concatenate([fits[n]["held"][f][0] for f in range(k)]) for n in names]
    )
    weights = _convex_least_squares(preds, truth)
    keep = [i for i, w in enumerate(weights) if w >= _MIN_WEIGHT]
    kept = weights[keep] / weights[keep].sum()
    seconds = sum(fits[n]["held"][f][2] for n in names for f in range(k))
    standardised = 0.0
    for w, i in zip(kept, keep, strict=True):
        n = names[i]
        if bag:
            part = np.mean([fits[n]["held"][f][1] for f in range(k)], axis=0)
        else:
            part = fits[n]["full"][0]
            seconds += fits[n]["full"][1]
        standardised = standardised + w * part
    missing = cell["missing"]
    completion = np.zeros(missing.shape)
    completion[missing] = standardised
    completion = cell["scaling"].from_scaled(completion)[missing]
    missing_cols = np.nonzero(missing)[1]
    err = (completion - cell["truth_missing"]) / cell["std_truth"][missing_cols]
    return float(np.sqrt(np.mean(err**2))), seconds


FORMER = "former rule (up to 10 / 5 sets)"
DEFAULT = "3 sets (the default now)"


def variants(cell):
    """The blends compared: name -> (candidate names, k, bag)."""
    default = [
        n
        for n in ("dmf", "softimpute", "iterative", "knn", "forest")
        if n in cell["fits"]
    ]
    cheap = [
        {"iterative": "iterative10", "forest": "forest2"}.get(n, n) for n in default
    ]
    n_sets = len(cell["folds"])
    return {
        FORMER: (default, None, False),
        "5 sets": (default, min(5, n_sets), False),
        "4 sets": (default, min(4, n_sets), False),
        DEFAULT: (default, min(3, n_sets), False),
        "2 sets": (default, min(2, n_sets), False),
        "former, bagged": (default, None, True),
        "former, cheap": (cheap, None, False),
        "former, no forest": ([n for n in default if n != "forest"], None, False),
        "3 sets, bagged": (default, min(3, n_sets), True),
        "3 sets, cheap": (cheap, min(3, n_sets), False),
        "3 sets, cheap, bagged": (cheap, min(3, n_sets), True),
    }


def check_sets(cell, X, missing):
    """The sets ``BlendImputer(random_state=0)`` draws now are the first of the
    cell's (the former rule's)."""
    _, rng = blend_seeding()
    Z = cell["scaling"].to_scaled(np.where(missing, np.nan, X))
    folds = BlendImputer(random_state=0)._hide(~missing, rng, Z)
    assert len(folds) == min(3, len(cell["folds"]))
    assert all(
        np.array_equal(a, b)
        for a, b in zip(folds, cell["folds"][: len(folds)], strict=True)
    )


def library_check(cell, X, missing):
    """The default blend's RMSE is the library's ``BlendImputer(random_state=0)``."""
    X_nan = np.where(missing, np.nan, X)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        completed = BlendImputer(random_state=0, n_jobs=1).fit_transform(X_nan)
    library = missing_rmse(completed, X, missing)
    assert abs(blend(cell, *variants(cell)[DEFAULT])[0] - library) < 1e-9, library


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", default=None)
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--docs", default=str(Path(__file__).parents[1] / "docs"))
    args = parser.parse_args(argv)
    tables = {**datasets(), **ordered_tables()}
    tasks = [
        (name, pattern, seed)
        for name in tables
        for pattern in PATTERNS
        for seed in SEEDS
    ]

    def one(name, pattern, seed):
        path = None
        if args.cache:
            path = Path(args.cache) / f"{name}_{pattern}_{seed}.pkl".replace(" ", "_")
            if path.exists():
                return pickle.loads(path.read_bytes())
        X = tables[name]
        cell = fit_cell(X, missing_patterns(X, False, seed=seed)[pattern])
        if path:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(pickle.dumps(cell))
        return cell

    cells = Parallel(n_jobs=args.n_jobs, verbose=5)(delayed(one)(*t) for t in tasks)
    for cell, (name, pattern, seed) in zip(cells, tasks, strict=True):
        X = tables[name]
        missing = missing_patterns(X, False, seed=seed)[pattern]
        check_sets(cell, X, missing)
        if cell is cells[0]:  # one whole fit (one per cell would double the run)
            library_check(cell, X, missing)

    names = list(variants(cells[0]))
    results = {v: [] for v in names}
    for cell in cells:
        for v, (cands, k, bag) in variants(cell).items():
            results[v].append(blend(cell, cands, k, bag))
    where = [f"{name} {pattern} seed {seed}" for name, pattern, seed in tasks]
    best_peer = np.array([min(c["peers"][p][0] for p in PEERS) for c in cells])
    base = np.array(results[FORMER])
    command = command_line("study_blend_speed.py", sys.argv[1:], ("--cache", "--docs"))
    lines = [
        "# The table blend's held-out sets: fewer fits, the same quality",
        "",
        f"Generated by `{command}` on the {len(cells)} (table, pattern, seed) cells "
        "of `benchmarks/bench_tabular.py` (72 unordered, 60 time-ordered); every "
        "blend is formed from the same fits, timed on one CPU thread (see the "
        "script's docstring). RMSE on the hidden entries in column-std units; "
        "seconds are the sums of a blend's fits (`n_jobs=-1` spreads them over the "
        "cores). The row in bold is `BlendImputer()`'s default now.",
        "",
        "| variant | beats every peer | geometric-mean RMSE / former | per cell "
        "(min, max) | largest loss to the best peer | seconds / former (median, max) |",
        "|---|---|---|---|---|---|",
    ]
    for v in names:
        r = np.array(results[v])
        ratio = r[:, 0] / base[:, 0]
        speed = r[:, 1] / base[:, 1]
        loss = r[:, 0] / best_peer - 1
        label = f"**{v}**" if v == DEFAULT else v
        row = (
            f"{label} | {int((r[:, 0] < best_peer).sum())} of {len(cells)} | "
            f"{np.exp(np.log(ratio).mean()):.4f} | {ratio.min():.3f}, "
            f"{ratio.max():.3f} | {loss.max():+.1%} ({where[int(loss.argmax())]}) | "
            f"{np.median(speed):.2f}, {speed.max():.2f}"
        )
        lines.append(f"| {row} |")
    lines += [
        "",
        "Per table (mean over its 4 patterns x 3 seeds): the held-out sets of the "
        "former rule, then RMSE of 3 sets over the former's (mean, max) and the "
        "seconds of each.",
        "",
        "| table | former sets | RMSE / former (mean, max) | seconds (former, 3 sets) |",
        "|---|---|---|---|",
    ]
    for name in tables:
        rows = [i for i, t in enumerate(tasks) if t[0] == name]
        ratio = np.array([results[DEFAULT][i][0] / base[i, 0] for i in rows])
        sets = [len(cells[i]["folds"]) for i in rows]
        lines.append(
            f"| {name} | {min(sets)}-{max(sets)} | {ratio.mean():.3f}, "
            f"{ratio.max():.3f} | {np.mean(base[rows, 1]):.1f}, "
            f"{np.mean([results[DEFAULT][i][1] for i in rows]):.1f} |"
        )
    main_candidates = ("dmf", "softimpute", "iterative", "knn", "forest")
    seconds = {
        n: sum(
            sum(s for *_, s in c["fits"][n]["held"]) + c["fits"][n]["full"][1]
            for c in cells
            if n in c["fits"]
        )
        for n in (*main_candidates, "iterative10", "forest2")
    }
    total = sum(seconds[n] for n in main_candidates)
    peer_seconds = sum(sum(c["peers"][p][1] for p in PEERS) for c in cells)
    shares = ", ".join(
        f"{n} {s:.0f} s" + (f" ({s / total:.0%})" if n in main_candidates else "")
        for n, s in seconds.items()
    )
    lines += [
        "",
        "Seconds of every held-out and full fit of the former rule over all cells, "
        f"by candidate (share): {shares}; the five peers' fits together "
        f"{peer_seconds:.0f} s. Cheap: `IterativeImputer` with 10 rounds instead of "
        "20, the forest with 2 rounds instead of 3. Bagged: no refit, each kept "
        "candidate's held-out completions averaged.",
    ]
    print("\n".join(lines))
    Path(args.docs, "blend_speed.md").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
