"""`tf.sets` and `tf.bitwise`, graph and eager. Expected values were obtained from
TensorFlow 2.21 (`tf.compat.v1`, graph mode)."""

import numpy as np
import pytest

import miniflow as tf
from tests.ops.helpers import graph_and_eager as both

A = [[1, 2, 3, 3], [4, 5, 6, 7]]
B = [[1, 3, 9], [5, 4, 4]]


def _sparse(v):
    return v.indices.tolist(), v.values.tolist(), v.dense_shape.tolist()


def test_dense_dense_set_operations():
    assert _sparse(both(lambda: tf.sets.set_intersection(A, B))) == (
        [[0, 0], [0, 1], [1, 0], [1, 1]],
        [1, 3, 4, 5],
        [2, 2],
    )
    assert _sparse(both(lambda: tf.sets.union(A, B))) == (
        [[0, 0], [0, 1], [0, 2], [0, 3], [1, 0], [1, 1], [1, 2], [1, 3]],
        [1, 2, 3, 9, 4, 5, 6, 7],
        [2, 4],
    )
    assert _sparse(both(lambda: tf.sets.set_difference(A, B))) == (
        [[0, 0], [1, 0], [1, 1]],
        [2, 6, 7],
        [2, 2],
    )
    assert _sparse(both(lambda: tf.sets.difference(A, B, aminusb=False))) == ([[0, 0]], [9], [2, 1])
    a3 = [[[1, 2], [2, 2]], [[3, 3], [0, 1]]]
    assert _sparse(both(lambda: tf.sets.intersection(a3, a3))) == (
        [[0, 0, 0], [0, 0, 1], [0, 1, 0], [1, 0, 0], [1, 1, 0], [1, 1, 1]],
        [1, 2, 2, 3, 0, 1],
        [2, 2, 2],
    )
    got = both(lambda: tf.sets.union([["a", "b"], ["c", "a"]], [["b", "z"], ["q", "a"]]))
    assert _sparse(got) == (
        [[0, 0], [0, 1], [0, 2], [1, 0], [1, 1], [1, 2]],
        [b"a", b"b", b"z", b"a", b"c", b"q"],
        [2, 3],
    )
    empty = both(lambda: tf.sets.intersection([[1, 2]], [[3, 4]]))
    assert empty.indices.shape == (0, 2) and empty.dense_shape.tolist() == [1, 0]
    assert empty.values.dtype == np.int32


def test_sparse_operands_and_set_size():
    def sp():
        return tf.SparseTensor([[0, 0], [0, 1], [1, 0]], [3, 1, 2], [2, 3])

    want = (
        [[0, 0], [0, 1], [0, 2], [1, 0], [1, 1], [1, 2], [1, 3], [1, 4]],
        [1, 2, 3, 2, 4, 5, 6, 7],
        [2, 5],
    )
    assert _sparse(both(lambda: tf.sets.union(A, sp()))) == want
    assert _sparse(both(lambda: tf.sets.union(sp(), A))) == want  # flipped, as TF does
    assert _sparse(both(lambda: tf.sets.intersection(sp(), sp()))) == (
        [[0, 0], [0, 1], [1, 0]],
        [1, 3, 2],
        [2, 2],
    )
    assert both(lambda: tf.sets.set_size(tf.sparse.from_dense(tf.constant(A)))).tolist() == [3, 4]
    unsorted = tf.SparseTensor([[0, 1], [0, 0], [1, 0]], [3, 1, 2], [2, 3])
    with tf.Session() as sess:
        with pytest.raises(tf.errors.InvalidArgumentError, match="out of order"):
            sess.run(tf.sets.set_size(unsorted))
        assert sess.run(tf.sets.size(unsorted, validate_indices=False)).tolist() == [2, 1]


def test_set_errors_at_construction():
    with pytest.raises(TypeError, match="dtype"):
        tf.sets.union(tf.constant([[1.0]]), tf.constant([[1.0]]))
    with pytest.raises(ValueError, match="rank 2"):
        tf.sets.union(tf.constant([1, 2]), tf.constant([1, 2]))
    with pytest.raises(ValueError, match="must be equal"):
        tf.sets.union(tf.constant([[1, 2]]), tf.constant([[1], [2]]))
    with pytest.raises(TypeError, match="SparseTensor"):
        tf.sets.set_size(tf.constant([[1, 2]]))


def test_bitwise():
    x = np.array([1, -8, -1, 7], np.int8)
    y = np.array([0, 3, 8, 9], np.int8)
    assert both(lambda: tf.bitwise.left_shift(x, y)).tolist() == [1, -64, -128, -128]
    assert both(lambda: tf.bitwise.right_shift(x, y)).tolist() == [1, -1, -1, 0]
    assert both(lambda: tf.bitwise.left_shift([5, 5], [-1, 40])).tolist() == [5, -(2**31)]
    assert both(
        lambda: tf.bitwise.right_shift(np.array([200], np.uint8), np.array([9], np.uint8))
    ).tolist() == [1]
    assert both(lambda: tf.bitwise.invert([0, 5, -1])).tolist() == [-1, -6, 0]
    assert both(lambda: tf.bitwise.invert(np.array([0, 5], np.uint8))).tolist() == [255, 250]
    assert both(lambda: tf.bitwise.bitwise_or([[1], [2]], [4, 8])).tolist() == [[5, 9], [6, 10]]
    assert both(lambda: tf.bitwise.bitwise_and(12, 10)) == 8
    assert both(lambda: tf.bitwise.bitwise_xor(12, 10)) == 6
    tf.reset_default_graph()
    t = tf.bitwise.bitwise_and(x, y)
    assert (t.name, t.dtype) == ("BitwiseAnd:0", tf.int8)
    with pytest.raises(TypeError, match="not in list of allowed values"):
        tf.bitwise.bitwise_and(tf.constant([1.0]), tf.constant([2.0]))
    with pytest.raises(TypeError, match="int64"):
        tf.bitwise.bitwise_and(tf.constant([1]), tf.constant([2], tf.int64))
    xs = tf.placeholder(tf.int32, [2])
    assert tf.gradients(tf.cast(tf.bitwise.invert(xs), tf.float32), xs) == [None]
