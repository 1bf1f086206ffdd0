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
