"""Shape utilities: `tf.broadcast_static_shape`, `broadcast_dynamic_shape`, `shape_n`,
`ensure_shape`, `identity_n`, `guarantee_const`."""

from __future__ import annotations

import numpy as np

from miniflow import dtypes, errors
from miniflow.core.dispatch import apply_op
from miniflow.core.registry import not_differentiable, register_gradient, register_op
from miniflow.core.shapes import TensorShape, as_shape, broadcast_dims
from miniflow.ops import array_ops as _arr
from miniflow.ops.shape_rules import dims


def broadcast_static_shape(shape_x, shape_y):
    """The broadcast of two `TensorShape`s.

    Raises:
        ValueError: the shapes are incompatible.
    """
    x, y = as_shape(shape_x), as_shape(shape_y)
    try:
        return TensorShape(broadcast_dims(x.as_tuple(), y.as_tuple()))
    except ValueError:
        raise ValueError(f"Incompatible shapes for broadcasting: {x} and {y}") from None


def _broadcast_args_infer(inputs, attrs):
    a, b = dims(inputs[0]), dims(inputs[1])
    n = None if a is None or b is None or None in (a + b) else max(a[0], b[0])
    return [((n,), inputs[0].dtype)]


@register_op("BroadcastArgs", infer=_broadcast_args_infer, same_dtype=True)
def _broadcast_args(s0, s1):
    try:
        return np.asarray(np.broadcast_shapes(tuple(s0), tuple(s1)), dtype=np.asarray(s0).dtype)
    except ValueError:
        raise errors.InvalidArgumentError(
            None, None, f"Incompatible shapes: {list(s0)} vs. {list(s1)}"
        ) from None


not_differentiable("BroadcastArgs")


def broadcast_dynamic_shape(shape_x, shape_y):
    """The broadcast of two shape vectors, computed when the graph runs."""
    return apply_op("BroadcastArgs", _arr._int_tensor(shape_x), _arr._int_tensor(shape_y))


def shape_n(input, out_type=dtypes.int32, name=None):  # noqa: A002
    """The shapes of a list of tensors."""
    return [_arr.shape(x, out_type=out_type) for x in input]


def _ensure_infer(inputs, attrs):
    want = as_shape(attrs["shape"])
    have = inputs[0].shape
    if not have.is_compatible_with(want):
        raise ValueError(f"Shape {have} is not compatible with the expected shape {want}")
    return [(have.merge_with(want).as_tuple(), inputs[0].dtype)]


@register_op("EnsureShape", infer=_ensure_infer)
def _ensure_shape(x, shape=None):
    if not as_shape(shape).is_compatible_with(TensorShape(np.shape(x))):
        raise errors.InvalidArgumentError(
            None,
            None,
            f"Shape of tensor {list(np.shape(x))} is not compatible with expected "
            f"shape {as_shape(shape)}.",
        )
    return x


@register_gradient("EnsureShape")
def _ensure_shape_grad(op, grad):
    return [grad]


def ensure_shape(x, shape, name=None):
    """``x``, checked (at run time) to have a shape compatible with ``shape``."""
    return apply_op("EnsureShape", x, shape=as_shape(shape).as_tuple(), name=name)


def identity_n(input, name=None):  # noqa: A002
    """`tf.identity` of each tensor in a list."""
    return [_arr.identity(x, name=name) for x in input]


def guarantee_const(input, name=None):  # noqa: A002
    """``input`` unchanged (TF uses the promise for constant folding; nothing to do here)."""
    return _arr.identity(input, name=name or "GuaranteeConst")
