"""``_BaseImputer``: the imputer contract that every public imputer inherits.

scikit-learn's own imputers share ``missing_values``, ``add_indicator`` and
``keep_empty_features``, the indicator columns, the feature names and the tags; ours
share them here, with what the library adds on top:

- input: numbers held as objects and pandas nullable columns are read as numbers,
  float32 stays float32 (other numbers become float64), read-only, memory-mapped,
  F-ordered and pandas-3 copy-on-write arrays are accepted, and the caller's array is
  never written into (:mod:`inrr_sklearn._validation`);
- an optional observed-entry mask (``mask=``, True = observed) in ``fit`` and
  ``transform``: entries it hides are completed even where X holds a value;
- all-or-nothing ``fit``: a fit that raises (or a second Ctrl-C) leaves the
  estimator as it was;
- one cache of the completion of the matrix seen in ``fit``, so that
  ``fit(X).transform(X)`` returns the fitted completion;
- the output: observed entries returned bit for bit, the completion clipped to the
  dtype's finite range, all-missing columns dropped unless ``keep_empty_features``,
  then the indicator block.

A subclass implements ``_fit_completion(X, observed)`` (fit; return the completion of
X in data units, float64) and, when it can complete other matrices,
``_complete_new(X, observed)``.
"""

import inspect
import textwrap
import warnings

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.impute import MissingIndicator
from sklearn.utils.validation import check_is_fitted

from inrr_sklearn._utils import (
    MissingValues,
    VersionedPickleMixin,
    _check_feature_names_in,
    _fit_context,
    is_scalar_nan,
)
from inrr_sklearn._validation import observed_mask, placeholder_is_nan, validate_input

# The parameters of the contract, documented once (numpydoc) for every imputer.
CONTRACT_PARAMETERS = """\
missing_values : float, int, None or pandas.NA, default=np.nan
    The placeholder of missing entries (None and pandas.NA mean NaN).
add_indicator : bool, default=False
    Append a :class:`~sklearn.impute.MissingIndicator` block (one 0/1 column per
    column that had missing entries in ``fit``) to the output, as scikit-learn's
    imputers do; downstream models can then use the missingness itself.
keep_empty_features : bool, default={keep_empty_features}
    Whether columns without any observed entry in ``fit`` are kept (and completed)
    in the output; ``False`` drops them, with a warning, as scikit-learn's imputers
    do.
"""


def document_parameters(cls, **templates):
    """Write parameter templates into ``cls``'s docstring, with ``cls``'s defaults.

    Each keyword names a marker line ``{marker}`` of the docstring (spaces for
    underscores: ``contract_parameters`` fills ``{contract parameters}``) and gives
    the numpydoc text that replaces it; ``{name}`` and ``{<parameter>}`` in the text
    become the class name and the parameter's default.
    """
    defaults = {
        name: "np.nan" if is_scalar_nan(p.default) else repr(p.default)
        for name, p in inspect.signature(cls.__init__).parameters.items()
        if p.default is not inspect.Parameter.empty
    }
    for marker, template in templates.items():
        text = template.format(name=cls.__name__, **defaults)
        line = "    {" + marker.replace("_", " ") + "}\n"
        if line not in cls.__doc__:
            raise ValueError(f"{cls.__name__}'s docstring has no {line.strip()} line.")
        cls.__doc__ = cls.__doc__.replace(line, textwrap.indent(text, "    "))
    return cls


def document_contract(cls):
    """Class decorator: the contract's parameters where ``{contract parameters}`` is."""
    return document_parameters(cls, contract_parameters=CONTRACT_PARAMETERS)


