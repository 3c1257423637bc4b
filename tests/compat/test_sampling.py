"""`tf.random.categorical` (`tf.multinomial`) and `tf.random.poisson`, graph and eager.
Shapes, dtypes and names marked "TF" were obtained from TensorFlow 2.21's `tf.compat.v1`
in graph mode; the sampled values are NumPy's (TF's streams differ), so they are checked
against the distributions."""

from __future__ import annotations

import numpy as np
import pytest

import miniflow as tf


def test_categorical_shapes_dtypes_and_names_match_tf():
    with tf.Graph().as_default():
        c = tf.random.categorical(tf.log([[0.5, 0.5], [0.1, 0.9]]), 5)
        m = tf.multinomial(tf.zeros([3, 4]), 2, output_dtype=tf.int32)
        n = tf.random.categorical(tf.zeros([3, 4]), tf.placeholder(tf.int32, []))
        # TF: categorical/Multinomial:0 (2, 5) int64; multinomial/... (3, 2) int32; (3, ?)
        assert (c.name, c.shape.as_list(), c.dtype) == (
            "categorical/Multinomial:0",
            [2, 5],
            tf.int64,
        )
        assert (m.shape.as_list(), m.dtype) == ([3, 2], tf.int32)
        assert n.shape.as_list() == [3, None]
        with pytest.raises(ValueError, match="rank 2"):
            tf.random.categorical(tf.zeros([4]), 2)
    assert tf.random.multinomial is tf.multinomial


def test_categorical_follows_softmax_of_the_logits():
    probs = np.array([0.1, 0.2, 0.7])
    with tf.Graph().as_default(), tf.Session() as sess:
        draws = sess.run(tf.random.categorical(np.log([probs]), 20000, seed=1))
        never = sess.run(tf.random.categorical([[0.0, -np.inf, 0.0]], 1000, seed=2))
        empty = sess.run(tf.random.categorical(tf.zeros([2, 3]), 0))
    freq = np.bincount(draws.ravel(), minlength=3) / draws.size
    np.testing.assert_allclose(freq, probs, atol=0.015)  # ~4 standard errors
    assert 1 not in never and set(np.unique(never)) == {0, 2}
    assert empty.shape == (2, 0)  # TF


def test_categorical_is_reproducible_with_seeds_in_graph_and_eager():
    def run():
        with tf.Graph().as_default():
            tf.set_random_seed(7)
            x = tf.random.categorical(tf.zeros([2, 10]), 8)
            with tf.Session() as sess:
                return sess.run(x)

    np.testing.assert_array_equal(run(), run())
    with tf.eager_mode():  # eager calls continue one stream per seed, like TF's
        a = tf.random.categorical([[0.0, 0.0, 0.0]], 50, seed=3).numpy()
    assert a.shape == (1, 50) and a.dtype == np.int64 and set(np.unique(a)) == {0, 1, 2}


def test_categorical_with_no_classes_fails_at_run_like_tf():
    with tf.Graph().as_default(), tf.Session() as sess:
        with pytest.raises(tf.errors.InvalidArgumentError, match="num_classes"):
            sess.run(tf.random.categorical(tf.zeros([2, 0]), 4))


def test_poisson_shapes_and_means():
    with tf.Graph().as_default():
        p = tf.random.poisson([1.0, 5.0], [3, 2])
        q = tf.random_poisson([[1.0]], [2], dtype=tf.int32)
        # TF: random_poisson/RandomPoissonV2:0 (3, 2, 2) float32; (2, 1, 1) int32
        assert (p.name, p.shape.as_list(), p.dtype) == (
            "random_poisson/RandomPoissonV2:0",
            [3, 2, 2],
            tf.float32,
        )
        assert (q.shape.as_list(), q.dtype) == ([2, 1, 1], tf.int32)
        many = tf.random.poisson([0.0, 2.0, 30.0], [20000], seed=5)
        with tf.Session() as sess:
            values = sess.run(many)
    assert (values[:, 0] == 0).all()
    np.testing.assert_allclose(values.mean(axis=0), [0.0, 2.0, 30.0], rtol=0.03, atol=1e-9)
    np.testing.assert_allclose(values.var(axis=0)[1:], [2.0, 30.0], rtol=0.06)
    with tf.eager_mode():
        assert tf.random.poisson(3.0, [4], seed=1).shape.as_list() == [4]
    assert tf.random.poisson is tf.random_poisson


def test_sampling_ops_have_no_gradient():
    with tf.Graph().as_default():
        logits = tf.zeros([2, 3])
        lam = tf.constant([1.0])
        assert tf.gradients(tf.cast(tf.random.categorical(logits, 2), tf.float32), logits) == [None]
        assert tf.gradients(tf.random.poisson(lam, [2]), lam) == [None]
