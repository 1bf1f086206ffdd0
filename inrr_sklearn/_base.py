"""The shared estimator machinery: ``_BaseTorchImputer``.

It owns everything the imputers have in common: input and mask validation, value
scaling learned from observed entries, device and seed resolution, the full-batch
training loop (Adam on the main model, Adam on the regularizer's trainable part, one
loss and one backward pass per step), early stopping on held-out observed entries with
restoration of the best iterate, progress reporting, ``ConvergenceWarning`` and the
assembly of the output (observed entries returned bit-for-bit).

Subclasses provide the model: ``_build_model(shape, generator)`` returns an
``nn.Module`` and ``_complete(model, inputs)`` returns the completed matrix (in scaled
units) for the inputs prepared by ``_model_inputs(shape, device)``. A subclass that
can complete a matrix other than the fitted one overrides ``_transform_new``.
"""

import math
import time
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

from inrr_sklearn._utils import (
    Interval,
    MissingValues,
    StrOptions,
    _fit_context,
    make_generator,
    resolve_device,
)
from inrr_sklearn.regularizers import BaseRegularizer

# Steps between two reads of the loss on the host. Losses and validation scores stay on
# the device in between, so a GPU never waits for Python inside the loop.
_SYNC_EVERY = 25


def _is_nan(value):
    """Whether the ``missing_values`` placeholder is NaN."""
    return isinstance(value, float) and math.isnan(value)


def _missing_by_value(X, missing_values):
    if _is_nan(missing_values):
        return np.isnan(X)
    return X == missing_values


def _check_mask(mask, X, missing):
    """Validate a user mask (True/1 = observed) against X; return a boolean array."""
    if hasattr(mask, "toarray") or hasattr(mask, "tocsr"):
        raise TypeError("mask must be a dense array; got a sparse matrix.")
    mask = np.asarray(mask)
    if mask.shape != X.shape:
        raise ValueError(
            f"mask has shape {mask.shape}, but X has shape {X.shape}; they must match "
            "(True/1 = observed)."
        )
    if mask.dtype != bool:
        if mask.dtype.kind not in "iuf" or not np.isin(mask, (0, 1)).all():
            raise ValueError(
                f"mask must be boolean or contain only 0 and 1 (True/1 = observed); "
                f"got dtype {mask.dtype}."
            )
        mask = mask.astype(bool)
    clash = mask & missing
    if clash.any():
        i, j = np.argwhere(clash)[0]
        raise ValueError(
            f"mask marks {int(clash.sum())} entries as observed where X holds the "
            f"missing value (first at row {i}, column {j})."
        )
    return mask


