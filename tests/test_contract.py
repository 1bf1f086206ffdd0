"""The imputer contract, on every public imputer and every input a user can build.

Each imputer gets each kind of input (arrays in every memory layout, float32, integer
placeholders, objects holding None and pd.NA, pandas frames of every dtype, polars)
and must: complete it, return the observed entries bit for bit, keep float32, never
write into the caller's data, and name the problem in one clear error for input it
cannot take.
"""

import io
import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

from inrr_sklearn import (
    BlendImputer,
    DMFImputer,
    InpaintImputer,
    INRImputer,
    SoftImputer,
)

pd = pytest.importorskip("pandas")

FAST_DMF = dict(max_iter=15, device="cpu", random_state=0)
IMPUTERS = {
    "inr": lambda: INRImputer(
        hidden_layer_sizes=(8, 8), max_iter=15, device="cpu", random_state=0
    ),
    "dmf": lambda: DMFImputer(**FAST_DMF),
    "soft": SoftImputer,
    "blend": lambda: BlendImputer(
        [
            ("dmf", DMFImputer(**FAST_DMF)),
            ("soft", SoftImputer(keep_empty_features=True)),
        ],
        n_splits=2,
        random_state=0,
    ),
    "inpaint": InpaintImputer,
}


@pytest.fixture(autouse=True)
def _quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.simplefilter("ignore", UserWarning)  # the column-mean fallback
        yield


def _table(dtype=np.float64):
    rng = np.random.default_rng(0)
    X = (rng.normal(size=(12, 2)) @ rng.normal(size=(2, 5)) + 3).astype(dtype)
    X[rng.random(X.shape) < 0.25] = np.nan
    X[0, 0] = np.nan
    return X


def _observed_values(X):
    """The input as a float64 array with NaN where missing (the reference)."""
    if hasattr(X, "to_pandas"):  # polars
        values = np.array(X.to_numpy(), dtype=object)
    elif hasattr(X, "columns"):
        values = X.astype(object).to_numpy()
    else:
        values = np.array(X, dtype=object)
    missing = np.vectorize(lambda v: v is None or v is pd.NA or v != v)(values)
    return np.where(missing, np.nan, values).astype(np.float64)


def _snapshot(X):
    if hasattr(X, "clone"):  # polars
        return X.clone()
    if hasattr(X, "columns"):  # pandas
        return X.copy(deep=True)
    return np.array(X, dtype=object, copy=True)


def _unchanged(before, after):
    if hasattr(after, "equals"):
        return after.equals(before)
    return all(
        (a is b) or (a == b) or (a != a and b != b)
        for a, b in zip(
            np.asarray(before, dtype=object).ravel(),
            np.asarray(after, dtype=object).ravel(),
            strict=True,
        )
    )


def _inputs(tmp_path):
    X = _table()
    readonly = X.copy()
    readonly.flags.writeable = False
    memmap = np.memmap(tmp_path / "X.dat", dtype=np.float64, mode="w+", shape=X.shape)
    memmap[:] = X
    memmap.flush()
    frame = pd.DataFrame(X, columns=list("abcde"))
    csv = io.StringIO()
    frame.to_csv(csv, index=False)
    objects = X.astype(object)
    with_none = np.where(np.isnan(X), None, objects)
    with_na = with_none.copy()
    with_na[1::2] = np.where(np.isnan(X[1::2]), pd.NA, objects[1::2])
    cases = {
        "ndarray": X,
        "fortran": np.asfortranarray(X),
        "readonly": readonly,
        "memmap": np.memmap(tmp_path / "X.dat", dtype=np.float64, mode="r"),
        "view": np.hstack([X, X])[:, ::2],
        "float32": X.astype(np.float32),
        "list": [[None if np.isnan(v) else float(v) for v in row] for row in X],
        "object floats": objects,
        "object None + NA": with_na,
        "DataFrame": frame,
        "read_csv": pd.read_csv(io.StringIO(csv.getvalue())),
        "Float64 frame": frame.astype("Float64"),
        "object frame": pd.DataFrame(with_na, columns=list("abcde")),
    }
    cases["memmap"] = cases["memmap"].reshape(X.shape)
    try:
        import polars as pl

        cases["polars"] = pl.from_pandas(frame)
    except ImportError:
        pass
    return cases


