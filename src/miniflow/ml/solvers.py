"""Exact and quasi-Newton solvers for the linear estimators, on standardised features.

All models here score ``S = Z W^T + b`` with ``W`` of shape (k, p) for k outputs
(regression targets, 1 for binary logistic, K classes for multinomial) and minimise,
with ``total`` the sum of the sample weights (n when there are none) and ``c_i`` the
sample weight times the class weight,

    J(W, b) = (1/total) sum_i c_i loss(y_i, S_i) + (l2/2) |W|^2.

``Z = (X - mu) / sd`` is the standardised design. It is never built: ``Z v`` is
``X (v/sd) - mu.(v/sd)`` and ``Z^T G`` is ``(X^T G - mu (1^T G)) / sd``, so sparse X stays
sparse (and a dense X is not copied). Coefficients in the original units are
``W / sd`` and ``b - (W / sd) mu``.
"""

from __future__ import annotations

import numpy as np
import scipy.optimize
import scipy.sparse as sp

__all__ = [
    "Standardizer",
    "LOSSES",
    "squared_loss",
    "logistic_loss",
    "softmax_loss",
    "lstsq",
    "lbfgs",
]


class Standardizer:
    """Weighted column means and standard deviations of X, applied implicitly.

    Args:
        X: (n, p) dense array or CSR matrix.
        c: (n,) non-negative row weights.
        center: subtract the means (False when there is no intercept to absorb them).
        scale: divide by the standard deviations (constant columns keep scale 1).
    """

    def __init__(self, X, c, center: bool = True, scale: bool = True):
        total = c.sum()
        mean = np.asarray(X.T @ c).ravel() / total
        p = X.shape[1]
        if scale:
            sq = X.multiply(X) if sp.issparse(X) else X * X
            var = np.maximum(np.asarray(sq.T @ c).ravel() / total - mean**2, 0.0)
            sd = np.sqrt(var)
            sd[sd < 1e-12 * np.maximum(1.0, np.abs(mean))] = 1.0
        else:
            sd = np.ones(p)
        self.mu = mean if center else np.zeros(p)
        self.sd = sd

    def scores(self, X, W: np.ndarray, b: np.ndarray) -> np.ndarray:
        """(n, k) scores Z W^T + b."""
        V = W / self.sd  # (k, p)
        return np.asarray(X @ V.T) + (b - V @ self.mu)

    def grad(self, X, G: np.ndarray) -> np.ndarray:
        """(k, p) Z^T G, transposed, for the (n, k) score gradient G."""
        XtG = np.asarray(X.T @ G)  # (p, k)
        return ((XtG - np.outer(self.mu, G.sum(axis=0))) / self.sd[:, None]).T

    def unscale(self, W: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Coefficients and intercepts in the original units of X."""
        coef = W / self.sd
        return coef, b - coef @ self.mu


def squared_loss(Y, S, c, total):
    """(1/total) sum_i c_i |y_i - s_i|^2 and its gradient in S."""
    R = Y - S
    return float(c @ (R * R).sum(axis=1)) / total, -2.0 * c[:, None] * R / total


def logistic_loss(Y, S, c, total):
    """(1/total) sum_i c_i logloss(y_i, s_i) for y in {0, 1} (one column); gradient p - y."""
    loss = np.logaddexp(0.0, S) - Y * S
    p = np.exp(-np.logaddexp(0.0, -S))
    return float(c @ loss[:, 0]) / total, c[:, None] * (p - Y) / total


def softmax_loss(Y, S, c, total):
    """(1/total) sum_i c_i cross-entropy(y_i, softmax(s_i)) for one-hot Y; gradient p - y."""
    top = S.max(axis=1, keepdims=True)
    lse = top + np.log(np.exp(S - top).sum(axis=1, keepdims=True))
    loss = (lse - (Y * S).sum(axis=1, keepdims=True))[:, 0]
    return float(c @ loss) / total, c[:, None] * (np.exp(S - lse) - Y) / total


LOSSES = {"squared": squared_loss, "logistic": logistic_loss, "softmax": softmax_loss}


def lstsq(X, Y, c, total: float, std: Standardizer, l2: float, fit_intercept: bool):
    """Exact (ridge) least squares: returns (W, b) in standardised units.

    The weighted, centred normal equations ``(Z^T C Z + (sum c) l2/2 I) W^T = Z^T C Y``
    (``total`` = the sum of sample weights) are solved with ``numpy.linalg.lstsq`` on the square-root-weighted design (the
    minimum-norm solution when X is rank deficient, as scikit-learn's).
    """
    Xd = X.toarray() if sp.issparse(X) else np.asarray(X, np.float64)
    ym = (c @ Y) / c.sum() if fit_intercept else np.zeros(Y.shape[1])
    Z = (Xd - std.mu) / std.sd
    root = np.sqrt(c)[:, None]
    A, B = root * Z, root * (Y - ym)
    if l2 > 0:
        p = Z.shape[1]
        A = np.vstack([A, np.sqrt(total * l2 / 2.0) * np.eye(p)])
        B = np.vstack([B, np.zeros((p, Y.shape[1]))])
    W = np.linalg.lstsq(A, B, rcond=None)[0].T
    return W, ym


def lbfgs(
    X,
    Y,
    c,
    total: float,
    std: Standardizer,
    loss: str,
    l2: float,
    fit_intercept: bool,
    tol: float,
    max_iter: int,
):
    """L-BFGS-B (SciPy) on J; returns (W, b, iterations) in standardised units.

    Stops when the largest gradient component is below ``tol`` (scikit-learn's
    criterion for its lbfgs solver) or after ``max_iter`` iterations.
    """
    fn = LOSSES[loss]
    k, p = Y.shape[1], X.shape[1]

    def objective(theta):
        W = theta[: k * p].reshape(k, p)
        b = theta[k * p :] if fit_intercept else np.zeros(k)
        value, G = fn(Y, std.scores(X, W, b), c, total)
        gW = std.grad(X, G) + l2 * W
        value += 0.5 * l2 * float((W * W).sum())
        parts = [gW.ravel(), G.sum(axis=0)] if fit_intercept else [gW.ravel()]
        return value, np.concatenate(parts)

    theta0 = np.zeros(k * p + (k if fit_intercept else 0))
    res = scipy.optimize.minimize(
        objective,
        theta0,
        jac=True,
        method="L-BFGS-B",
        options={
            "maxiter": max_iter,
            "maxls": 50,
            "gtol": tol,
            "ftol": 64 * np.finfo(float).eps,
        },
    )
    W = res.x[: k * p].reshape(k, p)
    b = res.x[k * p :] if fit_intercept else np.zeros(k)
    return W, b, int(res.nit)
