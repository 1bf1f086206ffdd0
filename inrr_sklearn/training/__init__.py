"""Training in pure torch: the captured step, the loop and its host-side policies.

Nothing here imports scikit-learn. The estimators build the model, the penalty and the
data tensors, hand them to a :class:`Trainer` and run :func:`train` with the callbacks
they need; they read back a :class:`TrainResult`.

- ``_trainer``: :class:`Trainer` (one step: forward, loss, backward, Adam, best
  iterate; capturable as a CUDA graph) and :class:`BestIterate`.
- ``_adam``: :class:`FlatAdam`, the trainer's Adam on CPU.
- ``_loop``: :func:`train` and the device-side :class:`Recorder`.
- ``_subgrid``: :class:`SubgridSampler`, the random sub-grids of stochastic steps,
  and :func:`subgrid_stride`, their stride for a batch size.
- ``_callbacks``: :class:`DivergenceGuard`, :class:`EarlyStopping`,
  :class:`ProgressBar`, :class:`History`, run once per read of the losses.
"""

from inrr_sklearn.training._adam import FlatAdam
from inrr_sklearn.training._callbacks import (
    DIVERGENCE_FACTOR,
    Callback,
    DivergenceGuard,
    EarlyStopping,
    History,
    LoopState,
    ProgressBar,
)
from inrr_sklearn.training._loop import SYNC_EVERY, Recorder, TrainResult, train
from inrr_sklearn.training._subgrid import SubgridSampler, subgrid_stride
from inrr_sklearn.training._trainer import (
    CAPTURE_ATTEMPTS,
    CAPTURE_MODES,
    GRAPH_WARMUP_STEPS,
    PRECISIONS,
    BestIterate,
    StepResult,
    Trainer,
    own_stream,
)

__all__ = [
    "CAPTURE_ATTEMPTS",
    "CAPTURE_MODES",
    "DIVERGENCE_FACTOR",
    "GRAPH_WARMUP_STEPS",
    "PRECISIONS",
    "SYNC_EVERY",
    "BestIterate",
    "Callback",
    "DivergenceGuard",
    "EarlyStopping",
    "FlatAdam",
    "History",
    "LoopState",
    "ProgressBar",
    "Recorder",
    "StepResult",
    "SubgridSampler",
    "TrainResult",
    "Trainer",
    "own_stream",
    "subgrid_stride",
    "train",
]
