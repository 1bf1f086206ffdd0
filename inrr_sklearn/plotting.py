"""The paper's figures as functions: completion grids, PSNR curves, trajectories, A.

Needs matplotlib (the ``demo`` extra) and, for PSNR, scikit-image. Every function
returns a :class:`matplotlib.figure.Figure` (save it with ``fig.savefig``) and never
calls ``plt.show``, so it works headless. The curves read the snapshots an imputer
records when fitted with ``record_every`` (its ``history_``).
"""

import numpy as np

from inrr_sklearn.regularizers import similarity_from_factor

__all__ = [
    "plot_completion_grid",
    "plot_convergence_trajectory",
    "plot_psnr_curves",
    "plot_similarity",
]


def _pyplot():
    import matplotlib.pyplot as plt

    return plt


def _show(ax, image, title):
    image = np.clip(np.asarray(image, dtype=float), 0.0, 1.0)
    ax.imshow(image, cmap=None if image.ndim == 3 else "gray", vmin=0.0, vmax=1.0)
    ax.set_title(title, fontsize=8)
    ax.axis("off")


def _as_image(array, shape):
    """A completion recorded as a matrix back in the image's shape (e.g. H x W x 3)."""
    return np.asarray(array).reshape(shape)


def plot_completion_grid(truth, observed, completions, *, scores=True, axes=None):
    """Observed image, each method's completion and the truth, side by side.

    Parameters
    ----------
    truth : ndarray of shape (H, W) or (H, W, 3), values in [0, 1]
    observed : ndarray of bool, shape (H, W) or truth's shape
        True where a pixel was given to the imputer (missing pixels show black).
    completions : dict of str to ndarray
        Method name -> completed image (truth's shape).
    scores : bool, default=True
        Put PSNR over all / missing pixels in each title.
    axes : sequence of matplotlib Axes, default=None
        ``len(completions) + 2`` axes to draw into (e.g. one row of a larger grid, one
        row per mask), whose figure the caller lays out; a new one-row figure, laid
        out, when None.

    Returns
    -------
    fig : matplotlib.figure.Figure
        The figure drawn into.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import numpy as np
    >>> from inrr_sklearn import classical_inpaint
    >>> from inrr_sklearn.masks import random_mask
    >>> from inrr_sklearn.plotting import plot_completion_grid
    >>> truth = np.outer(np.linspace(0, 1, 16), np.linspace(1, 0, 16))
    >>> observed = random_mask(truth.shape, 0.3, random_state=0)
    >>> filled = classical_inpaint(truth, observed, "biharmonic")
    >>> fig = plot_completion_grid(truth, observed, {"biharmonic": filled})
    >>> len(fig.axes)
    3
    """
    if scores:
        from inrr_sklearn.image import image_scores  # scikit-image, only for titles

    observed = np.broadcast_to(
        observed if observed.ndim == truth.ndim else observed[..., None], truth.shape
    )
    n_panels = len(completions) + 2
    own_figure = axes is None  # given axes: their figure's layout is the caller's
    if own_figure:
        fig, axes = _pyplot().subplots(1, n_panels, figsize=(2.2 * n_panels, 2.6))
        if scores:
            fig.suptitle("PSNR all / missing pixels", fontsize=9)
    elif len(axes) != n_panels:
        raise ValueError(
            f"axes has {len(axes)} entries; {n_panels} are needed (observed, "
            f"{len(completions)} completions, truth)."
        )
    _show(axes[0], np.where(observed, truth, 0.0), "observed")
    for ax, (name, completed) in zip(axes[1:-1], completions.items(), strict=True):
        title = name
        if scores:
            s = image_scores(truth, completed, observed)
            title = f"{name}\n{s['psnr_all']:.2f} / {s['psnr_missing']:.2f} dB"
        _show(ax, completed, title)
    _show(axes[-1], truth, "truth")
    fig = axes[0].figure
    if own_figure:
        fig.tight_layout()
    return fig


def _history(estimator):
    history = getattr(estimator, "history_", None)
    if history is None:
        raise ValueError(
            f"{type(estimator).__name__} has no history_: fit it with record_every "
            "set (e.g. record_every=25) to record snapshots."
        )
    return history


def plot_psnr_curves(estimators, truth, observed, *, data_range=1.0):
    """PSNR on the missing pixels (and on the observed ones) against the step.

    Shows what the paper's Figure 1 shows: an unregularized INR peaks and then
    overfits the observed pixels, a well-regularized one keeps improving.

    Parameters
    ----------
    estimators : dict of str to fitted imputer
        Each fitted with ``record_every``.
    truth : ndarray
        The complete image (any shape the recorded matrix reshapes to).
    observed : ndarray of bool, truth's shape
        True where the pixel was given to the imputer.
    data_range : float, default=1.0

    Returns
    -------
    fig : matplotlib.figure.Figure

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import numpy as np
    >>> from inrr_sklearn import INRR, DMFImputer
    >>> from inrr_sklearn.masks import random_mask
    >>> truth = np.outer(np.linspace(0, 1, 12), np.linspace(1, 0, 12))
    >>> observed = random_mask(truth.shape, 0.3, random_state=0)
    >>> imp = DMFImputer(reg=INRR(hidden_layer_sizes=(8,)), max_iter=20,
    ...                  record_every=5, random_state=0)
    >>> _ = imp.fit(np.where(observed, truth, np.nan))
    >>> from inrr_sklearn.plotting import plot_psnr_curves
    >>> fig = plot_psnr_curves({"DMF+INRR": imp}, truth, observed)
    """
    from skimage.metrics import peak_signal_noise_ratio

    plt = _pyplot()
    missing = ~np.asarray(observed, dtype=bool)
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.4), sharex=True)
    for name, estimator in estimators.items():
        history = _history(estimator)
        for ax, where in zip(axes, (missing, ~missing), strict=True):
            psnr = [
                peak_signal_noise_ratio(
                    truth[where],
                    np.clip(_as_image(c, truth.shape)[where], 0, data_range),
                    data_range=data_range,
                )
                for c in history["completion"]
            ]
            ax.plot(history["iteration"], psnr, label=name)
    axes[0].set_title("missing pixels (what matters)", fontsize=9)
    axes[1].set_title("observed pixels (the fit)", fontsize=9)
    for ax in axes:
        ax.set_xlabel("iteration")
        ax.set_ylabel("PSNR (dB)")
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    return fig


