"""Model selection on held-out observed entries: hide some, fit, score what was hidden.

An imputer's error can only be measured on entries whose value is known but that the
model did not see. :func:`split_observed` is the library's one way of choosing such
entries: early stopping holds out one of its sets, ``BlendImputer`` learns its weights
on several, the benchmarks score on them. ``hide_observed`` hides a seeded fraction of
the observed entries;
the imputer is fitted on that matrix, and the scorer ``neg_heldout_rmse`` compares its
completion with the reference matrix on exactly those entries. With a reference matrix
passed as ``y`` this works with stock ``GridSearchCV``::

    X_hidden = hide_observed(X_nan, fraction=0.1, random_state=0)
    whole = np.arange(X_nan.shape[0])
    search = GridSearchCV(
        INRImputer(reg=INRR()),
        {"reg__alpha_row": [1e-3, 1e-2, 1e-1]},
        cv=[(whole, whole)],           # one matrix: fit and score on all rows
        scoring=neg_heldout_rmse,
    ).fit(X_hidden, X_nan)             # y = the reference (NaN where truly missing)

Row-wise cross-validation (``cv=5``) also works for imputers that complete new rows
(``DMFImputer``): each test fold's hidden entries are scored.
"""

import numpy as np
from scipy import ndimage
from sklearn.utils import check_random_state

from inrr_sklearn._scaling import fit_scaling

__all__ = ["heldout_rmse", "hide_observed", "neg_heldout_rmse", "split_observed"]


def split_observed(
    observed, fraction, *, n_splits=1, holdout="random", X=None, random_state=None
):
    """Disjoint held-out sets of observed entries, each ``fraction`` of them.

    The observed entries are shuffled once; set ``f`` takes the ``f``-th run of
    ``round(fraction * n_observed)`` of them (``holdout="random"``), or whole pieces
    of the missing pattern shifted at random over the entries not yet taken
    (``holdout="mask"``: held-out entries shaped like the real holes, for images).
    ``holdout="matched"`` shuffles with weights, so that the held-out entries look
    like the missing ones (see Notes; needs ``X``). A column's last observed entry
    is never held out, so every column keeps something to learn from.

    Parameters
    ----------
    observed : ndarray of bool of shape (n_samples, n_features)
        True where an entry is observed.
    fraction : float in (0, 1)
        Fraction of the observed entries in each set.
    n_splits : int, default=1
        Number of disjoint sets.
    holdout : {"random", "mask", "matched"}, default="random"
        The shape of the sets (see above).
    X : ndarray of shape (n_samples, n_features) or None, default=None
        The values (any value where not observed); only for ``"matched"``.
    random_state : int, RandomState instance or None, default=None
        Seed of the draw.

    Returns
    -------
    folds : list of ndarray of bool, each of ``observed``'s shape
        The held-out sets (True = held out); empty when the sets cannot hold an
        entry each and leave one to fit (too few observed entries).

    Notes
    -----
    ``"matched"`` draws entry :math:`(i, j)` with a weight
    :math:`\\frac{m_j + 1}{o_j} e^{\\beta_j z_{ij}}`: :math:`m_j` and :math:`o_j` are
    the missing and observed counts of column :math:`j` (the held-out entries fall
    where the missing ones are), :math:`z_{ij}` a rank-k SVD prediction of the
    standardised entry from the whole table, and :math:`\\beta_j` tilts the column's
    draw until its held-out entries' mean prediction equals that of its missing
    entries. Missing completely at random, :math:`\\beta_j \\approx 0`; when high values
    go missing (self-masking), the held-out entries lean to the high observed ones,
    so that an imputer's held-out error measures it where it will be used.

    Examples
    --------
    >>> import numpy as np
    >>> from inrr_sklearn.model_selection import split_observed
    >>> observed = np.ones((4, 5), dtype=bool)
    >>> folds = split_observed(observed, 0.2, n_splits=2, random_state=0)
    >>> [int(f.sum()) for f in folds], bool((folds[0] & folds[1]).any())
    ([4, 4], False)
    """
    if not 0 < fraction < 1:
        raise ValueError(f"fraction must be in (0, 1); got {fraction}.")
    if holdout not in ("random", "mask", "matched"):
        raise ValueError(
            f"holdout must be 'random', 'mask' or 'matched'; got {holdout!r}."
        )
    observed = np.asarray(observed, dtype=bool)
    rng = check_random_state(random_state)
    if holdout == "matched":
        if X is None:
            raise ValueError("holdout='matched' needs the values: pass X.")
        index = _matched_order(np.asarray(X, dtype=np.float64), observed, rng)
    else:
        index = rng.permutation(np.flatnonzero(observed))
    n_hide = round(fraction * index.size)
    if n_hide < 1 or n_hide * n_splits >= index.size:
        return []
    folds = []
    taken = np.zeros(observed.shape, dtype=bool)
    for f in range(n_splits):
        if holdout == "mask" and not observed.all():
            hidden = _shifted_holes(observed, observed & ~taken, n_hide, rng)
        else:
            hidden = np.zeros(observed.shape, dtype=bool)
            hidden.flat[index[f * n_hide : (f + 1) * n_hide]] = True
        emptied = (observed & ~hidden).sum(axis=0) == 0
        for j in np.flatnonzero(emptied & observed.any(axis=0)):
            hidden[np.flatnonzero(observed[:, j])[0], j] = False
        if hidden.any():
            folds.append(hidden)
            taken |= hidden
    return folds


