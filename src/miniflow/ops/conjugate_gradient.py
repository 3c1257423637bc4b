"""`tf.linalg.experimental.conjugate_gradient`: solves A x = rhs for a self-adjoint,
positive definite `LinearOperator` by (preconditioned) conjugate gradients, as a
`while_loop` (graph and eager), stopping when every residual norm is below
tol * |rhs| or after ``max_iter`` steps."""

from __future__ import annotations

from collections import namedtuple

from miniflow import dtypes
from miniflow.ops import array_ops as _arr, math_ops as _math
from miniflow.ops.functional_ops import while_loop

CGState = namedtuple("CGState", ["i", "x", "r", "p", "gamma"])


def _dot(x, y):
    return _math.reduce_sum(x * y, axis=-1)


def _norm(x):
    return _math.sqrt(_dot(x, x))


def conjugate_gradient(
    operator, rhs, preconditioner=None, x=None, tol=1e-5, max_iter=20, name="conjugate_gradient"
):
    """CGState(i, x, r, p, gamma) after the conjugate-gradient iterations for A x = rhs."""
    if not (operator.is_self_adjoint and operator.is_positive_definite):
        raise ValueError("Expected a self-adjoint, positive definite operator.")
    rhs = _arr.convert_to_tensor(rhs)
    r0 = rhs * _arr.ones_like(operator.matvec(rhs))  # broadcast over the operator's batch
    tol = tol * _norm(r0)
    if x is None:
        x = _arr.zeros_like(r0)
    else:
        x = _arr.convert_to_tensor(x, dtype=rhs.dtype)
        r0 = rhs - operator.matvec(x)
    p0 = r0 if preconditioner is None else preconditioner.matvec(r0)
    gamma0 = _dot(r0, p0)

    def cond(i, x, r, p, gamma):
        return _math.logical_and(i < max_iter, _math.reduce_any(_norm(r) > tol))

    def body(i, x, r, p, gamma):
        z = operator.matvec(p)
        alpha = _arr.expand_dims(gamma / _dot(p, z), -1)
        x = x + alpha * p
        r = r - alpha * z
        q = r if preconditioner is None else preconditioner.matvec(r)
        new_gamma = _dot(r, q)
        p = q + _arr.expand_dims(new_gamma / gamma, -1) * p
        return i + 1, x, r, p, new_gamma

    i0 = _arr.constant(0, dtype=dtypes.int32)
    out = while_loop(cond, body, [i0, x, r0, p0, gamma0], name=name)
    return CGState(*out)
