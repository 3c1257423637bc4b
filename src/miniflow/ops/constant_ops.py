"""Tensors from values: conversion (`convert_to_tensor`), constants and placeholders,
`identity`, casts, `zeros_like`/`ones_like` and `range`.
"""

from __future__ import annotations

import builtins

import numpy as np

from miniflow import dtypes
from miniflow.core.dispatch import apply_op, current_frontend
from miniflow.core.registry import not_differentiable, register_gradient, register_op
from miniflow.core.shapes import TensorShape, as_shape
from miniflow.core.values import as_array
from miniflow.eager.tensor import note_value_read
from miniflow.ops import shape_rules as rules
from miniflow.ops.shape_rules import dims

_py_slice = builtins.slice
_py_range = builtins.range


def convert_to_tensor(value, dtype=None, name=None, preferred_dtype=None, dtype_hint=None):
    """A tensor for ``value`` in the current mode (graph: a Const op; eager: a value)."""
    hint = preferred_dtype or dtype_hint
    if hint is not None and dtype is None:
        hint = dtypes.as_dtype(hint)
        if isinstance(value, list | tuple) and _has_tensor(value):
            return (
                _pack_hinted(value, hint, name)
                if _literals_fit(value, hint)
                else current_frontend().convert_to_tensor(value, name=name)
            )
        if isinstance(value, np.ndarray | np.generic):
            if value.dtype.kind in "biufc" and hint is not dtypes.string:
                value = np.asarray(value).astype(hint.np)  # NumPy values cast, as in TF
            hint = None
        elif not _literals_fit(value, hint):
            hint = None  # TF uses the hint only where the literal converts losslessly
    return current_frontend().convert_to_tensor(value, dtype=dtype, name=name, preferred_dtype=hint)


def _has_tensor(value):
    fe = current_frontend()
    return any(
        _has_tensor(v)
        if isinstance(v, list | tuple)
        else fe.is_tensor(v) or hasattr(v, "__tf_tensor__")
        for v in value
    )


def _literals_fit(value, dt):
    """Whether every Python/NumPy literal in ``value`` has a kind that ``dt`` holds
    (bool < int < float < complex; strings only as strings); tensors always fit."""
    if isinstance(value, list | tuple):
        return all(_literals_fit(v, dt) for v in value)
    if current_frontend().is_tensor(value) or hasattr(value, "__tf_tensor__"):
        return True
    if isinstance(value, str | bytes):
        return dt is dtypes.string
    kind = np.asarray(value).dtype.kind
    if dt is dtypes.string or kind not in "biufc":
        return False
    return (
        (kind == "b" or not dt.is_bool)
        and (kind in "biu" or dt.is_floating or dt.is_complex)
        and (kind != "c" or dt.is_complex)
    )


def _pack_hinted(value, dt, name):
    """TF's auto-packing with a dtype: tensors are cast to ``dt``, literals made ``dt``."""
    fe = current_frontend()

    def part(v):
        if isinstance(v, list | tuple):
            return apply_op("Pack", *[part(e) for e in v], axis=0)
        if fe.is_tensor(v) or hasattr(v, "__tf_tensor__"):
            t = fe.convert_to_tensor(v)
            return t if t.dtype == dt else cast(t, dt)
        return fe.convert_to_tensor(v, dtype=dt)

    return apply_op("Pack", *[part(e) for e in value], axis=0, name=name or "packed")


def convert_pair(x, y):
    """Converts two operands; a literal takes the dtype of the other (tensor) operand."""
    fe = current_frontend()
    x_is = fe.is_tensor(x) or hasattr(x, "__tf_tensor__")
    if not x_is and (fe.is_tensor(y) or hasattr(y, "__tf_tensor__")):
        y = convert_to_tensor(y)
        return convert_to_tensor(x, dtype=y.dtype), y
    x = convert_to_tensor(x)
    return x, fe.convert_to_tensor(y, preferred_dtype=x.dtype)  # 2.0 next to int32: int32


def _const_value(t):
    """The value of ``t`` if it is known when the graph is built, else None."""
    op = getattr(t, "op", None)
    if op is None:
        v = getattr(t, "_value", None)  # eager tensors
        if v is not None:
            note_value_read()
        return v
    if op.type == "Const":
        return op.attrs["value"]
    if op.type == "Shape":
        d = dims(op.inputs[0])
        return np.array(d, dtype=np.int32) if d is not None and None not in d else None
    if op.type == "Pack":
        vals = [_const_value(i) for i in op.inputs]
        return None if any(v is None for v in vals) else np.stack(vals, op.attrs["axis"])
    return None


