"""``INRImputer``: a SIREN on (row, column) coordinates, fitted to the observed entries."""

import copy
from numbers import Integral, Real

import numpy as np
import torch
from scipy import ndimage
from sklearn.base import clone
from sklearn.utils import check_random_state

from inrr_sklearn._torch_base import _BaseTorchImputer, _document_shared_parameters
from inrr_sklearn._utils import (
    HasMethods,
    Hidden,
    Interval,
    StrOptions,
    check_layer_sizes,
    make_generator,
    resolve_device,
)
from inrr_sklearn._validation import pixel_shape
from inrr_sklearn.nn import SirenNet
from inrr_sklearn.regularizers import INRR
from inrr_sklearn.training import SubgridSampler, subgrid_stride


@_document_shared_parameters
class INRImputer(_BaseTorchImputer):
    """Complete a matrix with an implicit neural representation (SIREN).

    A SIREN maps each entry's (row, column) coordinate in :math:`[-1, 1]^2` to a value;
    it is trained with Adam on the observed entries (full-batch, or on random
    sub-grids of the image with ``batch_size``), optionally under a
    regularizer (``reg``), and predicts the missing ones. Works on images (a grayscale
    image is a matrix) and on any matrix whose rows and columns have a meaningful order.

    Parameters
    ----------
    reg : BaseRegularizer or None, default=None
        Regularizer added to the data term, e.g. ``INRR()``, ``TV()``, ``INRR() + TV()``.
        Cloned in ``fit``; its hyperparameters are searchable as ``reg__<name>``.
    hidden_layer_sizes : tuple of int, default=(64, 64, 64, 64, 64)
        Widths of the sine layers (the authors use five of 256; 64 keeps a 128 x 128
        fit near a minute on two CPU cores).
    omega_0 : float, default=30.0
        Frequency factor of the first sine layer.
    hidden_omega_0 : float, default=1.0
        Frequency factor of the other sine layers (1 in the authors' code).
    {shared parameters}
    scaling : {"auto", "global", "per_column", "none"}, default="auto"
        Map observed values onto [0, 1] with one min-max for the whole matrix (images)
        or one per column (tabular data on different scales); inverted on output.
        ``"auto"`` picks ``"per_column"`` when the columns' observed ranges differ by
        more than a factor of 100 (columns in different units, as in most tables)
        and ``"global"`` otherwise (an image); ``scaling_`` records the choice.
        ``"none"`` uses the values as given (they must lie in [0, 1], the sigmoid's
        range: the authors' setting, used by :meth:`paper`). Statistics are computed
        in float64, so the result does not depend on the data's units; a constant
        matrix, or a column whose observed entries (two or more with ``"global"``)
        are all equal, is completed with that constant.
    refit_max_iter : int, default=200
        Steps of a warm-started refit: the joint refit that completes new rows in
        ``transform`` (see Notes), and the refit on all observed entries of a
        ``BlendImputer(refit="warm")`` that starts from the held-out fit.
    init : {"default", "paper"}, default="default"
        SIREN initialisation. Both draw the sine weights as the SIREN paper does;
        ``"default"`` draws the biases and the linear head as ``torch.nn.Linear``,
        ``"paper"`` as the INRR authors' layer (from the weights' bound
        :math:`\\sqrt{6/\\mathrm{fan_{in}}}/\\omega`; used by :meth:`paper`).
    fill_prior : imputer or None, default=None
        For images: inside wide holes (see ``fill_prior_min_depth``) the SIREN is
        also pulled toward this imputer's completion of the observed pixels, a data
        term of weight ``fill_prior_weight`` per entry (see Notes); usually a
        classical fill, ``InpaintImputer("biharmonic")`` (the ``[demo]`` extra).
        Any object with ``fit_transform`` that completes NaN entries and keeps the
        shape; it is cloned, and its ``n_channels`` set to this imputer's when it
        has one. Far from every observed pixel a SIREN extrapolates its own
        oscillations; the classical fill is the safer guess there. ``None``: no
        prior (the SIREN alone).
    fill_prior_weight : float, default=3.0
        Weight of each prior entry relative to an observed one (:math:`\\lambda`;
        3 was closer to the classical fill's quality than 1 on the patch masks of
        ``benchmarks/bench_inpainting.py``, 3 seeds).
    fill_prior_min_depth : float, default=6.0
        The prior acts on the whole of each connected hole whose deepest pixel lies at
        least this many pixels (Euclidean) from the nearest observed pixel: patches
        (a 16-pixel square is 8 deep) but not text strokes (under 3) or scribbles
        (3 to 6 deep at 128² to 256²), where the SIREN beats the classical fill.
    batch_size : int or None, default=None
        About the fewest pixels per step, for large images. ``None``: full-batch
        steps. Otherwise, with :math:`s = \\lfloor\\sqrt{HW / \\text{batch\\_size}}\\rfloor`
        (full batch when :math:`s = 1`), each step trains on one random sub-grid
        ``image[a::s, b::s]`` (:class:`~inrr_sklearn.training.SubgridSampler`):
        about :math:`1/s^2` of the pixels, spread over the whole image, the data
        term scaled by the ratio of pixels (about :math:`s^2`) to estimate the
        whole image's, the regularizer evaluated on the sub-grid as a coarser image
        (TV, L2; INRR and AIR, built for the whole matrix's rows and columns, are
        refused); early stopping still validates on every held-out pixel (a
        forward pass without gradients). The new rows of ``transform`` are refitted
        with the fit's stride. With ``batch_size=16384`` a step costs about the
        same at 512² (:math:`s = 4`) as a full step at 128².

    Attributes
    ----------
    model_ : SirenNet
        The trained network, on CPU.
    reg_ : BaseRegularizer or None
        The fitted copy of ``reg``.
    penalty_ : Penalty or None
        The built regularizer (``reg_.build(...)``) with its trained parts (INRR's
        tiny SIRENs), on CPU; ``penalty_.snapshot()`` gives its learned state.
    n_iter_ : int
        Number of steps run.
    loss_curve_ : list of float
        Training loss (data term + penalty) at each step.
    validation_scores_ : list of float
        Negative mean squared error on the held-out entries at each step, in scaled
        units (after ``scaling``; only with early stopping).
    best_validation_score_ : float
        Best of ``validation_scores_`` (only with early stopping).
    early_stopping_ : bool
        Whether early stopping was on (what ``"auto"`` resolved to).
    device_ : torch.device
        The device used for training.
    scaling_ : str
        The scaling used (what ``"auto"`` resolved to).
    mean_fallback_ : ndarray of bool of shape (n_features,)
        The columns completed with their means instead of the model, with a
        warning naming them (only with early stopping): every column when the model
        does not predict the held-out entries clearly better than the column means
        (by two standard errors of the per-entry difference of squared errors);
        else, on a table (a per-column scaling, or fewer than 32 columns), each
        column that the model does not predict clearly better than its mean on
        the column's own held-out entries (at least 5; under a per-column scaling
        a column with fewer takes its mean, too few to show the model better); on
        an image (one global scaling, 32 columns or
        more) each column where the model is clearly worse. ``transform`` of new
        rows completes these columns with the same means. A SIREN on a table whose
        row order means nothing is the usual cause: use :class:`BlendImputer` for
        tables.
    n_features_in_ : int
        Number of columns seen in ``fit``.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Column names seen in ``fit`` (only for inputs with string column names).
    indicator_ : sklearn.impute.MissingIndicator or None
        The fitted indicator (None without ``add_indicator``).
    history_ : dict of lists
        Only with ``record_every``: ``"iteration"`` (step numbers), ``"completion"``
        (the model's whole matrix before that step, in data units) and
        ``"regularizer"`` (the regularizer's :meth:`snapshot`, e.g. INRR's factors).

    See Also
    --------
    sklearn.impute.IterativeImputer : Regression of each column on the others.
    sklearn.impute.KNNImputer : Mean of the nearest rows.

    Notes
    -----
    With :math:`f_\\theta` the SIREN, :math:`u_i, v_j` the row and column coordinates,
    :math:`X_{ij} = f_\\theta(v_j, u_i)`, :math:`Y` the scaled data and :math:`\\Omega`
    the training entries, ``fit`` minimises

    .. math::
        \\frac{1}{|\\Omega|} \\sum_{(i,j) \\in \\Omega} (X_{ij} - Y_{ij})^2 + R(X, \\theta)

    where :math:`R` is the regularizer's penalty (for ``INRR``,
    :math:`\\alpha_\\text{row} R_\\text{row}(X) + \\alpha_\\text{col} R_\\text{col}(X)`).
    With ``fill_prior``, the entries :math:`D` of the deep holes add
    :math:`\\frac{\\lambda}{|\\Omega|} \\sum_{(i,j) \\in D} (X_{ij} - B_{ij})^2`,
    where :math:`B` is the classical fill from the observed entries.
    All-missing rows or columns are completed like any other entry.

    ``transform`` on the fitted matrix returns the fitted completion. A SIREN has no
    per-row code to solve for, so other rows ``X_new`` are completed by a *joint
    refit*: the new rows are stacked below the fitted ones (the rows of the stacked
    matrix take the coordinates of its own grid), the network starts from the fitted
    one (INRR's tiny networks too) and trains ``refit_max_iter`` more steps on the
    observed entries of both, with the fitted scaling and the same rules (early
    stopping, regularizer). It costs ``refit_max_iter`` steps on
    :math:`(m + m') \\times n` entries, is deterministic for an integer
    ``random_state`` and leaves the fitted estimator unchanged. The defaults are
    chosen by measurement for about a minute of CPU at 128 x 128 (see the benchmarks);
    :meth:`paper` gives the authors' configuration.

    References
    ----------
    V. Sitzmann et al. "Implicit neural representations with periodic activation
    functions". NeurIPS 2020.

    Z. Li, H. Wang, D. Meng. "Regularize implicit neural representation by itself".
    CVPR 2023.

    Examples
    --------
    >>> import numpy as np
    >>> from inrr_sklearn import INRImputer, INRR
    >>> X = np.outer(np.arange(1.0, 5.0), np.arange(1.0, 4.0))
    >>> X[1, 2] = np.nan
    >>> imp = INRImputer(reg=INRR(rank=4), hidden_layer_sizes=(16, 16), max_iter=50,
    ...                  early_stopping=False, random_state=0, device="cpu")
    >>> X_done = imp.fit_transform(X)
    >>> bool(np.isnan(X_done).any()), bool(X_done[0, 0] == X[0, 0])
    (False, True)
    """

    _parameter_constraints: dict = {
        **_BaseTorchImputer._parameter_constraints,
        # The sigmoid head needs values in [0, 1]: min-max scalings, or "none" for
        # data already in [0, 1] (the authors' setting).
        "scaling": [StrOptions({"auto", "global", "per_column", "none"})],
        "hidden_layer_sizes": ["array-like"],
        "omega_0": [Interval(Real, 0, None, closed="neither")],
        "hidden_omega_0": [Interval(Real, 0, None, closed="neither")],
        "refit_max_iter": [Interval(Integral, 1, None, closed="left")],
        "init": [StrOptions({"default", "paper"})],
        # (Hidden: the names of the first spelling, refused in fit with the new one.)
        "fill_prior": [
            HasMethods(["fit_transform"]),
            Hidden(StrOptions({"biharmonic", "telea", "ns"})),
            None,
        ],
        "fill_prior_weight": [Interval(Real, 0, None, closed="left")],
        "fill_prior_min_depth": [Interval(Real, 0, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left"), None],
    }

    def __init__(
        self,
        *,
        reg=None,
        hidden_layer_sizes=(64, 64, 64, 64, 64),
        omega_0=30.0,
        hidden_omega_0=1.0,
        max_iter=1500,
        tol=1e-4,
        learning_rate_init=1e-3,
        n_iter_no_change=300,
        early_stopping="auto",
        validation_fraction=0.1,
        scaling="auto",
        random_state=None,
        verbose=0,
        device="auto",
        cuda_graph="auto",
        compile=False,
        precision="float32",
        warm_start=False,
        missing_values=np.nan,
        refit_max_iter=200,
        n_channels=1,
        add_indicator=False,
        keep_empty_features=True,
        record_every=None,
        init="default",
        fill_prior=None,
        fill_prior_weight=3.0,
        fill_prior_min_depth=6.0,
        batch_size=None,
    ):
        super().__init__(
            reg=reg, max_iter=max_iter, tol=tol,
            learning_rate_init=learning_rate_init, n_iter_no_change=n_iter_no_change,
            early_stopping=early_stopping, validation_fraction=validation_fraction,
            scaling=scaling, random_state=random_state, verbose=verbose, device=device,
            cuda_graph=cuda_graph, compile=compile, precision=precision,
            warm_start=warm_start, missing_values=missing_values,
            n_channels=n_channels, add_indicator=add_indicator,
            keep_empty_features=keep_empty_features, record_every=record_every,
        )  # fmt: skip
        self.hidden_layer_sizes = hidden_layer_sizes
        self.omega_0 = omega_0
        self.hidden_omega_0 = hidden_omega_0
        self.refit_max_iter = refit_max_iter
        self.init = init
        self.fill_prior = fill_prior
        self.fill_prior_weight = fill_prior_weight
        self.fill_prior_min_depth = fill_prior_min_depth
        self.batch_size = batch_size

    @classmethod
    def paper(cls, reg="inrr", **overrides):
        """The authors' configuration (a GPU recipe: hours per fit on 2 CPU cores).

        SIREN 2 -> 256 x 5 -> 1 with sigmoid, first omega_0 30, hidden omega_0 1, Adam
        1e-4, 10,001 full-batch steps, no early stopping; ``reg="inrr"`` adds
        ``INRR.paper()`` (r = 256, tiny SIREN 32 x 5 with omega_0 5, Adam 1e-4, weights
        1e-6 in the authors' convention).

        Parameters
        ----------
        reg : "inrr", BaseRegularizer or None, default="inrr"
            The regularizer.
        **overrides
            Any other parameter (e.g. ``random_state``, ``device``, ``verbose``).

        Returns
        -------
        imputer : INRImputer
        """
        params = dict(
            reg=INRR.paper() if isinstance(reg, str) and reg == "inrr" else reg,
            hidden_layer_sizes=(256,) * 5,
            omega_0=30.0,
            hidden_omega_0=1.0,
            max_iter=10001,
            learning_rate_init=1e-4,
            early_stopping=False,
            tol=0.0,
            n_iter_no_change=10001,
            scaling="none",
            init="paper",
        )
        params.update(overrides)
        return cls(**params)

    # On tables a SIREN over row order is usually the wrong model: keep it over the
    # column means only when it is better by two standard errors on held-out entries,
    # over the whole matrix and column by column.
    _mean_fallback_z = 2.0
    _per_column_fallback = True

    def _architecture(self):
        return {
            "hidden_layer_sizes": check_layer_sizes(self.hidden_layer_sizes),
            "omega_0": self.omega_0,
            "hidden_omega_0": self.hidden_omega_0,
            "n_channels": self.n_channels,
        }

    def _check_values(self, X, observed, scaling):
        if scaling == "none":
            values = X[observed]
            if values.min() < 0 or values.max() > 1:
                raise ValueError(
                    f"scaling='none' feeds the values as given to a sigmoid output, "
                    f"so they must lie in [0, 1]; the observed ones span "
                    f"[{values.min():.4g}, {values.max():.4g}]. Use scaling='global'."
                )

    def _guide(self, X, observed):
        """The classical fill of the observed entries and its weights on the deep
        holes (None without a prior, or when no hole is deep enough)."""
        if isinstance(self.fill_prior, str):
            raise ValueError(
                f"fill_prior takes an imputer object now: use "
                f"fill_prior=InpaintImputer({self.fill_prior!r}) (from inrr_sklearn "
                f"import InpaintImputer) instead of fill_prior={self.fill_prior!r}."
            )
        if self.fill_prior is None or self.fill_prior_weight == 0:
            return None
        shape = pixel_shape(X, self.n_channels)
        hole = ~observed.reshape(shape).all(axis=2)  # as InpaintImputer sees it
        depth = ndimage.distance_transform_edt(hole)
        labels, n_holes = ndimage.label(hole)
        deepest = ndimage.maximum(depth, labels, index=np.arange(1, n_holes + 1))
        deep = np.isin(labels, 1 + np.flatnonzero(deepest >= self.fill_prior_min_depth))
        if not deep.any():
            return None
        fill = clone(self.fill_prior)
        if "n_channels" in fill.get_params(deep=False):
            fill.set_params(n_channels=self.n_channels)
        values = np.asarray(fill.fit_transform(np.where(observed, X, np.nan)))
        if values.shape != X.shape:
            raise ValueError(
                f"fill_prior={self.fill_prior!r} returned shape {values.shape} for X "
                f"of shape {X.shape}; it must complete X in place (keep every "
                "column: keep_empty_features=True, add_indicator=False)."
            )
        weights = np.repeat(deep[..., None], self.n_channels, axis=2).reshape(X.shape)
        return values, self.fill_prior_weight * (weights & ~observed)

    def _build_model(self, shape, generator):
        model = SirenNet(
            2,
            check_layer_sizes(self.hidden_layer_sizes),
            self.n_channels,
            self.omega_0,
            self.hidden_omega_0,
            output_activation="sigmoid",
        )
        model.reset_parameters(generator, self.init)
        return model

    def _model_inputs(self, shape, device):
        rows = torch.linspace(-1.0, 1.0, shape[0], device=device)
        cols = torch.linspace(-1.0, 1.0, shape[1] // self.n_channels, device=device)
        grid_rows, grid_cols = torch.meshgrid(rows, cols, indexing="ij")
        # (column, row) per entry, row-major: output reshapes to (n_rows, n_cols).
        coords = torch.stack([grid_cols.reshape(-1), grid_rows.reshape(-1)], dim=1)
        return coords, shape[0]

    def _complete(self, model, inputs, index=None):
        coords, n_rows = inputs
        if index is not None:  # the pixels of a stochastic step: (n_pixels, C)
            return model(coords[index.reshape(-1)])
        # (n_rows * W, C) -> (n_rows, W * C): channel fastest, as image.reshape(H, W * C).
        return model(coords).reshape(n_rows, -1)

    def _stride(self, shape):
        return subgrid_stride(shape[0], shape[1] // self.n_channels, self.batch_size)

    def _batches(self, shape, stride, device, generator):
        height, width = shape[0], shape[1] // self.n_channels
        return SubgridSampler(
            height, width, stride=stride, generator=generator, device=device
        )

    def _complete_new_with_model(self, X, observed):
        """Warm-started joint refit over the fitted rows and the new ones (see Notes)."""
        X_joint = np.vstack([self._X_fit.astype(np.float64), X.astype(np.float64)])
        observed_joint = np.vstack([self._observed_fit, observed])
        rng = check_random_state(self.random_state)
        generator = make_generator(rng)
        train_entries, validation = self._split(observed_joint, rng)
        penalty = self._build_penalty(
            self.reg_, X_joint.shape, train_entries, generator, self.penalty_
        )
        run = self._train_run(
            X_joint, observed_joint, self._scaling, train_entries, validation,
            copy.deepcopy(self.model_), penalty, resolve_device(self.device),
            max_iter=self.refit_max_iter, warm=True, generator=generator,
            stride=self._stride(self._X_fit.shape),  # as in fit (checked there)
        )  # fmt: skip
        return run.completion[self._X_fit.shape[0] :]
