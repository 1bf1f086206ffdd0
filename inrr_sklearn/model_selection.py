"""Model selection on held-out observed entries: hide some, fit, score what was hidden.

An imputer's error can only be measured on entries whose value is known but that the
model did not see. ``hide_observed`` hides a seeded fraction of the observed entries;
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
from sklearn.utils import check_random_state

__all__ = ["heldout_rmse", "hide_observed", "neg_heldout_rmse"]


def hide_observed(X, fraction=0.1, *, random_state=None):
    """Return a copy of X with a random ``fraction`` of its observed entries set to NaN.

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
    if not 0 < fraction < 1:
        raise ValueError(f"fraction must be in (0, 1); got {fraction}.")
    X_hidden = np.array(X, dtype=float, copy=True)
    observed = np.flatnonzero(~np.isnan(X_hidden))
    n_hide = round(fraction * observed.size)
    if n_hide < 1 or n_hide >= observed.size:
        raise ValueError(
            f"hiding fraction={fraction} of {observed.size} observed entries leaves "
            "none to hide or none to fit."
        )
    rng = check_random_state(random_state)
    X_hidden.flat[rng.choice(observed, size=n_hide, replace=False)] = np.nan
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
