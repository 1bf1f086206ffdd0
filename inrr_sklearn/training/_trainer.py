"""The captured part of training: one full-batch step and the best iterate.

Nothing here imports scikit-learn, and nothing here makes a GPU wait for the host:

- :class:`Trainer` owns the optimizer (one Adam: the model's parameters and the
  penalty's trainable part, each with its learning rate; :class:`FlatAdam` on CPU)
  and one public :meth:`Trainer.step`: forward, data term plus penalty, one backward
  pass, one Adam step. It returns device tensors and never syncs with the host, so
  benchmarks can time it as it is. On CUDA it can capture the whole step as one CUDA
  graph after a few eager steps (``cuda_graph=True``: one launch per step instead of
  hundreds of small kernels) and train with TF32 or bfloat16 matmuls
  (``precision``).
- :class:`BestIterate` keeps, on the device, a copy of the parameters with the lowest
  validation error seen so far (on CUDA without a host sync: ``torch.where`` picks
  per step; on CPU, where reading a value costs no wait, it copies on improvement
  only).

The host-side policies (stopping, divergence, progress, history) are callbacks run by
:func:`inrr_sklearn.training.train` once per read of the losses.
"""

import contextlib
import gc
import math
import threading
import traceback
import warnings
from typing import NamedTuple

import torch
from torch import Tensor

from inrr_sklearn.training._adam import FlatAdam

# Eager steps (on a side stream) before a CUDA graph is captured: cuBLAS handles,
# autograd buffers and Adam's state must exist before capture.
GRAPH_WARMUP_STEPS = 3

PRECISIONS = ("float32", "tf32", "bfloat16")

# The capture modes tried in turn before a trainer falls back to eager steps (with a
# warning): "thread_local" first (no other thread's CUDA call can invalidate it), then
# "relaxed", which also lets this thread make CUDA calls that capture mode forbids
# without touching the captured stream (a graph destroyed, memory freed).
CAPTURE_MODES = ("thread_local", "relaxed")
CAPTURE_ATTEMPTS = len(CAPTURE_MODES)

# One capture at a time in a process, and no graph destroyed meanwhile: entering
# torch.cuda.graph synchronises the device and empties the allocator's cache, and
# destroying a graph is forbidden while a stream captures (threads fitting at once).
_CAPTURE_LOCK = threading.RLock()


class StepResult(NamedTuple):
    """What one :meth:`Trainer.step` returns (device tensors, no host sync)."""

    loss: Tensor  # data term + penalty, before the update (0-dim)
    validation: Tensor | None  # validation MSE before the update (0-dim), or None
    completion: Tensor  # the model's matrix before the update (detached)


