"""The exceptions and warnings that inrr_sklearn raises beyond scikit-learn's own.

Training that does not converge warns with scikit-learn's
:class:`~sklearn.exceptions.ConvergenceWarning`; a fit that cannot be saved at all
raises :class:`DivergenceError`.
"""

__all__ = ["DivergenceError"]


class DivergenceError(FloatingPointError):
    """The loss became non-finite or exploded and no earlier iterate can be restored.

    Raised by ``fit`` of the torch imputers (the estimator is left as it was before
    the call). Lower ``learning_rate_init`` or the regularizer's weights, or keep
    early stopping on so that the best validated iterate can be restored.

    Examples
    --------
    >>> from inrr_sklearn.exceptions import DivergenceError
    >>> issubclass(DivergenceError, FloatingPointError)
    True
    """
