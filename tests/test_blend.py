"""BlendImputer: convex weights on held-out entries, refits, nested parameters."""

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import clone
from sklearn.impute import KNNImputer, SimpleImputer

from inrr_sklearn import BlendImputer, DMFImputer, SoftImputer, image_imputer
from inrr_sklearn._blend import _convex_least_squares, default_candidates
from tests.conftest import FAST_DMF

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.fixture
def table():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 2)) @ rng.normal(size=(2, 5)) + 0.05 * rng.normal(
        size=(60, 5)
    )
    missing = rng.random(X.shape) < 0.2
    return X, np.where(missing, np.nan, X), missing


def _fast(**kwargs):
    candidates = [
        (
            "dmf",
            # 400 steps: converged on this table (at 200 the refit is still far
            # from it, 0.72 RMSE against 0.13, and the weights measure nothing).
            DMFImputer(**{**FAST_DMF, "max_iter": 400, "learning_rate_init": 1e-2}),
        ),
        ("knn", KNNImputer()),
        ("mean", SimpleImputer()),
    ]
    return BlendImputer(candidates, random_state=0, **kwargs)


def test_convex_weights_by_hand():
    y = np.array([1.0, 2.0, 3.0])
    P = np.column_stack([y, np.zeros(3), y + 5])
    w = _convex_least_squares(P, y)
    assert_allclose(w, [1, 0, 0], atol=1e-6)
    # Two unbiased candidates with opposite errors: the average is exact.
    P = np.column_stack([y + 1, y - 1])
    assert_allclose(_convex_least_squares(P, y), [0.5, 0.5], atol=1e-6)


def test_blend_beats_its_worst_candidate_and_keeps_observed_entries(table):
    X, X_nan, missing = table
    imp = _fast().fit(X_nan)
    completed = imp.transform(X_nan)
    assert_array_equal(completed[~missing], X[~missing])
    results = imp.cv_results_
    assert results["estimator"] == ["dmf", "knn", "mean"]
    assert sum(results["weight"]) == pytest.approx(1.0)
    assert imp.heldout_rmse_ <= min(results["heldout_rmse"]) + 1e-9
    assert set(imp.weights_) <= {"dmf", "knn", "mean"}
    err = np.sqrt(np.mean((completed - X)[missing] ** 2))
    mean_err = np.sqrt(
        np.mean((SimpleImputer().fit_transform(X_nan) - X)[missing] ** 2)
    )
    assert err < 0.6 * mean_err


def test_new_rows_are_blended_with_the_same_weights(table):
    _, X_nan, _ = table
    imp = _fast().fit(X_nan[:40])
    new = X_nan[40:]
    # The candidates work on columns standardised by the fitted observed entries.
    mean, std = np.nanmean(X_nan[:40], axis=0), np.nanstd(X_nan[:40], axis=0)
    expected = sum(
        w * imp.estimators_[name].transform((new - mean) / std)
        for name, w in imp.weights_.items()
    )
    expected = expected * std + mean
    assert_allclose(imp.transform(new), np.where(np.isnan(new), expected, new))
    raw = _fast(standardize=False).fit(X_nan[:40])
    expected = sum(
        w * raw.estimators_[name].transform(new) for name, w in raw.weights_.items()
    )
    assert_allclose(raw.transform(new), np.where(np.isnan(new), expected, new))


class _Recorder(SimpleImputer):
    """A mean imputer that keeps the matrices it was fitted on."""

    seen = []

    def fit(self, X, y=None):
        type(self).seen.append(np.array(X, dtype=float))
        return super().fit(X, y)


