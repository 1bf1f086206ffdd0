"""``DMFImputer``: deep matrix factorisation, fitted to the observed entries."""

from numbers import Integral, Real

import numpy as np
import torch

from inrr_sklearn._torch_base import (
    _BaseTorchImputer,
    _document_shared_parameters,
    observed_column_means,
)
from inrr_sklearn._utils import Interval
from inrr_sklearn.nn import DMFNet
from inrr_sklearn.regularizers import INRR

# Rows folded in per batched solve in ``transform`` (bounds the (rows, r, r) Gram stack).
_FOLD_IN_ROWS = 4096


@_document_shared_parameters
class DMFImputer(_BaseTorchImputer):
    """Complete a matrix with a deep matrix factorisation :math:`X = W_L \\cdots W_1`.

    Bias-free factors with a small initialisation, trained full-batch with Adam on the
    observed entries (their product's implicit low-rank bias does the completion),
    optionally under a regularizer on the output matrix (``INRR``, ``AIR``, ``TV``) or
    on the factors (``L2``). Shares the training loop, scaling, masking, device, early
    stopping and progress reporting of :class:`INRImputer`.

    Parameters
    ----------
    reg : BaseRegularizer or None, default=None
        Regularizer added to the data term; searchable as ``reg__<name>``.
    rank : int or None, default=None
        Inner width r of every factor; ``None`` uses ``min(n_rows, n_cols)`` (for a
        square matrix, the authors' over-parameterised m x m, m x n, n x n).
    n_layers : int, default=3
        Number of factors L (at least 2).
    init_scale : float, default=1e-2
        Standard deviation of the Gaussian initialisation of every factor. The authors
        use 1e-3 with 10,000 steps and no stopping rule; from 1e-3 the product sits on
        a plateau for hundreds of steps, which the stopping rule mistakes for
        convergence on images (camera 128², random 50 %: 13.8 dB on missing pixels
        with 1e-3, 21.3 dB with 1e-2); on tables 1e-2 measured on a par with 1e-3.
    {shared parameters}
    scaling : {"standard", "per_column", "global", "auto", "none"}, default="standard"
        Per-column standardisation (tables on any scales), per-column min-max, one
        min-max for the whole matrix (images), or the values as given (:meth:`paper`);
        ``"auto"`` as in :class:`INRImputer`; learned from observed entries in
        float64 (unit-free); a constant column is completed with its constant.
    fold_in_alpha : float, default=1e-3
        Ridge weight of the row solve that folds new rows in (see ``transform``).

    Attributes
    ----------
    model_ : DMFNet
        The trained factors, on CPU.
    reg_, penalty_, n_iter_, loss_curve_, validation_scores_, best_validation_score_
        As in :class:`INRImputer`.
    early_stopping_, device_, scaling_, n_features_in_
        As in :class:`INRImputer`.
    mean_fallback_ : ndarray of bool of shape (n_features,)
        All True when the trained factors do not predict the held-out entries
        better than the column means (then every column takes its mean, with a
        warning; only with early stopping), else all False. Unlike
        :class:`INRImputer`, DMF is not judged column by column.
    feature_names_in_, indicator_, history_
        As in :class:`INRImputer`.

    See Also
    --------
    INRImputer : A SIREN on the coordinates instead of factors.
    sklearn.impute.IterativeImputer, sklearn.impute.KNNImputer

    Notes
    -----
    ``fit`` minimises, over the factors and the regularizer's own parameters,

    .. math::
        \\frac{1}{|\\Omega|} \\sum_{(i,j) \\in \\Omega}
            \\big((W_L \\cdots W_1)_{ij} - Y_{ij}\\big)^2 + R(W_L \\cdots W_1, \\theta).

    ``transform`` on the fitted matrix returns the fitted completion. On any other
    matrix with the same columns it folds each row in, as NMF does: the column side
    :math:`V = W_{L-1} \\cdots W_1` stays frozen and each row's code solves the ridge
    problem :math:`\\min_u \\|(u V - z)_{o}\\|^2 + \\lambda \\|u\\|^2` over its observed
    entries :math:`o` (closed form, deterministic, no training; the regularizer is not
    applied to new rows). A row with no observed entry gets the column means.

    References
    ----------
    S. Arora, N. Cohen, W. Hu, Y. Luo. "Implicit regularization in deep matrix
    factorization". NeurIPS 2019.

    Z. Li, H. Wang, D. Meng. "Regularize implicit neural representation by itself".
    CVPR 2023.

    Examples
    --------
    >>> import numpy as np
    >>> from inrr_sklearn import DMFImputer
    >>> X = np.outer(np.arange(1.0, 6.0), np.arange(1.0, 4.0))
    >>> X[1, 2] = np.nan
    >>> imp = DMFImputer(rank=3, max_iter=2000, early_stopping=False, random_state=0,
    ...                  device="cpu", learning_rate_init=1e-2)
    >>> X_done = imp.fit_transform(X)
    >>> bool(abs(X_done[1, 2] - 6.0) < 1.0)
    True
    """

    _parameter_constraints: dict = {
        **_BaseTorchImputer._parameter_constraints,
        "rank": [Interval(Integral, 1, None, closed="left"), None],
        "n_layers": [Interval(Integral, 2, None, closed="left")],
        "init_scale": [Interval(Real, 0, None, closed="neither")],
        "fold_in_alpha": [Interval(Real, 0, None, closed="left")],
    }

    def __init__(
        self,
        *,
        reg=None,
        rank=None,
        n_layers=3,
        init_scale=1e-2,
        max_iter=3000,
        tol=1e-4,
        learning_rate_init=1e-3,
        n_iter_no_change=300,
        early_stopping="auto",
        validation_fraction=0.1,
        scaling="standard",
        fold_in_alpha=1e-3,
        random_state=None,
        verbose=0,
        device="auto",
        cuda_graph="auto",
        compile=False,
        precision="float32",
        warm_start=False,
        missing_values=np.nan,
        n_channels=1,
        add_indicator=False,
        keep_empty_features=True,
        record_every=None,
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
        self.rank = rank
        self.n_layers = n_layers
        self.init_scale = init_scale
        self.fold_in_alpha = fold_in_alpha

    @classmethod
    def paper(cls, reg="inrr", **overrides):
        """The authors' DMF: depth 3 (m x m, m x n, n x n), init N(0, 1e-3^2), Adam
        1e-3, 10,000 full-batch steps, no early stopping, data used as given.

        Parameters
        ----------
        reg : "inrr", BaseRegularizer or None, default="inrr"
            The regularizer; ``"inrr"`` is ``INRR.paper()``.
        **overrides
            Any other parameter (e.g. ``random_state``, ``device``, ``verbose``).

        Returns
        -------
        imputer : DMFImputer
        """
        params = dict(
            reg=INRR.paper() if isinstance(reg, str) and reg == "inrr" else reg,
            rank=None,
            n_layers=3,
            init_scale=1e-3,
            max_iter=10000,
            learning_rate_init=1e-3,
            early_stopping=False,
            tol=0.0,
            n_iter_no_change=10000,
            scaling="none",
        )
        params.update(overrides)
        return cls(**params)

    def _architecture(self):
        return {
            "rank": self.rank,
            "n_layers": self.n_layers,
            "n_channels": self.n_channels,
        }

    def _build_model(self, shape, generator):
        rank = min(shape) if self.rank is None else self.rank
        model = DMFNet(shape[0], shape[1], rank, self.n_layers)
        model.reset_parameters(generator, self.init_scale)
        return model

    def _complete(self, model, inputs, index=None):  # (never batched)
        return model()

    def _complete_new_with_model(self, X, observed):
        with torch.no_grad():
            V = self.model_.column_side().double().numpy()  # (r, n)
        Z = np.where(observed, self._scaling.to_scaled(np.where(observed, X, 0.0)), 0.0)
        mask = observed.astype(np.float64)
        eye = self.fold_in_alpha * np.eye(V.shape[0])
        codes = np.empty((X.shape[0], V.shape[0]))
        for start in range(0, X.shape[0], _FOLD_IN_ROWS):
            rows = slice(start, start + _FOLD_IN_ROWS)
            # Gram of each row's observed columns: V diag(m_i) V^T, batched.
            gram = np.einsum("rn,in,sn->irs", V, mask[rows], V) + eye
            rhs = (Z[rows] * mask[rows]) @ V.T
            try:
                codes[rows] = np.linalg.solve(gram, rhs[..., None])[..., 0]
            except np.linalg.LinAlgError:  # singular (fold_in_alpha=0, few entries)
                codes[rows] = (np.linalg.pinv(gram) @ rhs[..., None])[..., 0]
        completion = self._scaling.from_scaled(codes @ V)
        empty = ~observed.any(axis=1)
        if empty.any():  # nothing to fold in: the fitted observed column means
            completion[empty] = observed_column_means(self._X_fit, self._observed_fit)
        return completion
