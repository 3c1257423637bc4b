"""The issue-13 sparse ops (`tf.sparse.*` and the `tf.sparse_*` aliases) against values
obtained from TensorFlow 2.21 (`tf.compat.v1`) for the same inputs, in graph and eager
mode, plus static shapes and TF's error classes."""

from __future__ import annotations

import numpy as np
import pytest

import miniflow as tf

ST = tf.SparseTensor


def _run(t):
    with tf.Session() as sess:
        return sess.run(t)


def _check(sp_value, indices, values, shape):
    np.testing.assert_array_equal(
        np.asarray(sp_value.indices).reshape(-1, len(shape)),
        np.asarray(indices).reshape(-1, len(shape)),
    )
    np.testing.assert_allclose(sp_value.values, values, rtol=1e-6)
    np.testing.assert_array_equal(sp_value.dense_shape, shape)
    assert np.asarray(sp_value.indices).dtype == np.int64
    assert np.asarray(sp_value.dense_shape).dtype == np.int64


def _sp():
    return ST([[0, 0], [0, 2], [2, 1]], [-1.0, -5.0, 3.0], [3, 3])


def test_reductions_match_tf():
    sp = _sp()
    got = _run(
        [
            tf.sparse.reduce_max(sp, 1),
            tf.sparse.reduce_max(sp),
            tf.sparse.reduce_max_sparse(sp, 1),
            tf.sparse.reduce_sum_sparse(sp, 0, keepdims=True),
            tf.sparse_reduce_max(ST(tf.zeros([0, 2], tf.int64), tf.zeros([0]), [2, 2]), 1),
        ]
    )
    np.testing.assert_array_equal(got[0], [-1.0, 0.0, 3.0])  # implicit zeros not counted
    assert got[1] == 3.0
    _check(got[2], [[0], [2]], [-1.0, 3.0], [3])
    _check(got[3], [[0, 0], [0, 1], [0, 2]], [-1.0, 3.0, -5.0], [1, 3])
    np.testing.assert_array_equal(got[4], [0.0, 0.0])
    assert tf.sparse.reduce_max(sp, 1).shape.as_list() == [3]
    assert tf.sparse.reduce_max(sp, 0, keepdims=True).shape.as_list() == [1, 3]


def test_fill_empty_rows_maximum_concat_softmax_match_tf():
    filled, empty = tf.sparse.fill_empty_rows(
        ST([[2, 1], [0, 0], [0, 2]], [1.0, 2.0, 3.0], [4, 3]), -1.0
    )
    got = _run(
        [
            filled,
            empty,
            tf.sparse.maximum(
                ST([[0, 0], [1, 1]], [-1.0, 2.0], [2, 2]),
                ST([[0, 0], [0, 1]], [-3.0, -4.0], [2, 2]),
            ),
            tf.sparse_minimum(
                ST([[0, 0], [1, 1]], [-1.0, 2.0], [2, 2]),
                ST([[0, 0], [0, 1]], [-3.0, -4.0], [2, 2]),
            ),
            tf.sparse.concat(
                1,
                [
                    ST([[0, 0], [1, 1]], [1.0, 2.0], [2, 2]),
                    ST([[0, 0], [1, 2]], [3.0, 4.0], [2, 3]),
                ],
            ),
            tf.sparse.softmax(ST([[0, 0], [0, 2], [1, 1]], [1.0, 2.0, 3.0], [2, 3])),
        ]
    )
    _check(got[0], [[0, 0], [0, 2], [1, 0], [2, 1], [3, 0]], [2.0, 3.0, -1.0, 1.0, -1.0], [4, 3])
    np.testing.assert_array_equal(got[1], [False, True, False, True])
    _check(got[2], [[0, 0], [0, 1], [1, 1]], [-1.0, 0.0, 2.0], [2, 2])
    _check(got[3], [[0, 0], [0, 1], [1, 1]], [-3.0, -4.0, 0.0], [2, 2])
    _check(got[4], [[0, 0], [0, 2], [1, 1], [1, 4]], [1.0, 3.0, 2.0, 4.0], [2, 5])
    _check(got[5], [[0, 0], [0, 2], [1, 1]], [0.26894143, 0.7310586, 1.0], [2, 3])