def _matched_order(X, observed, rng):
    """The observed entries (flat indices) in a weighted random order: column
    weights (m_j + 1) / o_j, tilted by the predicted values (see split_observed)."""
    n_rows, n_cols = X.shape
    counts = observed.sum(axis=0)
    z = _low_rank_prediction(X, observed)
    weights = np.zeros(X.shape)
    for j in range(n_cols):
        seen = observed[:, j]
        if not seen.any():
            continue
        tilt = np.zeros(counts[j])
        if counts[j] < n_rows and counts[j] >= 5:
            tilt = _tilt(z[seen, j], z[~seen, j].mean()) * z[seen, j]
            tilt -= tilt.max()
        column = np.exp(tilt)
        weights[seen, j] = (n_rows - counts[j] + 1) / counts[j] * column / column.mean()
    index = np.flatnonzero(observed)
    # Weighted order without replacement (Efraimidis-Spirakis keys).
    keys = np.log(rng.random_sample(index.size)) / weights.flat[index]
    return index[np.argsort(-keys, kind="stable")]


def _tilt(z, target, bound=4.0):
    """``beta`` with ``sum(z e^{beta z}) / sum(e^{beta z}) = target`` (bisection,
    within ``[-bound, bound]``)."""
    low, high = -bound, bound
    for _ in range(40):
        beta = (low + high) / 2
        w = np.exp(beta * z - np.max(beta * z))
        if (w * z).sum() / w.sum() < target:
            low = beta
        else:
            high = beta
    return (low + high) / 2


