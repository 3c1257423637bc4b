"""Sparse data in tf.data: `from_sparse_tensor_slices`, `dense_to_sparse_batch` /
`sparse_batch`, SparseTensor elements through `map`, `batch` and iterators. Expected
values were obtained from TF 2.21's tf.compat.v1 (tests/data/fixtures/tf_truth.json and
the numbers written below)."""

import json
import os

import pytest

import miniflow as tf
from tests.data.helpers import graph_values

D = tf.data.Dataset
TRUTH = json.load(open(os.path.join(os.path.dirname(__file__), "fixtures", "tf_truth.json")))


def sp(v):
    return [v.indices.tolist(), v.values.tolist(), v.dense_shape.tolist()]


def sparse():
    return tf.SparseTensor([[0, 1], [2, 0], [2, 2]], [1.0, 2.0, 3.0], [3, 4])


def test_from_sparse_tensor_slices_yields_index_value_shape_tuples_like_tf():
    ds = D.from_sparse_tensor_slices(sparse())
    assert ds.output_types == (tf.int64, tf.float32, tf.int64)
    assert [s.as_list() for s in ds.output_shapes] == [[None, 1], [None], [1]]
    got = [[x.tolist() for x in e] for e in graph_values(ds)]
    assert got == [[[[1]], [1.0], [4]], [[], [], [4]], [[[0], [2]], [2.0, 3.0], [4]]]


def test_dense_to_sparse_batch_matches_tensorflow():
    ds = (
        D.from_tensor_slices(tf.constant([[1, 2, 0], [3, 0, 0], [4, 5, 6]]))
        .map(lambda x: x[: tf.reduce_sum(tf.sign(x))])
        .apply(tf.data.experimental.dense_to_sparse_batch(2, [4]))
    )
    assert ds.output_classes is tf.SparseTensor and ds.output_types == tf.int32
    assert [sp(v) for v in graph_values(ds)] == TRUTH["dense_to_sparse_batch"]
    tf.reset_default_graph()
    ds = D.from_tensor_slices(tf.constant([[1, 2], [3, 4], [5, 6]])).sparse_batch(2, [None])
    assert [sp(v) for v in graph_values(ds)] == [
        [[[0, 0], [0, 1], [1, 0], [1, 1]], [1, 2, 3, 4], [2, 2]],
        [[[0, 0], [0, 1]], [5, 6], [1, 2]],
    ]
    tf.reset_default_graph()
    with pytest.raises(tf.errors.InvalidArgumentError, match="exceeds"):
        graph_values(D.from_tensor_slices([[1, 2, 3]]).sparse_batch(1, [2]))


def test_sparse_elements_map_and_batch_like_tensorflow():
    ds = (
        D.from_tensors(sparse())
        .repeat(2)
        .map(lambda s: tf.SparseTensor(s.indices, s.values * 2, s.dense_shape))
    )
    assert [sp(v) for v in graph_values(ds)] == [
        [[[0, 1], [2, 0], [2, 2]], [2.0, 4.0, 6.0], [3, 4]]
    ] * 2
    tf.reset_default_graph()
    one = tf.SparseTensor([[0, 1]], [1.0], [2, 4])
    two = tf.SparseTensor([[1, 0], [1, 3]], [2.0, 3.0], [3, 4])
    ds = D.from_tensors(one).concatenate(D.from_tensors(two)).batch(2)
    # TF batches SparseTensors along a new dimension 0, dense shape the largest of each.
    assert [sp(v) for v in graph_values(ds)] == [
        [[[0, 0, 1], [1, 1, 0], [1, 1, 3]], [1.0, 2.0, 3.0], [2, 3, 4]]
    ]
    with pytest.raises(TypeError, match="padded_batch"):
        D.from_tensors(one).padded_batch(2, [None, None])
    with pytest.raises(TypeError, match="unbatch"):
        ds.unbatch()


def test_sparse_elements_eager():
    with tf.eager_mode():
        got = list(
            D.from_tensors(tf.SparseTensorValue([[0, 1]], [1.0], [2, 2])).as_numpy_iterator()
        )
        assert [sp(v) for v in got] == [[[[0, 1]], [1.0], [2, 2]]]
        batched = next(iter(D.from_tensor_slices([[1, 0], [2, 3]]).sparse_batch(2, [2])))
        assert isinstance(batched, tf.SparseTensor)
        assert batched.values.numpy().tolist() == [1, 0, 2, 3]
