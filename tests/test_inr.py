"""INRImputer behaviour the common checks do not cover: NaNs, masks, errors, params."""

import pickle
import warnings

import numpy as np
import pytest
import torch
from numpy.testing import assert_array_equal
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning

from inrr_sklearn import INRR, L2, TV, INRImputer
from tests.conftest import FAST_INR, FAST_INRR


def _fast(**kwargs):
    params = {**FAST_INR, **kwargs}
    return INRImputer(**params)


# Short budgets on purpose: ConvergenceWarning is expected (tested on its own).
pytestmark = pytest.mark.usefixtures("quiet_convergence")


def test_observed_entries_unchanged_and_no_nan_left(low_rank_with_nans):
    _, X_nan, missing = low_rank_with_nans
    out = _fast(reg=INRR(**FAST_INRR)).fit_transform(X_nan)
    assert not np.isnan(out).any()
    assert_array_equal(out[~missing], X_nan[~missing])  # bit-for-bit


def test_input_not_mutated(low_rank_with_nans):
    _, X_nan, _ = low_rank_with_nans
    before = X_nan.copy()
    _fast().fit_transform(X_nan)
    assert_array_equal(X_nan, before)


def test_deterministic_for_fixed_random_state(low_rank_with_nans):
    _, X_nan, _ = low_rank_with_nans
    a = _fast(reg=INRR(**FAST_INRR), early_stopping=True, max_iter=10).fit_transform(
        X_nan
    )
    b = _fast(reg=INRR(**FAST_INRR), early_stopping=True, max_iter=10).fit_transform(
        X_nan
    )
    assert_array_equal(a, b)


def test_fit_transform_equals_fit_then_transform(low_rank_with_nans):
    _, X_nan, _ = low_rank_with_nans
    a = _fast().fit_transform(X_nan)
    b = _fast().fit(X_nan).transform(X_nan)
    assert_array_equal(a, b)


def test_explicit_mask_positional_and_keyword(low_rank_with_nans):
    X, _, missing = low_rank_with_nans
    observed = ~missing
    by_position = _fast().fit(X, observed).transform(X, mask=observed)
    by_keyword = _fast().fit(X, mask=observed.astype(int)).transform(X, mask=observed)
    assert_array_equal(by_position, by_keyword)
    # entries hidden by the mask are completed, not copied from X
    assert not np.allclose(by_keyword[missing], X[missing])
    assert_array_equal(by_keyword[observed], X[observed])


def test_other_missing_value_placeholder(low_rank_with_nans):
    _, X_nan, missing = low_rank_with_nans
    X = np.where(missing, -1.0, X_nan)
    out = _fast(missing_values=-1.0).fit_transform(X)
    assert (out[missing] != -1).all()
    assert_array_equal(out[~missing], X[~missing])


def test_float32_preserved_and_int_input(low_rank_with_nans):
    _, X_nan, _ = low_rank_with_nans
    assert _fast().fit_transform(X_nan.astype(np.float32)).dtype == np.float32
    X_int = np.arange(20).reshape(5, 4)
    out = _fast().fit(X_int, X_int % 3 != 0).transform(X_int, mask=X_int % 3 != 0)
    assert_array_equal(out[X_int % 3 != 0], X_int[X_int % 3 != 0])


def test_all_missing_row_and_column_are_completed(low_rank_with_nans):
    _, X_nan, _ = low_rank_with_nans
    X_nan = X_nan.copy()
    X_nan[3, :] = np.nan
    X_nan[:, 5] = np.nan
    out = _fast(scaling="per_column").fit_transform(X_nan)
    assert np.isfinite(out).all()


def test_fitted_attributes_and_model_on_cpu(low_rank_with_nans):
    _, X_nan, _ = low_rank_with_nans
    imp = _fast(reg=INRR(**FAST_INRR), early_stopping=True, max_iter=30).fit(X_nan)
    assert imp.n_iter_ == len(imp.loss_curve_) == len(imp.validation_scores_)
    assert imp.n_features_in_ == X_nan.shape[1]
    assert imp.best_validation_score_ == max(imp.validation_scores_)
    assert str(imp.device_) == "cpu"
    assert all(p.device.type == "cpu" for p in imp.model_.parameters())
    assert all(p.device.type == "cpu" for p in imp.penalty_.parameters())


def test_dataframe_feature_names(low_rank_with_nans):
    pd = pytest.importorskip("pandas")
    _, X_nan, _ = low_rank_with_nans
    df = pd.DataFrame(X_nan, columns=[f"c{i}" for i in range(X_nan.shape[1])])
    imp = _fast().fit(df)
    assert list(imp.feature_names_in_) == list(df.columns)
    assert list(imp.get_feature_names_out()) == list(df.columns)


def test_clone_and_pickle_with_nested_regularizer(low_rank_with_nans):
    _, X_nan, _ = low_rank_with_nans
    imp = _fast(reg=INRR(**FAST_INRR) + TV(alpha=1e-3))
    cloned = clone(imp)
    assert cloned.get_params()["reg__first__rank"] == FAST_INRR["rank"]
    assert cloned.reg is not imp.reg
    imp.fit(X_nan)
    restored = pickle.loads(pickle.dumps(imp))
    assert_array_equal(restored.transform(X_nan), imp.transform(X_nan))


