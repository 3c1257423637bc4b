"""Clipping by norm against NumPy formulas; IndexedSlices stay sparse."""

import numpy as np
import pytest

import miniflow as tf


def _norm(*arrays):
    return np.sqrt(sum(np.sum(np.square(a)) for a in arrays))


@pytest.mark.parametrize("scale", [0.1, 10.0])
def test_clip_by_norm_whole_tensor(scale):
    x = np.array([[3.0, 4.0], [1.0, -2.0]], np.float32) * scale
    with tf.Session(graph=tf.Graph()) as sess, sess.graph.as_default():
        got = sess.run(tf.clip_by_norm(tf.constant(x), 5.0))
    np.testing.assert_allclose(got, x * 5.0 / max(_norm(x), 5.0), rtol=1e-6)


def test_clip_by_norm_along_axes_and_zero_rows():
    x = np.array([[3.0, 4.0], [0.0, 0.0], [0.3, 0.4]], np.float32)
    with tf.Graph().as_default():
        xt = tf.constant(x)
        t = tf.clip_by_norm(xt, 1.0, axes=[1])
        (g,) = tf.gradients(tf.reduce_sum(t), [xt])
        with tf.Session() as sess:
            got, grad = sess.run([t, g])
    want = x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1.0)
    np.testing.assert_allclose(got, want, rtol=1e-6)
    # The all-zero row is below the norm: its gradient is the identity's, not NaN.
    np.testing.assert_allclose(grad[1:], [[1.0, 1.0], [1.0, 1.0]], rtol=1e-6)


def test_global_norm_and_clip_by_global_norm():
    a = np.array([3.0, 4.0], np.float32)
    b = np.array([[12.0]], np.float32)
    with tf.Graph().as_default():
        norm = tf.global_norm([tf.constant(a), None, tf.constant(b)])
        clipped, n2 = tf.clip_by_global_norm([tf.constant(a), None, tf.constant(b)], 6.5)
        with tf.Session() as sess:
            got_norm, got, got_n2 = sess.run([norm, [clipped[0], clipped[2]], n2])
    assert got_norm == pytest.approx(13.0)
    assert got_n2 == pytest.approx(13.0)
    assert clipped[1] is None
    np.testing.assert_allclose(got[0], a * 0.5, rtol=1e-6)
    np.testing.assert_allclose(got[1], b * 0.5, rtol=1e-6)


@pytest.mark.filterwarnings("ignore:invalid value:RuntimeWarning")
def test_clip_by_global_norm_leaves_small_gradients_and_nans_on_inf():
    with tf.Graph().as_default():
        small, _ = tf.clip_by_global_norm([tf.constant([0.3, 0.4])], 1.0)
        bad, norm = tf.clip_by_global_norm([tf.constant([np.inf, 1.0])], 1.0)
        with tf.Session() as sess:
            np.testing.assert_allclose(sess.run(small[0]), [0.3, 0.4], rtol=1e-6)
            got, n = sess.run([bad[0], norm])
    assert np.isinf(n) and np.all(np.isnan(got))


def test_indexed_slices_are_clipped_through_their_values():
    with tf.Graph().as_default():
        emb = tf.Variable(np.ones((10, 2), np.float32))
        loss = tf.reduce_sum(tf.gather(emb, [1, 4]) * tf.constant([[3.0, 0.0], [0.0, 4.0]]))
        (g,) = tf.gradients(loss, [emb])
        assert isinstance(g, tf.IndexedSlices)
        (c,), norm = tf.clip_by_global_norm([g], 2.5)
        assert isinstance(c, tf.IndexedSlices)
        one = tf.clip_by_norm(g, 1.0)
        assert isinstance(one, tf.IndexedSlices)
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            cv, nv, ov = sess.run([c, norm, one])
    assert nv == pytest.approx(5.0)
    np.testing.assert_allclose(cv.values, [[1.5, 0.0], [0.0, 2.0]], rtol=1e-6)
    np.testing.assert_array_equal(cv.indices, [1, 4])
    np.testing.assert_allclose(ov.values, [[0.6, 0.0], [0.0, 0.8]], rtol=1e-6)


def test_bad_t_list_is_type_error():
    with pytest.raises(TypeError, match="sequence"):
        tf.clip_by_global_norm(tf.constant([1.0]), 1.0)
