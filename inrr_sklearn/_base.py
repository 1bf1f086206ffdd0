"""The shared estimator machinery: ``_BaseTorchImputer``.

It owns everything the imputers have in common: the shared parameters (declared,
stored and validated once), input and mask validation, value scaling learned from the
observed entries (in float64, whatever the data's units), device and seed resolution,
the assembly of a training run around :class:`inrr_sklearn._training.Trainer` (early
stopping on held-out observed entries, best-iterate restore, divergence and interrupt
handling live there), progress, ``ConvergenceWarning``, the all-or-nothing publication
of fitted state and the assembly of the output (observed entries returned
bit-for-bit).

Subclasses provide the model: ``_build_model(shape, generator)`` returns an
``nn.Module``, ``_complete(model, inputs)`` returns the completed matrix (in scaled
units) for the inputs prepared by ``_model_inputs(shape, device)``, and
``_architecture()`` names the parameters that fix the model's shapes (a warm start
refuses to continue when one of them changed). A subclass that can complete a matrix
other than the fitted one overrides ``_transform_new``.
"""

import copy
import inspect
import textwrap
import warnings
from numbers import Integral, Real
from typing import NamedTuple

import numpy as np
import torch
from sklearn.base import BaseEstimator, OneToOneFeatureMixin, TransformerMixin, clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.impute import MissingIndicator
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted, validate_data

from inrr_sklearn._training import (
    PRECISIONS,
    DivergenceError,
    StoppingRule,
    Trainer,
    TrainResult,
    train,
)
from inrr_sklearn._utils import (
    Interval,
    MissingValues,
    StrOptions,
    VersionedPickleMixin,
    _fit_context,
    is_scalar_nan,
    make_generator,
    resolve_device,
)
from inrr_sklearn.regularizers import BaseRegularizer, Penalty


def _is_missing_object(value):
    """None and pandas' NA in an object array (both read as NaN)."""
    return value is None or type(value).__name__ == "NAType"


def _placeholder_is_nan(missing_values):
    """NaN, None and pd.NA all mean "NaN" once objects are read as numbers."""
    return is_scalar_nan(missing_values) or _is_missing_object(missing_values)


def _missing_by_value(X, missing_values):
    if _placeholder_is_nan(missing_values):
        return np.isnan(X)
    return X == missing_values


def _not_a_number(exc):
    return TypeError(
        f"X holds an object that is not a number ({exc}); this imputer completes "
        "numeric matrices."
    )


def _objects_to_numbers(X):
    """Numbers held as objects become float64, with ``None``/``pd.NA`` as NaN.

    Object arrays, lists holding ``None`` and pandas object or nullable columns are
    converted; any other input passes through unchanged. Raises ``TypeError`` for a
    value that is not a number.
    """
    if hasattr(X, "columns") and hasattr(X, "dtypes"):  # a DataFrame
        if all(getattr(dtype, "kind", "O") in "iufb" for dtype in X.dtypes):
            return X
        try:
            return X.astype(object).where(X.notna(), np.nan).astype(np.float64)
        except (TypeError, ValueError) as exc:
            raise _not_a_number(exc) from exc
    if isinstance(X, list | tuple):
        X = np.asarray(X, dtype=object)
    if not isinstance(X, np.ndarray) or X.dtype != object:
        return X
    to_number = np.frompyfunc(lambda v: np.nan if _is_missing_object(v) else v, 1, 1)
    try:
        return np.asarray(to_number(X)).astype(np.float64)
    except (TypeError, ValueError) as exc:
        raise _not_a_number(exc) from exc


