"""Static shape/dtype rules shared by many op definitions (``OpDef.infer`` functions)."""

from __future__ import annotations

from miniflow import dtypes
from miniflow.core.shapes import broadcast_dims


def dims(t):
    """The static dims tuple of a tensor-like (None if the rank is unknown)."""
    return t.shape.as_tuple()


def same_as_first(inputs, attrs):
    return [(dims(inputs[0]), inputs[0].dtype)]


def broadcast(inputs, attrs):
    return [(_broadcast_all(inputs), inputs[0].dtype)]


def logical(inputs, attrs):
    """Boolean inputs only (TF's logical ops take no numbers); broadcasting."""
    for t in inputs:
        if t.dtype != dtypes.bool:
            raise TypeError(
                f"Logical ops take bool tensors, got {t.dtype.name}; compare or tf.cast first"
            )
    return [(_broadcast_all(inputs), dtypes.bool)]


def broadcast_bool(inputs, attrs):
    return [(_broadcast_all(inputs), dtypes.bool)]


def _broadcast_all(inputs):
    out = dims(inputs[0])
    for t in inputs[1:]:
        out = broadcast_dims(out, dims(t))
    return out


def scalar_of(dtype):
    return lambda inputs, attrs: [((), dtypes.as_dtype(dtype))]


def normalize_axis(axis, rank, what="axis"):
    """An axis (or list of axes) as non-negative ints; None stays None.

    Raises:
        ValueError: an axis is out of range for the rank.
    """
    if axis is None:
        return None
    single = isinstance(axis, int)
    axes = [axis] if single else list(axis)
    if rank is not None:
        for a in axes:
            if not -rank <= a < rank:
                raise ValueError(f"Invalid {what} {a}: must be in range [{-rank}, {rank})")
        axes = [a % rank for a in axes]
    return axes[0] if single else tuple(axes)


def reduced(inputs, attrs):
    x = dims(inputs[0])
    axis, keep = attrs.get("axis"), attrs.get("keepdims", False)
    if x is None:
        return [(None, inputs[0].dtype)]
    axes = set(range(len(x))) if axis is None else set(normalize_axis(tuple(axis), len(x)))
    out = tuple(1 if i in axes else d for i, d in enumerate(x) if keep or i not in axes)
    return [(out, inputs[0].dtype)]
