"""Sparse segment reductions (`tf.sparse.segment_sum/mean/sqrt_n`: segments of the rows
``data[indices]``), `tf.sparse.bincount` and `tf.sparse_matmul`.

The segment ops compose ``gather`` with the segment reductions, so the gradient with
respect to ``data`` is the gather's `IndexedSlices`, as TF's.
"""

from __future__ import annotations

import numpy as np

from miniflow import dtypes, errors
from miniflow.core.dispatch import apply_op
from miniflow.core.registry import not_differentiable, register_op
from miniflow.ops import array_ops, control_flow_ops, math_ops
from miniflow.ops.segment_ops import segment_mean
from miniflow.ops.sparse_ops import SparseTensor, segment_sum, unsorted_segment_sum


def _rows(data, indices):
    data = array_ops.convert_to_tensor(data, name="data")
    return data, array_ops.gather(data, indices)


def _sum(rows, segment_ids, num_segments):
    if num_segments is None:
        return segment_sum(rows, segment_ids)
    return unsorted_segment_sum(rows, segment_ids, num_segments)


def _count(rows, segment_ids, num_segments):
    ones = array_ops.ones_like(array_ops.convert_to_tensor(segment_ids), dtype=rows.dtype)
    count = _sum(ones, segment_ids, num_segments)
    count = math_ops.maximum(count, array_ops.ones_like(count))
    extra = (array_ops.shape(rows)[1:] * 0) + 1
    return array_ops.reshape(count, array_ops.concat([[-1], extra], 0))


def sparse_segment_sum(data, indices, segment_ids, name=None, num_segments=None):
    """sparse_segment_sum(data, indices, segment_ids, name=None, num_segments=None): sums
    of the rows ``data[indices]`` over sorted ``segment_ids``."""
    with control_flow_ops.name_scope(name, "SparseSegmentSum") as scope:
        _, rows = _rows(data, indices)
        return array_ops.identity(_sum(rows, segment_ids, num_segments), name=scope)


def sparse_segment_mean(data, indices, segment_ids, name=None, num_segments=None):
    """sparse_segment_mean(data, indices, segment_ids, name=None, num_segments=None): means
    of the rows ``data[indices]`` over ``segment_ids`` (0 for empty segments)."""
    with control_flow_ops.name_scope(name, "SparseSegmentMean") as scope:
        _, rows = _rows(data, indices)
        if num_segments is None:
            return array_ops.identity(segment_mean(rows, segment_ids), name=scope)
        return math_ops.truediv(
            _sum(rows, segment_ids, num_segments),
            _count(rows, segment_ids, num_segments),
            name=scope,
        )


def sparse_segment_sqrt_n(data, indices, segment_ids, name=None, num_segments=None):
    """sparse_segment_sqrt_n(data, indices, segment_ids, name=None, num_segments=None):
    sums of the rows ``data[indices]`` divided by sqrt(segment size)."""
    with control_flow_ops.name_scope(name, "SparseSegmentSqrtN") as scope:
        _, rows = _rows(data, indices)
        return math_ops.truediv(
            _sum(rows, segment_ids, num_segments),
            math_ops.sqrt(_count(rows, segment_ids, num_segments)),
            name=scope,
        )


def sparse_matmul(
    a, b, transpose_a=False, transpose_b=False, a_is_sparse=False, b_is_sparse=False, name=None
):
    """sparse_matmul(a, b, transpose_a=False, transpose_b=False, a_is_sparse=False,
    b_is_sparse=False, name=None): a dense matmul; the sparsity flags are hints only."""
    return math_ops.matmul(
        a, b, transpose_a=transpose_a, transpose_b=transpose_b, name=name or "SparseMatMul"
    )


@register_op(
    "SparseBincountCounts",
    num_outputs=3,
    infer=lambda i, a: [
        ((None, None), dtypes.int64),
        ((None,), a["out_dtype"]),
        ((None,), dtypes.int64),
    ],
)
def _bincount(
    indices,
    values,
    dense_shape,
    weights,
    minlength=-1,
    maxlength=-1,
    per_row=False,
    binary=False,
    out_dtype=None,
):
    """Counts (or summed weights) of each value, per row when ``per_row``; the output
    SparseTensor holds the nonzero bins in row-major order."""
    vals = np.asarray(values).reshape(-1).astype(np.int64)
    if vals.size and vals.min() < 0:
        raise errors.InvalidArgumentError(None, None, "Input arr must be non-negative!")
    w = np.asarray(weights).reshape(-1)
    if w.size and w.size != vals.size:
        raise errors.InvalidArgumentError(
            None, None, "weights must have the same number of elements as values"
        )
    size = int(vals.max()) + 1 if vals.size else 0
    if minlength >= 0:
        size = max(size, minlength)
    if maxlength >= 0:
        size = min(size, maxlength)
    keep = vals < size
    idx = np.asarray(indices).reshape(len(vals), -1)
    rows = idx[:, 0] if per_row else np.zeros(len(vals), np.int64)
    n_rows = int(np.asarray(dense_shape).reshape(-1)[0]) if per_row else 1
    table = np.zeros((n_rows, size), out_dtype.np)
    contrib = np.ones(vals.size, out_dtype.np) if not w.size or binary else w
    np.add.at(table, (rows[keep], vals[keep]), contrib[keep])
    if binary:
        table = (table != 0).astype(out_dtype.np)
    nz = np.argwhere(table != 0)
    out_idx = nz if per_row else nz[:, 1:]
    shape = [n_rows, size] if per_row else [size]
    return out_idx.astype(np.int64), table[tuple(nz.T)], np.array(shape, np.int64)


not_differentiable("SparseBincountCounts")


def bincount(
    values, weights=None, axis=0, minlength=None, maxlength=None, binary_output=False, name=None
):
    """bincount(values, weights=None, axis=0, minlength=None, maxlength=None,
    binary_output=False, name=None): a SparseTensor of value counts (or summed weights),
    over everything (``axis=0``) or per row of a matrix (``axis=-1``)."""
    if axis not in (0, -1):
        raise ValueError(f"Unsupported axis value {axis}: only 0 and -1 are supported")
    with control_flow_ops.name_scope(name, "count"):
        if isinstance(values, SparseTensor):
            indices, vals, shape = values.indices, values.values, values.dense_shape
        else:
            vals = array_ops.convert_to_tensor(values)
            shape = array_ops.shape(vals, out_type=dtypes.int64)
            indices = array_ops.where(array_ops.ones_like(vals, dtype=dtypes.bool))
            vals = array_ops.reshape(vals, [-1])
        if weights is None:
            w = array_ops.zeros([0], dtypes.int64 if vals.dtype.is_integer else vals.dtype)
            out_dtype = vals.dtype  # TF: counts in the values' dtype (int32 or int64)
        else:
            w = (
                weights.values
                if isinstance(weights, SparseTensor)
                else array_ops.reshape(array_ops.convert_to_tensor(weights), [-1])
            )
            out_dtype = w.dtype
        idx, counts, out_shape = apply_op(
            "SparseBincountCounts",
            indices,
            vals,
            shape,
            w,
            minlength=-1 if minlength is None else int(minlength),
            maxlength=-1 if maxlength is None else int(maxlength),
            per_row=axis == -1,
            binary=bool(binary_output),
            out_dtype=out_dtype,
        )
        return SparseTensor(idx, counts, out_shape)
