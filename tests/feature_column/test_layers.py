"""`input_layer` and `linear_model`: outputs, variable names and shapes (TF's, so
checkpoints line up), column order, collections; training through them (numbers from
TensorFlow 2.21, `tf.compat.v1`, graph mode); features as dense tensors, SparseTensors
and parsed tf.train.Examples; sparse gradients for a 2^22-bucket crossed column."""

from __future__ import annotations

import numpy as np
import pytest

import miniflow as tf

fc = tf.feature_column


def _features():
    return {
        "price": tf.constant([[1.0], [5.0], [12.0]]),
        "city": tf.constant([["sf"], ["nyc"], ["la"]]),
        "tags": tf.SparseTensor([[0, 0], [0, 1], [2, 0]], ["a", "b", "c"], [3, 2]),
        "w": tf.SparseTensor([[0, 0], [0, 1], [2, 0]], [0.5, 2.0, 3.0], [3, 2]),
        "vec": tf.constant([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]),
    }


def _linear_columns():
    price = fc.numeric_column("price")
    bp = fc.bucketized_column(price, [2.0, 10.0])
    tags_w = fc.weighted_categorical_column(fc.categorical_column_with_hash_bucket("tags", 7), "w")
    return [
        price,
        bp,
        fc.categorical_column_with_hash_bucket("city", 10),
        tags_w,
        fc.crossed_column(["city", bp], 1000),
        fc.numeric_column("vec", shape=(2,), normalizer_fn=lambda x: x * 2.0),
    ]


def test_linear_model_names_and_values_match_tf():
    cols_to_vars = {}
    out = fc.linear_model(
        _features(), _linear_columns(), units=2, sparse_combiner="mean", cols_to_vars=cols_to_vars
    )
    assert out.name == "linear_model/weighted_sum:0" and out.shape.as_list() == [3, 2]
    # Variable names and shapes TF 2.21 creates for the same columns.
    assert [(v.name, v.shape.as_list()) for v in tf.global_variables()] == [
        ("linear_model/city/weights:0", [10, 2]),
        ("linear_model/city_X_price_bucketized/weights:0", [1000, 2]),
        ("linear_model/price/weights:0", [1, 2]),
        ("linear_model/price_bucketized/weights:0", [3, 2]),
        ("linear_model/tags_weighted_by_w/weights:0", [7, 2]),
        ("linear_model/vec/weights:0", [2, 2]),
        ("linear_model/bias_weights:0", [2]),
    ]
    assert tf.model_variables() == tf.global_variables()
    assert sorted(
        (c if isinstance(c, str) else c.name, [v.name for v in vs])
        for c, vs in cols_to_vars.items()
    )[0] == ("bias", ["linear_model/bias_weights:0"])
    assert len(cols_to_vars) == 7
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        np.testing.assert_array_equal(sess.run(out), np.zeros((3, 2)))  # zero-initialized
        for vs in cols_to_vars.values():
            for v in vs:
                n = int(np.prod(v.shape.as_list()))
                sess.run(
                    v.assign(np.arange(n, dtype=np.float32).reshape(v.shape.as_list()) * 0.01 + 0.1)
                )
        # TF 2.21's predictions with the same weights.
        np.testing.assert_allclose(
            sess.run(out), [[9.112001, 9.231998], [10.44, 10.67], [9.74, 10.13]], rtol=1e-5
        )


@pytest.mark.parametrize(
    "combiner,want",
    [("sum", [3.875, 0.0, 8.25]), ("mean", [1.55, 0.0, 2.75]), ("sqrtn", [1.8796512, 0.0, 2.75])],
)
def test_linear_model_sparse_combiner(combiner, want):
    # weights w_i = 0.5 i + 0.25; row 0: ids 5 (0.5), 2 (2.0); row 2: id 5 (3.0).
    # sum = 0.5 * 2.75 + 2 * 1.25; mean divides by 2.5; sqrtn by sqrt(4.25). TF 2.21 agrees.
    tw = fc.weighted_categorical_column(fc.categorical_column_with_hash_bucket("tags", 7), "w")
    ctv = {}
    out = fc.linear_model(_features(), [tw], sparse_combiner=combiner, cols_to_vars=ctv)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sess.run(ctv[tw][0].assign(np.arange(7, dtype=np.float32).reshape(7, 1) * 0.5 + 0.25))
        np.testing.assert_allclose(sess.run(out), np.reshape(want, (3, 1)), rtol=1e-6)


