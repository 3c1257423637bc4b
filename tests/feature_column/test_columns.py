"""Each feature column's ids or dense values against hand-computed values and against
numbers obtained from TensorFlow 2.21 (`tf.compat.v1.feature_column`, graph mode) for
the same inputs, in graph and eager mode; plus the columns' names and TF's errors."""

from __future__ import annotations

import numpy as np
import pytest

import miniflow as tf
from miniflow.feature_column.columns_base import FeatureCache

fc = tf.feature_column


def _features():
    return {
        "price": tf.constant([[1.0], [5.0], [12.0]]),
        "city": tf.constant([["sf"], ["nyc"], ["la"]]),
        "id": tf.constant([[0], [3], [1]], dtype=tf.int64),
        "tags": tf.SparseTensor([[0, 0], [0, 1], [2, 0]], ["a", "b", "c"], [3, 2]),
        "w": tf.SparseTensor([[0, 0], [0, 1], [2, 0]], [0.5, 2.0, 3.0], [3, 2]),
        "vec": tf.constant([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]),
    }


def _ids(run, column, features=_features):
    def build():
        return column.get_sparse_tensors(FeatureCache(features())).id_tensor

    return run(build)


def _check_ids(sp, indices, values, shape):
    np.testing.assert_array_equal(np.asarray(sp.indices).reshape(-1, 2), indices)
    np.testing.assert_array_equal(sp.values, values)
    np.testing.assert_array_equal(sp.dense_shape, shape)
    assert np.asarray(sp.values).dtype == np.int64


def _dense(run, columns, features=_features):
    return run(lambda: fc.input_layer(features(), columns))


def test_numeric_column(run):
    vec = fc.numeric_column("vec", shape=(2,), normalizer_fn=lambda x: x * 2.0)
    got = _dense(run, [fc.numeric_column("price"), vec])
    # vec (normalized) sorts after price; hand-computed, as TF 2.21 gives.
    np.testing.assert_allclose(got, [[1, 2, 4], [5, 6, 8], [12, 10, 12]])
    assert got.dtype == np.float32


def test_numeric_column_rank1_int_input_is_a_batch_of_scalars(run):
    got = _dense(
        run, [fc.numeric_column("n", dtype=tf.int64)], lambda: {"n": tf.constant([3, 4], tf.int64)}
    )
    np.testing.assert_array_equal(got, [[3.0], [4.0]])


def test_bucketized_column_dense_and_ids(run):
    bp = fc.bucketized_column(fc.numeric_column("price"), [2.0, 10.0])
    assert bp.name == "price_bucketized" and bp.num_buckets == 3
    # 1 < 2, 2 <= 5 < 10, 12 >= 10 (as TF's Bucketize; TF gives the same one-hots).
    np.testing.assert_array_equal(_dense(run, [bp]), np.eye(3))
    _check_ids(_ids(run, bp), [[0, 0], [1, 0], [2, 0]], [0, 1, 2], [3, 1])


def test_bucketized_column_of_a_vector_offsets_each_element(run):
    bv = fc.bucketized_column(fc.numeric_column("vec", shape=2), [3.0])
    assert bv.num_buckets == 4 and bv.variable_shape == (2, 2)
    # buckets [[0, 0], [1, 1], [1, 1]]; element i's id is bucket + 2 * i (hand-computed).
    _check_ids(
        _ids(run, bv), [[0, 0], [0, 1], [1, 0], [1, 1], [2, 0], [2, 1]], [0, 2, 1, 3, 1, 3], [3, 2]
    )
    np.testing.assert_array_equal(_dense(run, [bv]), [[1, 0, 1, 0], [0, 1, 0, 1], [0, 1, 0, 1]])


def test_bucket_boundary_belongs_to_the_upper_bucket(run):
    bp = fc.bucketized_column(fc.numeric_column("x"), [0.0, 1.0])
    got = _dense(run, [bp], lambda: {"x": tf.constant([[-0.5], [0.0], [1.0]])})
    np.testing.assert_array_equal(got, [[1, 0, 0], [0, 1, 0], [0, 0, 1]])


