"""INRR: two tiny SIRENs learn the row and column similarities of the matrix."""

import math
from numbers import Integral, Real

import torch
from torch import Tensor, nn

from inrr_sklearn._utils import Interval, StrOptions, check_layer_sizes
from inrr_sklearn.nn import SirenStack
from inrr_sklearn.regularizers._base import BaseRegularizer, Penalty
from inrr_sklearn.regularizers._graph import (
    L1_MAX_ELEMENTS,
    dirichlet_energy_factored,
    l1_energy_dense,
    mode_scales,
    similarity_from_factor,
    unfold,
)


class _SimilarityINRs(nn.Module):
    """The row and the column tiny SIREN, mapping index coordinates in [-1, 1] to
    probability vectors: :math:`p_i = \\mathrm{softmax}(f(u_i))`.

    Both networks are one :class:`~inrr_sklearn.nn.SirenStack` of two. When the two
    sides have the same number of items (square images, the paper's setting) one
    batched pass evaluates both; otherwise each side runs on its own.

    Shape:
        - ``coords``: ``(2, max(k_row, k_col), 1)``; side ``s`` reads its first
          ``k_s`` (zeros pad the shorter side)
        - Output of ``probabilities()``: ``(2, k, rank)`` when both sides have ``k``
          items and both are asked for, else a tuple of ``(k_s, rank)`` (None for a
          side not asked for); rows on the simplex.
    """

    def __init__(self, sizes, hidden_layer_sizes, rank, omega_0, hidden_omega_0):
        super().__init__()
        self.sizes = tuple(int(k) for k in sizes)
        coords = torch.zeros(2, max(self.sizes), 1)
        for side, k in enumerate(self.sizes):
            coords[side, :k, 0] = torch.linspace(-1.0, 1.0, k)
        self.register_buffer("coords", coords)
        self.nets = SirenStack(2, 1, hidden_layer_sizes, rank, omega_0, hidden_omega_0)

    def probabilities(self, sides=(True, True)):
        if all(sides) and self.sizes[0] == self.sizes[1]:
            return torch.softmax(self.nets(self.coords), dim=2)
        return tuple(
            torch.softmax(self.nets(self.coords[side, :k], net=side), dim=1)
            if wanted
            else None
            for side, (k, wanted) in enumerate(zip(self.sizes, sides, strict=True))
        )


class _SimilarityINR(nn.Module):
    """One side's tiny SIREN as pickles of version 0.1.0 stored it (``coords`` and a
    :class:`SirenNet` ``net``); :meth:`_INRRPenalty.__setstate__` converts it."""


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
                if k * n_entries > L1_MAX_ELEMENTS:
                    raise ValueError(
                        f"INRR(energy='l1') compares every pair of {side}s: {k} x {k} "
                        f"pairs of {n_entries // k} entries exceed {L1_MAX_ELEMENTS:,} "
                        "elements. Use energy='dirichlet' (factored, any size)."
                    )
        sizes = check_layer_sizes(self.hidden_layer_sizes, "INRR's hidden_layer_sizes")
        if self.normalize:
            scales = mode_scales(shape, self.rank)
        else:
            scales = [math.prod(shape) / n_observed] * 2
        penalty = _INRRPenalty(
            shape, sizes, self.rank, self.omega_0, self.hidden_omega_0,
            alphas=(self.alpha_row, self.alpha_col), scales=scales,
            energy=self.energy, learning_rate=self.learning_rate_init,
        )  # fmt: skip
        penalty.inrs.nets.reset_parameters(generator, self.init)
        return penalty


class _INRRPenalty(Penalty):
    """INRR built for one matrix: the similarity INRs of both sides and their energies.

    ``scales`` holds the normalisation :math:`c` of each side; ``alphas`` the weights.
    When both sides are on, have the same number of items and use the Dirichlet
    energy, both energies are one batched computation on the stacked unfoldings.
    """

    def __init__(
        self, shape, hidden_layer_sizes, rank, omega_0, hidden_omega_0, *,
        alphas, scales, energy, learning_rate,
    ) -> None:  # fmt: skip
        super().__init__()
        self.inrs = _SimilarityINRs(
            shape[:2], hidden_layer_sizes, rank, omega_0, hidden_omega_0
        )
        self.alphas = tuple(float(a) for a in alphas)
        self.register_buffer("scales", torch.tensor(scales, dtype=torch.float32))
        self.energy = energy
        self.learning_rate = learning_rate
        self._set_weights()

    def _set_weights(self):
        """Each side's :math:`\\alpha c` (a buffer: one product with both energies)."""
        self.register_buffer(
            "weights", self.scales.new_tensor(self.alphas) * self.scales
        )
        sizes = self.inrs.sizes
        self._batched = (
            min(self.alphas) > 0 and sizes[0] == sizes[1] and self.energy == "dirichlet"
        )

    def forward(self, X: Tensor, model: nn.Module) -> Tensor:
        views = [unfold(X, mode) for mode in (0, 1)]
        if self._batched:
            energies = dirichlet_energy_factored(
                torch.stack(views), self.inrs.probabilities()
            )
            return (energies.to(self.weights.dtype) * self.weights).sum()
        energy = l1_energy_dense if self.energy == "l1" else dirichlet_energy_factored
        factors = self.inrs.probabilities(tuple(a > 0 for a in self.alphas))
        total = X.new_zeros(())
        for view, P, weight in zip(views, factors, self.weights, strict=True):
            if P is not None:
                total = total + weight * energy(view, P)
        return total

    def probabilities(self):
        """The factors :math:`P` of both sides, ``(P_row, P_col)`` (differentiable)."""
        factors = self.inrs.probabilities()
        return tuple(factors.unbind(0)) if torch.is_tensor(factors) else factors

    def snapshot(self) -> dict:
        """The factors :math:`P` (k x r, rows on the simplex) of both similarities.

        Keys ``"row"`` and ``"col"``; :func:`similarity_from_factor` turns one into
        :math:`A`. Stored instead of :math:`A` so that a history costs O(k r), not k².
        """
        with torch.no_grad():
            return {
                name: P.double().cpu().numpy()
                for name, P in zip(("row", "col"), self.probabilities(), strict=True)
            }

    def similarity(self, side="row"):
        """The learned adjacency :math:`A` (zero diagonal) as numpy.

        Forms the k x k matrix: for inspection and plots, not for training.
        """
        return similarity_from_factor(self.snapshot()[side])

    def __setstate__(self, state):
        # Pickles of version 0.1.0 hold one _SimilarityINR per side ("row", "col"):
        # their parameters become the stacked networks' (the same numbers).
        modules = state.get("_modules", {})
        if "row" in modules:
            sides = [modules.pop("row"), modules.pop("col")]
            nets = [side.net for side in sides]
            layers = nets[0].layers
            similarity = _SimilarityINRs(
                [side.coords.shape[0] for side in sides],
                [layer.out_features for layer in layers],
                nets[0].head.out_features,
                layers[0].omega,
                nets[0].hidden_omega,
            )
            stack = similarity.nets
            with torch.no_grad():
                for side, net in enumerate(nets):
                    linears = [*net.layers, net.head]
                    for linear, weight, bias in zip(
                        linears, stack.weights, stack.biases, strict=True
                    ):
                        weight[side].copy_(linear.weight)
                        bias[side, 0].copy_(linear.bias)
            modules["inrs"] = similarity.to(sides[0].coords.device)
        super().__setstate__(state)
        if "weights" not in self._buffers:
            self._set_weights()

    def extra_repr(self) -> str:
        return f"alphas={self.alphas}, energy={self.energy!r}"
