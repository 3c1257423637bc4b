"""Complex numbers: `tf.complex`, `tf.math.real`, `imag`, `conj`, `angle`. Gradients follow
TF's convention for a real loss L of complex z: dL/dRe(z) + i dL/dIm(z)."""

from __future__ import annotations

import numpy as np

from miniflow import dtypes
from miniflow.core.dispatch import apply_op
from miniflow.core.registry import register_gradient, register_op
from miniflow.ops import array_ops as _arr, math_ops as _math, shape_rules as rules
from miniflow.ops.math_ops import unbroadcast

_TO_COMPLEX = {dtypes.float32: dtypes.complex64, dtypes.float64: dtypes.complex128}
_TO_REAL = {dtypes.complex64: dtypes.float32, dtypes.complex128: dtypes.float64}


def _complex_infer(inputs, attrs):
    dtype = inputs[0].dtype
    if dtype not in _TO_COMPLEX or inputs[1].dtype != dtype:
        raise TypeError(
            f"complex() takes two float32 or two float64 tensors, got "
            f"{dtype.name} and {inputs[1].dtype.name}"
        )
    return [(rules.broadcast(inputs, attrs)[0][0], _TO_COMPLEX[dtype])]


def _part_infer(inputs, attrs):
    dtype = inputs[0].dtype
    if dtype not in _TO_REAL:
        raise TypeError(f"Expected a complex64 or complex128 tensor, got {dtype.name}")
    return [(rules.dims(inputs[0]), _TO_REAL[dtype])]


def _complex_only(inputs, attrs):
    _part_infer(inputs, attrs)
    return rules.same_as_first(inputs, attrs)


@register_op("Complex", infer=_complex_infer, same_dtype=True)
def _complex(re, im):
    re, im = np.asarray(re), np.asarray(im)
    out = np.empty(
        np.broadcast_shapes(re.shape, im.shape),
        np.complex64 if re.dtype == np.float32 else np.complex128,
    )
    out.real, out.imag = re, im
    return out[()]  # 0-d results are NumPy scalars, as everywhere in miniflow


register_op("Real", infer=_part_infer)(lambda x: np.real(x).copy())
register_op("Imag", infer=_part_infer)(lambda x: np.imag(x).copy())
register_op("Conj", infer=_complex_only)(np.conj)
register_op("Angle", infer=_part_infer)(lambda x: np.angle(x)[()])
register_op("ComplexAbs", infer=_part_infer)(lambda x: np.abs(x)[()])


@register_gradient("Complex")
def _complex_grad(op, grad):
    re, im = op.inputs
    return [unbroadcast(real(grad), re, im), unbroadcast(imag(grad), im, re)]


@register_gradient("Real")
def _real_grad(op, grad):
    return [complex(grad, _arr.zeros_like(grad))]


@register_gradient("Imag")
def _imag_grad(op, grad):
    return [complex(_arr.zeros_like(grad), grad)]


@register_gradient("Conj")
def _conj_grad(op, grad):
    return [conj(grad)]


@register_gradient("ComplexAbs")
def _complex_abs_grad(op, grad):
    """TF's rule: grad * z / |z| (0 where z == 0)."""
    z, r = op.inputs[0], op.outputs[0]
    zero = _math.equal(r, _arr.zeros_like(r))
    safe = _math.where(zero, _arr.ones_like(r), r)
    scale = _math.where(zero, _arr.zeros_like(r), grad / safe)
    return [complex(scale, _arr.zeros_like(scale)) * z]


@register_gradient("Angle")
def _angle_grad(op, grad):
    """TF's rule: -grad / (Im(z) + i Re(z))."""
    z = op.inputs[0]
    denom = complex(imag(z), real(z))
    return [_math.negative(complex(grad, _arr.zeros_like(grad))) / denom]


def complex(real, imag, name=None):  # noqa: A001  TF's public name
    """real + i * imag (float32 -> complex64, float64 -> complex128)."""
    return apply_op("Complex", real, imag, name=name)


def _is_complex(x):
    return x.dtype.is_complex


def real(input, name=None):  # noqa: A002
    """The real part (a real tensor is returned as is)."""
    x = _arr.convert_to_tensor(input)
    return apply_op("Real", x, name=name) if _is_complex(x) else x


def imag(input, name=None):  # noqa: A002
    """The imaginary part (zeros for a real tensor)."""
    x = _arr.convert_to_tensor(input)
    return apply_op("Imag", x, name=name) if _is_complex(x) else _arr.zeros_like(x, name=name)


def conj(x, name=None):
    """The complex conjugate (a real tensor is returned as is)."""
    x = _arr.convert_to_tensor(x)
    return apply_op("Conj", x, name=name) if _is_complex(x) else x


def angle(input, name=None):  # noqa: A002
    """The argument of each complex number (for real input: pi where negative, else 0)."""
    x = _arr.convert_to_tensor(input)
    if _is_complex(x):
        return apply_op("Angle", x, name=name)
    pi = _arr.fill(_arr.shape(x), np.array(np.pi, x.dtype.np))
    return _math.where(_math.less(x, _arr.zeros_like(x)), pi, _arr.zeros_like(x), name=name)


def to_complex64(x, name="ToComplex64"):
    """x cast to complex64."""
    return _arr.cast(x, dtypes.complex64, name=name)


def to_complex128(x, name="ToComplex128"):
    """x cast to complex128."""
    return _arr.cast(x, dtypes.complex128, name=name)
