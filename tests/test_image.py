"""Images: method names to imputers (recipes), image files, image scores, inpainting."""

import sys
import warnings

import numpy as np
import pytest
from numpy.testing import assert_array_equal

from inrr_sklearn import (
    CLASSICAL_METHODS,
    INRR,
    TV,
    BlendImputer,
    DMFImputer,
    InpaintImputer,
    INRImputer,
    classical_inpaint,
    image_imputer,
)
from inrr_sklearn.image import image_scores, read_image, write_image
from inrr_sklearn.recipes import (
    BLEND_MAX_PIXELS,
    BLEND_MODEL,
    IMAGE_METHODS,
    REFINED_METHOD,
)
from inrr_sklearn.regularizers import SumRegularizer


@pytest.mark.parametrize("method", IMAGE_METHODS)
def test_paper_methods_build(method):
    imputer = image_imputer(method, max_iter=3)
    model, _, reg = method.partition("+")
    assert isinstance(imputer, INRImputer if model == "inr" else DMFImputer)
    assert imputer.max_iter == 3
    assert (imputer.reg is None) == (reg == "")
    if reg:
        assert type(imputer.reg).__name__.lower() == reg


def test_regularizers_sum_in_order():
    reg = image_imputer("INR+inrr+tv").reg
    assert isinstance(reg, SumRegularizer)
    assert [type(term) for _, term in reg.regularizers] == [INRR, TV]


@pytest.mark.parametrize("method", ["", "cnn", "inr+", "inr+tvv", "dmf+inrr+"])
def test_unknown_names_are_refused(method):
    with pytest.raises(ValueError, match="unknown method"):
        image_imputer(method)


# read_image / write_image / image_scores need scikit-image (the ``demo`` extra).


@pytest.fixture
def io():
    return pytest.importorskip("skimage.io")


@pytest.mark.parametrize(
    ("suffix", "dtype", "shape"),
    [
        ("png", np.uint8, (6, 5)),
        ("png", np.uint8, (6, 5, 3)),
        ("png", np.uint16, (6, 5)),
        ("tif", np.uint16, (6, 5)),
        ("tif", np.uint16, (6, 5, 3)),
    ],
)
def test_read_image_tells_the_dtype_and_write_image_gives_values_back(
    io, tmp_path, suffix, dtype, shape
):
    top = np.iinfo(dtype).max
    data = np.random.default_rng(0).integers(0, top + 1, shape, dtype=dtype)
    io.imsave(tmp_path / f"in.{suffix}", data, check_contrast=False)
    image, read_dtype = read_image(tmp_path / f"in.{suffix}", return_dtype=True)
    assert read_dtype == dtype
    assert image.dtype == np.float64
    assert np.array_equal(image, data / top)
    assert np.array_equal(read_image(tmp_path / f"in.{suffix}"), image)  # default
    write_image(tmp_path / f"out.{suffix}", image, dtype=read_dtype)
    written = io.imread(tmp_path / f"out.{suffix}")
    assert written.dtype == dtype
    assert np.array_equal(written, data)


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
def test_write_image_keeps_every_exact_value(io, tmp_path, dtype):
    top = np.iinfo(dtype).max
    values = np.arange(top + 1, dtype=dtype).reshape(-1, 256)
    write_image(tmp_path / "v.png", values / top, dtype=dtype)
    assert np.array_equal(io.imread(tmp_path / "v.png"), values)
    write_image(tmp_path / "f32.png", (values / top).astype(np.float32), dtype=dtype)
    assert np.array_equal(io.imread(tmp_path / "f32.png"), values)
    write_image(tmp_path / "clip.png", np.array([[-0.5, 1.5]]), dtype=dtype)
    assert io.imread(tmp_path / "clip.png").tolist() == [[0, top]]