def test_segments_and_bincount_match_tf():
    data = [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]
    got = _run(
        [
            tf.sparse.segment_mean(data, [0, 2, 1], [0, 0, 2]),
            tf.sparse.segment_sqrt_n(data, [0, 2, 1], [0, 0, 2], num_segments=4),
            tf.sparse_segment_sum(data, [0, 1], [0, 1]),
            tf.sparse.bincount([[1, 2, 2], [0, 5, 1]], axis=-1),
            tf.sparse.bincount(
                [[1, 2, 2], [0, 5, 1]], weights=[[0.5, 1.0, 2.0], [1.0, 1.0, 1.0]], minlength=7
            ),
            tf.sparse.bincount(
                ST([[0, 0], [1, 2]], [3, 3], [2, 4]), axis=-1, binary_output=True, maxlength=3
            ),
            tf.sparse.bincount(ST([[0, 0], [1, 2]], [3, 1], [2, 4]), axis=-1, binary_output=True),
        ]
    )
    np.testing.assert_allclose(got[0], [[3.0, 4.0], [0.0, 0.0], [3.0, 4.0]])
    np.testing.assert_allclose(
        got[1], [[4.2426405, 5.656854], [0, 0], [3.0, 4.0], [0, 0]], rtol=1e-6
    )
    np.testing.assert_allclose(got[2], [[1.0, 2.0], [3.0, 4.0]])
    _check(got[3], [[0, 1], [0, 2], [1, 0], [1, 1], [1, 5]], [1, 2, 1, 1, 1], [2, 6])
    _check(got[4], [[0], [1], [2], [5]], [1.0, 1.5, 3.0, 1.0], [7])
    _check(got[5], np.zeros((0, 2)), [], [2, 3])
    _check(got[6], [[0, 3], [1, 1]], [1, 1], [2, 4])
    assert got[3].values.dtype == np.int32  # TF: the values' dtype (int32 here)


def test_shape_manipulation_matches_tf():
    sp = ST([[0, 1], [1, 0], [1, 2]], [1.0, 2.0, 3.0], [2, 3])
    pieces = tf.sparse.split(
        sp_input=ST([[0, 0], [0, 4], [1, 2], [1, 4]], [1.0, 2.0, 3.0, 4.0], [2, 5]),
        num_split=2,
        axis=1,
    )
    got = _run(
        [
            tf.sparse.eye(2, 3),
            pieces[0],
            pieces[1],
            tf.sparse.to_indicator(ST([[0, 0], [0, 1], [1, 0]], [2, 0, 3], [2, 2]), 4),
            tf.sparse.transpose(sp),
            tf.sparse_reshape(sp, [3, -1]),
            tf.sparse.reset_shape(ST([[0, 1], [1, 0]], [1.0, 2.0], [4, 5])),
            tf.sparse_slice(sp, [1, 1], [5, 5]),
            tf.sparse.expand_dims(sp, 1),
            tf.sparse.retain(sp, [True, False, True]),
            tf.sparse_reset_shape(sp, [4, 3]),
        ]
    )
    _check(got[0], [[0, 0], [1, 1]], [1.0, 1.0], [2, 3])
    _check(got[1], [[0, 0], [1, 2]], [1.0, 3.0], [2, 3])
    _check(got[2], [[0, 1], [1, 1]], [2.0, 4.0], [2, 2])
    np.testing.assert_array_equal(got[3], [[True, False, True, False], [False, False, False, True]])
    _check(got[4], [[0, 1], [1, 0], [2, 1]], [2.0, 1.0, 3.0], [3, 2])
    _check(got[5], [[0, 1], [1, 1], [2, 1]], [1.0, 2.0, 3.0], [3, 2])
    _check(got[6], [[0, 1], [1, 0]], [1.0, 2.0], [2, 2])
    _check(got[7], [[0, 1]], [3.0], [1, 2])
    _check(got[8], [[0, 0, 1], [1, 0, 0], [1, 0, 2]], [1.0, 2.0, 3.0], [2, 1, 3])
    _check(got[9], [[0, 1], [1, 2]], [1.0, 3.0], [2, 3])
    _check(got[10], [[0, 1], [1, 0], [1, 2]], [1.0, 2.0, 3.0], [4, 3])


