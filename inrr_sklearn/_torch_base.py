"""``_BaseTorchImputer``: training on top of the imputer contract.

:class:`~inrr_sklearn._base._BaseImputer` owns the contract (input, mask, output,
indicator, empty columns, the fitted-matrix cache); this class adds what the torch
imputers share: their parameters (declared, stored, validated and documented once),
value scaling learned from the observed entries (:mod:`inrr_sklearn._scaling`),
device and seed resolution, the held-out split of early stopping (the one splitter of
:mod:`inrr_sklearn.model_selection`), a training run assembled around
:class:`inrr_sklearn.training.Trainer` with its host-side callbacks, the fallback to
the column means, and the warnings (``ConvergenceWarning``, interrupts).

Subclasses provide the model: ``_build_model(shape, generator)`` returns an
``nn.Module``, ``_complete(model, inputs)`` returns the completed matrix (in scaled
units) for the inputs prepared by ``_model_inputs(shape, device)``, and
``_architecture()`` names the parameters that fix the model's shapes (a warm start
refuses to continue when one of them changed). A subclass that can train on random
sub-grids returns a stride above 1 from ``_stride(shape)``, a sampler from
``_batches`` and the sampled pixels' values from ``_complete(model, inputs, index)``.
A subclass that can complete a matrix
other than the fitted one overrides ``_complete_new_with_model`` (the columns that
fell back to their means in ``fit`` take those means on new data too).
"""

import copy
import warnings
from numbers import Integral, Real
from typing import NamedTuple

import numpy as np
import torch
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state

from inrr_sklearn._base import CONTRACT_PARAMETERS, _BaseImputer, document_parameters
from inrr_sklearn._scaling import fit_scaling, resolve_scaling
from inrr_sklearn._utils import Interval, StrOptions, make_generator, resolve_device
from inrr_sklearn._validation import pixel_shape
from inrr_sklearn.exceptions import DivergenceError
from inrr_sklearn.model_selection import split_observed
from inrr_sklearn.regularizers import BaseRegularizer, Penalty
from inrr_sklearn.training import (
    PRECISIONS,
    DivergenceGuard,
    EarlyStopping,
    History,
    ProgressBar,
    Trainer,
    TrainResult,
    own_stream,
    train,
)

