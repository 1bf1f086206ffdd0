"""Behaviour the common checks do not cover, run over both imputers: NaNs, masks,
determinism, parameters, warm start, best-iterate restore, indicators, records."""

import pickle
import warnings

import numpy as np
import pytest
import torch
from numpy.testing import assert_array_equal
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning

from inrr_sklearn import INRR, TV, DMFImputer, INRImputer
from tests.conftest import FAST_DMF, FAST_INR, FAST_INRR

IMPUTERS = {
    "inr": lambda **kw: INRImputer(**{**FAST_INR, **kw}),
    # A larger step than DMF's default, so that a few steps leave the small-init plateau.
    "dmf": lambda **kw: DMFImputer(**{**FAST_DMF, "learning_rate_init": 3e-2, **kw}),
}
both = pytest.mark.parametrize("make", IMPUTERS.values(), ids=IMPUTERS.keys())

# Short budgets on purpose: ConvergenceWarning is expected (tested on its own).
pytestmark = pytest.mark.usefixtures("quiet_convergence")


@both
def test_observed_entries_unchanged_and_no_nan_left(make, low_rank_with_nans):
    _, X_nan, missing = low_rank_with_nans
    out = make(reg=INRR(**FAST_INRR)).fit_transform(X_nan)
    assert not np.isnan(out).any()
    assert_array_equal(out[~missing], X_nan[~missing])  # bit-for-bit


@both
def test_input_not_mutated(make, low_rank_with_nans):
    _, X_nan, _ = low_rank_with_nans
    before = X_nan.copy()
    make().fit_transform(X_nan)
    assert_array_equal(X_nan, before)


@both
def test_deterministic_for_fixed_random_state(make, low_rank_with_nans):
    _, X_nan, _ = low_rank_with_nans
    a = make(reg=INRR(**FAST_INRR), early_stopping=True, max_iter=10).fit_transform(
        X_nan
    )
    b = make(reg=INRR(**FAST_INRR), early_stopping=True, max_iter=10).fit_transform(
        X_nan
    )
    assert_array_equal(a, b)


@both
def test_fit_transform_equals_fit_then_transform(make, low_rank_with_nans):
    _, X_nan, _ = low_rank_with_nans
    a = make().fit_transform(X_nan)
    b = make().fit(X_nan).transform(X_nan)
    assert_array_equal(a, b)


@both
def test_explicit_mask_positional_and_keyword(make, low_rank_with_nans):
    X, _, missing = low_rank_with_nans
    observed = ~missing
    by_position = make().fit(X, observed).transform(X, mask=observed)
    by_keyword = make().fit(X, mask=observed.astype(int)).transform(X, mask=observed)
    assert_array_equal(by_position, by_keyword)
    # entries hidden by the mask are completed, not copied from X
    assert not np.allclose(by_keyword[missing], X[missing])
    assert_array_equal(by_keyword[observed], X[observed])


@both
def test_other_missing_value_placeholder(make, low_rank_with_nans):
    _, X_nan, missing = low_rank_with_nans
    X = np.where(missing, -1.0, X_nan)
    out = make(missing_values=-1.0).fit_transform(X)
    assert (out[missing] != -1).all()
    assert_array_equal(out[~missing], X[~missing])


@both
def test_float32_preserved_and_int_input(make, low_rank_with_nans):
    _, X_nan, _ = low_rank_with_nans
    assert make().fit_transform(X_nan.astype(np.float32)).dtype == np.float32
    X_int = np.arange(20).reshape(5, 4)
    out = make().fit(X_int, X_int % 3 != 0).transform(X_int, mask=X_int % 3 != 0)
    assert_array_equal(out[X_int % 3 != 0], X_int[X_int % 3 != 0])


@both
def test_all_missing_row_and_column_are_completed(make, low_rank_with_nans):
    _, X_nan, _ = low_rank_with_nans
    X_nan = X_nan.copy()
    X_nan[3, :] = np.nan
    X_nan[:, 5] = np.nan
    out = make(scaling="per_column").fit_transform(X_nan)
    assert np.isfinite(out).all()


