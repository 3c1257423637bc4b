"""Vector and matrix norms (`tf.norm`, `tf.linalg.normalize`): compositions of math ops,
the spectral norm from the SVD."""

from __future__ import annotations

import numpy as np

from miniflow.ops import array_ops as _arr, math_ops as _math
from miniflow.ops.decomposition_ops import svd
from miniflow.ops.shape_rules import dims


def norm(
    tensor,
    ord="euclidean",
    axis=None,
    keepdims=None,
    name=None,  # noqa: A002
    keep_dims=None,
):
    """Vector norms (ord 1, 2, inf, any p > 0) or matrix norms ('fro', 1, inf) over
    ``axis`` (an int, or a pair for matrices; None: all elements as one vector)."""
    x = _arr.convert_to_tensor(tensor)
    keep = bool(keepdims if keepdims is not None else keep_dims)
    is_matrix = axis is not None and not isinstance(axis, int) and len(axis) == 2
    if ord in ("euclidean", "fro") or (ord == 2 and not is_matrix):
        if ord == "fro" and not is_matrix and axis is not None:
            raise ValueError("'fro' is a matrix norm: give a pair of axes")
        out = _math.sqrt(_math.reduce_sum(_math.square(x), axis=axis, keepdims=keep))
    elif is_matrix and ord in (1, np.inf):
        rows, cols = axis
        inner, outer = (rows, cols) if ord == 1 else (cols, rows)
        sums = _math.reduce_sum(_math.abs(x), axis=inner, keepdims=True)
        out = _math.reduce_max(sums, axis=outer, keepdims=True)
        if not keep:
            out = _arr.squeeze(out, axis=sorted(axis))
    elif is_matrix and ord == 2:
        rows, cols = (a % len(dims(x)) for a in axis)
        rest = [i for i in range(len(dims(x))) if i not in (rows, cols)]
        mats = _arr.transpose(x, rest + [rows, cols])
        out = _math.reduce_max(svd(mats, compute_uv=False), axis=-1)
        if keep:
            for a in sorted((rows, cols)):
                out = _arr.expand_dims(out, a)
    elif is_matrix:
        raise ValueError(
            f"'ord' must be a supported matrix norm in ['euclidean', 'fro', 1, 2, inf], got {ord!r}"
        )
    elif ord == np.inf:
        out = _math.reduce_max(_math.abs(x), axis=axis, keepdims=keep)
    elif ord == 1:
        out = _math.reduce_sum(_math.abs(x), axis=axis, keepdims=keep)
    elif isinstance(ord, int | float) and ord > 0:
        out = _math.pow(
            _math.reduce_sum(_math.pow(_math.abs(x), float(ord)), axis=axis, keepdims=keep),
            1.0 / ord,
        )
    else:
        raise ValueError(f"'ord' must be a supported vector norm, got {ord!r}")
    return _arr.identity(out, name=name or "norm")


def normalize(tensor, ord="euclidean", axis=None, name=None):
    """(tensor / norm(tensor), norm(tensor)), the norm kept with the reduced dims."""
    x = _arr.convert_to_tensor(tensor)
    n = norm(x, ord=ord, axis=axis, keepdims=True)
    return _math.truediv(x, n, name=name), n
