"""Pure PyTorch building blocks: sine layers, SIREN networks and their fused kernel.

Nothing here imports scikit-learn. The estimators own devices, seeds, optimizers and the
training loop; these modules only map tensors to tensors.

``SirenNet`` follows the SIREN paper (Sitzmann et al., 2020, supplement Sec. 1.5): the
first layer computes :math:`\\sin(\\omega_0 (W x + b))` with weights drawn from
:math:`U(-1/\\text{fan\\_in}, 1/\\text{fan\\_in})`, later layers use
:math:`U(-\\sqrt{6/\\text{fan\\_in}}/\\omega, +\\sqrt{6/\\text{fan\\_in}}/\\omega)`.

On CPU (during training) the sine stack and the head run through :class:`_FusedSiren`,
a hand-written forward and backward pass that walks the batch in row chunks so that one
chunk's activations stay in cache through every layer. It computes what autograd
computes on the plain layers (a test checks it) at 2.4x the speed on two cores for the
paper's 256 x 256, width-256 step (``benchmarks/bench_speed.py``, ``docs/speed.md``).
"""

import itertools
import math

import torch
from torch import Tensor, nn

# Rows per chunk in the fused CPU kernel: 4096 x 256 float32 activations (4 MiB) stay in
# L2/L3 across the matmul, the sine and the next matmul. Measured in benchmarks/.
_CPU_CHUNK_ROWS = 4096


def siren_bounds(fan_in: int, omega: float, is_first: bool, init: str = "default"):
    """Half-widths of the uniform draws of a sine layer's weight and bias.

    The weight: :math:`1/\\text{fan\\_in}` in the first layer, else
    :math:`\\sqrt{6/\\text{fan\\_in}}/\\omega`. The bias: that same bound with
    ``init="paper"`` (the INRR authors' layer), else torch.nn.Linear's
    :math:`1/\\sqrt{\\text{fan\\_in}}`.
    """
    bound = 1.0 / fan_in if is_first else math.sqrt(6.0 / fan_in) / omega
    return bound, bound if init == "paper" else 1 / math.sqrt(fan_in)


def siren_head_bound(fan_in: int, hidden_omega: float, init: str = "default"):
    """Half-width of the uniform draws of a SIREN's linear head (weight and bias):
    torch.nn.Linear's :math:`1/\\sqrt{\\text{fan\\_in}}`, or with ``init="paper"``
    the sine weights' :math:`\\sqrt{6/\\text{fan\\_in}}/\\omega`."""
    if init == "paper":
        return math.sqrt(6.0 / fan_in) / hidden_omega
    return 1 / math.sqrt(fan_in)


class SineLayer(nn.Module):
    """One SIREN layer, :math:`\\sin(\\omega (W x + b))`.

    Parameters
    ----------
    in_features, out_features : int
        Input and output widths.
    omega : float
        Frequency factor :math:`\\omega`.
    is_first : bool
        Whether this is the network's first layer (changes the initialisation).

    Shape:
        - Input: ``(N, in_features)``
        - Output: ``(N, out_features)``
    """

    def __init__(
        self, in_features: int, out_features: int, omega: float, is_first: bool
    ) -> None:
        super().__init__()
        self.in_features = in_features
        self.out_features = out_features
        self.omega = float(omega)
        self.is_first = is_first
        self.weight = nn.Parameter(torch.empty(out_features, in_features))
        self.bias = nn.Parameter(torch.empty(out_features))
        self.reset_parameters()

    def reset_parameters(
        self, generator: torch.Generator | None = None, init: str = "default"
    ) -> None:
        """Draw weights with the SIREN initialisation (paper supplement Sec. 1.5).

        ``init="default"`` draws the bias as torch.nn.Linear does; ``"paper"`` draws
        it from the weights' bound, as the INRR authors' SIREN layer does.
        """
        bound, bias_bound = siren_bounds(
            self.in_features, self.omega, self.is_first, init
        )
        with torch.no_grad():
            self.weight.uniform_(-bound, bound, generator=generator)
            self.bias.uniform_(-bias_bound, bias_bound, generator=generator)

    def forward(self, x: Tensor) -> Tensor:
        return torch.sin(self.omega * nn.functional.linear(x, self.weight, self.bias))

    def extra_repr(self) -> str:
        return (
            f"in_features={self.in_features}, out_features={self.out_features}, "
            f"omega={self.omega}, is_first={self.is_first}"
        )