@pytest.mark.parametrize("channels", [3, 4])
def test_16_bit_colour_png_round_trip(io, tmp_path, channels):
    cv2 = pytest.importorskip("cv2")  # Pillow reads 16-bit colour PNGs as 8-bit
    data = np.random.default_rng(0).integers(0, 65536, (7, 6, channels), np.uint16)
    write_image(tmp_path / "c.png", data / 65535, dtype=np.uint16)
    stored = cv2.imread(str(tmp_path / "c.png"), cv2.IMREAD_UNCHANGED)
    assert stored.dtype == np.uint16
    assert np.array_equal(stored[..., [2, 1, 0, 3][:channels]], data)
    image, dtype = read_image(tmp_path / "c.png", return_dtype=True)
    assert dtype == np.uint16 and image.shape == (7, 6, 3)  # alpha dropped
    assert np.array_equal(image, data[..., :3] / 65535)


def test_16_bit_colour_png_without_opencv_warns(io, tmp_path, monkeypatch):
    data = np.random.default_rng(0).integers(0, 65536, (7, 6, 3), np.uint16)
    write_image(tmp_path / "c.png", data / 65535, dtype=np.uint16)
    monkeypatch.setitem(sys.modules, "cv2", None)
    with pytest.warns(UserWarning, match="16-bit colour PNG.*opencv"):
        image, dtype = read_image(tmp_path / "c.png", return_dtype=True)
    assert dtype == np.uint8 and image.shape == (7, 6, 3)


def test_write_image_refuses_what_it_cannot_write(io, tmp_path):
    image = np.zeros((4, 4))
    with pytest.raises(ValueError, match="only TIFF holds"):
        write_image(tmp_path / "a.png", image, dtype=np.float32)
    with pytest.raises(ValueError, match="uint8, uint16 or float32"):
        write_image(tmp_path / "a.tif", image, dtype=np.int32)
    with pytest.raises(ValueError, match="JPG holds 8 bits"):
        write_image(tmp_path / "a.jpg", image, dtype=np.uint16)
    with pytest.raises(ValueError, match="NaN"):
        write_image(tmp_path / "a.png", np.full((4, 4), np.nan))
    assert not list(tmp_path.iterdir())


def test_read_image_errors_are_one_line(io, tmp_path):
    (tmp_path / "broken.png").write_text("not an image")
    for path, reason in [
        (tmp_path / "none.png", "no such file"),
        (tmp_path, "is a folder"),
        (tmp_path / "broken.png", "as an image"),
    ]:
        with pytest.raises(ValueError, match="cannot read") as error:
            read_image(path)
        assert reason in str(error.value) and "\n" not in str(error.value)


@pytest.mark.parametrize(
    ("shape", "win_size"),
    [((8, 9), 7), ((5, 5), 5), ((6, 12, 3), 5), ((4, 3), 3), ((2, 2), None),
     ((1, 1, 3), None), ((1, 7), None)],
)  # fmt: skip
def test_image_scores_any_size(shape, win_size):
    metrics = pytest.importorskip("skimage.metrics")
    rng = np.random.default_rng(0)
    truth = rng.random(shape)
    completed = np.clip(truth + 0.1 * rng.standard_normal(shape), 0, 1)
    observed = rng.random(shape) > 0.5
    observed.flat[0] = False  # at least one missing pixel
    scores = image_scores(truth, completed, observed)
    assert np.isfinite(scores["psnr_all"]) and np.isfinite(scores["psnr_missing"])
    assert np.isfinite(scores["nmae_missing"])
    if win_size is None:
        assert np.isnan(scores["ssim"])
    else:
        expected = metrics.structural_similarity(
            truth,
            completed,
            data_range=1.0,
            win_size=win_size,
            channel_axis=2 if len(shape) == 3 else None,
        )
        assert scores["ssim"] == pytest.approx(expected)


def test_image_scores_perfect_and_nothing_missing():
    pytest.importorskip("skimage")
    truth = np.random.default_rng(0).random((5, 5))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        scores = image_scores(truth, truth, np.ones((5, 5), bool))
    assert scores["psnr_all"] == np.inf and scores["ssim"] == pytest.approx(1.0)
    assert np.isnan(scores["psnr_missing"]) and np.isnan(scores["nmae_missing"])


