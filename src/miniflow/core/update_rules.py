"""The optimizer update rules and the sparse logistic-regression gradient, defined once.

Three layers apply these rules: the TF1 ``Apply*``/``SparseApply*`` kernels in
``miniflow.train`` (a whole variable, or the gathered rows of a sparse gradient),
the per-coordinate optimizers of ``miniflow.ml`` (the gathered rows of the keys a
minibatch touched) and, through them, the parameter-server shards of ``miniflow.ps``.
Each rule is the formula TF1's kernel computes, in the order it computes it, so the
three give bit-identical updates on the same inputs (``tests/core/test_update_rules.py``).

Conventions: arrays are NumPy arrays of one shape; rules marked *in place* change
their state arguments (a gathered copy is scattered back by the caller); arithmetic
stays in the arrays' dtype (float32 stays float32) when hyperparameters are Python
numbers or NumPy scalars of that dtype. ``lr`` may be an array (one rate per element).
"""

from __future__ import annotations

import numpy as np

from miniflow.core import compiled_updates

__all__ = [
    "sgd",
    "sgd_scatter",
    "soft_threshold",
    "proximal_sgd",
    "momentum",
    "adagrad",
    "proximal_adagrad",
    "adam_step_size",
    "adam",
    "adam_sparse_decay",
    "ftrl",
    "ftrl_weights",
    "rmsprop",
    "rmsprop_in_place",
    "sigmoid",
    "logistic_loss",
    "sparse_margins",
    "sparse_linear_gradient",
]


# -- gradient descent ---------------------------------------------------------------------
def sgd(w, g, lr) -> None:
    """In place: ``w -= lr * g``."""
    if w.ndim:
        w -= lr * g
    else:
        w[()] = w[()] - lr * g  # same, without 0-d ufunc overhead


def sgd_scatter(w, rows, g, lr) -> None:
    """In place: ``w[rows] -= lr * g`` with repeated rows applied one after another
    (TF's ``SparseApplyGradientDescent``)."""
    np.subtract.at(w, np.asarray(rows), np.multiply(lr, g).astype(w.dtype))


def soft_threshold(w, t):
    """``sign(w) * max(|w| - t, 0)``: the proximal map of ``t * |w|_1``."""
    return np.sign(w) * np.maximum(np.abs(w) - t, 0)


def proximal_sgd(w, g, lr, l1, l2):
    """TF's proximal gradient step (FOBOS): ``v = w - lr*g``, soft-threshold by ``lr*l1``,
    divide by ``1 + lr*l2`` (the exact proximal map of ``l1|w| + l2/2 w^2``). Returns the
    new ``w`` in ``w``'s dtype."""
    v = w - lr * g
    if l1 > 0:
        v = soft_threshold(v, lr * l1)
    return (v / (1 + lr * l2)).astype(w.dtype, copy=False)


# -- momentum and adaptive rates ----------------------------------------------------------
def momentum(w, accum, g, lr, mu, nesterov: bool = False) -> None:
    """In place: ``accum = mu*accum + g``; ``w -= lr*accum`` (Nesterov:
    ``w -= lr*g + mu*lr*accum``)."""
    accum *= mu
    accum += g
    if nesterov:
        w -= g * lr + accum * (mu * lr)
    else:
        w -= lr * accum


def adagrad(w, accum, g, lr, eps=0.0) -> None:
    """In place: ``accum += g^2``; ``w -= lr*g / sqrt(accum)`` (``/ (sqrt(accum) + eps)``
    with ``eps``, TF's ``ApplyAdagradV2``)."""
    accum += g * g
    if eps:
        w -= lr * g / (np.sqrt(accum) + eps)
    else:
        w -= lr * g / np.sqrt(accum)


def proximal_adagrad(w, accum, g, lr, l1, l2, eps=0.0) -> None:
    """In place: ``accum += g^2``, then :func:`proximal_sgd` with the per-element rate
    ``lr / sqrt(accum)`` (``/ (sqrt(accum) + eps)`` with ``eps``)."""
    accum += g * g
    root = np.sqrt(accum)
    if eps:
        root += eps
    w[...] = proximal_sgd(w, g, lr / root, l1, l2)


