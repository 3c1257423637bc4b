"""The ops on sparse tensors: `tf.sparse_tensor_dense_matmul`, `tf.sparse_reduce_sum`,
`tf.sparse_to_dense`, `tf.sparse_add`, `tf.sparse_reorder`, `tf.sparse.from_dense`
(`SparseTensor` itself is in `sparse_tensor.py`, segment sums in `sparse_embedding_ops.py`;
both re-exported here).

Each kernel works on the N stored entries only, never on the dense shape's full size
unless it produces a dense result. Gradients flow to ``values`` and to dense operands.
"""

from __future__ import annotations

import numpy as np

from miniflow import dtypes, errors
from miniflow.core.dispatch import apply_op
from miniflow.core.registry import not_differentiable, register_gradient, register_op
from miniflow.ops import array_ops, control_flow_ops, math_ops
from miniflow.ops.array_ops import _shape_from_tensor
from miniflow.ops.shape_rules import dims
from miniflow.ops.sparse_embedding_ops import (
    embedding_lookup_sparse as embedding_lookup_sparse,
    segment_sum as segment_sum,
    unsorted_segment_sum as unsorted_segment_sum,
)
from miniflow.ops.sparse_tensor import (
    SparseTensor as SparseTensor,
    SparseTensorValue as SparseTensorValue,
    _as_sparse,
    _check_indices,
    _static_rows,
    sparse_placeholder as sparse_placeholder,
)

# ---------------------------------------------------------------------------------------
# Sparse x dense matmul.


def _spmm_infer(inputs, attrs):
    b = dims(inputs[3])
    cols = None if b is None else b[0 if attrs["adjoint_b"] else 1]
    return [((_static_rows(inputs[2], attrs["adjoint_a"]), cols), inputs[1].dtype)]


@register_op("SparseTensorDenseMatMul", infer=_spmm_infer)
def _spmm(a_indices, a_values, a_shape, b, adjoint_a=False, adjoint_b=False):
    idx = _check_indices(a_indices, a_shape, values=a_values)
    rows, cols = (idx[:, 1], idx[:, 0]) if adjoint_a else (idx[:, 0], idx[:, 1])
    b = np.asarray(b)
    if adjoint_b:
        b = b.T.conj()
    n_out, inner = (a_shape[1], a_shape[0]) if adjoint_a else (a_shape[0], a_shape[1])
    if b.shape[0] != inner:
        raise errors.InvalidArgumentError(
            None,
            None,
            f"Cannot multiply A and B because inner dimension does not match: "
            f"{inner} vs. {b.shape[0]}. Did you forget a transpose?",
        )
    vals = np.conj(a_values) if adjoint_a else np.asarray(a_values)
    out = np.zeros((int(n_out), b.shape[1]), dtype=np.result_type(vals, b))
    np.add.at(out, rows, vals[:, None] * b[cols])
    return out


@register_gradient("SparseTensorDenseMatMul")
def _spmm_grad(op, grad):
    """out = A' B' with A' = op(A), B' = op(B): dB' = A'^T G, dA'[r, c] = G[r] . B'[c]."""
    a_indices, a_values, a_shape, b = op.inputs
    adj_a, adj_b = op.attrs["adjoint_a"], op.attrs["adjoint_b"]
    d_bprime = apply_op(
        "SparseTensorDenseMatMul",
        a_indices,
        a_values,
        a_shape,
        grad,
        adjoint_a=not adj_a,
        adjoint_b=False,
    )
    d_b = array_ops.transpose(d_bprime) if adj_b else d_bprime
    b_prime = array_ops.transpose(b) if adj_b else b
    r = array_ops.gather(a_indices, 1 if adj_a else 0, axis=1)
    c = array_ops.gather(a_indices, 0 if adj_a else 1, axis=1)
    d_values = math_ops.reduce_sum(array_ops.gather(grad, r) * array_ops.gather(b_prime, c), axis=1)
    return [None, d_values, None, d_b]