def test_hash_bucket_matches_tf(run):
    # TF 2.21: 'a' -> 5, 'b' -> 2, 'c' -> 5 in 7 buckets.
    _check_ids(
        _ids(run, fc.categorical_column_with_hash_bucket("tags", 7)),
        [[0, 0], [0, 1], [2, 0]],
        [5, 2, 5],
        [3, 2],
    )
    # Integers hash as their decimal strings; -1 in a dense input is dropped (TF 2.21).
    col = fc.categorical_column_with_hash_bucket("n", 10, dtype=tf.int64)
    _check_ids(
        _ids(run, col, lambda: {"n": tf.constant([[1], [22], [-1]], tf.int64)}),
        [[0, 0], [1, 0]],
        [9, 0],
        [3, 1],
    )


def test_vocabulary_list(run):
    col = fc.categorical_column_with_vocabulary_list("city", ["sf", "nyc"], num_oov_buckets=2)
    assert col.num_buckets == 4
    # 'la' is out of vocabulary: 2 + Fingerprint64('la') % 2 = 2 (TF 2.21).
    _check_ids(_ids(run, col), [[0, 0], [1, 0], [2, 0]], [0, 1, 2], [3, 1])
    col = fc.categorical_column_with_vocabulary_list("city", ["sf", "nyc"], default_value=0)
    np.testing.assert_array_equal(_dense(run, [fc.indicator_column(col)]), [[1, 0], [0, 1], [1, 0]])
    col = fc.categorical_column_with_vocabulary_list("v", [10, 20], num_oov_buckets=3)
    assert col.dtype == tf.int64
    _check_ids(
        _ids(run, col, lambda: {"v": tf.constant([[10], [30], [40]], tf.int64)}),
        [[0, 0], [1, 0], [2, 0]],
        [0, 4, 3],
        [3, 1],
    )  # TF 2.21


def test_vocabulary_file(run, tmp_path):
    path = tmp_path / "vocab.txt"
    path.write_text("sf\nnyc\nla\n")

    def feats():
        return {"city": tf.constant([["la"], ["tokyo"], [""]])}

    col = fc.categorical_column_with_vocabulary_file("city", str(path), num_oov_buckets=2)
    assert col.vocabulary_size == 3 and col.num_buckets == 5
    # TF 2.21: 'la' -> 2, 'tokyo' -> 3 + hash % 2 = 4, '' dropped.
    _check_ids(_ids(run, col, feats), [[0, 0], [1, 0]], [2, 4], [3, 1])
    col = fc.categorical_column_with_vocabulary_file("city", str(path), default_value=1)
    _check_ids(_ids(run, col, feats), [[0, 0], [1, 0]], [2, 1], [3, 1])


def test_identity(run):
    _check_ids(
        _ids(run, fc.categorical_column_with_identity("id", 4)),
        [[0, 0], [1, 0], [2, 0]],
        [0, 3, 1],
        [3, 1],
    )
    col = fc.categorical_column_with_identity("id", 4, default_value=3)
    _check_ids(
        _ids(run, col, lambda: {"id": tf.constant([[0], [5], [-1]], tf.int64)}),
        [[0, 0], [1, 0]],
        [0, 3],
        [3, 1],
    )  # TF 2.21: 5 -> default, -1 dropped


def test_identity_out_of_range_is_a_runtime_error(run):
    col = fc.indicator_column(fc.categorical_column_with_identity("id", 3))
    with pytest.raises(tf.errors.InvalidArgumentError, match="exceeds number of buckets"):
        _dense(run, [col])


def test_weighted_categorical_column(run):
    tw = fc.weighted_categorical_column(fc.categorical_column_with_hash_bucket("tags", 7), "w")
    assert tw.name == "tags_weighted_by_w" and tw.num_buckets == 7
    # ids [5, 2 | - | 5] weighted [0.5, 2 | - | 3] (hand-computed; TF 2.21 agrees).
    want = np.zeros((3, 7), np.float32)
    want[0, 5], want[0, 2], want[2, 5] = 0.5, 2.0, 3.0
    np.testing.assert_allclose(_dense(run, [fc.indicator_column(tw)]), want)
    untagged = np.where(want > 0, 1.0, 0.0)
    np.testing.assert_allclose(
        _dense(run, [fc.indicator_column(fc.categorical_column_with_hash_bucket("tags", 7))]),
        untagged,
    )


def test_crossed_columns_match_tf(run):
    bp = fc.bucketized_column(fc.numeric_column("price"), [2.0, 10.0])
    cross = fc.crossed_column(["city", bp], 1000)
    assert cross.name == "city_X_price_bucketized"
    # Ids from TF 2.21's crossed_column for the same inputs.
    _check_ids(_ids(run, cross), [[0, 0], [1, 0], [2, 0]], [383, 392, 273], [3, 1])
    cross = fc.crossed_column([fc.categorical_column_with_identity("id", 4), "city", "id"], 50)
    assert cross.name == "city_X_id_X_id"
    _check_ids(_ids(run, cross), [[0, 0], [1, 0], [2, 0]], [44, 2, 39], [3, 1])
    cross = fc.crossed_column(["tags", "city"], 2**22)
    _check_ids(_ids(run, cross), [[0, 0], [0, 1], [2, 0]], [597284, 1068000, 3506677], [3, 2])


