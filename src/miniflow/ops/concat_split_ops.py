"""Joining and splitting tensors: `concat`, `stack`/`unstack` and `split`."""

from __future__ import annotations

import builtins

import numpy as np

from miniflow.core.dispatch import apply_op
from miniflow.core.registry import register_gradient, register_op
from miniflow.core.shapes import broadcast_dims
from miniflow.ops.arithmetic_ops import ragged_impl
from miniflow.ops.constant_ops import convert_to_tensor, identity
from miniflow.ops.shape_rules import dims, normalize_axis

_py_range = builtins.range

# ---------------------------------------------------------------------------------------
# Joining and splitting.


def _concat_infer(inputs, attrs):
    ds = [dims(t) for t in inputs]
    known = [d for d in ds if d is not None]
    if not known:
        return [(None, inputs[0].dtype)]
    rank_ = len(known[0])
    if any(len(d) != rank_ for d in known):
        raise ValueError(
            "Shape must be of equal rank for all inputs of ConcatV2, got "
            f"{[list(d) for d in known]}"
        )
    axis = normalize_axis(attrs["axis"], rank_)
    out = []
    for i in _py_range(rank_):
        col = [d[i] if d is not None else None for d in ds]
        if i == axis:
            out.append(None if None in col else sum(col))
        else:
            vals = {c for c in col if c is not None}
            if len(vals) > 1:
                raise ValueError(
                    f"Dimension {i} in both shapes must be equal, but are {sorted(vals)}"
                )
            out.append(vals.pop() if vals else None)
    return [(tuple(out), inputs[0].dtype)]


@register_op("ConcatV2", infer=_concat_infer, same_dtype=True)
def _concat(*xs, axis=0):
    return np.concatenate(xs, axis=axis)


def _split_like_infer(inputs, attrs):
    return [(dims(t), inputs[0].dtype) for t in inputs[1:]]


@register_op("SplitLike", infer=_split_like_infer, num_outputs=lambda a: a["n"])
def _split_like(g, *xs, axis=0, n=1):
    """Splits ``g`` along ``axis`` into pieces shaped like ``xs`` (concat's gradient)."""
    cuts = np.cumsum([np.shape(x)[axis] for x in xs])[:-1]
    return tuple(np.split(g, cuts, axis=axis))


@register_gradient("ConcatV2")
def _concat_grad(op, grad):
    pieces = apply_op("SplitLike", grad, *op.inputs, axis=op.attrs["axis"], n=len(op.inputs))
    return list(pieces)


@register_gradient("SplitLike")
def _split_like_grad(op, *grads):
    return [concat(list(grads), axis=op.attrs["axis"])] + [None] * (len(op.inputs) - 1)


def concat(values, axis, name="concat"):
    """Joins tensors along ``axis``."""
    values = list(values)
    try:
        if len(values) == 1:
            return identity(values[0], name=name)
        return apply_op("ConcatV2", *values, axis=int(axis), name=name)
    except TypeError:
        impl = ragged_impl(concat, values)
        if impl is None:
            raise
        return impl(values, axis, name=name)


def _pack_infer(inputs, attrs):
    d = None
    for t in inputs:
        td = dims(t)
        if td is not None:
            d = td if d is None else broadcast_dims(d, td) if len(d) == len(td) else d
            if d is not None and len(d) != len(td):
                raise ValueError("Shapes of all inputs to stack must match")
    if d is None:
        return [(None, inputs[0].dtype)]
    axis = normalize_axis(attrs["axis"], len(d) + 1)
    return [(d[:axis] + (len(inputs),) + d[axis:], inputs[0].dtype)]


@register_op("Pack", infer=_pack_infer, same_dtype=True)
def _pack(*xs, axis=0):
    return np.stack(xs, axis=axis)


@register_gradient("Pack")
def _pack_grad(op, grad):
    return unstack(grad, num=len(op.inputs), axis=op.attrs["axis"])