def sparse_tensor_dense_matmul(sp_a, b, adjoint_a=False, adjoint_b=False, name=None):
    """The dense product ``op(sp_a) @ op(b)`` of a rank-2 SparseTensor and a dense matrix
    (``op`` transposes when the adjoint flag is set). Differentiable with respect to
    ``sp_a.values`` and ``b``; its cost grows with the number of stored entries.

    Raises:
        InvalidArgumentError: (at run time) the inner dimensions differ or an index is
            out of bounds.

    Example::

        logits = tf.sparse_tensor_dense_matmul(sp_x, w)  # [batch, features] x [features, 1]
    """
    sp_a = _as_sparse(sp_a, "sp_a")
    b = array_ops.convert_to_tensor(b, dtype=sp_a.dtype, name="b")
    return apply_op(
        "SparseTensorDenseMatMul",
        sp_a.indices,
        sp_a.values,
        sp_a.dense_shape,
        b,
        adjoint_a=bool(adjoint_a),
        adjoint_b=bool(adjoint_b),
        name=name or "SparseTensorDenseMatMul",
    )


# ---------------------------------------------------------------------------------------
# Moving values between sparse positions and a dense tensor.


@register_op(
    "SparseValuesFromDense", infer=lambda i, a: [((dims(i[1]) or (None,))[:1], i[0].dtype)]
)
def _values_from_dense(dense, indices):
    """dense[indices[k]] for each row k of indices (TF's gather_nd on a sparse pattern)."""
    idx = np.asarray(indices)
    return (
        np.asarray(dense)[tuple(idx.T)]
        if idx.size
        else np.zeros((idx.shape[0],), dtype=np.asarray(dense).dtype)
    )


@register_op("SparseScatterAddToDense", infer=lambda i, a: [(_shape_from_tensor(i[2]), i[1].dtype)])
def _scatter_add_to_dense(indices, values, dense_shape):
    """zeros(dense_shape) with values[k] added at indices[k] (repeats add up)."""
    out = np.zeros(tuple(np.asarray(dense_shape).reshape(-1)), dtype=np.asarray(values).dtype)
    idx = np.asarray(indices)
    if idx.size:
        np.add.at(out, tuple(idx.T), values)
    return out


@register_gradient("SparseValuesFromDense")
def _values_from_dense_grad(op, grad):
    dense, indices = op.inputs
    return [
        apply_op(
            "SparseScatterAddToDense", indices, grad, array_ops.shape(dense, out_type=dtypes.int64)
        ),
        None,
    ]


@register_gradient("SparseScatterAddToDense")
def _scatter_add_to_dense_grad(op, grad):
    return [None, apply_op("SparseValuesFromDense", grad, op.inputs[0]), None]


def _sparse_to_dense_infer(inputs, attrs):
    return [(_shape_from_tensor(inputs[1]), inputs[2].dtype)]


@register_op("SparseToDense", infer=_sparse_to_dense_infer)
def _sparse_to_dense(
    sparse_indices, output_shape, sparse_values, default_value, validate_indices=True
):
    shape = tuple(int(d) for d in np.asarray(output_shape).reshape(-1))
    idx = np.asarray(sparse_indices)
    idx = idx.reshape(-1, 1) if idx.ndim < 2 else idx
    if validate_indices:
        _check_indices(idx, shape, check_order=True, values=sparse_values)
    else:
        _check_indices(idx, shape, values=sparse_values)
    out = np.full(shape, default_value, dtype=np.asarray(sparse_values).dtype)
    if idx.size:
        out[tuple(idx.T)] = sparse_values
    return out


@register_gradient("SparseToDense")
def _sparse_to_dense_grad(op, grad):
    """Each stored value receives its position's gradient; the default value the rest."""
    indices, _, values, _ = op.inputs
    idx = (
        indices
        if dims(indices) is not None and len(dims(indices)) == 2
        else array_ops.reshape(indices, [-1, 1])
    )
    values_grad = apply_op("SparseValuesFromDense", grad, idx)
    if dims(values) == ():
        values_grad = math_ops.reduce_sum(values_grad)
    default_grad = math_ops.reduce_sum(grad) - math_ops.reduce_sum(values_grad)
    return [None, None, values_grad, default_grad]