def test_sparse_cross_puts_sparse_inputs_first_as_tf(run):
    def build():
        d = tf.constant([["sf"], ["nyc"]])
        sp = tf.SparseTensor([[0, 0], [1, 0], [1, 1]], tf.constant([0, 1, 2], tf.int64), [2, 2])
        return [
            tf.sparse.cross_hashed([d, sp], 1000),
            tf.sparse.cross_hashed([sp, d], 1000),
            tf.sparse.cross([d, sp]),
        ]

    a, b, c = run(build)
    for x in (a, b):  # TF 2.21 gives the same for both orders
        _check_ids(x, [[0, 0], [1, 0], [1, 1]], [383, 392, 2], [2, 2])
    assert list(c.values) == [b"0_X_sf", b"1_X_nyc", b"2_X_nyc"]


def test_embedding_columns_hand_computed(run):
    def init(shape, dtype=None, partition_info=None):
        n = int(np.prod(shape))
        return tf.constant((np.arange(n).reshape(shape) * 0.1 - 0.3).astype(np.float32))

    tags = fc.categorical_column_with_hash_bucket("tags", 7)
    cols = [
        fc.embedding_column(tags, 3, combiner="sum", initializer=init),
        fc.embedding_column(fc.weighted_categorical_column(tags, "w"), 2, initializer=init),
    ]
    # e3_i = [.3i-.3, .3i-.2, .3i-.1], e2_i = [.2i-.3, .2i-.2]; ids 5, 2 | - | 5.
    # sum: e3_5 + e3_2; weighted mean: (0.5 e2_5 + 2 e2_2) / 2.5. TF 2.21 agrees.
    got = _dense(run, cols)
    np.testing.assert_allclose(
        got,
        [[1.5, 1.7, 1.9, 0.22, 0.32], [0, 0, 0, 0, 0], [1.2, 1.3, 1.4, 0.7, 0.8]],
        rtol=1e-5,
        atol=1e-6,
    )


def test_embedding_max_norm(run):
    col = fc.embedding_column(
        fc.categorical_column_with_identity("id", 4),
        2,
        initializer=tf.constant_initializer(3.0),
        max_norm=1.0,
    )
    got = _dense(run, [col])
    np.testing.assert_allclose(got, np.full((3, 2), np.sqrt(0.5)), rtol=1e-6)


def test_shared_embedding_columns_share_one_table(run):
    def init(shape, dtype=None, partition_info=None):
        return tf.constant((np.arange(20).reshape(shape) * 0.1 - 0.3).astype(np.float32))

    cols = fc.shared_embedding_columns(
        [
            fc.categorical_column_with_hash_bucket("tags", 10),
            fc.categorical_column_with_hash_bucket("city", 10),
        ],
        2,
        initializer=init,
    )
    assert [c.name for c in cols] == ["tags_shared_embedding", "city_shared_embedding"]
    got = _dense(run, cols)
    # TF 2.21's values for the same inputs.
    np.testing.assert_allclose(
        got,
        [[0.9, 1.0, 0.8, 0.9], [0.9, 1.0, 0.0, 0.0], [-0.3, -0.2, 0.1, 0.2]],
        rtol=1e-6,
        atol=1e-6,
    )


def test_shared_embedding_variable_name():
    cols = fc.shared_embedding_columns(
        [
            fc.categorical_column_with_hash_bucket("tags", 10),
            fc.categorical_column_with_hash_bucket("city", 10),
        ],
        2,
    )
    fc.input_layer(_features(), cols)
    fc.input_layer(_features(), cols[:1])  # a second layer reuses the table, as TF
    assert [(v.name, v.shape.as_list()) for v in tf.global_variables()] == [
        ("input_layer/city_tags_shared_embedding/embedding_weights:0", [10, 2])
    ]  # TF 2.21


