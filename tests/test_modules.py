"""The torch modules: shapes, SIREN initialisation, and the fused CPU kernel."""

import math

import pytest
import torch

from inrr_sklearn.nn import SineLayer, SirenNet, SirenStack


def test_siren_output_shape_and_repr():
    net = SirenNet(2, (8, 8, 8), 1, 30.0, 1.0, output_activation="sigmoid")
    out = net(torch.zeros(5, 2))
    assert out.shape == (5, 1)
    assert ((out > 0) & (out < 1)).all()
    assert "omega=30.0" in repr(net)


def test_siren_init_bounds():
    g = torch.Generator().manual_seed(0)
    first = SineLayer(2, 64, omega=30.0, is_first=True)
    hidden = SineLayer(64, 64, omega=1.0, is_first=False)
    first.reset_parameters(g)
    hidden.reset_parameters(g)
    assert first.weight.abs().max() <= 1 / 2
    assert hidden.weight.abs().max() <= math.sqrt(6 / 64)
    # Not degenerate: the draws fill most of the interval.
    assert hidden.weight.abs().max() > 0.9 * math.sqrt(6 / 64)


def test_fused_kernel_matches_autograd():
    """The chunked CPU forward/backward equals autograd on the plain layers."""
    import inrr_sklearn.nn as modules

    g = torch.Generator().manual_seed(0)
    plain = SirenNet(2, (16, 12, 16), 3, 30.0, 2.0, fused=False).double()
    plain.reset_parameters(g)
    fused = SirenNet(2, (16, 12, 16), 3, 30.0, 2.0, fused=True).double()
    fused.load_state_dict(plain.state_dict())
    x = torch.rand(50, 2, dtype=torch.float64, generator=g) * 2 - 1
    weights = torch.rand(50, 3, dtype=torch.float64, generator=g)
    old_chunk = modules._CPU_CHUNK_ROWS
    modules._CPU_CHUNK_ROWS = 7  # several chunks, the last one partial
    try:
        out_fused = fused(x)
        (out_fused * weights).sum().backward()
    finally:
        modules._CPU_CHUNK_ROWS = old_chunk
    out_plain = plain(x)
    (out_plain * weights).sum().backward()
    torch.testing.assert_close(out_fused, out_plain)
    for (name, p_fused), p_plain in zip(
        fused.named_parameters(), plain.parameters(), strict=True
    ):
        torch.testing.assert_close(p_fused.grad, p_plain.grad, msg=name)


def test_fused_kernel_gradcheck():
    net = SirenNet(2, (4, 3), 2, 3.0, 1.5, fused=True).double()
    x = torch.rand(6, 2, dtype=torch.float64)
    params = list(net.parameters())

    # gradcheck on the module parameters through functional_call
    from torch.func import functional_call

    names = [n for n, _ in net.named_parameters()]

    def g(*ps):
        return functional_call(net, dict(zip(names, ps, strict=True)), (x,))

    inputs = tuple(p.detach().clone().requires_grad_(True) for p in params)
    assert torch.autograd.gradcheck(g, inputs)


@pytest.mark.parametrize("init", ["default", "paper"])
def test_siren_stack_is_sirennets_drawn_in_turn(init):
    """Network s of a stack starts and computes as the s-th of SirenNets reset one
    after another from the same generator, together and one at a time."""
    widths = (8, 6, 8)
    stack = SirenStack(3, 2, widths, 5, 7.0, 1.5).double()
    stack.reset_parameters(torch.Generator().manual_seed(4), init)
    generator = torch.Generator().manual_seed(4)
    nets = []
    for _ in range(3):
        net = SirenNet(2, widths, 5, 7.0, 1.5, fused=False).double()
        net.reset_parameters(generator, init)
        nets.append(net)
    x = torch.rand(3, 11, 2, dtype=torch.float64) * 2 - 1
    together = stack(x)
    assert together.shape == (3, 11, 5)
    for s, net in enumerate(nets):
        linears = [*net.layers, net.head]
        for linear, weight, bias in zip(
            linears, stack.weights, stack.biases, strict=True
        ):
            assert torch.equal(weight[s], linear.weight)
            assert torch.equal(bias[s, 0], linear.bias)
        torch.testing.assert_close(together[s], net(x[s]))
        torch.testing.assert_close(stack(x[s], net=s), net(x[s]))
    # gradients reach each network's own slice only
    stack(x[1], net=1).sum().backward()
    for param in stack.parameters():
        assert param.grad[1].abs().sum() > 0
        assert param.grad[0].abs().sum() == 0 and param.grad[2].abs().sum() == 0
