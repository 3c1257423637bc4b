"""Input checks shared by the estimators, with scikit-learn's messages and error classes.

scikit-learn is not a dependency of :mod:`miniflow.ml`. :class:`NotFittedError` and
:class:`DataConversionWarning` are miniflow's own classes; when scikit-learn is already
imported (the caller uses it), what is raised is also an instance of scikit-learn's class
of the same name, so ``except sklearn.exceptions.NotFittedError`` and
``sklearn.utils.estimator_checks`` see what they expect.
"""

from __future__ import annotations

import sys
import warnings

import numpy as np
import scipy.sparse as sp

__all__ = [
    "NotFittedError",
    "DataConversionWarning",
    "check_X",
    "check_sample_weight",
    "check_fitted",
    "regression_target",
    "class_labels",
]


class NotFittedError(ValueError, AttributeError):
    """A method that needs a fitted model was called before ``fit``."""


class DataConversionWarning(UserWarning):
    """The input was converted (for example a column-vector ``y`` raveled)."""


_BRIDGED: dict[type, type] = {}


def _bridged(ours: type, sklearn_name: str) -> type:
    """``ours``, or a subclass of ours and of scikit-learn's class when sklearn is loaded."""
    module = sys.modules.get("sklearn.exceptions")
    if module is None:
        return ours
    if ours not in _BRIDGED:
        _BRIDGED[ours] = type(ours.__name__, (ours, getattr(module, sklearn_name)), {})
    return _BRIDGED[ours]


def check_fitted(estimator, attribute: str = "coef_") -> None:
    """Raises :class:`NotFittedError` unless ``estimator`` has ``attribute``."""
    if not hasattr(estimator, attribute):
        raise _bridged(NotFittedError, "NotFittedError")(
            f"This {type(estimator).__name__} instance is not fitted yet; call fit(X, y) "
            "with appropriate arguments before using this estimator"
        )


def check_X(X, estimator, n_features: int | None = None):
    """A 2-D finite float array or CSR matrix, or a ValueError that names the problem."""
    name = type(estimator).__name__
    if sp.issparse(X):
        X = sp.csr_matrix(X)
        if X.dtype not in (np.float32, np.float64):
            if np.iscomplexobj(X.data):
                raise ValueError(f"{name}: Complex data not supported")
            X = X.astype(np.float64)
        values = X.data
    else:
        X = np.asarray(X)
        if np.iscomplexobj(X):
            raise ValueError(f"{name}: Complex data not supported; got dtype {X.dtype}")
        if X.dtype not in (np.float32, np.float64):
            try:
                X = X.astype(np.float64)
            except (TypeError, ValueError) as e:
                raise type(e)(f"{name}: X must be numeric; {e}") from None
        if X.ndim != 2:
            raise ValueError(
                f"{name}: expected a 2D array, got a {X.ndim}D array instead (shape "
                f"{X.shape}). Reshape your data either using array.reshape(-1, 1) if it "
                "has a single feature or array.reshape(1, -1) if it contains a single sample"
            )
        values = X
    if X.shape[0] < 1:
        raise ValueError(
            f"{name}: found array with 0 sample(s) (shape={X.shape}) while a minimum of 1 "
            "is required."
        )
    if X.shape[1] < 1:
        raise ValueError(
            f"{name}: found array with 0 feature(s) (shape={X.shape}) while a minimum of 1 "
            "is required."
        )
    if not np.isfinite(values).all():
        raise ValueError(f"{name}: input X contains NaN or infinity")
    if n_features is not None and X.shape[1] != n_features:
        raise ValueError(
            f"X has {X.shape[1]} features, but {name} is expecting {n_features} features "
            "as input; pass data with the same columns"
        )
    return X


def _check_y(X, y, estimator) -> np.ndarray:
    name = type(estimator).__name__
    if y is None:
        raise ValueError(
            f"{name} requires y to be passed, but the target y is None; call fit(X, y)"
        )
    y = np.asarray(y)
    if y.ndim == 0 or y.shape[0] != X.shape[0]:
        raise ValueError(
            f"{name}: X and y have inconsistent numbers of samples: {X.shape[0]} rows in X, "
            f"{y.shape[0] if y.ndim else 0} in y"
        )
    return y


def regression_target(X, y, estimator) -> np.ndarray:
    """y as float64, (n,) or (n, k) for k targets; rejects NaN/inf and wrong lengths."""
    y = _check_y(X, y, estimator)
    if np.iscomplexobj(y):
        raise ValueError(f"{type(estimator).__name__}: complex targets not supported")
    y = y.astype(np.float64)
    if y.ndim > 2:
        raise ValueError(f"{type(estimator).__name__}: y must be 1-D or 2-D; got {y.shape}")
    if not np.isfinite(y).all():
        raise ValueError(f"{type(estimator).__name__}: input y contains NaN or infinity")
    return y


def class_labels(X, y, estimator) -> np.ndarray:
    """y as a 1-D array of discrete labels (a column vector is raveled with a warning)."""
    y = _check_y(X, y, estimator)
    name = type(estimator).__name__
    if y.ndim == 2 and y.shape[1] == 1:
        warnings.warn(
            _bridged(DataConversionWarning, "DataConversionWarning")(
                "A column-vector y was passed when a 1d array was expected. Please change "
                "the shape of y to (n_samples,), for example using ravel()."
            ),
            stacklevel=3,
        )
        y = y.ravel()
    if y.ndim != 1:
        raise ValueError(f"{name}: y must be 1-D class labels; got shape {y.shape}")
    if y.dtype.kind == "f":
        if not np.isfinite(y).all():
            raise ValueError(f"{name}: input y contains NaN or infinity")
        if (y != np.round(y)).any():
            raise ValueError(
                f"Unknown label type: continuous. {name} is a classifier: y must hold class "
                "labels (integers or strings), not continuous values"
            )
    elif y.dtype.kind == "c":
        raise ValueError(f"Unknown label type: complex. {name} needs discrete class labels")
    return y


def check_sample_weight(sample_weight, n: int, estimator) -> np.ndarray:
    """Per-row weights (ones when None); rejects negative, non-finite or all-zero weights."""
    name = type(estimator).__name__
    if sample_weight is None:
        return np.ones(n)
    c = np.asarray(sample_weight, np.float64)
    if c.ndim == 0:
        c = np.full(n, float(c))
    if c.shape != (n,):
        raise ValueError(f"{name}: sample_weight has shape {c.shape}; expected ({n},)")
    if not np.isfinite(c).all() or (c < 0).any():
        raise ValueError(f"{name}: sample_weight must be finite and non-negative")
    if c.sum() <= 0:
        raise ValueError(f"{name}: sample_weight sums to zero; no row would count")
    return c
