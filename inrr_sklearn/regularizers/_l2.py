"""L2: weight decay on the main model."""

from numbers import Real

from torch import Tensor, nn

from inrr_sklearn._utils import Interval
from inrr_sklearn.regularizers._base import BaseRegularizer, Penalty


class L2(BaseRegularizer):
    """Squared L2 norm of the main model's weights (weight decay).

    Parameters
    ----------
    alpha : float, default=1e-6
        Weight (measured best of 1e-6 / 1e-5 / 1e-4, ``docs/defaults.md``).

    Notes
    -----
    :math:`R(\\theta) = \\sum_{W} \\|W\\|_F^2` over every weight matrix of the main model
    (biases excluded). It does not depend on the matrix size.

    Examples
    --------
    >>> from inrr_sklearn import L2, DMFImputer
    >>> imp = DMFImputer(reg=L2(alpha=1e-5))
    >>> imp.set_params(reg__alpha=1e-4).reg
    L2(alpha=0.0001)
    """

    _parameter_constraints: dict = {"alpha": [Interval(Real, 0, None, closed="left")]}

    def __init__(self, *, alpha=1e-6):
        self.alpha = alpha

    def _build_penalty(self, shape, n_observed, generator):
        return _L2Penalty(self.alpha)


class _L2Penalty(Penalty):
    any_shape = True  # a penalty on the weights: the same whatever X is

    def __init__(self, alpha) -> None:
        super().__init__()
        self.alpha = float(alpha)

    def forward(self, X: Tensor, model: nn.Module) -> Tensor:
        total = X.new_zeros(())
        for name, param in model.named_parameters():
            if not name.endswith("bias"):
                total = total + (param * param).sum()
        return self.alpha * total
