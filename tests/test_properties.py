"""Property tests (hypothesis): any shape, mask and magnitude from 1e-300 to 1e300.

Bounded to a few dozen tiny fits so that the whole module runs in seconds.
"""

import warnings

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.exceptions import ConvergenceWarning

from inrr_sklearn import DMFImputer, INRImputer

FAST = dict(max_iter=8, early_stopping=False, device="cpu", random_state=0)
IMPUTERS = [
    lambda: INRImputer(hidden_layer_sizes=(8, 8), **FAST),
    lambda: INRImputer(hidden_layer_sizes=(8,), scaling="per_column", **FAST),
    lambda: DMFImputer(**FAST),
    lambda: DMFImputer(scaling="global", **FAST),
]


@st.composite
def problems(draw):
    """A matrix (2..7 x 1..6), a mask with at least one observed entry, a unit."""
    n_rows = draw(st.integers(2, 7))
    n_cols = draw(st.integers(1, 6))
    seed = draw(st.integers(0, 2**16))
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n_rows, n_cols)) + draw(st.sampled_from([0.0, 3.0]))
    mask = rng.random(X.shape) < draw(st.floats(0.2, 0.9))
    mask.flat[rng.integers(X.size)] = True
    exponent = draw(st.integers(-300, 300))
    dtype = draw(st.sampled_from([np.float64, np.float32]))
    if dtype == np.float32:
        exponent = max(-30, min(30, exponent))
    return X, mask, 10.0**exponent, dtype, draw(st.integers(0, len(IMPUTERS) - 1))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problems())
def test_any_magnitude_gives_finite_unit_free_completions(problem):
    X, mask, unit, dtype, which = problem
    X_nan = np.where(mask, X, np.nan)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        reference = IMPUTERS[which]().fit_transform(X_nan)
        scaled_input = (unit * X_nan).astype(dtype)
        completed = IMPUTERS[which]().fit_transform(scaled_input)
    assert completed.dtype == dtype
    assert np.isfinite(completed).all()
    assert_array_equal(completed[mask], scaled_input[mask])  # bit-for-bit
    # Same completion in other units (float32 data is rounded to 7 digits first).
    rtol = 1e-6 if dtype == np.float64 else 1e-3
    atol = rtol * np.abs(reference).max()
    assert_allclose(completed[~mask] / unit, reference[~mask], rtol=rtol, atol=atol)