def get_static_value(tensor, partial=False):
    """The value of ``tensor`` as a NumPy array if it is known without running a graph
    (constants, static shapes, stacks of them; every eager tensor), else None."""
    v = _const_value(tensor)
    return None if v is None else np.array(v)


def _shape_from_tensor(t):
    """Static dims described by a 1-D shape tensor (entries unknown where not constant)."""
    v = _const_value(t)
    if v is not None:
        return tuple(int(d) if d >= 0 else None for d in np.asarray(v).reshape(-1))
    op = getattr(t, "op", None)
    if op is not None and op.type == "Pack":
        return tuple(
            int(c) if (c := _const_value(i)) is not None and c >= 0 else None for i in op.inputs
        )
    d = dims(t)
    return None if d is None or d[0] is None else (None,) * d[0]


# ---------------------------------------------------------------------------------------
# Sources: constants and placeholders.


@register_op("Const", infer=lambda i, a: [(a["value"].shape, a["dtype"])])
def _const(value, dtype=None):
    return value


@register_op("Placeholder", infer=lambda i, a: [(as_shape(a["shape"]).as_tuple(), a["dtype"])])
def _placeholder(dtype=None, shape=None):
    raise AssertionError("placeholders are fed, never run")  # sessions check feeds first


@register_op(
    "PlaceholderWithDefault", infer=lambda i, a: [(as_shape(a["shape"]).as_tuple(), i[0].dtype)]
)
def _placeholder_with_default(x, shape=None):
    return x


@register_gradient("PlaceholderWithDefault")
def _pwd_grad(op, grad):
    return [grad]


@register_op("NoOp", num_outputs=0)
def _no_op():
    return ()


not_differentiable("Const", "Placeholder", "NoOp")


def constant(value, dtype=None, shape=None, name="Const", verify_shape=False):
    """A constant tensor from a number, nested list, NumPy array or string.

    ``shape`` reshapes ``value``, or broadcasts a scalar (or a list whose size divides
    the shape's size, as TF does) to it.

    Raises:
        TypeError: the value cannot be converted to ``dtype``.
        ValueError: the value does not fit ``shape``.
    """
    arr = as_array(value, dtype)
    if shape is not None:
        shape = tuple(as_shape(shape).as_list())
        size = int(np.prod(shape))
        if arr.shape != shape:
            if verify_shape:
                raise TypeError(f"Expected Tensor's shape: {shape}, got {arr.shape}.")
            if arr.size == 1:
                arr = np.full(shape, arr.reshape(()), dtype=arr.dtype)
            elif arr.size == size:
                arr = arr.reshape(shape)
            elif arr.ndim == 1 and arr.size < size:
                arr = np.concatenate([arr, np.full(size - arr.size, arr[-1])]).reshape(shape)
            else:
                raise ValueError(
                    f"Too many elements provided. Needed at most {size}, but received {arr.size}"
                )
    return apply_op("Const", value=arr, dtype=dtypes.as_dtype(arr.dtype), name=name)


def placeholder(dtype, shape=None, name=None):
    """A tensor to be fed through ``feed_dict`` (graph mode only)."""
    if current_frontend().eager:
        raise RuntimeError("tf.placeholder() is not compatible with eager execution.")
    return apply_op(
        "Placeholder", dtype=dtypes.as_dtype(dtype), shape=TensorShape(shape), name=name
    )


def placeholder_with_default(input, shape, name=None):  # noqa: A002  TF's argument name
    """A placeholder that yields ``input`` when it is not fed."""
    x = convert_to_tensor(input)
    shape = as_shape(shape)
    if not shape.is_compatible_with(x.shape):
        raise ValueError(f"Shape {shape} is not compatible with the default's shape {x.shape}")
    return apply_op("PlaceholderWithDefault", x, shape=shape, name=name)


# ---------------------------------------------------------------------------------------
# Identity and gradient control.

register_op("Identity", infer=rules.same_as_first)(lambda x: x)
register_op("StopGradient", infer=rules.same_as_first)(lambda x: x)
not_differentiable("StopGradient")


@register_gradient("Identity", accepts_indexed_slices=True)  # a gather's sparse grad passes
def _identity_grad(op, grad):
    return [grad]


