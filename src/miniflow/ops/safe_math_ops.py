"""Element-wise ops that define a value where the plain formula has none: `xlogy`,
`xdivy`, `xlog1py` (0 where x == 0), `multiply_no_nan`, `reciprocal_no_nan`, plus C-style
truncating division, `nextafter` and `rint`."""

from __future__ import annotations

import numpy as np

from miniflow import errors
from miniflow.core.dispatch import apply_op
from miniflow.core.registry import not_differentiable, register_gradient, register_op
from miniflow.ops import array_ops as _arr, math_ops as _math, shape_rules as rules
from miniflow.ops.math_ops import unbroadcast
from miniflow.ops.nn_ops import div_no_nan
from miniflow.ops.trig_ops import float_only


def _zero_where_x_zero(fn):
    def kernel(x, y):
        with np.errstate(all="ignore"):
            out = fn(x, y)
        return np.where(x == 0, np.zeros_like(out), out).astype(out.dtype, copy=False)

    return kernel


register_op("Xlogy", infer=float_only, same_dtype=True)(
    _zero_where_x_zero(lambda x, y: x * np.log(y))
)
register_op("Xdivy", infer=float_only, same_dtype=True)(_zero_where_x_zero(lambda x, y: x / y))
register_op("Xlog1py", infer=float_only, same_dtype=True)(
    _zero_where_x_zero(lambda x, y: x * np.log1p(y))
)


@register_op("MulNoNan", infer=rules.broadcast, same_dtype=True)
def _mul_no_nan(x, y):
    with np.errstate(all="ignore"):
        out = np.multiply(x, y)
    return np.where(np.asarray(y) == 0, np.zeros_like(out), out).astype(out.dtype, copy=False)


def _nonzero(x):
    return _math.cast(_math.not_equal(x, _arr.zeros_like(x)), x.dtype)


@register_gradient("Xlogy")
def _xlogy_grad(op, grad):
    x, y = op.inputs
    gx = xlogy(_nonzero(x), y) * grad
    gy = xdivy(x, y) * grad
    return [unbroadcast(gx, x, y), unbroadcast(gy, y, x)]


@register_gradient("Xdivy")
def _xdivy_grad(op, grad):
    x, y = op.inputs
    gx = xdivy(_nonzero(x), y) * grad
    gy = xdivy(_math.negative(x), y * y) * grad
    return [unbroadcast(gx, x, y), unbroadcast(gy, y, x)]


@register_gradient("Xlog1py")
def _xlog1py_grad(op, grad):
    x, y = op.inputs
    gx = xlog1py(_nonzero(x), y) * grad
    gy = xdivy(x, y + 1.0) * grad
    return [unbroadcast(gx, x, y), unbroadcast(gy, y, x)]


@register_gradient("MulNoNan")
def _mul_no_nan_grad(op, grad):
    x, y = op.inputs
    return [
        unbroadcast(multiply_no_nan(grad, y), x, y),
        unbroadcast(multiply_no_nan(x, grad), y, x),
    ]


def _truncatediv(x, y):
    x, y = np.asarray(x), np.asarray(y)
    if x.dtype.kind in "iu":
        if np.any(y == 0):
            raise errors.InvalidArgumentError(None, None, "Integer division by zero")
        q = np.abs(x) // np.abs(y)
        return (np.sign(x) * np.sign(y) * q).astype(x.dtype)
    with np.errstate(all="ignore"):
        return np.trunc(x / y).astype(x.dtype)


def _truncatemod(x, y):
    x, y = np.asarray(x), np.asarray(y)
    if x.dtype.kind in "iu" and np.any(y == 0):
        raise errors.InvalidArgumentError(None, None, "Integer division by zero")
    with np.errstate(all="ignore"):
        return np.fmod(x, y).astype(x.dtype)


register_op("TruncateDiv", infer=rules.broadcast, same_dtype=True)(_truncatediv)
register_op("TruncateMod", infer=rules.broadcast, same_dtype=True)(_truncatemod)
register_op("NextAfter", infer=float_only, same_dtype=True)(np.nextafter)
register_op("Rint", infer=float_only)(np.rint)
not_differentiable("TruncateDiv", "TruncateMod", "Rint")


@register_gradient("NextAfter")
def _nextafter_grad(op, grad):
    """As TF: 1 for x1, 0 for x2."""
    x1, x2 = op.inputs
    return [unbroadcast(grad, x1, x2), unbroadcast(_arr.zeros_like(grad), x2, x1)]


def xlogy(x, y, name=None):
    """x * log(y), and 0 where x == 0."""
    return apply_op("Xlogy", x, y, name=name)


def xdivy(x, y, name=None):
    """x / y, and 0 where x == 0."""
    return apply_op("Xdivy", x, y, name=name)


def xlog1py(x, y, name=None):
    """x * log1p(y), and 0 where x == 0."""
    return apply_op("Xlog1py", x, y, name=name)


def multiply_no_nan(x, y, name=None):
    """x * y, and 0 where y == 0 (even if x is NaN or infinite)."""
    return apply_op("MulNoNan", x, y, name=name)


def reciprocal_no_nan(x, name=None):
    """1 / x, and 0 where x == 0."""
    x = _arr.convert_to_tensor(x)
    return div_no_nan(_arr.ones_like(x), x, name=name)


def truncatediv(x, y, name=None):
    """x / y rounded toward zero (C semantics)."""
    return apply_op("TruncateDiv", x, y, name=name)


def truncatemod(x, y, name=None):
    """Remainder of truncating division: same sign as x (C's fmod)."""
    return apply_op("TruncateMod", x, y, name=name)


def nextafter(x1, x2, name=None):
    """The next representable value after x1 in the direction of x2."""
    return apply_op("NextAfter", x1, x2, name=name)


def rint(x, name=None):
    """Round to the nearest integer, halves to even."""
    return apply_op("Rint", x, name=name)