def test_candidates_see_standardised_columns_unless_told_otherwise(table):
    _, X_nan, _ = table
    X_units = X_nan * [1e6, 1.0, 1e-3, 1.0, 1.0] + [0.0, 1e8, 0.0, -5.0, 0.0]
    for standardize in (True, False):
        _Recorder.seen = []
        BlendImputer(
            [("mean", _Recorder()), ("knn", KNNImputer())],
            standardize=standardize, n_jobs=1, random_state=0,
        ).fit(X_units)  # fmt: skip
        expected = X_units
        if standardize:
            mean, std = np.nanmean(X_units, axis=0), np.nanstd(X_units, axis=0)
            expected = (X_units - mean) / std
        assert len(_Recorder.seen) >= 2  # held-out fits (and the refit)
        for seen in _Recorder.seen:
            shown = ~np.isnan(seen)
            assert shown.sum() >= 0.8 * (~np.isnan(X_units)).sum()
            if standardize:  # (the column at 1e8 holds 8 digits below the shift)
                assert_allclose(seen[shown], expected[shown], rtol=1e-12, atol=1e-7)
            else:
                assert_array_equal(seen[shown], X_units[shown])


def test_blend_does_not_depend_on_the_columns_units(table):
    """Rescaling or shifting a column rescales or shifts its completion (fitted and
    new rows), with candidates whose own error depends on units."""
    from sklearn.experimental import enable_iterative_imputer  # noqa: F401
    from sklearn.impute import IterativeImputer

    X, X_nan, missing = table
    scale = np.array([1e6, 1.0, 1e-3, 1.0, 1.0])
    offset = np.array([0.0, 1e8, 0.0, -5.0, 0.0])

    def blend(**kwargs):
        candidates = [("knn", KNNImputer()), ("iterative", IterativeImputer())]
        return BlendImputer(candidates, n_jobs=1, random_state=0, **kwargs)

    reference = blend().fit(X_nan[:40])
    moved = blend().fit(X_nan[:40] * scale + offset)
    for rows in (X_nan[:40], X_nan[40:]):
        back = (moved.transform(rows * scale + offset) - offset) / scale
        assert_allclose(back, reference.transform(rows), rtol=1e-6, atol=1e-6)
    assert_allclose(
        moved.cv_results_["heldout_rmse"], reference.cv_results_["heldout_rmse"]
    )

    def error(imputer):
        completed = imputer.fit_transform(X_nan * scale + offset)
        return np.sqrt(np.mean(((completed - offset) / scale - X)[missing] ** 2))

    # As given, the same candidates complete the moved table worse.
    assert error(blend()) < 0.8 * error(blend(standardize=False))


def test_nested_parameters_and_clone(table):
    imp = _fast()
    params = imp.get_params()
    assert params["dmf__rank"] is None and params["knn__n_neighbors"] == 5
    imp.set_params(knn__n_neighbors=3, holdout_fraction=0.2)
    assert imp.get_params()["knn__n_neighbors"] == 3
    assert clone(imp).get_params()["holdout_fraction"] == 0.2
    assert "estimators" in BlendImputer().get_params()
    assert BlendImputer().get_params()["standardize"] is True
    # An image is one unit: image_imputer() hands its candidates the pixels as given.
    assert image_imputer().get_params()["standardize"] is False


def test_tiny_tables_fall_back_to_equal_weights():
    X = np.array([[1.0, np.nan], [2.0, 3.0], [np.nan, 4.0]])
    imp = _fast().fit(X)
    assert imp.cv_results_["weight"] == pytest.approx([1 / 3] * 3)
    assert not np.isnan(imp.transform(X)).any()