def test_linear_model_eagerly():
    with tf.eager_mode():
        tw = fc.weighted_categorical_column(fc.categorical_column_with_hash_bucket("tags", 7), "w")
        ctv = {}
        with tf.GradientTape() as tape:
            out = fc.linear_model(
                _features(), [tw, fc.numeric_column("price")], units=2, cols_to_vars=ctv
            )
            total = tf.reduce_sum(out)
        np.testing.assert_array_equal(out.numpy(), np.zeros((3, 2)))
        grad = tape.gradient(total, ctv[tw][0])
        # d sum / d w_i = the summed weights of id i: 2.0 for id 2, 0.5 + 3 for id 5.
        dense = np.zeros(7)
        np.add.at(dense, np.asarray(grad.indices), np.asarray(grad.values)[:, 0])
        np.testing.assert_allclose(dense, [0, 0, 2.0, 0, 0, 3.5, 0])
        assert ctv["bias"][0].name.endswith("/bias_weights:0")


def test_weight_collections_and_repeated_calls():
    tw = fc.weighted_categorical_column(fc.categorical_column_with_hash_bucket("tags", 7), "w")
    city = fc.categorical_column_with_vocabulary_list("city", ["sf", "nyc"], num_oov_buckets=2)
    fc.linear_model(_features(), [city])
    out = fc.linear_model(_features(), [tw, city], weight_collections=["mine"])
    names = [
        "linear_model_1/city/weights:0",
        "linear_model_1/tags_weighted_by_w/weights:0",
        "linear_model_1/bias_weights:0",
    ]
    # TF 1.x names; TF 2.21 (Keras-based) would name the column scopes city_1, ... here.
    assert [v.name for v in tf.get_collection("mine")] == names
    assert out.name == "linear_model_1/weighted_sum:0"


def test_input_layer_sorts_columns_by_name(run):
    price, vec = fc.numeric_column("price"), fc.numeric_column("vec", shape=2)
    a = run(lambda: fc.input_layer(_features(), [vec, price]))
    np.testing.assert_array_equal(a, [[1, 1, 2], [5, 3, 4], [12, 5, 6]])


def test_input_layer_variable_names_match_tf():
    tags = fc.categorical_column_with_hash_bucket("tags", 7)
    cols_to_vars, outputs = {}, {}
    emb = fc.embedding_column(tags, 3)
    out = fc.input_layer(
        _features(),
        [emb, fc.numeric_column("price")],
        cols_to_vars=cols_to_vars,
        cols_to_output_tensors=outputs,
    )
    assert out.shape.as_list() == [3, 4]
    assert [v.name for v in cols_to_vars[emb]] == ["input_layer/tags_embedding/embedding_weights:0"]
    assert outputs[emb].shape.as_list()[1] == 3
    assert tf.trainable_variables()[0].name == "input_layer/tags_embedding/embedding_weights:0"
    frozen = fc.embedding_column(tags, 2, trainable=False)
    fc.input_layer(_features(), [frozen])
    assert [v.name for v in tf.trainable_variables()] == [
        "input_layer/tags_embedding/embedding_weights:0"
    ]
    with pytest.raises(ValueError, match="_DenseColumn"):
        fc.input_layer(_features(), [tags])


def _train_graph():
    def init(shape, dtype=None, partition_info=None):
        return tf.constant(
            (np.arange(np.prod(shape)).reshape(shape) % 5 * 0.1 - 0.2).astype(np.float32)
        )

    feats = dict(_features(), city=tf.constant([["la"], ["tokyo"], [""]]))
    tags = fc.categorical_column_with_hash_bucket("tags", 7)
    city = fc.categorical_column_with_vocabulary_list("city", ["la", "x"], num_oov_buckets=5)
    net = fc.input_layer(
        feats,
        [
            fc.embedding_column(tags, 3, initializer=init, combiner="sqrtn"),
            fc.numeric_column("price"),
            fc.indicator_column(city),
        ],
    )
    w = tf.get_variable("W", [11, 1], initializer=tf.constant_initializer(0.1))
    loss = tf.reduce_mean(tf.square(tf.matmul(net, w) - tf.constant([[1.0], [0.0], [2.0]])))
    return net, loss


