"""`tf.bitwise`: element-wise and/or/xor, invert and shifts on integer tensors.

None has a gradient (as in TF). Shifts clamp the shift amount to ``[0, bits - 1]``, which
is what TF's CPU kernels do for negative amounts or amounts at least the bit width.
"""

from __future__ import annotations

import numpy as np

from miniflow import dtypes
from miniflow.core.dispatch import apply_op
from miniflow.core.registry import not_differentiable, register_op
from miniflow.ops import shape_rules as rules

_INTEGER = (dtypes.int8, dtypes.int16, dtypes.int32, dtypes.int64, dtypes.uint8, dtypes.uint16)


def _integer_infer(broadcast):
    def infer(inputs, attrs):
        for name, t in zip("xy", inputs):
            if t.dtype not in _INTEGER and t.dtype.name not in ("uint32", "uint64"):
                raise TypeError(
                    f"Value passed to parameter '{name}' has DataType "
                    f"{t.dtype.name} not in list of allowed values: int8, int16, "
                    "int32, int64, uint8, uint16, uint32, uint64"
                )
        return rules.broadcast(inputs, attrs) if broadcast else rules.same_as_first(inputs, attrs)

    return infer


def _clamped(y, x):
    bits = np.dtype(np.asarray(x).dtype).itemsize * 8
    return np.clip(y, 0, bits - 1).astype(np.asarray(x).dtype)


for _t, _k in [
    ("BitwiseAnd", np.bitwise_and),
    ("BitwiseOr", np.bitwise_or),
    ("BitwiseXor", np.bitwise_xor),
    ("LeftShift", lambda x, y: np.left_shift(x, _clamped(y, x))),
    ("RightShift", lambda x, y: np.right_shift(x, _clamped(y, x))),
]:
    register_op(_t, infer=_integer_infer(True), same_dtype=True)(_k)
register_op("Invert", infer=_integer_infer(False))(np.invert)
not_differentiable("BitwiseAnd", "BitwiseOr", "BitwiseXor", "LeftShift", "RightShift", "Invert")


def bitwise_and(x, y, name=None):
    """``x & y`` element-wise. ``tf.bitwise.bitwise_and(x, y, name=None)``"""
    return apply_op("BitwiseAnd", x, y, name=name)


def bitwise_or(x, y, name=None):
    """``x | y`` element-wise. ``tf.bitwise.bitwise_or(x, y, name=None)``"""
    return apply_op("BitwiseOr", x, y, name=name)


def bitwise_xor(x, y, name=None):
    """``x ^ y`` element-wise. ``tf.bitwise.bitwise_xor(x, y, name=None)``"""
    return apply_op("BitwiseXor", x, y, name=name)


def invert(x, name=None):
    """``~x`` element-wise. ``tf.bitwise.invert(x, name=None)``"""
    return apply_op("Invert", x, name=name)


def left_shift(x, y, name=None):
    """``x << y`` (``y`` clamped to [0, bits-1]). ``tf.bitwise.left_shift(x, y, name=None)``"""
    return apply_op("LeftShift", x, y, name=name)


def right_shift(x, y, name=None):
    """``x >> y``, arithmetic for signed types (``y`` clamped to [0, bits-1]).
    ``tf.bitwise.right_shift(x, y, name=None)``"""
    return apply_op("RightShift", x, y, name=name)