def test_max_entries_leaves_candidates_out_of_large_inputs(table, monkeypatch):
    _, X_nan, _ = table  # 60 x 5 = 300 entries
    within = _fast(max_entries={"knn": 300}).fit(X_nan)
    assert within.cv_results_ == _fast().fit(X_nan).cv_results_
    two = _fast(max_entries={"dmf": 299}).fit(X_nan)
    assert two.cv_results_["estimator"] == ["dmf", "knn", "mean"]
    assert two.cv_results_["weight"][0] == 0.0
    assert np.isnan(two.cv_results_["heldout_rmse"][0])
    assert np.isfinite(two.cv_results_["heldout_rmse"][1:]).all()
    assert sum(two.weights_.values()) == pytest.approx(1.0)
    assert "dmf" not in two.estimators_ and np.isfinite(two.heldout_rmse_)
    # One candidate left: fitted once, on all observed entries (no held-out fits).
    hides = []
    hide = BlendImputer._hide
    monkeypatch.setattr(
        BlendImputer, "_hide", lambda *args: hides.append(1) or hide(*args)
    )
    imp = _fast(max_entries={"knn": 299, "dmf": 10}).fit(X_nan)
    assert not hides and list(imp.estimators_) == ["mean"]
    results = imp.cv_results_
    assert results["estimator"] == ["dmf", "knn", "mean"]
    assert results["weight"] == [0.0, 0.0, 1.0]
    assert np.isnan(results["heldout_rmse"]).all() and np.isnan(imp.heldout_rmse_)
    # (column means, through the standardised columns and back)
    assert_allclose(imp.transform(X_nan), SimpleImputer().fit_transform(X_nan))
    # A blend given one candidate still measures it on held-out entries.
    alone = BlendImputer([("mean", SimpleImputer())], random_state=0).fit(X_nan)
    assert hides and np.isfinite(alone.heldout_rmse_)


@pytest.mark.parametrize(
    ("max_entries", "message"),
    [
        ({"inr": 10}, "not candidates"),
        ({"knn": 10, "nope": 1}, r"not candidates \['dmf', 'knn', 'mean'\]"),
        ({"knn": 0}, "positive"),
        ({"knn": 1, "dmf": 1, "mean": 1}, "leaves no candidate"),
    ],
)
def test_max_entries_is_checked(table, max_entries, message):
    _, X_nan, _ = table
    with pytest.raises(ValueError, match=message):
        _fast(max_entries=max_entries).fit(X_nan)


def test_max_entries_names_any_default_candidate():
    # 6,000 x 10: too many rows for the default KNN candidate, which leaves it out;
    # its name is still valid (checked before anything is fitted).
    X = np.random.default_rng(0).normal(size=(6000, 10))
    X[::7, 3] = np.nan
    assert "knn" not in [name for name, _ in default_candidates(shape=X.shape)]
    with pytest.raises(ValueError, match=r"names \['nope'\], .*'knn'"):
        BlendImputer(max_entries={"knn": 1, "nope": 1}).fit(X)
    with pytest.raises(ValueError, match=r"average_fits names \['nope'\]"):
        BlendImputer(average_fits=["knn", "nope"]).fit(X)


def test_duplicate_names_are_refused(table):
    _, X_nan, _ = table
    with pytest.raises(ValueError, match="unique"):
        BlendImputer([("a", KNNImputer()), ("a", SimpleImputer())]).fit(X_nan)


def test_softimputer_completes_low_rank_tables_and_new_rows(table):
    from inrr_sklearn import SoftImputer

    X, X_nan, missing = table
    imp = SoftImputer().fit(X_nan)
    completed = imp.transform(X_nan)
    assert_array_equal(completed[~missing], X[~missing])
    err = np.sqrt(np.mean((completed - X)[missing] ** 2))
    mean_err = np.sqrt(
        np.mean((SimpleImputer().fit_transform(X_nan) - X)[missing] ** 2)
    )
    assert err < 0.4 * mean_err
    new = imp.transform(X_nan[:7].copy() + 0.0)  # same rows as new data: folded in
    assert (
        np.abs(new - X[:7])[missing[:7]].mean()
        < 2 * np.abs(completed[:7] - X[:7])[missing[:7]].mean() + 1e-9
    )
    empty = imp.transform(np.full((1, X.shape[1]), np.nan))
    assert_allclose(empty[0], np.nanmean(X_nan, axis=0))


def test_without_refit_the_held_out_fits_complete_the_table(table):
    X, X_nan, missing = table
    refitted = _fast().fit(X_nan)
    held_out = _fast(refit=False).fit(X_nan)
    assert held_out.cv_results_ == refitted.cv_results_
    assert_array_equal(held_out.transform(X_nan)[~missing], X[~missing])
    # KNN keeps its training table: without refit it lacks the held-out entries.
    hidden_in_fit = np.isnan(held_out.estimators_["knn"]._fit_X).sum()
    assert hidden_in_fit > missing.sum()
    assert np.isnan(refitted.estimators_["knn"]._fit_X).sum() == missing.sum()