def test_training_loop_through_input_layer_matches_tf():
    net, loss = _train_graph()
    train = tf.train.AdagradOptimizer(0.1).minimize(loss)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        # TF 2.21: city one-hots (la -> 0, tokyo -> 4, '' dropped), price, sqrtn embedding.
        np.testing.assert_allclose(
            sess.run(net)[0],
            [1, 0, 0, 0, 0, 0, 0, 1, -0.21213203, -0.07071068, 0.07071068],
            rtol=1e-6,
        )
        losses = [sess.run([loss, train])[0] for _ in range(5)]
    # The losses TF 2.21 gives for the same model, data and Adagrad(0.1).
    np.testing.assert_allclose(
        losses, [0.57443035, 0.52288353, 0.32847083, 0.25618121, 0.21766405], rtol=1e-5
    )


def test_features_from_parsed_examples_equal_dense_features(run):
    def example(price, city, tags):
        f = tf.train.Feature
        return tf.train.Example(
            features=tf.train.Features(
                feature={
                    "price": f(float_list=tf.train.FloatList(value=[price])),
                    "city": f(bytes_list=tf.train.BytesList(value=[city])),
                    "tags": f(bytes_list=tf.train.BytesList(value=tags)),
                }
            )
        ).SerializeToString()

    serialized = [
        example(1.0, b"sf", [b"a", b"b"]),
        example(5.0, b"nyc", []),
        example(12.0, b"la", [b"c"]),
    ]
    tags = fc.categorical_column_with_hash_bucket("tags", 7)
    cols = [
        fc.numeric_column("price"),
        fc.indicator_column(tags),
        fc.indicator_column(
            fc.categorical_column_with_vocabulary_list("city", ["sf", "nyc"], num_oov_buckets=1)
        ),
    ]
    spec = fc.make_parse_example_spec(cols)

    def build():
        return [
            fc.input_layer(tf.io.parse_example(serialized, spec), cols),
            fc.input_layer(_features(), cols),
        ]

    parsed, direct = run(build)
    np.testing.assert_array_equal(parsed, direct)
    # columns: city (3), price, tags (7)
    np.testing.assert_array_equal(
        parsed[:, 4:], [[0, 0, 1, 0, 0, 1, 0], [0] * 7, [0, 0, 0, 0, 0, 1, 0]]
    )


def _huge():
    cross = fc.crossed_column(["tags", "city"], 2**22)
    return fc.embedding_column(cross, 2, initializer=tf.zeros_initializer())


def test_huge_crossed_embedding_gradient_is_sparse():
    out = fc.input_layer(_features(), [_huge()])
    table = tf.trainable_variables()[0]
    assert table.shape.as_list() == [2**22, 2]
    grad = tf.gradients(tf.reduce_sum(out * tf.constant([[1.0, 2.0]])), table)[0]
    assert isinstance(grad, tf.IndexedSlices)
    step = tf.train.GradientDescentOptimizer(1.0).minimize(tf.reduce_sum(out))
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        g = sess.run(grad)
        # The three touched rows (TF 2.21's crossed ids); row 0 averages two of them.
        order = np.argsort(g.indices)
        assert np.asarray(g.indices)[order].tolist() == [597284, 1068000, 3506677]
        np.testing.assert_allclose(np.asarray(g.values)[order], [[0.5, 1], [0.5, 1], [1, 2]])
        sess.run(step)
        after = sess.run(table)
    changed = np.flatnonzero(np.any(after != 0, axis=1))
    assert changed.tolist() == [597284, 1068000, 3506677]


def test_huge_crossed_embedding_gradient_is_sparse_eagerly():
    with tf.eager_mode():
        col = _huge()
        with tf.GradientTape() as tape:
            total = tf.reduce_sum(fc.input_layer(_features(), [col]))
        table = [v for v in tape.watched_variables() if "embedding_weights" in v.name][0]
        grad = tape.gradient(total, table)
        assert isinstance(grad, tf.IndexedSlices)
        assert sorted(np.asarray(grad.indices).tolist()) == [597284, 1068000, 3506677]