def sparse_to_dense(
    sparse_indices, output_shape, sparse_values, default_value=0, validate_indices=True, name=None
):
    """A dense tensor of ``output_shape`` holding ``sparse_values`` at ``sparse_indices``
    (a scalar, a vector for 1-D outputs, or an [N, rank] matrix) and ``default_value``
    elsewhere. ``sparse_values`` may be a scalar, used for every index.

    Raises:
        InvalidArgumentError: (at run time) an index is out of bounds, or, with
            ``validate_indices``, indices are unsorted or repeated.

    Example::

        tf.sparse_to_dense([[0, 1], [2, 0]], [3, 2], [5.0, 6.0])
    """
    values = array_ops.convert_to_tensor(sparse_values, name="sparse_values")
    return apply_op(
        "SparseToDense",
        array_ops.convert_to_tensor(sparse_indices),
        array_ops.convert_to_tensor(output_shape),
        values,
        array_ops.convert_to_tensor(default_value, dtype=values.dtype),
        validate_indices=bool(validate_indices),
        name=name or "SparseToDense",
    )


def sparse_tensor_to_dense(sp_input, default_value=0, validate_indices=True, name=None):
    """The dense tensor ``sp_input`` represents (``default_value`` where nothing is stored).

    Raises:
        InvalidArgumentError: (at run time) with ``validate_indices``, the indices are not
            in row-major order or repeat; reorder them with `tf.sparse.reorder`.
    """
    sp = _as_sparse(sp_input)
    return sparse_to_dense(
        sp.indices,
        sp.dense_shape,
        sp.values,
        default_value,
        validate_indices=validate_indices,
        name=name,
    )


def from_dense(tensor, name=None):
    """The SparseTensor of the nonzero entries of a dense ``tensor`` (row-major order)."""
    with control_flow_ops.name_scope(name, "dense_to_sparse"):
        t = array_ops.convert_to_tensor(tensor)
        indices = array_ops.where(math_ops.not_equal(t, array_ops.zeros_like(t)))
        values = apply_op("SparseValuesFromDense", t, indices)
        return SparseTensor(indices, values, array_ops.shape(t, out_type=dtypes.int64))


@register_op(
    "SparseReorderPermutation", infer=lambda i, a: [((dims(i[0]) or (None,))[:1], dtypes.int64)]
)
def _reorder_permutation(indices, dense_shape):
    idx = np.asarray(indices)
    if idx.size == 0:
        return np.zeros((idx.shape[0],), np.int64)
    return np.lexsort(idx.T[::-1]).astype(np.int64)


not_differentiable("SparseReorderPermutation")


def sparse_reorder(sp_input, name=None):
    """The same SparseTensor with its entries in row-major (lexicographic) order."""
    sp = _as_sparse(sp_input)
    with control_flow_ops.name_scope(name, "SparseReorder"):
        perm = apply_op("SparseReorderPermutation", sp.indices, sp.dense_shape)
        return SparseTensor(
            array_ops.gather(sp.indices, perm), array_ops.gather(sp.values, perm), sp.dense_shape
        )


# ---------------------------------------------------------------------------------------
# Reduction.


def _reduce_axes(axis, rank):
    if axis is None:
        return None
    axes = [axis] if isinstance(axis, int | np.integer) else list(axis)
    for a in axes:
        if not -rank <= a < rank:
            raise errors.InvalidArgumentError(
                None, None, f"Invalid reduction dimension {a} for input with {rank} dimensions."
            )
    return sorted({int(a) % rank for a in axes})


def _sparse_reduce_infer(inputs, attrs):
    shape = _shape_from_tensor(inputs[2])
    axis, keep = attrs["axis"], attrs["keepdims"]
    if axis is None:
        return [((1,) * len(shape) if keep and shape is not None else (), inputs[1].dtype)]
    if shape is None:
        return [(None, inputs[1].dtype)]
    axes = set(_reduce_axes(axis, len(shape)))
    out = tuple(1 if i in axes else d for i, d in enumerate(shape) if keep or i not in axes)
    return [(out, inputs[1].dtype)]


@register_op("SparseReduceSum", infer=_sparse_reduce_infer)
def _sparse_reduce_sum(indices, values, dense_shape, axis=None, keepdims=False):
    shape = tuple(int(d) for d in np.asarray(dense_shape).reshape(-1))
    idx = _check_indices(indices, shape, values=values)
    values = np.asarray(values)
    axes = _reduce_axes(axis, len(shape))
    if axes is None:
        total = values.sum(dtype=values.dtype)
        return np.full((1,) * len(shape), total) if keepdims else np.asarray(total)
    keep = [d for d in range(len(shape)) if d not in axes]
    out = np.zeros(tuple(shape[d] for d in keep), dtype=values.dtype)
    np.add.at(out, tuple(idx[:, keep].T), values)
    if keepdims:
        out = out.reshape(tuple(1 if d in axes else shape[d] for d in range(len(shape))))
    return out