@pytest.mark.parametrize(
    ("shape", "fraction", "n_splits"),
    [
        ((30, 10), 0.1, 3),  # 300 entries: 3 sets of 30 (at most 3)
        ((300, 10), 0.1, 3),  # 3,000 entries: 3 sets of 300
        ((1_000, 10), 0.1, 2),  # 2 sets of 1,000 hold 2,000 entries
        ((20_000, 5), 0.1, 1),  # one set of 10,000 entries is enough
        ((50, 2), 0.4, 2),  # 2 sets of 40 leave 20 entries to fit; 3 would not
    ],
)
def test_auto_splits_follow_the_table_size(shape, fraction, n_splits):
    observed = np.ones(shape, dtype=bool)
    X = np.zeros(shape)
    imputer = BlendImputer(holdout="random", holdout_fraction=fraction)
    folds = imputer._hide(observed, np.random.RandomState(0), X)
    assert len(folds) == n_splits
    n_hide = round(fraction * observed.size)
    assert all(f.sum() == n_hide for f in folds)
    assert np.sum(folds, axis=0).max() == 1  # disjoint


@pytest.mark.parametrize(
    ("shape", "n_hide"),
    [
        ((2_000, 100), 20_000),  # 200,000 entries: 10 %
        ((10_000, 30), 20_000),  # 300,000 entries: 20,000 (6.7 %)
        ((40_000, 50), 20_000),  # 2,000,000 entries: 20,000 (1 %)
    ],
)
def test_auto_holdout_fraction_hides_at_most_20000_entries(shape, n_hide):
    observed = np.ones(shape, dtype=bool)
    imputer = BlendImputer(holdout="random")
    (hidden,) = imputer._hide(observed, np.random.RandomState(0), np.zeros(shape))
    assert hidden.sum() == n_hide


@pytest.mark.parametrize("share, refits", [(0.02, True), (0.5, False)])
def test_auto_refit_keeps_the_held_out_fits_of_a_thin_set(
    table, monkeypatch, share, refits
):
    """refit="auto" refits unless the held-out sets hold under _NO_REFIT_SHARE of
    the observed entries (here 10 % of them: refitted at 2 %, kept at 50 %)."""
    import inrr_sklearn._blend as blend_module

    _, X_nan, _ = table
    monkeypatch.setattr(blend_module, "_NO_REFIT_SHARE", share)
    auto = _fast(n_splits=1).fit(X_nan)
    same = _fast(n_splits=1, refit=refits).fit(X_nan)
    other = _fast(n_splits=1, refit=not refits).fit(X_nan)
    assert_array_equal(auto.transform(X_nan), same.transform(X_nan))
    assert not np.array_equal(auto.transform(X_nan), other.transform(X_nan))


def test_large_tables_leave_out_the_quadratic_candidates():
    from inrr_sklearn._blend import default_candidates

    assert [n for n, _ in default_candidates(0, shape=(100, 20))] == [
        "dmf", "softimpute", "iterative", "knn", "forest",
    ]  # fmt: skip
    assert [n for n, _ in default_candidates(0, shape=(1_500, 20))] == [
        "dmf", "softimpute", "iterative", "knn", "forest",
    ]  # fmt: skip
    assert [n for n, _ in default_candidates(0, shape=(10_000, 20))] == [
        "dmf", "softimpute", "iterative", "forest",
    ]  # fmt: skip
    assert [n for n, _ in default_candidates(0, shape=(1_000, 40))] == [
        "dmf", "softimpute", "iterative", "knn",
    ]  # fmt: skip
    steps = [dict(default_candidates(0, shape=s))["dmf"].max_iter for s in SHAPES]
    assert steps == [3000, 1500, 300]


