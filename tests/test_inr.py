"""INRImputer behaviour the common checks do not cover: NaNs, masks, errors, params."""

import numpy as np
import pytest
from numpy.testing import assert_array_equal

from inrr_sklearn import AIR, INRR, L2, TV, InpaintImputer, INRImputer
from tests.conftest import FAST_INR, FAST_INRR


def _fast(**kwargs):
    params = {**FAST_INR, **kwargs}
    return INRImputer(**params)


# Short budgets on purpose: ConvergenceWarning is expected (tested on its own).
pytestmark = pytest.mark.usefixtures("quiet_convergence")


def test_fitted_attributes_and_model_on_cpu(low_rank_with_nans):
    _, X_nan, _ = low_rank_with_nans
    imp = _fast(reg=INRR(**FAST_INRR), early_stopping=True, max_iter=30).fit(X_nan)
    assert imp.n_iter_ == len(imp.loss_curve_) == len(imp.validation_scores_)
    assert imp.n_features_in_ == X_nan.shape[1]
    assert imp.best_validation_score_ == max(imp.validation_scores_)
    assert str(imp.device_) == "cpu"
    assert all(p.device.type == "cpu" for p in imp.model_.parameters())
    assert all(p.device.type == "cpu" for p in imp.penalty_.parameters())


def _smooth_surface(n_rows=40, n_cols=24, seed=0):
    """A smooth surface with 30 % of entries missing; rows continue one another."""
    u = np.linspace(0, 1, n_rows)[:, None]
    v = np.linspace(0, 1, n_cols)[None, :]
    X = np.sin(3 * u + 2 * v) + u * v
    missing = np.random.default_rng(seed).random(X.shape) < 0.3
    return X, np.where(missing, np.nan, X), missing


def test_new_rows_by_warm_started_joint_refit():
    X, X_nan, missing = _smooth_surface()
    imp = _fast(hidden_layer_sizes=(32, 32), max_iter=300, refit_max_iter=20)
    imp.fit(X_nan[:32])
    before = {k: v.clone() for k, v in imp.model_.state_dict().items()}
    n_iter, completion = imp.n_iter_, imp.transform(X_nan[:32])

    out = imp.transform(X_nan[32:])
    new_missing = missing[32:]
    assert out.shape == (8, 24) and not np.isnan(out).any()
    assert_array_equal(out[~new_missing], X_nan[32:][~new_missing])  # bit-for-bit
    assert_array_equal(imp.transform(X_nan[32:]), out)  # deterministic
    # The fitted estimator is left as it was.
    assert imp.n_iter_ == n_iter
    for k, v in imp.model_.state_dict().items():
        assert_array_equal(v.numpy(), before[k].numpy())
    assert_array_equal(imp.transform(X_nan[:32]), completion)

    rmse = np.sqrt(np.mean((out - X[32:])[new_missing] ** 2))
    column_means = np.nanmean(X_nan[:32], axis=0)
    baseline = np.sqrt(np.mean((column_means - X[32:])[new_missing] ** 2))
    assert rmse < 0.5 * baseline
    # Warm start matters: the same steps from a fresh network do worse.
    scratch = _fast(hidden_layer_sizes=(32, 32), max_iter=20).fit_transform(
        np.vstack([X_nan[:32], X_nan[32:]])
    )[32:]
    assert rmse < np.sqrt(np.mean((scratch - X[32:])[new_missing] ** 2))


def test_new_rows_with_inrr_warm_start_the_tiny_networks(low_rank_with_nans):
    _, X_nan, _ = low_rank_with_nans
    imp = _fast(reg=INRR(**FAST_INRR), refit_max_iter=3).fit(X_nan[:8])
    out = imp.transform(X_nan[8:])
    assert out.shape == (4, 8) and not np.isnan(out).any()
    assert imp.penalty_.inrs.sizes == (8, 8)  # fitted module untouched