def _unpack_infer(inputs, attrs):
    d = dims(inputs[0])
    if d is None:
        return [(None, inputs[0].dtype)] * attrs["num"]
    axis = normalize_axis(attrs["axis"], len(d))
    return [(d[:axis] + d[axis + 1 :], inputs[0].dtype)] * attrs["num"]


@register_op("Unpack", infer=_unpack_infer, num_outputs=lambda a: a["num"])
def _unpack(x, num=None, axis=0):
    return tuple(np.moveaxis(x, axis, 0))


@register_gradient("Unpack")
def _unpack_grad(op, *grads):
    return [stack(list(grads), axis=op.attrs["axis"])]


def stack(values, axis=0, name="stack"):
    """Stacks rank-R tensors into one rank-(R+1) tensor."""
    return apply_op("Pack", *values, axis=int(axis), name=name)


def unstack(value, num=None, axis=0, name="unstack"):
    """Splits a tensor into a list of tensors along ``axis`` (removing it)."""
    value = convert_to_tensor(value)
    if num is None:
        d = dims(value)
        if d is None or d[axis] is None:
            raise ValueError(f"Cannot infer num from shape {value.shape}")
        num = d[axis]
    return list(apply_op("Unpack", value, num=int(num), axis=int(axis), name=name))


def _split_infer(inputs, attrs):
    d = dims(inputs[0])
    sizes, num = attrs["sizes"], attrs["num"]
    n = num if sizes is None else len(sizes)
    if d is None:
        return [(None, inputs[0].dtype)] * n
    axis = normalize_axis(attrs["axis"], len(d))
    if sizes is None:
        if d[axis] is not None and d[axis] % num:
            raise ValueError(f"Dimension size must be evenly divisible by {num} but is {d[axis]}")
        sizes = [None if d[axis] is None else d[axis] // num] * num
    elif d[axis] is not None and -1 in sizes:  # the -1 piece takes what is left
        rest = d[axis] - (sum(sizes) + 1)
        if rest < 0:
            raise ValueError(
                f"Determined shape must either match input shape along "
                f"split_dim exactly if fully specified, or be less than the "
                f"size of the input along split_dim if not fully specified. "
                f"Got: {sum(sizes) + 1} vs {d[axis]}"
            )
        sizes = [rest if s == -1 else s for s in sizes]
    elif d[axis] is not None and -1 not in sizes and sum(sizes) != d[axis]:
        raise ValueError(
            f"Determined shape must either match input shape along split_dim "
            f"exactly if fully specified, or be less than the size of the input "
            f"along split_dim if not fully specified. Got: {sum(sizes)} vs "
            f"{d[axis]}"
        )
    return [(d[:axis] + (None if s == -1 else s,) + d[axis + 1 :], inputs[0].dtype) for s in sizes]


@register_op(
    "Split",
    infer=_split_infer,
    num_outputs=lambda a: a["num"] if a["sizes"] is None else len(a["sizes"]),
)
def _split(x, axis=0, num=None, sizes=None):
    if sizes is None:
        return tuple(np.split(x, num, axis=axis))
    sizes = list(sizes)
    if -1 in sizes:
        sizes[sizes.index(-1)] = np.shape(x)[axis] - (sum(sizes) + 1)
    return tuple(np.split(x, np.cumsum(sizes)[:-1], axis=axis))


@register_gradient("Split")
def _split_grad(op, *grads):
    return [concat(list(grads), axis=op.attrs["axis"])]


def split(value, num_or_size_splits, axis=0, num=None, name="split"):
    """Splits into ``num_or_size_splits`` equal parts, or parts of the given sizes."""
    if np.ndim(num_or_size_splits) == 0:
        return list(
            apply_op(
                "Split", value, axis=int(axis), num=int(num_or_size_splits), sizes=None, name=name
            )
        )
    sizes = tuple(int(s) for s in num_or_size_splits)
    return list(apply_op("Split", value, axis=int(axis), num=None, sizes=sizes, name=name))