@pytest.mark.parametrize("method", ["biharmonic", "telea", "ns"])
def test_classical_peers_fill_holes_and_keep_observed_pixels(method):
    u = np.linspace(0, 1, 24)
    truth = np.add.outer(u, u) / 2
    observed = np.ones(truth.shape, dtype=bool)
    observed[8:12, 8:14] = False
    completed = classical_inpaint(np.where(observed, truth, np.nan), observed, method)
    assert_array_equal(completed[observed], truth[observed])
    assert np.abs(completed[~observed] - truth[~observed]).max() < 0.1  # a smooth ramp
    rgb = np.stack([truth, 1 - truth, truth**2], axis=-1)
    filled = classical_inpaint(rgb, observed, method)
    assert filled.shape == rgb.shape and np.isfinite(filled).all()
    with pytest.raises(ValueError, match="unknown classical"):
        classical_inpaint(truth, observed, "magic")


@pytest.mark.parametrize("method", ["biharmonic", "telea"])
def test_inpaint_imputer_works_in_any_units_and_keeps_observed_entries(method):
    u = np.linspace(0, 1, 24)
    truth = np.add.outer(u, u) / 2
    observed = np.ones(truth.shape, dtype=bool)
    observed[8:12, 8:14] = False
    X = np.where(observed, 1e3 * truth - 50, np.nan)
    X_before = X.copy()
    completed = InpaintImputer(method).fit_transform(X)
    assert_array_equal(X, X_before)
    assert_array_equal(completed[observed], X[observed])
    # The same fill as classical_inpaint on [0, 1] values, mapped back.
    unit = classical_inpaint(np.where(observed, truth, np.nan), observed, method)
    reference = 1e3 * unit - 50
    assert np.abs(completed - reference)[~observed].max() < 1e3 * 2e-4


def test_inpaint_imputer_channels_and_errors():
    rng = np.random.default_rng(0)
    rgb = rng.random((10, 12, 3))
    holes = np.zeros((10, 12), dtype=bool)
    holes[3:6, 4:7] = True
    rgb[holes] = np.nan
    X = rgb.reshape(10, 36)
    completed = InpaintImputer(n_channels=3).fit_transform(X)
    assert np.isfinite(completed).all()
    assert_array_equal(completed[~np.isnan(X)], X[~np.isnan(X)])
    with pytest.raises(ValueError, match="multiple of n_channels"):
        InpaintImputer(n_channels=5).fit(X)
    with pytest.raises(ValueError, match="method"):
        InpaintImputer("magic").fit(X)
    with pytest.raises(ValueError, match="no observed entry"):
        InpaintImputer().fit_transform(np.full((4, 4), np.nan))


def _stripes_with_holes(size=48, seed=0):
    """Stripes six pixels wide, half the pixels hidden: biharmonic blurs them."""
    rng = np.random.default_rng(seed)
    u = np.arange(size)
    truth = 0.5 + 0.4 * np.sign(np.sin(2 * np.pi * np.add.outer(u, 0.5 * u) / 12))
    observed = rng.random(truth.shape) > 0.5
    return truth, observed


def test_refined_fill_learns_from_the_image_and_keeps_observed_pixels():
    truth, observed = _stripes_with_holes()
    X = np.where(observed, truth, np.nan)
    X_before = X.copy()
    plain = InpaintImputer().fit_transform(X)
    refined = InpaintImputer(refine=True, random_state=0).fit_transform(X)
    assert_array_equal(X, X_before)
    assert_array_equal(refined[observed], truth[observed])
    assert refined.min() >= truth.min() and refined.max() <= truth.max()

    def psnr(completed):
        return -10 * np.log10(np.mean((completed - truth)[~observed] ** 2))

    assert psnr(refined) > psnr(plain) + 1.0
    again = InpaintImputer(refine=True, random_state=0).fit_transform(X)
    assert_array_equal(again, refined)


def test_refined_fill_is_the_same_predicted_in_chunks(monkeypatch):
    import inrr_sklearn._inpaint as inpaint

    truth, observed = _stripes_with_holes(size=40)
    X = np.where(observed, truth, np.nan)
    whole = InpaintImputer(refine=True, random_state=0).fit_transform(X)
    monkeypatch.setattr(inpaint, "_PREDICT_PIXELS", 7)
    assert_array_equal(
        InpaintImputer(refine=True, random_state=0).fit_transform(X), whole
    )
    maps = inpaint._feature_maps(np.zeros((5, 5, 2)), np.eye(5, dtype=bool))
    empty = np.array([], dtype=int)
    assert inpaint._neighbourhood_features(maps, empty, empty).shape == (0, 100)


