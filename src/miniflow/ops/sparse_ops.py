"""Sparse tensors and the ops on them: `tf.SparseTensor`, `tf.sparse_placeholder`,
`tf.sparse_tensor_dense_matmul`, `tf.sparse_reduce_sum`, `tf.sparse_to_dense`,
`tf.sparse_add`, segment sums and `tf.nn.embedding_lookup_sparse`.

A `SparseTensor` is a Python object over three tensors (``indices`` int64 [N, rank],
``values`` [N], ``dense_shape`` int64 [rank]), as in TF1; each kernel below works on
the N stored entries only, never on the dense shape's full size unless it produces a
dense result. Gradients flow to ``values`` and to dense operands; the gradient of an
embedding lookup stays an `IndexedSlices`, so optimizers update only the looked-up rows.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from miniflow import dtypes, errors
from miniflow.core.dispatch import apply_op
from miniflow.core.registry import not_differentiable, register_gradient, register_op
from miniflow.core.shapes import TensorShape
from miniflow.graph.session import register_feed_type, register_fetch_type
from miniflow.ops import array_ops, clip_ops, control_flow_ops, math_ops
from miniflow.ops.array_ops import _const_value, _shape_from_tensor
from miniflow.ops.shape_rules import dims

# ---------------------------------------------------------------------------------------
# SparseTensor, SparseTensorValue, sparse_placeholder.


class SparseTensorValue(NamedTuple):
    """A sparse tensor's value: what `Session.run` returns for a fetched SparseTensor,
    and what a sparse placeholder is fed with."""

    indices: object
    values: object
    dense_shape: object


class SparseTensor:
    """A sparse tensor: ``values[k]`` sits at ``indices[k]`` of a ``dense_shape`` tensor
    whose other entries are zero.

    Args:
        indices: int64 [N, rank] positions of the stored entries.
        values: [N] the stored entries.
        dense_shape: int64 [rank] the shape of the dense tensor.

    Example::

        st = tf.SparseTensor(indices=[[0, 0], [1, 2]], values=[1.0, 2.0],
                             dense_shape=[3, 4])
    """

    def __init__(self, indices, values, dense_shape):
        with control_flow_ops.name_scope(None, "SparseTensor"):
            self._indices = array_ops.convert_to_tensor(indices, dtype=dtypes.int64, name="indices")
            self._values = array_ops.convert_to_tensor(values, name="values")
            self._dense_shape = array_ops.convert_to_tensor(
                dense_shape, dtype=dtypes.int64, name="dense_shape"
            )
        idx, val, shp = dims(self._indices), dims(self._values), dims(self._dense_shape)
        if idx is not None and len(idx) != 2:
            raise ValueError(
                f"SparseTensor indices must be a matrix [N, rank], got shape {TensorShape(idx)}"
            )
        if val is not None and len(val) != 1:
            raise ValueError(
                f"SparseTensor values must be a vector [N], got shape {TensorShape(val)}"
            )
        if shp is not None and len(shp) != 1:
            raise ValueError(
                f"SparseTensor dense_shape must be a vector [rank], got shape {TensorShape(shp)}"
            )

    @classmethod
    def from_value(cls, sparse_tensor_value):
        """A SparseTensor of constants from a `SparseTensorValue`."""
        if isinstance(sparse_tensor_value, SparseTensor):
            return sparse_tensor_value
        return cls(*sparse_tensor_value)

    indices = property(lambda self: self._indices)
    values = property(lambda self: self._values)
    dense_shape = property(lambda self: self._dense_shape)
    dtype = property(lambda self: self._values.dtype)
    op = property(lambda self: self._values.op)
    graph = property(lambda self: self._values.graph)

    @property
    def shape(self) -> TensorShape:
        """The static dense shape (dimensions unknown where not constant)."""
        return TensorShape(_shape_from_tensor(self._dense_shape))

    def get_shape(self) -> TensorShape:
        return self.shape

    def eval(self, feed_dict=None, session=None):
        """The `SparseTensorValue` of this tensor in ``session`` (default session)."""
        from miniflow.graph.session import _session_for

        return _session_for(self.graph, session).run(self, feed_dict)

    def __repr__(self):
        return (
            f"SparseTensor(indices={self._indices!r}, values={self._values!r}, "
            f"dense_shape={self._dense_shape!r})"
        )


def _feed_sparse(key, value):
    """The component feeds of a sparse placeholder fed a SparseTensorValue or a tuple."""
    if isinstance(value, SparseTensor):
        raise TypeError(
            "Cannot feed a SparseTensor symbolic value; feed a "
            "tf.SparseTensorValue or an (indices, values, dense_shape) tuple."
        )
    try:
        indices, values, dense_shape = value
    except (TypeError, ValueError):
        raise TypeError(
            f"A SparseTensor is fed with a tf.SparseTensorValue or an "
            f"(indices, values, dense_shape) tuple, got {type(value).__name__}"
        ) from None
    return [(key.indices, indices), (key.values, values), (key.dense_shape, dense_shape)]


register_fetch_type(
    SparseTensor, lambda s: [s.indices, s.values, s.dense_shape], lambda v: SparseTensorValue(*v)
)
register_feed_type(SparseTensor, _feed_sparse)


def sparse_placeholder(dtype, shape=None, name=None):
    """A SparseTensor to be fed through ``feed_dict`` with a `SparseTensorValue` or an
    ``(indices, values, dense_shape)`` tuple.

    Args:
        dtype: the values' dtype.
        shape: the dense shape; its rank fixes the indices' width. A fully known shape
            becomes a constant ``dense_shape`` (it may still be fed).
        name: prefix of the three placeholders (``name/indices``, ``name/values``,
            ``name/shape``).

    Example::

        sp = tf.sparse_placeholder(tf.float32)
        sess.run(tf.sparse_reduce_sum(sp), {sp: ([[0, 1]], [2.0], [2, 3])})
    """
    dims_ = None if shape is None else TensorShape(shape).as_tuple()
    rank = None if dims_ is None else len(dims_)
    prefix = name or "Placeholder"
    with control_flow_ops.name_scope(None):
        values = array_ops.placeholder(dtype, [None], name=f"{prefix}/values")
        indices = array_ops.placeholder(dtypes.int64, [None, rank], name=f"{prefix}/indices")
        if dims_ is not None and None not in dims_:
            dense_shape = array_ops.constant(np.array(dims_, np.int64), name=f"{prefix}/shape")
        else:
            dense_shape = array_ops.placeholder(dtypes.int64, [rank], name=f"{prefix}/shape")
    return SparseTensor(indices, values, dense_shape)


def _as_sparse(sp, what="sp_input") -> SparseTensor:
    if isinstance(sp, SparseTensorValue):
        return SparseTensor.from_value(sp)
    if not isinstance(sp, SparseTensor):
        raise TypeError(f"Input {what} must be a SparseTensor, got {type(sp).__name__}")
    return sp


# ---------------------------------------------------------------------------------------
# Validation shared by the kernels.


def _check_indices(indices, dense_shape, check_order=False, values=None):
    """Raises InvalidArgumentError for out-of-bounds (or, with ``check_order``, unsorted
    or repeated) indices, naming the first bad entry as TF does, or for ``values`` whose
    length is not the number of indices."""
    idx = np.asarray(indices)
    idx = idx.reshape(-1, 1) if idx.ndim < 2 else idx
    if values is not None and np.ndim(values) != 0 and np.shape(values) != (len(idx),):
        raise errors.InvalidArgumentError(
            None,
            None,
            f"values must be a vector with one entry per row of indices: got "
            f"values of shape {list(np.shape(values))} for {len(idx)} indices",
        )
    shape = np.asarray(dense_shape).reshape(-1)
    if idx.shape[1] != shape.size:
        raise errors.InvalidArgumentError(
            None,
            None,
            f"indices have rank {idx.shape[1]} but dense_shape has {shape.size} dimensions",
        )
    bad = np.flatnonzero(np.any((idx < 0) | (idx >= shape), axis=1))
    if bad.size:
        k = int(bad[0])
        raise errors.InvalidArgumentError(
            None,
            None,
            f"indices[{k}] = {idx[k].tolist()} is out of bounds: need 0 <= "
            f"index < {shape.tolist()}",
        )
    if check_order and len(idx) > 1:
        flat = np.ravel_multi_index(tuple(idx.T), tuple(shape))
        step = np.diff(flat)
        if np.any(step <= 0):
            k = int(np.flatnonzero(step <= 0)[0]) + 1
            what = "is repeated" if step[k - 1] == 0 else "is out of order"
            raise errors.InvalidArgumentError(
                None,
                None,
                f"indices[{k}] = {idx[k].tolist()} {what}. Many sparse ops "
                "require sorted indices. Use `tf.sparse.reorder` to create a correctly "
                "ordered copy.",
            )
    return idx


def _static_rows(shape_t, adjoint):
    d = _shape_from_tensor(shape_t)
    return None if d is None or len(d) != 2 else d[1 if adjoint else 0]


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


# ---------------------------------------------------------------------------------------
# Segment sums and embedding lookups.


def _segment_infer(inputs, attrs):
    d = dims(inputs[0])
    i = dims(inputs[1])
    if (
        d is not None
        and i is not None
        and not TensorShape(d[: len(i)]).is_compatible_with(TensorShape(i))
    ):
        raise ValueError(
            f"Dimensions must be equal, but are {d[: len(i)]} and {i} (data and segment_ids)"
        )
    n = _const_value(inputs[2])
    rows = None if n is None else int(n)
    return [(None if d is None else (rows,) + d[1:], inputs[0].dtype)]


@register_op("UnsortedSegmentSum", infer=_segment_infer)
def _unsorted_segment_sum(data, segment_ids, num_segments, is_sorted=False):
    """Rows with a negative id are dropped (TF); ``is_sorted`` (tf.segment_sum) also
    checks that the ids are sorted and non-negative, with TF's messages."""
    data = np.asarray(data)
    ids = np.asarray(segment_ids).reshape(-1)
    n = int(num_segments)
    if is_sorted and ids.size:
        n = max(n, 0)
        if np.any(ids[1:] < ids[:-1]):
            raise errors.InvalidArgumentError(None, None, "segment ids are not increasing")
        if ids[0] < 0:
            raise errors.InvalidArgumentError(
                None,
                None,
                f"Segment id {int(ids[0])} out of range [0, {n}), possibly "
                "because 'segment_ids' input is not sorted.",
            )
    elif is_sorted:
        n = 0
    if ids.size and ids.max() >= n:
        k = int(np.argmax(ids >= n))
        raise errors.InvalidArgumentError(
            None, None, f"segment_ids[{k}] = {int(ids[k])} is out of range [0, {n})"
        )
    rows = data.reshape((ids.size,) + data.shape[np.ndim(segment_ids) :])
    if ids.size and ids.min() < 0:
        keep = ids >= 0
        ids, rows = ids[keep], rows[keep]
    out = np.zeros((n,) + rows.shape[1:], dtype=data.dtype)
    np.add.at(out, ids, rows)
    return out


