"""The torch modules: shapes, SIREN initialisation, and the fused CPU kernel."""

import math

import torch

from inrr_sklearn.nn import SineLayer, SirenNet


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