class Trainer:
    """Full-batch training of ``model`` (and ``penalty``) on weighted entries.

    Minimises :math:`\\sum_{ij} w_{ij} (X_{ij} - Y_{ij})^2 + R(X)` with
    :math:`X = \\text{forward}()`, :math:`w` the weights ``train_weight`` (the
    imputers give the observed training entries weights summing to one, and a
    ``fill_prior``'s entries weights of their own) and :math:`R` the penalty applied
    to ``X`` viewed as ``view_shape``.

    Parameters
    ----------
    model : nn.Module
        The main model; its parameters are Adam's first group, at ``learning_rate``.
    forward : callable
        ``forward() -> Tensor`` of ``target``'s shape, differentiable in the model.
    target : Tensor of shape (n_rows, n_cols)
        Scaled observed values (any value where the weights are zero).
    train_weight : Tensor of shape (n_rows, n_cols)
        Data-term weight of each entry.
    penalty : nn.Module or None
        A built regularizer (``penalty(X_view, model)``); its ``param_groups()`` join
        the same Adam with their own learning rates.
    view_shape : tuple of int or None
        The shape the penalty sees (``(H, W, C)`` for multi-channel images).
    learning_rate : float
        Adam learning rate of the main model.
    val_weight : Tensor of shape (n_rows, n_cols) or None
        Validation weight of each entry (summing to one), or None.
    cuda_graph : bool
        Capture the step as a CUDA graph after ``GRAPH_WARMUP_STEPS`` eager steps and
        replay it from then on (CUDA only). The outputs of :meth:`step` are then the
        graph's static tensors, overwritten by the next step: copy what you keep.
    precision : {"float32", "tf32", "bfloat16"}
        ``"tf32"``: float32 matmuls on TF32 tensor cores (CUDA; no effect on CPU).
        ``"bfloat16"``: forward pass and loss under ``torch.autocast`` to bfloat16.
    batches : SubgridSampler or None
        Stochastic steps: each step trains on the pixels of the sub-grid
        ``index = batches.sample()`` only (``forward(index)`` gives their rows of
        values, one per pixel), the data term scaled by ``batches.scale(index)``
        (an estimate of the full one) and the penalty given the sub-grid as a
        coarser image (it must accept any shape: ``Penalty.any_shape``); the
        validation error is still that of every validation entry (a forward pass
        without gradients over their pixels). The completion of a
        :class:`StepResult` is then the sub-grid's values.

    Examples
    --------
    A free 3 x 4 matrix fitted to the observed entries of a target, step by step:

    >>> import torch
    >>> from inrr_sklearn.training import Trainer
    >>> target = torch.arange(12.0).reshape(3, 4) / 12
    >>> weight = torch.ones(3, 4) / 12
    >>> free = torch.nn.Parameter(torch.zeros(3, 4))
    >>> model = torch.nn.ParameterList([free])
    >>> trainer = Trainer(model, lambda: free, target, weight, learning_rate=0.05)
    >>> first = trainer.step().loss
    >>> for _ in range(200):
    ...     last = trainer.step().loss
    >>> bool(last < 1e-3 * first)
    True
    """

    def __init__(
        self, model, forward, target, train_weight, *, penalty=None,
        view_shape=None, learning_rate=1e-3, val_weight=None, cuda_graph=False,
        precision="float32", batches=None,
    ):  # fmt: skip
        if cuda_graph and batches is not None:
            raise ValueError(
                "cuda_graph=True replays one fixed step, and batch_size draws a new "
                "sub-grid of pixels every step: use cuda_graph='auto' (no capture "
                "then) or batch_size=None."
            )
        if cuda_graph and target.device.type != "cuda":
            raise ValueError(
                f"cuda_graph=True needs CUDA tensors; the data is on {target.device}."
            )
        if precision not in PRECISIONS:
            raise ValueError(
                f"precision must be one of {PRECISIONS}, not {precision!r}"
            )
        self.model = model
        self.forward = forward
        self.target = target
        self.train_weight = train_weight
        self.penalty = penalty
        self.view_shape = tuple(target.shape) if view_shape is None else view_shape
        self.val_weight = val_weight
        self.precision = precision
        self.batches = batches
        self._channels = self.view_shape[2] if len(self.view_shape) == 3 else 1
        if batches is not None and val_weight is not None:
            # Every step is validated on all held-out pixels (one forward pass
            # without gradients), so that steps compare on the same entries.
            per_pixel = val_weight.reshape(-1, self._channels)
            self._val_pixels = (per_pixel > 0).any(dim=1).nonzero().reshape(-1)
            self._val_weight = per_pixel[self._val_pixels]
            self._val_target = target.reshape(-1, self._channels)[self._val_pixels]
        # One Adam for the model and the penalty's trainable part (their own groups and
        # learning rates): one optimizer step per training step. On CPU FlatAdam
        # (torch.optim's construction imports torch._dynamo: seconds per process).
        # On CUDA torch's fused Adam: one kernel a group instead of a dozen foreach
        # launches, the step counters on the device (graph replay needs them there).
        groups = [{"params": list(model.parameters())}]
        if penalty is not None:
            groups += penalty.param_groups()
        if target.device.type == "cpu":
            self.optimizer = FlatAdam(groups, lr=learning_rate)
        else:
            self.optimizer = torch.optim.Adam(
                groups, lr=learning_rate, capturable=cuda_graph,
                fused=target.device.type == "cuda" or None,
            )  # fmt: skip
        self.parameters = list(model.parameters())
        if penalty is not None:
            self.parameters += list(penalty.parameters())
        self.best = BestIterate(self.parameters) if val_weight is not None else None
        self.cuda_graph = cuda_graph
        self.graph = None  # the captured step, once captured
        self.capture_error = None  # the last failed capture's error (text), if any
        self._graph_outputs = None
        self._eager_steps = 0

    def step(self) -> StepResult:
        """One step (full-batch, or on one sub-grid with ``batches``); returns the
        loss and validation error before it."""
        if not self.cuda_graph:
            return self._step()
        if self.graph is not None:
            self.graph.replay()
            return self._graph_outputs
        with torch.cuda.device(self.target.device):
            return self._graph_step()

    def _graph_step(self) -> StepResult:
        device = self.target.device
        if self._eager_steps < GRAPH_WARMUP_STEPS:
            # Warm-up steps run on a side stream, as graph capture requires.
            stream = torch.cuda.Stream(device)
            stream.wait_stream(torch.cuda.current_stream(device))
            with torch.cuda.stream(stream):
                result = self._step()
            torch.cuda.current_stream(device).wait_stream(stream)
            self._eager_steps += 1
            return result
        for mode in CAPTURE_MODES:
            self.optimizer.zero_grad(set_to_none=True)  # gradients: the graph's pool
            graph = torch.cuda.CUDAGraph()
            with _CAPTURE_LOCK, torch.cuda.stream(torch.cuda.current_stream(device)):
                # (the outer stream context restores this thread's stream, which a
                # failed capture leaves on the capture stream)
                try:
                    # On a stream no fit works on, and no automatic garbage collection
                    # meanwhile: it could destroy an earlier fit's graph, which
                    # breaks the capture.
                    with (
                        _automatic_gc_paused(),
                        torch.cuda.graph(
                            graph, stream=_capture_stream(device),
                            capture_error_mode=mode,
                        ),
                    ):  # fmt: skip
                        outputs = self._step()
                except Exception as exc:  # an op that cannot be captured
                    # Kept as text: the exception's frames would hold the step's
                    # tensors and the failed graph.
                    self.capture_error = _describe(_first_error(exc))
                    with contextlib.suppress(Exception):  # cleanup must not fail
                        graph.reset()  # under the lock: not during another capture
                    del graph
                    torch.cuda.synchronize(device)
                    continue
            self.graph, self._graph_outputs = graph, outputs
            graph.replay()  # capture records the step; replay runs it
            return outputs
        warnings.warn(
            f"CUDA graph capture failed {CAPTURE_ATTEMPTS} times (last error: "
            f"{self.capture_error}); training continues without it (the same "
            "arithmetic, launched step by step).",
            RuntimeWarning,
            stacklevel=3,
        )
        self.cuda_graph = False
        return self._step()

    def release_graph(self) -> None:
        """Destroy the captured graph now, between captures (left to the garbage
        collector, it could be destroyed during another fit's capture and break it).
        Later steps run eagerly."""
        if self.graph is not None:
            with _CAPTURE_LOCK:
                self.graph.reset()
        self.graph = self._graph_outputs = None
        self.cuda_graph = False

    def _step(self) -> StepResult:
        with _matmul_precision(self.precision, self.target.device.type):
            return self._update()

    def _update(self) -> StepResult:
        self.model.train()
        if self.batches is not None:
            return self._update_subgrid()
        with _autocast(self.precision, self.target.device.type):
            X_hat = self.forward()
            residual = X_hat - self.target
            loss = (residual * residual * self.train_weight).sum()
            if self.penalty is not None:
                loss = loss + self.penalty(X_hat.reshape(self.view_shape), self.model)
        validation = None
        if self.val_weight is not None:
            with torch.no_grad():
                r = residual.detach().float()
                validation = (r * r * self.val_weight).sum()
        return self._finish(loss, validation, X_hat)

    def _update_subgrid(self) -> StepResult:
        """One stochastic step on the sub-grid ``batches.sample()`` (see ``batches``)."""
        index = self.batches.sample()
        flat = index.reshape(-1)

        def pixels(entries):  # (n_rows, n_cols * C) -> the sampled pixels' (n, C)
            return entries.reshape(-1, self._channels)[flat]

        with _autocast(self.precision, self.target.device.type):
            X_hat = self.forward(index)
            residual = X_hat - pixels(self.target)
            weight = pixels(self.train_weight)
            loss = (residual * residual * weight).sum() * self.batches.scale(index)
            if self.penalty is not None:
                coarse = X_hat.reshape(*index.shape, *self.view_shape[2:])
                loss = loss + self.penalty(coarse, self.model)
        validation = None
        if self.val_weight is not None:
            with torch.no_grad(), _autocast(self.precision, self.target.device.type):
                r = (self.forward(self._val_pixels) - self._val_target).float()
                validation = (r * r * self._val_weight).sum()
        return self._finish(loss, validation, X_hat)

    def _finish(self, loss, validation, X_hat) -> StepResult:
        """Keep the best iterate, then backward and every optimizer's step."""
        if validation is not None:
            # The error of the parameters *before* this step's update.
            self.best.update(validation)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()
        return StepResult(loss.detach().float(), validation, X_hat.detach().float())

    def data_loss(self) -> float:
        """The data term of the current parameters (one forward pass, host value)."""
        with torch.no_grad():
            residual = self.forward() - self.target
            return float((residual * residual * self.train_weight).sum())

    def zero_loss(self) -> float:
        """The data term of predicting zero everywhere (a scale for divergence)."""
        with torch.no_grad():
            return float((self.target * self.target * self.train_weight).sum())