@both
def test_dataframe_feature_names(make, low_rank_with_nans):
    pd = pytest.importorskip("pandas")
    _, X_nan, _ = low_rank_with_nans
    df = pd.DataFrame(X_nan, columns=[f"c{i}" for i in range(X_nan.shape[1])])
    imp = make().fit(df)
    assert list(imp.feature_names_in_) == list(df.columns)
    assert list(imp.get_feature_names_out()) == list(df.columns)


@both
def test_clone_and_pickle_with_nested_regularizer(make, low_rank_with_nans):
    _, X_nan, _ = low_rank_with_nans
    imp = make(reg=INRR(**FAST_INRR) + TV(alpha=1e-3))
    cloned = clone(imp)
    assert cloned.get_params()["reg__inrr__rank"] == FAST_INRR["rank"]
    assert cloned.reg is not imp.reg
    imp.fit(X_nan)
    restored = pickle.loads(pickle.dumps(imp))
    assert_array_equal(restored.transform(X_nan), imp.transform(X_nan))


@both
def test_set_params_nested_changes_result(make, low_rank_with_nans):
    _, X_nan, _ = low_rank_with_nans
    imp = make(reg=INRR(**FAST_INRR), max_iter=20)
    a = imp.fit_transform(X_nan)
    imp.set_params(reg__alpha_row=10.0)
    assert imp.reg.alpha_row == 10.0
    b = imp.fit_transform(X_nan)
    assert not np.allclose(a, b)


@both
def test_user_regularizer_not_modified(make, low_rank_with_nans):
    _, X_nan, _ = low_rank_with_nans
    reg = INRR(**FAST_INRR)
    before = reg.get_params()
    imp = make(reg=reg).fit(X_nan)
    assert reg.get_params() == before
    assert imp.reg_ is not reg


@both
def test_convergence_warning_when_max_iter_hit(make, low_rank_with_nans):
    _, X_nan, _ = low_rank_with_nans
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        with pytest.raises(ConvergenceWarning, match="Maximum iterations"):
            make(max_iter=3).fit(X_nan)


@both
def test_stops_early_without_improvement(make, low_rank_with_nans):
    _, X_nan, _ = low_rank_with_nans
    imp = make(max_iter=500, early_stopping=True, n_iter_no_change=5, tol=1.0)
    imp.fit(X_nan)
    assert imp.n_iter_ < 500


@both
def test_early_stopping_restores_best_iterate(make, low_rank_with_nans):
    _, X_nan, _ = low_rank_with_nans
    imp = make(early_stopping=True, max_iter=60, learning_rate_init=3e-2).fit(X_nan)
    best = int(np.argmax(imp.validation_scores_))
    # Refit for exactly best+1 steps (same seed) without early stopping: same model.
    ref = make(early_stopping=True, max_iter=best + 1, learning_rate_init=3e-2)
    ref.fit(X_nan)
    ref_best = int(np.argmax(ref.validation_scores_))
    assert ref_best == best
    assert_array_equal(ref.transform(X_nan), imp.transform(X_nan))


@both
def test_warm_start_continues(make, low_rank_with_nans):
    _, X_nan, _ = low_rank_with_nans
    imp = make(warm_start=True, max_iter=30).fit(X_nan)
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


@both
def test_verbose_prints_prefixed_messages(make, low_rank_with_nans, capsys):
    _, X_nan, _ = low_rank_with_nans
    make(verbose=1).fit(X_nan)
    out = capsys.readouterr().out
    assert f"[{type(make()).__name__}]" in out and "iterations" in out


@both
def test_add_indicator_appends_missingness_columns(make, low_rank_with_nans):
    pd = pytest.importorskip("pandas")
    _, X_nan, _ = low_rank_with_nans
    X_nan = X_nan.copy()
    X_nan[:, 3] = np.where(np.isnan(X_nan[:, 3]), 0.5, X_nan[:, 3])  # no NaN in col 3
    df = pd.DataFrame(X_nan, columns=[f"c{j}" for j in range(8)])
    imp = make(add_indicator=True).set_output(transform="pandas")
    out = imp.fit_transform(df)
    with_missing = [j for j in range(8) if np.isnan(X_nan[:, j]).any()]
    assert list(out.columns) == list(df.columns) + [
        f"missingindicator_c{j}" for j in with_missing
    ]
    assert_array_equal(out.iloc[:, 8:].to_numpy(), np.isnan(X_nan[:, with_missing]))
    assert not out.iloc[:, :8].isna().any().any()