@register_gradient("SparseReduceSum")
def _sparse_reduce_sum_grad(op, grad):
    """Each stored value receives the gradient of the output cell it was summed into."""
    indices, values, dense_shape = op.inputs
    rank = (dims(indices) or (None, None))[1]
    if rank is None:
        rank = (dims(dense_shape) or (None,))[0]
    axis, keep = op.attrs["axis"], op.attrs["keepdims"]
    if axis is None:
        return [None, array_ops.ones_like(values) * array_ops.reshape(grad, []), None]
    if rank is None:
        raise ValueError(
            "sparse_reduce_sum's gradient needs the rank of its input known when the graph is built"
        )
    axes = _reduce_axes(axis, rank)
    mask = np.array([0 if d in axes else 1 for d in range(rank)], np.int64)
    kept_shape = dense_shape * mask + (1 - mask)
    grad_kd = grad if keep else array_ops.reshape(grad, kept_shape)
    return [None, apply_op("SparseValuesFromDense", grad_kd, indices * mask), None]


def sparse_reduce_sum(
    sp_input, axis=None, keepdims=None, reduction_axes=None, name=None, keep_dims=None
):
    """The sum of a SparseTensor's entries over ``axis`` (all axes by default), as a
    dense tensor. Differentiable with respect to the values.

    Example::

        row_sums = tf.sparse_reduce_sum(sp, axis=1)
    """
    sp = _as_sparse(sp_input)
    axis = reduction_axes if axis is None else axis
    if axis is not None and not isinstance(axis, int):
        axis = tuple(int(a) for a in axis)
    keep = bool(keepdims if keepdims is not None else keep_dims)
    return apply_op(
        "SparseReduceSum",
        sp.indices,
        sp.values,
        sp.dense_shape,
        axis=axis,
        keepdims=keep,
        name=name or "SparseReduceSum",
    )


# ---------------------------------------------------------------------------------------
# Addition.


def _merge_sparse(a_idx, a_val, b_idx, b_val, shape):
    """Row-major merged indices, summed values and, for each output entry, the entry of a
    and of b it came from (-1 where none)."""
    shape = tuple(int(d) for d in np.asarray(shape).reshape(-1))
    a_idx = _check_indices(a_idx, shape, values=a_val)
    b_idx = _check_indices(b_idx, shape, values=b_val)
    keys = np.concatenate(
        [
            np.ravel_multi_index(tuple(a_idx.T), shape) if a_idx.size else np.zeros(0, np.int64),
            np.ravel_multi_index(tuple(b_idx.T), shape) if b_idx.size else np.zeros(0, np.int64),
        ]
    ).astype(np.int64)
    uniq, inverse = np.unique(keys, return_inverse=True)
    inverse = inverse.reshape(-1)
    values = np.zeros(uniq.shape, dtype=np.result_type(a_val, b_val))
    np.add.at(values, inverse, np.concatenate([np.asarray(a_val), np.asarray(b_val)]))
    out_idx = (
        np.stack(np.unravel_index(uniq, shape), axis=1).astype(np.int64)
        if uniq.size
        else np.zeros((0, len(shape)), np.int64)
    )
    return out_idx, values, inverse[: len(a_idx)], inverse[len(a_idx) :]


@register_op(
    "SparseAdd",
    num_outputs=3,
    infer=lambda i, a: [
        ((None, (dims(i[0]) or (None, None))[1]), dtypes.int64),
        ((None,), i[1].dtype),
        (dims(i[2]), dtypes.int64),
    ],
)
def _sparse_add(a_indices, a_values, a_shape, b_indices, b_values, b_shape, thresh):
    if not np.array_equal(np.asarray(a_shape), np.asarray(b_shape)):
        raise errors.InvalidArgumentError(
            None,
            None,
            f"Operands do not have the same ranks/shapes: a.shape = "
            f"{np.asarray(a_shape).tolist()}, b.shape = {np.asarray(b_shape).tolist()}",
        )
    out_idx, values, _, _ = _merge_sparse(a_indices, a_values, b_indices, b_values, a_shape)
    keep = np.abs(values) >= thresh
    return out_idx[keep], values[keep], np.asarray(a_shape, np.int64)


