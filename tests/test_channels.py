"""Multi-channel images (RGB, frame stacks) through ``n_channels``."""

import numpy as np
import pytest
import torch
from numpy.testing import assert_allclose, assert_array_equal

from inrr_sklearn import AIR, INRR, TV, DMFImputer, INRImputer
from inrr_sklearn.regularizers import dirichlet_energy_dense
from tests.conftest import FAST_DMF, FAST_INR, FAST_INRR

pytestmark = pytest.mark.usefixtures("quiet_convergence")


@pytest.fixture
def rgb():
    """A smooth 16 x 12 RGB image, 40 % of pixels missing in every channel."""
    u = np.linspace(0, 1, 16)[:, None, None]
    v = np.linspace(0, 1, 12)[None, :, None]
    phase = np.array([0.0, 1.0, 2.0])[None, None, :]
    image = 0.5 + 0.4 * np.sin(3 * u + 2 * v + phase)
    observed = np.random.default_rng(0).random((16, 12)) >= 0.4
    X = np.where(observed[..., None], image, np.nan).reshape(16, 36)
    return image, observed, X


@pytest.mark.parametrize("reg", [None, INRR(**FAST_INRR), TV(), AIR()])
def test_rgb_completes_with_every_regularizer(rgb, reg):
    _, _, X = rgb
    imp = INRImputer(reg=reg, n_channels=3, **FAST_INR)
    out = imp.fit_transform(X)
    assert out.shape == (16, 36) and not np.isnan(out).any()
    assert_array_equal(out[~np.isnan(X)], X[~np.isnan(X)])
    if isinstance(reg, INRR):
        assert imp.penalty_.inrs.sizes == (16, 12)  # pixel columns, not 36


def test_rgb_siren_beats_channel_means(rgb):
    image, observed, X = rgb
    imp = INRImputer(
        n_channels=3, hidden_layer_sizes=(32, 32), max_iter=300, early_stopping=False,
        random_state=0, device="cpu",
    )  # fmt: skip
    out = imp.fit_transform(X).reshape(16, 12, 3)
    missing = ~observed
    err = np.sqrt(np.mean((out - image)[missing] ** 2))
    means = np.nanmean(X.reshape(16, 12, 3), axis=(0, 1))
    baseline = np.sqrt(np.mean((means - image)[missing] ** 2))
    assert err < 0.5 * baseline  # measured: 0.08 vs 0.24


def test_dmf_with_channels_and_inrr(rgb):
    _, _, X = rgb
    imp = DMFImputer(reg=INRR(**FAST_INRR), n_channels=3, **FAST_DMF)
    out = imp.fit_transform(X)
    assert out.shape == X.shape and not np.isnan(out).any()
    assert imp.penalty_.inrs.sizes[1] == 12


def test_inrr_penalty_on_a_tensor_uses_both_spatial_unfoldings():
    gen = torch.Generator().manual_seed(0)
    reg = INRR(**FAST_INRR)
    module = reg.build((5, 4, 3), n_observed=60, generator=gen)
    X = torch.rand(5, 4, 3, generator=gen, dtype=torch.float32)
    A_row = torch.tensor(module.similarity("row"), dtype=torch.float32)
    A_col = torch.tensor(module.similarity("col"), dtype=torch.float32)
    rows = X.reshape(5, 12)
    cols = X.permute(1, 0, 2).reshape(4, 15)
    expected = reg.alpha_row * module.scales[0] * dirichlet_energy_dense(rows, A_row)
    expected = expected + reg.alpha_col * module.scales[1] * dirichlet_energy_dense(
        cols, A_col
    )
    got = module(X, None)
    assert_allclose(got.item(), expected.item(), rtol=1e-4)


def test_columns_must_split_into_channels(rgb):
    _, _, X = rgb
    with pytest.raises(ValueError, match="multiple of n_channels=5"):
        INRImputer(n_channels=5, **FAST_INR).fit(X)


def test_frame_stack_as_channels():
    """A short video-like stack (H, W, T): frames are the SIREN's outputs."""
    t = np.arange(5)[None, None, :]
    rows, cols = np.mgrid[0:10, 0:8]
    video = 0.5 + 0.4 * np.sin(0.6 * rows[..., None] + 0.5 * cols[..., None] - 0.4 * t)
    missing = np.random.default_rng(1).random(video.shape) < 0.5  # per frame
    X = np.where(missing, np.nan, video).reshape(10, 40)
    imp = INRImputer(reg=INRR(**FAST_INRR), n_channels=5, **FAST_INR)
    out = imp.fit_transform(X).reshape(10, 8, 5)
    assert_array_equal(out[~missing], video[~missing])
    assert not np.isnan(out).any()
    assert imp.penalty_.inrs.sizes == (10, 8)