class _FusedSiren(torch.autograd.Function):
    """Forward and backward of sine layers plus the linear head, chunked over rows.

    Forward, per chunk and layer: ``z = omega * (h @ W.T + b)``, ``h = sin(z)``, then the
    head ``y = h @ W_head.T + b_head``. Layer inputs and pre-activations are kept per chunk
    (4 MiB blocks that the allocator recycles between steps, unlike one large buffer per
    layer, which would be page-faulted in afresh every step).
    Backward, per chunk from the head down: ``g = grad_y @ W_head``, then per layer
    ``delta = g * omega * cos(z)``, ``dW += delta.T @ h_prev``, ``db += delta.sum(0)``,
    ``g = delta @ W``.
    """

    @staticmethod
    def forward(ctx, x, omegas, chunk, head_weight, head_bias, *weights_and_biases):
        weights = weights_and_biases[0::2]
        biases = weights_and_biases[1::2]
        out = x.new_empty(x.shape[0], head_weight.shape[0])
        saved_inputs, saved_pre = [], []  # per chunk: one list per layer
        for start in range(0, x.shape[0], chunk):
            h = x[start : start + chunk]
            chunk_inputs, chunk_pre = [], []
            for weight, bias, omega in zip(weights, biases, omegas, strict=True):
                chunk_inputs.append(h)
                z = torch.addmm(bias, h, weight.t())
                if omega != 1.0:
                    z.mul_(omega)
                chunk_pre.append(z)
                h = torch.sin(z)
            chunk_inputs.append(h)
            torch.addmm(head_bias, h, head_weight.t(), out=out[start : start + chunk])
            saved_inputs.append(chunk_inputs)
            saved_pre.append(chunk_pre)
        ctx.omegas = omegas
        ctx.saved_inputs = saved_inputs
        ctx.saved_pre = saved_pre
        ctx.save_for_backward(head_weight, *weights)
        return out

    @staticmethod
    def backward(ctx, grad_out):
        head_weight, *weights = ctx.saved_tensors
        omegas = ctx.omegas
        grad_head_w = torch.zeros_like(head_weight)
        grad_head_b = head_weight.new_zeros(head_weight.shape[0])
        grad_w = [torch.zeros_like(w) for w in weights]
        grad_b = [w.new_zeros(w.shape[0]) for w in weights]
        # Work buffers reused by every chunk: fresh ones would be page-faulted in
        # each time (the allocator returns large blocks to the system), which made
        # the cosine 2.5x slower than the forward's sine in a training loop.
        rows = ctx.saved_pre[0][0].shape[0] if ctx.saved_pre else 0
        delta_buffers = [grad_out.new_empty(rows, w.shape[0]) for w in weights]
        g_buffers = [grad_out.new_empty(rows, w.shape[0]) for w in weights]
        start = 0
        for chunk_inputs, chunk_pre in zip(
            ctx.saved_inputs, ctx.saved_pre, strict=True
        ):
            rows = chunk_inputs[0].shape[0]
            grad_y = grad_out[start : start + rows]
            start += rows
            grad_head_w.addmm_(grad_y.t(), chunk_inputs[-1])
            grad_head_b.add_(grad_y.sum(0))
            g = torch.mm(grad_y, head_weight, out=g_buffers[-1][:rows])
            for layer in range(len(weights) - 1, -1, -1):
                delta = torch.cos(chunk_pre[layer], out=delta_buffers[layer][:rows])
                delta.mul_(g)
                if omegas[layer] != 1.0:
                    delta.mul_(omegas[layer])
                grad_w[layer].addmm_(delta.t(), chunk_inputs[layer])
                grad_b[layer].add_(delta.sum(0))
                if layer > 0:
                    g = torch.mm(delta, weights[layer], out=g_buffers[layer - 1][:rows])
        grads = []
        for gw, gb in zip(grad_w, grad_b, strict=True):
            grads += [gw, gb]
        return (None, None, None, grad_head_w, grad_head_b, *grads)


