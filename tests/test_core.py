"""Behaviours shared by both imputers: masks, faults, warm starts, small contracts.

Each test runs over ``INRImputer`` and ``DMFImputer`` (as scikit-learn's
``impute/tests/test_common.py`` does for its imputers).
"""

import pickle
import warnings

import numpy as np
import pytest
import torch
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.exceptions import NotFittedError

from inrr_sklearn import INRR, TV, DMFImputer, INRImputer
from inrr_sklearn.training import Trainer
from tests.conftest import FAST_DMF, FAST_INR, FAST_INRR

IMPUTERS = {
    "inr": lambda **kw: INRImputer(**{**FAST_INR, **kw}),
    "dmf": lambda **kw: DMFImputer(**{**FAST_DMF, **kw}),
}
both = pytest.mark.parametrize("make", IMPUTERS.values(), ids=IMPUTERS.keys())
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def _fitted_attributes(estimator):
    return [k for k in vars(estimator) if k.endswith("_") and not k.startswith("__")]


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    X = np.outer(np.linspace(1, 2, 10), np.linspace(1, 3, 6)) + rng.normal(
        0, 0.1, (10, 6)
    )
    mask = rng.random(X.shape) > 0.3  # True = observed
    return X, mask


# ----------------------------------------------------------------------------- masks


@both
def test_every_mask_form_completes_the_hidden_entries(make, data):
    X, mask = data
    X_before, mask_before = X.copy(), mask.copy()
    reference = make().fit_transform(np.where(mask, X, np.nan))
    hidden = ~mask
    for completed in (
        make().fit(X, mask).transform(X),
        make().fit(X, mask=mask).transform(X),
        make().fit_transform(X, mask),
        make().fit_transform(X, mask=mask),
    ):
        assert_array_equal(completed[mask], X[mask])  # observed: bit-for-bit
        assert not np.allclose(completed[hidden], X[hidden])  # hidden: completed
        assert_allclose(completed[hidden], reference[hidden])
    assert_array_equal(X, X_before)
    assert_array_equal(mask, mask_before)


@both
def test_a_numeric_y_is_never_a_mask(make, data):
    X, mask = data
    X_nan = np.where(mask, X, np.nan)
    expected = make().fit_transform(X_nan)
    for y in (mask.astype(float), mask.astype(int), np.ones(X.shape[0])):
        assert_allclose(make().fit(X_nan, y).transform(X_nan), expected)


@both
def test_bad_masks_are_clear_errors(make, data):
    X, mask = data
    with pytest.raises(ValueError, match="shape"):
        make().fit(X, mask[:-1])
    with pytest.raises(ValueError, match="shape"):
        make().fit(X, mask=mask[:, :-1])
    with pytest.raises(ValueError, match="twice"):
        make().fit(X, mask, mask=mask)


@both
def test_the_mask_is_not_kept_by_reference(make, data):
    X, mask = data
    user_mask = mask.copy()
    imp = make().fit(X, user_mask)
    before = imp.transform(X)
    user_mask[:] = True
    assert_array_equal(imp.transform(X), before)


# ----------------------------------------------------------------------------- faults


def _interrupt_at(monkeypatch, call):
    """Make the ``call``-th ``Trainer.step`` raise KeyboardInterrupt (Ctrl-C)."""
    step = Trainer.step
    count = {"n": 0}

    def interrupted(self):
        count["n"] += 1
        if count["n"] == call:
            raise KeyboardInterrupt
        return step(self)

    monkeypatch.setattr(Trainer, "step", interrupted)


@both
@pytest.mark.parametrize(
    "bad",
    [
        dict(X=np.full((4, 3), np.nan)),
        dict(params=dict(n_channels=4)),
        pytest.param(
            dict(params=dict(device="cuda")),
            marks=pytest.mark.skipif(torch.cuda.is_available(), reason="has CUDA"),
        ),
        dict(params=dict(learning_rate_init=1e6, max_iter=60), dmf_only=True),
    ],
    ids=["all-nan", "n_channels", "no-cuda", "diverges"],
)
def test_a_failed_first_fit_leaves_an_unfitted_estimator(make, data, bad):
    X, mask = data
    imp = make(**bad.get("params", {}))
    if bad.get("dmf_only") and isinstance(imp, INRImputer):
        pytest.skip("a SIREN's sigmoid output is bounded: its loss cannot explode")
    with pytest.raises((ValueError, FloatingPointError)):
        imp.fit(bad.get("X", np.where(mask, X, np.nan)))
    assert _fitted_attributes(imp) == []
    with pytest.raises(NotFittedError):
        imp.transform(X)