class _BaseTorchImputer(OneToOneFeatureMixin, TransformerMixin, BaseEstimator):
    """Base class of the torch imputers (not public; see INRImputer)."""

    _parameter_constraints: dict = {
        "reg": [BaseRegularizer, None],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "learning_rate_init": [Interval(Real, 0, None, closed="neither")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "scaling": [StrOptions({"global", "per_column", "standard"})],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
        "device": [str, torch.device],
        "warm_start": ["boolean"],
        "missing_values": [MissingValues()],
        "add_indicator": ["boolean"],
        "record_every": [Interval(Integral, 1, None, closed="left"), None],
        "n_channels": [Interval(Integral, 1, None, closed="left")],
    }

    # ------------------------------------------------------------------ subclass hooks
    _output_low_high = (0.0, 1.0)  # range the scaled observed values are mapped onto

    def _build_model(self, shape, generator):
        raise NotImplementedError

    def _model_inputs(self, shape, device):
        return None

    def _complete(self, model, inputs):
        raise NotImplementedError

    # ------------------------------------------------------------------ validation
    def _validate_input(self, X, reset):
        if isinstance(X, np.ndarray) and X.dtype.kind == "O":
            raise TypeError(
                "X has dtype object; convert it to a numeric dtype first (this imputer "
                "does not guess how to read objects)."
            )
        allow_nan = _is_nan(self.missing_values)
        return validate_data(
            self,
            X,
            reset=reset,
            dtype=[np.float64, np.float32],
            ensure_all_finite="allow-nan" if allow_nan else True,
            copy=False,
        )

    def _observed_mask(self, X, y, mask):
        missing = _missing_by_value(X, self.missing_values)
        if mask is None and y is not None:
            y_arr = np.asarray(y)
            if y_arr.shape == X.shape and (
                y_arr.dtype == bool
                or (y_arr.dtype.kind in "iuf" and np.isin(y_arr, (0, 1)).all())
            ):
                mask = y_arr  # the card's fit(X, mask) form
        if mask is None:
            observed = ~missing
        else:
            observed = _check_mask(mask, X, missing)
        if not observed.any():
            raise ValueError(
                "X has no observed entry (every entry is missing or masked): there is "
                "nothing to complete from."
            )
        return observed

    # ------------------------------------------------------------------ scaling
    def _fit_scaling(self, X, observed):
        """Learn ``Z = (X - offset) / span`` per column from the observed entries.

        "global": one min-max of the whole matrix onto ``_output_low_high``; "per_column":
        one min-max per column; "standard": per-column mean and standard deviation.
        A column without observed entries takes the whole matrix's statistics.
        """
        values = np.where(observed, X, np.nan)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-missing columns
            if self.scaling == "standard":
                offset = np.nanmean(values, axis=0, keepdims=True)
                span = np.nanstd(values, axis=0, keepdims=True)
                whole_offset, whole_span = np.nanmean(values), np.nanstd(values)
            else:
                low, high = self._output_low_high
                lo, hi = np.nanmin(values), np.nanmax(values)
                whole_span = (hi - lo) / (high - low)
                whole_offset = lo - low * whole_span
                if self.scaling == "per_column":
                    lo = np.nanmin(values, axis=0, keepdims=True)
                    hi = np.nanmax(values, axis=0, keepdims=True)
                span = np.broadcast_to((hi - lo) / (high - low), (1, X.shape[1]))
                offset = np.broadcast_to(lo - low * span, (1, X.shape[1]))
        offset = np.where(np.isnan(offset), whole_offset, offset)
        span = np.where(np.isnan(span), whole_span, span)
        self._scale_offset = offset.astype(np.float64)
        self._scale_span = np.where(span > 0, span, 1.0).astype(np.float64)

    def _to_scaled(self, X):
        return (X - self._scale_offset) / self._scale_span

    def _scaled_observed(self, X, observed):
        """Observed entries in scaled units, 0 elsewhere (missing values never read)."""
        return np.where(observed, self._to_scaled(np.where(observed, X, 0.0)), 0.0)

    def _from_scaled(self, Z):
        return Z * self._scale_span + self._scale_offset

    # ------------------------------------------------------------------ fit
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None, *, mask=None):
        """Fit the model to the observed entries of X.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Matrix with missing entries (``missing_values``, NaN by default).
        y : array-like of X's shape, or None
            If it has X's shape and holds booleans or 0/1 values, it is read as the
            mask (so ``fit(X, mask)`` works); otherwise ignored, as the convention wants.
        mask : array-like of X's shape, bool or 0/1, default=None
            True/1 marks an observed entry. Entries marked missing are hidden from the
            model even if X holds a value there. Must not mark a missing value as
            observed. ``None`` means every entry that is not ``missing_values``.

        Returns
        -------
        self : object
            Fitted estimator.
        """
        self._fit(X, y, mask)
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
        """
        return self.fit(X, y, mask=mask).transform(X, mask=mask)

    def _fit(self, X, y, mask):
        """validate -> split -> build -> train -> finalise."""
        warm = self.warm_start and hasattr(self, "model_")
        X = self._validate_input(X, reset=not warm)
        observed = self._observed_mask(X, y, mask)
        if warm and X.shape != self._fit_shape:
            raise ValueError(
                f"warm_start=True continues a fit of shape {self._fit_shape}; X has shape "
                f"{X.shape}. Use warm_start=False to fit a new matrix."
            )
        if X.shape[1] % self.n_channels:
            raise ValueError(
                f"X has {X.shape[1]} columns, not a multiple of n_channels="
                f"{self.n_channels}; pass an (H, W, C) image as X.reshape(H, W * C)."
            )
        device = resolve_device(self.device)
        rng = check_random_state(self.random_state)
        generator = make_generator(rng)
        if not warm:
            self._fit_scaling(X, observed)
        train, validation = self._split(observed, rng)
        if warm:
            model, reg, reg_module = self.model_, self.reg_, self.reg_module_
        else:
            model, reg, reg_module = self._build(X.shape, train, generator)
        run = self._run(
            X, observed, train, validation, model, reg, reg_module, device,
            max_iter=self.max_iter, record_every=self.record_every,
        )  # fmt: skip
        for optional in ("validation_scores_", "best_validation_score_", "history_"):
            self.__dict__.pop(optional, None)  # only what this fit produced remains
        self.device_ = device
        self.model_ = run.model
        self.reg_ = reg
        self.reg_module_ = run.reg_module
        self.n_iter_ = run.n_iter
        self.loss_curve_ = run.loss_curve
        if validation is not None:
            self.validation_scores_ = run.validation_scores
            self.best_validation_score_ = max(run.validation_scores)
        if self.record_every is not None:
            self.history_ = run.history
        if self.add_indicator:
            self.indicator_ = MissingIndicator(error_on_new=False).fit(
                np.where(observed, X, np.nan)
            )
        self._fit_shape = X.shape
        self._X_fit = X.copy()
        self._observed_fit = observed
        self._completion = run.completion
        prefix = f"[{type(self).__name__}]"
        if self.verbose:
            print(
                f"{prefix} {self.n_iter_} iterations in {run.seconds:.1f} s "
                f"({run.seconds / self.n_iter_ * 1e3:.1f} ms/iteration), final loss "
                f"{self.loss_curve_[-1]:.4g}"
            )
        if not run.converged:
            warnings.warn(
                f"{prefix} Maximum iterations ({self.max_iter}) reached and the "
                "optimization hasn't converged yet.",
                ConvergenceWarning,
                stacklevel=3,
            )

    def _run(
        self, X, observed, train, validation, model, reg, reg_module, device, *,
        max_iter, record_every=None,
    ):  # fmt: skip
        """Train ``model`` (and ``reg_module``) on ``device``; return a ``_Run``.

        Sets no attribute: ``fit`` and the new-data rules of subclasses both use it.
        """
        model = model.to(device)
        if reg_module is not None:
            reg_module = reg_module.to(device)
        data = self._training_data(X, observed, train, validation, device)
        start_time = time.perf_counter()
        n_iter, loss_curve, val_scores, converged, history = self._train(
            model, reg, reg_module, data, max_iter, record_every
        )
        seconds = time.perf_counter() - start_time
        model.eval()
        with torch.no_grad():
            completion = self._complete(model, data.inputs).double().cpu().numpy()
        return _Run(
            model=model.cpu(),
            reg_module=None if reg_module is None else reg_module.cpu(),
            completion=self._from_scaled(completion),
            n_iter=n_iter,
            loss_curve=loss_curve,
            validation_scores=val_scores,
            converged=converged,
            history=history,
            seconds=seconds,
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
        train = observed.copy()
        train.flat[val_idx] = False
        validation = np.zeros(observed.shape, dtype=bool)
        validation.flat[val_idx] = True
        return train, validation

    def _build(self, shape, train, generator):
        """A new main model, a clone of ``reg`` and its trainable part (on CPU)."""
        model = self._build_model(shape, generator)
        if self.reg is None:
            return model, None, None
        reg = clone(self.reg)
        module = reg.build(
            self._reg_shape(shape), n_observed=int(train.sum()), generator=generator
        )
        return model, reg, module

    def _reg_shape(self, shape):
        """The shape regularizers see: ``(H, W)``, or ``(H, W, C)`` with channels."""
        if self.n_channels == 1:
            return tuple(shape)
        return (shape[0], shape[1] // self.n_channels, self.n_channels)

    def _training_data(self, X, observed, train, validation, device):
        def tensor(a):
            return torch.as_tensor(a, dtype=torch.float32, device=device)

        target = self._scaled_observed(X, observed)
        val_weight = None
        if validation is not None:
            # Validation error in the data's units: weight by each column's span squared.
            val_weight = tensor(validation * self._scale_span**2 / validation.sum())
        return _TrainingData(
            target=tensor(target),
            train_weight=tensor(train / train.sum()),
            val_weight=val_weight,
            inputs=self._model_inputs(X.shape, device),
            description=(
                f"{X.shape[0]}x{X.shape[1]} matrix, {int(train.sum())} training / "
                f"{0 if validation is None else int(validation.sum())} validation "
                f"entries, device={device}"
            ),
        )

    def _train(self, model, reg, reg_module, data, max_iter, record_every):
        """Full-batch Adam on ``data``; the best iterate is restored when validating.

        Returns ``(n_iter, loss_curve, validation_scores, converged, history)``:
        ``converged`` tells whether the stopping rule fired before ``max_iter``;
        ``history`` holds the snapshots taken every ``record_every`` steps (or None).
        """
        device = data.target.device
        optimizer = torch.optim.Adam(model.parameters(), lr=self.learning_rate_init)
        reg_groups = [] if reg is None else reg.param_groups(reg_module)
        reg_optimizer = torch.optim.Adam(reg_groups) if reg_groups else None
        optimizers = [opt for opt in (optimizer, reg_optimizer) if opt is not None]
        tracked = list(model.parameters())
        if reg_module is not None:
            tracked += list(reg_module.parameters())
        validating = data.val_weight is not None
        if validating:
            best_val = torch.full((), float("inf"), device=device)
            best_params = [p.detach().clone() for p in tracked]

        prefix = f"[{type(self).__name__}]"
        if self.verbose:
            print(f"{prefix} fitting {data.description}")
        progress = _progress_bar(max_iter, prefix, self.verbose)
        history = None
        if record_every is not None:
            history = {"iteration": [], "completion": [], "regularizer": []}
        loss_buffer = torch.zeros(_SYNC_EVERY, device=device)
        val_buffer = torch.zeros(_SYNC_EVERY, device=device)
        loss_curve, val_scores = [], []
        best_seen, no_improvement, converged = math.inf, 0, False
        model.train()
        reg_shape = self._reg_shape(data.target.shape)  # (H, W) or (H, W, C)
        n_iter = 0
        for it in range(max_iter):
            X_hat = self._complete(model, data.inputs)
            if history is not None and it % record_every == 0:
                # A host copy (and so a sync): the price of recording, paid only then.
                history["iteration"].append(it)
                history["completion"].append(
                    self._from_scaled(X_hat.detach().double().cpu().numpy())
                )
                history["regularizer"].append(
                    {} if reg is None else reg.snapshot(reg_module)
                )
            residual = X_hat - data.target
            loss = (residual * residual * data.train_weight).sum()
            if reg is not None:
                X_view = X_hat.reshape(reg_shape)
                loss = loss + reg.penalty(X_view, model=model, module=reg_module)
            slot = it % _SYNC_EVERY
            if validating:
                # The error of the parameters *before* this step's update; keep them
                # on the device (no host sync) when they are the best so far.
                with torch.no_grad():
                    r = residual.detach()
                    val = (r * r * data.val_weight).sum()
                    val_buffer[slot] = val
                    better = val < best_val
                    best_val = torch.where(better, val, best_val)
                    for p, b in zip(tracked, best_params, strict=True):
                        b.copy_(torch.where(better, p.detach(), b))
            for opt in optimizers:
                opt.zero_grad(set_to_none=True)
            loss.backward()
            for opt in optimizers:
                opt.step()
            loss_buffer[slot] = loss.detach()
            n_iter = it + 1
            if slot < _SYNC_EVERY - 1 and n_iter < max_iter:
                continue
            # One host read per _SYNC_EVERY steps; apply the stopping rule to each.
            losses = loss_buffer[: slot + 1].tolist()
            vals = val_buffer[: slot + 1].tolist() if validating else None
            for i, step_loss in enumerate(losses):
                if not math.isfinite(step_loss):
                    raise FloatingPointError(
                        f"{prefix} the loss became {step_loss} at iteration "
                        f"{len(loss_curve) + 1}; lower learning_rate_init or the "
                        "regularizer's weights."
                    )
                loss_curve.append(step_loss)
                monitored = step_loss
                if vals is not None:
                    val_scores.append(-vals[i])
                    monitored = vals[i]
                if monitored < best_seen - self.tol:
                    best_seen, no_improvement = monitored, 0
                else:
                    no_improvement += 1
                converged = converged or no_improvement >= self.n_iter_no_change
            progress.update(slot + 1)
            postfix = {"loss": f"{loss_curve[-1]:.3g}"}
            if vals is not None:
                postfix["val_mse"] = f"{vals[-1]:.3g}"
            progress.set_postfix(postfix, refresh=False)
            if converged:
                break
        progress.close()

        if validating:
            with torch.no_grad():
                for p, b in zip(tracked, best_params, strict=True):
                    p.copy_(b)
        return n_iter, loss_curve, val_scores, converged, history

    # ------------------------------------------------------------------ transform
    def transform(self, X, *, mask=None):
        """Return X with its missing entries completed.

        On the matrix given to ``fit`` (same shape, observed entries and values) this
        returns the fitted completion. Any other matrix goes to the estimator's rule
        for new data (see its ``transform`` notes). Observed entries are returned
        exactly as given.

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
        observed = self._observed_mask(X, None, mask)
        same = (
            X.shape == self._fit_shape
            and np.array_equal(observed, self._observed_fit)
            and np.array_equal(X[observed], self._X_fit[observed])
        )
        completion = self._completion if same else self._transform_new(X, observed)
        out = np.array(X, dtype=X.dtype, copy=True)
        missing = ~observed
        out[missing] = completion[missing].astype(X.dtype)
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
            f"from it (shape {X.shape} vs {self._fit_shape}, or other observed "
            "entries). Call fit or fit_transform on the new matrix."
        )

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = _is_nan(self.missing_values)
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags


class _Run(NamedTuple):
    """What one training run produced (models on CPU, completion in data units)."""

    model: torch.nn.Module
    reg_module: torch.nn.Module | None
    completion: np.ndarray
    n_iter: int
    loss_curve: list
    validation_scores: list
    converged: bool
    history: dict | None
    seconds: float


class _TrainingData(NamedTuple):
    """Tensors of one fit, on the training device."""

    target: torch.Tensor  # scaled observed values, 0 elsewhere, (n_rows, n_cols)
    train_weight: torch.Tensor  # 1/|train| on training entries, 0 elsewhere
    val_weight: torch.Tensor | None  # span^2/|val| on validation entries, or None
    inputs: object  # what the subclass's _complete needs (e.g. coordinates)
    description: str  # for the verbose start message


def _progress_bar(total, prefix, verbose):
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=prefix, disable=not verbose, leave=False)
