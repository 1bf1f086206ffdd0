"""Random sub-grids of a pixel grid: the batches of stochastic INR training.

A SIREN on a large image costs the same per pixel at every step. With stride
:math:`s`, :class:`SubgridSampler` draws per step one of the :math:`s^2` sub-grids
``image[a::s, b::s]`` (offsets :math:`a, b` uniform in :math:`[0, s)`): a step costs
:math:`1/s^2` of a full one, spans the whole image (neighbouring pixels are alike, so
its gradient is close to the full one), and the sub-grid is itself an image on the
same domain, at a coarser resolution, on which a resolution-free penalty (total
variation) is evaluated as it is on the whole image.
"""

import math

import torch


def subgrid_stride(height, width, batch_size):
    """:math:`s = \\lfloor\\sqrt{HW / b}\\rfloor` (at most the grid's shorter side):
    the stride whose sub-grids hold about ``batch_size`` pixels or more; 1 (full
    batch) when ``batch_size`` is None or the grid has fewer than :math:`4b` pixels.

    >>> from inrr_sklearn.training import subgrid_stride
    >>> subgrid_stride(512, 512, 20000), subgrid_stride(256, 256, 20000)
    (3, 1)
    """
    if batch_size is None:
        return 1
    return max(1, min(math.isqrt(height * width // batch_size), height, width))


class SubgridSampler:
    """One random ``image[a::s, b::s]`` sub-grid of a ``height x width`` grid a step.

    Parameters
    ----------
    height, width : int
        The pixel grid.
    stride : int
        :math:`s`, at least 1 and at most ``min(height, width)``.
    generator : torch.Generator
        A CPU generator (the offsets are drawn on CPU; indices move to ``device``).
    device : torch.device

    Examples
    --------
    >>> import torch
    >>> from inrr_sklearn.training import SubgridSampler
    >>> sampler = SubgridSampler(4, 6, stride=2,
    ...                          generator=torch.Generator().manual_seed(0), device="cpu")
    >>> index = sampler.sample()  # flat row-major pixel indices of a 2 x 3 sub-grid
    >>> index.shape, sampler.scale(index)
    (torch.Size([2, 3]), 4.0)
    """

    def __init__(self, height, width, *, stride, generator, device):
        if not 1 <= stride <= min(height, width):
            raise ValueError(
                f"stride must lie in [1, {min(height, width)}] for a {height} x "
                f"{width} grid, got {stride}."
            )
        self.height, self.width, self.stride = height, width, stride
        self.generator = generator
        self.device = device

    def sample(self) -> torch.Tensor:
        """Flat pixel indices (row-major) of one sub-grid, shape (rows, columns)."""
        row, col = torch.randint(0, self.stride, (2,), generator=self.generator)
        rows = torch.arange(int(row), self.height, self.stride)
        cols = torch.arange(int(col), self.width, self.stride)
        index = rows[:, None] * self.width + cols[None, :]
        return index.to(self.device, non_blocking=True)

    def scale(self, index) -> float:
        """The grid's pixels per sampled pixel: a sum over the sub-grid times this
        estimates the sum over the grid (exactly unbiased when the stride divides
        both sides)."""
        return self.height * self.width / index.numel()