def test_refined_fill_on_colour_and_on_too_few_pixels():
    truth, observed = _stripes_with_holes(size=40)
    rgb = np.stack([truth, 1 - truth, 0.5 * truth], axis=-1)
    rgb[~observed] = np.nan
    X = rgb.reshape(40, 120)
    refined = InpaintImputer(refine=True, n_channels=3, random_state=0).fit_transform(X)
    plain = InpaintImputer(n_channels=3).fit_transform(X)
    assert_array_equal(refined[~np.isnan(X)], X[~np.isnan(X)])
    assert not np.allclose(refined, plain)
    # A 12 x 12 image holds too few pixels to learn from: the plain fill.
    small = X[:12, :36]
    assert_array_equal(
        InpaintImputer(refine=True, n_channels=3).fit_transform(small),
        InpaintImputer(n_channels=3).fit_transform(small),
    )


def test_auto_method_is_the_fixed_method_it_chose():
    truth, observed = _stripes_with_holes(size=40)
    X = np.where(observed, truth, np.nan)
    for refine in (False, True):
        auto = InpaintImputer("auto", refine=refine, random_state=0)
        completed = auto.fit_transform(X)
        assert auto.method_ in CLASSICAL_METHODS
        fixed = InpaintImputer(auto.method_, refine=refine, random_state=0)
        assert_array_equal(completed, fixed.fit_transform(X))
        assert fixed.method_ == auto.method_
        assert_array_equal(auto.transform(X), completed)
    # Biharmonic blurs the stripes least of the three here.
    assert auto.method_ == "biharmonic"


def test_auto_method_keeps_the_fill_with_the_smallest_heldout_error(monkeypatch):
    import inrr_sklearn._inpaint as inpaint

    truth, observed = _stripes_with_holes(size=40)
    low, high = truth[observed].min(), truth[observed].max()
    unit_truth = (truth - low) / (high - low)  # what the imputer inpaints
    real_inpaint = inpaint.classical_inpaint

    def navier_stokes_knows_the_truth(image, observed, method, *, radius=3):
        if method == "ns":
            return unit_truth.reshape(image.shape).copy()
        return real_inpaint(image, observed, method, radius=radius)

    monkeypatch.setattr(inpaint, "classical_inpaint", navier_stokes_knows_the_truth)
    X = np.where(observed, truth, np.nan)
    for refine in (False, True):
        auto = InpaintImputer("auto", refine=refine, random_state=0)
        completed = auto.fit_transform(X)
        assert auto.method_ == "ns"
        assert np.abs(completed - truth).max() < 1e-12
    # Too few held-out pixels to judge: the first method, biharmonic.
    small = X[:12, :12]
    assert InpaintImputer("auto", random_state=0).fit(small).method_ == "biharmonic"


@pytest.mark.parametrize(
    ("step", "chosen"),
    # Held-out error (1 - step)² of biharmonic's: 0.98 stays within the margin,
    # 0.81 is below it.
    [(0.01, "biharmonic"), (0.1, "ns")],
)
def test_auto_method_leaves_biharmonic_only_past_a_margin(monkeypatch, step, chosen):
    import inrr_sklearn._inpaint as inpaint

    truth, observed = _stripes_with_holes(size=40)
    low, high = truth[observed].min(), truth[observed].max()
    unit_truth = (truth - low) / (high - low)
    real_inpaint = inpaint.classical_inpaint

    def navier_stokes_a_step_closer(image, observed, method, *, radius=3):
        if method == "ns":
            fill = real_inpaint(image, observed, "biharmonic", radius=radius)
            return fill + step * (unit_truth.reshape(image.shape) - fill)
        return real_inpaint(image, observed, method, radius=radius)

    monkeypatch.setattr(inpaint, "classical_inpaint", navier_stokes_a_step_closer)
    X = np.where(observed, truth, np.nan)
    assert (1 - 0.01) ** 2 > 1 - inpaint._SWITCH_MARGIN > (1 - 0.1) ** 2
    assert InpaintImputer("auto", random_state=0).fit(X).method_ == chosen


