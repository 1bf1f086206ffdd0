"""Regularizers: penalties on the completed matrix (or on the model) that an imputer adds
to its data-fit term.

The contract
------------
A regularizer is a scikit-learn ``BaseEstimator`` that holds hyperparameters only, so
``clone``, ``get_params`` and ``GridSearchCV`` reach them as ``reg__<name>``. During
``fit`` the imputer clones it and calls one method:

``build(shape, *, n_observed, generator, previous=None) -> Penalty``
    A self-contained penalty module (a :class:`Penalty`, i.e. a ``torch.nn.Module``):
    its ``forward(X, model)`` returns the weighted penalty (a differentiable 0-dim
    tensor) of the completed matrix ``X`` (shape ``(n_rows, n_cols)``, or
    ``(n_rows, n_cols, n_channels)`` for multi-channel images, in the imputer's scaled
    units) and of the main ``model``. It owns its scales (buffers), its trainable
    parts (INRR's two tiny SIRENs, AIR's free matrices; initialised on CPU from
    ``generator``), their optimizer groups (``param_groups()``) and a
    ``snapshot()`` of its learned state for plots. ``previous``, a penalty built
    earlier by a regularizer of the same kind, makes the new one start from its
    learned state where the shapes allow (warm starts and refits on new rows).

The imputer keeps the built module as ``penalty_``, moves it to its device and adds
its output to the mean squared error over observed entries; penalties on the output
act along the two spatial modes and sum over channels. Names map to regularizers in
one place, :func:`make_regularizer` (``"inrr+tv"``).

Regularizers add up: ``INRR() + TV()`` is ``SumRegularizer(INRR(), TV())``, whose nested
parameters are ``first__alpha_row``, ``second__alpha`` and so on.

Normalisation
-------------
All penalties are scaled so that one ``alpha`` means the same strength whatever the
matrix size (a 64 x 64 and a 512 x 512 view of the same image get about the same
penalty). The data term is the mean squared error over observed entries. Weights live
on a log scale: search them with ``loguniform`` or a geometric grid.
"""

import math
from numbers import Integral, Real

import numpy as np
import torch
from sklearn.base import BaseEstimator
from torch import Tensor, nn

from inrr_sklearn._modules import SirenNet
from inrr_sklearn._utils import Interval, StrOptions, check_layer_sizes

__all__ = [
    "AIR",
    "INRR",
    "L2",
    "REGULARIZERS",
    "TV",
    "BaseRegularizer",
    "Penalty",
    "SumRegularizer",
    "make_regularizer",
    "similarity_from_factor",
]


class Penalty(nn.Module):
    """A built regularizer: ``forward(X, model)`` is the weighted penalty.

    Subclasses set ``learning_rate`` when they have trainable parameters and override
    ``snapshot`` when their learned state is worth plotting.

    Shape:
        - Input ``X``: ``(n_rows, n_cols)`` or ``(n_rows, n_cols, n_channels)``
        - Output: ``()`` (a scalar)
    """

    learning_rate = None

    def param_groups(self) -> list[dict]:
        """Optimizer parameter groups of the trainable parts (empty if none)."""
        params = [p for p in self.parameters() if p.requires_grad]
        if not params:
            return []
        return [{"params": params, "lr": self.learning_rate}]

    def snapshot(self) -> dict:
        """Numpy copies of the learned state worth plotting (empty by default)."""
        return {}

    def start_from(self, previous: "Penalty | None") -> None:
        """Copy the learned parameters of ``previous`` whose names and shapes match."""
        if previous is None:
            return
        learned = dict(previous.named_parameters())
        with torch.no_grad():
            for name, param in self.named_parameters():
                old = learned.get(name)
                if old is not None and old.shape == param.shape:
                    param.copy_(old)


