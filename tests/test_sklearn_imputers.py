"""scikit-learn's own imputer tests, run over our imputers.

The test functions are imported from the installed scikit-learn
(``sklearn/impute/tests``), not copied: each one is called with our imputers in place
of scikit-learn's list. Our instances are fast (tiny networks, few steps; the blend
with two fast candidates, its default candidates being tested in test_contract.py) and
otherwise at their defaults, except ``keep_empty_features=False`` where our default
differs (INR, DMF and inpainting keep an all-missing column of an image by default: it
is a hole to fill). A test that cannot apply is skipped with the documented
difference that rules it out.
"""

import functools
import warnings

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.impute.tests import test_common as sk_common
from sklearn.impute.tests import test_impute as sk_impute
from sklearn.utils.fixes import CSR_CONTAINERS

from inrr_sklearn import (
    INRR,
    BlendImputer,
    DMFImputer,
    InpaintImputer,
    INRImputer,
    SoftImputer,
)

FAST_INR = dict(hidden_layer_sizes=(8, 8), max_iter=20, device="cpu", random_state=0)
FAST_DMF = dict(max_iter=20, device="cpu", random_state=0)

CONSTRUCTORS = {
    "INRImputer": functools.partial(INRImputer, keep_empty_features=False, **FAST_INR),
    "INRImputer+INRR": functools.partial(
        INRImputer,
        reg=INRR(rank=4, hidden_layer_sizes=(8,)),
        keep_empty_features=False,
        **FAST_INR,
    ),
    "DMFImputer": functools.partial(DMFImputer, keep_empty_features=False, **FAST_DMF),
    "SoftImputer": SoftImputer,
    "BlendImputer": functools.partial(
        BlendImputer,
        [
            ("dmf", DMFImputer(**FAST_DMF)),
            ("soft", SoftImputer(keep_empty_features=True)),
        ],
        n_splits=2,
        random_state=0,
    ),
    "InpaintImputer": functools.partial(InpaintImputer, keep_empty_features=False),
}
IMPUTERS = [constructor() for constructor in CONSTRUCTORS.values()]
IDS = list(CONSTRUCTORS)

# Documented differences (docs/model_selection.md, "The imputer contract").
SPARSE = "sparse input is refused with a clear TypeError (documented): dense only"
NOTHING_OBSERVED = (
    "InpaintImputer inpaints each matrix from its own observed pixels; a matrix "
    "with none is refused with a clear ValueError (documented)"
)


@pytest.fixture(autouse=True)
def _quiet():
    # Tiny budgets on 4 x 5 tables: not converging, and the column-mean fallback,
    # are expected here; what the tests check is the contract.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.simplefilter("ignore", UserWarning)
        yield


@pytest.mark.parametrize("imputer", IMPUTERS, ids=IDS)
def test_imputation_missing_value_in_test_array(imputer):
    sk_common.test_imputation_missing_value_in_test_array(clone(imputer))


@pytest.mark.parametrize("marker", [np.nan, -1, 0])
@pytest.mark.parametrize("imputer", IMPUTERS, ids=IDS)
def test_imputers_add_indicator(marker, imputer):
    sk_common.test_imputers_add_indicator(marker, clone(imputer))


@pytest.mark.parametrize("marker", [np.nan, -1])
@pytest.mark.parametrize("csr_container", CSR_CONTAINERS)
@pytest.mark.parametrize("imputer", IMPUTERS, ids=IDS)
def test_imputers_add_indicator_sparse(imputer, marker, csr_container):
    pytest.skip(SPARSE)


@pytest.mark.parametrize("add_indicator", [True, False])
@pytest.mark.parametrize("imputer", IMPUTERS, ids=IDS)
def test_imputers_pandas_na_integer_array_support(imputer, add_indicator):
    sk_common.test_imputers_pandas_na_integer_array_support(
        clone(imputer), add_indicator
    )


@pytest.mark.parametrize("add_indicator", [True, False])
@pytest.mark.parametrize("imputer", IMPUTERS, ids=IDS)
def test_imputers_feature_names_out_pandas(imputer, add_indicator):
    sk_common.test_imputers_feature_names_out_pandas(clone(imputer), add_indicator)


@pytest.mark.parametrize("keep_empty_features", [True, False])
@pytest.mark.parametrize("imputer", IMPUTERS, ids=IDS)
def test_keep_empty_features(imputer, keep_empty_features):
    sk_common.test_keep_empty_features(clone(imputer), keep_empty_features)


@pytest.mark.parametrize("missing_value_test", [np.nan, 1])
@pytest.mark.parametrize("imputer", IMPUTERS, ids=IDS)
def test_imputation_adds_missing_indicator_if_add_indicator_is_true(
    imputer, missing_value_test
):
    sk_common.test_imputation_adds_missing_indicator_if_add_indicator_is_true(
        clone(imputer), missing_value_test
    )


@pytest.mark.parametrize(
    "imputer_missing_values, missing_value, err_msg",
    [
        ("NaN", np.nan, "Input X contains NaN"),
        ("-1", -1, "types are expected to be both numerical."),
    ],
)
@pytest.mark.parametrize("name", IDS)
def test_inconsistent_dtype_X_missing_values(
    name, imputer_missing_values, missing_value, err_msg
):
    sk_impute.test_inconsistent_dtype_X_missing_values(
        CONSTRUCTORS[name], imputer_missing_values, missing_value, err_msg
    )


@pytest.mark.parametrize("name", IDS)
def test_imputer_without_indicator(name):
    sk_impute.test_imputer_without_indicator(CONSTRUCTORS[name])


@pytest.mark.parametrize("dtype_test", [np.float32, np.float64])
@pytest.mark.parametrize("name", IDS)
def test_imputer_transform_preserves_numeric_dtype(name, dtype_test, monkeypatch):
    if name == "InpaintImputer":
        pytest.skip(NOTHING_OBSERVED)
    # The test fits scikit-learn's SimpleImputer by name: put ours in its place.
    monkeypatch.setattr(sk_impute, "SimpleImputer", CONSTRUCTORS[name])
    sk_impute.test_imputer_transform_preserves_numeric_dtype(dtype_test)


def test_every_imputer_in_the_public_api_is_covered():
    import inrr_sklearn

    public = {
        name
        for name in inrr_sklearn.__all__
        if name.endswith("Imputer") and name != "BaseRegularizer"
    }
    covered = {type(imputer).__name__ for imputer in IMPUTERS}
    assert public == covered