def test_merge_and_mask():
    ids = ST([[0, 0], [0, 1], [1, 0]], tf.constant([4, 1, 2], tf.int64), [2, 2])
    vals = ST([[0, 0], [0, 1], [1, 0]], [10.0, 20.0, 30.0], [2, 2])
    a = tf.IndexedSlices(tf.constant([[1.0, 1.0], [2.0, 2.0], [3.0, 3.0]]), tf.constant([0, 3, 5]))
    merged, masked = _run([tf.sparse.merge(ids, vals, 5), tf.sparse_mask(a, [3])])
    _check(merged, [[0, 1], [0, 4], [1, 2]], [20.0, 10.0, 30.0], [2, 5])
    np.testing.assert_array_equal(masked.indices, [0, 5])
    np.testing.assert_array_equal(masked.values, [[1.0, 1.0], [3.0, 3.0]])


def test_eager_mode():
    with tf.eager_mode():
        sp = _sp()
        np.testing.assert_array_equal(tf.sparse.reduce_max(sp, 1).numpy(), [-1.0, 0.0, 3.0])
        parts = tf.sparse.split(sp_input=sp, num_split=2, axis=0)
        assert [p.values.numpy().tolist() for p in parts] == [[-1.0, -5.0], [3.0]]
        assert tf.sparse.transpose(sp).indices.numpy().tolist() == [[0, 0], [1, 2], [2, 0]]
        np.testing.assert_allclose(
            tf.sparse.softmax(sp).values.numpy(), [0.98201376, 0.01798621, 1.0], rtol=1e-6
        )
        assert tf.sparse.fill_empty_rows(sp, 0.0)[1].numpy().tolist() == [False, True, False]


def test_errors():
    sp = ST([[0, 1], [1, 0]], [1.0, 2.0], [2, 3])
    with pytest.raises(ValueError, match="Cannot reshape"):
        tf.sparse.reshape(sp, [4, 2])
    with pytest.raises(tf.errors.InvalidArgumentError, match="concat"):
        _run(tf.sparse.concat(1, [sp, ST([[0, 0]], [1.0], [3, 3])]))
    with pytest.raises(ValueError, match="new_shape should have dimension sizes"):
        tf.sparse.reset_shape(sp, [1, 5])  # both shapes known: TF checks statically
    new_shape = tf.placeholder(tf.int64, [2])
    with pytest.raises(tf.errors.InvalidArgumentError, match="at least"):
        with tf.Session() as sess:
            sess.run(tf.sparse.reset_shape(sp, new_shape).dense_shape, {new_shape: [1, 5]})
    with pytest.raises(tf.errors.InvalidArgumentError, match="out of bounds"):
        _run(tf.sparse.fill_empty_rows(ST([[5, 0]], [1.0], [2, 3]), 0.0)[0])
    with pytest.raises(tf.errors.InvalidArgumentError, match="same ranks/shapes"):
        _run(tf.sparse.maximum(sp, ST([[0, 0]], [1.0], [3, 3])))
    with pytest.raises(TypeError, match="SparseTensor"):
        tf.sparse.transpose([[1.0]])
    with pytest.raises(ValueError, match="Keyword"):
        tf.sparse.split(sp, 2, 1)
    with pytest.raises(ValueError, match="axis"):
        tf.sparse.bincount([1, 2], axis=1)
    with pytest.raises(tf.errors.InvalidArgumentError, match="non-negative"):
        _run(tf.sparse.bincount([1, -2]).values)


def test_sparse_matmul_is_a_dense_matmul():
    a, b = np.arange(6.0).reshape(2, 3), np.arange(6.0).reshape(3, 2)
    out = _run(tf.sparse_matmul(a, b, a_is_sparse=True))
    np.testing.assert_allclose(out, a @ b)


