"""Reductions and element-wise ops over the stored entries of SparseTensors:
`tf.sparse.reduce_max`, `reduce_max_sparse`, `reduce_sum_sparse`, `softmax`, `maximum`
and `minimum`.

An index-only kernel groups the entries (by the cells of the reduced output, or by the
union of two index sets); the values are then combined with differentiable ops
(`gather`, `unsorted_segment_sum/max`, `maximum`), so gradients need no rule here.
"""

from __future__ import annotations

import numpy as np

from miniflow import dtypes, errors
from miniflow.core.dispatch import apply_op
from miniflow.core.registry import not_differentiable, register_op
from miniflow.ops import array_ops, control_flow_ops, math_ops
from miniflow.ops.segment_ops import unsorted_segment_max
from miniflow.ops.shape_rules import dims
from miniflow.ops.sparse_manip_ops import _idx, _rank, _shape_tuple, _sp
from miniflow.ops.sparse_ops import (
    _as_sparse,
    _check_indices,
    _reduce_axes,
    sparse_tensor_to_dense,
    unsorted_segment_sum,
)

_INT64 = dtypes.int64


@register_op(
    "SparseReduceGroups",
    num_outputs=4,
    infer=lambda i, a: [((None, None), _INT64), ((None,), _INT64), ((), _INT64), ((None,), _INT64)],
)
def _reduce_groups(indices, dense_shape, axis=None, keepdims=False):
    """Output indices (row-major) of the cells that receive an entry, the cell of each
    entry, the number of cells and the output dense shape."""
    shape = _shape_tuple(dense_shape)
    idx = _check_indices(_idx(indices, len(shape)), shape)
    axes = _reduce_axes(axis, len(shape))
    axes = list(range(len(shape))) if axes is None else axes
    kept = [d for d in range(len(shape)) if d not in axes]
    out_dims = (
        [1 if d in axes else shape[d] for d in range(len(shape))]
        if keepdims
        else [shape[d] for d in kept]
    )
    cells = idx[:, kept]
    if len(idx):
        uniq, group = np.unique(cells, axis=0, return_inverse=True)
    else:
        uniq, group = np.zeros((0, len(kept)), np.int64), np.zeros(0, np.int64)
    if keepdims:
        full = np.zeros((len(uniq), len(shape)), np.int64)
        full[:, kept] = uniq
        uniq = full
    return (
        uniq.astype(np.int64),
        group.reshape(-1).astype(np.int64),
        np.int64(len(uniq)),
        np.array(out_dims, np.int64),
    )


def _grouped(sp, axis, keepdims, combine, name, default_name):
    with control_flow_ops.name_scope(name, default_name):
        indices, group, n, shape = apply_op(
            "SparseReduceGroups", sp.indices, sp.dense_shape, axis=axis, keepdims=bool(keepdims)
        )
        return _sp(indices, combine(sp.values, group, n), shape)


def _axis(axis, reduction_axes):
    axis = reduction_axes if axis is None else axis
    if axis is None:
        return None
    return int(axis) if isinstance(axis, int | np.integer) else [int(a) for a in axis]


def _keep(keepdims, keep_dims):
    return bool(keep_dims if keepdims is None else keepdims)


def sparse_reduce_sum_sparse(
    sp_input, axis=None, keepdims=None, reduction_axes=None, name=None, keep_dims=None
):
    """sparse_reduce_sum_sparse(sp_input, axis=None, keepdims=None, reduction_axes=None,
    name=None, keep_dims=None): the sums as a SparseTensor (one entry per output cell
    that received an input entry)."""
    return _grouped(
        _as_sparse(sp_input),
        _axis(axis, reduction_axes),
        _keep(keepdims, keep_dims),
        unsorted_segment_sum,
        name,
        "SparseReduceSumSparse",
    )


def sparse_reduce_max_sparse(
    sp_input, axis=None, keepdims=None, reduction_axes=None, name=None, keep_dims=None
):
    """sparse_reduce_max_sparse(sp_input, axis=None, keepdims=None, reduction_axes=None,
    name=None, keep_dims=None): the maxima of the stored entries (implicit zeros are not
    counted) as a SparseTensor."""
    return _grouped(
        _as_sparse(sp_input),
        _axis(axis, reduction_axes),
        _keep(keepdims, keep_dims),
        unsorted_segment_max,
        name,
        "SparseReduceMaxSparse",
    )


