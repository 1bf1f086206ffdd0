"""Graph energies of a matrix on a learned similarity, and their unfoldings.

What INRR and AIR penalise: the Dirichlet energy :math:`\\mathrm{tr}(X^\\top L X)` of the
completed matrix on a row (or column) graph, in a factored form that never builds the
k x k adjacency when it is low-rank (:func:`dirichlet_energy_factored`), densely when
it is not (:func:`dirichlet_energy_dense`), and its L1 counterpart.
"""

import math

import numpy as np
import torch
from torch import Tensor


def unfold(X: Tensor, mode: int) -> Tensor:
    """Mode-``mode`` unfolding: ``(X.shape[mode], rest)`` (for 2-D X, mode 1 is X^T)."""
    return torch.movedim(X, mode, 0).reshape(X.shape[mode], -1)


def mode_scales(shape, rank):
    """INRR's :math:`r / (k_d^2 n_d)` per mode, :math:`n_d` the size of the rest."""
    total = math.prod(shape)
    return [rank / (shape[mode] * total) for mode in (0, 1)]


def dirichlet_energy_factored(X: Tensor, P: Tensor) -> Tensor:
    """:math:`\\mathrm{tr}(X^\\top L X)` for :math:`A = PP^\\top` with zero diagonal.

    Computed in :math:`O(k r n)` time and :math:`O(k r)` memory without forming the
    :math:`k \\times k` adjacency. With :math:`s = \\sum_j p_j`, :math:`q_i = \\|p_i\\|^2`,
    degrees :math:`d_i = p_i \\cdot s - q_i` and :math:`x_i = \\|X_{i,:}\\|^2`:

    .. math::
        \\mathrm{tr}(X^\\top L X) = \\sum_i d_i x_i
            - \\left(\\|P^\\top X\\|_F^2 - \\sum_i q_i x_i\\right).

    Parameters
    ----------
    X : Tensor of shape (..., k, n)
    P : Tensor of shape (..., k, r)
        Leading dimensions (a batch of matrices and their factors) broadcast.

    Returns
    -------
    energy : Tensor of shape (...)
        0-dim for one matrix.

    Examples
    --------
    >>> import torch
    >>> from inrr_sklearn.regularizers import dirichlet_energy_dense
    >>> X = torch.rand(7, 3, dtype=torch.float64)
    >>> P = torch.rand(7, 2, dtype=torch.float64)
    >>> A = P @ P.T - torch.diag(torch.diag(P @ P.T))
    >>> energies = dirichlet_energy_factored(X, P), dirichlet_energy_dense(X, A)
    >>> bool(torch.isclose(*energies))
    True
    """
    # The energy is unchanged by adding one vector to every row (L @ 1 = 0); centring the
    # columns first avoids cancellation between the two large terms in float32.
    X = X - X.mean(dim=-2, keepdim=True)
    row_sq = (X * X).sum(dim=-1)
    # d_i + q_i = p_i . s: the q_i terms of the degree and of tr(X^T A X) cancel.
    degree_plus_q = (P @ P.sum(dim=-2).unsqueeze(-1)).squeeze(-1)
    PtX = P.transpose(-1, -2) @ X
    return (degree_plus_q * row_sq).sum(dim=-1) - (PtX * PtX).sum(dim=(-2, -1))


def dirichlet_energy_dense(X: Tensor, A: Tensor) -> Tensor:
    """:math:`\\mathrm{tr}(X^\\top (D - A) X)` with a dense adjacency ``A`` (k x k).

    The reference formula; used by :class:`AIR` and by the tests of the factored form.
    """
    A = A - torch.diag(torch.diagonal(A))
    laplacian = torch.diag(A.sum(dim=1)) - A
    return torch.trace(X.t() @ laplacian @ X)


# INRR(energy="l1") forms k x k pairwise distances of n-vectors: k * k * n at most this.
L1_MAX_ELEMENTS = 2**27


def l1_energy_dense(X: Tensor, P: Tensor) -> Tensor:
    """:math:`\\tfrac12 \\sum_{i, i'} A_{ii'} \\|X_{i,:} - X_{i',:}\\|_1` for
    :math:`A = PP^\\top` (the diagonal does not contribute).

    The robust counterpart of :func:`dirichlet_energy_factored`: the pull between two
    similar rows has a constant size whatever their difference, as in total variation.
    It has no factored form: it forms the k x k adjacency and pairwise L1 distances
    (:math:`O(k^2 n)` time, :math:`O(k^2)` memory plus the distance backward).

    Parameters
    ----------
    X : Tensor of shape (k, n)
    P : Tensor of shape (k, r)

    Returns
    -------
    energy : 0-dim Tensor
    """
    return 0.5 * ((P @ P.t()) * torch.cdist(X, X, p=1.0)).sum()


def similarity_from_factor(P):
    """The adjacency :math:`A = P P^\\top` with a zero diagonal (k x k, numpy).

    Parameters
    ----------
    P : ndarray of shape (k, r)
        A factor recorded by :meth:`INRR.snapshot` (e.g. in ``history_``).

    Returns
    -------
    A : ndarray of shape (k, k)

    Examples
    --------
    >>> import numpy as np
    >>> similarity_from_factor(np.array([[1.0, 0.0], [0.5, 0.5]]))
    array([[0. , 0.5],
           [0.5, 0. ]])
    """
    A = P @ P.T
    np.fill_diagonal(A, 0.0)
    return A