class _BaseImputer(VersionedPickleMixin, TransformerMixin, BaseEstimator):
    """The imputer contract (not public; see the module docstring)."""

    _parameter_constraints: dict = {
        "missing_values": [MissingValues()],
        "add_indicator": ["boolean"],
        "keep_empty_features": ["boolean"],
    }

    def __init__(self, *, missing_values, add_indicator, keep_empty_features):
        self.missing_values = missing_values
        self.add_indicator = add_indicator
        self.keep_empty_features = keep_empty_features

    # ------------------------------------------------------------------ hooks
    def _fit_completion(self, X, observed):
        """Fit on the ``observed`` entries of X; return its completion (float64)."""
        raise NotImplementedError

    def _complete_new(self, X, observed):
        """Completion (data units) of a matrix that is not the fitted one."""
        raise ValueError(
            f"{type(self).__name__} completes the matrix it was fitted on; X differs "
            f"from it (shape {X.shape} vs {self._X_fit.shape}, or other observed "
            "entries). Call fit or fit_transform on the new matrix."
        )

    def _resets_features(self):
        """Whether ``fit`` records the input's features anew (not on warm starts)."""
        return True

    # ------------------------------------------------------------------ fit
    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y=None, *, mask=None):
        """Fit the imputer to the observed entries of X.

        Fitted state is published all-or-nothing: a fit that raises leaves the
        estimator as it was before the call.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Matrix with missing entries (``missing_values``, NaN by default).
        y : 2-D boolean array of X's shape, or None
            A 2-D boolean array is read as the mask (so ``fit(X, mask)`` works);
            anything else (a target vector, a 0/1 matrix) is ignored, as the
            convention wants. Pass a 0/1 mask as ``mask=``.
        mask : array-like of X's shape, bool or 0/1, default=None
            True/1 marks an observed entry (the opposite of scikit-image's and
            OpenCV's inpainting masks, where nonzero marks a hole). Entries marked
            missing are hidden from the imputer even if X holds a value there, and
            ``transform`` of this X completes them. Must not mark a missing value as
            observed. ``None`` means every entry that is not ``missing_values``.

        Returns
        -------
        self : object
            Fitted estimator.
        """
        state = self.__dict__.copy()
        try:
            X = validate_input(self, X, reset=self._resets_features())
            observed = observed_mask(X, y, mask, self.missing_values)
            if not observed.any():
                raise ValueError(
                    "X has no observed entry (every entry is missing or masked): "
                    "there is nothing to complete from."
                )
            completion = self._fit_completion(X, observed)
            self._publish(X, observed, completion)
        except BaseException:
            self.__dict__.clear()
            self.__dict__.update(state)
            raise
        return self

    def _publish(self, X, observed, completion):
        """The fitted state of the contract: caches, empty columns, indicator."""
        self._X_fit = X.copy()  # a copy: the caller may change their array later
        self._observed_fit = observed
        self._completion = completion
        self._empty_features = ~observed.any(axis=0)
        if self._empty_features.any() and not self.keep_empty_features:
            warnings.warn(
                f"[{type(self).__name__}] columns "
                f"{np.flatnonzero(self._empty_features).tolist()} have no observed "
                "entry in fit and are dropped from the output "
                "(keep_empty_features=False); set keep_empty_features=True to keep "
                "and complete them.",
                UserWarning,
                stacklevel=4,
            )
        self.indicator_ = None
        if self.add_indicator:
            self.indicator_ = MissingIndicator(error_on_new=False).fit(
                _missing_as_nan(observed)
            )

    def fit_transform(self, X, y=None, *, mask=None):
        """Fit to X and return it completed (observed entries unchanged).

        Parameters
        ----------
        X, y, mask
            As in :meth:`fit`.

        Returns
        -------
        X_completed : ndarray of shape (n_samples, n_features_out)
            The entries that ``mask`` (or the missing values) hides are completed;
            the indicator columns follow with ``add_indicator``.
        """
        return self.fit(X, y, mask=mask).transform(X)

    # ------------------------------------------------------------------ transform
    def transform(self, X, *, mask=None):
        """Return X with its missing entries completed.

        On the matrix given to ``fit`` this returns the fitted completion, with the
        fitted mask when ``mask`` is None (so ``fit(X, mask).transform(X)`` completes
        the entries that ``mask`` hid). Any other matrix goes to the imputer's rule
        for new data (see its Notes). Observed entries are returned exactly as given.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The matrix to complete.
        mask : array-like of X's shape, default=None
            True/1 = observed, as in ``fit``.

        Returns
        -------
        X_completed : ndarray of shape (n_samples, n_features_out)
            Of X's dtype when it is float32 or float64, else float64.
        """
        check_is_fitted(self)
        X = validate_input(self, X, reset=False)
        is_fitted_X = X.shape == self._X_fit.shape and np.array_equal(
            X, self._X_fit.astype(X.dtype, copy=False), equal_nan=True
        )  # (the fitted matrix cast to float32 is still the fitted matrix)
        if mask is None and is_fitted_X:
            observed = self._observed_fit
        else:
            observed = observed_mask(X, None, mask, self.missing_values)
        if is_fitted_X and np.array_equal(observed, self._observed_fit):
            completion = self._completion
        elif observed.all():
            completion = X
        else:
            completion = self._complete_new(X, observed)
        return self._output(X, observed, completion)

    def _output(self, X, observed, completion):
        out = np.array(X, dtype=X.dtype, copy=True, order="C")
        missing = ~observed
        limit = np.finfo(X.dtype).max  # a float32 output never overflows to inf
        out[missing] = np.clip(completion[missing], -limit, limit).astype(X.dtype)
        if not self.keep_empty_features:
            out = out[:, ~self._empty_features]
        if self.indicator_ is not None:
            indicator = self.indicator_.transform(_missing_as_nan(observed))
            out = np.hstack([out, indicator.astype(X.dtype)])
        return out

    def get_feature_names_out(self, input_features=None):
        """Output feature names: the kept input columns, then the indicator columns.

        Parameters
        ----------
        input_features : array-like of str or None, default=None
            Input feature names; ``None`` uses ``feature_names_in_`` or ``x0, x1, ...``.

        Returns
        -------
        feature_names_out : ndarray of str objects
        """
        check_is_fitted(self)
        names = _check_feature_names_in(self, input_features)
        kept = names if self.keep_empty_features else names[~self._empty_features]
        if self.indicator_ is None:
            return kept
        return np.concatenate([kept, self.indicator_.get_feature_names_out(names)])

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = placeholder_is_nan(self.missing_values)
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags


def _missing_as_nan(observed):
    """NaN where an entry is missing, 0 elsewhere (what MissingIndicator reads)."""
    return np.where(observed, 0.0, np.nan)
