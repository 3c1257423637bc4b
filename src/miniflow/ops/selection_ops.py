"""Selection by condition or position: `where` (the Select op), `argmax`/`argmin` and
`one_hot`.
"""

from __future__ import annotations

import numpy as np

from miniflow import dtypes
from miniflow.core.dispatch import apply_op, current_frontend
from miniflow.core.registry import not_differentiable, register_gradient, register_op
from miniflow.core.shapes import broadcast_dims
from miniflow.ops.broadcast_ops import unbroadcast
from miniflow.ops.constant_ops import convert_pair, convert_to_tensor, zeros_like
from miniflow.ops.shape_rules import dims, normalize_axis


def _select_infer(inputs, attrs):
    c, x, y = (dims(t) for t in inputs)
    out = broadcast_dims(x, y)
    if (
        c is not None
        and out is not None
        and len(c) == 1
        and len(out) > 1
        and (c[0] == out[0] or None in (c[0], out[0]))
    ):
        return [(out, inputs[1].dtype)]  # TF1's row selection by a vector
    return [(broadcast_dims(c, out), inputs[1].dtype)]


@register_op("Select", infer=_select_infer)
def _select(c, x, y):
    """np.where, except that a vector condition whose length is the first dimension of
    the (broadcast) values selects whole rows, as TF1's `tf.where` does."""
    out = np.broadcast_shapes(np.shape(x), np.shape(y))
    if np.ndim(c) == 1 and len(out) > 1 and np.shape(c)[0] == out[0]:
        c = np.reshape(c, (-1,) + (1,) * (len(out) - 1))
    return np.where(c, x, y)


@register_gradient("Select")
def _select_grad(op, grad):
    c, x, y = op.inputs
    zeros = zeros_like(grad)
    return [
        None,
        unbroadcast(where(c, grad, zeros), x),
        unbroadcast(where(c, zeros, grad), y),
    ]


@register_op(
    "Where",
    infer=lambda i, a: [((None, None if dims(i[0]) is None else len(dims(i[0]))), dtypes.int64)],
)
def _where_indices(c):
    return np.argwhere(c).astype(np.int64)


not_differentiable("Where", "ArgMax", "ArgMin", "OneHot", "Range", "ZerosLike", "OnesLike")


def where(condition, x=None, y=None, name=None):
    """With x and y: elements of x where ``condition`` else y. Alone: the indices of the
    true elements, as an int64 matrix."""
    if x is None and y is None:
        return apply_op("Where", condition, name=name)
    if x is None or y is None:
        raise ValueError("x and y must both be non-None or both be None.")
    x, y = convert_pair(x, y)
    return apply_op("Select", condition, x, y, name=name)


where_v2 = where


def _same_dims(a, b, what, inputs):
    """TF's Select shape check: equal ranks and equal known dimensions."""
    if a is None or b is None:
        return
    shapes = ", ".join(
        "?"
        if dims(t) is None
        else "[" + ",".join("?" if d is None else str(d) for d in dims(t)) + "]"
        for t in inputs
    )
    if len(a) != len(b):
        raise ValueError(
            f"Shapes must be equal rank, but are {len(a)} and {len(b)} for "
            f"'Select' ({what}) with input shapes: {shapes}."
        )
    for i, (m, n) in enumerate(zip(a, b)):
        if m is not None and n is not None and m != n:
            raise ValueError(
                f"Dimension {i} in both shapes must be equal, but are {m} and "
                f"{n} for 'Select' ({what}) with input shapes: {shapes}."
            )