def test_set_params_nested_changes_result(low_rank_with_nans):
    _, X_nan, _ = low_rank_with_nans
    imp = _fast(reg=INRR(**FAST_INRR), max_iter=20)
    a = imp.fit_transform(X_nan)
    imp.set_params(reg__alpha_row=10.0)
    assert imp.reg.alpha_row == 10.0
    b = imp.fit_transform(X_nan)
    assert not np.allclose(a, b)


def test_user_regularizer_not_modified(low_rank_with_nans):
    _, X_nan, _ = low_rank_with_nans
    reg = INRR(**FAST_INRR)
    before = reg.get_params()
    imp = _fast(reg=reg).fit(X_nan)
    assert reg.get_params() == before
    assert imp.reg_ is not reg


def test_convergence_warning_when_max_iter_hit(low_rank_with_nans):
    _, X_nan, _ = low_rank_with_nans
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        with pytest.raises(ConvergenceWarning, match="Maximum iterations"):
            _fast(max_iter=3).fit(X_nan)


def test_stops_early_without_improvement(low_rank_with_nans):
    _, X_nan, _ = low_rank_with_nans
    imp = _fast(max_iter=500, early_stopping=True, n_iter_no_change=5, tol=1.0)
    imp.fit(X_nan)
    assert imp.n_iter_ < 500


def test_early_stopping_restores_best_iterate(low_rank_with_nans):
    _, X_nan, _ = low_rank_with_nans
    imp = _fast(early_stopping=True, max_iter=60, learning_rate_init=3e-2).fit(X_nan)
    best = int(np.argmax(imp.validation_scores_))
    # Refit for exactly best+1 steps (same seed) without early stopping: same model.
    ref = _fast(early_stopping=True, max_iter=best + 1, learning_rate_init=3e-2)
    ref.fit(X_nan)
    ref_best = int(np.argmax(ref.validation_scores_))
    assert ref_best == best
    assert_array_equal(ref.transform(X_nan), imp.transform(X_nan))


def test_warm_start_continues(low_rank_with_nans):
    _, X_nan, _ = low_rank_with_nans
    imp = _fast(warm_start=True, max_iter=30).fit(X_nan)
    fresh_start, first_end = imp.loss_curve_[0], imp.loss_curve_[-1]
    first_model = imp.model_
    first_weights = [p.detach().clone() for p in first_model.parameters()]
    imp.fit(X_nan)
    # The network is trained further on a copy: the previous fitted model is untouched
    # (a failed refit could not have left it half-trained).
    assert imp.model_ is not first_model
    for before, param in zip(first_weights, first_model.parameters(), strict=True):
        assert torch.equal(before, param)
    # It resumes near where the first fit ended, far below a fresh start.
    assert imp.loss_curve_[0] <= 1.5 * first_end < fresh_start
    with pytest.raises(ValueError, match="warm_start"):
        imp.fit(X_nan[:5])


def test_verbose_prints_prefixed_messages(low_rank_with_nans, capsys):
    _, X_nan, _ = low_rank_with_nans
    _fast(verbose=1).fit(X_nan)
    out = capsys.readouterr().out
    assert "[INRImputer]" in out and "iterations" in out


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
    assert imp.penalty_.row.coords.shape == (8, 1)  # fitted module untouched


def test_add_indicator_appends_missingness_columns(low_rank_with_nans):
    pd = pytest.importorskip("pandas")
    _, X_nan, _ = low_rank_with_nans
    X_nan = X_nan.copy()
    X_nan[:, 3] = np.where(np.isnan(X_nan[:, 3]), 0.5, X_nan[:, 3])  # no NaN in col 3
    df = pd.DataFrame(X_nan, columns=[f"c{j}" for j in range(8)])
    imp = _fast(add_indicator=True).set_output(transform="pandas")
    out = imp.fit_transform(df)
    with_missing = [j for j in range(8) if np.isnan(X_nan[:, j]).any()]
    assert list(out.columns) == list(df.columns) + [
        f"missingindicator_c{j}" for j in with_missing
    ]
    assert_array_equal(out.iloc[:, 8:].to_numpy(), np.isnan(X_nan[:, with_missing]))
    assert not out.iloc[:, :8].isna().any().any()


def test_add_indicator_follows_the_mask(low_rank_with_nans):
    X, _, missing = low_rank_with_nans
    imp = _fast(add_indicator=True)
    out = imp.fit_transform(X, mask=~missing)
    columns = np.flatnonzero(missing.any(axis=0))
    assert_array_equal(out[:, 8:], missing[:, columns])


def test_record_every_keeps_history_for_plots(low_rank_with_nans):
    _, X_nan, _ = low_rank_with_nans
    imp = _fast(reg=INRR(**FAST_INRR), max_iter=7, record_every=3).fit(X_nan)
    history = imp.history_
    assert history["iteration"] == [0, 3, 6]
    assert all(c.shape == X_nan.shape for c in history["completion"])
    assert not np.array_equal(history["completion"][0], history["completion"][2])
    assert history["regularizer"][0]["row"].shape == (12, 8)
    assert history["regularizer"][0]["col"].shape == (8, 8)
    assert not hasattr(_fast().fit(X_nan), "history_")


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


def test_refit_drops_attributes_of_the_previous_fit(low_rank_with_nans):
    _, X_nan, _ = low_rank_with_nans
    imp = _fast(record_every=2, early_stopping=True, max_iter=6).fit(X_nan)
    assert hasattr(imp, "history_") and hasattr(imp, "validation_scores_")
    imp.set_params(record_every=None, early_stopping=False).fit(X_nan)
    assert not hasattr(imp, "history_") and not hasattr(imp, "validation_scores_")