def _boolean_matrix(y):
    """``y`` as a 2-D boolean ndarray if it is one (numpy or pandas), else None."""
    if y is None or hasattr(y, "toarray") or hasattr(y, "tocsr"):
        return None
    dtypes = getattr(y, "dtypes", None)
    if dtypes is not None and hasattr(y, "columns"):  # pandas bool or "boolean"
        if len(dtypes) and all(str(dtype) in ("bool", "boolean") for dtype in dtypes):
            if y.isna().to_numpy().any():
                raise ValueError("the positional mask holds missing values (pd.NA).")
            return y.to_numpy(dtype=bool)
        return None
    array = np.asarray(y)
    return array if array.dtype == bool and array.ndim == 2 else None


def _check_mask(mask, X, missing):
    """Validate a user mask (True/1 = observed) against X; return a boolean copy."""
    if hasattr(mask, "toarray") or hasattr(mask, "tocsr"):
        raise TypeError("mask must be a dense array; got a sparse matrix.")
    mask = np.asarray(mask)
    if mask.shape != X.shape:
        raise ValueError(
            f"mask has shape {mask.shape}, but X has shape {X.shape}; they must match "
            "(True/1 = observed)."
        )
    if mask.dtype != bool and (
        mask.dtype.kind not in "iuf" or not np.isin(mask, (0, 1)).all()
    ):
        raise ValueError(
            f"mask must be boolean or contain only 0 and 1 (True/1 = observed); "
            f"got dtype {mask.dtype}."
        )
    mask = mask.astype(bool, copy=True)  # never keep the user's array by reference
    clash = mask & missing
    if clash.any():
        i, j = np.argwhere(clash)[0]
        raise ValueError(
            f"mask marks {int(clash.sum())} entries as observed where X holds the "
            f"missing value (first at row {i}, column {j})."
        )
    return mask


class _Scaling(NamedTuple):
    """``Z = (X - offset) / span`` per column (float64), and the constant columns.

    ``constant`` holds, per column, the value that every observed entry shares when
    the column (or, for whole-matrix scalings, the whole matrix) is constant, else
    NaN: such columns are completed with that value exactly.
    """

    offset: np.ndarray  # (1, n_cols)
    span: np.ndarray  # (1, n_cols), > 0
    constant: np.ndarray  # (1, n_cols), NaN where not constant

    def to_scaled(self, X):
        return (np.asarray(X, dtype=np.float64) - self.offset) / self.span

    def from_scaled(self, Z):
        X = np.asarray(Z, dtype=np.float64) * self.span + self.offset
        return np.where(np.isnan(self.constant), X, self.constant)


# scaling="auto" scales per column when column ranges differ by more than this factor
# (columns in different units, as in most tables); else one scale (an image).
_AUTO_SPAN_RATIO = 1e3


# Below this fraction of the largest column range, float32 cannot resolve a column
# under one whole-matrix scale.
_FLOAT32_RESOLUTION = 1e-6