@register_gradient("UnsortedSegmentSum")
def _unsorted_segment_sum_grad(op, grad):
    """Gathers the output gradient back to the rows; rows with a negative id get 0."""
    ids = op.inputs[1]
    known = _const_value(ids)
    if (
        op.attrs.get("is_sorted")
        or op.attrs.get("_rows")
        or (  # no negative ids
            known is not None and (np.size(known) == 0 or np.min(known) >= 0)
        )
    ):
        return [array_ops.gather(grad, ids), None, None]
    mask = math_ops.cast(math_ops.greater_equal(ids, array_ops.zeros_like(ids)), grad.dtype)
    rows = array_ops.gather(grad, math_ops.maximum(ids, array_ops.zeros_like(ids)))
    d_rows, d_ids = dims(rows), dims(ids)
    if d_rows is not None and d_ids is not None:
        for _ in range(len(d_rows) - len(d_ids)):
            mask = array_ops.expand_dims(mask, -1)
    else:
        extra = array_ops.rank(rows) - array_ops.rank(ids)
        mask = array_ops.reshape(
            mask,
            array_ops.concat(
                [
                    array_ops.shape(ids),
                    array_ops.ones(array_ops.expand_dims(extra, 0), dtypes.int32),
                ],
                0,
            ),
        )
    return [rows * mask, None, None]