class SirenNet(nn.Module):
    """A SIREN: sine layers followed by a linear head and an optional output activation.

    Parameters
    ----------
    in_features : int
        Input dimension (2 for pixel coordinates, 1 for a row index).
    hidden_layer_sizes : tuple of int
        Width of each sine layer.
    out_features : int
        Output dimension.
    first_omega : float
        Frequency factor of the first sine layer.
    hidden_omega : float
        Frequency factor of the other sine layers.
    output_activation : {"sigmoid", "identity"}
        Applied after the linear head.
    fused : bool or None
        Use the chunked fused kernel for the sine stack. ``None`` chooses it on CPU.

    Shape:
        - Input: ``(N, in_features)``
        - Output: ``(N, out_features)``
    """

    def __init__(
        self,
        in_features: int,
        hidden_layer_sizes: tuple[int, ...],
        out_features: int,
        first_omega: float,
        hidden_omega: float,
        output_activation: str = "identity",
        fused: bool | None = None,
    ) -> None:
        super().__init__()
        widths = [in_features, *hidden_layer_sizes]
        self.layers = nn.ModuleList(
            SineLayer(
                widths[i],
                widths[i + 1],
                first_omega if i == 0 else hidden_omega,
                i == 0,
            )
            for i in range(len(hidden_layer_sizes))
        )
        self.head = nn.Linear(widths[-1], out_features)
        self.hidden_omega = float(hidden_omega)
        self.output_activation = output_activation
        self.fused = fused

    def reset_parameters(
        self, generator: torch.Generator | None = None, init: str = "default"
    ) -> None:
        """Re-draw all weights from ``generator`` with the SIREN initialisation.

        ``init="default"``: the head (weights and bias) and the sine layers' biases as
        torch.nn.Linear draws them. ``init="paper"``: the INRR authors' layer, whose
        biases and head use the sine weights' bound
        :math:`\\sqrt{6/\\text{fan\\_in}}/\\omega` (with the hidden :math:`\\omega`).
        """
        for layer in self.layers:
            layer.reset_parameters(generator, init)
        bound = siren_head_bound(self.head.in_features, self.hidden_omega, init)
        with torch.no_grad():
            self.head.weight.uniform_(-bound, bound, generator=generator)
            self.head.bias.uniform_(-bound, bound, generator=generator)

    def forward(self, x: Tensor) -> Tensor:
        fused = x.device.type == "cpu" if self.fused is None else self.fused
        # The fused kernel is float32 arithmetic: under autocast the plain layers run.
        autocast = torch.is_autocast_enabled(x.device.type)
        if fused and torch.is_grad_enabled() and not autocast:
            params = []
            for layer in self.layers:
                params += [layer.weight, layer.bias]
            omegas = tuple(layer.omega for layer in self.layers)
            out = _FusedSiren.apply(
                x, omegas, _CPU_CHUNK_ROWS, self.head.weight, self.head.bias, *params
            )
        else:
            for layer in self.layers:
                x = layer(x)
            out = self.head(x)
        if self.output_activation == "sigmoid":
            out = torch.sigmoid(out)
        return out

    def extra_repr(self) -> str:
        return f"output_activation={self.output_activation!r}"


