"""Value scaling learned from the observed entries, in float64 whatever the units.

The torch imputers train on scaled values (min-max onto the model's output range, or
standardised per column) and map the completion back; :func:`fit_scaling` learns the
map, :func:`resolve_scaling` picks what ``scaling="auto"`` stands for.
"""

import warnings
from typing import NamedTuple

import numpy as np


class Scaling(NamedTuple):
    """``Z = (X / unit - offset) / span`` per column (float64), and the constant
    columns.

    ``unit`` is 1 except for data so small that the span in data units would be a
    subnormal number (imprecise, or 0): the statistics then stay in units of the
    largest magnitude. ``constant`` holds, per column, the value that every observed
    entry shares when the column (or, for whole-matrix scalings, the whole matrix) is
    constant, else NaN: such columns are completed with that value exactly.
    """

    offset: np.ndarray  # (1, n_cols)
    span: np.ndarray  # (1, n_cols), > 0
    constant: np.ndarray  # (1, n_cols), NaN where not constant
    unit: float = 1.0

    def to_scaled(self, X):
        X = np.asarray(X, dtype=np.float64)
        if self.unit != 1.0:
            X = X / self.unit
        return (X - self.offset) / self.span

    @classmethod
    def from_moments(cls, mean, std, n_cols):
        """``(X - mean) / std`` on ``n_cols`` columns (scalars or per column), no
        constant columns: the scaling of a pickle from before :func:`fit_scaling`."""
        return cls(
            offset=np.broadcast_to(mean, (1, n_cols)),
            span=np.broadcast_to(std, (1, n_cols)),
            constant=np.full((1, n_cols), np.nan),
        )

    def from_scaled(self, Z):
        X = np.asarray(Z, dtype=np.float64) * self.span + self.offset
        if self.unit != 1.0:
            X = X * self.unit
        return np.where(np.isnan(self.constant), X, self.constant)


# scaling="auto" scales per column when column ranges differ by more than this factor
# (columns in different units, as in most tables); else one scale (an image). Measured:
# skimage's camera, astronaut, coins, grass, brick, moon, page and text at 64² and 128²
# have ratios of 1.8 to 16; tables in mixed units 500 to 2,700 (wine, the quarterly
# macro table of statsmodels, Grunfeld's panel); 100 leaves room on both sides.
_AUTO_SPAN_RATIO = 100.0


# Below this fraction of the largest column range, float32 cannot resolve a column
# under one whole-matrix scale.
_FLOAT32_RESOLUTION = 1e-6


def resolve_scaling(kind, X, observed):
    """The scaling ``"auto"`` stands for on this matrix (other kinds unchanged).

    Warns when ``"global"`` would squeeze some columns below float32 resolution.
    """
    if kind not in ("auto", "global"):
        return kind
    values = np.where(observed, X, np.nan).astype(np.float64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-missing columns
        spans = np.nanmax(values, axis=0) - np.nanmin(values, axis=0)
    spans = spans[np.isfinite(spans) & (spans > 0)]
    ratio = spans.max() / spans.min() if spans.size else 1.0
    if kind == "auto":
        return "per_column" if ratio > _AUTO_SPAN_RATIO else "global"
    if ratio * _FLOAT32_RESOLUTION > 1:
        warnings.warn(
            f"scaling='global' maps the whole matrix onto one range, but its columns' "
            f"ranges differ by a factor of {ratio:.3g}: the narrowest fall below "
            "float32 resolution and will be imputed poorly. Use scaling='per_column' "
            "(or 'standard', or 'auto') for columns in different units.",
            UserWarning,
            stacklevel=5,
        )
    return kind


def fit_scaling(X, observed, kind, low_high=(0.0, 1.0), empty="matrix"):
    """Learn a :class:`Scaling` from the observed entries of X.

    ``"global"``: one min-max of the whole matrix onto ``low_high``; ``"per_column"``:
    one min-max per column; ``"standard"``: per-column mean and standard deviation;
    ``"none"``: the identity. A column without observed entries takes the whole
    matrix's statistics (``empty="matrix"``: a model then predicts it on the scale of
    the rest) or, with ``empty="zero"``, no offset and the largest magnitude as its
    scale, so that the fill of scikit-learn's imputers in an empty column, 0, is 0 in
    the output too. Statistics are computed in float64 on the values divided by their
    largest magnitude, so that neither 1e300 nor 1e-300 overflows or underflows.
    """
    if empty not in ("matrix", "zero"):
        raise ValueError(f"empty must be 'matrix' or 'zero', not {empty!r}")
    n_cols = X.shape[1]
    if kind == "none":
        return Scaling(
            offset=np.zeros((1, n_cols)),
            span=np.ones((1, n_cols)),
            constant=np.full((1, n_cols), np.nan),
        )
    values = np.where(observed, X, np.nan).astype(np.float64)
    unit = float(np.nanmax(np.abs(values)))
    unit = unit if unit > 0 else 1.0
    V = values / unit
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-missing columns
        if kind == "standard":
            offset = np.nanmean(V, axis=0, keepdims=True)
            offset = np.where(np.isnan(offset), np.nanmean(V), offset)
            span = np.nanstd(V, axis=0, keepdims=True)
            span = np.where(np.isnan(span), np.nanstd(V), span)
        else:
            low, high = low_high
            lo, hi = np.nanmin(V), np.nanmax(V)
            if kind == "per_column":
                lo = np.where(np.isnan(c := np.nanmin(V, 0, keepdims=True)), lo, c)
                hi = np.where(np.isnan(c := np.nanmax(V, 0, keepdims=True)), hi, c)
            span = np.broadcast_to((hi - lo) / (high - low), (1, n_cols))
            offset = np.broadcast_to(lo - low * span, (1, n_cols))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-missing columns
        first = np.nanmin(values, axis=0, keepdims=True)  # exact observed values
        last = np.nanmax(values, axis=0, keepdims=True)
    first = np.where(np.isnan(first), np.nanmin(values), first)
    last = np.where(np.isnan(last), np.nanmax(values), last)
    flat = first == last  # (a standard deviation of equal values may not be 0)
    if kind == "global":  # a lone observed value in an image column is no constant
        flat &= (observed.sum(axis=0, keepdims=True) >= 2) | (
            np.nanmax(V) == np.nanmin(V)
        )
    if kind == "standard":  # equal values sit at 0, not at ±1 of a rounding's std
        offset = np.where(flat, first / unit, offset)
        span = np.where(flat, 1.0, span)
    span = np.where(span > 0, span, 1.0)
    constant = np.where(flat, first, np.nan)
    if empty == "zero":
        unseen = ~observed.any(axis=0, keepdims=True)
        offset = np.where(unseen, 0.0, offset)
        span = np.where(unseen, 1.0, span)
        constant = np.where(unseen, np.nan, constant)
    if (span * unit).min() < np.finfo(np.float64).tiny:  # subnormal data units
        return Scaling(offset=offset, span=span, constant=constant, unit=unit)
    return Scaling(offset=offset * unit, span=span * unit, constant=constant)