def adam_step_size(beta1_power, beta2_power, lr):
    """TF1's bias-corrected rate ``lr * sqrt(1 - beta2^t) / (1 - beta1^t)``."""
    return lr * np.sqrt(1 - beta2_power) / (1 - beta1_power)


def adam(w, m, v, g, lr, beta1, beta2, eps, beta1_power, beta2_power) -> None:
    """In place, as TF1's ``ApplyAdam``: ``m += (g - m)(1 - beta1)``,
    ``v += (g^2 - v)(1 - beta2)``, ``w -= adam_step_size * m / (sqrt(v) + eps)``
    (epsilon outside the square root). The powers may be arrays (one per element)."""
    step = adam_step_size(beta1_power, beta2_power, lr)
    if w.dtype.kind != "f" or g.shape != w.shape:
        m += (g - m) * (1 - beta1)
        v += (g * g - v) * (1 - beta2)
        w -= step * m / (np.sqrt(v) + eps)
        return
    if np.ndim(step) == 0 and compiled_updates.usable(w, m, v, g):
        compiled_updates.adam(w, m, v, g, beta1, beta2, eps, step)
        return
    # the same formulas in the variable's dtype, with two temporaries
    cast = w.dtype.type
    t = np.subtract(g, m, dtype=w.dtype)
    t *= cast(1 - beta1)
    m += t
    np.multiply(g, g, out=t)
    t -= v
    t *= cast(1 - beta2)
    v += t
    np.sqrt(v, out=t)
    t += cast(eps)
    u = np.multiply(m, cast(step))
    u /= t
    w -= u


def adam_sparse_decay(w, m, v, rows, g, lr, beta1, beta2, eps, beta1_power, beta2_power):
    """In place, as TF1's ``AdamOptimizer._apply_sparse`` (not lazy): ``m`` and ``v`` decay
    on every row, the gradient is added on ``rows`` (unique), and every row moves."""
    m *= beta1
    m[rows] += g * (1 - beta1)
    v *= beta2
    v[rows] += g * g * (1 - beta2)
    w -= adam_step_size(beta1_power, beta2_power, lr) * m / (np.sqrt(v) + eps)


# -- FTRL-proximal ------------------------------------------------------------------------
def _root(x, lr_power):
    """``x ** -lr_power`` (an exact square root for the usual -0.5)."""
    return np.sqrt(x) if lr_power == -0.5 else np.power(x, -lr_power)


def _ftrl_w(linear, root, lr, l1, l2, dtype):
    quadratic = root / lr + 2 * l2
    w = np.where(np.abs(linear) > l1, (np.sign(linear) * l1 - linear) / quadratic, 0)
    return w.astype(dtype, copy=False)


def ftrl_weights(linear, accum, lr, l1, l2, lr_power=-0.5):
    """The FTRL weights of state ``(linear, accum)``: 0 where ``|linear| <= l1``, else
    ``(sign(linear) l1 - linear) / (accum^-lr_power / lr + 2 l2)``."""
    return _ftrl_w(linear, _root(accum, lr_power), lr, l1, l2, accum.dtype)


def ftrl(w, accum, linear, g, lr, l1, l2, l2_shrinkage=0.0, lr_power=-0.5, with_weights=True):
    """TF1's FTRL-proximal step; returns the new ``(w, accum, linear)``:
    ``new_accum = accum + g^2``,
    ``linear += g + 2 l2_shrinkage w - (new_accum^-p - accum^-p) / lr * w``, and ``w`` =
    :func:`ftrl_weights` of the new state (``p = lr_power``; None without
    ``with_weights``, for a caller that computes weights only when it reads them)."""
    new_accum = accum + g * g
    shrunk = g + 2 * l2_shrinkage * w if l2_shrinkage > 0 else g
    new_root = _root(new_accum, lr_power)
    linear = linear + shrunk - (new_root - _root(accum, lr_power)) / lr * w
    if not with_weights:
        return None, new_accum, linear
    return _ftrl_w(linear, new_root, lr, l1, l2, accum.dtype), new_accum, linear


