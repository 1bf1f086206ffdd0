"""``inrr_sklearn.image.image_imputer``: method names to configured imputers."""

import pytest

from inrr_sklearn import INRR, TV, DMFImputer, INRImputer
from inrr_sklearn.image import IMAGE_METHODS, image_imputer
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
    assert isinstance(reg.first, INRR) and isinstance(reg.second, TV)


@pytest.mark.parametrize("method", ["", "cnn", "inr+", "inr+tvv", "dmf+inrr+"])
def test_unknown_names_are_refused(method):
    with pytest.raises(ValueError, match="unknown method"):
        image_imputer(method)