def test_column_errors():
    hashed = fc.categorical_column_with_hash_bucket("city", 10)
    with pytest.raises(ValueError, match="not supported for crossing"):
        fc.crossed_column([hashed, "id"], 50)
    with pytest.raises(ValueError, match="Duplicate keys"):
        fc.categorical_column_with_vocabulary_list("c", ["a", "a"])
    with pytest.raises(ValueError, match="both"):
        fc.categorical_column_with_vocabulary_list("c", ["a"], default_value=0, num_oov_buckets=1)
    with pytest.raises(ValueError, match="same number of buckets"):
        fc.shared_embedding_columns([hashed, fc.categorical_column_with_hash_bucket("t", 7)], 2)
    with pytest.raises(ValueError, match="sorted list"):
        fc.bucketized_column(fc.numeric_column("p"), [3.0, 1.0])
    with pytest.raises(ValueError, match="numeric_column"):
        fc.bucketized_column(hashed, [1.0])
    with pytest.raises(ValueError, match="Invalid dimension"):
        fc.embedding_column(hashed, 0)
    with pytest.raises(ValueError, match="SparseTensor is not supported"):
        fc.input_layer(_features(), [fc.numeric_column("tags")])


def test_make_parse_example_spec_matches_tf():
    tags_w = fc.weighted_categorical_column(fc.categorical_column_with_hash_bucket("tags", 7), "w")
    bp = fc.bucketized_column(fc.numeric_column("price"), [2.0, 10.0])
    spec = fc.make_parse_example_spec(
        [
            fc.numeric_column("vec", shape=(2,)),
            bp,
            tags_w,
            fc.crossed_column(["city", bp], 9),
            fc.embedding_column(fc.categorical_column_with_identity("id", 4), 2),
            fc.numeric_column("z", shape=[2], default_value=1.0, dtype=tf.float64),
        ]
    )
    # The spec TF 2.21 gives for the same columns.
    assert spec == {
        "vec": tf.FixedLenFeature((2,), tf.float32, None),
        "price": tf.FixedLenFeature((1,), tf.float32, None),
        "tags": tf.VarLenFeature(tf.string),
        "w": tf.VarLenFeature(tf.float32),
        "city": tf.VarLenFeature(tf.string),
        "id": tf.VarLenFeature(tf.int64),
        "z": tf.FixedLenFeature((2,), tf.float64, (1.0, 1.0)),
    }
    with pytest.raises(ValueError, match="different parse_spec"):
        fc.make_parse_example_spec(
            [fc.numeric_column("a"), fc.categorical_column_with_hash_bucket("a", 3)]
        )


def test_embedding_initialized_from_checkpoint(tmp_path):
    table = np.arange(8, dtype=np.float32).reshape(4, 2)
    with tf.Graph().as_default():
        v = tf.Variable(table, name="emb")
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            path = tf.train.Saver([v]).save(sess, str(tmp_path / "ckpt"))
    col = fc.embedding_column(
        fc.categorical_column_with_identity("id", 4),
        2,
        ckpt_to_load_from=path,
        tensor_name_in_ckpt="emb",
    )
    out = fc.input_layer(_features(), [col])
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        np.testing.assert_array_equal(sess.run(out), table[[0, 3, 1]])


def test_columns_are_values_like_tensorflows_namedtuples():
    """Equality and hashing by fields, as TF 2.21's `tf.compat.v1.feature_column` gives
    them (every result below was checked there)."""
    c = fc.categorical_column_with_identity("a", 5)
    init = tf.zeros_initializer()
    assert fc.embedding_column(c, 4, initializer=init) == fc.embedding_column(
        c, 4, initializer=init
    )
    assert fc.embedding_column(c, 4, initializer=init) != fc.embedding_column(
        c, 3, initializer=init
    )
    assert fc.indicator_column(c) == fc.indicator_column(
        fc.categorical_column_with_identity("a", 5)
    )
    assert fc.numeric_column("x", shape=[2]) == fc.numeric_column("x", shape=(2,))
    assert fc.bucketized_column(fc.numeric_column("x"), [0.0, 1.0]) == fc.bucketized_column(
        fc.numeric_column("x"), [0.0, 1.0]
    )
    assert fc.sequence_categorical_column_with_identity(
        "s", 3
    ) == fc.sequence_categorical_column_with_identity("s", 3)
    assert fc.sequence_numeric_column("t") == fc.sequence_numeric_column("t")
    assert (
        len(
            {
                fc.numeric_column("x"),
                fc.numeric_column("x"),
                fc.embedding_column(c, 4, initializer=init),
                fc.embedding_column(c, 4, initializer=init),
            }
        )
        == 2
    )
