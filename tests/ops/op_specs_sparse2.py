"""Gradient rows for the issue-13 sparse, random and dtype ops (finite differences
through `miniflow.testing.check_grads`, run by `test_op_gradients.py`).

These ops add no gradient rule of their own: each is an index-only kernel (named by the
row's ``op_type``, which the built graph must contain) plus differentiable compositions
(`gather`, segment reductions, `maximum`, casts). The rows check that the composed
gradients with respect to the values, dense operands and distribution parameters are
right, over fixed sparsity patterns with random values.
"""

from __future__ import annotations

from hypothesis import strategies as st

import miniflow as tf
from tests.ops.op_specs import Case, OpSpec, away_from_zero, positive, real

IDX = [[0, 1], [1, 0], [1, 3], [2, 2]]  # a 3 x 4 pattern, row-major
IDX3 = [[0, 0, 1], [0, 2, 0], [1, 1, 1], [1, 2, 0], [1, 2, 1]]  # 2 x 3 x 2


def _sp(values, idx=IDX, shape=(3, 4)):
    return tf.SparseTensor(idx, values, list(shape))


def _fixed(*shapes):
    return st.just(Case(tuple(shapes)))


def _split_values(v):
    pieces = tf.sparse.split(sp_input=_sp(v), num_split=3, axis=1)
    return tf.concat([p.values for p in pieces], 0)


def _mask_values(v):
    a = tf.IndexedSlices(v, tf.constant([0, 3, 5]), tf.constant([6, 2]))
    return tf.sparse_mask(a, [3]).values


