"""Shared fixtures: tiny generated matrices and fast estimator settings."""

import warnings

import numpy as np
import pytest
import torch
from sklearn.exceptions import ConvergenceWarning

# Fast settings for tests: tiny networks, few steps, CPU.
FAST_INR = dict(
    hidden_layer_sizes=(16, 16),
    max_iter=5,
    early_stopping=False,
    device="cpu",
    random_state=0,
)
FAST_INRR = dict(rank=8, hidden_layer_sizes=(8, 8))
FAST_DMF = dict(max_iter=5, early_stopping=False, device="cpu", random_state=0)


@pytest.fixture(autouse=True)
def seeds_fixed():
    # Global seeds belong to tests only; the library uses local generators.
    torch.manual_seed(0)
    np.random.seed(0)


@pytest.fixture
def quiet_convergence():
    """Silence ConvergenceWarning for tests that run a few steps on purpose."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        yield


@pytest.fixture
def low_rank_with_nans():
    """A smooth rank-2 12 x 8 matrix with 20 % of entries missing (MCAR)."""
    rng = np.random.default_rng(0)
    u = np.linspace(0, 1, 12)
    v = np.linspace(0, 1, 8)
    X = np.outer(np.sin(3 * u), np.cos(2 * v)) + np.outer(u, v) + 2.0
    missing = rng.random(X.shape) < 0.2
    X_nan = X.copy()
    X_nan[missing] = np.nan
    return X, X_nan, missing


_DOCS_TEST = "test_python_blocks_run_as_written"
_page_runner = []  # the docs pages' background runner, once started


def _is_docs_page(item):
    return getattr(item, "originalname", None) == _DOCS_TEST


def pytest_collection_modifyitems(items):
    """The docs pages' tests last: their pages run in the background meanwhile."""
    items.sort(key=_is_docs_page)  # stable: the others keep their order


def pytest_collection_finish(session):
    """Start the selected docs pages in the background (see ``test_docs.py``)."""
    items = [item for item in session.items if _is_docs_page(item)]
    if session.config.option.collectonly:
        return
    try:
        import skimage  # noqa: F401  (the pages need it; without it they are skipped)
    except ImportError:
        return
    if items:
        runner = items[0].module.RUNNER
        runner.start([item.callspec.params["page"] for item in items])
        _page_runner.append(runner)


def pytest_sessionfinish(session):
    for runner in _page_runner:
        runner.close()
