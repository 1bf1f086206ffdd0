"""Small helpers shared by the estimators: device resolution, seeded generators and
layer-size checks.

This is also the one module that imports scikit-learn's private helpers
(``_fit_context``, ``_param_validation``, ``is_scalar_nan``, ``_BaseComposition`` and
``_check_feature_names_in``); the rest of the package takes them from here, so a
change in scikit-learn touches one file.
"""

import warnings
from numbers import Integral

import numpy as np
import torch
from sklearn.base import _fit_context
from sklearn.utils._missing import is_scalar_nan
from sklearn.utils._param_validation import (
    HasMethods,
    Hidden,
    Interval,
    MissingValues,
    StrOptions,
)
from sklearn.utils.metaestimators import _BaseComposition
from sklearn.utils.validation import _check_feature_names_in

from inrr_sklearn._version import __version__

__all__ = [
    "N_JOBS_CONSTRAINT",
    "HasMethods",
    "Hidden",
    "Interval",
    "MissingValues",
    "StrOptions",
    "VersionedPickleMixin",
    "_BaseComposition",
    "_check_feature_names_in",
    "_fit_context",
    "check_layer_sizes",
    "is_scalar_nan",
    "make_generator",
    "resolve_device",
]


#: ``n_jobs`` as joblib takes it: None, -1, -2... or a positive count (0 means nothing).
N_JOBS_CONSTRAINT = [
    Interval(Integral, None, -1, closed="right"),
    Interval(Integral, 1, None, closed="left"),
    None,
]


def resolve_device(device):
    """Turn the ``device`` parameter into a ``torch.device``.

    ``"auto"`` picks CUDA when available, else CPU. Raises ``ValueError`` for an
    unknown device string or a CUDA device that this machine does not have.
    """
    if isinstance(device, torch.device):
        resolved = device
    elif device == "auto":
        resolved = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    else:
        try:
            resolved = torch.device(device)
        except (RuntimeError, TypeError) as exc:
            raise ValueError(
                f"Unknown device {device!r}: use 'auto', 'cpu', 'cuda' or 'cuda:N'."
            ) from exc
    if resolved.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(
                f"device={device!r} asks for CUDA, but torch.cuda.is_available() is "
                "False on this machine. Use device='auto' or 'cpu'."
            )
        if resolved.index is not None and resolved.index >= torch.cuda.device_count():
            raise ValueError(
                f"device={device!r}: this machine has {torch.cuda.device_count()} CUDA "
                "device(s)."
            )
    elif resolved.type != "cpu":
        raise ValueError(
            f"Unsupported device {device!r}: use 'auto', 'cpu', 'cuda' or 'cuda:N'."
        )
    return resolved


def make_generator(random_state: np.random.RandomState) -> torch.Generator:
    """A CPU ``torch.Generator`` seeded from a numpy ``RandomState`` (no global seeding)."""
    generator = torch.Generator(device="cpu")
    generator.manual_seed(int(random_state.randint(np.iinfo(np.int32).max)))
    return generator


def check_layer_sizes(sizes, name="hidden_layer_sizes"):
    """A tuple of positive ints from ``sizes``, or a ``ValueError`` naming the problem.

    Integers only: ``2.5`` is refused rather than truncated, ``0`` rather than left to
    fail inside torch.
    """
    try:
        values = tuple(sizes)
    except TypeError:
        values = None
    if not values or not all(
        isinstance(v, Integral) and not isinstance(v, bool) and v >= 1 for v in values
    ):
        raise ValueError(
            f"{name} must be a non-empty sequence of positive integers; got {sizes!r}."
        )
    return tuple(int(v) for v in values)


class VersionedPickleMixin:
    """Pickles record the inrr_sklearn version; loading one from another version warns.

    (scikit-learn does the same for its own version.) A fitted imputer's pickle holds
    its training matrix and model; load pickles from trusted sources only.
    """

    def __getstate__(self):
        state = super().__getstate__()
        state["_inrr_sklearn_version"] = __version__
        return state

    def __setstate__(self, state):
        version = state.pop("_inrr_sklearn_version", "unknown (before 0.1.0)")
        if version != __version__:
            warnings.warn(
                f"Loading a {type(self).__name__} pickled with inrr_sklearn {version} "
                f"into inrr_sklearn {__version__}: it may not work or give other "
                "results. Refit it with this version, or install the one it came from.",
                UserWarning,
                stacklevel=2,
            )
        super().__setstate__(state)
