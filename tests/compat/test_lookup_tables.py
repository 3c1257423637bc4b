"""`tf.lookup` static tables, in graph and eager mode. Expected values marked "TF" were
obtained from TensorFlow 2.21's `tf.compat.v1` in graph mode and written here."""

from __future__ import annotations

import numpy as np
import pytest

import miniflow as tf

lookup = tf.lookup


def _run(fetches):
    with tf.Session() as sess:
        sess.run(tf.tables_initializer())
        return sess.run(fetches)


def test_static_hash_table_graph_and_eager():
    table = lookup.StaticHashTable(
        lookup.KeyValueTensorInitializer([1, 2, 3], [10.0, 20.0, 30.0]), -1.0
    )
    assert (table.key_dtype, table.value_dtype) == (tf.int32, tf.float32)
    got, size = _run([table.lookup(tf.constant([[3, 5], [1, 1]])), table.size()])
    # TF: [30, -1] for [3, 5]; size 3 (int64)
    np.testing.assert_array_equal(got, [[30.0, -1.0], [10.0, 10.0]])
    assert got.dtype == np.float32 and size == 3 and np.asarray(size).dtype == np.int64
    with tf.eager_mode():
        eager = lookup.StaticHashTable(lookup.KeyValueTensorInitializer(["a", "b"], [1, 2]), -1)
        np.testing.assert_array_equal(
            eager.lookup(tf.constant(["b", "x", "a"])).numpy(), [2, -1, 1]
        )


def test_lookup_of_a_sparse_tensor_maps_its_values():
    table = lookup.StaticHashTable(
        lookup.KeyValueTensorInitializer([1, 2, 3], [10.0, 20.0, 30.0]), -1.0
    )
    got = _run(table.lookup(tf.SparseTensor([[0, 0], [1, 2]], tf.constant([1, 9]), [2, 3])))
    np.testing.assert_array_equal(got.values, [10.0, -1.0])  # TF
    np.testing.assert_array_equal(got.indices, [[0, 0], [1, 2]])


def test_key_dtype_mismatch_is_a_type_error_like_tf():
    table = lookup.StaticHashTable(lookup.KeyValueTensorInitializer([1, 2], [1.0, 2.0]), -1.0)
    with pytest.raises(TypeError, match="Dtype of argument `keys` must be"):
        table.lookup(tf.constant(["a"]))


def test_a_key_with_two_values_fails_when_used():
    table = lookup.StaticHashTable(
        lookup.KeyValueTensorInitializer(["a", "a"], tf.constant([1, 2], tf.int64)),
        tf.constant(-1, tf.int64),
    )
    with pytest.raises(
        tf.errors.FailedPreconditionError, match="Key a has 1 and trying to add value 2"
    ):  # TF's message
        _run(table.lookup(tf.constant(["a"])))


def test_static_vocabulary_table_oov_buckets_match_tf():
    strings = lookup.StaticVocabularyTable(
        lookup.KeyValueTensorInitializer(["a", "b"], tf.constant([0, 1], tf.int64)), 3
    )
    ints = lookup.StaticVocabularyTable(
        lookup.KeyValueTensorInitializer(
            tf.constant([7, 8], tf.int64), tf.constant([0, 1], tf.int64)
        ),
        num_oov_buckets=3,
    )
    got_s, got_i, size = _run(
        [
            strings.lookup(tf.constant(["a", "b", "z", "hello", "q"])),
            ints.lookup(tf.constant([7, 9, 100, 8], tf.int64)),
            ints.size(),
        ]
    )
    # TF: [0, 1, 3, 3, 4] and [0, 4, 2, 1] (Fingerprint64 buckets after the vocabulary), 5
    np.testing.assert_array_equal(got_s, [0, 1, 3, 3, 4])
    np.testing.assert_array_equal(got_i, [0, 4, 2, 1])
    assert size == 5
    with pytest.raises(ValueError, match="must be > 0"):
        lookup.StaticVocabularyTable(
            lookup.KeyValueTensorInitializer(["a"], tf.constant([0], tf.int64)), 0
        )


def test_text_file_initializer_matches_tf(tmp_path):
    vocab = tmp_path / "vocab.txt"
    vocab.write_text("emerson\nlake\npalmer\n")
    kv = tmp_path / "kv.tsv"
    kv.write_text("a\t10\nb\t20\n")
    by_line = lookup.StaticHashTable(
        lookup.TextFileInitializer(
            str(vocab),
            tf.string,
            lookup.TextFileIndex.WHOLE_LINE,
            tf.int64,
            lookup.TextFileIndex.LINE_NUMBER,
        ),
        -1,
    )
    by_column = lookup.StaticHashTable(
        lookup.TextFileInitializer(str(kv), tf.string, 0, tf.int64, 1), -1
    )
    a, b, n = _run(
        [
            by_line.lookup(tf.constant(["lake", "x", "palmer"])),
            by_column.lookup(tf.constant(["b", "a", "q"])),
            by_line.size(),
        ]
    )
    np.testing.assert_array_equal(a, [1, -1, 2])  # TF
    np.testing.assert_array_equal(b, [20, 10, -1])  # TF
    assert n == 3
    with pytest.raises(tf.errors.InvalidArgumentError, match="columns"):
        lookup.TextFileInitializer(str(vocab), tf.string, 3, tf.int64, 1)


def test_tables_initializer_groups_the_table_initializers():
    assert tf.tables_initializer().type == "NoOp"  # TF: NoOp, also with no tables
    table = lookup.StaticHashTable(lookup.KeyValueTensorInitializer([1], [2]), 0)
    init = tf.tables_initializer()
    assert init.type == "NoOp" and table.initializer in init.control_inputs
    assert tf.initializers.tables_initializer is tf.tables_initializer
    assert tf.initialize_all_tables is tf.tables_initializer