def test_inrr_beats_no_regularizer_on_structured_problem():
    """Rows repeat in blocks; INRR's learned row similarity recovers the hidden entries.

    A 48 x 48 matrix whose rows come in 4 bands of identical rows (non-smooth columns),
    with 60 % of entries missing: the unregularized SIREN overfits the observed entries,
    INRR learns that rows of one band are alike and pulls them together (measured:
    missing-entry RMSE 0.36 without, 0.12 with INRR).
    """
    rng = np.random.default_rng(0)
    prototypes = rng.random((4, 48))
    X = np.repeat(prototypes, 12, axis=0)
    missing = rng.random(X.shape) < 0.6
    X_nan = np.where(missing, np.nan, X)
    common = dict(
        hidden_layer_sizes=(32, 32, 32),
        max_iter=800,
        early_stopping=False,
        device="cpu",
        random_state=0,
    )
    errors = {}
    inrr = INRR(
        rank=8,
        hidden_layer_sizes=(16, 16),
        alpha_row=1.0,
        alpha_col=0.0,
        learning_rate_init=1e-3,
    )
    for name, reg in [("none", None), ("inrr", inrr)]:
        out = INRImputer(reg=reg, **common).fit_transform(X_nan)
        errors[name] = np.sqrt(np.mean((out[missing] - X[missing]) ** 2))
    assert errors["inrr"] < 0.5 * errors["none"], errors


@pytest.mark.parametrize(
    "X, kwargs, error, match",
    [
        (np.arange(5.0), {}, ValueError, "2D"),
        (np.array([[1.0, np.inf], [2.0, 3.0]]), {}, ValueError, "infinity"),
        (np.array([[1 + 1j, 2], [3, 4]]), {}, ValueError, "[Cc]omplex"),
        (np.array([["a", "b"], ["c", "d"]], dtype=object), {}, TypeError, "object"),
        (np.full((3, 3), np.nan), {}, ValueError, "no observed entry"),
    ],
)
def test_bad_input_errors(X, kwargs, error, match):
    with pytest.raises(error, match=match):
        _fast(**kwargs).fit(X)


def test_sparse_input_refused():
    sp = pytest.importorskip("scipy.sparse")
    with pytest.raises(TypeError, match=r"[Ss]parse"):
        _fast().fit(sp.csr_matrix(np.eye(3)))


def test_bad_mask_errors(low_rank_with_nans):
    X, X_nan, _ = low_rank_with_nans
    with pytest.raises(ValueError, match="shape"):
        _fast().fit(X, mask=np.ones((3, 3), dtype=bool))
    with pytest.raises(ValueError, match="0 and 1"):
        _fast().fit(X, mask=np.full(X.shape, 0.5))
    with pytest.raises(ValueError, match="missing value"):
        _fast().fit(X_nan, mask=np.ones(X.shape, dtype=bool))
    with pytest.raises(ValueError, match="no observed entry"):
        _fast().fit(X, mask=np.zeros(X.shape, dtype=bool))


def test_unknown_device_is_reported(low_rank_with_nans):
    _, X_nan, _ = low_rank_with_nans
    with pytest.raises(ValueError, match="device"):
        _fast(device="tpu").fit(X_nan)


def test_early_stopping_needs_enough_entries():
    with pytest.raises(ValueError, match="validation_fraction"):
        _fast(early_stopping=True).fit(np.array([[1.0, np.nan], [np.nan, 2.0]]))


def test_l2_and_tv_run(low_rank_with_nans):
    _, X_nan, _ = low_rank_with_nans
    for reg in (L2(), TV(), TV(kind="isotropic")):
        assert np.isfinite(_fast(reg=reg).fit_transform(X_nan)).all()


def test_paper_configuration():
    imp = INRImputer.paper(random_state=1)
    assert imp.hidden_layer_sizes == (256,) * 5
    assert imp.learning_rate_init == 1e-4 and imp.max_iter == 10001
    assert imp.reg.rank == 256 and imp.reg.alpha_row == 1e-6
    assert imp.reg.learning_rate_init == 1e-4 and not imp.reg.normalize
    assert imp.random_state == 1
    assert INRImputer.paper(reg=None).reg is None


def _square_hole(size=24, hole=(6, 18)):
    """A smooth image (in [0, 1]) with a deep square hole and a few pixel holes."""
    grid = np.linspace(0, 1, size)
    image = 0.5 + 0.4 * np.sin(3 * grid)[:, None] * np.cos(2 * grid)[None, :]
    observed = np.ones(image.shape, dtype=bool)
    observed[hole[0] : hole[1], hole[0] : hole[1]] = False  # 6 pixels deep
    observed[2, 2] = observed[20, 3] = False  # 1 pixel deep
    return image, observed


