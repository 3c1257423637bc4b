"""Sequence columns against TensorFlow 2.21 (`tf.compat.v1.feature_column`, graph mode):
names, parse specs, ids ``[batch, time, 1]``, padded values with lengths, and the
refusal of `input_layer` to use them."""

from __future__ import annotations

import numpy as np
import pytest

import miniflow as tf
from miniflow.feature_column.columns_base import FeatureCache

fc = tf.feature_column


def _features():
    return {
        "tags": tf.SparseTensor([[0, 0], [0, 1], [2, 0]], ["a", "b", "c"], [3, 2]),
        "ids": tf.SparseTensor([[0, 0], [0, 1], [2, 0]], tf.constant([1, 2, 0], tf.int64), [3, 2]),
        "x": tf.SparseTensor(
            [[0, 0], [0, 1], [0, 2], [0, 3], [2, 0], [2, 1]], [1.0, 2.0, 3.0, 4.0, 5.0, 6.0], [3, 4]
        ),
    }


def _columns():
    return [
        fc.sequence_categorical_column_with_hash_bucket("tags", 7),
        fc.sequence_categorical_column_with_identity("ids", 3),
        fc.sequence_categorical_column_with_vocabulary_list("tags", ["a", "c"], num_oov_buckets=1),
    ]


def test_sequence_categorical_ids_match_tf(run):
    cols = _columns()
    assert [(c.name, c.num_buckets) for c in cols] == [("tags", 7), ("ids", 3), ("tags", 3)]
    assert cols[1].parse_example_spec == {"ids": tf.VarLenFeature(tf.int64)}

    def build():
        cache = FeatureCache(_features())
        return [c.get_sparse_tensors(cache).id_tensor for c in cols]

    # TF 2.21's ids for the same inputs.
    for got, values in zip(run(build), [[5, 2, 5], [1, 2, 0], [0, 2, 1]]):
        np.testing.assert_array_equal(got.indices, [[0, 0, 0], [0, 1, 0], [2, 0, 0]])
        np.testing.assert_array_equal(got.values, values)
        np.testing.assert_array_equal(got.dense_shape, [3, 2, 1])


def test_sequence_numeric_column_matches_tf(run):
    col = fc.sequence_numeric_column("x", shape=(2,))
    assert col.parse_example_spec == {"x": tf.VarLenFeature(tf.float32)}
    dense, length = run(lambda: tuple(col.get_sequence_dense_tensor(FeatureCache(_features()))))
    np.testing.assert_array_equal(dense, [[[1, 2], [3, 4]], [[0, 0], [0, 0]], [[5, 6], [0, 0]]])
    np.testing.assert_array_equal(length, [2, 0, 1])


def test_input_layer_refuses_sequence_columns():
    seq = _columns()[0]
    for col in (fc.embedding_column(seq, 2), fc.indicator_column(seq)):
        with pytest.raises(ValueError, match="must not be of type _SequenceCategoricalColumn"):
            fc.input_layer(_features(), [col])
    with pytest.raises(ValueError):
        fc.input_layer(_features(), [fc.sequence_numeric_column("x")])