def _low_rank_prediction(X, observed, rank=5, n_iter=5):
    """Standardised entries predicted by a rank-``rank`` SVD of the table,
    completed iteratively (a few hard-impute rounds from the column means)."""
    scaling = fit_scaling(X, observed, "standard")
    Z = np.where(observed, scaling.to_scaled(np.where(observed, X, 0.0)), 0.0)
    rank = max(1, min(rank, min(X.shape) // 2))
    filled = Z
    for _ in range(n_iter):
        U, s, Vt = np.linalg.svd(filled, full_matrices=False)
        low = (U[:, :rank] * s[:rank]) @ Vt[:rank]
        filled = np.where(observed, Z, low)
    return low


def _shifted_holes(observed, available, n_hide, rng):
    """About ``n_hide`` of the ``available`` entries (observed, not yet held out)
    that a randomly shifted copy of the missing pattern ``~observed`` covers, taken
    as whole connected pieces in random order; shifts are retried (at most 20) until
    enough entries are covered."""
    missing = ~observed
    hidden = np.zeros(available.shape, dtype=bool)
    for _ in range(20):
        if hidden.sum() >= n_hide:
            break
        shift = (rng.randint(available.shape[0]), rng.randint(available.shape[1]))
        covered = np.roll(missing, shift, axis=(0, 1)) & available & ~hidden
        labels, n_pieces = ndimage.label(covered)
        if n_pieces == 0:
            continue
        sizes = np.bincount(labels.ravel())[1:]
        order = rng.permutation(n_pieces)
        need = n_hide - hidden.sum()
        chosen = order[: np.searchsorted(np.cumsum(sizes[order]), need) + 1]
        hidden |= np.isin(labels, chosen + 1)
    return hidden


def hide_observed(X, fraction=0.1, *, random_state=None):
    """Return a copy of X with a random ``fraction`` of its observed entries set to NaN.

    The hidden entries are the one set of :func:`split_observed` (never a column's
    last observed entry).

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        Matrix with NaN for missing entries.
    fraction : float in (0, 1)
        Fraction of the observed entries to hide.
    random_state : int, RandomState instance or None
        Seed of the draw.

    Returns
    -------
    X_hidden : ndarray of shape (n_samples, n_features), float

    Examples
    --------
    >>> import numpy as np
    >>> from inrr_sklearn.model_selection import hide_observed
    >>> X = np.arange(20.0).reshape(4, 5)
    >>> int(np.isnan(hide_observed(X, 0.2, random_state=0)).sum())
    4
    """
    X_hidden = np.array(X, dtype=float, copy=True)
    observed = ~np.isnan(X_hidden)
    folds = split_observed(observed, fraction, random_state=random_state)
    if not folds:
        raise ValueError(
            f"hiding fraction={fraction} of {int(observed.sum())} observed entries "
            "leaves none to hide or none to fit."
        )
    X_hidden[folds[0]] = np.nan
    return X_hidden


def heldout_rmse(X_completed, X_hidden, X_reference):
    """RMSE over the entries missing in ``X_hidden`` but known in ``X_reference``.

    Parameters
    ----------
    X_completed : array-like of shape (n_samples, n_features)
        The completion of ``X_hidden``.
    X_hidden : array-like of shape (n_samples, n_features)
        The input of the imputer (NaN where missing or hidden).
    X_reference : array-like of shape (n_samples, n_features)
        The matrix before hiding (NaN where truly missing).

    Returns
    -------
    rmse : float

    Examples
    --------
    >>> import numpy as np
    >>> from inrr_sklearn.model_selection import heldout_rmse
    >>> reference = np.array([[1.0, 2.0], [3.0, np.nan]])
    >>> hidden = np.array([[1.0, np.nan], [3.0, np.nan]])
    >>> heldout_rmse(np.array([[1.0, 2.5], [3.0, 0.0]]), hidden, reference)
    0.5
    """
    X_hidden = np.asarray(X_hidden, dtype=float)
    X_reference = np.asarray(X_reference, dtype=float)
    if X_hidden.shape != X_reference.shape:
        raise ValueError(
            f"the reference has shape {X_reference.shape}, X has {X_hidden.shape}."
        )
    held = np.isnan(X_hidden) & ~np.isnan(X_reference)
    if not held.any():
        raise ValueError(
            "no held-out entry: nothing is missing in X but known in the reference "
            "(hide some with hide_observed)."
        )
    diff = np.asarray(X_completed, dtype=float)[held] - X_reference[held]
    return float(np.sqrt(np.mean(diff**2)))


def neg_heldout_rmse(estimator, X, y):
    """Scorer (``estimator, X, y``): minus the held-out RMSE of ``estimator.transform(X)``
    against the reference ``y``; greater is better, as ``GridSearchCV`` wants.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.impute import SimpleImputer
    >>> from inrr_sklearn.model_selection import hide_observed, neg_heldout_rmse
    >>> X = np.arange(12.0).reshape(4, 3)
    >>> X_hidden = hide_observed(X, 0.25, random_state=0)
    >>> imputer = SimpleImputer().fit(X_hidden)
    >>> neg_heldout_rmse(imputer, X_hidden, X) <= 0
    True
    """
    return -heldout_rmse(estimator.transform(X), X, y)
