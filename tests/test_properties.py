"""Property tests (hypothesis): any shape, mask and magnitude from 1e-300 to 1e300.

Every imputer of the library (the blend over scikit-learn's unit-dependent imputers)
on a fixed, derandomized draw of 80 problems (500 random draws passed when this was
written); bounded to tiny fits so that the whole module runs in seconds.
"""

import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.exceptions import ConvergenceWarning
from sklearn.experimental import enable_iterative_imputer  # noqa: F401
from sklearn.impute import IterativeImputer, KNNImputer

from inrr_sklearn import (
    BlendImputer,
    DMFImputer,
    InpaintImputer,
    INRImputer,
    SoftImputer,
)

FAST = dict(max_iter=8, early_stopping=False, device="cpu", random_state=0)


def _classical_blend():
    """BlendImputer over scikit-learn's imputers, whose own results depend on units
    (IterativeImputer's BayesianRidge overflows at 1e160) and SoftImpute; without
    a fixed step budget, tolerances would decide the result (DMF stops early)."""
    return BlendImputer(
        [
            ("soft", SoftImputer(tol=0.0, max_iter=10, keep_empty_features=True)),
            ("iterative", IterativeImputer(random_state=0, keep_empty_features=True)),
            ("knn", KNNImputer(keep_empty_features=True)),
        ],
        n_jobs=1,
        random_state=0,
        keep_empty_features=True,
    )


IMPUTERS = [
    lambda: INRImputer(hidden_layer_sizes=(8, 8), **FAST),
    lambda: INRImputer(hidden_layer_sizes=(8,), scaling="per_column", **FAST),
    lambda: DMFImputer(**FAST),
    lambda: DMFImputer(scaling="global", **FAST),
    lambda: SoftImputer(tol=0.0, max_iter=10, keep_empty_features=True),
    _classical_blend,
    lambda: InpaintImputer("biharmonic"),
    lambda: InpaintImputer("telea"),
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


@settings(
    max_examples=80,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
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


@pytest.mark.parametrize("unit", [1e-300, 1e-160, 1e160, 1e300])
def test_default_blend_completes_any_magnitude(unit):
    """BlendImputer() at its defaults (DMF trains in float32 and stops early, so
    completions agree to a few percent of the largest value, not to rounding)."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 2)) @ rng.normal(size=(2, 5)) + 3.0
    X[:, 4] = 2.5  # a constant column is completed with its value exactly
    mask = rng.random(X.shape) < 0.7
    X_nan = np.where(mask, X, np.nan)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        reference = BlendImputer(n_jobs=1, random_state=0).fit_transform(X_nan)
        completed = BlendImputer(n_jobs=1, random_state=0).fit_transform(unit * X_nan)
    assert_array_equal(completed[mask], unit * X_nan[mask])
    assert_array_equal(completed[:, 4], unit * 2.5)
    atol = 0.05 * np.abs(reference).max()
    assert_allclose(completed[~mask] / unit, reference[~mask], rtol=0, atol=atol)


@pytest.mark.parametrize(
    "make",
    [lambda: SoftImputer(tol=0.0, max_iter=10), _classical_blend],
    ids=["softimpute", "blend"],
)
def test_a_column_of_equal_values_does_not_make_completions_depend_on_units(make):
    """Ten 0.1s have a rounded mean, so their standard deviation comes out near
    1e-17, not 0: standardised by it, the column would read about ±1, a different
    value in other units, and move every other column's completion."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(10, 2)) @ rng.normal(size=(2, 4)) + 3.0
    X[:, 3] = 0.1
    mask = rng.random(X.shape) < 0.8
    mask[:, 3] = True
    X_nan = np.where(mask, X, np.nan)
    reference = make().fit_transform(X_nan)
    for unit in (3.0, 1e-200):
        completed = make().fit_transform(unit * X_nan)
        atol = 1e-9 * np.abs(reference).max()
        assert_allclose(completed[~mask] / unit, reference[~mask], rtol=0, atol=atol)
