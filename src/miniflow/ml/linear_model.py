"""Linear and logistic regression: exact, quasi-Newton, or by their hand-derived gradients.

Every model scores ``s = x W^T + b`` and minimises, with ``c_i`` the sample weight times
the class weight and ``total`` the sum of the sample weights,

    J(W, b) = (1/total) sum_i c_i * loss(y_i, s_i) + l1 * |W|_1 + (l2/2) * |W|^2.

``solver`` picks how:

* ``"lstsq"`` (regression): the exact (ridge) least-squares solution.
* ``"lbfgs"``: SciPy's L-BFGS-B on J, stopping when the largest gradient entry is below
  ``tol`` (binary and multinomial logistic regression; regression on large sparse X).
* ``"sgd"``: minibatch steps of a per-coordinate optimizer (:mod:`miniflow.ml.optimizers`:
  ``sgd``, ``momentum``, ``adagrad``, ``adam``, ``ftrl``) on the gradients written out
  below (:func:`mse_gradient`, :func:`log_loss_gradient`); the teaching path, the only one
  with ``l1`` and the one ``partial_fit`` streams through. It stops when the training
  (or, with ``early_stopping``, validation) loss has not improved by ``tol`` for
  ``n_iter_no_change`` epochs.
* ``"auto"`` (default): ``lstsq`` for regression, ``lbfgs`` for classification, ``sgd``
  when ``l1 > 0`` or ``early_stopping`` is set.

With ``standardize=True`` (default) every solver works on ``(X - mean) / std``
(:class:`miniflow.ml.solvers.Standardizer`, never materialised; sparse X is not
centred) and regression targets are centred and scaled for ``sgd``; ``coef_`` and
``intercept_`` are reported in the original units. The penalties then apply to the
standardised coefficients (scikit-learn penalises the raw ones; the two agree when X is
already standardised). The bias is never regularised. ``LogisticRegression``'s default
``l2=None`` is ``1/total``: scikit-learn's ``C=1``; in general ``C`` is ``l2 = 1/(C*n)``
and ``Ridge(alpha)`` is ``l2 = 2*alpha/n``.
"""

from __future__ import annotations

import numpy as np

from miniflow.core.update_rules import sigmoid
from miniflow.ml.base import Params
from miniflow.ml.optimizers import CoordinateOptimizer, make_optimizer
from miniflow.ml.solvers import LOSSES, Standardizer, lbfgs, lstsq
from miniflow.ml.validation import (
    check_fitted,
    check_sample_weight,
    check_X,
    class_labels,
    regression_target,
)

__all__ = ["LinearRegression", "LogisticRegression", "mse_gradient", "log_loss_gradient", "sigmoid"]

SOLVERS = ("auto", "lstsq", "lbfgs", "sgd")


def mse_gradient(X, y, w, b, c):
    """Gradient of the mean squared error (1/B) sum_i c_i (y_i - w.x_i - b)^2.

    With residual r_i = y_i - w.x_i - b, the chain rule on (r_i)^2 gives
    d/dw = 2 r_i * dr_i/dw = -2 r_i x_i and d/db = -2 r_i, so

        dJ/dw = -(2/B) sum_i c_i r_i x_i = -(2/B) X^T (c * r)
        dJ/db = -(2/B) sum_i c_i r_i

    :func:`miniflow.ml.solvers.squared_loss` is the same rule on the score matrix.

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
    The loss itself is computed from s (log(1+e^s) - y s) to stay finite. The softmax
    version (:func:`miniflow.ml.solvers.softmax_loss`) has the same form, p - y per class.

    Returns:
        (grad_w, grad_b, loss): loss is the weighted mean log loss.
    """
    s = X @ w + b
    d = c * (sigmoid(s) - y)
    B = len(y)
    loss = np.logaddexp(0.0, s) - y * s
    return (X.T @ d) / B, d.sum() / B, float(np.dot(c, loss) / B)


