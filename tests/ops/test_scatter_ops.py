"""Scatter updates of variables against NumPy, in place, with TF's errors."""

import numpy as np
import pytest

import miniflow as tf

V0 = np.arange(12, dtype=np.float32).reshape(4, 3) + 1


@pytest.fixture(autouse=True)
def _fresh_graph():
    tf.reset_default_graph()


def _run(make_op, v0=V0):
    v = tf.Variable(v0)
    op = make_op(v)
    with tf.Session() as sess:
        sess.run(v.initializer)
        buf = v._slot_in(sess).value
        out = sess.run(op)
        after = sess.run(v)
        assert v._slot_in(sess).value is buf, "scatter must update the buffer in place"
    np.testing.assert_array_equal(out, after)
    return after


UPD = np.array([[10, 20, 30], [1, 2, 3], [-1, -1, -1]], np.float32)
IDX = [2, 0, 2]  # 2 repeats


def test_scatter_update_rows():
    got = _run(lambda v: tf.scatter_update(v, [3, 1], UPD[:2]))
    want = V0.copy()
    want[[3, 1]] = UPD[:2]
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize(
    "fn,ufunc",
    [
        (tf.scatter_add, np.add),
        (tf.scatter_sub, np.subtract),
        (tf.scatter_mul, np.multiply),
        (tf.scatter_div, np.divide),
        (tf.scatter_max, np.maximum),
        (tf.scatter_min, np.minimum),
    ],
)
def test_scatter_combiners_accumulate_repeated_indices(fn, ufunc):
    got = _run(lambda v: fn(v, IDX, UPD))
    want = V0.copy()
    for i, row in zip(IDX, UPD):
        want[i] = ufunc(want[i], row)
    np.testing.assert_allclose(got, want, rtol=1e-6)


def test_scatter_with_scalar_and_nd_indices():
    got = _run(lambda v: tf.scatter_add(v, [[0], [3]], np.ones((2, 1, 3), np.float32)))
    want = V0.copy()
    want[[0, 3]] += 1
    np.testing.assert_array_equal(got, want)
    got = _run(lambda v: tf.scatter_update(v, 1, [7.0, 8.0, 9.0]))
    want = V0.copy()
    want[1] = [7, 8, 9]
    np.testing.assert_array_equal(got, want)


def test_scatter_nd_update_add_sub():
    got = _run(lambda v: tf.scatter_nd_update(v, [[0, 1], [3, 2]], [100.0, 200.0]))
    want = V0.copy()
    want[0, 1], want[3, 2] = 100, 200
    np.testing.assert_array_equal(got, want)
    got = _run(lambda v: tf.scatter_nd_add(v, [[1], [1]], np.ones((2, 3), np.float32)))
    want = V0.copy()
    want[1] += 2
    np.testing.assert_array_equal(got, want)
    got = _run(lambda v: tf.scatter_nd_sub(v, [[2, 0]], [5.0]))
    want = V0.copy()
    want[2, 0] -= 5
    np.testing.assert_array_equal(got, want)


def test_scatter_runs_after_reads_of_the_same_step():
    v = tf.Variable(V0)
    read = tf.identity(v.value())
    upd = tf.scatter_update(v, [0], [[0.0, 0.0, 0.0]])
    with tf.Session() as sess:
        sess.run(v.initializer)
        before, _ = sess.run([read, upd])
    np.testing.assert_array_equal(before, V0)


def test_scatter_errors():
    v = tf.Variable(V0)
    bad_index = tf.scatter_update(v, [4], [[1.0, 2.0, 3.0]])
    bad_shape = tf.scatter_add(v, [0, 1], [[1.0, 2.0, 3.0]])
    bad_nd = tf.scatter_nd_update(v, [[0, 3]], [1.0])
    uninit = tf.scatter_add(tf.Variable(V0), [0], [[1.0, 1.0, 1.0]])
    with tf.Session() as sess:
        sess.run(v.initializer)
        with pytest.raises(
            tf.errors.InvalidArgumentError,
            match=r"indices\[0\] = 4 is not in "
            r"\[0, 4\)",
        ):
            sess.run(bad_index)
        with pytest.raises(tf.errors.InvalidArgumentError, match="Shape of updates"):
            sess.run(bad_shape)
        with pytest.raises(tf.errors.InvalidArgumentError, match=r"= 3 is not in \[0, 3\)"):
            sess.run(bad_nd)
        with pytest.raises(tf.errors.FailedPreconditionError, match="uninitialized"):
            sess.run(uninit)