def test_fill_prior_pulls_deep_holes_toward_the_classical_fill():
    pytest.importorskip("skimage")
    image, observed = _square_hole()
    X = np.where(observed, image, np.nan)
    classical = InpaintImputer("biharmonic").fit_transform(X)
    params = dict(FAST_INR, max_iter=150, early_stopping=False, scaling="global")
    plain = INRImputer(**params).fit_transform(X)
    pulled = INRImputer(fill_prior=InpaintImputer(), fill_prior_weight=100.0, **params)
    pulled = pulled.fit_transform(X)
    deep, shallow = ~observed, np.zeros_like(observed)
    deep[2, 2] = deep[20, 3] = False
    shallow[2, 2] = shallow[20, 3] = True

    def gap(completion, where):
        return np.abs(completion - classical)[where].max()

    # 150 steps: 0.05 against 0.24 without the prior (0.02 against 0.14 at 400).
    assert gap(pulled, deep) < 0.25 * gap(plain, deep)
    assert_array_equal(pulled[observed], image[observed])
    # Shallow holes get no prior term: they are completed by the network alone.
    assert not np.allclose(pulled[shallow], classical[shallow], atol=1e-3)


def test_fill_prior_changes_nothing_without_a_deep_hole():
    pytest.importorskip("skimage")
    image, observed = _square_hole()
    params = dict(FAST_INR, max_iter=30, scaling="global")
    X = np.where(observed, image, np.nan)
    # The square is 6 pixels deep: a depth threshold above it switches the prior off.
    off = INRImputer(**params).fit_transform(X)
    shallow = INRImputer(
        fill_prior=InpaintImputer(), fill_prior_min_depth=6.5, **params
    )
    assert_array_equal(shallow.fit_transform(X), off)
    zero = INRImputer(fill_prior=InpaintImputer(), fill_prior_weight=0.0, **params)
    assert_array_equal(zero.fit_transform(X), off)
    deep = INRImputer(fill_prior=InpaintImputer(), fill_prior_min_depth=6.0, **params)
    assert not np.array_equal(deep.fit_transform(X), off)


def test_fill_prior_on_channels():
    pytest.importorskip("skimage")
    image, observed = _square_hole()
    rgb = np.stack([image, image[::-1], 1 - image], axis=2)  # (H, W, 3)
    X = np.where(observed[..., None], rgb, np.nan).reshape(24, 72)
    imp = INRImputer(
        **dict(FAST_INR, max_iter=30, scaling="global"),
        n_channels=3,
        fill_prior=InpaintImputer("telea"),  # n_channels set by the INR
    )
    completed = imp.fit_transform(X).reshape(24, 24, 3)
    assert np.isfinite(completed).all()
    assert_array_equal(completed[observed], rgb[observed])


def test_fill_prior_names_are_the_old_spelling():
    with pytest.raises(ValueError, match=r"InpaintImputer\('biharmonic'\)"):
        _fast(fill_prior="biharmonic").fit(np.array([[1.0, np.nan], [2.0, 3.0]]))


def test_columns_the_model_does_not_beat_fall_back_to_their_means_by_name():
    pd = pytest.importorskip("pandas")
    rng = np.random.default_rng(0)
    t = np.linspace(0, 1, 200)
    X = np.column_stack(
        [1e6 * np.sin(3 * t), np.cos(2 * t), 1e-3 * rng.normal(size=200)]
    )  # spreads 1e6 apart; the last column is noise no coordinate predicts
    X[rng.random(X.shape) < 0.3] = np.nan
    frame = pd.DataFrame(X, columns=["smooth", "wave", "noise"])
    imp = INRImputer(hidden_layer_sizes=(32, 32), max_iter=400, random_state=0)
    with pytest.warns(UserWarning, match=r"columns \['noise'\] are completed"):
        completed = imp.fit_transform(frame)
    assert imp.scaling_ == "per_column"
    assert imp.mean_fallback_.tolist() == [False, False, True]
    missing = np.isnan(X[:, 2])
    np.testing.assert_allclose(completed[missing, 2], np.nanmean(X[:, 2]), rtol=1e-12)