# Per device, the stream graphs are captured on: from the high-priority pool, which no
# fit takes its own or warm-up streams from (those come from the default pool, which
# hands out its 32 streams in turn, so one could be torch.cuda.graph's default
# capture stream while another thread captures on it).
_CAPTURE_STREAMS = {}


def _capture_stream(device):
    device = torch.device(device)
    if device not in _CAPTURE_STREAMS:  # (called under _CAPTURE_LOCK)
        _CAPTURE_STREAMS[device] = torch.cuda.Stream(device, priority=-1)
    return _CAPTURE_STREAMS[device]


def _describe(error):
    """``error``'s first line and where it was raised (file and line)."""
    lines = str(error).splitlines()
    text = lines[0] if lines else repr(error)
    frames = traceback.extract_tb(error.__traceback__)
    if frames:
        text += f", raised in {frames[-1].name} at {frames[-1].filename}:"
        text += f"{frames[-1].lineno}"
    return text


def _first_error(exc):
    """The error that broke a capture: ending a broken capture raises "operation failed
    due to a previous error during capture", with the op's own error as its context."""
    if "previous error" in str(exc) and exc.__context__ is not None:
        return exc.__context__
    return exc


@contextlib.contextmanager
def _automatic_gc_paused():
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@contextlib.contextmanager
def own_stream(device):
    """Run the block's CUDA work on a stream of its own (torch's pool: non-blocking).

    Not on the legacy default stream: work there fails ("operation would make the
    legacy stream depend on a capturing blocking stream") while another thread
    captures a graph, and breaks that capture. A no-op off CUDA.
    """
    if torch.device(device).type != "cuda":
        yield
        return
    with torch.cuda.stream(torch.cuda.Stream(device)):
        yield


