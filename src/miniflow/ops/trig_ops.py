"""Inverse trigonometric and hyperbolic functions (`tf.math.asin` ... `tf.math.atanh`,
`tf.math.atan2`): kernel, shape rule and gradient side by side."""

from __future__ import annotations

import numpy as np

from miniflow.core.dispatch import apply_op
from miniflow.core.registry import register_gradient, register_op
from miniflow.ops import math_ops as _math, shape_rules as rules
from miniflow.ops.math_ops import unbroadcast


def float_only(inputs, attrs):
    """Shape of the first input; floating or complex inputs only (TF's TypeError)."""
    for t in inputs:
        if not (t.dtype.is_floating or t.dtype.is_complex):
            raise TypeError(
                f"Value passed to parameter 'x' has DataType {t.dtype.name} not "
                "in list of allowed values: float16, float32, float64, "
                "complex64, complex128; cast it to a float type first"
            )
    return rules.broadcast(inputs, attrs)


for _t, _k in [
    ("Asin", np.arcsin),
    ("Acos", np.arccos),
    ("Atan", np.arctan),
    ("Sinh", np.sinh),
    ("Cosh", np.cosh),
    ("Asinh", np.arcsinh),
    ("Acosh", np.arccosh),
    ("Atanh", np.arctanh),
]:
    register_op(_t, infer=float_only)(_k)
register_op("Atan2", infer=float_only, same_dtype=True)(np.arctan2)


@register_gradient("Asin")
def _asin_grad(op, grad):
    """d asin(x) = 1 / sqrt(1 - x^2)."""
    x = op.inputs[0]
    return [grad * _math.rsqrt(1.0 - x * x)]


@register_gradient("Acos")
def _acos_grad(op, grad):
    x = op.inputs[0]
    return [_math.negative(grad) * _math.rsqrt(1.0 - x * x)]


@register_gradient("Atan")
def _atan_grad(op, grad):
    x = op.inputs[0]
    return [grad / (1.0 + x * x)]


@register_gradient("Sinh")
def _sinh_grad(op, grad):
    return [grad * cosh(op.inputs[0])]


@register_gradient("Cosh")
def _cosh_grad(op, grad):
    return [grad * sinh(op.inputs[0])]


@register_gradient("Asinh")
def _asinh_grad(op, grad):
    """d asinh(x) = 1 / cosh(asinh(x))."""
    return [grad / cosh(op.outputs[0])]


@register_gradient("Acosh")
def _acosh_grad(op, grad):
    return [grad / sinh(op.outputs[0])]


@register_gradient("Atanh")
def _atanh_grad(op, grad):
    x = op.inputs[0]
    return [grad / (1.0 - x * x)]


@register_gradient("Atan2")
def _atan2_grad(op, grad):
    """d atan2(y, x) = (x dy - y dx) / (x^2 + y^2)."""
    y, x = op.inputs
    scale = grad / (x * x + y * y)
    return [unbroadcast(scale * x, y, x), unbroadcast(_math.negative(scale) * y, x, y)]


def unary_function(op_type, doc):
    """The public ``fn(x, name=None)`` applying the one-input op ``op_type``."""

    def fn(x, name=None):
        return apply_op(op_type, x, name=name)

    fn.__doc__ = doc
    return fn


asin = unary_function("Asin", "Inverse sine element-wise (NaN outside [-1, 1]).")
acos = unary_function("Acos", "Inverse cosine element-wise (NaN outside [-1, 1]).")
atan = unary_function("Atan", "Inverse tangent element-wise.")
sinh = unary_function("Sinh", "Hyperbolic sine element-wise.")
cosh = unary_function("Cosh", "Hyperbolic cosine element-wise.")
asinh = unary_function("Asinh", "Inverse hyperbolic sine element-wise.")
acosh = unary_function("Acosh", "Inverse hyperbolic cosine element-wise (NaN below 1).")
atanh = unary_function("Atanh", "Inverse hyperbolic tangent element-wise (NaN outside [-1, 1]).")


def atan2(y, x, name=None):
    """atan(y / x) with the quadrant from the signs of y and x."""
    return apply_op("Atan2", y, x, name=name)
