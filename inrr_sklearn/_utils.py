"""Small helpers shared by the estimators: device resolution and seeded generators.

This is also the one module that imports scikit-learn's private helpers
(``_fit_context`` and ``_param_validation``); the rest of the package takes them from
here, so a change in scikit-learn touches one file.
"""

import numpy as np
import torch
from sklearn.base import _fit_context
from sklearn.utils._param_validation import Interval, MissingValues, StrOptions

__all__ = [
    "Interval",
    "MissingValues",
    "StrOptions",
    "_fit_context",
    "make_generator",
    "resolve_device",
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
