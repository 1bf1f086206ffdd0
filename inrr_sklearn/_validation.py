"""Input coercion and checks shared by every imputer.

What the imputers accept, in one place: numbers held as objects (``None`` and
``pd.NA`` read as missing), pandas nullable and object columns, and the optional
observed-entry mask (True = observed). Nothing here writes into the caller's array.
"""

import numpy as np
from sklearn.utils.validation import validate_data

from inrr_sklearn._utils import is_scalar_nan


def is_missing_object(value):
    """None and pandas' NA in an object array (both read as NaN)."""
    return value is None or type(value).__name__ == "NAType"


def placeholder_is_nan(missing_values):
    """NaN, None and pd.NA all mean "NaN" once objects are read as numbers."""
    return is_scalar_nan(missing_values) or is_missing_object(missing_values)


def missing_by_value(X, missing_values):
    if placeholder_is_nan(missing_values):
        return np.isnan(X)
    return X == missing_values


def _not_a_number(exc):
    return TypeError(
        f"X holds an object that is not a number ({exc}); this imputer completes "
        "numeric matrices."
    )


def objects_to_numbers(X):
    """Numbers held as objects become float64, with ``None``/``pd.NA`` as NaN.

    Object arrays, lists holding ``None`` and pandas object or nullable columns are
    converted; any other input (polars frames included: scikit-learn reads their
    nulls as NaN) passes through unchanged. Raises ``TypeError`` for a
    value that is not a number.
    """
    if hasattr(X, "iloc") and hasattr(X, "dtypes"):  # a pandas DataFrame
        if all(getattr(dtype, "kind", "O") in "iufb" for dtype in X.dtypes):
            return X
        try:
            return X.astype(object).where(X.notna(), np.nan).astype(np.float64)
        except (TypeError, ValueError) as exc:
            raise _not_a_number(exc) from exc
    if isinstance(X, list | tuple):
        X = np.asarray(X, dtype=object)
    if not isinstance(X, np.ndarray) or X.dtype != object:
        return X
    to_number = np.frompyfunc(lambda v: np.nan if is_missing_object(v) else v, 1, 1)
    try:
        return np.asarray(to_number(X)).astype(np.float64)
    except (TypeError, ValueError) as exc:
        raise _not_a_number(exc) from exc


def boolean_matrix(y):
    """``y`` as a 2-D boolean ndarray if it is one (numpy or pandas), else None."""
    if y is None or hasattr(y, "toarray") or hasattr(y, "tocsr"):
        return None
    dtypes = getattr(y, "dtypes", None)
    if dtypes is not None and hasattr(y, "columns"):  # pandas bool or "boolean"
        if len(dtypes) and all(str(dtype) in ("bool", "boolean") for dtype in dtypes):
            if y.isna().to_numpy().any():
                raise ValueError("the positional mask holds missing values (pd.NA).")
            return y.to_numpy(dtype=bool)
        return None
    array = np.asarray(y)
    return array if array.dtype == bool and array.ndim == 2 else None


def check_mask(mask, X, missing):
    """Validate a user mask (True/1 = observed) against X; return a boolean copy."""
    if hasattr(mask, "toarray") or hasattr(mask, "tocsr"):
        raise TypeError("mask must be a dense array; got a sparse matrix.")
    mask = np.asarray(mask)
    if mask.shape != X.shape:
        raise ValueError(
            f"mask has shape {mask.shape}, but X has shape {X.shape}; they must match "
            "(True/1 = observed)."
        )
    if mask.dtype != bool and (
        mask.dtype.kind not in "iuf" or not np.isin(mask, (0, 1)).all()
    ):
        raise ValueError(
            f"mask must be boolean or contain only 0 and 1 (True/1 = observed); "
            f"got dtype {mask.dtype}."
        )
    mask = mask.astype(bool, copy=True)  # never keep the user's array by reference
    clash = mask & missing
    if clash.any():
        i, j = np.argwhere(clash)[0]
        raise ValueError(
            f"mask marks {int(clash.sum())} entries as observed where X holds the "
            f"missing value (first at row {i}, column {j})."
        )
    return mask


def check_missing_values_type(X, missing_values):
    """Refuse a placeholder that cannot occur in a numeric matrix (a string)."""
    if isinstance(missing_values, str):
        raise ValueError(
            "'X' and 'missing_values' types are expected to be both numerical. Got "
            f"X.dtype={X.dtype} and missing_values={missing_values!r}, a string: "
            "this imputer completes numeric matrices; use NaN (the default) or a "
            "number."
        )


def validate_input(estimator, X, *, reset):
    """``X`` as a float64 or float32 ndarray, checked, its features recorded.

    Objects become numbers (:func:`objects_to_numbers`); NaN is allowed when it is
    the placeholder, infinities never. The result may be the caller's own array:
    callers never write into it.
    """
    missing_values = estimator.missing_values
    X = objects_to_numbers(X)
    X = validate_data(
        estimator,
        X,
        reset=reset,
        dtype=[np.float64, np.float32],
        ensure_all_finite="allow-nan" if placeholder_is_nan(missing_values) else True,
        copy=False,
    )
    check_missing_values_type(X, missing_values)
    return X


def observed_mask(X, y, mask, missing_values):
    """Boolean observed entries from ``mask``, a 2-D boolean ``y``, or X itself.

    ``y`` is read as the mask only when it is a 2-D boolean array (the card's
    ``fit(X, mask)``); any other ``y`` (targets, 0/1 matrices) is ignored.
    """
    missing = missing_by_value(X, missing_values)
    y_array = boolean_matrix(y)
    if y_array is not None:
        if mask is not None:
            raise ValueError(
                "the mask was given twice, positionally (y) and as mask=; give it once."
            )
        if y_array.shape != X.shape:
            raise ValueError(
                f"the positional mask (a 2-D boolean y) has shape {y_array.shape}, "
                f"but X has shape {X.shape}; they must match (True = observed). "
                "If y is a boolean multilabel target, pass y.astype(int): only "
                "2-D boolean arrays are read as masks."
            )
        mask = y_array
    if mask is None:
        return ~missing
    return check_mask(mask, X, missing)


def pixel_shape(X, n_channels):
    """``(H, W, C)``: the image that ``X = image.reshape(H, W * C)`` holds, with
    ``C = n_channels``; a clear error when the columns do not split into channels."""
    if X.shape[1] % n_channels:
        raise ValueError(
            f"X has {X.shape[1]} columns, not a multiple of n_channels={n_channels}; "
            "pass an (H, W, C) image as X.reshape(H, W * C)."
        )
    return (X.shape[0], X.shape[1] // n_channels, n_channels)
