"""The regularizer contract: :class:`BaseRegularizer`, its built :class:`Penalty`, and
:class:`SumRegularizer`, a flat named sum of regularizers."""

import re

import torch
from sklearn.base import BaseEstimator
from torch import Tensor, nn

from inrr_sklearn._utils import _BaseComposition


class Penalty(nn.Module):
    """A built regularizer: ``forward(X, model)`` is the weighted penalty.

    Subclasses set ``learning_rate`` when they have trainable parameters and override
    ``snapshot`` when their learned state is worth plotting. A penalty that means the
    same on a matrix of any shape (total variation approximates an integral over the
    image's domain at any resolution) sets ``any_shape = True``: stochastic training
    (``INRImputer(batch_size=...)``) then evaluates it on a sub-grid of the matrix.

    Shape:
        - Input ``X``: ``(n_rows, n_cols)`` or ``(n_rows, n_cols, n_channels)``, the
          shape it was built for (any, with ``any_shape``)
        - Output: ``()`` (a scalar)
    """

    learning_rate = None
    any_shape = False

    def param_groups(self) -> list[dict]:
        """Optimizer parameter groups of the trainable parts (empty if none)."""
        params = [p for p in self.parameters() if p.requires_grad]
        if not params:
            return []
        return [{"params": params, "lr": self.learning_rate}]

    def snapshot(self) -> dict:
        """Numpy copies of the learned state worth plotting (empty by default)."""
        return {}

    def start_from(self, previous: "Penalty | None") -> None:
        """Copy the learned parameters of ``previous`` whose names and shapes match."""
        if previous is None:
            return
        learned = dict(previous.named_parameters())
        with torch.no_grad():
            for name, param in self.named_parameters():
                old = learned.get(name)
                if old is not None and old.shape == param.shape:
                    param.copy_(old)


class BaseRegularizer(BaseEstimator):
    """Base class for regularizers (see the module docstring for the contract).

    Subclasses define ``__init__`` with keyword hyperparameters only and implement
    ``_build_penalty(shape, n_observed, generator)`` returning a :class:`Penalty`.
    """

    _parameter_constraints: dict = {}

    def build(self, shape, *, n_observed, generator, previous=None):
        """The penalty module for a matrix of ``shape`` (validates the parameters).

        Parameters
        ----------
        shape : tuple of int
            ``(n_rows, n_cols)`` or ``(n_rows, n_cols, n_channels)``.
        n_observed : int
            Number of observed entries used in the data term.
        generator : torch.Generator
            Source of randomness for the initialisation (CPU).
        previous : Penalty or None, default=None
            A penalty built before; the new one starts from its learned parameters
            where names and shapes match.

        Returns
        -------
        penalty : Penalty

        Examples
        --------
        >>> import torch
        >>> from inrr_sklearn import TV
        >>> penalty = TV(alpha=1.0).build((2, 2), n_observed=4,
        ...                               generator=torch.Generator())
        >>> X = torch.tensor([[0.0, 1.0], [0.0, 1.0]])
        >>> float(penalty(X, model=None))  # |1 - 0| on each row, / k = 2 rows
        1.0
        """
        self._validate_params()
        penalty = self._build_penalty(tuple(shape), n_observed, generator)
        penalty.start_from(previous)
        return penalty

    def _build_penalty(self, shape, n_observed, generator):
        raise NotImplementedError

    def __add__(self, other):
        if not isinstance(other, BaseRegularizer):
            return NotImplemented
        return SumRegularizer(_name_terms([*_terms(self), *_terms(other)]))


def _terms(reg):
    """``reg``'s terms as (name or None, regularizer) pairs: a sum's own, else itself."""
    if isinstance(reg, SumRegularizer):
        return list(reg.regularizers)
    return [(None, reg)]


def _name_terms(terms):
    """Unique names, in order: a term's own name, else its class name in lower case,
    then ``-2``, ``-3`` for repeats (``[INRR(), TV(), TV()]`` -> ``inrr``, ``tv``,
    ``tv-2``)."""
    taken, named = set(), []
    for name, reg in terms:
        base = candidate = name or type(reg).__name__.lower()
        count = 1
        while candidate in taken:
            count += 1
            candidate = f"{base}-{count}"
        taken.add(candidate)
        named.append((candidate, reg))
    return named