def test_large_tables_get_fewer_iterative_rounds():
    """20 rounds up to 200,000 entries (every benchmark table), 4e6 / entries
    above, at least 5 (a round costs seconds on a table of a million entries)."""
    from inrr_sklearn._blend import default_candidates

    shapes = [(100, 20), (10_000, 20), (20_000, 20), (30_000, 30), (100_000, 50)]
    rounds = [
        dict(default_candidates(0, shape=s))["iterative"].max_iter for s in shapes
    ]
    assert rounds == [20, 20, 10, 5, 5]


def test_wide_tables_bound_the_iterative_candidate():
    def names(shape):
        return [name for name, _ in default_candidates(0, shape=shape)]

    def neighbours(shape):
        return dict(default_candidates(0, shape=shape))["iterative"].n_nearest_features

    # Each column regressed on every other up to 64 columns, on 30 of them above
    # (memory grows with the cube of the columns), none past 500 columns.
    assert neighbours((60, 64)) is None and neighbours((60, 65)) == 30
    assert "iterative" in names((60, 500)) and "iterative" not in names((60, 501))
    # KNN while rows² x columns <= 3e8: load_digits' 1,797 x 64 is in.
    assert "knn" in names((1_797, 64)) and "knn" not in names((4_000, 20))
    assert "knn" in names((1_000, 300)) and "knn" not in names((1_001, 300))


def test_blend_completes_a_table_wider_than_the_iterative_limit():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(12, 2)) @ rng.normal(size=(2, 520))
    X_nan = np.where(rng.random(X.shape) < 0.2, np.nan, X)
    # DMF left out for speed (3,000 steps on so few entries).
    blend = BlendImputer(random_state=0, n_jobs=1, max_entries={"dmf": 1})
    completed = blend.fit_transform(X_nan)
    assert blend.cv_results_["estimator"] == ["dmf", "softimpute", "knn"]
    observed = ~np.isnan(X_nan)
    assert np.array_equal(completed[observed], X_nan[observed])
    assert not np.isnan(completed).any()


SHAPES = [(100, 20), (1_000, 20), (100_000, 50)]


def test_mask_shaped_holdout_hides_shifted_pieces_of_the_holes():
    from inrr_sklearn.model_selection import _shifted_holes

    observed = np.ones((40, 40), dtype=bool)
    observed[10, 5:15] = False  # one horizontal stroke of 10 entries
    observed[30, 20:30] = False
    rng = np.random.RandomState(0)
    hidden = _shifted_holes(observed, observed.copy(), 10, rng)
    assert hidden.sum() >= 10 and not (hidden & ~observed).any()
    # Whole horizontal strokes (pieces of a shifted copy), not scattered entries.
    rows = np.flatnonzero(hidden.any(axis=1))
    assert all(hidden[r].sum() <= 10 for r in rows) and len(rows) <= 2 * 2


def test_mask_holdout_in_blend(table):
    X, X_nan, missing = table
    imp = _fast(holdout="mask").fit(X_nan)
    assert_array_equal(imp.transform(X_nan)[~missing], X[~missing])
    assert sum(imp.cv_results_["weight"]) == pytest.approx(1.0)
    assert _fast(holdout="mask").fit(X).cv_results_  # nothing missing: random draw


def _standardised(imputer, X_nan):
    """The table a fitted blend's candidates saw, and the map back to its units
    (its own scaling, bit for bit; test_candidates_see_standardised_columns checks
    it against the observed entries' mean and std)."""
    return imputer._scaling.to_scaled(X_nan), imputer._scaling.from_scaled


@pytest.mark.parametrize("standardize", [True, False])
def test_average_fits_averages_the_refit_with_the_held_out_fits(table, standardize):
    _, X_nan, missing = table
    dmf = DMFImputer(**{**FAST_DMF, "max_iter": 100, "learning_rate_init": 1e-2})
    imp = BlendImputer(
        [("dmf", dmf)], average_fits=["dmf"], n_splits=3, standardize=standardize,
        random_state=0,
    )  # fmt: skip
    imp.fit(X_nan)
    Z, back = _standardised(imp, X_nan)
    folds = imp._hide(~missing, np.random.RandomState(0), Z)
    held_out = [clone(dmf).fit_transform(np.where(h, np.nan, Z)) for h in folds]
    refit = imp.estimators_["dmf"].transform(Z)
    expected = back(np.mean([refit, *held_out], axis=0))
    refit = back(refit)
    assert len(folds) == 3
    assert_allclose(imp.transform(X_nan)[missing], expected[missing])
    assert not np.allclose(imp.transform(X_nan)[missing], refit[missing])
    with pytest.raises(ValueError, match="average_fits names"):
        BlendImputer([("dmf", dmf)], average_fits=["inr"]).fit(X_nan)