@both
def test_add_indicator_follows_the_mask(make, low_rank_with_nans):
    X, _, missing = low_rank_with_nans
    imp = make(add_indicator=True)
    out = imp.fit_transform(X, mask=~missing)
    columns = np.flatnonzero(missing.any(axis=0))
    assert_array_equal(out[:, 8:], missing[:, columns])


@both
def test_record_every_keeps_history_for_plots(make, low_rank_with_nans):
    _, X_nan, _ = low_rank_with_nans
    imp = make(reg=INRR(**FAST_INRR), max_iter=7, record_every=3).fit(X_nan)
    history = imp.history_
    assert history["iteration"] == [0, 3, 6]
    assert all(c.shape == X_nan.shape for c in history["completion"])
    assert not np.array_equal(history["completion"][0], history["completion"][2])
    assert history["regularizer"][0]["row"].shape == (12, 8)
    assert history["regularizer"][0]["col"].shape == (8, 8)
    assert not hasattr(make().fit(X_nan), "history_")


@both
def test_refit_drops_attributes_of_the_previous_fit(make, low_rank_with_nans):
    _, X_nan, _ = low_rank_with_nans
    imp = make(record_every=2, early_stopping=True, max_iter=6).fit(X_nan)
    assert hasattr(imp, "history_") and hasattr(imp, "validation_scores_")
    imp.set_params(record_every=None, early_stopping=False).fit(X_nan)
    assert not hasattr(imp, "history_") and not hasattr(imp, "validation_scores_")


@both
def test_a_pickle_from_another_version_warns(make, low_rank_with_nans, monkeypatch):
    import inrr_sklearn._utils

    _, X_nan, _ = low_rank_with_nans
    blob = pickle.dumps(make().fit(X_nan))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # same version: silent
        pickle.loads(blob)
    monkeypatch.setattr(inrr_sklearn._utils, "__version__", "99.0")
    with pytest.warns(UserWarning, match="pickled with inrr_sklearn"):
        pickle.loads(blob)


@both
def test_cuda_graph_true_on_cpu_is_an_error(make, low_rank_with_nans):
    _, X_nan, _ = low_rank_with_nans
    with pytest.raises(ValueError, match="cuda_graph=True needs a CUDA device"):
        make(cuda_graph=True).fit(X_nan)
    make(cuda_graph=False).fit(X_nan)  # and "auto" (the default) runs eagerly on CPU


@both
def test_precision_options_on_cpu(make, low_rank_with_nans):
    _, X_nan, missing = low_rank_with_nans
    base = make(reg=INRR(**FAST_INRR), max_iter=20).fit_transform(X_nan)
    # TF32 is a CUDA matmul mode: on CPU the arithmetic, and so the result, is float32's.
    tf32 = make(reg=INRR(**FAST_INRR), max_iter=20, precision="tf32")
    assert_array_equal(tf32.fit_transform(X_nan), base)
    assert torch.get_float32_matmul_precision() == "highest"
    bf16 = make(reg=INRR(**FAST_INRR), max_iter=20, precision="bfloat16")
    out = bf16.fit_transform(X_nan)
    assert_array_equal(out[~missing], X_nan[~missing])
    assert np.isfinite(out).all() and not np.array_equal(out, base)
    assert all(p.dtype == torch.float32 for p in bf16.model_.parameters())
    with pytest.raises(ValueError, match="precision"):
        make(precision="float16").fit(X_nan)


@pytest.mark.slow
@both
def test_compile_option_on_cpu(make, low_rank_with_nans):
    _, X_nan, missing = low_rank_with_nans
    base = make(reg=INRR(**FAST_INRR), max_iter=10, early_stopping=True)
    compiled = clone(base).set_params(compile=True)
    out = compiled.fit_transform(X_nan)
    assert_array_equal(out[~missing], X_nan[~missing])
    np.testing.assert_allclose(out, base.fit_transform(X_nan), rtol=1e-3, atol=1e-4)
    pickle.loads(pickle.dumps(compiled))  # the stored modules are the plain ones