def test_a_narrow_table_is_judged_column_by_column_under_one_global_scale():
    # Three columns of one spread: scaling="auto" keeps one global scale, as for an
    # image, but a matrix this narrow is a table, and a column of noise that the
    # SIREN fits worse than its mean takes the mean (images are judged leniently).
    rng = np.random.default_rng(0)
    t = np.linspace(0, 1, 200)
    X = np.column_stack([np.sin(3 * t), np.cos(2 * t), 0.5 * rng.normal(size=200)])
    X[rng.random(X.shape) < 0.3] = np.nan
    imp = INRImputer(hidden_layer_sizes=(32, 32), max_iter=400, random_state=0)
    with pytest.warns(UserWarning, match=r"columns \[2\] are completed"):
        imp.fit_transform(X)
    assert imp.scaling_ == "global"
    assert imp.mean_fallback_.tolist() == [False, False, True]


def _smooth_image(size=32):
    grid = np.linspace(0, 1, size)
    image = 0.5 + 0.4 * np.sin(4 * grid)[:, None] * np.cos(3 * grid)[None, :]
    observed = np.random.default_rng(0).random(image.shape) < 0.6
    return image, observed


def test_batch_size_trains_on_random_sub_grids():
    image, observed = _smooth_image()
    X = np.where(observed, image, np.nan)
    params = dict(
        FAST_INR, max_iter=60, learning_rate_init=1e-2, reg=TV(), scaling="global"
    )
    batched = INRImputer(batch_size=256, **params)  # stride 2 on 32 x 32
    completed = batched.fit_transform(X)
    assert_array_equal(completed[observed], image[observed])
    assert_array_equal(batched.fit_transform(X), completed)  # seeded draws

    def error(completion):
        return np.abs(completion - image)[~observed].mean()

    # A quarter of the pixels a step: 0.027 against 0.020 full-batch (0.139 at start).
    untrained = INRImputer(**{**params, "max_iter": 1}).fit_transform(X)
    full = INRImputer(**params).fit_transform(X)
    assert error(completed) < min(0.25 * error(untrained), 1.5 * error(full))
    # Full-batch steps from one sub-grid's worth of pixels up: identical fits.
    assert_array_equal(INRImputer(batch_size=257, **params).fit_transform(X), full)
    assert not np.array_equal(completed, full)


def test_batch_size_with_early_stopping_channels_and_history():
    image, observed = _smooth_image()
    rgb = np.stack([image, 1 - image], axis=2)
    X = np.where(observed[..., None], rgb, np.nan).reshape(32, 64)
    imp = INRImputer(
        **dict(FAST_INR, max_iter=30, early_stopping=True),
        reg=TV() + L2(alpha=1e-6),
        n_channels=2,
        batch_size=64,  # stride 4
        record_every=10,
    )
    completed = imp.fit_transform(X)
    assert np.isfinite(completed).all() and np.isfinite(imp.validation_scores_).all()
    assert [c.shape for c in imp.history_["completion"]] == [(32, 64)] * 3
    # Recorded after the step's update: the parameters that start steps 1, 11, 21.
    assert imp.history_["iteration"] == [1, 11, 21]


@pytest.mark.parametrize(
    "reg", [INRR(**FAST_INRR), AIR(), INRR(**FAST_INRR) + TV()], ids=repr
)
def test_batch_size_refuses_whole_matrix_regularizers(reg):
    image, observed = _smooth_image()
    with pytest.raises(ValueError, match=r"(?s)sub-grids.*stride 4.*whole matrix"):
        _fast(reg=reg, batch_size=64).fit(np.where(observed, image, np.nan))
    # Full-batch at this size (stride 1): the regularizer is fine.
    _fast(reg=reg, batch_size=32 * 32).fit(np.where(observed, image, np.nan))


def test_new_rows_are_refitted_with_the_fits_stride():
    image, observed = _smooth_image()
    X = np.where(observed, image, np.nan)
    # Fitted full-batch (stride 1 on 16 x 32); 16 new rows make 32 x 32, which
    # alone would get stride 2 and be refused with INRR: the refit keeps stride 1.
    imp = _fast(reg=INRR(**FAST_INRR), batch_size=200, refit_max_iter=3).fit(X[:16])
    assert np.isfinite(imp.transform(X[16:])).all()
    batched = _fast(reg=TV(), batch_size=64, refit_max_iter=3).fit(X[:16])  # stride 2
    new = batched.transform(X[16:])
    assert np.isfinite(new).all()
    assert_array_equal(new[observed[16:]], image[16:][observed[16:]])