@pytest.mark.parametrize("standardize", [True, False])
def test_warm_refit_continues_the_held_out_fit(table, standardize):
    from inrr_sklearn import INRImputer

    _, X_nan, missing = table
    inr = INRImputer(
        hidden_layer_sizes=(8, 8), max_iter=30, refit_max_iter=7,
        early_stopping=False, random_state=0,
    )  # fmt: skip
    candidates = [("inr", inr), ("mean", SimpleImputer())]
    imp = BlendImputer(
        candidates, refit="warm", n_splits=1, standardize=standardize, n_jobs=1,
        random_state=0,
    )  # fmt: skip
    completed = imp.fit_transform(X_nan)
    refitted = imp.estimators_["inr"]
    assert refitted.n_iter_ == 7  # refit_max_iter steps, not max_iter
    assert (refitted.max_iter, refitted.warm_start) == (30, False)  # as configured
    # The same as continuing the held-out fit by hand.
    Z, _ = _standardised(imp, X_nan)
    (hidden,) = imp._hide(~missing, np.random.RandomState(0), Z)
    by_hand = clone(inr).fit(np.where(hidden, np.nan, Z))
    by_hand.set_params(warm_start=True, max_iter=7)
    assert_allclose(by_hand.fit_transform(Z), refitted.transform(Z))
    # A candidate that cannot continue a fit is refitted from scratch (on the
    # standardised table the mean is left out: weight below 0.001).
    if not standardize:
        assert_allclose(imp.estimators_["mean"].statistics_, np.nanmean(Z, axis=0))
    assert not np.isnan(completed).any()


def test_a_pickle_from_before_standardize_completes_as_it_did(table):
    import pickle

    _, X_nan, _ = table
    old = _fast(standardize=False).fit(X_nan[:40])
    state = old.__getstate__()
    del state["standardize"], state["_scaling"]
    loaded = BlendImputer.__new__(BlendImputer)
    loaded.__setstate__(state)
    assert loaded.get_params()["standardize"] is False
    assert_array_equal(loaded.transform(X_nan[40:]), old.transform(X_nan[40:]))
    assert clone(loaded).get_params()["standardize"] is False
    assert pickle.loads(pickle.dumps(loaded)).standardize is False


def test_a_pickle_with_column_moments_completes_as_it_did(table):
    """A standardising blend pickled before the Scaling kept (mean, std)."""
    _, X_nan, _ = table
    fitted = _fast().fit(X_nan[:40])
    state = fitted.__getstate__()
    scaling = state.pop("_scaling")
    state["_moments"] = (scaling.offset[0], scaling.span[0])
    loaded = BlendImputer.__new__(BlendImputer)
    loaded.__setstate__(state)
    assert loaded.standardize is True
    assert_allclose(loaded.transform(X_nan[40:]), fitted.transform(X_nan[40:]))


@pytest.mark.parametrize(
    "make, standardized",
    [
        (lambda: SoftImputer(keep_empty_features=True), True),
        (lambda: _classical(standardize=True), True),
        (lambda: _classical(standardize=False), False),
    ],
    ids=["softimpute", "blend", "blend-as-given"],
)
def test_an_empty_column_is_filled_with_zero_and_a_constant_exactly(
    table, make, standardized
):
    """A kept empty column is filled as scikit-learn's imputers fill it, with 0 in
    any units (up to the rounding of an SVD); a standardised constant column with
    its value, not its value plus rounding."""
    _, X_nan, _ = table
    X_nan = X_nan * 1e3 + 7e5
    X_nan[:, 1] = np.nan
    X_nan[::2, 3] = 0.1 + 0.2  # 0.30000000000000004: rounds when standardised
    X_nan[1::2, 3] = np.nan
    completed = make().fit_transform(X_nan)
    assert_allclose(completed[:, 1], 0.0, atol=1e-12 * 7e5)
    if standardized:
        assert_array_equal(completed[:, 3], 0.1 + 0.2)


