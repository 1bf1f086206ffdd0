"""TV: total variation of the completed matrix."""

import math
from numbers import Real

import torch
from torch import Tensor, nn

from inrr_sklearn._utils import Interval, StrOptions
from inrr_sklearn.regularizers._base import BaseRegularizer, Penalty


class TV(BaseRegularizer):
    """Total variation of the completed matrix (first-order differences).

    Parameters
    ----------
    alpha : float, default=1e-4
        Weight (measured best of 1e-5 / 1e-4 / 3e-4 / 1e-3 / 1e-2, ``docs/defaults.md``).
    kind : {"anisotropic", "isotropic"}, default="anisotropic"
        ``"anisotropic"`` sums absolute differences along rows and along columns (L1);
        ``"isotropic"`` sums the Euclidean norm of the discrete gradient.
    eps : float, default=1e-8
        Smoothing inside the square root of the isotropic form (keeps it differentiable).

    Notes
    -----
    With :math:`\\Delta_r X_{ij} = X_{i+1,j} - X_{ij}` and
    :math:`\\Delta_c X_{ij} = X_{i,j+1} - X_{ij}` on a k x n matrix:

    .. math::
        \\mathrm{TV}_\\text{aniso}(X) = \\frac1n \\sum_{ij} |\\Delta_r X_{ij}|
            + \\frac1k \\sum_{ij} |\\Delta_c X_{ij}|, \\qquad
        \\mathrm{TV}_\\text{iso}(X) = \\frac{1}{\\sqrt{kn}} \\sum_{i<k, j<n}
            \\sqrt{\\Delta_r X_{ij}^2 + \\Delta_c X_{ij}^2 + \\varepsilon}.

    Both approximate :math:`\\tfrac12\\int |\\nabla f|` of the image on a fixed domain, so
    a weight means the same at every resolution. (The authors' "TV" baseline is the
    unsquared norm of a 5-point Laplacian; this class is true total variation.)

    Examples
    --------
    >>> import torch
    >>> from inrr_sklearn import TV
    >>> ramp = torch.linspace(0, 1, 5).repeat(5, 1)  # rises by 1 along each row
    >>> penalty = TV(alpha=1.0).build((5, 5), n_observed=25,
    ...                               generator=torch.Generator())
    >>> round(float(penalty(ramp, model=None)), 6)  # 5 rows x 1 / k
    1.0
    """

    _parameter_constraints: dict = {
        "alpha": [Interval(Real, 0, None, closed="left")],
        "kind": [StrOptions({"anisotropic", "isotropic"})],
        "eps": [Interval(Real, 0, None, closed="left")],
    }

    def __init__(self, *, alpha=1e-4, kind="anisotropic", eps=1e-8):
        self.alpha = alpha
        self.kind = kind
        self.eps = eps

    def _build_penalty(self, shape, n_observed, generator):
        return _TVPenalty(self.alpha, self.kind, self.eps)


class _TVPenalty(Penalty):
    any_shape = True  # (an integral over the domain, at any resolution)

    def __init__(self, alpha, kind, eps) -> None:
        super().__init__()
        self.alpha, self.kind, self.eps = float(alpha), kind, float(eps)

    def forward(self, X: Tensor, model: nn.Module) -> Tensor:
        k, n = X.shape[:2]
        channels = X.numel() // (k * n)  # 1 for a matrix; summed over channels
        d_row = X[1:, :] - X[:-1, :]
        d_col = X[:, 1:] - X[:, :-1]
        if self.kind == "anisotropic":
            tv = (d_row.abs().sum() / n + d_col.abs().sum() / k) / channels
        else:
            grad_sq = d_row[:, :-1] ** 2 + d_col[:-1, :] ** 2
            tv = torch.sqrt(grad_sq + self.eps).sum() / (math.sqrt(k * n) * channels)
        return self.alpha * tv