class BaseRegularizer(BaseEstimator):
    """Base class for regularizers (see the module docstring for the contract).

    Subclasses define ``__init__`` with keyword hyperparameters only and implement
    ``_build_penalty(shape, n_observed, generator)`` returning a :class:`Penalty`.
    """

    _parameter_constraints: dict = {}

    def build(self, shape, *, n_observed, generator, previous=None):
        """The penalty module for a matrix of ``shape`` (validates the parameters).

        Parameters
        ----------
        shape : tuple of int
            ``(n_rows, n_cols)`` or ``(n_rows, n_cols, n_channels)``.
        n_observed : int
            Number of observed entries used in the data term.
        generator : torch.Generator
            Source of randomness for the initialisation (CPU).
        previous : Penalty or None, default=None
            A penalty built before; the new one starts from its learned parameters
            where names and shapes match.

        Returns
        -------
        penalty : Penalty

        Examples
        --------
        >>> import torch
        >>> from inrr_sklearn import TV
        >>> penalty = TV(alpha=1.0).build((2, 2), n_observed=4,
        ...                               generator=torch.Generator())
        >>> X = torch.tensor([[0.0, 1.0], [0.0, 1.0]])
        >>> float(penalty(X, model=None))  # |1 - 0| on each row, / k = 2 rows
        1.0
        """
        self._validate_params()
        penalty = self._build_penalty(tuple(shape), n_observed, generator)
        penalty.start_from(previous)
        return penalty

    def _build_penalty(self, shape, n_observed, generator):
        raise NotImplementedError

    def __add__(self, other):
        if not isinstance(other, BaseRegularizer):
            return NotImplemented
        return SumRegularizer(self, other)


class _SumPenalty(Penalty):
    def __init__(self, first: Penalty, second: Penalty) -> None:
        super().__init__()
        self.first = first
        self.second = second

    def forward(self, X: Tensor, model: nn.Module) -> Tensor:
        return self.first(X, model) + self.second(X, model)

    def param_groups(self) -> list[dict]:
        return self.first.param_groups() + self.second.param_groups()

    def snapshot(self) -> dict:
        return {
            f"{name}__{key}": value
            for name in ("first", "second")
            for key, value in getattr(self, name).snapshot().items()
        }


class SumRegularizer(BaseRegularizer):
    """The sum of two regularizers, ``first + second``.

    Usually written ``INRR() + TV()``. Nested parameters stay searchable:
    ``reg__first__alpha_row``, ``reg__second__alpha``.

    Parameters
    ----------
    first, second : BaseRegularizer
        The two terms.

    Examples
    --------
    >>> from inrr_sklearn import INRR, TV, INRImputer
    >>> imp = INRImputer(reg=INRR() + TV(alpha=1e-3))
    >>> imp.set_params(reg__second__alpha=1e-2).reg.second
    TV(alpha=0.01)
    """

    _parameter_constraints: dict = {
        "first": [BaseRegularizer],
        "second": [BaseRegularizer],
    }

    def __init__(self, first, second):
        self.first = first
        self.second = second

    def _build_penalty(self, shape, n_observed, generator):
        return _SumPenalty(
            *(
                reg.build(shape, n_observed=n_observed, generator=generator)
                for reg in (self.first, self.second)
            )
        )


# ----------------------------------------------------------------------------- INRR


def unfold(X: Tensor, mode: int) -> Tensor:
    """Mode-``mode`` unfolding: ``(X.shape[mode], rest)`` (for 2-D X, mode 1 is X^T)."""
    return torch.movedim(X, mode, 0).reshape(X.shape[mode], -1)


def _mode_scales(shape, rank):
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
    X : Tensor of shape (k, n)
    P : Tensor of shape (k, r)

    Returns
    -------
    energy : 0-dim Tensor

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
    X = X - X.mean(dim=0, keepdim=True)
    row_sq = (X * X).sum(dim=1)
    # d_i + q_i = p_i . s: the q_i terms of the degree and of tr(X^T A X) cancel.
    degree_plus_q = P @ P.sum(dim=0)
    PtX = P.t() @ X
    return degree_plus_q @ row_sq - (PtX * PtX).sum()


def dirichlet_energy_dense(X: Tensor, A: Tensor) -> Tensor:
    """:math:`\\mathrm{tr}(X^\\top (D - A) X)` with a dense adjacency ``A`` (k x k).

    The reference formula; used by :class:`AIR` and by the tests of the factored form.
    """
    A = A - torch.diag(torch.diagonal(A))
    laplacian = torch.diag(A.sum(dim=1)) - A
    return torch.trace(X.t() @ laplacian @ X)


# INRR(energy="l1") forms k x k pairwise distances of n-vectors: k * k * n at most this.
_L1_MAX_ELEMENTS = 2**27


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


