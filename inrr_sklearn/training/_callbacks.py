"""Host-side training policies, as callbacks that :func:`train` runs once per read.

The captured step (:class:`~inrr_sklearn.training.Trainer`) never waits for the host:
losses stay on the device and are read every ``SYNC_EVERY`` steps. Each read hands the
new values to the callbacks in order; a callback looks at them and may end training
through the shared :class:`LoopState`. Policies are objects, as in skorch, so an
estimator composes the ones it needs and a new policy needs no change to the loop:

- :class:`DivergenceGuard` marks the first step whose loss is non-finite or explodes.
- :class:`EarlyStopping` is the patience rule (``tol``, ``n_iter_no_change``) on the
  validation error when there is one, else on the training loss.
- :class:`ProgressBar` drives a tqdm bar (silent unless ``verbose``).
- :class:`History` records the completion (and the penalty's snapshot) every
  ``record_every`` steps; it is the one policy that looks at single steps.
"""

import math

# A loss this many times the reference (the larger of the first step's loss and the
# loss of predicting zero everywhere) means the optimisation has diverged.
DIVERGENCE_FACTOR = 1e4


class LoopState:
    """What the loop and its callbacks share while training.

    Attributes
    ----------
    trainer : Trainer
        The trainer being run.
    loss_curve, validation_curve : list of float
        Every step's training loss and validation error read so far.
    converged : bool
        Set by a stopping policy: end training after this read.
    diverged_at : int or None
        The first diverged step (1-based), set by the divergence guard.
    final_loss : float or None
        The data term after the last update, when the guard measured it at the end.
    interrupted : bool
        Set when Ctrl-C ended training (the best iterate so far is kept).
    """

    def __init__(self, trainer) -> None:
        self.trainer = trainer
        self.loss_curve: list[float] = []
        self.validation_curve: list[float] = []
        self.converged = False
        self.diverged_at: int | None = None
        self.final_loss: float | None = None
        self.interrupted = False

    @property
    def n_iter(self) -> int:
        return len(self.loss_curve)

    @property
    def stopped(self) -> bool:
        return self.converged or self.diverged_at is not None


class Callback:
    """A host-side policy; every hook does nothing by default.

    ``on_read(state, first)`` runs after each read of the losses: the new steps are
    ``state.loss_curve[first:]`` (and ``state.validation_curve[first:]``).
    ``on_step(iteration, result)`` runs after every step, only for callbacks that
    set ``per_step = True`` (it costs a Python call per step). ``on_train_end`` runs
    when training ends normally (a Ctrl-C included), ``close`` always, an error too.
    """

    per_step = False

    def on_train_begin(self, state: LoopState) -> None:
        pass

    def on_step(self, iteration: int, result) -> None:
        pass

    def on_read(self, state: LoopState, first: int) -> None:
        pass

    def on_train_end(self, state: LoopState) -> None:
        pass

    def close(self) -> None:
        pass


class DivergenceGuard(Callback):
    """Marks the first step whose loss is non-finite or above
    ``DIVERGENCE_FACTOR`` times the reference (the larger of the first finite loss and
    the loss of predicting zero everywhere).

    Without validation it also measures, at the end, where the last update landed
    (no loss has measured it yet).
    """

    def __init__(self) -> None:
        self.reference: float | None = None

    def on_read(self, state: LoopState, first: int) -> None:
        if state.diverged_at is not None:
            return
        for step, loss in enumerate(state.loss_curve[first:], start=first + 1):
            if self.reference is None and math.isfinite(loss):
                self.reference = max(loss, state.trainer.zero_loss())
            if self.reference is None or not loss <= DIVERGENCE_FACTOR * self.reference:
                state.diverged_at = step
                return

    def on_train_end(self, state: LoopState) -> None:
        if state.diverged_at is not None or state.interrupted:
            return
        if state.trainer.best is not None or self.reference is None:
            return
        final = state.trainer.data_loss()
        if not final <= DIVERGENCE_FACTOR * self.reference:
            state.diverged_at, state.final_loss = state.n_iter + 1, final


class EarlyStopping(Callback):
    """Patience: stop after ``n_iter_no_change`` steps without a ``tol`` improvement.

    ``tol`` is relative: a value improves when it is below ``best - tol * |best|``,
    so the rule does not depend on the data's units. It watches the validation error
    when the trainer validates, else the training loss, and ignores the steps from a
    divergence on (put it after :class:`DivergenceGuard`).

    Examples
    --------
    >>> from inrr_sklearn.training import EarlyStopping
    >>> rule = EarlyStopping(tol=0.1, n_iter_no_change=2)
    >>> [rule.update(v) for v in (1.0, 0.5, 0.48, 0.47)]  # 0.48, 0.47: < 10 % better
    [False, False, False, True]
    """

    def __init__(self, tol: float, n_iter_no_change: int) -> None:
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.best = math.inf
        self.no_improvement = 0

    def update(self, value: float) -> bool:
        """Record one monitored value; return whether to stop."""
        if value < self.best - self.tol * abs(self.best) or (
            math.isinf(self.best) and math.isfinite(value)
        ):
            self.best, self.no_improvement = value, 0
        else:
            self.no_improvement += 1
        return self.no_improvement >= self.n_iter_no_change

    def on_read(self, state: LoopState, first: int) -> None:
        validating = state.trainer.val_weight is not None
        watched = state.validation_curve if validating else state.loss_curve
        last = state.n_iter if state.diverged_at is None else state.diverged_at - 1
        for value in watched[first:last]:
            if self.update(value):
                state.converged = True


class ProgressBar(Callback):
    """A tqdm bar with the current loss and validation error (silent unless
    ``verbose``)."""

    def __init__(self, total: int, prefix: str, verbose) -> None:
        self.total = total
        self.prefix = prefix
        self.verbose = verbose
        self.bar = None

    def on_train_begin(self, state: LoopState) -> None:
        from tqdm.auto import tqdm

        self.bar = tqdm(
            total=self.total, desc=self.prefix, disable=not self.verbose, leave=False
        )

    def on_read(self, state: LoopState, first: int) -> None:
        self.bar.update(state.n_iter - first)
        postfix = {"loss": f"{state.loss_curve[-1]:.3g}"}
        if state.validation_curve:
            postfix["val_mse"] = f"{state.validation_curve[-1]:.3g}"
        self.bar.set_postfix(postfix, refresh=False)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


class History(Callback):
    """Every ``record_every`` steps, ``transform(completion)`` and the penalty's
    ``snapshot()`` (a host copy, and so a sync: the price of recording, paid only
    then).

    Attributes
    ----------
    records : dict of lists
        ``"iteration"``, ``"completion"`` and ``"regularizer"``.
    """

    per_step = True

    def __init__(
        self, record_every: int, transform, penalty=None, after_step=False
    ) -> None:
        self.record_every = record_every
        self.transform = transform
        self.penalty = penalty
        # True when ``transform`` reads the parameters after the step's update (it
        # then records iteration + 1, the step those parameters start).
        self.after_step = after_step
        self.records = {"iteration": [], "completion": [], "regularizer": []}

    def on_step(self, iteration: int, result) -> None:
        if iteration % self.record_every:
            return
        self.records["iteration"].append(iteration + int(self.after_step))
        self.records["completion"].append(self.transform(result.completion))
        self.records["regularizer"].append(
            {} if self.penalty is None else self.penalty.snapshot()
        )
