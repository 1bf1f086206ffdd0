"""``SoftImputer``: nuclear-norm matrix completion by iterative soft-thresholded SVD.

SoftImpute (Mazumder, Hastie and Tibshirani, 2010) is the classical low-rank baseline
for tables, and a candidate of :class:`BlendImputer`. No maintained Python package
provides it with the scikit-learn API (fancyimpute no longer installs with current
scikit-learn), so it is written here, in a few lines of numpy.
"""

from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted, validate_data

from inrr_sklearn._utils import Interval, VersionedPickleMixin, _fit_context


class SoftImputer(VersionedPickleMixin, TransformerMixin, BaseEstimator):
    """Complete a table with SoftImpute (iterative soft-thresholded SVD).

    Columns are standardised with their observed entries; then, from a zero fill,
    each iteration replaces the missing entries with those of
    :math:`S_\\lambda(Z) = U \\max(\\Sigma - \\lambda, 0) V^\\top`.

    Parameters
    ----------
    shrinkage : float, default=0.02
        :math:`\\lambda` as a fraction of the largest singular value of the
        zero-filled standardised matrix (the common choice is 1/50).
    max_iter : int, default=200
        Maximum number of iterations.
    tol : float, default=1e-5
        Stop when the relative change of the completed matrix falls below it.

    Attributes
    ----------
    components_ : ndarray of shape (n_components, n_features)
        Right singular vectors (scaled by the shrunk singular values) of the fitted
        low-rank matrix, in standardised units; new rows are folded in on them.
    n_iter_ : int
        Iterations run.
    n_features_in_ : int
        Number of columns seen in ``fit``.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Column names seen in ``fit`` (only for inputs with string column names).

    Notes
    -----
    It solves :math:`\\min_Z \\tfrac12 \\|P_\\Omega(Z - Y)\\|_F^2 + \\lambda \\|Z\\|_*`
    on the standardised table :math:`Y`. ``transform`` of other rows solves a
    least-squares fit of each row's observed entries on ``components_`` (rows with
    none get the column means).

    References
    ----------
    R. Mazumder, T. Hastie, R. Tibshirani. "Spectral regularization algorithms for
    learning large incomplete matrices". JMLR 11, 2010.

    Examples
    --------
    >>> import numpy as np
    >>> from inrr_sklearn import SoftImputer
    >>> X = np.outer(np.arange(1.0, 7.0), [1.0, 2.0, 3.0])
    >>> X[2, 1] = np.nan
    >>> float(SoftImputer().fit_transform(X)[2, 1])  # 6 without the shrinkage
    6.2...
    """

    _parameter_constraints: dict = {
        "shrinkage": [Interval(Real, 0, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
    }

    def __init__(self, *, shrinkage=0.02, max_iter=200, tol=1e-5):
        self.shrinkage = shrinkage
        self.max_iter = max_iter
        self.tol = tol

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Fit the low-rank completion of X.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The table, NaN where missing.
        y : Ignored
            Not used, present here for API consistency by convention.

        Returns
        -------
        self : object
            Fitted estimator.
        """
        X = validate_data(self, X, dtype=np.float64, ensure_all_finite="allow-nan")
        observed = ~np.isnan(X)
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = np.nanmean(np.where(observed, X, np.nan), axis=0)
            std = np.nanstd(np.where(observed, X, np.nan), axis=0)
        self._mean = np.where(np.isfinite(mean), mean, 0.0)
        self._std = np.where(np.isfinite(std) & (std > 0), std, 1.0)
        Y = np.where(observed, (X - self._mean) / self._std, 0.0)
        Z = Y
        shrink = self.shrinkage * np.linalg.norm(Y, 2)
        n_iter, change = 0, np.inf
        while n_iter < self.max_iter and change >= self.tol:
            U, s, Vt = np.linalg.svd(Z, full_matrices=False)
            s = np.maximum(s - shrink, 0.0)
            low_rank = (U * s) @ Vt
            new = np.where(observed, Y, low_rank)
            change = np.linalg.norm(new - Z) / max(np.linalg.norm(Z), 1e-12)
            Z, n_iter = new, n_iter + 1
        keep = s > 0
        self.components_ = s[keep, None] * Vt[keep]
        self.n_iter_ = n_iter
        self._X_fit = X
        self._completion = np.where(observed, X, low_rank * self._std + self._mean)
        return self

    def transform(self, X):
        """Return X with its NaN entries completed.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The fitted table (its fitted completion), or new rows (folded in).

        Returns
        -------
        X_completed : ndarray of shape (n_samples, n_features)
        """
        check_is_fitted(self)
        X = validate_data(
            self, X, dtype=np.float64, ensure_all_finite="allow-nan", reset=False
        )
        if X.shape == self._X_fit.shape and np.array_equal(
            X, self._X_fit, equal_nan=True
        ):
            return self._completion.copy()
        observed = ~np.isnan(X)
        Y = np.where(observed, (X - self._mean) / self._std, 0.0)
        completion = np.zeros_like(Y)
        V = self.components_
        for i in np.flatnonzero(observed.any(axis=1)):
            o = observed[i]
            codes, *_ = np.linalg.lstsq(V[:, o].T, Y[i, o], rcond=None)
            completion[i] = codes @ V
        return np.where(observed, X, completion * self._std + self._mean)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        return tags