def where_v1(condition, x=None, y=None, name=None):
    """TF1 `tf.where`: as `where_v2` but without broadcasting: x and y have one shape, the
    condition is a scalar, that shape, or a vector over its first dimension."""
    if x is None or y is None:
        return where(condition, x, y, name=name)
    condition = convert_to_tensor(condition)
    x, y = convert_pair(x, y)
    dx, dc, ins = dims(x), dims(condition), (condition, x, y)
    _same_dims(dx, dims(y), "x and y", ins)
    if dc is not None and dx is not None and dc and len(dc) != len(dx):
        _same_dims(dc, dx[:1], "condition and x's first dimension", ins)  # Select's rows
    elif dc:
        _same_dims(dc, dx, "condition and x", ins)
    return apply_op("Select", condition, x, y, name=name)


def _argminmax_infer(inputs, attrs):
    d = dims(inputs[0])
    dt = attrs["output_type"]
    if d is None:
        return [(None, dt)]
    axis = normalize_axis(attrs["axis"], len(d))
    return [(d[:axis] + d[axis + 1 :], dt)]


def _skip_nan(x, fill):
    """TF's arg-reductions never pick a NaN (NumPy's always do): NaN loses every
    comparison, and an all-NaN slice gives index 0."""
    x = np.asarray(x)
    if x.dtype.kind == "f":
        nan = np.isnan(x)
        if nan.any():
            return np.where(nan, fill, x)
    return x


@register_op("ArgMax", infer=_argminmax_infer)
def _argmax(x, axis=0, output_type=dtypes.int64):
    return np.argmax(_skip_nan(x, -np.inf), axis=axis).astype(output_type.np)


@register_op("ArgMin", infer=_argminmax_infer)
def _argmin(x, axis=0, output_type=dtypes.int64):
    return np.argmin(_skip_nan(x, np.inf), axis=axis).astype(output_type.np)


def argmax(input, axis=None, name=None, dimension=None, output_type=dtypes.int64):  # noqa: A002
    """Index of the largest value along ``axis`` (TF1 default axis: 0)."""
    axis = dimension if axis is None else axis
    return apply_op(
        "ArgMax",
        input,
        axis=0 if axis is None else int(axis),
        output_type=dtypes.as_dtype(output_type),
        name=name,
    )


def argmin(input, axis=None, name=None, dimension=None, output_type=dtypes.int64):  # noqa: A002
    """Index of the smallest value along ``axis`` (TF1 default axis: 0)."""
    axis = dimension if axis is None else axis
    return apply_op(
        "ArgMin",
        input,
        axis=0 if axis is None else int(axis),
        output_type=dtypes.as_dtype(output_type),
        name=name,
    )


def _one_hot_infer(inputs, attrs):
    d = dims(inputs[0])
    if d is None:
        return [(None, attrs["dtype"])]
    axis = attrs["axis"]
    axis = len(d) if axis == -1 else axis
    return [(d[:axis] + (attrs["depth"],) + d[axis:], attrs["dtype"])]


@register_op("OneHot", infer=_one_hot_infer)
def _one_hot(indices, depth=1, on_value=1, off_value=0, axis=-1, dtype=dtypes.float32):
    idx = np.asarray(indices)
    hot = idx[..., None] == np.arange(depth)
    out = np.where(hot, np.asarray(on_value, dtype.np), np.asarray(off_value, dtype.np))
    return np.moveaxis(out, -1, axis) if axis != -1 else out


def one_hot(indices, depth, on_value=None, off_value=None, axis=None, dtype=None, name=None):
    """One-hot vectors of length ``depth`` (out-of-range indices give all-off rows)."""
    if dtype is None:  # TF infers it from on_value/off_value, else float32
        given = on_value if on_value is not None else off_value
        dtype = (
            dtypes.float32
            if given is None
            else (given.dtype if current_frontend().is_tensor(given) else dtypes.from_value(given))
        )
    dtype = dtypes.as_dtype(dtype)
    return apply_op(
        "OneHot",
        indices,
        depth=int(depth),
        on_value=1 if on_value is None else on_value,
        off_value=0 if off_value is None else off_value,
        axis=-1 if axis is None else int(axis),
        dtype=dtype,
        name=name,
    )