def test_cross_and_cross_hashed_match_tf():
    a = ST([[0, 0], [0, 1], [1, 0]], [b"a", b"b", b"c"], [2, 2])
    b = ST([[0, 0], [0, 1], [1, 0]], [b"x", b"y", b"z"], [2, 3])
    ints = tf.constant([[3], [4]], tf.int64)
    empty = ST(tf.zeros([0, 2], tf.int64), tf.constant([], tf.string), [2, 2])
    got = _run(
        [
            tf.sparse.cross([a, b, tf.constant([["u"], ["v"]])]),
            tf.sparse.cross([a, ints], separator="#"),
            tf.sparse.cross_hashed([a, b]),
            tf.sparse.cross_hashed([a, ints], num_buckets=1000),
            tf.sparse.cross_hashed([a, b], hash_key=7, num_buckets=100),
            tf.sparse.cross([a, empty]),
        ]
    )
    assert got[0].values.tolist() == [
        b"a_X_x_X_u",
        b"a_X_y_X_u",
        b"b_X_x_X_u",
        b"b_X_y_X_u",
        b"c_X_z_X_v",
    ]
    np.testing.assert_array_equal(got[0].indices, [[0, 0], [0, 1], [0, 2], [0, 3], [1, 0]])
    np.testing.assert_array_equal(got[0].dense_shape, [2, 4])
    assert got[1].values.tolist() == [b"a#3", b"b#3", b"c#4"]
    _check(
        got[2],
        [[0, 0], [0, 1], [0, 2], [0, 3], [1, 0]],
        [
            1484974617627318892,
            3920818148696658747,
            3552177129620670004,
            5470948523078679805,
            5890530401397985473,
        ],
        [2, 4],
    )
    np.testing.assert_array_equal(got[3].values, [486, 964, 322])
    np.testing.assert_array_equal(got[4].values, [8, 37, 15, 13, 73])
    assert np.size(got[5].values) == 0 and got[5].dense_shape.tolist() == [2, 0]
    with tf.eager_mode():
        a = ST([[0, 0], [0, 1], [1, 0]], [b"a", b"b", b"c"], [2, 2])
        h = tf.sparse.cross_hashed([a]).values.numpy()
    np.testing.assert_array_equal(
        h, [3550520439517529108, 5701958020731327761, 5287514571041673476]
    )


def test_static_shapes_and_dtypes_agree_with_the_values():
    from tests.ops.helpers import check_static

    sp = ST([[0, 1], [1, 0], [1, 2]], [1.0, 2.0, 3.0], [2, 3])
    outs = [
        tf.sparse.eye(2, 3),
        tf.sparse.transpose(sp),
        tf.sparse_reshape(sp, [3, -1]),
        tf.sparse.reset_shape(sp),
        tf.sparse_slice(sp, [1, 1], [5, 5]),
        tf.sparse.expand_dims(sp, 1),
        tf.sparse.retain(sp, [True, False, True]),
        tf.sparse.concat(0, [sp, sp]),
        tf.sparse.fill_empty_rows(sp, 0.0)[0],
        tf.sparse.maximum(sp, sp),
        tf.sparse.reduce_sum_sparse(sp, 1),
        tf.sparse.reduce_max_sparse(sp, 1, keepdims=True),
        tf.sparse.softmax(sp),
        tf.sparse.bincount([1, 2]),
        tf.sparse.cross_hashed([tf.constant([["a"]])]),
        *tf.sparse.split(sp_input=sp, num_split=2, axis=1),
    ]
    dense = [
        tf.sparse.reduce_max(sp, 1),
        tf.sparse.to_indicator(ST([[0, 0]], [1], [1, 1]), 3),
        tf.sparse.segment_sum([[1.0]], [0], [0]),
    ]
    values, dense_values = _run([outs, dense])
    for sp_t, v in zip(outs, values):
        for t, x in zip([sp_t.indices, sp_t.values, sp_t.dense_shape], v):
            check_static(t, x)
    for t, x in zip(dense, dense_values):
        check_static(t, x)
