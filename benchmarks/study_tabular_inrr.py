"""How strong should INRR be on tables, and does ordering the rows help?

Usage::

    python benchmarks/study_tabular_inrr.py

For the three tables of ``bench_tabular.py`` at 30 % MCAR: held-out RMSE (column-std
units) of ``DMFImputer`` with INRR weights 0.01 ... 100, with and without early
stopping; then with rows (and columns) permuted by a spectral ordering (1-D
``SpectralEmbedding`` of a 10-nearest-neighbour graph of the standardised, mean-filled
rows) before the fit and permuted back after. Prints one line per data set. Results are
quoted in ``docs/benchmark_tabular.md``.
"""

import warnings

import numpy as np
from bench_tabular import datasets, missing_patterns
from sklearn.exceptions import ConvergenceWarning
from sklearn.manifold import SpectralEmbedding

from inrr_sklearn import INRR, DMFImputer


def spectral_order(X_nan, axis=0):
    """Indices sorting rows (axis=0) or columns (axis=1) by their Fiedler coordinate."""
    Z = (X_nan - np.nanmean(X_nan, 0)) / np.nanstd(X_nan, 0)
    Z = np.where(np.isnan(Z), 0, Z)
    if axis == 1:
        Z = Z.T
    embedding = SpectralEmbedding(
        n_components=1,
        affinity="nearest_neighbors",
        n_neighbors=min(10, Z.shape[0] - 1),
        random_state=0,
    ).fit_transform(Z)[:, 0]
    return np.argsort(embedding)


def rmse(completed, X, missing):
    return np.sqrt(np.mean((((completed - X) / X.std(0))[missing]) ** 2))


def main():
    warnings.simplefilter("ignore", ConvergenceWarning)
    for name, X in datasets().items():
        missing = missing_patterns(X, quick=True)["MCAR 30%"]
        X_nan = np.where(missing, np.nan, X)
        cells = []
        for alpha in (None, 0.01, 1, 10, 100):
            for early in (True, False):
                reg = None if alpha is None else INRR(alpha_row=alpha, alpha_col=alpha)
                out = DMFImputer(
                    reg=reg,
                    early_stopping=early,
                    max_iter=3000 if early else 1500,
                    random_state=0,
                    device="cpu",
                ).fit_transform(X_nan)
                cells.append(f"a={alpha} es={int(early)}: {rmse(out, X, missing):.3f}")
        for order in ("rows", "both"):
            rows = spectral_order(X_nan, 0)
            cols = (
                spectral_order(X_nan, 1) if order == "both" else np.arange(X.shape[1])
            )
            out = DMFImputer(
                reg=INRR(alpha_row=1, alpha_col=1), random_state=0, device="cpu"
            ).fit_transform(X_nan[np.ix_(rows, cols)])
            back = np.empty_like(out)
            back[np.ix_(rows, cols)] = out
            cells.append(f"ordered {order} a=1: {rmse(back, X, missing):.3f}")
        print(name, " | ".join(cells), flush=True)


if __name__ == "__main__":
    main()
