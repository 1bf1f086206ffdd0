"""scikit-learn's estimator checks on fast instances."""

from sklearn.impute import KNNImputer
from sklearn.utils.estimator_checks import parametrize_with_checks

from inrr_sklearn import (
    INRR,
    BlendImputer,
    DMFImputer,
    InpaintImputer,
    INRImputer,
    SoftImputer,
)
from tests.conftest import FAST_DMF, FAST_INR, FAST_INRR


@parametrize_with_checks(
    [
        INRImputer(**FAST_INR),
        INRImputer(reg=INRR(**FAST_INRR), **FAST_INR),
        INRImputer(reg=INRR(energy="l1", **FAST_INRR), **FAST_INR),
        DMFImputer(**FAST_DMF),
        DMFImputer(reg=INRR(**FAST_INRR), **FAST_DMF),
        DMFImputer(add_indicator=True, record_every=2, **FAST_DMF),
        BlendImputer([("dmf", DMFImputer(**FAST_DMF)), ("knn", KNNImputer())]),
        BlendImputer(
            [("dmf", DMFImputer(**FAST_DMF)), ("knn", KNNImputer())], holdout="mask"
        ),
        SoftImputer(),
        InpaintImputer(),
        InpaintImputer("telea"),
        InpaintImputer("auto", refine=True, random_state=0),
    ],
)
def test_sklearn_compatible(estimator, check):
    check(estimator)