INPUT_NAMES = [
    "ndarray", "fortran", "readonly", "memmap", "view", "float32", "list",
    "object floats", "object None + NA", "DataFrame", "read_csv", "Float64 frame",
    "object frame", "polars",
]  # fmt: skip


@pytest.mark.parametrize("kind", INPUT_NAMES)
@pytest.mark.parametrize("name", list(IMPUTERS))
def test_every_input_kind_completes_without_touching_it(name, kind, tmp_path):
    cases = _inputs(tmp_path)
    if kind not in cases:
        pytest.skip("polars is not installed")
    X = cases[kind]
    before = _snapshot(X)
    reference = _observed_values(X)
    observed = ~np.isnan(reference)
    completed = IMPUTERS[name]().fit_transform(X)
    assert isinstance(completed, np.ndarray) and completed.shape == reference.shape
    assert np.isfinite(completed).all()
    expected_dtype = np.float32 if kind == "float32" else np.float64
    assert completed.dtype == expected_dtype
    assert np.array_equal(
        completed[observed], reference[observed].astype(expected_dtype)
    )
    assert _unchanged(before, X)


@pytest.mark.parametrize("name", list(IMPUTERS))
def test_integer_placeholder(name):
    X = np.nan_to_num(_table(), nan=-1).round().astype(int)
    completed = IMPUTERS[name]().set_params(missing_values=-1).fit_transform(X)
    assert completed.dtype == np.float64 and not (completed == -1).any()
    assert np.array_equal(completed[X != -1], X[X != -1])


@pytest.mark.parametrize("name", list(IMPUTERS))
def test_a_three_by_three_table_with_four_known_values(name):
    X = np.array([[1.0, np.nan, 3.0], [np.nan, 5.0, np.nan], [7.0, np.nan, np.nan]])
    imputer = IMPUTERS[name]()
    completed = imputer.fit_transform(X)
    assert np.isfinite(completed).all() and completed.shape == (3, 3)
    assert np.array_equal(completed[~np.isnan(X)], X[~np.isnan(X)])
    if hasattr(imputer, "early_stopping_"):
        assert imputer.early_stopping_ is False  # "auto": too few entries


def test_default_blend_on_tiny_and_pandas_tables(tmp_path):
    # The recommended table imputer at its defaults, on what users pass it.
    tiny = np.array([[1.0, np.nan, 3.0], [np.nan, 5.0, np.nan], [7.0, np.nan, np.nan]])
    assert np.isfinite(BlendImputer(random_state=0).fit_transform(tiny)).all()
    cases = _inputs(tmp_path)
    for kind in ("DataFrame", "read_csv", "readonly", "memmap"):
        imputer = BlendImputer(random_state=0).set_output(transform="pandas")
        completed = imputer.fit_transform(cases[kind])
        assert isinstance(completed, pd.DataFrame)
        assert completed.notna().all().all()
        if kind in ("DataFrame", "read_csv"):
            assert list(completed.columns) == list("abcde")


@pytest.mark.parametrize("name", list(IMPUTERS))
@pytest.mark.parametrize("add_indicator", [False, True])
def test_set_output_pandas_and_polars_keep_the_column_names(name, add_indicator):
    frame = pd.DataFrame(_table(), columns=list("abcde"))
    imputer = IMPUTERS[name]().set_params(add_indicator=add_indicator)
    completed = imputer.set_output(transform="pandas").fit_transform(frame)
    assert isinstance(completed, pd.DataFrame)
    assert list(completed.columns[:5]) == list("abcde")
    assert list(completed.columns[5:]) == [
        f"missingindicator_{c}" for c in "abcde"[: len(completed.columns) - 5]
    ]
    pl = pytest.importorskip("polars")
    completed = imputer.set_output(transform="polars").fit_transform(frame)
    assert isinstance(completed, pl.DataFrame) and completed.columns[:5] == list(
        "abcde"
    )


