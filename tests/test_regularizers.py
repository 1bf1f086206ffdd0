"""Regularizers: hand-computed penalties, the factored INRR formula, gradients, params."""

import numpy as np
import pytest
import torch
from sklearn.base import clone

from inrr_sklearn import AIR, INRR, L2, TV, SumRegularizer
from inrr_sklearn.regularizers import (
    dirichlet_energy_dense,
    dirichlet_energy_factored,
    l1_energy_dense,
)


def _built(reg, shape=(3, 3)):
    g = torch.Generator().manual_seed(0)
    return reg.build(shape, n_observed=shape[0] * shape[1], generator=g)


def test_factored_dirichlet_energy_equals_dense():
    g = torch.Generator().manual_seed(0)
    X = torch.randn(17, 5, dtype=torch.float64, generator=g)
    P = torch.softmax(torch.randn(17, 6, dtype=torch.float64, generator=g), dim=1)
    dense = dirichlet_energy_dense(X, P @ P.t())
    torch.testing.assert_close(dirichlet_energy_factored(X, P), dense)
    # and the pairwise form 1/2 sum A_ii' ||X_i - X_i'||^2
    A = P @ P.t()
    A.fill_diagonal_(0)
    pairwise = 0.5 * (A[:, :, None] * (X[:, None, :] - X[None, :, :]) ** 2).sum()
    torch.testing.assert_close(dense, pairwise)


def test_dirichlet_energy_by_hand():
    # Two rows joined with weight A_01 = p0.p1 = 0.5: energy = 0.5 * ||x0 - x1||^2.
    P = torch.tensor([[1.0, 0.0], [0.5, 0.5]])
    X = torch.tensor([[1.0, 2.0], [3.0, 5.0]])
    assert dirichlet_energy_factored(X, P).item() == pytest.approx(0.5 * (4 + 9))


def test_inrr_penalty_matches_formula_and_normalisation():
    reg = INRR(alpha_row=2.0, alpha_col=0.0, rank=4, hidden_layer_sizes=(8,))
    module = _built(reg, shape=(5, 3))
    X = torch.arange(15.0).reshape(5, 3)
    P = module.probabilities()[0]
    A = P @ P.t()
    A.fill_diagonal_(0)
    expected = (
        2.0 * 4 / (5 * 5 * 3) * torch.trace(X.t() @ (torch.diag(A.sum(1)) - A) @ X)
    )
    torch.testing.assert_close(module(X, None), expected)


def test_l1_energy_by_hand_and_pairwise():
    # Two rows joined with weight A_01 = 0.5: energy = 0.5 * |x0 - x1|_1 (the diagonal
    # contributes nothing, whatever its value).
    P = torch.tensor([[1.0, 0.0], [0.5, 0.5]])
    X = torch.tensor([[1.0, 2.0], [3.0, 5.0]])
    assert l1_energy_dense(X, P).item() == pytest.approx(0.5 * (2 + 3))
    g = torch.Generator().manual_seed(0)
    X = torch.randn(9, 4, dtype=torch.float64, generator=g)
    P = torch.softmax(torch.randn(9, 3, dtype=torch.float64, generator=g), dim=1)
    A = P @ P.t()
    A.fill_diagonal_(0)
    pairwise = 0.5 * (A[:, :, None] * (X[:, None, :] - X[None, :, :]).abs()).sum()
    torch.testing.assert_close(l1_energy_dense(X, P), pairwise)


def test_inrr_l1_energy_penalty_gradients_and_size_guard():
    reg = INRR(
        alpha_row=2.0, alpha_col=3.0, rank=4, hidden_layer_sizes=(8,), energy="l1"
    )
    module = _built(reg, shape=(5, 3))
    X = torch.arange(15.0).reshape(5, 3).requires_grad_()
    P_row, P_col = module.probabilities()
    expected = 2.0 * 4 / (5 * 5 * 3) * l1_energy_dense(X, P_row) + 3.0 * 4 / (
        3 * 3 * 5
    ) * l1_energy_dense(X.t(), P_col)
    penalty = module(X, None)
    torch.testing.assert_close(penalty, expected)
    penalty.backward()
    assert X.grad.abs().sum() > 0
    assert all(p.grad is not None for p in module.parameters())
    assert clone(reg).get_params()["energy"] == "l1"
    with pytest.raises(ValueError, match="energy='dirichlet'"):
        _built(INRR(energy="l1"), shape=(2048, 64))
    _built(INRR(energy="dirichlet"), shape=(2048, 64))  # factored: any size