def _resolve_scaling(kind, X, observed):
    """The scaling ``"auto"`` stands for on this matrix (other kinds unchanged).

    Warns when ``"global"`` would squeeze some columns below float32 resolution.
    """
    if kind not in ("auto", "global"):
        return kind
    values = np.where(observed, X, np.nan).astype(np.float64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-missing columns
        spans = np.nanmax(values, axis=0) - np.nanmin(values, axis=0)
    spans = spans[np.isfinite(spans) & (spans > 0)]
    ratio = spans.max() / spans.min() if spans.size else 1.0
    if kind == "auto":
        return "per_column" if ratio > _AUTO_SPAN_RATIO else "global"
    if ratio * _FLOAT32_RESOLUTION > 1:
        warnings.warn(
            f"scaling='global' maps the whole matrix onto one range, but its columns' "
            f"ranges differ by a factor of {ratio:.3g}: the narrowest fall below "
            "float32 resolution and will be imputed poorly. Use scaling='per_column' "
            "(or 'standard', or 'auto') for columns in different units.",
            UserWarning,
            stacklevel=5,
        )
    return kind


def _fit_scaling(X, observed, kind, low_high=(0.0, 1.0)):
    """Learn a :class:`_Scaling` from the observed entries of X.

    ``"global"``: one min-max of the whole matrix onto ``low_high``; ``"per_column"``:
    one min-max per column; ``"standard"``: per-column mean and standard deviation;
    ``"none"``: the identity. A column without observed entries takes the whole
    matrix's statistics. Statistics are computed in float64 on the values divided by
    their largest magnitude, so that neither 1e300 nor 1e-300 overflows or underflows.
    """
    n_cols = X.shape[1]
    values = np.where(observed, X, np.nan).astype(np.float64)
    unit = float(np.nanmax(np.abs(values)))
    unit = unit if unit > 0 else 1.0
    V = values / unit
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-missing columns
        if kind == "standard":
            offset = np.nanmean(V, axis=0, keepdims=True)
            offset = np.where(np.isnan(offset), np.nanmean(V), offset)
            span = np.nanstd(V, axis=0, keepdims=True)
            span = np.where(np.isnan(span), np.nanstd(V), span)
        else:
            low, high = low_high
            lo, hi = np.nanmin(V), np.nanmax(V)
            if kind == "per_column":
                lo = np.where(np.isnan(c := np.nanmin(V, 0, keepdims=True)), lo, c)
                hi = np.where(np.isnan(c := np.nanmax(V, 0, keepdims=True)), hi, c)
            span = np.broadcast_to((hi - lo) / (high - low), (1, n_cols))
            offset = np.broadcast_to(lo - low * span, (1, n_cols))
    if kind == "none":
        return _Scaling(
            offset=np.zeros((1, n_cols)),
            span=np.ones((1, n_cols)),
            constant=np.full((1, n_cols), np.nan),
        )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-missing columns
        first = np.nanmin(values, axis=0, keepdims=True)  # exact observed values
        last = np.nanmax(values, axis=0, keepdims=True)
    first = np.where(np.isnan(first), np.nanmin(values), first)
    last = np.where(np.isnan(last), np.nanmax(values), last)
    flat = first == last  # (a standard deviation of equal values may not be 0)
    if kind == "global":  # a lone observed value in an image column is no constant
        flat &= (observed.sum(axis=0, keepdims=True) >= 2) | (
            np.nanmax(V) == np.nanmin(V)
        )
    return _Scaling(
        offset=offset * unit,
        span=np.where(span > 0, span, 1.0) * unit,
        constant=np.where(flat, first, np.nan),
    )


# The parameters both imputers share, documented once; ``{name}`` is filled with each
# imputer's default by ``_document_shared_parameters``.
_SHARED_PARAMETERS = """\
max_iter : int, default={max_iter}
    Maximum number of full-batch Adam steps.
tol : float, default={tol}
    Minimum *relative* decrease of the monitored quantity (validation error with
    early stopping, else the training loss) that counts as an improvement: a value
    improves on the best ``b`` when it is below ``b * (1 - tol)``, whatever the
    data's units.
learning_rate_init : float, default={learning_rate_init}
    Adam learning rate of the model.
n_iter_no_change : int, default={n_iter_no_change}
    Stop after this many steps without improvement.
early_stopping : bool, default={early_stopping}
    Hold out ``validation_fraction`` of the observed entries, monitor their error
    and restore the best iterate at the end (also after a divergence or a Ctrl-C).
validation_fraction : float, default={validation_fraction}
    Fraction of observed entries held out when ``early_stopping`` is True.
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
    Capture the training step (forward, penalty, backward, both Adams, the
    best-iterate bookkeeping) as one CUDA graph after 3 eager steps and replay it:
    one launch per step instead of hundreds of small kernels (the same arithmetic).
    "auto" captures on CUDA devices; True on a CPU device is an error.
compile : bool, default={compile}
    Compile the model and the regularizer with ``torch.compile`` for training
    (fused elementwise kernels; on CUDA inside the graph). The first steps wait for
    the compiler (seconds on a GPU, more on CPU, where the fused CPU kernel is
    already faster); the fitted model is the plain module.
precision : {{"float32", "tf32", "bfloat16"}}, default={precision}
    Arithmetic of the training step. "tf32": float32 matmuls on TF32 tensor cores
    (CUDA only; no effect on CPU). "bfloat16": the forward pass and loss under
    ``torch.autocast`` to bfloat16. The fitted model stays float32 either way; see
    ``docs/gpu.md`` for the measured speed and quality of each.
warm_start : bool, default={warm_start}
    Continue from the previous fit's model (same matrix shape) instead of a new one.
    A changed regularizer is applied (its learned parts start from the previous
    ones where they fit) and the scaling is learned again; a changed architecture
    raises a ``ValueError``.
missing_values : float, int, None or pandas.NA, default={missing_values}
    The placeholder of missing entries (None and pandas.NA mean NaN).
n_channels : int, default={n_channels}
    Number of channels per pixel: an ``(H, W, C)`` image (RGB, or a stack of C
    frames) is passed as ``X = image.reshape(H, W * C)`` with ``n_channels=C`` and the
    output reshapes back the same way. Regularizers act on the ``(H, W, C)`` tensor:
    INRR and AIR learn one similarity over rows and one over pixel columns, each
    shared by all channels; TV sums over channels.
add_indicator : bool, default={add_indicator}
    Append a :class:`~sklearn.impute.MissingIndicator` block (one 0/1 column per
    column that had missing entries in ``fit``) to the output, as scikit-learn's
    imputers do; downstream models can then use the missingness itself.
record_every : int or None, default={record_every}
    Record a snapshot every ``record_every`` steps into ``history_`` (completion,
    regularizer state) for the plots of :mod:`inrr_sklearn.plotting`. Each record
    copies the matrix to the host; ``None`` records nothing.
"""


def _document_shared_parameters(cls):
    """Class decorator: write the shared parameters, with ``cls``'s defaults, where
    its docstring holds the line ``{shared parameters}``."""
    defaults = {
        name: "np.nan" if is_scalar_nan(p.default) else repr(p.default)
        for name, p in inspect.signature(cls.__init__).parameters.items()
        if p.default is not inspect.Parameter.empty
    }
    text = _SHARED_PARAMETERS.format(name=cls.__name__, **defaults)
    cls.__doc__ = cls.__doc__.replace(
        "    {shared parameters}\n", textwrap.indent(text, "    ")
    )
    return cls


class _BaseTorchImputer(
    VersionedPickleMixin, OneToOneFeatureMixin, TransformerMixin, BaseEstimator
):
    """Base class of the torch imputers (not public; see INRImputer).

    Holds, stores, validates and documents (``_SHARED_PARAMETERS``) the parameters
    both imputers share.
    """

    _parameter_constraints: dict = {
        "reg": [BaseRegularizer, None],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "learning_rate_init": [Interval(Real, 0, None, closed="neither")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "scaling": [StrOptions({"auto", "global", "per_column", "standard", "none"})],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
        "device": [str, torch.device],
        "cuda_graph": ["boolean", StrOptions({"auto"})],
        "compile": ["boolean"],
        "precision": [StrOptions(set(PRECISIONS))],
        "warm_start": ["boolean"],
        "missing_values": [MissingValues()],
        "add_indicator": ["boolean"],
        "record_every": [Interval(Integral, 1, None, closed="left"), None],
        "n_channels": [Interval(Integral, 1, None, closed="left")],
    }

    def __init__(
        self, *, reg, max_iter, tol, learning_rate_init, n_iter_no_change,
        early_stopping, validation_fraction, scaling, random_state, verbose, device,
        cuda_graph, compile, precision, warm_start, missing_values, n_channels,
        add_indicator, record_every,
    ):  # fmt: skip
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
        self.missing_values = missing_values
        self.n_channels = n_channels
        self.add_indicator = add_indicator
        self.record_every = record_every

    # ------------------------------------------------------------------ subclass hooks
    _output_low_high = (0.0, 1.0)  # range the scaled observed values are mapped onto
    # The model is kept over the column means only when its validation error is lower
    # by more than this many standard errors of the per-entry difference (see
    # _means_beat_model); 0 keeps any model that is lower at all.
    _mean_fallback_z = 0.0

    def _build_model(self, shape, generator):
        raise NotImplementedError

    def _model_inputs(self, shape, device):
        return None

    def _complete(self, model, inputs):
        raise NotImplementedError

    def _architecture(self):
        """Parameters that fix the model's shapes (compared on warm starts)."""
        return {"n_channels": self.n_channels}

    def _check_values(self, X, observed, scaling):
        """Refuse observed values the model cannot represent (none by default)."""

    def _guide(self, X, observed):
        """``(values, weights)``: an extra data term on missing entries (none here)."""
        return None

    # ------------------------------------------------------------------ validation
    def _validate_input(self, X, reset):
        if isinstance(self.missing_values, str):
            raise ValueError(
                f"missing_values={self.missing_values!r} is a string, but this imputer "
                "completes numeric matrices: use NaN (the default) or a number."
            )
        X = _objects_to_numbers(X)
        allow_nan = _placeholder_is_nan(self.missing_values)
        return validate_data(
            self,
            X,
            reset=reset,
            dtype=[np.float64, np.float32],
            ensure_all_finite="allow-nan" if allow_nan else True,
            copy=False,
        )

    def _observed_mask(self, X, y, mask):
        """Boolean observed entries from ``mask``, a 2-D boolean ``y``, or X itself.

        ``y`` is read as the mask only when it is a 2-D boolean array (the card's
        ``fit(X, mask)``); any other ``y`` (targets, 0/1 matrices) is ignored.
        """
        missing = _missing_by_value(X, self.missing_values)
        y_array = _boolean_matrix(y)
        if y_array is not None:
            if mask is not None:
                raise ValueError(
                    "the mask was given twice, positionally (y) and as mask=; "
                    "give it once."
                )
            if y_array.shape != X.shape:
                raise ValueError(
                    f"the positional mask (a 2-D boolean y) has shape {y_array.shape}, "
                    f"but X has shape {X.shape}; they must match (True = observed). "
                    "If y is a boolean multilabel target, pass y.astype(int): only "
                    "2-D boolean arrays are read as masks."
                )
            mask = y_array
        if mask is None:
            return ~missing
        return _check_mask(mask, X, missing)

    # ------------------------------------------------------------------ fit
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None, *, mask=None):
        """Fit the model to the observed entries of X.

        Fitted state is published all-or-nothing: a fit that raises (bad input, a
        divergence with no iterate to restore, a second Ctrl-C) leaves the estimator
        as it was before the call. A first Ctrl-C stops training and keeps the best
        iterate so far as the fitted model, with a warning.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Matrix with missing entries (``missing_values``, NaN by default).
        y : 2-D boolean array of X's shape, or None
            A 2-D boolean array is read as the mask (so ``fit(X, mask)`` works);
            anything else (a target vector, a 0/1 matrix) is ignored, as the
            convention wants. Pass a 0/1 mask as ``mask=``.
        mask : array-like of X's shape, bool or 0/1, default=None
            True/1 marks an observed entry (the opposite of scikit-image's and
            OpenCV's inpainting masks, where nonzero marks a hole). Entries marked
            missing are hidden from the model even if X holds a value there, and
            ``transform`` of this X completes them. Must not mark a missing value as
            observed. ``None`` means every entry that is not ``missing_values``.

        Returns
        -------
        self : object
            Fitted estimator.
        """
        state = self.__dict__.copy()
        try:
            self._fit(X, y, mask)
        except BaseException:
            self.__dict__.clear()
            self.__dict__.update(state)
            raise
        return self

    def fit_transform(self, X, y=None, *, mask=None):
        """Fit to X and return it completed (observed entries unchanged).

        Parameters
        ----------
        X, y, mask
            As in :meth:`fit`.

        Returns
        -------
        X_completed : ndarray of shape (n_samples, n_features)
            The entries that ``mask`` (or the missing values) hides are completed.
        """
        return self.fit(X, y, mask=mask).transform(X)

    def _fit(self, X, y, mask):
        """validate -> split -> build (or continue) -> train -> publish."""
        warm = self.warm_start and hasattr(self, "model_")
        X = self._validate_input(X, reset=not warm)
        observed = self._observed_mask(X, y, mask)
        if not observed.any():
            raise ValueError(
                "X has no observed entry (every entry is missing or masked): there is "
                "nothing to complete from."
            )
        if warm:
            self._check_warm_start(X)
        if X.shape[1] % self.n_channels:
            raise ValueError(
                f"X has {X.shape[1]} columns, not a multiple of n_channels="
                f"{self.n_channels}; pass an (H, W, C) image as X.reshape(H, W * C)."
            )
        device = resolve_device(self.device)
        if self.cuda_graph is True and device.type != "cuda":
            raise ValueError(
                f"cuda_graph=True needs a CUDA device; this fit runs on {device}. Use "
                "cuda_graph='auto' (graphs where CUDA is used) or False."
            )
        rng = check_random_state(self.random_state)
        generator = make_generator(rng)
        scaling_kind = _resolve_scaling(self.scaling, X, observed)
        self._check_values(X, observed, scaling_kind)
        scaling = _fit_scaling(X, observed, scaling_kind, self._output_low_high)
        train_entries, validation = self._split(observed, rng)
        if warm:  # a copy: a failed refit leaves the fitted model untouched
            model = copy.deepcopy(self.model_)
        else:
            model = self._build_model(X.shape, generator)
        reg = None if self.reg is None else clone(self.reg)
        penalty = self._build_penalty(
            reg, X.shape, train_entries, generator, self.penalty_ if warm else None
        )
        run = self._train_run(
            X, observed, scaling, train_entries, validation, model, penalty, device,
            max_iter=self.max_iter, record_every=self.record_every, warm=warm,
            guide=self._guide(X, observed),
        )  # fmt: skip
        completion = run.completion
        falls_back = validation is not None and self._means_beat_model(
            X, scaling, train_entries, validation, completion
        )
        if falls_back:  # column means (the whole mean for all-missing columns)
            values = np.where(observed, X, np.nan).astype(np.float64)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                means = np.nanmean(values, axis=0)
            means = np.where(np.isnan(means), np.nanmean(values), means)
            # (through the scaling so that constant columns keep their exact value)
            completion = scaling.from_scaled(
                scaling.to_scaled(np.broadcast_to(means, X.shape))
            )
            warnings.warn(
                f"[{type(self).__name__}] the fitted model's error on the held-out "
                f"entries is not {'clearly ' if self._mean_fallback_z else ''}below "
                "that of the column means: completing with the column means instead "
                "(mean_fallback_ is True). The model does not suit this data (for "
                "tables, see BlendImputer).",
                UserWarning,
                stacklevel=4,
            )

        # Publish (fit restores the previous state if anything above raised).
        for optional in ("validation_scores_", "best_validation_score_", "history_"):
            self.__dict__.pop(optional, None)  # only what this fit produced remains
        self.device_ = device
        self.scaling_ = scaling_kind
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
        if self.add_indicator:
            self.indicator_ = MissingIndicator(error_on_new=False).fit(
                np.where(observed, X, np.nan)
            )
        self._architecture_fit = self._architecture()
        self._scaling = scaling
        self._X_fit = X.copy()
        self._observed_fit = observed
        self.mean_fallback_ = falls_back
        self._completion = completion
        self._report(run.result)

    def _means_beat_model(self, X, scaling, train_entries, validation, completion):
        """Whether the model fails to predict the validation entries *clearly* better
        than the training entries' column means (both in scaled units).

        With :math:`d_i` the model's squared error minus the means' on validation
        entry :math:`i`, the model is kept only when :math:`\\bar d \\le -z\\,s_d/\\sqrt n`
        (``z = _mean_fallback_z``; INRImputer's 2: a few lucky held-out entries on a
        small table do not keep a bad fit, while on images, thousands of entries, a
        better model always passes).
        """
        Z = scaling.to_scaled(np.where(train_entries | validation, X, 0.0))
        counts = train_entries.sum(axis=0)
        sums = np.where(train_entries, Z, 0.0).sum(axis=0)
        means = np.divide(sums, counts, out=np.zeros_like(sums), where=counts > 0)
        model = scaling.to_scaled(completion)
        errors_model = (model - Z)[validation] ** 2
        errors_means = (np.broadcast_to(means, Z.shape) - Z)[validation] ** 2
        gain = errors_model - errors_means
        margin = 0.0  # one entry has no spread: any gain keeps the model
        if gain.size > 1:
            margin = self._mean_fallback_z * gain.std(ddof=1) / np.sqrt(gain.size)
        return bool(gain.mean() > -margin)

    def _build_penalty(self, reg, shape, train_entries, generator, previous):
        """The built regularizer (on CPU), started from ``previous`` where it fits."""
        if reg is None:
            return None
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
        device, *, max_iter, record_every=None, warm=False, guide=None,
    ):  # fmt: skip
        """Train ``model`` (and ``penalty``) on ``device``; return a ``_Run``.

        Sets no attribute: ``fit`` and the new-data rules of subclasses both use it.
        The validation error is the mean squared error of the held-out entries in
        scaled units, so stopping does not depend on the data's units. ``guide``
        (``(values, weights)`` in data units, weights 0 on observed entries) adds
        those missing entries to the data term, each weighted relative to a
        training entry.
        """
        prefix = f"[{type(self).__name__}]"
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
            lambda: self._complete(trained_model, inputs),
            tensor(target),
            tensor(data_weight),
            penalty=trained_penalty,
            view_shape=self._reg_shape(X.shape),
            learning_rate=self.learning_rate_init,
            val_weight=None
            if validation is None
            else tensor(validation / validation.sum()),
            cuda_graph=self.cuda_graph is not False and device.type == "cuda",
            precision=self.precision,
        )
        history, on_step = None, None
        if record_every is not None:
            history = {"iteration": [], "completion": [], "regularizer": []}

            def on_step(iteration, result):
                if iteration % record_every:
                    return
                # A host copy (and so a sync): the price of recording, paid only then.
                history["iteration"].append(iteration)
                history["completion"].append(
                    scaling.from_scaled(result.completion.double().cpu().numpy())
                )
                history["regularizer"].append(
                    {} if penalty is None else penalty.snapshot()
                )

        if self.verbose:
            print(
                f"{prefix} fitting {X.shape[0]}x{X.shape[1]} matrix, "
                f"{int(train_entries.sum())} training / "
                f"{0 if validation is None else int(validation.sum())} validation "
                f"entries, device={device}"
            )
        progress = _progress_bar(max_iter, prefix, self.verbose)

        def on_flush(losses, vals):
            progress.update(len(losses))
            postfix = {"loss": f"{losses[-1]:.3g}"}
            if vals is not None:
                postfix["val_mse"] = f"{vals[-1]:.3g}"
            progress.set_postfix(postfix, refresh=False)

        try:
            result = train(
                trainer, max_iter, StoppingRule(self.tol, self.n_iter_no_change),
                warm=warm, on_step=on_step, on_flush=on_flush,
            )  # fmt: skip
        except DivergenceError as exc:
            raise DivergenceError(
                f"{prefix} {exc} Parameters: learning_rate_init="
                f"{self.learning_rate_init}, reg={self.reg!r}."
            ) from None
        finally:
            progress.close()
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
            history=history,
        )

    def _split(self, observed, rng):
        """Training and validation entries (boolean arrays; validation None if unused)."""
        if not self.early_stopping:
            return observed, None
        obs_idx = np.flatnonzero(observed)
        n_val = round(self.validation_fraction * obs_idx.size)
        if n_val < 1 or n_val >= obs_idx.size:
            raise ValueError(
                f"early_stopping=True holds out validation_fraction="
                f"{self.validation_fraction} of the {obs_idx.size} observed entries, "
                "which leaves no validation or no training entry. Use more data, "
                "another validation_fraction, or early_stopping=False."
            )
        val_idx = rng.choice(obs_idx, size=n_val, replace=False)
        train_entries = observed.copy()
        train_entries.flat[val_idx] = False
        validation = np.zeros(observed.shape, dtype=bool)
        validation.flat[val_idx] = True
        return train_entries, validation

    def _reg_shape(self, shape):
        """The shape regularizers see: ``(H, W)``, or ``(H, W, C)`` with channels."""
        if self.n_channels == 1:
            return tuple(shape)
        return (shape[0], shape[1] // self.n_channels, self.n_channels)

    # ------------------------------------------------------------------ transform
    def transform(self, X, *, mask=None):
        """Return X with its missing entries completed.

        On the matrix given to ``fit`` this returns the fitted completion, with the
        fitted mask when ``mask`` is None (so ``fit(X, mask).transform(X)`` completes
        the entries that ``mask`` hid). Any other matrix goes to the estimator's rule
        for new data (see its Notes). Observed entries are returned exactly as given.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The matrix to complete (usually the fitted one).
        mask : array-like of X's shape, default=None
            True/1 = observed, as in ``fit``.

        Returns
        -------
        X_completed : ndarray of shape (n_samples, n_features)
        """
        check_is_fitted(self)
        X = self._validate_input(X, reset=False)
        is_fitted_X = X.shape == self._X_fit.shape and np.array_equal(
            X, self._X_fit.astype(X.dtype), equal_nan=True
        )  # (the fitted matrix cast to float32 is still the fitted matrix)
        if mask is None and is_fitted_X:
            observed = self._observed_fit
        else:
            observed = self._observed_mask(X, None, mask)
        if is_fitted_X and np.array_equal(observed, self._observed_fit):
            completion = self._completion
        else:
            completion = self._transform_new(X, observed)
        out = np.array(X, dtype=X.dtype, copy=True)
        missing = ~observed
        limit = np.finfo(X.dtype).max  # a float32 output never overflows to inf
        out[missing] = np.clip(completion[missing], -limit, limit).astype(X.dtype)
        if self.add_indicator:
            indicator = self.indicator_.transform(np.where(observed, X, np.nan))
            out = np.hstack([out, indicator.astype(X.dtype)])
        return out

    def get_feature_names_out(self, input_features=None):
        """Output feature names: the input columns, then the indicator columns.

        Parameters
        ----------
        input_features : array-like of str or None, default=None
            Input feature names; ``None`` uses ``feature_names_in_`` or ``x0, x1, ...``.

        Returns
        -------
        feature_names_out : ndarray of str objects
        """
        names = super().get_feature_names_out(input_features)
        if not self.add_indicator:
            return names
        return np.concatenate([names, self.indicator_.get_feature_names_out(names)])

    def _transform_new(self, X, observed):
        """Completion (data units) of a matrix that is not the fitted one."""
        raise ValueError(
            f"{type(self).__name__} completes the matrix it was fitted on; X differs "
            f"from it (shape {X.shape} vs {self._X_fit.shape}, or other observed "
            "entries). Call fit or fit_transform on the new matrix."
        )

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = _placeholder_is_nan(self.missing_values)
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags


class _Run(NamedTuple):
    """What one training run produced (models on CPU, completion in data units)."""

    model: torch.nn.Module
    penalty: Penalty | None
    completion: np.ndarray
    result: TrainResult
    history: dict | None


def _progress_bar(total, prefix, verbose):
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=prefix, disable=not verbose, leave=False)
