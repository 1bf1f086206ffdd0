"""Adam for CPU training: ``torch.optim.Adam``'s update on one flat buffer a group.

Why not ``torch.optim.Adam`` on CPU: constructing any ``torch.optim`` optimizer imports
``torch._dynamo`` (with sympy), 1 to 3 s on 2 cores, once per process: more than a
whole fit of a small table or image, paid again by every worker process of a
``BlendImputer`` or a Dask search (the first ``DMFImputer`` fit of a process, 5 steps
on a 30 x 5 table: 1.75 s with it, 0.01-0.03 s without). Its step also spends
Python time per tensor, which small models do not repay. Fastest of 9 rounds on 2
cores (``python benchmarks/bench_cpu_optimizer.py``, ``docs/cpu_optimizer.md``):
INR 32² 2.63 ms a step against 2.93 ms with ``torch.optim.Adam(fused=True)`` and
3.48 ms with its default; with INRR 6.91 against 7.95 and 8.98; DMF on diabetes
(442 x 10) 0.32 against 0.39 and 0.49; at 64² the three are within the noise. It
updates the same numbers as ``torch.optim.Adam`` to the bit (tested). CUDA training
keeps ``torch.optim.Adam`` (capturable in a CUDA graph).
"""

import torch


class FlatAdam:
    """Adam (Kingma and Ba, 2015) without weight decay or AMSGrad, on CPU tensors.

    The update of ``torch.optim.Adam`` (its defaults otherwise): with :math:`g` the
    gradient and :math:`t` the step count,

    .. math::
        m \\leftarrow \\beta_1 m + (1 - \\beta_1) g, \\quad
        v \\leftarrow \\beta_2 v + (1 - \\beta_2) g^2, \\quad
        \\theta \\leftarrow \\theta - \\frac{\\eta}{1 - \\beta_1^t}
            \\frac{m}{\\sqrt{v} / \\sqrt{1 - \\beta_2^t} + \\epsilon},

    computed on flat buffers, one per group: each parameter's ``.grad`` is a view of
    the group's gradient buffer (``zero_grad`` zeroes it; backward accumulates into
    it), so a step is nine calls a group whatever its number of tensors. One
    difference from torch: a parameter that gets no gradient in a step is updated
    with a zero one (torch skips it). Its moments decay, and while they are zero (no
    gradient yet) it does not move. In the trainer every parameter gets a gradient
    at every step or at none, and the two agree to the bit.

    Parameters
    ----------
    param_groups : list of dict
        ``{"params": [...], "lr": ...}`` (``"lr"`` optional: ``lr`` then).
    lr : float
        Default learning rate :math:`\\eta`.
    betas : tuple of float, default=(0.9, 0.999)
    eps : float, default=1e-8

    Examples
    --------
    >>> import torch
    >>> from inrr_sklearn.training import FlatAdam
    >>> w = torch.nn.Parameter(torch.tensor([1.0, -2.0]))
    >>> opt = FlatAdam([{"params": [w]}], lr=0.1)
    >>> for _ in range(200):
    ...     opt.zero_grad()
    ...     (w * w).sum().backward()
    ...     opt.step()
    >>> bool(w.abs().max() < 0.05)
    True
    """

    def __init__(self, param_groups, lr, betas=(0.9, 0.999), eps=1e-8):
        self.param_groups = [
            {**group, "params": list(group["params"]), "lr": group.get("lr", lr)}
            for group in param_groups
        ]
        _check_groups(self.param_groups)
        self.betas = betas
        self.eps = eps
        self.n_steps = 0
        self._buffers = [_flat_buffers(group["params"]) for group in self.param_groups]
        self.zero_grad()

    def zero_grad(self, set_to_none=True):
        """Zero the gradients (views of one flat buffer a group; ``set_to_none`` is
        ignored: the views stay, so that backward accumulates into the buffer)."""
        for group, flat in zip(self.param_groups, self._buffers, strict=True):
            if flat is None:
                continue
            flat["grad"].zero_()
            for param, view in zip(group["params"], flat["grad_views"], strict=True):
                if param.grad is not view:
                    param.grad = view

    @torch.no_grad()
    def step(self):
        """One Adam update of every parameter, a few calls a group."""
        beta1, beta2 = self.betas
        self.n_steps += 1
        t = self.n_steps
        for group, flat in zip(self.param_groups, self._buffers, strict=True):
            if flat is None:
                continue
            for param, view in zip(group["params"], flat["grad_views"], strict=True):
                if param.grad is not view:  # replaced by the caller: take its values
                    view.copy_(param.grad if param.grad is not None else 0.0)
                    param.grad = view
            grad, exp_avg, exp_avg_sq = (
                flat[k] for k in ("grad", "exp_avg", "exp_avg_sq")
            )
            exp_avg.lerp_(grad, 1 - beta1)
            exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
            denom = (exp_avg_sq.sqrt() / (1 - beta2**t) ** 0.5).add_(self.eps)
            # torch's param.addcdiv_(exp_avg, denom, value=-step_size) computes
            # param + (-step_size * exp_avg) / denom: the same operations, in order.
            update = torch.mul(
                exp_avg, -group["lr"] / (1 - beta1**t), out=flat["update"]
            )
            update.div_(denom)
            torch._foreach_add_(group["params"], flat["update_views"])


def _check_groups(groups):
    """Refuse what ``torch.optim.Adam`` would do differently: a parameter in two
    groups, other options than ``params`` and ``lr``, no learning rate, a group whose
    parameters differ in dtype or device (one flat buffer a group)."""
    seen = set()
    for group in groups:
        extra = sorted(set(group) - {"params", "lr"})
        if extra:
            raise ValueError(
                f"FlatAdam groups take 'params' and 'lr' only; got {extra}."
            )
        if not isinstance(group["lr"], float | int):
            raise ValueError(f"FlatAdam needs a learning rate; got {group['lr']!r}.")
        params = group["params"]
        if len({(p.dtype, p.device) for p in params}) > 1:
            raise ValueError(
                "FlatAdam: a group's parameters share one dtype and device."
            )
        ids = {id(p) for p in params}
        if len(ids) < len(params) or ids & seen:
            raise ValueError("FlatAdam: a parameter appears more than once.")
        seen |= ids


def _flat_buffers(params):
    """A group's flat buffers (None for an empty group): the gradient (each
    parameter's ``.grad`` is a view of it, so autograd accumulates there), both
    moments and the update (a view of it per parameter), in the parameters' dtype
    and device."""
    if not params:
        return None
    size = sum(p.numel() for p in params)
    flat = {
        name: params[0].new_zeros(size)
        for name in ("grad", "exp_avg", "exp_avg_sq", "update")
    }
    flat["grad_views"] = _views(flat["grad"], params)
    flat["update_views"] = _views(flat["update"], params)
    return flat


def _views(flat, params):
    """``flat`` cut into views shaped like ``params``, in order."""
    sizes = [p.numel() for p in params]
    return [part.view_as(p) for part, p in zip(flat.split(sizes), params, strict=True)]