def test_inrr_same_strength_across_sizes():
    """A uniform adjacency gives the per-entry mean squared row difference."""
    values = []
    for k in (64, 512):
        X = torch.linspace(0, 1, k).unsqueeze(1).repeat(1, k)
        P = torch.full((k, 16), 1 / 16)
        values.append(16 / (k * k * k) * dirichlet_energy_factored(X, P).item())
    assert values[0] == pytest.approx(values[1], rel=0.05)


def test_inrr_paper_weighting_is_raw_trace_over_observed_fraction():
    reg = INRR.paper(alpha_col=0.0)
    g = torch.Generator().manual_seed(0)
    module = reg.build((4, 6), n_observed=12, generator=g)
    X = torch.rand(4, 6)
    P = module.probabilities()[0]
    expected = 1e-6 * (24 / 12) * dirichlet_energy_dense(X, P @ P.t())
    torch.testing.assert_close(module(X, None), expected)


def test_gradients_reach_tiny_inr_and_matrix():
    reg = INRR(rank=4, hidden_layer_sizes=(8, 8))
    module = _built(reg, shape=(6, 5))
    X = torch.rand(6, 5, requires_grad=True)
    module(X, None).backward()
    assert X.grad.abs().sum() > 0
    for param in module.parameters():  # stacked: [row network, column network]
        assert param.grad is not None
        assert all(side.abs().sum() > 0 for side in param.grad)
    groups = module.param_groups()
    assert groups[0]["lr"] == reg.learning_rate_init
    assert len(groups[0]["params"]) == len(list(module.parameters()))


def test_tv_by_hand():
    X = torch.tensor([[0.0, 1.0, 3.0], [2.0, 2.0, 2.0]])
    # row differences: |2|, |1|, |-1| -> 4, divided by n=3; column differences:
    # |1|+|2| + 0+0 = 3, divided by k=2.
    expected = 4 / 3 + 3 / 2
    assert _built(TV(alpha=1.0), X.shape)(X, None).item() == pytest.approx(expected)
    iso = _built(TV(alpha=1.0, kind="isotropic", eps=0.0), X.shape)(X, None)
    # Only (0, 0) and (0, 1) have both differences: sqrt(2^2+1^2) + sqrt(1^2+2^2).
    assert iso.item() == pytest.approx(2 * np.sqrt(5) / np.sqrt(6))
    assert _built(TV(), (4, 4))(torch.ones(4, 4), None).item() == 0


def test_l2_by_hand():
    model = torch.nn.Linear(2, 1)
    with torch.no_grad():
        model.weight.copy_(torch.tensor([[1.0, -2.0]]))
        model.bias.fill_(10.0)  # biases are not penalised
    assert _built(L2(alpha=0.5), (1, 1))(
        torch.zeros(1, 1), model
    ).item() == pytest.approx(2.5)


def test_air_by_hand():
    reg = AIR(alpha_row=1.0, alpha_col=0.0)
    module = _built(reg, shape=(2, 2))
    X = torch.tensor([[0.0, 0.0], [1.0, 3.0]])
    # zero weights: S rows are uniform 1/2, A_01 = 1/2, energy = 0.5 * (1 + 9) = 5,
    # divided by k n = 4.
    assert module(X, None).item() == pytest.approx(5 / 4)


def test_air_refuses_huge_sides():
    with pytest.raises(ValueError, match="max_size"):
        _built(AIR(max_size=10), shape=(11, 3))


def test_sum_composes_penalties_and_params():
    total = INRR(rank=4, hidden_layer_sizes=(8,)) + TV(alpha=0.5)
    assert isinstance(total, SumRegularizer)
    params = total.get_params()
    assert params["inrr__rank"] == 4 and params["tv__alpha"] == 0.5
    total.set_params(tv__alpha=0.25, inrr__alpha_row=0.0, inrr__alpha_col=0.0)
    module = _built(total)
    X = torch.tensor([[0.0, 1.0, 3.0], [2.0, 2.0, 2.0], [2.0, 2.0, 2.0]])
    expected = _built(TV(alpha=0.25), X.shape)(X, None)
    torch.testing.assert_close(module(X, None), expected)
    assert len(module.param_groups()) == 1  # INRR's tiny nets; TV has none
    cloned = clone(total)
    assert cloned.get_params()["tv__alpha"] == 0.25