class _SumPenalty(Penalty):
    def __init__(self, terms: dict) -> None:
        super().__init__()
        self.terms = nn.ModuleDict(terms)

    @property
    def any_shape(self) -> bool:
        return all(penalty.any_shape for penalty in self.terms.values())

    def forward(self, X: Tensor, model: nn.Module) -> Tensor:
        total = None
        for penalty in self.terms.values():
            value = penalty(X, model)
            total = value if total is None else total + value
        return total

    def param_groups(self) -> list[dict]:
        return [group for p in self.terms.values() for group in p.param_groups()]

    def snapshot(self) -> dict:
        return {
            f"{name}__{key}": value
            for name, penalty in self.terms.items()
            for key, value in penalty.snapshot().items()
        }


# The spelling before named terms: a left-nested pair, ``first__first__alpha_row``.
_OLD_SPELLING = re.compile(r"^(first|second)(__|$)")


class SumRegularizer(_BaseComposition, BaseRegularizer):
    """The sum of regularizers, each under a name (a flat list, as ``VotingRegressor``).

    Usually written ``INRR() + TV() + L2()``: the terms are named after their class
    in lower case (``inrr``, ``tv``, ``l2``; a repeated class gets ``-2``, ``-3``), so
    their parameters are searchable as ``reg__inrr__alpha_row``, ``reg__tv__alpha``.
    Sums of sums are flattened.

    Parameters
    ----------
    regularizers : list of (str, BaseRegularizer)
        The named terms.

    Examples
    --------
    >>> from inrr_sklearn import INRR, TV, INRImputer
    >>> imp = INRImputer(reg=INRR() + TV(alpha=1e-3))
    >>> imp.reg
    SumRegularizer(regularizers=[('inrr', INRR()), ('tv', TV(alpha=0.001))])
    >>> imp.set_params(reg__tv__alpha=1e-2).reg.named_terms["tv"]
    TV(alpha=0.01)
    """

    _parameter_constraints: dict = {"regularizers": [list]}

    def __init__(self, regularizers):
        self.regularizers = regularizers

    @property
    def named_terms(self):
        """The terms by name (a dict)."""
        return dict(self.regularizers)

    def get_params(self, deep=True):
        """Parameters, with the terms' as ``<name>__<param>`` when ``deep``.

        Parameters
        ----------
        deep : bool, default=True
            Include the terms' parameters.

        Returns
        -------
        params : dict
        """
        return self._get_params("regularizers", deep=deep)

    def set_params(self, **params):
        """Set parameters, the terms' as ``<name>__<param>``.

        Parameters
        ----------
        **params : dict

        Returns
        -------
        self : object
        """
        for key in params:
            if _OLD_SPELLING.match(key):
                raise ValueError(
                    f"{key!r} is the spelling of nested sums, before terms had names; "
                    f"this sum's terms are {[n for n, _ in self.regularizers]}: "
                    f"use {self._new_spelling(key)!r}."
                )
        self._set_params("regularizers", **params)
        return self

    def _new_spelling(self, key):
        """The named spelling of an old ``first__...second__param`` key."""
        parts = key.split("__")
        n_terms = len(self.regularizers)
        depth = 0  # (t0 + t1) + t2: first__first = t0, first__second = t1, second = t2
        while depth < len(parts) and parts[depth] == "first" and depth < n_terms - 1:
            depth += 1
        index = 0 if depth == n_terms - 1 else n_terms - 1 - depth
        rest = parts[depth + (depth < n_terms - 1) :]
        return "__".join([self.regularizers[index][0], *rest])

    def _check_terms(self):
        terms = self.regularizers
        if not terms or not all(
            isinstance(t, tuple | list)
            and len(t) == 2
            and isinstance(t[0], str)
            and isinstance(t[1], BaseRegularizer)
            for t in terms
        ):
            raise ValueError(
                "SumRegularizer takes a list of (name, regularizer) pairs, e.g. "
                f"[('inrr', INRR()), ('tv', TV())], or write INRR() + TV(); got {terms!r}."
            )
        self._validate_names([name for name, _ in terms])

    def _build_penalty(self, shape, n_observed, generator):
        self._check_terms()
        return _SumPenalty(
            {
                name: reg.build(shape, n_observed=n_observed, generator=generator)
                for name, reg in self.regularizers
            }
        )