def _autocast(precision, device_type):
    if precision == "bfloat16":
        return torch.autocast(device_type, dtype=torch.bfloat16, cache_enabled=False)
    return contextlib.nullcontext()


@contextlib.contextmanager
def _matmul_precision(precision, device_type):
    """TF32 matmuls (CUDA) inside the block for ``precision="tf32"``; restored after."""
    if precision != "tf32" or device_type != "cuda":
        yield
        return
    previous = torch.get_float32_matmul_precision()
    torch.set_float32_matmul_precision("high")
    try:
        yield
    finally:
        torch.set_float32_matmul_precision(previous)


class BestIterate:
    """A device copy of the parameters with the lowest value seen (no host sync on
    CUDA; on CPU, where nothing runs ahead of Python, it copies on improvement only).

    Examples
    --------
    >>> import torch
    >>> from inrr_sklearn.training import BestIterate
    >>> weight = torch.nn.Parameter(torch.tensor([1.0]))
    >>> best = BestIterate([weight])
    >>> best.update(torch.tensor(0.5))
    >>> with torch.no_grad():
    ...     _ = weight.fill_(2.0)
    >>> best.update(torch.tensor(0.9))  # worse: the copy keeps 1.0
    >>> best.restore(), weight.item()
    (0, 1.0)
    """

    def __init__(self, parameters: list[Tensor]) -> None:
        self.parameters = parameters
        self.copies = [p.detach().clone() for p in parameters]
        device = parameters[0].device if parameters else "cpu"
        self.value = torch.full((), math.inf, device=device)
        self.count = torch.zeros((), dtype=torch.long, device=device)
        self.index = torch.full((), -1, dtype=torch.long, device=device)

    def update(self, value: Tensor) -> None:
        if self.value.device.type == "cpu":
            # On CPU the value is computed by now: reading the comparison costs no
            # wait, and the copies are made only on improvement, in one call (not a
            # torch.where and a copy per parameter every step).
            if bool(value < self.value):  # False for NaN: a NaN iterate is never kept
                if self.copies:  # first: an interrupt here leaves the previous best
                    params = [p.detach() for p in self.parameters]
                    torch._foreach_copy_(self.copies, params)
                self.value.copy_(value)
                self.index.copy_(self.count)
            self.count += 1
            return
        # In place throughout, so that a captured CUDA graph keeps reading this state.
        better = value < self.value  # False for NaN: a NaN iterate is never kept
        self.value.copy_(torch.where(better, value, self.value))
        self.index.copy_(torch.where(better, self.count, self.index))
        self.count += 1
        for param, copy in zip(self.parameters, self.copies, strict=True):
            copy.copy_(torch.where(better, param.detach(), copy))

    def restore(self) -> int:
        """Copy the best parameters back; return the step they came from (-1: none)."""
        with torch.no_grad():
            for param, copy in zip(self.parameters, self.copies, strict=True):
                param.copy_(copy)
        return int(self.index)