def sparse_reduce_max(
    sp_input, axis=None, keepdims=None, reduction_axes=None, name=None, keep_dims=None
):
    """sparse_reduce_max(sp_input, axis=None, keepdims=None, reduction_axes=None,
    name=None, keep_dims=None): the maxima of the stored entries as a dense tensor (0
    where a cell received none), as TF."""
    axis, keep = _axis(axis, reduction_axes), _keep(keepdims, keep_dims)
    sp = _as_sparse(sp_input)
    rank = _rank(sp)
    with control_flow_ops.name_scope(name, "SparseReduceMax"):
        if axis is None:  # the largest stored value
            top = math_ops.reduce_max(sp.values)
            return array_ops.reshape(top, [1] * rank) if keep and rank is not None else top
        out = sparse_reduce_max_sparse(sp, axis, keep)
        dense = sparse_tensor_to_dense(out, validate_indices=False)
        shape = _shape_static(sp)
        if shape is not None:  # the static shape the kernel's output cannot state
            axes = set(_reduce_axes(axis, rank))
            dense = array_ops.reshape(
                dense,
                [1 if d in axes else shape[d] for d in range(rank)]
                if keep
                else [shape[d] for d in range(rank) if d not in axes],
            )
        return dense


def _shape_static(sp):
    shape = sp.shape
    return None if shape.dims is None or not shape.is_fully_defined() else shape.as_list()


def sparse_softmax(sp_input, name=None):
    """sparse_softmax(sp_input, name=None): softmax over the stored entries of each
    innermost row (implicit zeros take no part); the indices are unchanged."""
    sp = _as_sparse(sp_input)
    rank = _rank(sp)
    if rank is None:
        raise ValueError("sparse.softmax needs the input's rank known statically")
    if rank < 2:
        raise ValueError(f"sparse.softmax needs a SparseTensor of rank >= 2, got {rank}")
    with control_flow_ops.name_scope(name, "SparseSoftmax"):
        _, group, n, _ = apply_op(
            "SparseReduceGroups", sp.indices, sp.dense_shape, axis=rank - 1, keepdims=False
        )
        top = array_ops.stop_gradient(unsorted_segment_max(sp.values, group, n))
        e = math_ops.exp(sp.values - array_ops.gather(top, group))
        return _sp(
            sp.indices,
            e / array_ops.gather(unsorted_segment_sum(e, group, n), group),
            sp.dense_shape,
        )


@register_op(
    "SparseUnionPlan",
    num_outputs=3,
    infer=lambda i, a: [
        ((None, (dims(i[0]) or (None, None))[1]), _INT64),
        ((None,), _INT64),
        ((None,), _INT64),
    ],
)
def _union_plan(a_indices, a_shape, b_indices, b_shape):
    """Row-major union of two index sets; for each output entry, the position of its value
    in a and in b (len(a) / len(b), one past the end, where it has none)."""
    shape = _shape_tuple(a_shape)
    if shape != _shape_tuple(b_shape):
        raise errors.InvalidArgumentError(
            None,
            None,
            f"Operands do not have the same ranks/shapes: a.shape = "
            f"{list(shape)}, b.shape = {list(_shape_tuple(b_shape))}",
        )
    a = _check_indices(_idx(a_indices, len(shape)), shape)
    b = _check_indices(_idx(b_indices, len(shape)), shape)
    keys = [
        np.ravel_multi_index(tuple(x.T), shape) if len(x) else np.zeros(0, np.int64) for x in (a, b)
    ]
    uniq = np.union1d(*keys).astype(np.int64)
    srcs = []
    for x, k in zip((a, b), keys):
        src = np.full(uniq.size, len(x), np.int64)
        src[np.searchsorted(uniq, k)] = np.arange(len(x))
        srcs.append(src)
    out = (
        np.stack(np.unravel_index(uniq, shape), axis=1).astype(np.int64)
        if uniq.size
        else np.zeros((0, len(shape)), np.int64)
    )
    return out, srcs[0], srcs[1]


def _elementwise(sp_a, sp_b, fn, name, default_name):
    a, b = _as_sparse(sp_a, "sp_a"), _as_sparse(sp_b, "sp_b")
    with control_flow_ops.name_scope(name, default_name):
        indices, a_src, b_src = apply_op(
            "SparseUnionPlan", a.indices, a.dense_shape, b.indices, b.dense_shape
        )
        zero = array_ops.zeros([1], a.values.dtype)
        va = array_ops.gather(array_ops.concat([a.values, zero], 0), a_src)
        vb = array_ops.gather(array_ops.concat([b.values, zero], 0), b_src)
        return _sp(indices, fn(va, vb), a.dense_shape)


def sparse_maximum(sp_a, sp_b, name=None):
    """sparse_maximum(sp_a, sp_b, name=None): element-wise maximum over the union of the
    stored positions (a missing entry counts as 0, as in TF)."""
    return _elementwise(sp_a, sp_b, math_ops.maximum, name, "SparseSparseMaximum")


def sparse_minimum(sp_a, sp_b, name=None):
    """sparse_minimum(sp_a, sp_b, name=None): element-wise minimum over the union of the
    stored positions (a missing entry counts as 0, as in TF)."""
    return _elementwise(sp_a, sp_b, math_ops.minimum, name, "SparseSparseMinimum")


not_differentiable("SparseReduceGroups", "SparseUnionPlan")
