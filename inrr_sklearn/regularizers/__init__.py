"""Regularizers: penalties on the completed matrix (or on the model) that an imputer adds
to its data-fit term.

The contract
------------
A regularizer is a scikit-learn ``BaseEstimator`` that holds hyperparameters only, so
``clone``, ``get_params`` and ``GridSearchCV`` reach them as ``reg__<name>``. During
``fit`` the imputer clones it and calls one method:

``build(shape, *, n_observed, generator, previous=None) -> Penalty``
    A self-contained penalty module (a :class:`Penalty`, i.e. a ``torch.nn.Module``):
    its ``forward(X, model)`` returns the weighted penalty (a differentiable 0-dim
    tensor) of the completed matrix ``X`` (shape ``(n_rows, n_cols)``, or
    ``(n_rows, n_cols, n_channels)`` for multi-channel images, in the imputer's scaled
    units) and of the main ``model``. It owns its scales (buffers), its trainable
    parts (INRR's two tiny SIRENs, AIR's free matrices; initialised on CPU from
    ``generator``), their optimizer groups (``param_groups()``) and a
    ``snapshot()`` of its learned state for plots. ``previous``, a penalty built
    earlier by a regularizer of the same kind, makes the new one start from its
    learned state where the shapes allow (warm starts and refits on new rows).

The imputer keeps the built module as ``penalty_``, moves it to its device and adds
its output to the mean squared error over observed entries; penalties on the output
act along the two spatial modes and sum over channels. Names map to regularizers in
one place, :func:`make_regularizer` (``"inrr+tv"``).

Files: ``_base`` (the contract and the sum), ``_graph`` (graph energies), ``_inrr``,
``_air``, ``_tv``, ``_l2`` (one regularizer each).

Regularizers add up: ``INRR() + TV() + L2()`` is one flat ``SumRegularizer`` of named
terms, ``[("inrr", INRR()), ("tv", TV()), ("l2", L2())]``, whose parameters are
``inrr__alpha_row``, ``tv__alpha`` and so on.

Normalisation
-------------
All penalties are scaled so that one ``alpha`` means the same strength whatever the
matrix size (a 64 x 64 and a 512 x 512 view of the same image get about the same
penalty). The data term is the mean squared error over observed entries. Weights live
on a log scale: search them with ``loguniform`` or a geometric grid.
"""

from inrr_sklearn.regularizers._air import AIR
from inrr_sklearn.regularizers._base import BaseRegularizer, Penalty, SumRegularizer
from inrr_sklearn.regularizers._graph import (
    dirichlet_energy_dense,
    dirichlet_energy_factored,
    l1_energy_dense,
    similarity_from_factor,
)
from inrr_sklearn.regularizers._inrr import INRR
from inrr_sklearn.regularizers._l2 import L2
from inrr_sklearn.regularizers._tv import TV

__all__ = [
    "AIR",
    "INRR",
    "L2",
    "REGULARIZERS",
    "TV",
    "BaseRegularizer",
    "Penalty",
    "SumRegularizer",
    "dirichlet_energy_dense",
    "dirichlet_energy_factored",
    "l1_energy_dense",
    "make_regularizer",
    "similarity_from_factor",
]

#: Regularizer names accepted by :func:`make_regularizer` (and so by
#: ``image_imputer``, the CLI's ``--method`` and the benchmarks).
REGULARIZERS = {"l2": L2, "tv": TV, "air": AIR, "inrr": INRR}


def make_regularizer(name, **params):
    """A regularizer from its name; ``"inrr+tv"`` sums several.

    Parameters
    ----------
    name : str or None
        One or more of ``"l2"``, ``"tv"``, ``"air"``, ``"inrr"`` joined by ``"+"``
        (case-insensitive); ``None``, ``""`` or ``"none"`` mean no regularizer.
    **params
        Hyperparameters for a single regularizer (e.g. ``alpha_row=0.1``).

    Returns
    -------
    reg : BaseRegularizer or None

    Examples
    --------
    >>> from inrr_sklearn.regularizers import make_regularizer
    >>> make_regularizer("inrr+tv")
    SumRegularizer(regularizers=[('inrr', INRR()), ('tv', TV())])
    >>> make_regularizer("tv", alpha=1e-3)
    TV(alpha=0.001)
    """
    if name is None or name.strip().lower() in ("", "none"):
        if params:
            raise ValueError(f"no regularizer to take the parameters {sorted(params)}.")
        return None
    names = [part.strip() for part in name.lower().split("+")]
    unknown = [part for part in names if part not in REGULARIZERS]
    if unknown:
        raise ValueError(
            f"unknown regularizer {unknown[0]!r} in {name!r}: use names from "
            f"{sorted(REGULARIZERS)} joined by '+', e.g. 'inrr+tv'."
        )
    if params and len(names) > 1:
        raise ValueError(
            "parameters apply to a single regularizer; build a sum with '+' on "
            "objects instead, e.g. INRR(alpha_row=0.1) + TV(alpha=1e-3)."
        )
    regs = [REGULARIZERS[part](**params) for part in names]
    total = regs[0]
    for reg in regs[1:]:
        total = total + reg
    return total
