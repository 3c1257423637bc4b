"""Casts beyond `tf.cast`: `tf.saturate_cast` (clamps to the target range first) and
`tf.bitcast` (reinterprets the bytes, no conversion)."""

from __future__ import annotations

import numpy as np

from miniflow import dtypes, errors
from miniflow.core.dispatch import apply_op
from miniflow.core.registry import not_differentiable, register_op
from miniflow.ops import array_ops, complex_ops, control_flow_ops
from miniflow.ops.shape_rules import dims


def saturate_cast(value, dtype, name=None):
    """saturate_cast(value, dtype, name=None): ``cast`` that clamps ``value`` to the range
    of ``dtype`` first (complex to real keeps the real part), as TF composes it."""
    with control_flow_ops.name_scope(name, "saturate_cast") as scope:
        value = array_ops.convert_to_tensor(value, name="value")
        dtype = dtypes.as_dtype(dtype)
        in_dtype = value.dtype
        if in_dtype.is_complex:
            if dtype.is_complex:
                lo, hi = dtype.real_dtype.min, dtype.real_dtype.max
                if in_dtype.real_dtype.min < lo or in_dtype.real_dtype.max > hi:
                    re = array_ops.clip_by_value(complex_ops.real(value), lo, hi)
                    im = array_ops.clip_by_value(complex_ops.imag(value), lo, hi)
                    value = complex_ops.complex(re, im)
                return array_ops.cast(value, dtype, name=scope)
            value = complex_ops.real(value)
            in_dtype = in_dtype.real_dtype
        out = dtype.real_dtype
        if in_dtype.min < out.min or in_dtype.max > out.max:
            # The target's limits may not be representable in the input type (float32
            # cannot hold 2**31 - 1): nudge them inside the target range, as TF does.
            np_in = in_dtype.as_numpy_dtype
            lo, hi = np_in(out.min), np_in(out.max)
            if float(lo) < out.min:  # exact comparisons (Python floats vs ints)
                lo = np.nextafter(np_in(out.min), np_in(0))
            if float(hi) > out.max:
                hi = np.nextafter(np_in(out.max), np_in(0))
            value = array_ops.clip_by_value(value, lo, hi)
        return array_ops.cast(value, dtype, name=scope)


def _bitcast_infer(inputs, attrs):
    src, dst = inputs[0].dtype, attrs["type"]
    d = dims(inputs[0])
    if d is None or src.size == dst.size:
        return [(d, dst)]
    if src.size > dst.size:
        return [(d + (src.size // dst.size,), dst)]
    if d and d[-1] is not None and d[-1] != dst.size // src.size:
        raise ValueError(
            f"Cannot bitcast from {src.name} to {dst.name}: the last dimension "
            f"must be {dst.size // src.size}, got shape {list(d)}"
        )
    if not d:
        raise ValueError(f"Cannot bitcast a scalar {src.name} to the larger {dst.name}")
    return [(d[:-1], dst)]


@register_op("Bitcast", infer=_bitcast_infer)
def _bitcast(x, type=None):  # noqa: A002  TF's attr name
    x = np.ascontiguousarray(x)
    src, dst = x.dtype.itemsize, type.np.itemsize
    if src < dst:
        if x.ndim == 0 or x.shape[-1] != dst // src:
            raise errors.InvalidArgumentError(
                None,
                None,
                f"Cannot bitcast from {x.dtype} to {type.name}: shape "
                f"{list(x.shape)} must end in {dst // src}",
            )
        return x.view(type.np).reshape(x.shape[:-1])
    return x.view(type.np).reshape(x.shape + ((src // dst,) if src > dst else ()))


not_differentiable("Bitcast")


def bitcast(input, type, name=None):  # noqa: A002  TF's argument names
    """bitcast(input, type, name=None): the same bytes read as ``type``; a larger input
    element gains a last dimension, a smaller one loses it."""
    x = array_ops.convert_to_tensor(input)
    type = dtypes.as_dtype(type)  # noqa: A001
    for d in (x.dtype, type):
        if d.is_quantized or d.size == 0:
            raise TypeError(f"bitcast does not support {d.name}")
    return apply_op("Bitcast", x, type=type, name=name or "Bitcast")