def unsorted_segment_sum(data, segment_ids, num_segments, name=None):
    """``out[i] = sum(data[j] for j where segment_ids[j] == i)`` for ``i < num_segments``
    (rows no id names are zero)."""
    return apply_op(
        "UnsortedSegmentSum",
        array_ops.convert_to_tensor(data),
        array_ops.convert_to_tensor(segment_ids),
        array_ops.convert_to_tensor(num_segments),
        name=name,
    )


def _rows_sum(data, rows, n):
    """unsorted_segment_sum over the row indices of a SparseTensor (never negative, so
    the gradient is a plain gather)."""
    return apply_op("UnsortedSegmentSum", data, rows, n, _rows=True)


def segment_sum(data, segment_ids, name=None):
    """Sums of ``data`` rows over sorted ``segment_ids``; ``max(segment_ids) + 1`` rows."""
    ids = array_ops.convert_to_tensor(segment_ids)
    n = math_ops.reduce_max(ids) + 1
    return apply_op(
        "UnsortedSegmentSum",
        array_ops.convert_to_tensor(data),
        ids,
        n,
        is_sorted=True,
        name=name or "SegmentSum",
    )


def _lookup(params, ids, max_norm=None):
    """Rows ``params[ids]`` (L2-clipped to ``max_norm``); the gradient with respect to
    ``params`` is an `IndexedSlices` over the looked-up rows. One partition only: a list
    of several partitioned tables is refused."""
    if isinstance(params, list | tuple):
        if len(params) != 1:
            raise NotImplementedError(
                "embedding_lookup_sparse over several partitioned "
                "params is not supported; concatenate them into one "
                "variable"
            )
        params = params[0]
    rows = array_ops.gather(params, ids)
    if max_norm is not None:
        rank = len(dims(rows)) if dims(rows) is not None else None
        if rank is None:
            raise ValueError(
                "embedding_lookup_sparse with max_norm needs the rank of params "
                "known when the graph is built"
            )
        rows = clip_ops.clip_by_norm(rows, max_norm, axes=list(range(1, rank)))
    return rows