@both
def test_divergence_names_the_parameter_or_restores_the_best_iterate(make, data):
    X, mask = data
    X_nan = np.where(mask, X, np.nan)
    if make is IMPUTERS["dmf"]:
        with pytest.raises(FloatingPointError, match="learning_rate_init"):
            make(learning_rate_init=1e6, max_iter=60).fit(X_nan)
    else:  # bounded output: a huge step size saturates the sigmoid, within range
        completed = make(learning_rate_init=1e6, max_iter=60).fit_transform(X_nan)
        assert (
            np.nanmin(X_nan) <= completed.min() <= completed.max() <= np.nanmax(X_nan)
        )
    imp = make(learning_rate_init=0.3, max_iter=400, early_stopping=True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        completed = imp.fit_transform(X_nan)
    diverged = [w for w in caught if "diverged" in str(w.message)]
    if diverged:  # the restored iterate is a sane completion, never inf or 1e8 off
        assert np.isfinite(completed).all()
    assert np.abs(completed).max() < 100 * np.abs(X).max()


@both
def test_ctrl_c_keeps_the_best_iterate_and_a_second_aborts(make, data, monkeypatch):
    X, mask = data
    X_nan = np.where(mask, X, np.nan)
    _interrupt_at(monkeypatch, 4)
    imp = make(max_iter=50)
    with pytest.warns(UserWarning, match="interrupted"):
        imp.fit(X_nan)
    assert imp.n_iter_ == 3 and len(imp.loss_curve_) == 3
    assert np.isfinite(imp.transform(X_nan)).all()

    # A second Ctrl-C (here: while the first is handled) aborts, leaving the state
    # of before the call.
    n_iter, curve = imp.n_iter_, list(imp.loss_curve_)

    def abort(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr("inrr_sklearn._torch_base.train", abort)
    with pytest.raises(KeyboardInterrupt):
        imp.fit(X_nan)
    assert imp.n_iter_ == n_iter and imp.loss_curve_ == curve
    fresh = make()
    with pytest.raises(KeyboardInterrupt):
        fresh.fit(X_nan)
    assert _fitted_attributes(fresh) == []


@both
def test_a_failed_warm_refit_leaves_the_previous_fit(make, data):
    X, mask = data
    X_nan = np.where(mask, X, np.nan)
    imp = make(warm_start=True, max_iter=20).fit(X_nan)
    if isinstance(imp, INRImputer):  # cannot diverge (bounded output): interrupt
        imp.set_params(n_channels=2)  # and a failure after validation instead
    before = imp.transform(X_nan)
    weights = [p.detach().clone() for p in imp.model_.parameters()]
    n_iter, curve = imp.n_iter_, list(imp.loss_curve_)
    imp.set_params(learning_rate_init=1e6, max_iter=60)
    with pytest.raises((FloatingPointError, ValueError)):
        imp.fit(X_nan)
    assert imp.n_iter_ == n_iter and imp.loss_curve_ == curve
    for w, p in zip(weights, imp.model_.parameters(), strict=True):
        assert torch.equal(w, p)
    assert_array_equal(imp.transform(X_nan), before)


@pytest.mark.parametrize(
    "make, change",
    [
        (IMPUTERS["inr"], dict(hidden_layer_sizes=(8, 8))),
        (IMPUTERS["inr"], dict(omega_0=10.0)),
        (IMPUTERS["dmf"], dict(rank=2)),
        (IMPUTERS["dmf"], dict(n_layers=4)),
        (IMPUTERS["inr"], dict(n_channels=2)),
    ],
)
def test_warm_start_refuses_a_changed_architecture(make, change, data):
    X, mask = data
    X_nan = np.where(mask, X, np.nan)
    imp = make(warm_start=True).fit(X_nan)
    imp.set_params(**change)
    with pytest.raises(ValueError, match="warm_start"):
        imp.fit(X_nan)


@both
def test_warm_start_applies_a_changed_regularizer_and_refits_scaling(make, data):
    X, mask = data
    X_nan = np.where(mask, X, np.nan)
    imp = make(warm_start=True, reg=INRR(**FAST_INRR)).fit(X_nan)
    row_net = [p.detach()[0].clone() for p in imp.penalty_.parameters()]  # [row, col]
    imp.set_params(reg__alpha_row=0.5)
    imp.fit(X_nan)
    assert imp.penalty_.alphas[0] == 0.5
    assert not all(
        torch.equal(a, b[0])
        for a, b in zip(row_net, imp.penalty_.parameters(), strict=True)
    )  # trained further from the previous tiny network
    imp.set_params(reg=TV())
    imp.fit(X_nan)
    assert type(imp.penalty_).__name__ == "_TVPenalty"
    completed = imp.fit_transform(40 * X_nan)  # same shape, another scale
    assert completed[~mask].min() > 0.5 * 40 * np.nanmin(X_nan)


# ----------------------------------------------------------------------------- scales


@both
@pytest.mark.parametrize("unit", [1e-300, 1e-30, 1e20, 1e300])
def test_results_do_not_depend_on_the_units(make, data, unit):
    X, mask = data
    X_nan = np.where(mask, X, np.nan)
    imp = make(early_stopping=True, max_iter=30)
    reference = imp.fit_transform(X_nan)
    scaled = make(early_stopping=True, max_iter=30).fit_transform(unit * X_nan)
    assert np.isfinite(scaled).all()
    assert_allclose(scaled / unit, reference, rtol=1e-4)


@both
def test_constant_data_is_imputed_as_the_constant(make):
    X = np.full((6, 4), 0.005)
    X[1, 2] = X[4, 0] = np.nan
    completed = make().fit_transform(X)
    assert_array_equal(completed, np.full((6, 4), 0.005))
    one = np.full((3, 3), np.nan)
    one[1, 1] = -7.5
    assert_array_equal(make().fit_transform(one), np.full((3, 3), -7.5))


def test_a_constant_column_of_a_table_is_imputed_as_its_constant():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(12, 4))
    X[:, 2] = 0.005
    X[3, 2] = X[7, 2] = X[5, 0] = np.nan
    completed = DMFImputer(**FAST_DMF).fit_transform(X)
    assert_array_equal(completed[:, 2], 0.005)


def test_a_column_in_huge_units_does_not_spoil_the_others():
    rng = np.random.default_rng(0)
    latent = rng.normal(size=(200, 2))
    X = latent @ rng.normal(size=(2, 6)) + 0.05 * rng.normal(size=(200, 6))
    X[:, 0] *= 1e20
    missing = rng.random(X.shape) < 0.3
    X_nan = np.where(missing, np.nan, X)
    completed = DMFImputer(rank=3, random_state=0, device="cpu").fit_transform(X_nan)
    col_std = X.std(axis=0)
    for j in range(1, 6):
        rows = missing[:, j]
        err = np.sqrt(np.mean((completed[rows, j] - X[rows, j]) ** 2)) / col_std[j]
        mean_err = (
            np.sqrt(np.mean((np.nanmean(X_nan[:, j]) - X[rows, j]) ** 2)) / col_std[j]
        )
        assert err < 0.5 * mean_err


# ----------------------------------------------------------------------------- inputs


@both
def test_float32_nan_placeholder_and_numbers_held_as_objects(make, data):
    X, mask = data
    X_nan = np.where(mask, X, np.nan)
    expected = make().fit_transform(X_nan)
    assert_allclose(
        make(missing_values=np.float32("nan")).fit_transform(X_nan), expected
    )
    as_objects = X_nan.astype(object)
    as_objects[~mask] = None
    assert_allclose(make().fit_transform(as_objects), expected)


@both
def test_pandas_nullable_and_object_columns(make, data):
    pd = pytest.importorskip("pandas")
    X, mask = data
    X_nan = np.where(mask, X, np.nan)
    expected = make().fit_transform(X_nan)
    frame = pd.DataFrame(X_nan).astype("Float64")  # pd.NA for missing
    assert_allclose(make().fit_transform(frame), expected)
    objects = pd.DataFrame(X_nan.astype(object)).where(pd.DataFrame(mask), None)
    assert_allclose(make().fit_transform(objects), expected)


@both
def test_a_string_placeholder_on_numbers_is_refused(make, data):
    X, _ = data
    with pytest.raises(ValueError, match="string"):
        make(missing_values="x").fit(X)


@pytest.mark.parametrize("sizes", [(0,), (2.5,), (), (8, -1)])
def test_layer_sizes_must_be_positive_integers(sizes, data):
    X, mask = data
    X_nan = np.where(mask, X, np.nan)
    with pytest.raises(ValueError, match="hidden_layer_sizes"):
        IMPUTERS["inr"](hidden_layer_sizes=sizes).fit(X_nan)
    with pytest.raises(ValueError, match="hidden_layer_sizes"):
        IMPUTERS["dmf"](reg=INRR(hidden_layer_sizes=sizes)).fit(X_nan)


def test_dmf_rows_without_observed_entries_get_the_column_means(data):
    X, mask = data
    X_nan = np.where(mask, X, np.nan)
    imp = DMFImputer(**{**FAST_DMF, "scaling": "per_column"}).fit(X_nan)
    new = np.full((3, X.shape[1]), np.nan)
    assert_allclose(imp.transform(new), np.tile(np.nanmean(X_nan, axis=0), (3, 1)))


def test_inr_completes_a_batch_of_all_missing_rows(data):
    X, mask = data
    imp = IMPUTERS["inr"](refit_max_iter=3).fit(np.where(mask, X, np.nan))
    assert np.isfinite(imp.transform(np.full((2, X.shape[1]), np.nan))).all()


def test_fold_in_without_ridge_handles_rows_with_one_entry(data):
    X, mask = data
    imp = DMFImputer(**{**FAST_DMF, "fold_in_alpha": 0.0}).fit(
        np.where(mask, X, np.nan)
    )
    new = np.full((2, X.shape[1]), np.nan)
    new[:, 0] = [1.0, 2.0]
    assert np.isfinite(imp.transform(new)).all()


@both
def test_pickles_keep_the_fitted_completion(make, data):
    X, mask = data
    imp = make().fit(X, mask)
    loaded = pickle.loads(pickle.dumps(imp))
    assert_array_equal(loaded.transform(X), imp.transform(X))


# ----------------------------------------------------------------------------- edges


@both
def test_ctrl_c_on_the_first_step_with_early_stopping(make, data, monkeypatch):
    X, mask = data
    _interrupt_at(monkeypatch, 1)
    imp = make(early_stopping=True, max_iter=30)
    with pytest.warns(UserWarning, match="interrupted"):
        imp.fit(np.where(mask, X, np.nan))
    assert imp.n_iter_ == 0 and imp.validation_scores_ == []
    assert np.isfinite(imp.transform(np.where(mask, X, np.nan))).all()


def test_a_blow_up_in_the_last_update_is_caught(data):
    X, mask = data
    imp = DMFImputer(**{**FAST_DMF, "max_iter": 1, "learning_rate_init": 1e3})
    with pytest.raises(FloatingPointError, match="learning_rate_init"):
        imp.fit(np.where(mask, X, np.nan))


@both
def test_pandas_boolean_masks_and_none_placeholders(make, data):
    pd = pytest.importorskip("pandas")
    X, mask = data
    expected = make().fit_transform(np.where(mask, X, np.nan))
    as_boolean = pd.DataFrame(mask).astype("boolean")
    assert_allclose(make().fit_transform(X, as_boolean), expected)
    frame = pd.DataFrame(np.where(mask, X, np.nan)).astype("Float64")
    for placeholder in (None, pd.NA):
        imp = make(missing_values=placeholder)
        assert_allclose(imp.fit_transform(frame), expected)


@both
def test_the_fitted_matrix_in_float32_is_still_the_fitted_matrix(make, data):
    X, mask = data
    X_nan = np.where(mask, X, np.nan)
    imp = make().fit(X_nan)
    fitted = imp.transform(X_nan)
    as_float32 = imp.transform(X_nan.astype(np.float32))
    assert as_float32.dtype == np.float32
    assert_allclose(as_float32[~mask], fitted[~mask], rtol=1e-6)


def test_auto_scaling_takes_tables_per_column_and_images_whole():
    rng = np.random.default_rng(0)
    table = rng.normal(size=(20, 5))
    table[:, 0] *= 1e20
    table[rng.random(table.shape) < 0.2] = np.nan
    imp = IMPUTERS["inr"](max_iter=30).fit(table)
    assert imp.scaling_ == "per_column"
    completed = imp.transform(table)
    assert np.abs(completed[:, 1:]).max() < 10 * np.nanmax(np.abs(table[:, 1:]))
    image = rng.random((12, 10))
    assert IMPUTERS["inr"]().fit(image).scaling_ == "global"
    with pytest.warns(UserWarning, match="float32 resolution"):
        IMPUTERS["dmf"](scaling="global").fit(table)


def test_inr_scaling_none_needs_values_in_the_unit_interval(data):
    X, mask = data
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        IMPUTERS["inr"](scaling="none").fit(np.where(mask, X, np.nan))
    unit = (X - X.min()) / np.ptp(X)
    IMPUTERS["inr"](scaling="none").fit(np.where(mask, unit, np.nan))


def test_a_model_worse_than_column_means_falls_back_to_them():
    rng = np.random.default_rng(0)
    skewed = rng.exponential(size=(40, 6))  # column means far from a fresh SIREN's 0.5
    skewed[rng.random(skewed.shape) < 0.3] = np.nan
    missing = np.isnan(skewed)
    imp = IMPUTERS["inr"](early_stopping=True, max_iter=2)
    with pytest.warns(UserWarning, match="column means"):
        completed = imp.fit_transform(skewed)
    assert imp.mean_fallback_.all()
    means = np.broadcast_to(np.nanmean(skewed, axis=0), skewed.shape)
    assert_allclose(completed[missing], means[missing])


def test_columns_that_fell_back_take_their_fitted_means_on_new_rows():
    rng = np.random.default_rng(0)
    skewed = rng.exponential(size=(50, 6))
    skewed[rng.random(skewed.shape) < 0.3] = np.nan
    imp = IMPUTERS["inr"](early_stopping=True, max_iter=2, refit_max_iter=2)
    with pytest.warns(UserWarning, match="column means"):
        imp.fit(skewed[:40])
    assert imp.mean_fallback_.all()
    new = skewed[40:]
    missing = np.isnan(new)
    means = np.broadcast_to(np.nanmean(skewed[:40], axis=0), new.shape)
    assert_allclose(imp.transform(new)[missing], means[missing])


@both
def test_fit_leaves_torch_global_random_stream_alone(make):
    X = np.where(np.eye(12, 5) > 0, np.nan, np.arange(60.0).reshape(12, 5))
    torch.manual_seed(0)
    state = torch.get_rng_state()
    make(reg=INRR(**FAST_INRR), max_iter=3).fit(X)
    assert torch.equal(torch.get_rng_state(), state)


@both
def test_a_model_that_learns_keeps_its_completion(make):
    rng = np.random.default_rng(0)
    smooth = np.add.outer(np.linspace(0, 1, 20), np.linspace(0, 2, 8))
    smooth[rng.random(smooth.shape) < 0.2] = np.nan
    imp = make(early_stopping=True, max_iter=300, learning_rate_init=1e-2).fit(smooth)
    assert not imp.mean_fallback_.any()


def test_inr_keeps_its_fit_over_the_means_only_when_clearly_better():
    from inrr_sklearn._scaling import fit_scaling

    rng = np.random.default_rng(0)
    X = rng.normal(size=(30, 4))
    validation = np.zeros(X.shape, dtype=bool)
    validation[:8, :] = True
    train = ~validation
    scaling = fit_scaling(X, np.ones(X.shape, dtype=bool), "none", (0.0, 1.0))
    means = np.broadcast_to(X[train[:, 0]].mean(axis=0), X.shape)
    # Slightly better than the means on the 32 held-out entries, with noisy errors.
    noise = rng.normal(scale=1.0, size=X.shape)
    lucky = np.where(validation, 0.97 * means + 0.03 * X + 0.2 * noise, means)
    gain = (lucky - X)[validation] ** 2 - (means - X)[validation] ** 2
    assert -gain.std(ddof=1) / np.sqrt(gain.size) < gain.mean() < 0
    args = (X, scaling, train, validation, lucky)
    assert INRImputer()._means_beat_model(*args)  # not 2 standard errors better
    assert not DMFImputer()._means_beat_model(*args)  # any gain keeps a DMF fit
    exact = np.where(validation, X, means)  # clearly better: kept by both
    assert not INRImputer()._means_beat_model(X, scaling, train, validation, exact)