class _SimilarityINR(nn.Module):
    """Tiny SIREN mapping each index coordinate in [-1, 1] to a probability vector.

    Shape:
        - Output of ``probabilities()``: ``(k, rank)``, rows on the simplex.
    """

    def __init__(self, n_items, hidden_layer_sizes, rank, omega_0, hidden_omega_0):
        super().__init__()
        self.register_buffer("coords", torch.linspace(-1.0, 1.0, n_items).unsqueeze(1))
        self.net = SirenNet(
            1, hidden_layer_sizes, rank, omega_0, hidden_omega_0, fused=False
        )

    def probabilities(self) -> Tensor:
        return torch.softmax(self.net(self.coords), dim=1)


class INRR(BaseRegularizer):
    """Implicit neural representation regularizer (Li, Wang and Meng, CVPR 2023).

    Two tiny SIRENs learn a row similarity and a column similarity from the index
    coordinates alone; the penalty is the Dirichlet energy of the completed matrix on
    those graphs, so rows (columns) the tiny networks find similar are pulled together.
    The tiny networks train jointly with the main model, on the same loss.

    Parameters
    ----------
    alpha_row : float, default=1e-2
        Weight of the row penalty.
    alpha_col : float, default=1e-2
        Weight of the column penalty.
    rank : int, default=32
        Output width :math:`r` of each tiny SIREN (the rank of :math:`A`). The authors
        use 256; 32 forces rows to share similarity groups and measured better within
        a CPU budget (see ``docs/defaults.md``).
    hidden_layer_sizes : tuple of int, default=(32, 32, 32, 32, 32)
        Sine layer widths of each tiny SIREN.
    omega_0 : float, default=5.0
        Frequency factor of the tiny SIRENs' first layer.
    hidden_omega_0 : float, default=1.0
        Frequency factor of their other layers.
    learning_rate_init : float, default=1e-2
        Adam learning rate of the tiny SIRENs (the authors use 1e-4 with 10,000 steps;
        1e-2 lets the similarity form within a CPU budget of ~1,000 steps).
    normalize : bool, default=True
        Scale each energy by :math:`r / (k^2 n)` (see Notes). ``False`` uses the authors'
        convention, in which ``alpha_row = alpha_col = 1e-6`` is their setting.
    energy : {"dirichlet", "l1"}, default="dirichlet"
        ``"dirichlet"``: the paper's penalty, squared differences between similar rows,
        in a factored form that scales to any k. ``"l1"``: absolute differences instead
        (:func:`l1_energy_dense`), a total-variation-like pull of constant size that
        removes small ripples without blurring edges; it forms k x k matrices, so it is
        for images (``k^2 n`` at most ``2**27`` per side, e.g. 512 x 512), not for
        tall tables. An extension of ours, not the paper's; measured in
        ``docs/replication.md``.
    init : {"default", "paper"}, default="default"
        Initialisation of the tiny SIRENs (see :class:`INRImputer`'s ``init``).
        ``"paper"``, the authors' layer, draws the output layer (32 -> r) from
        :math:`U(\\pm\\sqrt{6/32}) = U(\\pm 0.433)` instead of ``torch.nn.Linear``'s
        :math:`U(\\pm 0.177)`: a sharper initial softmax.

    Notes
    -----
    For rows (k rows, n columns) with :math:`p_i = \\mathrm{softmax}(f(u_i))`,
    :math:`u_i` the row coordinate in [-1, 1] and :math:`f` the tiny SIREN:

    .. math::
        A = P P^\\top - \\mathrm{diag}(P P^\\top), \\quad L = \\mathrm{diag}(A\\mathbf 1) - A,
        \\quad R_\\text{row}(X) = c\\,\\mathrm{tr}(X^\\top L X)
        = \\frac{c}{2} \\sum_{i, i'} A_{ii'} \\|X_{i,:} - X_{i',:}\\|^2 ,

    computed in the factored form of :func:`dirichlet_energy_factored` (no k x k matrix).
    Columns use :math:`X^\\top` and their own tiny SIREN. With ``normalize=True``,
    :math:`c = r / (k^2 n)`: when :math:`A` is uniform (at initialisation) the penalty
    equals the mean squared difference between rows per entry, whatever k, n and r.
    The authors weight the raw trace against a data term divided by :math:`m n`
    (all entries); with :math:`\\rho` the observed fraction, their
    ``alpha = 1e-6`` corresponds to ``alpha = 1e-6 * k^2 n / (rho r)`` here (0.13 at
    256 x 256, r = 256, 50 % observed). ``normalize=False`` reproduces their weighting
    exactly: :math:`c = m n / |\\Omega|`. With ``energy="l1"`` the squared norm becomes
    the L1 norm, :math:`\\frac{c}{2} \\sum_{i, i'} A_{ii'} \\|X_{i,:} - X_{i',:}\\|_1`,
    with the same :math:`c`.

    References
    ----------
    Z. Li, H. Wang, D. Meng. "Regularize implicit neural representation by itself".
    CVPR 2023, arXiv:2303.15484.

    Examples
    --------
    >>> import torch
    >>> from inrr_sklearn import INRR
    >>> reg = INRR(alpha_row=0.1, rank=4, hidden_layer_sizes=(8,))
    >>> penalty = reg.build((6, 5), n_observed=20, generator=torch.Generator())
    >>> penalty.similarity("row").shape
    (6, 6)
    >>> INRR.paper().rank
    256
    """

    _parameter_constraints: dict = {
        "alpha_row": [Interval(Real, 0, None, closed="left")],
        "alpha_col": [Interval(Real, 0, None, closed="left")],
        "rank": [Interval(Integral, 1, None, closed="left")],
        "hidden_layer_sizes": ["array-like"],
        "omega_0": [Interval(Real, 0, None, closed="neither")],
        "hidden_omega_0": [Interval(Real, 0, None, closed="neither")],
        "learning_rate_init": [Interval(Real, 0, None, closed="neither")],
        "normalize": ["boolean"],
        "energy": [StrOptions({"dirichlet", "l1"})],
        "init": [StrOptions({"default", "paper"})],
    }

    def __init__(
        self,
        *,
        alpha_row=1e-2,
        alpha_col=1e-2,
        rank=32,
        hidden_layer_sizes=(32, 32, 32, 32, 32),
        omega_0=5.0,
        hidden_omega_0=1.0,
        learning_rate_init=1e-2,
        normalize=True,
        energy="dirichlet",
        init="default",
    ):
        self.alpha_row = alpha_row
        self.alpha_col = alpha_col
        self.rank = rank
        self.hidden_layer_sizes = hidden_layer_sizes
        self.omega_0 = omega_0
        self.hidden_omega_0 = hidden_omega_0
        self.learning_rate_init = learning_rate_init
        self.normalize = normalize
        self.energy = energy
        self.init = init

    @classmethod
    def paper(cls, **overrides):
        """INRR as the authors run it: r = 256, tiny net 32 x 5, omega_0 5, lr 1e-4,
        weights 1e-6 in their (unnormalised) convention, their initialisation."""
        params = dict(
            alpha_row=1e-6,
            alpha_col=1e-6,
            rank=256,
            hidden_layer_sizes=(32,) * 5,
            omega_0=5.0,
            hidden_omega_0=1.0,
            learning_rate_init=1e-4,
            normalize=False,
            init="paper",
        )
        params.update(overrides)
        return cls(**params)

    def _build_penalty(self, shape, n_observed, generator):
        if self.energy == "l1":
            n_entries = math.prod(shape)
            for side, k in (("row", shape[0]), ("column", shape[1])):
                if k * n_entries > _L1_MAX_ELEMENTS:
                    raise ValueError(
                        f"INRR(energy='l1') compares every pair of {side}s: {k} x {k} "
                        f"pairs of {n_entries // k} entries exceed {_L1_MAX_ELEMENTS:,} "
                        "elements. Use energy='dirichlet' (factored, any size)."
                    )
        sizes = check_layer_sizes(self.hidden_layer_sizes, "INRR's hidden_layer_sizes")
        if self.normalize:
            scales = _mode_scales(shape, self.rank)
        else:
            scales = [math.prod(shape) / n_observed] * 2
        penalty = _INRRPenalty(
            shape, sizes, self.rank, self.omega_0, self.hidden_omega_0,
            alphas=(self.alpha_row, self.alpha_col), scales=scales,
            energy=self.energy, learning_rate=self.learning_rate_init,
        )  # fmt: skip
        for side in (penalty.row, penalty.col):
            side.net.reset_parameters(generator, self.init)
        return penalty


