"""`tf.random.Generator` against numbers obtained from TensorFlow 2.21 on CPU:
`Generator.from_seed(1)` and the state after each draw."""

from __future__ import annotations

import numpy as np
import pytest

import miniflow as tf


def test_create_rng_state_matches_tf():
    np.testing.assert_array_equal(tf.random.create_rng_state(1, "philox"), [1, 0, 0])
    np.testing.assert_array_equal(tf.random.create_rng_state([1, 2], "philox"), [0, 1, 2])
    np.testing.assert_array_equal(tf.random.create_rng_state(2**70 + 5, "philox"), [5, 64, 0])
    with pytest.raises(ValueError, match="Philox"):
        tf.random.create_rng_state(1, "threefry")


def test_generator_draws_and_state_match_tf_eager():
    with tf.eager_mode():
        g = tf.random.Generator.from_seed(1)
        assert g.algorithm == tf.random.Algorithm.PHILOX.value == 1
        np.testing.assert_array_equal(
            g.uniform([5]).numpy(),
            np.array([0.78749514, 0.3906511, 0.29263055, 0.99216926, 0.95810425], np.float32),
        )
        np.testing.assert_array_equal(g.state.numpy(), [1281, 0, 0])
        g.uniform([5])
        np.testing.assert_allclose(
            g.normal([3]).numpy(), [-0.72790533, -1.6161479, -1.4908872], atol=2e-6
        )
        np.testing.assert_allclose(
            g.uniform([2], dtype=tf.float64).numpy(), [0.69823553, 0.4003722], rtol=1e-7
        )
        np.testing.assert_array_equal(
            g.uniform_full_int([2], dtype=tf.int64).numpy(),
            [-4839541709258232692, 3833500417257657854],
        )
        np.testing.assert_array_equal(
            g.make_seeds(2).numpy(), [[-3206527474837102847, -822974215341821412], [0, 0]]
        )
        np.testing.assert_array_equal(g.state.numpy(), [4865, 0, 0])
        g0 = tf.random.Generator.from_state([0, 0, 0], "philox")
        np.testing.assert_array_equal(
            g0.uniform([3]).numpy(), np.array([0.31179297, 0.8263413, 0.6849456], np.float32)
        )


def test_generator_in_graph_mode_advances_per_run():
    g = tf.random.Generator.from_seed(1)
    u = g.uniform([5], minval=0.0, maxval=2.0)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        first, second = sess.run(u), sess.run(u)
        state = sess.run(g.state)
    np.testing.assert_allclose(
        first, 2 * np.array([0.78749514, 0.3906511, 0.29263055, 0.99216926, 0.95810425], np.float32)
    )
    assert not np.allclose(first, second)
    np.testing.assert_array_equal(state, [2561, 0, 0])


def test_split_binomial_and_global_generator():
    with tf.eager_mode():
        g = tf.random.Generator.from_seed(3)
        a, b = g.split(2)
        assert not np.allclose(a.normal([4]).numpy(), b.normal([4]).numpy())
        x = g.binomial([2000], counts=10.0, probs=0.3).numpy()
        assert x.dtype == np.int32 and abs(x.mean() - 3.0) < 0.2
        i = g.uniform([100], minval=2, maxval=5, dtype=tf.int32).numpy()
        assert set(np.unique(i)) == {2, 3, 4}
        mine = tf.random.Generator.from_seed(5)
        tf.random.set_global_generator(mine)
        assert tf.random.get_global_generator() is mine
        assert tf.random.experimental.get_global_generator() is mine