def plot_convergence_trajectory(estimators, truth, observed):
    """Observed-pixel MSE against missing-pixel MSE along the fit (log-log).

    The paper's trajectory figure: each curve starts at the initialisation and moves
    as training proceeds; a regularized fit keeps lowering the missing-pixel error
    while the observed error falls ("momentum-like"), an overfitting one turns up.

    Parameters
    ----------
    estimators : dict of str to fitted imputer
        Each fitted with ``record_every``.
    truth : ndarray
    observed : ndarray of bool, truth's shape

    Returns
    -------
    fig : matplotlib.figure.Figure

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import numpy as np
    >>> from inrr_sklearn import INRR, DMFImputer
    >>> from inrr_sklearn.masks import random_mask
    >>> truth = np.outer(np.linspace(0, 1, 12), np.linspace(1, 0, 12))
    >>> observed = random_mask(truth.shape, 0.3, random_state=0)
    >>> imp = DMFImputer(reg=INRR(hidden_layer_sizes=(8,)), max_iter=20,
    ...                  record_every=5, random_state=0)
    >>> _ = imp.fit(np.where(observed, truth, np.nan))
    >>> from inrr_sklearn.plotting import plot_convergence_trajectory
    >>> fig = plot_convergence_trajectory({"DMF+INRR": imp}, truth, observed)
    """
    plt = _pyplot()
    observed = np.asarray(observed, dtype=bool)
    fig, ax = plt.subplots(figsize=(4.6, 4.0))
    for name, estimator in estimators.items():
        completions = [
            _as_image(c, truth.shape) for c in _history(estimator)["completion"]
        ]
        seen = [np.mean((c - truth)[observed] ** 2) for c in completions]
        unseen = [np.mean((c - truth)[~observed] ** 2) for c in completions]
        (line,) = ax.plot(seen, unseen, marker=".", markersize=3, label=name)
        ax.plot(seen[-1], unseen[-1], marker="o", color=line.get_color())
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("MSE on observed pixels")
    ax.set_ylabel("MSE on missing pixels")
    ax.set_title("convergence trajectory (dot = last record)", fontsize=9)
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def _inrr_factors(snapshot, side):
    """The INRR factor of ``side`` in a regularizer snapshot (alone or in a sum)."""
    for key, value in snapshot.items():
        if key == side or key.endswith(f"__{side}"):
            return value
    return None


def plot_similarity(estimator, *, side="row", n_panels=4):
    """The learned INRR similarity :math:`A` at several recorded steps.

    The paper's "multi-scale similarity": early on :math:`A` links nearby rows only,
    later it links far-apart rows that look alike.

    Parameters
    ----------
    estimator : fitted imputer with an INRR regularizer
        Fitted with ``record_every`` to show several steps; otherwise the final
        :math:`A` alone.
    side : {"row", "col"}, default="row"
    n_panels : int, default=4
        Number of steps shown, evenly spaced over the records (the last included).

    Returns
    -------
    fig : matplotlib.figure.Figure

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import numpy as np
    >>> from inrr_sklearn import INRR, DMFImputer
    >>> from inrr_sklearn.masks import random_mask
    >>> truth = np.outer(np.linspace(0, 1, 12), np.linspace(1, 0, 12))
    >>> observed = random_mask(truth.shape, 0.3, random_state=0)
    >>> imp = DMFImputer(reg=INRR(hidden_layer_sizes=(8,)), max_iter=20,
    ...                  record_every=5, random_state=0)
    >>> _ = imp.fit(np.where(observed, truth, np.nan))
    >>> from inrr_sklearn.plotting import plot_similarity
    >>> fig = plot_similarity(imp, side="row", n_panels=2)
    """
    plt = _pyplot()
    history = getattr(estimator, "history_", None)
    panels = []
    if history is not None:
        records = list(zip(history["iteration"], history["regularizer"], strict=True))
        picks = np.unique(
            np.linspace(0, len(records) - 1, n_panels).round().astype(int)
        )
        for i in picks:
            factor = _inrr_factors(records[i][1], side)
            if factor is not None:
                panels.append((f"step {records[i][0]}", similarity_from_factor(factor)))
    if not panels:
        penalty = getattr(estimator, "penalty_", None)
        snapshot = {} if penalty is None else penalty.snapshot()
        factor = _inrr_factors(snapshot, side)
        if factor is None:
            raise ValueError(
                f"{type(estimator).__name__} was not fitted with an INRR regularizer: "
                "there is no learned similarity to show."
            )
        panels.append(
            (f"step {estimator.n_iter_} (final)", similarity_from_factor(factor))
        )
    fig, axes = plt.subplots(
        1, len(panels), figsize=(2.6 * len(panels), 2.8), squeeze=False
    )
    for ax, (title, A) in zip(axes[0], panels, strict=True):
        image = ax.imshow(A, cmap="viridis")
        ax.set_title(title, fontsize=8)
        ax.set_xlabel(side)
        ax.set_ylabel(side)
        fig.colorbar(image, ax=ax, fraction=0.046)
    fig.suptitle(f"learned {side} similarity A", fontsize=9)
    fig.tight_layout()
    return fig