class _INRRPenalty(Penalty):
    """INRR built for one matrix: a similarity INR per side and their energies.

    ``scales`` holds the normalisation :math:`c` of each side; ``alphas`` the weights.
    """

    def __init__(
        self, shape, hidden_layer_sizes, rank, omega_0, hidden_omega_0, *,
        alphas, scales, energy, learning_rate,
    ) -> None:  # fmt: skip
        super().__init__()
        self.row, self.col = (
            _SimilarityINR(k, hidden_layer_sizes, rank, omega_0, hidden_omega_0)
            for k in shape[:2]
        )
        self.alphas = tuple(float(a) for a in alphas)
        self.register_buffer("scales", torch.tensor(scales, dtype=torch.float32))
        self.energy = energy
        self.learning_rate = learning_rate

    def forward(self, X: Tensor, model: nn.Module) -> Tensor:
        energy = l1_energy_dense if self.energy == "l1" else dirichlet_energy_factored
        total = X.new_zeros(())
        for mode, (side, alpha) in enumerate(
            zip((self.row, self.col), self.alphas, strict=True)
        ):
            if alpha > 0:
                P = side.probabilities()
                total = total + alpha * self.scales[mode] * energy(unfold(X, mode), P)
        return total

    def snapshot(self) -> dict:
        """The factors :math:`P` (k x r, rows on the simplex) of both similarities.

        Keys ``"row"`` and ``"col"``; :func:`similarity_from_factor` turns one into
        :math:`A`. Stored instead of :math:`A` so that a history costs O(k r), not k².
        """
        with torch.no_grad():
            return {
                name: side.probabilities().double().cpu().numpy()
                for name, side in (("row", self.row), ("col", self.col))
            }

    def similarity(self, side="row"):
        """The learned adjacency :math:`A` (zero diagonal) as numpy.

        Forms the k x k matrix: for inspection and plots, not for training.
        """
        return similarity_from_factor(self.snapshot()[side])

    def extra_repr(self) -> str:
        return f"alphas={self.alphas}, energy={self.energy!r}"


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


