"""Linear and logistic regression trained by their hand-derived gradients.

Both models predict from a linear score ``s = X w + b`` and minimise, over a
minibatch of B rows with sample weights ``c_i`` (1 unless class/sample weights are
given),

    J(w, b) = (1/B) sum_i c_i * loss(y_i, s_i) + l1 * |w|_1 + (l2/2) * |w|^2.

The data part of the gradient is written out below (:func:`mse_gradient`,
:func:`log_loss_gradient`); the regularisation part and the step itself belong to the
per-coordinate optimizer (:mod:`miniflow.ml.optimizers`): ``sgd``, ``momentum``,
``adagrad``, ``adam`` or ``ftrl``. The bias is never regularised.

Matching scikit-learn's regularisation, for n training rows and a full batch:
``Ridge(alpha)`` is ``l2 = 2*alpha/n``; ``LogisticRegression(C)`` is ``l2 = 1/(C*n)``.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from miniflow.ml.base import Params
from miniflow.ml.optimizers import Optimizer, make_optimizer

__all__ = ["LinearRegression", "LogisticRegression", "mse_gradient", "log_loss_gradient", "sigmoid"]


def sigmoid(s: np.ndarray) -> np.ndarray:
    """1 / (1 + exp(-s)), computed without overflow for large |s|."""
    out = np.empty_like(s, dtype=np.result_type(s, np.float32))
    pos = s >= 0
    out[pos] = 1.0 / (1.0 + np.exp(-s[pos]))
    e = np.exp(s[~pos])
    out[~pos] = e / (1.0 + e)
    return out


def mse_gradient(X, y, w, b, c):
    """Gradient of the mean squared error (1/B) sum_i c_i (y_i - w.x_i - b)^2.

    With residual r_i = y_i - w.x_i - b, the chain rule on (r_i)^2 gives
    d/dw = 2 r_i * dr_i/dw = -2 r_i x_i and d/db = -2 r_i, so

        dJ/dw = -(2/B) sum_i c_i r_i x_i = -(2/B) X^T (c * r)
        dJ/db = -(2/B) sum_i c_i r_i

    Returns:
        (grad_w, grad_b, loss): loss is the weighted mean of r^2.
    """
    r = y - (X @ w + b)
    cr = c * r
    B = len(y)
    return -2.0 / B * (X.T @ cr), -2.0 / B * cr.sum(), float(np.dot(cr, r) / B)


def log_loss_gradient(X, y, w, b, c):
    """Gradient of the mean log loss for y in {0, 1}, p = sigmoid(s), s = w.x + b.

    loss = -y log p - (1-y) log(1-p). With dp/ds = p (1 - p):

        dloss/ds = -y/p * p(1-p) + (1-y)/(1-p) * p(1-p) = -y(1-p) + (1-y)p = p - y

    so dJ/dw = (1/B) X^T (c * (p - y)) and dJ/db = (1/B) sum_i c_i (p_i - y_i).
    The loss itself is computed from s (log(1+e^s) - y s) to stay finite.

    Returns:
        (grad_w, grad_b, loss): loss is the weighted mean log loss.
    """
    s = X @ w + b
    d = c * (sigmoid(s) - y)
    B = len(y)
    loss = np.logaddexp(0.0, s) - y * s
    return (X.T @ d) / B, d.sum() / B, float(np.dot(c, loss) / B)


def _check_X(X, n_features: int | None = None):
    if sp.issparse(X):
        X = sp.csr_matrix(X)
        if X.dtype not in (np.float32, np.float64):
            X = X.astype(np.float64)
    else:
        X = np.asarray(X)
        if X.dtype not in (np.float32, np.float64):
            X = X.astype(np.float64)
        if X.ndim != 2:
            raise ValueError(f"X must be 2-D (n_samples, n_features); got shape {X.shape}")
    if n_features is not None and X.shape[1] != n_features:
        raise ValueError(
            f"X has {X.shape[1]} features, but the model was fitted with "
            f"{n_features}; pass data with the same columns"
        )
    return X


class _LinearModel(Params):
    """Shared minibatch training loop; subclasses pick the loss and the output."""

    _gradient = staticmethod(mse_gradient)

    def __init__(
        self,
        epochs: int = 100,
        learning_rate: float = 0.01,
        lr_schedule: str = "constant",
        batch_size: int = 32,
        optimizer: str = "adam",
        l1: float = 0.0,
        l2: float = 0.0,
        momentum: float = 0.9,
        shuffle: bool = True,
        random_state=None,
        early_stopping: bool = False,
        validation_fraction: float = 0.1,
        n_iter_no_change: int = 5,
        tol: float = 1e-4,
        fit_intercept: bool = True,
        verbose: bool = False,
    ):
        self.epochs = epochs
        self.learning_rate = learning_rate
        self.lr_schedule = lr_schedule
        self.batch_size = batch_size
        self.optimizer = optimizer
        self.l1 = l1
        self.l2 = l2
        self.momentum = momentum
        self.shuffle = shuffle
        self.random_state = random_state
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.tol = tol
        self.fit_intercept = fit_intercept
        self.verbose = verbose

    # -- optimizer plumbing -------------------------------------------------------------
    def _make_optimizer(self, dim: int, regularise: bool) -> Optimizer:
        name = self.optimizer
        reg = {"l1": self.l1, "l2": self.l2} if regularise else {}
        if name == "ftrl":
            return make_optimizer(name, dim, alpha=self.learning_rate, **reg)
        extra = {"schedule": self.lr_schedule} if name in ("sgd", "momentum") else {}
        if name == "momentum":
            extra["momentum"] = self.momentum
        return make_optimizer(name, dim, lr=self.learning_rate, **extra, **reg)

    def _init_state(self, n_features: int) -> None:
        self.n_features_in_ = n_features
        self._opt_w = self._make_optimizer(n_features, regularise=True)
        self._opt_b = self._make_optimizer(1, regularise=False)
        self._all_keys = np.arange(n_features, dtype=np.int64)
        self._sync()
        self.n_iter_ = 0
        self.loss_curve_: list[float] = []

    def _sync(self) -> None:
        self.coef_ = self._opt_w.weights(self._all_keys)
        bias = self._opt_b.weights(np.zeros(1, np.int64))[0]
        self.intercept_ = float(bias) if self.fit_intercept else 0.0

    def _target(self, y):  # overridden by the classifier (label encoding)
        return np.asarray(y, dtype=np.float64)

    def _weights(self, y_enc, sample_weight):  # overridden by the classifier (class weights)
        c = np.ones(len(y_enc))
        return c if sample_weight is None else c * np.asarray(sample_weight, np.float64)

    def _loss(self, X, y, c) -> float:
        return self._gradient(X, y, self.coef_, self.intercept_, c)[2]

    def _epoch(self, X, y, c, rng) -> float:
        n = X.shape[0]
        order = rng.permutation(n) if self.shuffle else np.arange(n)
        total = 0.0
        for start in range(0, n, self.batch_size):
            rows = order[start : start + self.batch_size]
            gw, gb, loss = self._gradient(X[rows], y[rows], self.coef_, self.intercept_, c[rows])
            self._opt_w.update(self._all_keys, np.asarray(gw).ravel())
            if self.fit_intercept:
                self._opt_b.update(np.zeros(1, np.int64), np.array([gb]))
            self._sync()
            total += loss * len(rows)
        self.n_iter_ += 1
        return total / n

    # -- public API --------------------------------------------------------------------
    def fit(self, X, y, sample_weight=None):
        """Trains from scratch for ``epochs`` passes (or until early stopping).

        Args:
            X: (n_samples, n_features) dense array or SciPy sparse matrix, float32/64.
            y: targets (regression) or class labels (classification).
            sample_weight: optional per-row weights multiplying each row's loss.

        Returns:
            self.
        """
        X = _check_X(X)
        y_enc = self._target(y)
        c = self._weights(y_enc, sample_weight)
        self._init_state(X.shape[1])
        rng = np.random.default_rng(self.random_state)
        if self.early_stopping:
            perm = rng.permutation(X.shape[0])
            n_val = max(1, int(round(self.validation_fraction * X.shape[0])))
            val, train = perm[:n_val], perm[n_val:]
            Xv, yv, cv = X[val], y_enc[val], c[val]
            X, y_enc, c = X[train], y_enc[train], c[train]
        best, best_params, stale = np.inf, None, 0
        for _ in range(self.epochs):
            loss = self._epoch(X, y_enc, c, rng)
            self.loss_curve_.append(loss)
            if self.verbose:
                print(f"epoch {self.n_iter_}: loss {loss:.6f}")
            if not self.early_stopping:
                continue
            val_loss = self._loss(Xv, yv, cv)
            if val_loss < best - self.tol:
                best, stale = val_loss, 0
                best_params = (self.coef_.copy(), self.intercept_)
            else:
                stale += 1
                if stale >= self.n_iter_no_change:
                    break
        if best_params is not None:
            self.coef_, self.intercept_ = best_params
        return self

    def partial_fit(self, X, y, sample_weight=None):
        """One pass over (X, y), continuing from the current weights (no reset)."""
        X = _check_X(X, getattr(self, "n_features_in_", None))
        y_enc = self._target(y)
        if not hasattr(self, "_opt_w"):
            self._init_state(X.shape[1])
        rng = np.random.default_rng(self.random_state)
        self.loss_curve_.append(self._epoch(X, y_enc, self._weights(y_enc, sample_weight), rng))
        return self

    def _check_fitted(self):
        if not hasattr(self, "coef_"):
            raise RuntimeError(
                f"This {type(self).__name__} instance is not fitted yet; call fit(X, y) first"
            )

    def decision_function(self, X) -> np.ndarray:
        """The linear score X w + b for each row."""
        self._check_fitted()
        X = _check_X(X, self.n_features_in_)
        return np.asarray(X @ self.coef_).ravel() + self.intercept_


class LinearRegression(_LinearModel):
    """Least-squares linear regression trained by minibatch gradient descent.

    Args:
        epochs: passes over the data.
        learning_rate: step size (``alpha`` for ftrl).
        lr_schedule: ``constant``, ``invscaling`` or ``inverse`` (sgd and momentum).
        batch_size: rows per step; 1 is classic per-example SGD.
        optimizer: ``sgd``, ``momentum``, ``adagrad``, ``adam`` or ``ftrl``.
        l1, l2: regularisation ``l1*|w|_1 + (l2/2)*|w|^2`` (``Ridge(alpha)`` is
            ``l2=2*alpha/n_samples`` with a full batch).
        early_stopping: hold out ``validation_fraction`` and stop after
            ``n_iter_no_change`` epochs without a ``tol`` improvement (keeps the best).

    Example:
        >>> import numpy as np
        >>> X = np.arange(20.0).reshape(10, 2); y = X @ [1.0, 2.0] + 3
        >>> m = LinearRegression(epochs=2000, batch_size=10, learning_rate=0.05).fit(X, y)
        >>> bool(np.abs(m.predict(X) - y).max() < 0.1)
        True
    """

    _estimator_type = "regressor"
    _gradient = staticmethod(mse_gradient)

    def predict(self, X) -> np.ndarray:
        """Predicted targets X w + b."""
        return self.decision_function(X)

    def score(self, X, y, sample_weight=None) -> float:
        """Coefficient of determination R^2 of the predictions."""
        y = np.asarray(y, np.float64)
        c = np.ones_like(y) if sample_weight is None else np.asarray(sample_weight, np.float64)
        resid = np.sum(c * (y - self.predict(X)) ** 2)
        mean = np.average(y, weights=c)
        return float(1.0 - resid / np.sum(c * (y - mean) ** 2))


class LogisticRegression(_LinearModel):
    """Binary logistic regression (log loss) trained by minibatch gradient descent.

    Takes the same arguments as :class:`LinearRegression`, plus ``class_weight``
    (None, ``"balanced"`` or ``{label: weight}``). ``LogisticRegression(C)`` of
    scikit-learn is ``l2 = 1/(C*n_samples)`` here with a full batch.

    Example:
        >>> import numpy as np
        >>> X = np.array([[-2.0], [-1.0], [1.0], [2.0]]); y = np.array([0, 0, 1, 1])
        >>> LogisticRegression(epochs=200, learning_rate=0.1).fit(X, y).predict(X).tolist()
        [0, 0, 1, 1]
    """

    _estimator_type = "classifier"
    _gradient = staticmethod(log_loss_gradient)

    def __init__(
        self,
        epochs: int = 100,
        learning_rate: float = 0.01,
        lr_schedule: str = "constant",
        batch_size: int = 32,
        optimizer: str = "adam",
        l1: float = 0.0,
        l2: float = 0.0,
        momentum: float = 0.9,
        shuffle: bool = True,
        random_state=None,
        early_stopping: bool = False,
        validation_fraction: float = 0.1,
        n_iter_no_change: int = 5,
        tol: float = 1e-4,
        fit_intercept: bool = True,
        verbose: bool = False,
        class_weight=None,
    ):
        super().__init__(
            epochs,
            learning_rate,
            lr_schedule,
            batch_size,
            optimizer,
            l1,
            l2,
            momentum,
            shuffle,
            random_state,
            early_stopping,
            validation_fraction,
            n_iter_no_change,
            tol,
            fit_intercept,
            verbose,
        )
        self.class_weight = class_weight

    def _target(self, y):
        y = np.asarray(y)
        classes = np.unique(y)
        if not hasattr(self, "classes_") or not hasattr(self, "_opt_w"):
            if len(classes) != 2:
                raise ValueError(
                    f"LogisticRegression is binary: y must have exactly 2 classes, "
                    f"found {len(classes)} ({classes[:5].tolist()}...)"
                )
            self.classes_ = classes
        unknown = np.setdiff1d(classes, self.classes_)
        if len(unknown):
            raise ValueError(
                f"y contains labels {unknown.tolist()} not in classes_ {self.classes_.tolist()}"
            )
        return (y == self.classes_[1]).astype(np.float64)

    def _weights(self, y_enc, sample_weight):
        c = super()._weights(y_enc, sample_weight)
        cw = self.class_weight
        if cw is None:
            return c
        if cw == "balanced":
            n, n_pos = len(y_enc), y_enc.sum()
            per_class = np.array([n / (2.0 * (n - n_pos)), n / (2.0 * n_pos)])
        else:
            per_class = np.array([cw.get(k, 1.0) for k in self.classes_], np.float64)
        return c * per_class[y_enc.astype(np.int64)]

    def fit(self, X, y, sample_weight=None):
        if hasattr(self, "_opt_w"):
            del self._opt_w  # a fresh fit re-derives classes_
        return super().fit(X, y, sample_weight)

    def predict_proba(self, X) -> np.ndarray:
        """(n, 2) array of class probabilities, columns ordered as ``classes_``."""
        p = sigmoid(self.decision_function(X))
        return np.column_stack([1.0 - p, p])

    def predict(self, X) -> np.ndarray:
        """The more probable class label for each row."""
        positive = self.decision_function(X) > 0
        return self.classes_[positive.astype(np.int64)]

    def score(self, X, y, sample_weight=None) -> float:
        """Mean accuracy."""
        hit = (self.predict(X) == np.asarray(y)).astype(np.float64)
        return float(np.average(hit, weights=sample_weight))
