"""`Dataset.cache()`: the input runs once, later passes replay it (TF's in-memory cache)."""

import numpy as np

import miniflow as tf


def _counting_dataset(calls):
    def count(x):
        calls.append(int(x))
        return x

    return tf.data.Dataset.range(4).map(lambda x: tf.py_func(count, [x], tf.int64, stateful=True))


def test_cache_runs_the_input_once_under_repeat():
    calls = []
    g = tf.Graph()
    with g.as_default():
        nxt = _counting_dataset(calls).cache().repeat(3).make_one_shot_iterator().get_next()
        with tf.Session(graph=g) as sess:
            got = [int(sess.run(nxt)) for _ in range(12)]
    assert got == [0, 1, 2, 3] * 3
    assert calls == [0, 1, 2, 3]  # the map ran once per element, not once per epoch


def test_without_cache_the_input_runs_every_epoch():
    calls = []
    g = tf.Graph()
    with g.as_default():
        nxt = _counting_dataset(calls).repeat(2).make_one_shot_iterator().get_next()
        with tf.Session(graph=g) as sess:
            [sess.run(nxt) for _ in range(8)]
    assert calls == [0, 1, 2, 3] * 2


def test_a_pass_stopped_early_is_not_cached():
    calls = []
    g = tf.Graph()
    with g.as_default():
        ds = _counting_dataset(calls).cache().take(2).repeat(2)
        nxt = ds.make_one_shot_iterator().get_next()
        with tf.Session(graph=g) as sess:
            got = [int(sess.run(nxt)) for _ in range(4)]
    assert got == [0, 1, 0, 1]
    assert calls == [0, 1, 0, 1]


def test_cached_dataset_keeps_cardinality_and_values_eagerly():
    with tf.eager_mode():
        ds = tf.data.Dataset.from_tensor_slices(np.arange(5.0)).cache()
        assert [float(x) for x in ds] == [0.0, 1.0, 2.0, 3.0, 4.0]
        assert int(tf.data.experimental.cardinality(ds)) == 5