# The parameters both torch imputers share, documented once; each ``{<parameter>}`` is
# filled with the imputer's default by ``_document_shared_parameters``.
TORCH_PARAMETERS = """\
max_iter : int, default={max_iter}
    Maximum number of Adam steps (full-batch, unless ``batch_size`` says otherwise).
tol : float, default={tol}
    Minimum *relative* decrease of the monitored quantity (validation error with
    early stopping, else the training loss) that counts as an improvement: a value
    improves on the best ``b`` when it is below ``b * (1 - tol)``, whatever the
    data's units.
learning_rate_init : float, default={learning_rate_init}
    Adam learning rate of the model.
n_iter_no_change : int, default={n_iter_no_change}
    Stop after this many steps without improvement.
early_stopping : bool or "auto", default={early_stopping}
    Hold out ``validation_fraction`` of the observed entries, monitor their error
    and restore the best iterate at the end (also after a divergence or a Ctrl-C).
    "auto": on when ``validation_fraction`` of the observed entries is at least one
    entry and leaves at least one to train on, off otherwise (a table of a few
    values), as HistGradientBoosting's "auto" does; ``early_stopping_`` records the
    choice. True on such a table is an error.
validation_fraction : float, default={validation_fraction}
    Fraction of observed entries held out when early stopping is on.
random_state : int, RandomState instance or None, default={random_state}
    Seeds the initialisation (through a local ``torch.Generator``, never the global
    seed) and the validation split.
verbose : int, default={verbose}
    0 silent; 1 or more prints ``[{name}]`` messages and a progress bar with the
    current loss and validation error.
device : str or torch.device, default={device}
    "auto" (CUDA when available, else CPU), "cpu", "cuda" or "cuda:N". The fitted
    model is stored on CPU, so pickles load anywhere.
cuda_graph : bool or "auto", default={cuda_graph}
    Capture the training step (forward, penalty, backward, the Adam step, the
    best-iterate bookkeeping) as one CUDA graph after 3 eager steps and replay it:
    one launch per step instead of hundreds of small kernels (the same arithmetic).
    "auto" captures on CUDA devices (not the random sub-grids of an INR's
    ``batch_size``); True on a CPU device, or with sub-grids, is an error.
compile : bool, default={compile}
    Compile the model and the regularizer with ``torch.compile`` for training
    (fused elementwise kernels; on CUDA inside the graph). The first steps wait for
    the compiler (seconds on a GPU, more on CPU, where the fused CPU kernel is
    already faster); the fitted model is the plain module.
precision : {{"float32", "tf32", "bfloat16"}}, default={precision}
    Arithmetic of the training step. "tf32": float32 matmuls on TF32 tensor cores
    (CUDA only; no effect on CPU). "bfloat16": the forward pass and loss under
    ``torch.autocast`` to bfloat16, on CUDA and on CPU (the fused CPU kernel too: at
    128² a fit ran 1.65-1.92x faster and lost 0.39-1.06 dB of missing-pixel PSNR,
    ``docs/cpu_bfloat16.md``). The fitted model stays float32 either way; see
    ``docs/gpu.md`` for the measured speed and quality on CUDA.
warm_start : bool, default={warm_start}
    Continue from the previous fit's model (same matrix shape) instead of a new one.
    A changed regularizer is applied (its learned parts start from the previous
    ones where they fit) and the scaling is learned again; a changed architecture
    raises a ``ValueError``.
n_channels : int, default={n_channels}
    Number of channels per pixel: an ``(H, W, C)`` image (RGB, or a stack of C
    frames) is passed as ``X = image.reshape(H, W * C)`` with ``n_channels=C`` and the
    output reshapes back the same way. Regularizers act on the ``(H, W, C)`` tensor:
    INRR and AIR learn one similarity over rows and one over pixel columns, each
    shared by all channels; TV sums over channels.
record_every : int or None, default={record_every}
    Record a snapshot every ``record_every`` steps into ``history_`` (completion,
    regularizer state) for the plots of :mod:`inrr_sklearn.plotting`. Each record
    copies the matrix to the host; ``None`` records nothing.
"""

# A completed value further than this many observed ranges outside its column's
# observed values means the fit went wild (no early stopping to catch it).
_WILD_RANGES = 10.0