# ----------------------------------------------------------------------------- AIR


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


# ----------------------------------------------------------------------------- TV


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


# ----------------------------------------------------------------------------- L2


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
    def __init__(self, alpha) -> None:
        super().__init__()
        self.alpha = float(alpha)

    def forward(self, X: Tensor, model: nn.Module) -> Tensor:
        total = X.new_zeros(())
        for name, param in model.named_parameters():
            if not name.endswith("bias"):
                total = total + (param * param).sum()
        return self.alpha * total


# ----------------------------------------------------------------------------- names

#: Regularizer names accepted by :func:`make_regularizer` (and so by
#: ``image_imputer``, the CLI's ``--method`` and the benchmarks).
REGULARIZERS = {"l2": L2, "tv": TV, "air": AIR, "inrr": INRR}


def make_regularizer(name, **params):
    """A regularizer from its name; ``"inrr+tv"`` sums several.

    Parameters
    ----------
    name : str or None
        One or more of ``"l2"``, ``"tv"``, ``"air"``, ``"inrr"`` joined by ``"+"``
        (case-insensitive); ``None``, ``""`` or ``"none"`` mean no regularizer.
    **params
        Hyperparameters for a single regularizer (e.g. ``alpha_row=0.1``).

    Returns
    -------
    reg : BaseRegularizer or None

    Examples
    --------
    >>> from inrr_sklearn.regularizers import make_regularizer
    >>> make_regularizer("inrr+tv")
    SumRegularizer(first=INRR(), second=TV())
    >>> make_regularizer("tv", alpha=1e-3)
    TV(alpha=0.001)
    """
    if name is None or name.strip().lower() in ("", "none"):
        if params:
            raise ValueError(f"no regularizer to take the parameters {sorted(params)}.")
        return None
    names = [part.strip() for part in name.lower().split("+")]
    unknown = [part for part in names if part not in REGULARIZERS]
    if unknown:
        raise ValueError(
            f"unknown regularizer {unknown[0]!r} in {name!r}: use names from "
            f"{sorted(REGULARIZERS)} joined by '+', e.g. 'inrr+tv'."
        )
    if params and len(names) > 1:
        raise ValueError(
            "parameters apply to a single regularizer; build a sum with '+' on "
            "objects instead, e.g. INRR(alpha_row=0.1) + TV(alpha=1e-3)."
        )
    regs = [REGULARIZERS[part](**params) for part in names]
    total = regs[0]
    for reg in regs[1:]:
        total = total + reg
    return total