def embedding_lookup_sparse(
    params, sp_ids, sp_weights, partition_strategy="mod", name=None, combiner=None, max_norm=None
):
    """Per row of the rank-2 ``sp_ids``, the combination of the embeddings of its ids.

    With weights w (``sp_weights.values``, or 1 when ``sp_weights`` is None) the row's
    result is ``sum(w * e)`` for ``combiner="sum"``, ``sum(w * e) / sum(w)`` for
    ``"mean"`` (the default) and ``sum(w * e) / sqrt(sum(w**2))`` for ``"sqrtn"``. The
    result has ``sp_ids.dense_shape[0]`` rows; rows without ids are zero. The gradient
    with respect to ``params`` is an `IndexedSlices` over the looked-up ids.

    Args:
        params: the embedding table, a tensor or variable [vocabulary, dim...] (or a
            one-element list of one; several partitions are not supported).
        sp_ids: a rank-2 SparseTensor of int64 ids, one row per output row.
        sp_weights: a SparseTensor of weights with the same indices, or None.
        partition_strategy: accepted for TF1 compatibility (one partition only).
        name: the ops' name scope.
        combiner: "sum", "mean" or "sqrtn".
        max_norm: if set, each looked-up embedding is L2-clipped to it first.

    Raises:
        ValueError: ``combiner`` is not one of "sum", "mean", "sqrtn".
        TypeError: ``sp_ids`` or ``sp_weights`` is not a SparseTensor.

    Example::

        emb = tf.nn.embedding_lookup_sparse(table, sp_ids, None, combiner="sum")
    """
    combiner = combiner or "mean"
    if combiner not in ("sum", "mean", "sqrtn"):
        raise ValueError("combiner must be one of 'mean', 'sqrtn' or 'sum'")
    sp_ids = _as_sparse(sp_ids, "sp_ids")
    if sp_weights is not None:
        sp_weights = _as_sparse(sp_weights, "sp_weights")
    with control_flow_ops.name_scope(name, "embedding_lookup_sparse"):
        segments = array_ops.gather(sp_ids.indices, 0, axis=1)
        n_rows = array_ops.gather(sp_ids.dense_shape, 0)
        emb = _lookup(params, sp_ids.values, max_norm=max_norm)
        if sp_weights is None:
            weights = array_ops.ones_like(sp_ids.values, dtype=emb.dtype)
        else:
            weights = array_ops.cast(sp_weights.values, emb.dtype)
        # One weight per looked-up row, broadcast across the embedding's dimensions.
        row_rank = len(dims(emb)) - 1 if dims(emb) is not None else 1
        w = array_ops.reshape(weights, [-1] + [1] * row_rank)
        summed = _rows_sum(emb * w, segments, n_rows)
        if combiner == "sum":
            return summed
        total = _rows_sum(weights if combiner == "mean" else weights * weights, segments, n_rows)
        # Empty rows: 0 / 0 would be NaN; divide them by 1 (their sum is 0).
        denom = array_ops.where(math_ops.equal(total, 0), array_ops.ones_like(total), total)
        if combiner == "sqrtn":
            denom = math_ops.sqrt(denom)
        return summed / array_ops.reshape(denom, [-1] + [1] * row_rank)