def _classical(**kwargs):
    return BlendImputer(
        [
            ("soft", SoftImputer(keep_empty_features=True)),
            ("knn", KNNImputer(keep_empty_features=True)),
        ],
        random_state=0,
        n_jobs=1,
        keep_empty_features=True,
        **kwargs,
    )


def test_softimpute_pickle_with_column_moments_completes_as_it_did(table):
    """A SoftImputer pickled before the Scaling kept the columns' mean and std."""
    _, X_nan, _ = table
    fitted = SoftImputer().fit(X_nan[:40])
    state = fitted.__getstate__()
    scaling = state.pop("_scaling")
    state["_mean"], state["_std"] = scaling.offset[0], scaling.span[0]
    loaded = SoftImputer.__new__(SoftImputer)
    loaded.__setstate__(state)
    assert_allclose(loaded.transform(X_nan[40:]), fitted.transform(X_nan[40:]))


@pytest.mark.parametrize(
    "shape, rank", [((200, 6), 6), ((200, 6), 2), ((6, 200), 3), ((30, 30), 30)]
)
@pytest.mark.parametrize("shrinkage", [0.0, 0.02, 0.5, 2.0])
def test_softimpute_step_is_the_soft_thresholded_svd(shape, rank, shrinkage):
    """The Gram-matrix step equals U max(S - shrink, 0) V^T from an SVD, on tall,
    wide, square and rank-deficient matrices, for no, some and all shrinkage; its
    components are the SVD's resolved ones (none made of round-off)."""
    from inrr_sklearn._softimpute import shrunk_low_rank

    rng = np.random.default_rng(0)
    Z = rng.normal(size=(shape[0], rank)) @ rng.normal(size=(rank, shape[1]))
    U, s, Vt = np.linalg.svd(Z, full_matrices=False)
    shrink = shrinkage * s[0]
    kept = np.maximum(s - shrink, 0.0)
    low_rank, components = shrunk_low_rank(Z, shrink)
    assert_allclose(low_rank, (U * kept) @ Vt, atol=1e-10 * s[0])
    # The SVD's null directions have singular values of round-off size (~1e-15).
    resolved = kept > 1e-7 * s[0]
    expected = kept[resolved, None] * Vt[resolved]
    assert components.shape == expected.shape
    # Rows agree up to sign (singular vectors are defined up to sign).
    assert_allclose(np.abs(components), np.abs(expected), atol=1e-8 * s[0])
    assert_array_equal(shrunk_low_rank(np.zeros(shape), 0.0)[0], np.zeros(shape))


def test_softimputer_at_full_shrinkage_keeps_no_round_off_component():
    """shrinkage=1 zeroes every singular value; eigvalsh (the shrink) and eigh (the
    step) may disagree in the last bit, which left a row of round-off size in
    components_ on which transform then fitted new rows. Here no row is left, and
    new rows get the column means, as the fitted ones do."""
    from inrr_sklearn import SoftImputer

    for seed in range(30):
        rng = np.random.default_rng(seed)
        m, n = rng.integers(3, 40, size=2)
        X = rng.normal(size=(m, 3)) @ rng.normal(size=(3, n))
        X[rng.random(X.shape) < 0.3] = np.nan
        X[rng.integers(m, size=n), np.arange(n)] = 1.0  # every column observed
        imp = SoftImputer(shrinkage=1.0).fit(X)
        assert imp.components_.shape[0] == 0, seed
        new = imp.transform(X + 0.0)
        assert_allclose(new, imp.transform(X), atol=1e-12)
