"""AIR: the authors' earlier learned Laplacian, a free k x k matrix per side."""

from numbers import Integral, Real

import torch
from torch import Tensor, nn

from inrr_sklearn._utils import Interval
from inrr_sklearn.regularizers._base import BaseRegularizer, Penalty
from inrr_sklearn.regularizers._graph import dirichlet_energy_dense, unfold


class _FreeAdjacency(nn.Module):
    """A free k x k parameter per side; ``adjacency()`` is the symmetrised row-softmin."""

    def __init__(self, n_items):
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(n_items, n_items))

    def adjacency(self) -> Tensor:
        S = torch.softmax(-self.weight, dim=1)
        return 0.5 * (S + S.t())


class AIR(BaseRegularizer):
    """Adaptive and implicit regularization (the authors' earlier learned Laplacian).

    Each side has a free :math:`k \\times k` matrix :math:`W`;
    :math:`A = \\tfrac12(S + S^\\top)` with :math:`S` the row-wise softmin of :math:`W`
    (diagonal zeroed) and the penalty is :math:`\\mathrm{tr}(X^\\top L X) / (k n)`. It has
    :math:`k^2 + n^2` parameters and forms dense k x k matrices: use it for small
    matrices only (``INRR`` is its factored, smooth successor).

    Parameters
    ----------
    alpha_row : float, default=1e-3
        Weight of the row penalty (1e-2 and 1e-1 measured worse than none).
    alpha_col : float, default=1e-3
        Weight of the column penalty.
    learning_rate_init : float, default=1e-3
        Adam learning rate of the free matrices.
    max_size : int, default=4096
        Largest side accepted (memory grows as ``max_size**2``).

    Notes
    -----
    Rows of :math:`S` sum to one, so degrees are about one and :math:`1/(k n)` makes the
    energy a per-entry mean.

    References
    ----------
    Z. Li, H. Wang, D. Meng. "Adaptive and implicit regularization for matrix
    completion". SIAM J. Imaging Sciences, 2022.

    Examples
    --------
    >>> from inrr_sklearn import AIR, DMFImputer
    >>> imp = DMFImputer(reg=AIR(alpha_row=1e-2))
    >>> imp.get_params()["reg__alpha_row"]
    0.01
    """

    _parameter_constraints: dict = {
        "alpha_row": [Interval(Real, 0, None, closed="left")],
        "alpha_col": [Interval(Real, 0, None, closed="left")],
        "learning_rate_init": [Interval(Real, 0, None, closed="neither")],
        "max_size": [Interval(Integral, 1, None, closed="left")],
    }

    def __init__(
        self, *, alpha_row=1e-3, alpha_col=1e-3, learning_rate_init=1e-3, max_size=4096
    ):
        self.alpha_row = alpha_row
        self.alpha_col = alpha_col
        self.learning_rate_init = learning_rate_init
        self.max_size = max_size

    def _build_penalty(self, shape, n_observed, generator):
        if max(shape[:2]) > self.max_size:
            raise ValueError(
                f"AIR needs a {max(shape[:2])} x {max(shape[:2])} matrix of parameters "
                f"for a matrix of shape {tuple(shape)}, above max_size={self.max_size}. "
                "Use INRR (factored, no k x k matrix) or raise max_size."
            )
        return _AIRPenalty(
            shape[:2], (self.alpha_row, self.alpha_col), self.learning_rate_init
        )


class _AIRPenalty(Penalty):
    def __init__(self, sizes, alphas, learning_rate) -> None:
        super().__init__()
        self.row, self.col = (_FreeAdjacency(k) for k in sizes)
        self.alphas = tuple(float(a) for a in alphas)
        self.learning_rate = learning_rate

    def forward(self, X: Tensor, model: nn.Module) -> Tensor:
        total = X.new_zeros(())
        for mode, (side, alpha) in enumerate(
            zip((self.row, self.col), self.alphas, strict=True)
        ):
            if alpha > 0:
                energy = dirichlet_energy_dense(unfold(X, mode), side.adjacency())
                total = total + alpha / X.numel() * energy
        return total
