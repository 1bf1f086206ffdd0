"""GridSearchCV over our imputers on Dask workers (LocalCluster, 2 processes, loopback).

Needs the ``[distributed]`` extra; skipped without it.
"""

import pickle
import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import Ridge
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline

from inrr_sklearn import INRR, DMFImputer, INRImputer
from inrr_sklearn.model_selection import hide_observed, neg_heldout_rmse

distributed = pytest.importorskip("distributed")
joblib = pytest.importorskip("joblib")


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
    )
    with distributed.Client(cluster) as dask_client:
        yield dask_client
    cluster.close()


def test_unfitted_estimators_are_cheap_to_pickle():
    for est in (INRImputer(reg=INRR()), DMFImputer(reg=INRR())):
        assert len(pickle.dumps(est)) < 2_000  # hyperparameters only, no torch state


def test_grid_search_pipeline_on_dask(client):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 2)) @ rng.normal(size=(2, 6))
    y = X @ rng.normal(size=6)
    X_nan = np.where(rng.random(X.shape) < 0.2, np.nan, X)
    search = GridSearchCV(
        make_pipeline(
            DMFImputer(reg=INRR(rank=4), max_iter=20, device="cpu", random_state=0),
            Ridge(),
        ),
        {"dmfimputer__reg__alpha_row": [1e-3, 1e-1]},
        cv=2,
    )
    with joblib.parallel_backend("dask"), warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        search.fit(X_nan, y)
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()
    workers = {w for w in client.run(lambda: __import__("os").getpid()).values()}
    assert len(workers) == 2


def test_single_matrix_search_on_dask(client):
    rng = np.random.default_rng(0)
    u = np.linspace(0, 1, 16)
    X_nan = np.where(rng.random((16, 16)) < 0.3, np.nan, np.outer(u, u))
    X_hidden = hide_observed(X_nan, 0.2, random_state=0)
    whole = np.arange(16)
    search = GridSearchCV(
        INRImputer(
            reg=INRR(rank=4, hidden_layer_sizes=(8,)),
            hidden_layer_sizes=(16,),
            max_iter=10,
            early_stopping=False,
            device="cpu",
            random_state=0,
        ),
        {"reg__alpha_row": [1e-3, 1e-1]},
        cv=[(whole, whole)],
        scoring=neg_heldout_rmse,
    )
    with joblib.parallel_backend("dask"), warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        search.fit(X_hidden, X_nan)
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()
