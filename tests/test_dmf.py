"""DMFImputer: completion, shared machinery, regularizers, and new-row fold-in."""

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from inrr_sklearn import AIR, INRR, L2, TV, DMFImputer
from tests.conftest import FAST_DMF

# Short budgets on purpose: ConvergenceWarning is expected (tested on its own).
pytestmark = pytest.mark.usefixtures("quiet_convergence")


@pytest.fixture
def low_rank_table():
    """A rank-2 30 x 8 table on very different column scales, 25 % missing."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(30, 2)) @ rng.normal(size=(2, 8))
    X = X * np.logspace(-2, 3, 8) + np.arange(8) * 100
    missing = rng.random(X.shape) < 0.25
    return X, np.where(missing, np.nan, X), missing


def _rmse(a, b):
    return float(np.sqrt(np.mean((a - b) ** 2)))


def test_completes_low_rank_table_better_than_column_means(low_rank_table):
    X, X_nan, missing = low_rank_table
    imp = DMFImputer(
        rank=8,
        max_iter=1500,
        learning_rate_init=1e-2,
        early_stopping=False,
        random_state=0,
        device="cpu",
    )
    out = imp.fit_transform(X_nan)
    assert_array_equal(out[~missing], X_nan[~missing])
    scale = np.nanstd(X_nan, axis=0)
    means = np.where(missing, np.nanmean(X_nan, axis=0), X)
    err_dmf = _rmse((out / scale)[missing], (X / scale)[missing])
    err_mean = _rmse((means / scale)[missing], (X / scale)[missing])
    assert err_dmf < 0.5 * err_mean, (err_dmf, err_mean)


@pytest.mark.parametrize(
    "reg", [INRR(rank=4, hidden_layer_sizes=(8,)), AIR(), TV(), L2()]
)
def test_every_regularizer_works(low_rank_table, reg):
    _, X_nan, missing = low_rank_table
    out = DMFImputer(reg=reg, **FAST_DMF).fit_transform(X_nan)
    assert np.isfinite(out).all()
    assert_array_equal(out[~missing], X_nan[~missing])


def test_fold_in_new_rows(low_rank_table):
    X, X_nan, missing = low_rank_table
    train, new = X_nan[:24], X_nan[24:]
    imp = DMFImputer(
        rank=4,
        max_iter=1500,
        learning_rate_init=1e-2,
        early_stopping=False,
        random_state=0,
        device="cpu",
    ).fit(train)
    out = imp.transform(new)
    again = imp.transform(new)
    assert_array_equal(out, again)  # deterministic
    new_missing = missing[24:]
    assert_array_equal(out[~new_missing], new[~new_missing])
    scale = np.nanstd(X_nan, axis=0)
    means = np.where(new_missing, np.nanmean(train, axis=0), X[24:])
    err = _rmse((out / scale)[new_missing], (X[24:] / scale)[new_missing])
    err_mean = _rmse((means / scale)[new_missing], (X[24:] / scale)[new_missing])
    assert err < 0.5 * err_mean, (err, err_mean)


def test_fold_in_of_a_row_without_observed_entries_gives_column_means(low_rank_table):
    _, X_nan, _ = low_rank_table
    imp = DMFImputer(**FAST_DMF).fit(X_nan)
    new = X_nan[:3].copy()
    new[1] = np.nan
    out = imp.transform(new)
    assert_allclose(out[1], np.nanmean(X_nan, axis=0))


def test_fold_in_needs_same_columns(low_rank_table):
    _, X_nan, _ = low_rank_table
    imp = DMFImputer(**FAST_DMF).fit(X_nan)
    with pytest.raises(ValueError, match="features"):
        imp.transform(X_nan[:, :5])


def test_shared_fitted_attributes(low_rank_table):
    _, X_nan, _ = low_rank_table
    imp = DMFImputer(reg=INRR(rank=4), max_iter=40, device="cpu", random_state=0)
    imp.fit(X_nan)
    assert imp.n_iter_ == len(imp.loss_curve_) == len(imp.validation_scores_)
    assert imp.model_.row_factor.shape == (30, 8)
    assert "n_layers=3" in repr(imp.model_)
