"""The training loop: steps on the device, policies on the host once per read.

:func:`train` runs :meth:`Trainer.step` up to ``max_iter`` times. Losses and
validation errors are buffered on the device (:class:`Recorder`) and read every
``SYNC_EVERY`` steps; each read runs the callbacks (:mod:`._callbacks`), which may end
training. Divergence (the best iterate is restored where one exists, else
:class:`~inrr_sklearn.exceptions.DivergenceError`) and ``KeyboardInterrupt``
(training stops, the best iterate so far is kept, and the caller gets
``interrupted=True`` to warn about) are handled here once.
"""

import time
from typing import NamedTuple

import torch

from inrr_sklearn.exceptions import DivergenceError
from inrr_sklearn.training._callbacks import Callback, LoopState

# Steps between two reads of the loss on the host. Losses and validation scores stay on
# the device in between, so a GPU never waits for Python inside the loop.
SYNC_EVERY = 25


class Recorder:
    """Device buffers of per-step losses and validation errors, read every
    ``SYNC_EVERY`` steps into the host lists of a :class:`LoopState`."""

    def __init__(self, device, validating: bool) -> None:
        self.loss_buffer = torch.zeros(SYNC_EVERY, device=device)
        self.val_buffer = torch.zeros(SYNC_EVERY, device=device) if validating else None
        self.pending = 0

    def add(self, result) -> bool:
        """Buffer one step; return whether the buffer is full (time to read)."""
        self.loss_buffer[self.pending] = result.loss
        if self.val_buffer is not None:
            self.val_buffer[self.pending] = result.validation
        self.pending += 1
        return self.pending == SYNC_EVERY

    def read_into(self, state: LoopState) -> None:
        """Append the buffered steps to ``state``'s curves (one host sync)."""
        state.loss_curve += self.loss_buffer[: self.pending].tolist()
        if self.val_buffer is not None:
            state.validation_curve += self.val_buffer[: self.pending].tolist()
        self.pending = 0


class TrainResult(NamedTuple):
    """The outcome of :func:`train` (parameters already at the kept iterate)."""

    n_iter: int  # steps run
    loss_curve: list  # training loss per step
    validation_curve: list  # validation MSE per step (empty without validation)
    converged: bool  # a stopping policy fired before max_iter
    interrupted: bool  # a KeyboardInterrupt stopped training
    diverged_at: int | None  # the step whose loss diverged, if any
    best_index: int | None  # the step of the restored best iterate, if validating
    seconds: float


def train(
    trainer, max_iter: int, callbacks: list[Callback] = (), *, warm: bool = False
) -> TrainResult:
    """Run ``trainer`` for at most ``max_iter`` steps under ``callbacks``.

    ``warm`` says that the starting parameters are a fitted model, so that even the
    step-0 iterate may be restored after a divergence.

    Raises
    ------
    DivergenceError
        If a callback marks a divergence and no best iterate can be restored (no
        validation, or a fresh model that never improved); the message names the
        step and the loss.

    Examples
    --------
    >>> import torch
    >>> from inrr_sklearn.training import EarlyStopping, Trainer, train
    >>> target = torch.arange(12.0).reshape(3, 4) / 12
    >>> free = torch.nn.Parameter(torch.zeros(3, 4))
    >>> trainer = Trainer(torch.nn.ParameterList([free]), lambda: free, target,
    ...                   torch.ones(3, 4) / 12, learning_rate=0.05)
    >>> result = train(trainer, 5000, [EarlyStopping(tol=1e-4, n_iter_no_change=10)])
    >>> result.converged, len(result.loss_curve) < 5000
    (True, True)
    """
    state = LoopState(trainer)
    recorder = Recorder(trainer.target.device, trainer.val_weight is not None)
    per_step = [c for c in callbacks if c.per_step]
    start = time.perf_counter()
    for callback in callbacks:
        callback.on_train_begin(state)

    def read():
        first = state.n_iter
        recorder.read_into(state)
        for callback in callbacks:
            callback.on_read(state, first)

    try:
        try:
            for iteration in range(max_iter):
                result = trainer.step()
                for callback in per_step:
                    callback.on_step(iteration, result)
                if recorder.add(result) or iteration + 1 == max_iter:
                    read()
                    if state.stopped:
                        break
        except KeyboardInterrupt:
            state.interrupted = True
            if recorder.pending:
                read()
        for callback in callbacks:
            callback.on_train_end(state)
    finally:
        for callback in callbacks:
            callback.close()
    seconds = time.perf_counter() - start
    best_index = None
    can_restore = False
    if trainer.best is not None:
        best_index = trainer.best.restore()
        can_restore = best_index > 0 or (best_index == 0 and warm)
    if state.diverged_at is not None and not can_restore:
        loss = state.final_loss
        if loss is None:
            loss = state.loss_curve[state.diverged_at - 1]
        raise DivergenceError(
            f"the loss diverged at iteration {state.diverged_at} (loss {loss:.3g}) "
            + (
                "and no earlier iterate was validated"
                if trainer.best is None
                else "before any improvement on the validation entries"
            )
            + "; lower learning_rate_init (or the regularizer's weights), or use "
            "early_stopping=True to keep the best iterate."
        )
    return TrainResult(
        n_iter=state.n_iter,
        loss_curve=state.loss_curve,
        validation_curve=state.validation_curve,
        converged=state.converged,
        interrupted=state.interrupted,
        diverged_at=state.diverged_at,
        best_index=best_index,
        seconds=seconds,
    )