# -- RMSProp ------------------------------------------------------------------------------
def rmsprop(g, ms, mom, mg, lr, rho, mu, eps):
    """New ``(ms, mom, mg)``: ``ms += (g^2 - ms)(1 - rho)``,
    ``mom = mu*mom + lr*g / sqrt(ms + eps)``; centered (``mg`` not None): ``mg += (g -
    mg)(1 - rho)`` and the denominator is ``sqrt(ms - mg^2 + eps)``. Then ``w -= mom``."""
    ms = ms + (g * g - ms) * (1 - rho)
    if mg is None:
        denom = ms + eps
    else:
        mg = mg + (g - mg) * (1 - rho)
        denom = ms - mg * mg + eps
    mom = mom * mu + lr * g / np.sqrt(denom)
    return ms, mom, mg


def rmsprop_in_place(w, ms, mom, g, lr, rho, mu, eps) -> None:
    """:func:`rmsprop` (not centered) on the buffers themselves, in their dtype, with two
    temporaries; then ``w -= mom``."""
    if np.ndim(lr) == 0 and compiled_updates.usable(w, ms, mom, g):
        compiled_updates.rmsprop(w, ms, mom, g, lr, rho, mu, eps)
        return
    cast = w.dtype.type
    t = np.multiply(g, g, dtype=w.dtype)
    t -= ms
    t *= cast(1 - rho)
    ms += t
    np.add(ms, cast(eps), out=t)
    np.sqrt(t, out=t)
    u = np.multiply(g, cast(lr), dtype=w.dtype)
    u /= t
    mom *= cast(mu)
    mom += u
    w -= mom


# -- sparse logistic regression -----------------------------------------------------------
def sigmoid(s: np.ndarray) -> np.ndarray:
    """1 / (1 + exp(-s)), computed without overflow for large |s|."""
    out = np.empty_like(s, dtype=np.result_type(s, np.float32))
    pos = s >= 0
    out[pos] = 1.0 / (1.0 + np.exp(-s[pos]))
    e = np.exp(s[~pos])
    out[~pos] = e / (1.0 + e)
    return out


def logistic_loss(margin: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, float]:
    """``(d loss / d margin per row, summed log loss)`` for labels in {0, 1}.

    With ``p = sigmoid(margin)`` the log loss ``-y log p - (1-y) log(1-p)`` has derivative
    ``p - y`` in the margin; the loss is computed as ``log(1 + e^m) - y m`` to stay
    finite. Any model whose output is a margin (LR, factorization machines) chains its
    own parameter gradients onto this.
    """
    y = labels.astype(np.float64)
    return sigmoid(margin) - y, float(np.sum(np.logaddexp(0.0, margin) - y * margin))


def sparse_margins(indptr, w_per_nnz, values, bias: float) -> np.ndarray:
    """``bias + sum_j w_j x_j`` per CSR row (float64), from each occurrence's weight
    ``w_per_nnz`` and value (``values`` None: every value is 1)."""
    contrib = w_per_nnz if values is None else w_per_nnz * values
    n = len(indptr) - 1
    if n <= 0:
        return np.zeros(0)
    lengths = np.diff(indptr)
    if contrib.size and lengths.all():
        # reduceat is ~2x faster than bincount but is wrong for empty segments.
        out = np.add.reduceat(contrib, indptr[:-1] - indptr[0])
    else:
        rows = np.repeat(np.arange(n), lengths)
        out = np.bincount(rows, weights=contrib, minlength=n)
    return out.astype(np.float64) + bias


def sparse_linear_gradient(d_margin, indptr, local, n_keys: int, values=None) -> np.ndarray:
    """Gradient of a loss in the linear weights: ``sum_i d_margin_i x_ij`` for each of the
    ``n_keys`` unique keys, with ``local`` mapping each occurrence to its key."""
    per_nnz = np.repeat(d_margin, np.diff(indptr))
    if values is not None:
        per_nnz *= values
    return np.bincount(local, weights=per_nnz, minlength=n_keys)