class _LinearModel(Params):
    """Shared fitting; subclasses encode the target (``_encode``) and name the loss."""

    _loss = "squared"

    def __init__(
        self,
        epochs: int = 100,
        learning_rate: float = 0.01,
        lr_schedule: str = "constant",
        batch_size: int = 32,
        optimizer: str = "adam",
        l1: float = 0.0,
        l2: float | None = 0.0,
        momentum: float = 0.9,
        shuffle: bool = True,
        random_state=None,
        early_stopping: bool = False,
        validation_fraction: float = 0.1,
        n_iter_no_change: int = 5,
        tol: float | None = 1e-4,
        fit_intercept: bool = True,
        verbose: bool = False,
        solver: str = "auto",
        max_iter: int = 1000,
        standardize: bool = True,
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
        self.solver = solver
        self.max_iter = max_iter
        self.standardize = standardize

    # -- hooks -------------------------------------------------------------------------
    def _encode(self, X, y, classes=None):
        """(Y as an (n, k) float matrix, loss name); sets the target bookkeeping."""
        y = regression_target(X, y, self)
        self._multi_output = y.ndim == 2
        return (y if y.ndim == 2 else y[:, None]), "squared"

    def _class_weights(self, Y):
        return np.ones(len(Y))

    def _l2(self, total: float) -> float:
        return 0.0 if self.l2 is None else float(self.l2)

    # -- solver choice -----------------------------------------------------------------
    def _solver(self, X, loss: str) -> str:
        solver = self.solver
        if solver not in SOLVERS:
            raise ValueError(f"unknown solver {solver!r}; expected one of {list(SOLVERS)}")
        if solver == "auto":
            if self.l1 or self.early_stopping:
                return "sgd"
            if loss == "squared" and X.shape[0] * X.shape[1] <= 20_000_000:
                return "lstsq"
            return "lbfgs"
        if solver == "lstsq" and loss != "squared":
            raise ValueError("solver='lstsq' is least squares; use 'lbfgs' or 'sgd' here")
        if self.l1 and solver != "sgd":
            raise ValueError(f"l1 > 0 needs solver='sgd' (proximal steps); got {solver!r}")
        return solver

    # -- fitting -----------------------------------------------------------------------
    def fit(self, X, y, sample_weight=None):
        """Fits from scratch with ``solver``.

        Args:
            X: (n_samples, n_features) dense array or SciPy sparse matrix.
            y: targets ((n,) or (n, k) for regression) or class labels.
            sample_weight: optional per-row weights multiplying each row's loss.

        Returns:
            self.
        """
        X = check_X(X, self)
        for name in ("_opt_w", "classes_"):
            self.__dict__.pop(name, None)
        Y, loss = self._encode(X, y)
        sw = check_sample_weight(sample_weight, X.shape[0], self)
        c = sw * self._class_weights(Y)
        solver = self._solver(X, loss)
        self.n_features_in_ = X.shape[1]
        self.loss_curve_: list[float] = []
        self._std = Standardizer(X, sw, center=self.fit_intercept, scale=self.standardize)
        total, l2 = sw.sum(), self._l2(sw.sum())
        if solver == "lstsq":
            W, b = lstsq(X, Y, c, total, self._std, l2, self.fit_intercept)
            self.n_iter_ = 1
        elif solver == "lbfgs":
            W, b, self.n_iter_ = lbfgs(
                X, Y, c, total, self._std, loss, l2, self.fit_intercept, self.tol or 0.0,
                self.max_iter,
            )  # fmt: skip
        else:
            self._sgd_fit(X, Y, c, sw, loss)
            return self
        self._publish(W, b)
        return self

    def _start_sgd(self, X, Y, sw, loss) -> None:
        k, p = Y.shape[1], X.shape[1]
        self._sgd_loss = loss
        self._k = k
        if loss == "squared":  # centred, unit-variance targets (undone in _publish)
            self._ym = (sw @ Y) / sw.sum() if self.fit_intercept else np.zeros(k)
            sd = np.sqrt((sw @ (Y - self._ym) ** 2) / sw.sum()) if self.standardize else 1.0
            self._ys = np.where(np.asarray(sd) > 1e-12, sd, 1.0) * np.ones(k)
        else:
            self._ym, self._ys = np.zeros(k), np.ones(k)
        l1 = self.l1 / float(self._ys.mean()) if loss == "squared" else self.l1
        l2 = self._l2(sw.sum())
        self._opt_w = self._make_optimizer(k * p, {"l1": l1, "l2": l2})
        self._opt_b = self._make_optimizer(k, {})
        self._keys_w = np.arange(k * p, dtype=np.int64)
        self._keys_b = np.arange(k, dtype=np.int64)
        self.n_iter_ = 0
        self.loss_curve_ = []

    def _make_optimizer(self, dim: int, reg: dict) -> CoordinateOptimizer:
        name = self.optimizer
        if name == "ftrl":
            return make_optimizer(name, dim, alpha=self.learning_rate, **reg)
        extra = {"schedule": self.lr_schedule} if name in ("sgd", "momentum") else {}
        if name == "momentum":
            extra["momentum"] = self.momentum
        return make_optimizer(name, dim, lr=self.learning_rate, **extra, **reg)

    def _params(self):
        W = self._opt_w.weights(self._keys_w).reshape(self._k, -1)
        b = self._opt_b.weights(self._keys_b) if self.fit_intercept else np.zeros(self._k)
        return W, b

    def _scaled(self, Y):
        return (Y - self._ym) / self._ys

    def _batch_loss(self, X, Y, c, sw) -> float:
        W, b = self._params()
        return LOSSES[self._sgd_loss](self._scaled(Y), self._std.scores(X, W, b), c, sw.sum())[0]

    def _epoch(self, X, Y, c, sw, rng) -> float:
        n = X.shape[0]
        order = rng.permutation(n) if self.shuffle else np.arange(n)
        fn, Ys, total = LOSSES[self._sgd_loss], self._scaled(Y), 0.0
        for start in range(0, n, self.batch_size):
            rows = order[start : start + self.batch_size]
            W, b = self._params()
            Xb = X[rows]
            loss, G = fn(Ys[rows], self._std.scores(Xb, W, b), c[rows], sw[rows].sum())
            self._opt_w.update(self._keys_w, self._std.grad(Xb, G).ravel())
            if self.fit_intercept:
                self._opt_b.update(self._keys_b, G.sum(axis=0))
            total += loss * len(rows)
        self.n_iter_ += 1
        self._publish(*self._params())
        return total / n

    def _sgd_fit(self, X, Y, c, sw, loss) -> None:
        self._start_sgd(X, Y, sw, loss)
        rng = np.random.default_rng(self.random_state)
        if self.early_stopping:
            perm = rng.permutation(X.shape[0])
            n_val = max(1, int(round(self.validation_fraction * X.shape[0])))
            val, train = perm[:n_val], perm[n_val:]
            Xv, Yv, cv, swv = X[val], Y[val], c[val], sw[val]
            X, Y, c, sw = X[train], Y[train], c[train], sw[train]
        best, best_params, stale = np.inf, None, 0
        for _ in range(self.epochs):
            loss = self._epoch(X, Y, c, sw, rng)
            self.loss_curve_.append(loss)
            if self.verbose:
                print(f"epoch {self.n_iter_}: loss {loss:.6f}")
            watched = self._batch_loss(Xv, Yv, cv, swv) if self.early_stopping else loss
            if self.tol is None:
                continue
            if watched < best - self.tol:
                best, stale = watched, 0
                best_params = (self.coef_.copy(), self.intercept_)
            else:
                stale += 1
                if stale >= self.n_iter_no_change:
                    break
        if self.early_stopping and best_params is not None:
            self.coef_, self.intercept_ = best_params

    def partial_fit(self, X, y, classes=None, sample_weight=None):
        """One ``sgd`` pass over (X, y), continuing from the current weights.

        The first call fixes the standardisation (from its rows) and, for classifiers,
        the classes (``classes`` or the labels seen).
        """
        X = check_X(X, self, getattr(self, "n_features_in_", None))
        first = not hasattr(self, "_opt_w")
        if first:
            self.__dict__.pop("classes_", None)
        Y, loss = self._encode(X, y, classes)
        sw = check_sample_weight(sample_weight, X.shape[0], self)
        c = sw * self._class_weights(Y)
        if first:
            self.n_features_in_ = X.shape[1]
            self._std = Standardizer(X, sw, center=self.fit_intercept, scale=self.standardize)
            self._start_sgd(X, Y, sw, loss)
        rng = np.random.default_rng(self.random_state)
        self.loss_curve_.append(self._epoch(X, Y, c, sw, rng))
        return self

    def _publish(self, W, b) -> None:
        """Sets ``coef_``/``intercept_`` in original units from standardised (W, b)."""
        if getattr(self, "_ys", None) is not None and hasattr(self, "_opt_w"):
            W, b = W * self._ys[:, None], b * self._ys + self._ym
        coef, intercept = self._std.unscale(W, b)
        if not self.fit_intercept:
            intercept = np.zeros_like(intercept)
        if W.shape[0] == 1 and not getattr(self, "_multi_output", False):
            self.coef_, self.intercept_ = coef[0], float(intercept[0])
        else:
            self.coef_, self.intercept_ = coef, intercept

    def _scores(self, X) -> np.ndarray:
        """The linear scores X coef_^T + intercept_: (n,) or (n, k)."""
        check_fitted(self)
        X = check_X(X, self, self.n_features_in_)
        return np.asarray(X @ self.coef_.T) + self.intercept_

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = self._estimator_type == "regressor"
        if tags.classifier_tags is not None:
            tags.classifier_tags.multi_class = True
        return tags


class LinearRegression(_LinearModel):
    """Least-squares linear regression (one or several targets).

    Args:
        solver: ``auto`` (default: exact ``lstsq``), ``lstsq``, ``lbfgs`` or ``sgd``.
        standardize: solve on standardised features (reported in original units).
        l1, l2: regularisation ``l1*|w|_1 + (l2/2)*|w|^2`` (``Ridge(alpha)`` is
            ``l2=2*alpha/n_samples``); ``l1`` needs ``sgd``.
        tol: lbfgs gradient tolerance; sgd stops when the loss has not improved by
            ``tol`` for ``n_iter_no_change`` epochs (None: run all ``epochs``).
        max_iter: lbfgs iterations at most.
        epochs, learning_rate, lr_schedule, batch_size, optimizer, momentum, shuffle,
            random_state: the ``sgd`` path (``optimizer``: ``sgd``, ``momentum``,
            ``adagrad``, ``adam`` or ``ftrl``; ``batch_size=1`` is per-example SGD).
        early_stopping: ``sgd`` on all but ``validation_fraction`` of the rows, stopping
            on the held-out loss (keeps the best weights).

    Example:
        >>> import numpy as np
        >>> X = np.arange(20.0).reshape(10, 2) ** [1, 2]; y = X @ [1.0, 2.0] + 3
        >>> m = LinearRegression().fit(X, y)
        >>> bool(np.abs(m.predict(X) - y).max() < 1e-8)
        True
    """

    _estimator_type = "regressor"

    def predict(self, X) -> np.ndarray:
        """Predicted targets X coef_^T + intercept_."""
        return self._scores(X)

    def score(self, X, y, sample_weight=None) -> float:
        """Coefficient of determination R^2 (averaged over targets, as scikit-learn)."""
        y = np.asarray(y, np.float64)
        pred = self.predict(X)
        c = np.ones(len(y)) if sample_weight is None else np.asarray(sample_weight, np.float64)
        y2, p2 = y.reshape(len(y), -1), pred.reshape(len(y), -1)
        resid = c @ (y2 - p2) ** 2
        mean = (c @ y2) / c.sum()
        spread = c @ (y2 - mean) ** 2
        safe = np.where(spread > 0, spread, 1.0)
        r2 = np.where(spread > 0, 1.0 - resid / safe, np.where(resid > 0, 0.0, 1.0))
        return float(r2.mean())


class LogisticRegression(_LinearModel):
    """Logistic regression: binary (sigmoid) or multinomial (softmax) log loss.

    Takes the arguments of :class:`LinearRegression` (``solver`` ``auto`` is ``lbfgs``)
    plus ``class_weight`` (None, ``"balanced"`` or ``{label: weight}``). The default
    ``l2=None`` is scikit-learn's ``C=1`` (``l2 = 1/n_samples``). Binary models have
    ``coef_`` of shape (n_features,) and a float ``intercept_``; K > 2 classes give
    (K, n_features) and (K,).

    Example:
        >>> import numpy as np
        >>> X = np.array([[-2.0], [-1.0], [1.0], [2.0]]); y = np.array([0, 0, 1, 1])
        >>> LogisticRegression().fit(X, y).predict(X).tolist()
        [0, 0, 1, 1]
    """

    _estimator_type = "classifier"

    def __init__(
        self,
        epochs: int = 100,
        learning_rate: float = 0.01,
        lr_schedule: str = "constant",
        batch_size: int = 32,
        optimizer: str = "adam",
        l1: float = 0.0,
        l2: float | None = None,
        momentum: float = 0.9,
        shuffle: bool = True,
        random_state=None,
        early_stopping: bool = False,
        validation_fraction: float = 0.1,
        n_iter_no_change: int = 5,
        tol: float | None = 1e-4,
        fit_intercept: bool = True,
        verbose: bool = False,
        solver: str = "auto",
        max_iter: int = 1000,
        standardize: bool = True,
        class_weight=None,
    ):
        super().__init__(
            epochs, learning_rate, lr_schedule, batch_size, optimizer, l1, l2, momentum,
            shuffle, random_state, early_stopping, validation_fraction, n_iter_no_change,
            tol, fit_intercept, verbose, solver, max_iter, standardize,
        )  # fmt: skip
        self.class_weight = class_weight

    def _l2(self, total: float) -> float:
        return 1.0 / total if self.l2 is None else float(self.l2)

    def _encode(self, X, y, classes=None):
        y = class_labels(X, y, self)
        found = np.unique(y)
        if not hasattr(self, "classes_"):
            known = found if classes is None else np.unique(np.asarray(classes))
            if len(known) < 2:
                raise ValueError(
                    f"{type(self).__name__} needs samples of at least 2 classes in the data, "
                    f"but the data contains only one class (1 class: {known.tolist()})"
                )
            self.classes_ = known
        unknown = np.setdiff1d(found, self.classes_)
        if len(unknown):
            raise ValueError(
                f"y contains labels {unknown.tolist()} not in classes_ {self.classes_.tolist()}"
            )
        index = np.searchsorted(self.classes_, y)
        if len(self.classes_) == 2:
            return (index == 1).astype(np.float64)[:, None], "logistic"
        return np.eye(len(self.classes_))[index], "softmax"

    def _class_weights(self, Y):
        cw, k = self.class_weight, len(self.classes_)
        index = Y[:, 0].astype(np.int64) if Y.shape[1] == 1 else Y.argmax(axis=1)
        if cw is None:
            return np.ones(len(Y))
        if isinstance(cw, str) and cw == "balanced":
            counts = np.bincount(index, minlength=k).astype(np.float64)
            per_class = len(Y) / (k * np.maximum(counts, 1.0))
        elif isinstance(cw, dict):
            per_class = np.array([cw.get(label, 1.0) for label in self.classes_], np.float64)
        else:
            raise ValueError(f"class_weight must be None, 'balanced' or a dict; got {cw!r}")
        return per_class[index]

    def decision_function(self, X) -> np.ndarray:
        """Scores X coef_^T + intercept_: (n,) for two classes (> 0: ``classes_[1]``),
        else (n, K)."""
        return self._scores(X)

    def predict_proba(self, X) -> np.ndarray:
        """(n, K) class probabilities, columns ordered as ``classes_``."""
        s = self.decision_function(X)
        if s.ndim == 1:
            p = sigmoid(s)
            return np.column_stack([1.0 - p, p])
        e = np.exp(s - s.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)

    def predict_log_proba(self, X) -> np.ndarray:
        """Natural log of :meth:`predict_proba`."""
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(X))

    def predict(self, X) -> np.ndarray:
        """The most probable class label for each row."""
        s = self.decision_function(X)
        index = (s > 0).astype(np.int64) if s.ndim == 1 else s.argmax(axis=1)
        return self.classes_[index]

    def score(self, X, y, sample_weight=None) -> float:
        """Mean accuracy."""
        hit = (self.predict(X) == np.asarray(y).ravel()).astype(np.float64)
        return float(np.average(hit, weights=sample_weight))