class SirenStack(nn.Module):
    """Several SIRENs of one architecture, their parameters stacked on a leading axis.

    Network :math:`s` computes what :class:`SirenNet` (identity output) computes with
    the parameters ``weights[l][s]`` and ``biases[l][s]``; evaluated together, each
    layer is one batched matmul, :math:`\\sin(\\omega (h W_l^\\top + b_l))` as
    ``torch.baddbmm(b_l, h, W_l^T, beta=omega, alpha=omega)``, for all networks at once.
    For networks as small as INRR's tiny SIRENs a step costs what its kernels cost to
    launch, whatever their size, so two networks in one pass cost about what one does.

    Parameters
    ----------
    n_nets : int
        Number of networks.
    in_features, hidden_layer_sizes, out_features, first_omega, hidden_omega
        As in :class:`SirenNet`, shared by every network.

    Shape:
        - Input: ``(n_nets, N, in_features)``, or ``(N, in_features)`` with ``net``
        - Output: ``(n_nets, N, out_features)``, or ``(N, out_features)`` with ``net``
    """

    def __init__(
        self,
        n_nets: int,
        in_features: int,
        hidden_layer_sizes: tuple[int, ...],
        out_features: int,
        first_omega: float,
        hidden_omega: float,
    ) -> None:
        super().__init__()
        widths = [in_features, *hidden_layer_sizes, out_features]
        pairs = list(itertools.pairwise(widths))
        self.weights = nn.ParameterList(
            nn.Parameter(torch.empty(n_nets, fan_out, fan_in))
            for fan_in, fan_out in pairs
        )
        self.biases = nn.ParameterList(
            nn.Parameter(torch.empty(n_nets, 1, fan_out)) for _, fan_out in pairs
        )
        n_sine = len(hidden_layer_sizes)
        self.omegas = (float(first_omega),) + (float(hidden_omega),) * (n_sine - 1)
        self.hidden_omega = float(hidden_omega)
        self.reset_parameters()

    def reset_parameters(
        self, generator: torch.Generator | None = None, init: str = "default"
    ) -> None:
        """Re-draw every network as :meth:`SirenNet.reset_parameters` draws one.

        Network by network, in SirenNet's order (each sine layer's weight then bias,
        then the head's): network :math:`s` gets the numbers that the :math:`s`-th of
        ``n_nets`` SirenNets reset one after another from ``generator`` would get.
        """
        n_sine = len(self.omegas)
        with torch.no_grad():
            for net in range(self.weights[0].shape[0]):
                for layer, (weight, bias) in enumerate(
                    zip(self.weights, self.biases, strict=True)
                ):
                    fan_in = weight.shape[2]
                    if layer < n_sine:
                        bound, bias_bound = siren_bounds(
                            fan_in, self.omegas[layer], layer == 0, init
                        )
                    else:
                        bound = bias_bound = siren_head_bound(
                            fan_in, self.hidden_omega, init
                        )
                    weight[net].uniform_(-bound, bound, generator=generator)
                    bias[net].uniform_(-bias_bound, bias_bound, generator=generator)

    def forward(self, x: Tensor, net: int | None = None) -> Tensor:
        weights, biases = list(self.weights), list(self.biases)
        if net is not None:  # one network: its slices, as a batch of one
            x = x.unsqueeze(0)
            weights = [w[net : net + 1] for w in weights]
            biases = [b[net : net + 1] for b in biases]
        for weight, bias, omega in zip(
            weights[:-1], biases[:-1], self.omegas, strict=True
        ):
            x = torch.sin(
                torch.baddbmm(bias, x, weight.transpose(1, 2), beta=omega, alpha=omega)
            )
        out = torch.baddbmm(biases[-1], x, weights[-1].transpose(1, 2))
        return out if net is None else out.squeeze(0)

    def extra_repr(self) -> str:
        return f"n_nets={self.weights[0].shape[0]}, omegas={self.omegas}"


class DMFNet(nn.Module):
    """Deep matrix factorisation :math:`X = W_L W_{L-1} \\cdots W_1` (bias-free factors).

    ``W_L`` (``n_rows x rank``) is the row side, one row per matrix row; the product
    ``W_{L-1} ... W_1`` (``rank x n_cols``) is the column side, shared by all rows (so
    new rows can be folded in against it).

    Parameters
    ----------
    n_rows, n_cols : int
        Shape of the matrix.
    rank : int
        Inner width of every factor.
    n_layers : int
        Number of factors L (at least 2).

    Shape:
        - Output of ``forward()``: ``(n_rows, n_cols)``
    """

    def __init__(self, n_rows: int, n_cols: int, rank: int, n_layers: int) -> None:
        super().__init__()
        self.row_factor = nn.Parameter(torch.empty(n_rows, rank))
        shapes = [(rank, n_cols)] + [(rank, rank)] * (n_layers - 2)
        self.column_factors = nn.ParameterList(
            nn.Parameter(torch.empty(*shape)) for shape in shapes
        )
        self.reset_parameters()

    def reset_parameters(
        self, generator: torch.Generator | None = None, init_scale: float = 1e-3
    ) -> None:
        """Draw every factor from :math:`N(0, \\text{init\\_scale}^2)` (small init:
        the implicit low-rank bias of deep factorisations)."""
        with torch.no_grad():
            for param in self.parameters():
                param.normal_(0.0, init_scale, generator=generator)

    def column_side(self) -> Tensor:
        """The product ``W_{L-1} ... W_1``, shape ``(rank, n_cols)``."""
        product = self.column_factors[0]
        for factor in self.column_factors[1:]:
            product = factor @ product
        return product

    def forward(self) -> Tensor:
        return self.row_factor @ self.column_side()

    def extra_repr(self) -> str:
        n_rows, rank = self.row_factor.shape
        return (
            f"n_rows={n_rows}, n_cols={self.column_factors[0].shape[1]}, rank={rank}, "
            f"n_layers={len(self.column_factors) + 1}"
        )