def identity(input, name=None):  # noqa: A002
    """The same value, as a new tensor (often used to name a value)."""
    return apply_op("Identity", input, name=name)


def stop_gradient(input, name=None):  # noqa: A002
    """The same value, but no gradient flows through it."""
    return apply_op("StopGradient", input, name=name)


# ---------------------------------------------------------------------------------------
# Casting, selection, filling.


@register_op("Cast", infer=lambda i, a: [(dims(i[0]), a["DstT"])])
def _cast(x, DstT=None):  # noqa: N803  TF's attr name
    return np.asarray(x).astype(DstT.np, copy=False)


@register_gradient("Cast")
def _cast_grad(op, grad):
    src = op.inputs[0].dtype
    if src.is_floating and op.attrs["DstT"].is_floating:
        return [cast(grad, src)]
    return [None]


def cast(x, dtype, name=None):
    """``x`` converted to ``dtype`` (floats to ints truncate toward zero)."""
    if getattr(x, "dtype", None) is dtype and current_frontend().is_tensor(x):
        return x  # already a tensor of that dtype (optimizers cast every step)
    dtype = dtypes.as_dtype(dtype)
    x = convert_to_tensor(x)
    if x.dtype == dtype:
        return x
    return apply_op("Cast", x, DstT=dtype, name=name)


def to_float(x, name="ToFloat"):
    return cast(x, dtypes.float32, name=name)


def to_double(x, name="ToDouble"):
    return cast(x, dtypes.float64, name=name)


def to_int32(x, name="ToInt32"):
    return cast(x, dtypes.int32, name=name)


def to_int64(x, name="ToInt64"):
    return cast(x, dtypes.int64, name=name)


def _like_infer(inputs, attrs):
    dt = attrs.get("dtype")
    return [(dims(inputs[0]), inputs[0].dtype if dt is None else dt)]


@register_op("ZerosLike", infer=_like_infer)
def _zeros_like(x, dtype=None):
    if type(x) is not np.ndarray:  # a NumPy scalar in, a NumPy scalar out
        return (x.dtype if dtype is None else dtype.np).type(0)
    return np.zeros(x.shape, dtype=x.dtype if dtype is None else dtype.np)


@register_op("OnesLike", infer=_like_infer)
def _ones_like(x, dtype=None):
    if type(x) is not np.ndarray:
        return (x.dtype if dtype is None else dtype.np).type(1)
    out = np.empty(x.shape, dtype=x.dtype if dtype is None else dtype.np)
    out.fill(1)
    return out


def zeros_like(tensor, dtype=None, name=None, optimize=True):
    return apply_op(
        "ZerosLike", tensor, dtype=None if dtype is None else dtypes.as_dtype(dtype), name=name
    )


def ones_like(tensor, dtype=None, name=None, optimize=True):
    return apply_op(
        "OnesLike", tensor, dtype=None if dtype is None else dtypes.as_dtype(dtype), name=name
    )


def _range_infer(inputs, attrs):
    vals = [_const_value(t) for t in inputs]
    n = None
    if all(v is not None for v in vals):
        n = int(np.ceil((vals[1] - vals[0]) / vals[2]))
        n = max(n, 0)
    return [((n,), inputs[0].dtype)]


@register_op("Range", infer=_range_infer, same_dtype=True)
def _range(start, limit, delta):
    return np.arange(start, limit, delta, dtype=np.asarray(start).dtype)


def range(start, limit=None, delta=1, dtype=None, name="range"):  # noqa: A001
    """[start, start+delta, ...) up to ``limit`` (``range(n)`` counts from 0)."""
    if limit is None:
        start, limit = 0, start
    fe = current_frontend()
    tensors = [v for v in (start, limit, delta) if fe.is_tensor(v)]
    if dtype is None:
        if tensors:
            dtype = tensors[0].dtype
        elif any(
            isinstance(v, float) or np.asarray(v).dtype.kind == "f" for v in (start, limit, delta)
        ):
            dtype = dtypes.float32
        else:
            dtype = dtypes.int32
    dtype = dtypes.as_dtype(dtype)
    parts = [
        cast(v, dtype) if fe.is_tensor(v) else convert_to_tensor(np.asarray(v, dtype=dtype.np))
        for v in (start, limit, delta)
    ]
    return apply_op("Range", *parts, name=name)