def test_auto_method_on_threads_is_the_same_to_the_bit():
    import inrr_sklearn._inpaint as inpaint

    truth, observed = _stripes_with_holes(size=40)
    X = np.where(observed, truth, np.nan)
    # Each threaded fill lands where its (method, set) belongs.
    image = truth[..., None]
    hidden_sets = inpaint._heldout_sets(observed, 1, np.random.RandomState(0))[:3]
    errors, fills = inpaint._heldout_errors(
        image, observed, hidden_sets, CLASSICAL_METHODS, 3, n_jobs=2
    )
    assert errors.shape == (3, 3)
    for method, method_fills in zip(CLASSICAL_METHODS, fills, strict=True):
        for hidden, fill in zip(hidden_sets, method_fills, strict=True):
            expected = inpaint.classical_inpaint(image, observed & ~hidden, method)
            assert_array_equal(fill, expected)
    for refine in (False, True):
        one, threads = (
            InpaintImputer("auto", refine=refine, random_state=0, n_jobs=n_jobs)
            for n_jobs in (None, 2)
        )
        assert_array_equal(one.fit_transform(X), threads.fit_transform(X))
        assert one.method_ == threads.method_


def test_image_imputer_blend_and_classical_names():
    blend = image_imputer(max_iter=7, random_state=3, n_channels=3)
    assert isinstance(blend, BlendImputer) and blend.holdout == "mask"
    names = [name for name, _ in blend.estimators]
    assert names == [BLEND_MODEL, REFINED_METHOD, "biharmonic"]
    params = blend.get_params()
    assert params[f"{BLEND_MODEL}__max_iter"] == 7
    assert params[f"{BLEND_MODEL}__random_state"] == 3 == blend.random_state
    assert params[f"{REFINED_METHOD}__random_state"] == 3
    assert params[f"{REFINED_METHOD}__refine"] is True
    for name in names:
        assert params[f"{name}__n_channels"] == 3
    limit = BLEND_MAX_PIXELS * 3
    assert blend.max_entries == {BLEND_MODEL: limit, "biharmonic": limit}
    telea = image_imputer("telea", n_channels=3)
    assert isinstance(telea, InpaintImputer)
    assert (telea.method, telea.n_channels) == ("telea", 3)


def test_blend_on_a_small_image_keeps_observed_pixels():
    u = np.linspace(0, 1, 20)
    truth = 0.5 + 0.4 * np.sin(3 * np.add.outer(u, u))
    observed = np.ones(truth.shape, dtype=bool)
    observed[5:8, 2:15] = False
    X = np.where(observed, truth, np.nan)
    blend = image_imputer(max_iter=30, random_state=0, hidden_layer_sizes=(8,))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        completed = blend.fit_transform(X)
    assert_array_equal(completed[observed], truth[observed])
    assert sum(blend.weights_.values()) == pytest.approx(1.0)
    assert np.abs(completed - truth)[~observed].mean() < 0.1


def test_blend_above_its_size_limit_is_the_refined_fill(monkeypatch):
    import inrr_sklearn.recipes

    monkeypatch.setattr(inrr_sklearn.recipes, "BLEND_MAX_PIXELS", 40 * 40 - 1)
    rng = np.random.default_rng(0)
    u = np.linspace(0, 1, 40)
    truth = 0.5 + 0.4 * np.sin(8 * np.add.outer(u, u**2))
    X = np.where(rng.random(truth.shape) < 0.5, truth, np.nan)
    blend = image_imputer(random_state=0)
    completed = blend.fit_transform(X)
    refined = image_imputer(REFINED_METHOD, random_state=0).fit_transform(X)
    assert_array_equal(completed, refined)
    assert list(blend.estimators_) == [REFINED_METHOD]
    assert blend.cv_results_["weight"] == [0.0, 1.0, 0.0]
    assert not np.array_equal(refined, InpaintImputer().fit_transform(X))


def test_moved_names_say_where_they_went():
    import inrr_sklearn.image

    with pytest.raises(AttributeError, match=r"inrr_sklearn\.image_imputer"):
        inrr_sklearn.image.image_imputer  # noqa: B018