SPECS = [
    OpSpec(
        "SparseConcatPlan",
        lambda a, b: tf.sparse.concat(1, [_sp(a), _sp(b, [[0, 0], [2, 1]], (3, 2))]).values,
        _fixed((4,), (2,)),
        real,
    ),
    OpSpec(
        "SparseConcatPlan",
        lambda a, b: tf.sparse.to_dense(
            tf.sparse_concat(0, [_sp(a), _sp(b, [[0, 4]], (1, 5))], expand_nonconcat_dim=True)
        ),
        _fixed((4,), (1,)),
        real,
        label="expand",
    ),
    OpSpec(
        "SparseReshape",
        lambda v: tf.sparse.to_dense(tf.sparse.reshape(_sp(v), [2, -1])),
        _fixed((4,)),
        real,
    ),
    OpSpec(
        "SparseReorderPermutation",
        lambda v: tf.sparse.transpose(_sp(v)).values,
        _fixed((4,)),
        real,
        label="transpose",
    ),
    OpSpec(
        "SparseReorderPermutation",
        lambda v: tf.sparse.transpose(_sp(v, IDX3, (2, 3, 2)), [2, 0, 1]).values,
        _fixed((5,)),
        real,
        label="transpose3",
    ),
    OpSpec(
        "SparseSlicePlan",
        lambda v: tf.sparse.slice(_sp(v), [1, 0], [2, 3]).values,
        _fixed((4,)),
        real,
    ),
    OpSpec("SparseSlicePlan", _split_values, _fixed((4,)), real, label="split"),
    OpSpec(
        "Where",
        lambda v: tf.sparse.retain(_sp(v), [True, False, True, True]).values,
        _fixed((4,)),
        real,
        label="retain",
    ),
    OpSpec(
        "SparseFillEmptyRowsPlan",
        lambda v, d: tf.sparse.fill_empty_rows(_sp(v, [[0, 1], [3, 2]], (5, 4)), d)[0].values,
        _fixed((2,), ()),
        real,
    ),
    OpSpec(
        "SparseUnionPlan",
        lambda a, b: tf.sparse.maximum(_sp(a), _sp(b, [[0, 1], [2, 3]])).values,
        _fixed((4,), (2,)),
        away_from_zero,
        label="maximum",
    ),
    OpSpec(
        "SparseUnionPlan",
        lambda a, b: tf.sparse.minimum(_sp(a), _sp(b, [[1, 0], [0, 0]])).values,
        _fixed((4,), (2,)),
        away_from_zero,
        label="minimum",
    ),
    OpSpec(
        "SparseReduceGroups",
        lambda v: tf.sparse.reduce_sum_sparse(_sp(v, IDX3, (2, 3, 2)), axis=[0, 2]).values,
        _fixed((5,)),
        real,
        label="sum",
    ),
    OpSpec(
        "SparseReduceGroups",
        lambda v: tf.sparse.reduce_max(_sp(v, IDX3, (2, 3, 2)), axis=2, keepdims=True),
        _fixed((5,)),
        real,
        label="max",
    ),
    OpSpec(
        "SparseReduceGroups",
        lambda v: tf.sparse.reduce_max_sparse(_sp(v), axis=0).values,
        _fixed((4,)),
        real,
        label="max_sparse",
    ),
    OpSpec(
        "SparseReduceGroups",
        lambda v: tf.sparse.softmax(_sp(v, [[0, 0], [0, 2], [0, 3], [2, 1], [2, 2]])).values,
        _fixed((5,)),
        real,
        label="softmax",
    ),
    OpSpec(
        "SparseReduceGroups",
        lambda v: tf.sparse.softmax(_sp(v, IDX3, (2, 3, 2))).values,
        _fixed((5,)),
        real,
        label="softmax3",
    ),
    OpSpec(
        "GatherV2",
        lambda d: tf.sparse.segment_sum(d, [0, 2, 2, 1], [0, 0, 1, 3]),
        _fixed((3, 2)),
        real,
        label="segment_sum",
    ),
    OpSpec(
        "GatherV2",
        lambda d: tf.sparse_segment_mean(d, [0, 2, 1], [0, 0, 2], num_segments=4),
        _fixed((3, 2)),
        real,
        label="segment_mean",
    ),
    OpSpec(
        "GatherV2",
        lambda d: tf.sparse.segment_sqrt_n(d, [1, 1, 0], [0, 1, 1]),
        _fixed((2, 3)),
        real,
        label="segment_sqrt_n",
    ),
    OpSpec(
        "SparseReorderPermutation",
        lambda v: (
            tf.sparse.merge(
                tf.SparseTensor([[0, 0], [0, 1], [1, 0]], tf.constant([4, 1, 2], tf.int64), [2, 2]),
                tf.SparseTensor([[0, 0], [0, 1], [1, 0]], v, [2, 2]),
                5,
            ).values
        ),
        _fixed((3,)),
        real,
        label="merge",
    ),
    OpSpec("ListDiffPositions", _mask_values, _fixed((3, 2)), real, label="mask"),
    OpSpec(
        "ConcatV2",
        lambda v: tf.sparse.to_dense(tf.sparse.expand_dims(_sp(v), 1)),
        _fixed((4,)),
        real,
        label="expand_dims",
    ),
    OpSpec(
        "SparseResetShapeCheck",
        lambda v: tf.sparse.to_dense(tf.sparse.reset_shape(_sp(v), [4, 5])),
        _fixed((4,)),
        real,
    ),
    OpSpec(
        "StatelessRandomUniform",
        lambda lo, w: tf.random.stateless_uniform(
            [3], [1, 2], minval=lo, maxval=lo + w, dtype=tf.float64
        ),
        _fixed((), ()),
        positive,
    ),
    OpSpec(
        "StatelessRandomNormal",
        lambda m, s: tf.random.stateless_normal([2, 2], [3, 4], mean=m, stddev=s, dtype=tf.float64),
        _fixed((2,), ()),
        positive,
    ),
    OpSpec(
        "StatelessRandomGammaV2",
        lambda b: tf.random.stateless_gamma([4], [5, 6], alpha=2.0, beta=b, dtype=tf.float64),
        _fixed((4,)),
        positive,
        label="beta",
    ),
    OpSpec(
        "Maximum",
        lambda x: tf.saturate_cast(x, tf.float32),
        _fixed((3,)),
        real,
        order=1,
        tol=dict(eps=1e-3, rtol=1e-3, atol=1e-3),
        label="saturate_cast",
    ),
]

# No new op type has a gradient rule of its own (see the module docstring).
COVERED_OP_TYPES: frozenset = frozenset()
MAX_EXAMPLES = 4
SHAPE_MODES = ("static", "partial")
