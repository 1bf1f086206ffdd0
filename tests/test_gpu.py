"""The CUDA path: runs only where CUDA is present (``pytest -m gpu``)."""

import pickle

import numpy as np
import pytest
import torch
from numpy.testing import assert_array_equal

from inrr_sklearn import INRR, INRImputer

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA"),
]


def _problem():
    rng = np.random.default_rng(0)
    u = np.linspace(0, 1, 32)
    X = np.outer(np.sin(4 * u), np.cos(3 * u)) + 1.0
    missing = rng.random(X.shape) < 0.3
    return X, np.where(missing, np.nan, X), missing


@pytest.mark.parametrize("device", ["cuda", "cuda:0", "auto"])
def test_fit_on_cuda_stores_model_on_cpu(device):
    _, X_nan, missing = _problem()
    imp = INRImputer(
        reg=INRR(rank=16, hidden_layer_sizes=(16, 16)),
        hidden_layer_sizes=(32, 32, 32),
        max_iter=200,
        random_state=0,
        device=device,
    )
    out = imp.fit_transform(X_nan)
    assert imp.device_.type == "cuda"
    assert all(p.device.type == "cpu" for p in imp.model_.parameters())
    assert all(p.device.type == "cpu" for p in imp.penalty_.parameters())
    assert_array_equal(out[~missing], X_nan[~missing])
    restored = pickle.loads(pickle.dumps(imp))
    assert_array_equal(restored.transform(X_nan), out)


def test_cuda_and_cpu_reach_similar_quality():
    X, X_nan, missing = _problem()
    errors = {}
    for device in ("cpu", "cuda"):
        out = INRImputer(
            hidden_layer_sizes=(32, 32, 32), max_iter=300, random_state=0, device=device
        ).fit_transform(X_nan)
        errors[device] = np.sqrt(np.mean((out[missing] - X[missing]) ** 2))
    assert errors["cuda"] < 2 * errors["cpu"] + 1e-3, errors
