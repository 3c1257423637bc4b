"""tf.scan, tf.foldl, tf.foldr, tf.switch_case, tf.vectorized_map in graph and eager
mode. The expected numbers were obtained from TensorFlow 2.21 (tf.compat.v1, graph
mode) running the same programs."""

import numpy as np
import pytest

import miniflow as tf

X = [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]


def test_scan_variants(run):
    def build():
        x, w = tf.constant(X), tf.constant(0.5)
        return [
            tf.scan(lambda a, e: a * w + e, x),
            tf.scan(lambda a, e: a * w + e, x, initializer=tf.ones([2]), reverse=True),
            tf.scan(
                lambda a, e: (a[0] + e, a[1] * e), x, initializer=(tf.zeros([2]), tf.ones([2]))
            ),
        ]

    plain, reverse, pair = run(build)
    np.testing.assert_allclose(plain, [[1, 2], [3.5, 5], [6.75, 8.5]])
    np.testing.assert_allclose(reverse, [[3.875, 5.625], [5.75, 7.25], [5.5, 6.5]])
    np.testing.assert_allclose(pair[0], [[1, 2], [4, 6], [9, 12]])
    np.testing.assert_allclose(pair[1], [[1, 2], [3, 8], [15, 48]])
    assert plain.dtype == np.float32


def test_folds(run):
    def build():
        x, w = tf.constant(X), tf.constant(0.5)
        return [
            tf.foldl(lambda a, e: a * w + e, x),
            tf.foldr(lambda a, e: a * w + e, x, initializer=tf.ones([2])),
            tf.foldl(lambda a, e: a + e[0] * e[1], (x, x * 2.0), initializer=tf.zeros([2])),
        ]

    left, right, nested = run(build)
    np.testing.assert_allclose(left, [6.75, 8.5])
    np.testing.assert_allclose(right, [3.875, 5.625])
    np.testing.assert_allclose(nested, [70.0, 112.0])


def test_gradients_match_tensorflow():
    x, w = tf.constant(X), tf.constant(0.5)
    s1 = tf.scan(lambda a, e: a * w + e, x)
    s2 = tf.scan(lambda a, e: a * w + e, x, initializer=tf.ones([2]), reverse=True)
    f1 = tf.foldl(lambda a, e: a * w + e, x)
    f2 = tf.foldr(lambda a, e: a * w + e, x, initializer=tf.ones([2]))
    loss = tf.reduce_sum(s1 * s1) + tf.reduce_sum(f2 * f1) + tf.reduce_sum(s2)
    with tf.Session() as sess:
        gx, gw = sess.run(tf.gradients(loss, [x, w]))
    np.testing.assert_allclose(
        gx, [[17.59375, 24.15625], [20.5625, 27.0625], [20.8125, 26.5]], rtol=1e-6
    )
    np.testing.assert_allclose(gw, 417.1875, rtol=1e-6)


def test_scan_static_shape_and_name():
    out = tf.scan(lambda a, e: a + e, tf.constant(X))
    assert out.shape.as_list() == [3, 2]
    assert out.name.startswith("scan/")


def test_scan_over_a_run_time_length():
    x = tf.placeholder(tf.float32, [None])
    out = tf.scan(lambda a, e: a + e, x)
    with tf.Session() as sess:
        np.testing.assert_allclose(sess.run(out, {x: [1.0, 2.0, 3.0, 4.0]}), [1, 3, 6, 10])


def test_scan_rejects_scalars_and_mismatched_structures():
    with pytest.raises(ValueError, match="scalars"):
        tf.scan(lambda a, e: a + e, tf.constant(1.0))
    with pytest.raises(ValueError, match="structures must match"):
        tf.scan(lambda a, e: (a, a), tf.constant(X))


def test_switch_case(run):
    def build():
        fns = [lambda: tf.constant(10), lambda: tf.constant(20)]
        return [tf.switch_case(tf.constant(k), fns) for k in (0, 1, 5, -1)] + [
            tf.switch_case(
                tf.constant(7),
                {1: lambda: tf.constant(1), 0: lambda: tf.constant(0)},
                default=lambda: tf.constant(-1),
            )
        ]

    assert [int(v) for v in run(build)] == [10, 20, 20, 20, -1]  # out of range: last


def test_switch_case_gradient_only_from_the_taken_branch():
    x = tf.constant(3.0)
    y = tf.switch_case(tf.constant(1), [lambda: x * 2.0, lambda: x * x, lambda: x])
    with tf.Session() as sess:
        assert sess.run(tf.gradients(y, x)[0]) == 6.0


def test_switch_case_checks_its_arguments():
    with pytest.raises(TypeError, match="int32"):
        tf.switch_case(tf.constant(1.0), [lambda: 1])
    with pytest.raises(ValueError, match="at least one"):
        tf.switch_case(tf.constant(1), [])
    with pytest.raises(ValueError, match=r"contiguous range of \[0 to 1\) but found \{1\}"):
        tf.switch_case(tf.constant(1), {1: lambda: 1})


def test_vectorized_map(run):
    out = run(lambda: tf.vectorized_map(lambda r: tf.reduce_sum(r * r), tf.constant(X)))
    np.testing.assert_allclose(out, [5.0, 25.0, 61.0])


def test_map_fn_over_a_run_time_length_runs_a_loop():
    x = tf.placeholder(tf.float32, [None, 2])
    w = tf.constant(2.0)
    out = tf.map_fn(lambda r: tf.reduce_sum(r * r) * w, x)
    pair = tf.map_fn(lambda r: (r[0], tf.cast(r[1], tf.int32)), x, dtype=(tf.float32, tf.int32))
    gx, gw = tf.gradients(out, [x, w])
    with tf.Session() as sess:
        o, p, gxv, gwv = sess.run([out, pair, gx, gw], {x: [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]})
    np.testing.assert_allclose(o, [10.0, 50.0, 122.0])
    np.testing.assert_allclose(p[0], [1.0, 3.0, 5.0])
    np.testing.assert_array_equal(p[1], [2, 4, 6])
    assert p[1].dtype == np.int32
    np.testing.assert_allclose(gxv, [[4.0, 8.0], [12.0, 16.0], [20.0, 24.0]])  # 2 * w * x
    np.testing.assert_allclose(gwv, 91.0)  # sum of squares
