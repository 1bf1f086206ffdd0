"""Held-out scoring, GridSearchCV recipes, metadata routing, pandas output."""

import numpy as np
import pytest
import sklearn
from numpy.testing import assert_array_equal
from sklearn.linear_model import Ridge
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline

from inrr_sklearn import INRR, DMFImputer, INRImputer
from inrr_sklearn.model_selection import heldout_rmse, hide_observed, neg_heldout_rmse

# Short budgets on purpose: ConvergenceWarning is expected (tested on its own).
pytestmark = pytest.mark.usefixtures("quiet_convergence")


def test_hide_observed_hides_only_observed_entries(low_rank_with_nans):
    _, X_nan, _ = low_rank_with_nans
    hidden = hide_observed(X_nan, 0.25, random_state=0)
    newly = np.isnan(hidden) & ~np.isnan(X_nan)
    assert newly.sum() == round(0.25 * (~np.isnan(X_nan)).sum())
    assert_array_equal(hidden[~np.isnan(hidden)], X_nan[~np.isnan(hidden)])
    assert_array_equal(hide_observed(X_nan, 0.25, random_state=0), hidden)
    with pytest.raises(ValueError, match="fraction"):
        hide_observed(X_nan, 1.5)


def test_heldout_rmse_by_hand():
    ref = np.array([[1.0, 2.0], [np.nan, 4.0]])
    hidden = np.array([[1.0, np.nan], [np.nan, np.nan]])
    completed = np.array([[1.0, 3.0], [9.0, 4.0]])
    # held-out entries: (0, 1) error 1 and (1, 1) error 0; (1, 0) is truly unknown.
    assert heldout_rmse(completed, hidden, ref) == pytest.approx(np.sqrt(0.5))
    with pytest.raises(ValueError, match="no held-out entry"):
        heldout_rmse(completed, ref, ref)


def test_single_matrix_grid_search_recipe(low_rank_with_nans):
    _, X_nan, _ = low_rank_with_nans
    X_hidden = hide_observed(X_nan, 0.2, random_state=0)
    whole = np.arange(X_nan.shape[0])
    search = GridSearchCV(
        INRImputer(
            reg=INRR(rank=4, hidden_layer_sizes=(8,)),
            hidden_layer_sizes=(16, 16),
            max_iter=20,
            early_stopping=False,
            device="cpu",
            random_state=0,
        ),
        {"reg__alpha_row": [1e-3, 1e-1]},
        cv=[(whole, whole)],
        scoring=neg_heldout_rmse,
    ).fit(X_hidden, X_nan)
    scores = search.cv_results_["mean_test_score"]
    assert np.all(scores < 0) and scores[0] != scores[1]
    assert search.best_params_["reg__alpha_row"] in (1e-3, 1e-1)


def test_row_wise_cv_pipeline_with_downstream_model():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 2)) @ rng.normal(size=(2, 6))
    y = X @ rng.normal(size=6)
    X_nan = np.where(rng.random(X.shape) < 0.2, np.nan, X)
    pipe = make_pipeline(
        DMFImputer(reg=INRR(rank=4), max_iter=30, device="cpu", random_state=0),
        Ridge(),
    )
    search = GridSearchCV(pipe, {"dmfimputer__reg__alpha_row": [1e-3, 1e-1]}, cv=3).fit(
        X_nan, y
    )
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()


def test_mask_routes_through_pipeline(low_rank_with_nans):
    X, _, missing = low_rank_with_nans
    observed = ~missing
    with sklearn.config_context(enable_metadata_routing=True):
        imputer = (
            INRImputer(
                hidden_layer_sizes=(16,),
                max_iter=5,
                early_stopping=False,
                device="cpu",
                random_state=0,
            )
            .set_fit_request(mask=True)
            .set_transform_request(mask=True)
        )
        pipe = make_pipeline(imputer)
        pipe.fit(X, mask=observed)
        out = pipe.transform(X, mask=observed)
    assert not np.allclose(out[missing], X[missing])  # hidden entries were completed
    assert_array_equal(out[observed], X[observed])


def test_pandas_output(low_rank_with_nans):
    pd = pytest.importorskip("pandas")
    _, X_nan, _ = low_rank_with_nans
    df = pd.DataFrame(X_nan, columns=[f"f{i}" for i in range(X_nan.shape[1])])
    imp = DMFImputer(max_iter=5, early_stopping=False, device="cpu", random_state=0)
    out = imp.set_output(transform="pandas").fit_transform(df)
    assert isinstance(out, pd.DataFrame)
    assert list(out.columns) == list(df.columns)
    assert not out.isna().any().any()