def observed_column_means(X, observed):
    """Mean of each column's observed entries (data units, float64); the whole
    matrix's observed mean for a column with none."""
    values = np.where(observed, X, np.nan).astype(np.float64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-missing columns
        means = np.nanmean(values, axis=0)
    return np.where(np.isnan(means), np.nanmean(values), means)


def _document_shared_parameters(cls):
    """Class decorator: the shared and contract parameters, with ``cls``'s defaults,
    where its docstring holds the line ``{shared parameters}``."""
    return document_parameters(
        cls, shared_parameters=TORCH_PARAMETERS + CONTRACT_PARAMETERS
    )


class _BaseTorchImputer(_BaseImputer):
    """Base class of the torch imputers (not public; see INRImputer).

    Holds, stores, validates and documents (``TORCH_PARAMETERS``) the parameters
    both imputers share.
    """

    _parameter_constraints: dict = {
        **_BaseImputer._parameter_constraints,
        "reg": [BaseRegularizer, None],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "learning_rate_init": [Interval(Real, 0, None, closed="neither")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "early_stopping": ["boolean", StrOptions({"auto"})],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "scaling": [StrOptions({"auto", "global", "per_column", "standard", "none"})],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
        "device": [str, torch.device],
        "cuda_graph": ["boolean", StrOptions({"auto"})],
        "compile": ["boolean"],
        "precision": [StrOptions(set(PRECISIONS))],
        "warm_start": ["boolean"],
        "record_every": [Interval(Integral, 1, None, closed="left"), None],
        "n_channels": [Interval(Integral, 1, None, closed="left")],
    }

    def __init__(
        self, *, reg, max_iter, tol, learning_rate_init, n_iter_no_change,
        early_stopping, validation_fraction, scaling, random_state, verbose, device,
        cuda_graph, compile, precision, warm_start, missing_values, n_channels,
        add_indicator, keep_empty_features, record_every,
    ):  # fmt: skip
        super().__init__(
            missing_values=missing_values,
            add_indicator=add_indicator,
            keep_empty_features=keep_empty_features,
        )
        self.reg = reg
        self.max_iter = max_iter
        self.tol = tol
        self.learning_rate_init = learning_rate_init
        self.n_iter_no_change = n_iter_no_change
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.scaling = scaling
        self.random_state = random_state
        self.verbose = verbose
        self.device = device
        self.cuda_graph = cuda_graph
        self.compile = compile
        self.precision = precision
        self.warm_start = warm_start
        self.n_channels = n_channels
        self.record_every = record_every

    # ------------------------------------------------------------------ subclass hooks
    # The model is kept over the column means only when its validation error is lower
    # by more than this many standard errors of the per-entry difference (see
    # _means_beat_model); 0 keeps any model that is lower at all.
    _mean_fallback_z = 0.0
    # Judge the fallback column by column too (see _columns_falling_back), with this
    # many standard errors.
    _per_column_fallback = False
    _column_fallback_z = 2.0
    # On a table, a column with fewer validation entries than this is not judged on
    # its own: under a per-column scaling it cannot show that the model beats its mean
    # and takes the mean (Grunfeld's 20 x 33 panel has 1 or 2 a column, and models 8
    # times worse than the mean passed on one lucky entry); under one global scale it
    # keeps the model.
    _column_evidence = 5
    # A matrix with fewer columns than this is judged as a table (by two standard
    # errors) even under one global scaling: no image is this narrow, and on a
    # 4-column table (iris) a column the model fits worse than its mean hides in the
    # global error.
    _table_columns = 32

    def _build_model(self, shape, generator):
        raise NotImplementedError

    def _complete_new(self, X, observed):
        """The model's completion of new data, with the columns that fell back to
        their means in ``fit`` completed with those means here too."""
        completion = self._complete_new_with_model(X, observed)
        return np.where(self.mean_fallback_, self._fallback_values, completion)

    def _complete_new_with_model(self, X, observed):
        raise NotImplementedError

    def _model_inputs(self, shape, device):
        return None

    def _stride(self, shape):
        """The sub-grid stride of stochastic steps on a matrix of ``shape`` (1: full
        batch)."""
        return 1

    def _batches(self, shape, stride, device, generator):
        """The sampler of stochastic steps with ``stride`` (None when it is 1)."""
        return None

    def _check_batching(self, penalty, stride):
        prefix = f"[{type(self).__name__}]"
        if stride > 1 and penalty is not None and not penalty.any_shape:
            raise ValueError(
                f"{prefix} batch_size trains on random sub-grids of the matrix "
                f"(stride {stride} here), and reg={self.reg!r} is built for the whole "
                "matrix's rows and columns: use batch_size=None, or a regularizer "
                "that means the same at any resolution (TV, L2)."
            )

    def _complete(self, model, inputs, index=None):
        """The model's matrix (``index``: only those pixels' rows of values)."""
        raise NotImplementedError

    def _architecture(self):
        """Parameters that fix the model's shapes (compared on warm starts)."""
        return {"n_channels": self.n_channels}

    def _check_values(self, X, observed, scaling):
        """Refuse observed values the model cannot represent (none by default)."""

    def _guide(self, X, observed):
        """``(values, weights)``: an extra data term on missing entries (none here)."""
        return None

    def _resets_features(self):
        return not (self.warm_start and hasattr(self, "model_"))

    # ------------------------------------------------------------------ fit
    def _fit_completion(self, X, observed):
        """split -> build (or continue) -> train -> fall back? -> set attributes."""
        warm = self.warm_start and hasattr(self, "model_")
        if warm:
            self._check_warm_start(X)
        pixel_shape(X, self.n_channels)
        device = resolve_device(self.device)
        if self.cuda_graph is True and device.type != "cuda":
            raise ValueError(
                f"cuda_graph=True needs a CUDA device; this fit runs on {device}. Use "
                "cuda_graph='auto' (graphs where CUDA is used) or False."
            )
        rng = check_random_state(self.random_state)
        generator = make_generator(rng)
        scaling_kind = resolve_scaling(self.scaling, X, observed)
        self._check_values(X, observed, scaling_kind)
        scaling = fit_scaling(X, observed, scaling_kind)
        train_entries, validation = self._split(observed, rng)
        if warm:  # a copy: a failed refit leaves the fitted model untouched
            model = copy.deepcopy(self.model_)
        else:
            # Modules draw a default initialisation from torch's global generator
            # before _build_model redraws it from ours: leave the user's global
            # stream as it was.
            with torch.random.fork_rng(devices=[]):
                model = self._build_model(X.shape, generator)
        reg = None if self.reg is None else clone(self.reg)
        penalty = self._build_penalty(
            reg, X.shape, train_entries, generator, self.penalty_ if warm else None
        )
        stride = self._stride(X.shape)
        self._check_batching(penalty, stride)  # (before the fill prior's work)
        run = self._train_run(
            X, observed, scaling, train_entries, validation, model, penalty, device,
            max_iter=self.max_iter, record_every=self.record_every, warm=warm,
            guide=self._guide(X, observed), generator=generator, stride=stride,
        )  # fmt: skip
        completion = run.completion
        falls_back = np.zeros(X.shape[1], dtype=bool)
        if validation is not None:
            falls_back = self._columns_falling_back(
                X, scaling_kind, scaling, train_entries, validation, completion
            )
        # Column means (the whole mean for all-missing columns), through the scaling
        # so that constant columns keep their exact value.
        fallback_values = scaling.from_scaled(
            scaling.to_scaled(observed_column_means(X, observed)[None, :])
        )
        if falls_back.any():
            completion = np.where(falls_back, fallback_values, completion)
            self._warn_fallback(falls_back)
        if validation is None and not run.result.interrupted:
            self._warn_if_wild(X, observed, completion)

        # Publish (fit restores the previous state if anything above raised).
        for optional in ("validation_scores_", "best_validation_score_", "history_"):
            self.__dict__.pop(optional, None)  # only what this fit produced remains
        self.device_ = device
        self.scaling_ = scaling_kind
        self.early_stopping_ = validation is not None
        self.model_ = run.model
        self.reg_ = reg
        self.penalty_ = run.penalty
        self.n_iter_ = run.result.n_iter
        self.loss_curve_ = run.result.loss_curve
        if validation is not None:
            self.validation_scores_ = [-v for v in run.result.validation_curve]
            if self.validation_scores_:  # empty after a Ctrl-C on the first step
                self.best_validation_score_ = max(self.validation_scores_)
        if self.record_every is not None:
            self.history_ = run.history
        self._architecture_fit = self._architecture()
        self._fallback_values = fallback_values
        self._scaling = scaling
        self.mean_fallback_ = falls_back
        self._report(run.result)
        return completion

    def _warn_if_wild(self, X, observed, completion):
        """Warn when a completed entry lies more than ``_WILD_RANGES`` observed ranges
        outside its column's observed values (nothing held out caught the fit)."""
        values = np.where(observed, X, np.nan).astype(np.float64)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-missing columns
            low, high = np.nanmin(values, axis=0), np.nanmax(values, axis=0)
        low = np.where(np.isnan(low), np.nanmin(values), low)
        high = np.where(np.isnan(high), np.nanmax(values), high)
        span = np.where(high > low, high - low, np.maximum(np.abs(high), 1.0))
        outside = np.maximum(low - completion, completion - high) / span
        outside = np.where(observed, 0.0, outside)
        worst = float(np.max(outside))
        if worst > _WILD_RANGES:
            i, j = np.unravel_index(np.argmax(outside), X.shape)
            warnings.warn(
                f"[{type(self).__name__}] completed values lie up to {worst:.3g} "
                f"observed ranges outside the observed values (row {i}, column {j}: "
                f"{completion[i, j]:.4g} for observed values in "
                f"[{low[j]:.4g}, {high[j]:.4g}]): the fit has likely diverged. Lower "
                "learning_rate_init (or the initialisation scale), or keep early "
                "stopping on so that the best validated iterate is kept.",
                ConvergenceWarning,
                stacklevel=5,
            )

    def _columns_falling_back(
        self, X, scaling_kind, scaling, train_entries, validation, completion
    ):
        """The columns to complete with their means instead of the model (bool, one
        per column), judged on the validation entries.

        All columns when the model is not clearly better than the means over the
        whole matrix (:meth:`_means_beat_model`). With ``_per_column_fallback``, also
        column by column, each in its own units (the comparison of squared errors in
        a column does not depend on its scale): under a per-column scaling (tables)
        every column whose model is not clearly better than its mean; under one
        global scaling (images, where a column holds a few validation entries and a
        column of means would be a visible stripe, even on a texture the SIREN fits
        only a little better than the means) every column whose model is clearly
        worse than its mean, so that a column too narrow to matter in the global
        loss is not left worse than its mean. A matrix of fewer than
        ``_table_columns`` columns is judged as a table whatever its scaling. A
        column with fewer than ``_column_evidence`` validation entries (2 for an
        image) is not judged on its own: under a per-column scaling it takes its
        mean (the model cannot show it does better), under one global scale it
        keeps the model.
        """
        n_cols = X.shape[1]
        if self._means_beat_model(X, scaling, train_entries, validation, completion):
            return np.ones(n_cols, dtype=bool)
        if not self._per_column_fallback:
            return np.zeros(n_cols, dtype=bool)
        gain, counts = self._squared_error_gain(
            X, scaling, train_entries, validation, completion
        )
        z = self._column_fallback_z
        falls_back = np.zeros(n_cols, dtype=bool)
        per_column = scaling_kind in ("per_column", "standard")
        strict = per_column or n_cols < self._table_columns
        for j in range(n_cols):
            d = gain[validation[:, j], j]
            if d.size < (self._column_evidence if strict else 2):
                # Too little evidence: under a per-column scaling the mean (the
                # model's error in this column is its own), under one global scale
                # the model (the whole-matrix judgement covers the column).
                falls_back[j] = per_column and counts[j] > 0
                continue
            margin = z * d.std(ddof=1) / np.sqrt(d.size)
            if strict:
                falls_back[j] = d.mean() > -margin  # not clearly better
            else:
                falls_back[j] = d.mean() > margin  # clearly worse
        return falls_back

    def _squared_error_gain(self, X, scaling, train_entries, validation, completion):
        """The model's squared error minus the training means' at every entry (in
        scaled units; meaningful on the validation entries), and the number of
        training entries of each column."""
        Z = scaling.to_scaled(np.where(train_entries | validation, X, 0.0))
        counts = train_entries.sum(axis=0)
        sums = np.where(train_entries, Z, 0.0).sum(axis=0)
        means = np.divide(sums, counts, out=np.zeros_like(sums), where=counts > 0)
        model = scaling.to_scaled(completion)
        return (model - Z) ** 2 - (np.broadcast_to(means, Z.shape) - Z) ** 2, counts

    def _warn_fallback(self, falls_back):
        name = type(self).__name__
        clearly = "clearly " if self._mean_fallback_z else ""
        if falls_back.all():
            what = (
                f"the fitted model's error on the held-out entries is not {clearly}"
                "below that of the column means: completing with the column means "
                "instead"
            )
        else:
            columns = np.flatnonzero(falls_back)
            names = getattr(self, "feature_names_in_", None)
            listed = [str(names[j]) if names is not None else int(j) for j in columns]
            what = (
                f"columns {listed} are completed with their means: on their held-out "
                f"entries the model is not {clearly}better than the column mean"
            )
        warnings.warn(
            f"[{name}] {what} (mean_fallback_). The model does not suit this data "
            "(for tables, see BlendImputer).",
            UserWarning,
            stacklevel=5,
        )

    def _means_beat_model(self, X, scaling, train_entries, validation, completion):
        """Whether the model fails to predict the validation entries *clearly* better
        than the training entries' column means (both in scaled units).

        With :math:`d_i` the model's squared error minus the means' on validation
        entry :math:`i`, the model is kept only when :math:`\\bar d \\le -z\\,s_d/\\sqrt n`
        (``z = _mean_fallback_z``; INRImputer's 2: a few lucky held-out entries on a
        small table do not keep a bad fit, while on images, thousands of entries, a
        better model always passes).
        """
        gain, _ = self._squared_error_gain(
            X, scaling, train_entries, validation, completion
        )
        gain = gain[validation]
        margin = 0.0  # one entry has no spread: any gain keeps the model
        if gain.size > 1:
            margin = self._mean_fallback_z * gain.std(ddof=1) / np.sqrt(gain.size)
        return bool(gain.mean() > -margin)

    def _build_penalty(self, reg, shape, train_entries, generator, previous):
        """The built regularizer (on CPU), started from ``previous`` where it fits."""
        if reg is None:
            return None
        with torch.random.fork_rng(devices=[]):  # (as for the model)
            return reg.build(
                self._reg_shape(shape),
                n_observed=int(train_entries.sum()),
                generator=generator,
                previous=previous,
            )

    def _check_warm_start(self, X):
        if X.shape != self._X_fit.shape:
            raise ValueError(
                f"warm_start=True continues a fit of shape {self._X_fit.shape}; X has "
                f"shape {X.shape}. Use warm_start=False to fit a new matrix."
            )
        now, before = self._architecture(), self._architecture_fit
        changed = [name for name, value in now.items() if before.get(name) != value]
        if changed:
            details = ", ".join(f"{n} {before.get(n)!r} -> {now[n]!r}" for n in changed)
            raise ValueError(
                f"warm_start=True cannot continue the fitted model: {details} changes "
                "the model's shape. Set warm_start=False to fit a new model."
            )

    def _report(self, result: TrainResult):
        prefix = f"[{type(self).__name__}]"
        if self.verbose and result.loss_curve:
            print(
                f"{prefix} {result.n_iter} iterations in {result.seconds:.1f} s "
                f"({result.seconds / result.n_iter * 1e3:.1f} ms/iteration), final "
                f"loss {result.loss_curve[-1]:.4g}"
            )
        if result.interrupted:
            kept = "the last iterate"
            if result.best_index is not None:
                kept = f"the best iterate (iteration {result.best_index})"
            warnings.warn(
                f"{prefix} training interrupted after {result.n_iter} iterations; "
                f"keeping {kept} as the fitted model. Interrupt again to abort.",
                UserWarning,
                stacklevel=5,
            )
        elif result.diverged_at is not None:
            warnings.warn(
                f"{prefix} the loss diverged at iteration {result.diverged_at}; "
                f"restored the best iterate (iteration {result.best_index}). Lower "
                "learning_rate_init or the regularizer's weights.",
                ConvergenceWarning,
                stacklevel=5,
            )
        elif not result.converged:
            warnings.warn(
                f"{prefix} Maximum iterations ({result.n_iter}) reached and the "
                "optimization hasn't converged yet.",
                ConvergenceWarning,
                stacklevel=5,
            )

    def _train_run(
        self, X, observed, scaling, train_entries, validation, model, penalty,
        device, **options,
    ):  # fmt: skip
        """Train ``model`` (and ``penalty``) on ``device``; return a ``_Run``.

        Sets no attribute: ``fit`` and the new-data rules of subclasses both use it.
        On CUDA all of it runs on a stream of the fit's own (:func:`own_stream`):
        threads fitting at once never meet on the legacy default stream, which
        another thread's graph capture forbids. ``options``: see
        :meth:`_train_on_device`.
        """
        with own_stream(device):
            return self._train_on_device(
                X, observed, scaling, train_entries, validation, model, penalty,
                device, **options,
            )  # fmt: skip

    def _train_on_device(
        self, X, observed, scaling, train_entries, validation, model, penalty,
        device, *, max_iter, record_every=None, warm=False, guide=None,
        generator=None, stride=1,
    ):  # fmt: skip
        """The body of :meth:`_train_run`, on the current stream.

        The validation error is the mean squared error of the held-out entries in
        scaled units, so stopping does not depend on the data's units. ``guide``
        (``(values, weights)`` in data units, weights 0 on observed entries) adds
        those missing entries to the data term, each weighted relative to a
        training entry. ``stride`` > 1 (checked against the penalty by the caller:
        ``_check_batching``) trains on random sub-grids drawn from ``generator``.
        """
        prefix = f"[{type(self).__name__}]"
        batches = None
        if stride > 1:
            if generator is None:
                raise ValueError("stochastic steps need a generator (the seed)")
            batches = self._batches(X.shape, stride, device, generator)
        model = model.to(device)
        if penalty is not None:
            penalty = penalty.to(device)

        def tensor(a):
            return torch.as_tensor(a, dtype=torch.float32, device=device)

        # Observed entries in scaled units, 0 elsewhere (missing values never read).
        target = np.where(observed, scaling.to_scaled(np.where(observed, X, 0.0)), 0.0)
        data_weight = train_entries / train_entries.sum()
        if guide is not None:
            values, weights = guide
            target = np.where(weights > 0, scaling.to_scaled(values), target)
            data_weight = data_weight + weights / train_entries.sum()
        inputs = self._model_inputs(X.shape, device)
        # Compiled wrappers share the modules' parameters; the modules stay plain.
        trained_model = torch.compile(model) if self.compile else model
        trained_penalty = penalty
        if self.compile and penalty is not None:
            trained_penalty = torch.compile(penalty)
        trainer = Trainer(
            model,
            lambda index=None: self._complete(trained_model, inputs, index),
            tensor(target),
            tensor(data_weight),
            penalty=trained_penalty,
            view_shape=self._reg_shape(X.shape),
            learning_rate=self.learning_rate_init,
            val_weight=None
            if validation is None
            else tensor(validation / validation.sum()),
            # (one fixed step: "auto" leaves stochastic batches uncaptured)
            cuda_graph=device.type == "cuda"
            and (self.cuda_graph is True or (self.cuda_graph and batches is None)),
            precision=self.precision,
            batches=batches,
        )
        if self.verbose:
            print(
                f"{prefix} fitting {X.shape[0]}x{X.shape[1]} matrix, "
                f"{int(train_entries.sum())} training / "
                f"{0 if validation is None else int(validation.sum())} validation "
                f"entries, device={device}"
            )
        callbacks = [
            DivergenceGuard(),
            EarlyStopping(self.tol, self.n_iter_no_change),
            ProgressBar(max_iter, prefix, self.verbose),
        ]
        history = None
        if record_every is not None:
            if batches is not None:  # a step sees a sub-grid: record the whole matrix

                def completion_of(_):
                    with torch.no_grad():
                        Z = self._complete(model, inputs)
                    return scaling.from_scaled(Z.double().cpu().numpy())
            else:

                def completion_of(Z):
                    return scaling.from_scaled(Z.double().cpu().numpy())

            history = History(
                record_every, completion_of, penalty, after_step=batches is not None
            )
            callbacks.append(history)
        try:
            result = train(trainer, max_iter, callbacks, warm=warm)
        except DivergenceError as exc:
            raise DivergenceError(
                f"{prefix} {exc} Parameters: learning_rate_init="
                f"{self.learning_rate_init}, reg={self.reg!r}."
            ) from None
        finally:
            trainer.release_graph()
        model.eval()
        with torch.no_grad():
            completion = self._complete(model, inputs).double().cpu().numpy()
        if not np.isfinite(completion).all():
            raise DivergenceError(
                f"{prefix} the fitted model outputs non-finite values; lower "
                f"learning_rate_init={self.learning_rate_init} or the regularizer's "
                "weights."
            )
        return _Run(
            model=model.cpu(),
            penalty=None if penalty is None else penalty.cpu(),
            completion=scaling.from_scaled(completion),
            result=result,
            history=None if history is None else history.records,
        )

    def _split(self, observed, rng):
        """Training and validation entries (boolean arrays; validation None if unused).

        The validation entries are one held-out set of
        :func:`~inrr_sklearn.model_selection.split_observed`.
        """
        if self.early_stopping is False:
            return observed, None
        folds = split_observed(observed, self.validation_fraction, random_state=rng)
        if not folds:
            if self.early_stopping == "auto":
                return observed, None
            raise ValueError(
                f"early_stopping=True holds out validation_fraction="
                f"{self.validation_fraction} of the {int(observed.sum())} observed "
                "entries, which leaves no validation or no training entry. Use more "
                "data, another validation_fraction, or early_stopping='auto' (off "
                "on such tables)."
            )
        validation = folds[0]
        return observed & ~validation, validation

    def _reg_shape(self, shape):
        """The shape regularizers see: ``(H, W)``, or ``(H, W, C)`` with channels."""
        if self.n_channels == 1:
            return tuple(shape)
        return (shape[0], shape[1] // self.n_channels, self.n_channels)


class _Run(NamedTuple):
    """What one training run produced (models on CPU, completion in data units)."""

    model: torch.nn.Module
    penalty: Penalty | None
    completion: np.ndarray
    result: TrainResult
    history: dict | None