@pytest.mark.parametrize("name", list(IMPUTERS))
def test_keep_empty_features_drops_or_completes_an_all_missing_column(name):
    X = _table()
    X[:, 2] = np.nan
    kept = IMPUTERS[name]().set_params(keep_empty_features=True).fit_transform(X)
    assert kept.shape == X.shape and np.isfinite(kept).all()
    imputer = IMPUTERS[name]().set_params(keep_empty_features=False)
    with pytest.warns(UserWarning, match=r"columns \[2\] have no observed entry"):
        dropped = imputer.fit(X)
    dropped = imputer.transform(X)
    assert dropped.shape == (12, 4)
    assert np.array_equal(dropped, np.delete(kept, 2, axis=1)) or name == "blend"
    names = imputer.get_feature_names_out()
    assert list(names) == ["x0", "x1", "x3", "x4"]


BAD_INPUTS = {
    "infinity": (np.array([[1.0, np.inf], [np.nan, 2.0]]), ValueError, "infinity"),
    "string": (np.array([["1", "a"], ["2", "3"]], dtype=object), TypeError, "number"),
    "all missing": (np.full((3, 3), np.nan), ValueError, "no observed entry"),
    "one dimension": (np.array([1.0, np.nan, 2.0]), ValueError, "2D"),
    "no rows": (np.empty((0, 3)), ValueError, "0 sample"),
    "three dimensions": (np.ones((2, 2, 2)), ValueError, "dim"),
}


@pytest.mark.parametrize("bad", list(BAD_INPUTS))
@pytest.mark.parametrize("name", list(IMPUTERS))
def test_bad_input_is_refused_naming_the_problem(name, bad):
    X, error, message = BAD_INPUTS[bad]
    with pytest.raises(error, match=message):
        IMPUTERS[name]().fit(X)


@pytest.mark.parametrize("name", list(IMPUTERS))
def test_sparse_input_and_mismatched_masks_are_refused(name):
    sparse = pytest.importorskip("scipy.sparse")
    X = _table()
    with pytest.raises(TypeError, match="dense"):
        IMPUTERS[name]().fit(sparse.csr_matrix(np.nan_to_num(X)))
    with pytest.raises(ValueError, match="mask has shape"):
        IMPUTERS[name]().fit(X, mask=np.ones((3, 3), dtype=bool))


@pytest.mark.parametrize("name", list(IMPUTERS))
def test_a_mask_hides_observed_values_in_fit_and_transform(name):
    X = np.nan_to_num(_table(), nan=1.0)
    observed = np.random.default_rng(1).random(X.shape) > 0.3
    imputer = IMPUTERS[name]().fit(X, mask=observed)
    completed = imputer.transform(X)  # the fitted matrix: the fitted mask applies
    assert np.array_equal(completed[observed], X[observed])
    assert not np.array_equal(completed[~observed], X[~observed])
    assert np.array_equal(imputer.transform(X, mask=np.ones_like(observed)), X)


@pytest.mark.parametrize("name", ["inr", "dmf"])
def test_wild_completions_without_early_stopping_warn(name):
    X = _table()
    absurd = dict(learning_rate_init=1.0, early_stopping=False, max_iter=200)
    if name == "dmf":
        absurd["init_scale"] = 10.0
    imputer = IMPUTERS[name]().set_params(**absurd)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            completed = imputer.fit_transform(X)
        except FloatingPointError:
            return  # refused outright: also a clear outcome
    observed = ~np.isnan(X)
    span = np.nanmax(X) - np.nanmin(X)
    wild = np.abs(completed[~observed] - np.nanmean(X)).max() > 10 * span
    warned = any("diverged" in str(w.message) for w in caught)
    assert warned or not wild


def test_subnormal_data_completes():
    X = np.full((6, 4), 5e-324)
    X[::2, 1] = 1e-323
    X[1, 2] = np.nan
    for make in (IMPUTERS["dmf"], IMPUTERS["inr"], SoftImputer):
        completed = make().fit_transform(X)
        assert np.isfinite(completed).all() and completed[1, 2] >= 0


@pytest.mark.parametrize("make", [InpaintImputer, BlendImputer])
@pytest.mark.parametrize("n_jobs", [0, 1.5, "2"])
def test_n_jobs_zero_or_not_an_int_is_refused_by_name(make, n_jobs):
    # joblib takes None, -1, -2, ... or a positive count; 0 means nothing.
    X = np.arange(16.0).reshape(4, 4)
    X[1, 1] = np.nan
    with pytest.raises(ValueError, match="'n_jobs' parameter"):
        make(n_jobs=n_jobs).fit(X)
