"""scikit-learn's estimator checks on fast instances."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from inrr_sklearn import INRR, DMFImputer, INRImputer
from tests.conftest import FAST_DMF, FAST_INR, FAST_INRR

_OBJECT = "object arrays are rejected with a TypeError by design (issue #2, bad input)"


def _expected_failed_checks(estimator):
    return {"check_dtype_object": _OBJECT}


@parametrize_with_checks(
    [
        INRImputer(**FAST_INR),
        INRImputer(reg=INRR(**FAST_INRR), **FAST_INR),
        INRImputer(reg=INRR(energy="l1", **FAST_INRR), **FAST_INR),
        DMFImputer(**FAST_DMF),
        DMFImputer(reg=INRR(**FAST_INRR), **FAST_DMF),
        DMFImputer(add_indicator=True, record_every=2, **FAST_DMF),
    ],
    expected_failed_checks=_expected_failed_checks,
)
def test_sklearn_compatible(estimator, check):
    check(estimator)
