"""Finite-difference gradient rows for the sparse ops (`miniflow.ops.sparse_ops`).

Each row builds the op from float64 inputs (the differentiable operands: values, dense
operands, weights) around fixed sparsity patterns; `test_op_gradients_sparse.py` checks
`tf.gradients` of every row against central differences, and that every differentiable
sparse op type appears in some row.
"""

from typing import NamedTuple

import numpy as np

import miniflow as tf


class Spec(NamedTuple):
    name: str
    fn: object  # fn(*tensors) -> tensor
    args: list  # float64 arrays


rng = np.random.RandomState(42)
IDX = [[0, 1], [1, 0], [1, 3], [2, 2]]  # a 3 x 4 pattern, row-major
IDX3 = [[0, 0, 1], [0, 2, 0], [1, 1, 1], [1, 2, 0], [1, 2, 1]]  # 2 x 3 x 2


def _sp(values, idx=IDX, shape=(3, 4)):
    return tf.SparseTensor(idx, values, list(shape))


def _emb_spec(combiner, weighted):
    """Row 0 looks up ids 1, 4, 1 (a repeat), row 1 and row 3 nothing, row 2 id 2."""

    def fn(params, w):
        ids = tf.SparseTensor(
            [[0, 0], [0, 1], [0, 2], [2, 0]], tf.constant([1, 4, 1, 2], tf.int64), [4, 3]
        )
        weights = tf.SparseTensor(ids.indices, w, ids.dense_shape) if weighted else None
        out = tf.nn.embedding_lookup_sparse(params, ids, weights, combiner=combiner)
        return out + 0.0 * tf.reduce_sum(w)  # keeps w connected when unweighted

    return Spec(
        f"embedding_lookup_sparse_{combiner}_{'w' if weighted else 'unw'}",
        fn,
        [rng.randn(5, 3), rng.uniform(0.5, 1.5, 4)],
    )


SPECS = [
    Spec(
        "spmm",
        lambda v, b: tf.sparse_tensor_dense_matmul(_sp(v), b),
        [rng.randn(4), rng.randn(4, 2)],
    ),
    Spec(
        "spmm_adjoint_a",
        lambda v, b: tf.sparse_tensor_dense_matmul(_sp(v), b, adjoint_a=True),
        [rng.randn(4), rng.randn(3, 2)],
    ),
    Spec(
        "spmm_adjoint_b",
        lambda v, b: tf.sparse_tensor_dense_matmul(_sp(v), b, adjoint_b=True),
        [rng.randn(4), rng.randn(5, 4)],
    ),
    Spec(
        "spmm_adjoint_both",
        lambda v, b: tf.sparse_tensor_dense_matmul(_sp(v), b, adjoint_a=True, adjoint_b=True),
        [rng.randn(4), rng.randn(2, 3)],
    ),
    Spec("sparse_reduce_sum_all", lambda v: tf.sparse_reduce_sum(_sp(v)), [rng.randn(4)]),
    Spec("sparse_reduce_sum_axis1", lambda v: tf.sparse_reduce_sum(_sp(v), axis=1), [rng.randn(4)]),
    Spec(
        "sparse_reduce_sum_3d_keepdims",
        lambda v: tf.sparse_reduce_sum(_sp(v, IDX3, (2, 3, 2)), axis=[0, 2], keepdims=True),
        [rng.randn(5)],
    ),
    Spec(
        "sparse_to_dense",
        lambda v, d: tf.sparse_to_dense(IDX, [3, 4], v, d),
        [rng.randn(4), rng.randn()],
    ),
    Spec(
        "sparse_to_dense_scalar_value",
        lambda v: tf.sparse_to_dense([0, 2], [3], v),
        [np.array(0.7)],
    ),
    Spec("sparse_tensor_to_dense", lambda v: tf.sparse.to_dense(_sp(v)), [rng.randn(4)]),
    Spec(
        "sparse_add_sparse",
        lambda a, b: tf.sparse_add(_sp(a), _sp(b, [[0, 1], [2, 3]])).values,
        [rng.randn(4), rng.randn(2)],
    ),
    Spec(
        "sparse_add_dense", lambda a, d: tf.sparse_add(_sp(a), d), [rng.randn(4), rng.randn(3, 4)]
    ),
    Spec(
        "sparse_from_dense_values",
        lambda d: tf.sparse.from_dense(d).values,
        [rng.uniform(0.5, 2.0, (3, 2))],
    ),
    Spec("sparse_scatter_add_to_dense", lambda c: _scatter_of(c), [rng.randn(6)]),
    Spec(
        "sparse_reorder_values",
        lambda v: tf.sparse.reorder(_sp(v, [[2, 2], [0, 1], [1, 3], [1, 0]])).values,
        [rng.randn(4)],
    ),
    Spec(
        "unsorted_segment_sum",
        lambda d: tf.unsorted_segment_sum(d, [0, 2, 0, 1], 4),
        [rng.randn(4, 3)],
    ),
    Spec("segment_sum", lambda d: tf.segment_sum(d, [0, 0, 1, 3]), [rng.randn(4, 2)]),
    Spec(
        "embedding_lookup_sparse_max_norm",
        lambda p: tf.nn.embedding_lookup_sparse(
            p,
            tf.SparseTensor([[0, 0], [0, 1], [1, 0]], tf.constant([2, 0, 2], tf.int64), [2, 2]),
            None,
            combiner="sum",
            max_norm=1.0,
        ),
        [rng.randn(3, 2) * 2],
    ),
] + [_emb_spec(c, w) for c in ("sum", "mean", "sqrtn") for w in (False, True)]


def _scatter_of(c):
    """The gradient of from_dense(x).values, as a function of the values' cotangent c:
    a SparseScatterAddToDense of c."""
    x = tf.constant(np.arange(1.0, 7.0).reshape(2, 3))
    (g,) = tf.gradients(tf.reduce_sum(tf.sparse.from_dense(x).values * c), [x])
    return g


# Differentiable op types defined in sparse_ops; each must appear in a row's graph.
SPARSE_OP_TYPES = {
    "SparseTensorDenseMatMul",
    "SparseReduceSum",
    "SparseToDense",
    "SparseAdd",
    "SparseTensorDenseAdd",
    "SparseValuesFromDense",
    "SparseScatterAddToDense",
    "UnsortedSegmentSum",
}
COVERED_OP_TYPES = SPARSE_OP_TYPES