@register_op(
    "SparseAddGrad",
    num_outputs=2,
    infer=lambda i, a: [
        ((dims(i[1]) or (None,))[:1], i[0].dtype),
        ((dims(i[2]) or (None,))[:1], i[0].dtype),
    ],
)
def _sparse_add_grad_kernel(out_grad, a_indices, b_indices, sum_indices, dense_shape):
    """The gradient of each input entry: the output entry at the same position (0 if that
    sum was dropped by the threshold)."""
    shape = tuple(int(d) for d in np.asarray(dense_shape).reshape(-1))
    out_keys = (
        np.ravel_multi_index(tuple(np.asarray(sum_indices).T), shape)
        if np.size(sum_indices)
        else np.zeros(0, np.int64)
    )

    def pick(idx):
        idx = np.asarray(idx)
        if idx.size == 0:
            return np.zeros(idx.shape[:1], np.asarray(out_grad).dtype)
        keys = np.ravel_multi_index(tuple(idx.T), shape)
        pos = np.searchsorted(out_keys, keys)
        found = (pos < out_keys.size) & (out_keys[np.minimum(pos, out_keys.size - 1)] == keys)
        g = np.zeros(idx.shape[:1], np.asarray(out_grad).dtype)
        g[found] = np.asarray(out_grad)[pos[found]]
        return g

    return pick(a_indices), pick(b_indices)


not_differentiable("SparseAddGrad")


@register_gradient("SparseAdd")
def _sparse_add_grad(op, out_indices_grad, out_values_grad, out_shape_grad):
    a_indices, _, a_shape, b_indices, _, _, _ = op.inputs
    a_grad, b_grad = apply_op(
        "SparseAddGrad", out_values_grad, a_indices, b_indices, op.outputs[0], a_shape
    )
    return [None, a_grad, None, None, b_grad, None, None]


@register_op("SparseTensorDenseAdd", infer=lambda i, a: [(dims(i[3]), i[3].dtype)])
def _sparse_dense_add(a_indices, a_values, a_shape, b):
    b = np.asarray(b)
    if tuple(np.asarray(a_shape).reshape(-1)) != b.shape:
        raise errors.InvalidArgumentError(
            None,
            None,
            f"Dimension mismatch: sparse operand has shape "
            f"{np.asarray(a_shape).tolist()}, dense operand {list(b.shape)}",
        )
    idx = _check_indices(a_indices, b.shape, values=a_values)
    out = b.copy()
    if idx.size:
        np.add.at(out, tuple(idx.T), a_values)
    return out


@register_gradient("SparseTensorDenseAdd")
def _sparse_dense_add_grad(op, grad):
    return [None, apply_op("SparseValuesFromDense", grad, op.inputs[0]), None, grad]


def sparse_add(a, b, thresh=0, name=None):
    """``a + b`` where at least one operand is a SparseTensor.

    Sparse + sparse gives a SparseTensor (row-major order) from which sums whose
    magnitude is below ``thresh`` are dropped; sparse + dense gives a dense tensor.

    Raises:
        TypeError: neither operand is sparse.
        InvalidArgumentError: (at run time) the dense shapes differ.

    Example::

        c = tf.sparse_add(sp_a, sp_b)
    """
    a_sparse = isinstance(a, SparseTensor | SparseTensorValue)
    b_sparse = isinstance(b, SparseTensor | SparseTensorValue)
    if not (a_sparse or b_sparse):
        raise TypeError("At least one input should be SparseTensor; do you mean to use tf.add?")
    if a_sparse and b_sparse:
        a, b = _as_sparse(a, "a"), _as_sparse(b, "b")
        thresh = array_ops.convert_to_tensor(thresh, dtype=a.dtype, name="thresh")
        idx, val, shp = apply_op(
            "SparseAdd",
            a.indices,
            a.values,
            a.dense_shape,
            b.indices,
            b.values,
            b.dense_shape,
            thresh,
            name=name or "SparseAdd",
        )
        return SparseTensor(idx, val, shp)
    sp, dense = (_as_sparse(a, "a"), b) if a_sparse else (_as_sparse(b, "b"), a)
    dense = array_ops.convert_to_tensor(dense, dtype=sp.dtype)
    return apply_op(
        "SparseTensorDenseAdd",
        sp.indices,
        sp.values,
        sp.dense_shape,
        dense,
        name=name or "SparseTensorDenseAdd",
    )
