"""The figure helpers render non-trivial images headless (Agg)."""

import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

matplotlib = pytest.importorskip("matplotlib")
pytest.importorskip("skimage")
matplotlib.use("Agg")

from inrr_sklearn import INRR, TV, INRImputer  # noqa: E402
from inrr_sklearn.masks import random_mask  # noqa: E402
from inrr_sklearn.plotting import (  # noqa: E402
    plot_completion_grid,
    plot_convergence_trajectory,
    plot_psnr_curves,
    plot_similarity,
)
from tests.conftest import FAST_INR, FAST_INRR  # noqa: E402

pytestmark = pytest.mark.usefixtures("quiet_convergence")


@pytest.fixture(scope="module")
def fitted():
    u = np.linspace(0, 1, 20)
    truth = 0.5 + 0.4 * np.sin(4 * u[:, None]) * np.cos(3 * u[None, :])
    observed = random_mask(truth.shape, 0.5, random_state=0)
    X = np.where(observed, truth, np.nan)
    params = {**FAST_INR, "max_iter": 20, "record_every": 5}
    with warnings.catch_warnings():  # module scope: the quiet fixture does not apply
        warnings.simplefilter("ignore", ConvergenceWarning)
        estimators = {
            "INR": INRImputer(**params).fit(X),
            "INR+INRR": INRImputer(reg=INRR(**FAST_INRR) + TV(), **params).fit(X),
        }
    return truth, observed, X, estimators


def _check_png(fig, path):
    """The saved figure exists and is not blank."""
    import matplotlib.image

    fig.savefig(path, dpi=60)
    matplotlib.pyplot.close(fig)
    assert path.stat().st_size > 3000
    pixels = matplotlib.image.imread(path)
    assert pixels[..., :3].std() > 0.05


def test_four_figures_render(fitted, tmp_path):
    truth, observed, X, estimators = fitted
    completions = {name: est.transform(X) for name, est in estimators.items()}
    _check_png(plot_completion_grid(truth, observed, completions), tmp_path / "g.png")
    _check_png(plot_psnr_curves(estimators, truth, observed), tmp_path / "p.png")
    _check_png(
        plot_convergence_trajectory(estimators, truth, observed), tmp_path / "t.png"
    )
    fig = plot_similarity(estimators["INR+INRR"], side="col", n_panels=3)
    assert len(fig.axes) == 6  # three panels, three colour bars
    _check_png(fig, tmp_path / "a.png")


def test_completion_grid_takes_rgb(tmp_path):
    rng = np.random.default_rng(0)
    truth = rng.random((12, 12, 3))
    observed = rng.random((12, 12)) < 0.5
    fig = plot_completion_grid(truth, observed, {"mean": np.full_like(truth, 0.5)})
    _check_png(fig, tmp_path / "rgb.png")


def test_completion_grid_draws_into_given_axes(tmp_path):
    import matplotlib.pyplot as plt

    rng = np.random.default_rng(0)
    truth = rng.random((12, 12))
    observed = rng.random((12, 12)) < 0.5
    fig, axes = plt.subplots(2, 3)
    for row in axes:
        assert plot_completion_grid(truth, observed, {"m": 1 - truth}, axes=row) is fig
    assert len(fig.axes) == 6
    assert axes[1, 1].get_title().startswith("m\n")
    _check_png(fig, tmp_path / "two_rows.png")
    with pytest.raises(ValueError, match="3 are needed"):
        plot_completion_grid(truth, observed, {"m": truth}, axes=axes[0, :2])


def test_similarity_without_history_shows_final_and_errors(fitted):
    truth, observed, X, estimators = fitted
    no_history = INRImputer(reg=INRR(**FAST_INRR), **FAST_INR).fit(X)
    assert len(plot_similarity(no_history).axes) == 2
    with pytest.raises(ValueError, match="not fitted with an INRR"):
        plot_similarity(estimators["INR"])
    with pytest.raises(ValueError, match="record_every"):
        plot_psnr_curves({"x": INRImputer(**FAST_INR).fit(X)}, truth, observed)