def test_sums_are_flat_and_named():
    total = INRR() + TV() + L2() + TV(alpha=1.0)
    assert [name for name, _ in total.regularizers] == ["inrr", "tv", "l2", "tv-2"]
    assert total.get_params()["tv-2__alpha"] == 1.0
    assert [n for n, _ in (total + (L2() + INRR())).regularizers][-2:] == [
        "l2-2",
        "inrr-2",
    ]
    penalty = _built(total)
    assert set(penalty.terms) == {"inrr", "tv", "l2", "tv-2"}


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("first__first__first__alpha_row", "inrr__alpha_row"),
        ("first__first__second__alpha", "tv__alpha"),
        ("first__second__alpha", "l2__alpha"),
        ("second__alpha", "air__alpha"),
    ],
)
def test_old_nested_spellings_are_refused_with_the_new_name(old, new):
    from inrr_sklearn import INRImputer

    imp = INRImputer(reg=INRR() + TV() + L2() + AIR())
    with pytest.raises(ValueError, match=f"use 'reg__{new}'|use '{new}'"):
        imp.set_params(**{f"reg__{old}": 0.5})


def test_sum_of_bad_terms_is_refused():
    with pytest.raises(ValueError, match="pairs"):
        _built(SumRegularizer([INRR(), TV()]))


def test_invalid_hyperparameter_is_reported():
    with pytest.raises(ValueError, match="alpha"):
        _built(TV(alpha=-1.0))


def test_factored_dirichlet_energy_of_a_batch_is_each_matrix_energy():
    g = torch.Generator().manual_seed(1)
    X = torch.randn(2, 9, 4, dtype=torch.float64, generator=g)
    P = torch.softmax(torch.randn(2, 9, 3, dtype=torch.float64, generator=g), dim=2)
    batch = dirichlet_energy_factored(X, P)
    assert batch.shape == (2,)
    for i in range(2):
        torch.testing.assert_close(batch[i], dirichlet_energy_factored(X[i], P[i]))


@pytest.mark.parametrize("shape", [(6, 6), (6, 6, 2), (7, 5)])
def test_inrr_batched_sides_equal_side_by_side(shape):
    """A square matrix evaluates both sides in one batched pass; the penalty and every
    gradient equal the side-by-side evaluation (and the formula on each unfolding)."""
    reg = INRR(alpha_row=0.3, alpha_col=0.7, rank=4, hidden_layer_sizes=(8, 8))
    module = _built(reg, shape=shape).double()
    assert module._batched == (shape[0] == shape[1])
    X = torch.rand(*shape, dtype=torch.float64, requires_grad=True)
    batched = module(X, None)
    batched_grads = torch.autograd.grad(batched, [X, *module.parameters()])
    module._batched = False
    side_by_side = module(X, None)
    torch.testing.assert_close(batched, side_by_side)
    for a, b in zip(
        batched_grads,
        torch.autograd.grad(side_by_side, [X, *module.parameters()]),
        strict=True,
    ):
        torch.testing.assert_close(a, b)
    expected = 0
    factors = module.probabilities()
    for mode, (alpha, P) in enumerate(zip((0.3, 0.7), factors, strict=True)):
        view = torch.movedim(X, mode, 0).reshape(shape[mode], -1)
        k, n = view.shape
        expected = expected + alpha * 4 / (k * k * n) * dirichlet_energy_dense(
            view, P @ P.t()
        )
    torch.testing.assert_close(batched, expected)


def test_inrr_pickle_of_version_0_1_0_loads_with_the_same_networks():
    """Version 0.1.0 pickled one ``_SimilarityINR`` (coords and a SirenNet) per side;
    loading converts them to the stacked networks, computing the same factors."""
    from torch import nn

    from inrr_sklearn.nn import SirenNet
    from inrr_sklearn.regularizers._inrr import _INRRPenalty, _SimilarityINR

    reg = INRR(rank=4, hidden_layer_sizes=(8, 8), omega_0=3.0, hidden_omega_0=2.0)
    module = _built(reg, shape=(5, 7))
    g = torch.Generator().manual_seed(9)
    sides = []
    for k in (5, 7):
        side = _SimilarityINR()
        side.register_buffer("coords", torch.linspace(-1.0, 1.0, k).unsqueeze(1))
        side.net = SirenNet(1, (8, 8), 4, 3.0, 2.0, fused=False)
        side.net.reset_parameters(g)
        sides.append(side)
    state = dict(module.__dict__)
    state["_modules"] = {"row": sides[0], "col": sides[1]}
    state["_buffers"] = {"scales": module.scales}
    del state["_batched"]
    loaded = _INRRPenalty.__new__(_INRRPenalty)
    loaded.__setstate__(state)
    for side, P in zip(sides, loaded.probabilities(), strict=True):
        expected = torch.softmax(side.net(side.coords), dim=1)
        torch.testing.assert_close(P, expected)
    X = torch.rand(5, 7)
    assert torch.isfinite(loaded(X, None))
    assert isinstance(loaded.inrs, nn.Module) and loaded.inrs.sizes == (5, 7)
    torch.testing.assert_close(loaded.weights, module.weights)
