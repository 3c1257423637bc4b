"""tf.TensorArray in graph and eager mode, alone and through tf.while_loop. Expected
values were computed by hand and checked against TensorFlow 2.21 (tf.compat.v1, graph
mode)."""

import numpy as np
import pytest

import miniflow as tf


def test_write_read_stack_gather_concat_size(run):
    def build():
        ta = tf.TensorArray(tf.float32, size=3)
        ta = ta.write(0, [1.0, 2.0]).write(2, [5.0, 6.0])
        return [ta.stack(), ta.read(2), ta.size(), ta.concat(), ta.gather([2, 0])]

    stack, read, size, concat, gathered = run(build)
    np.testing.assert_array_equal(stack, [[1, 2], [0, 0], [5, 6]])  # unwritten: zeros
    assert stack.dtype == np.float32
    np.testing.assert_array_equal(read, [5, 6])
    assert size == 3 and np.asarray(size).dtype == np.int32
    np.testing.assert_array_equal(concat, [1, 2, 0, 0, 5, 6])
    np.testing.assert_array_equal(gathered, [[5, 6], [1, 2]])


def test_unstack_scatter_split_and_dynamic_size(run):
    def build():
        grown = tf.TensorArray(tf.float32, size=0, dynamic_size=True)
        grown = grown.unstack(tf.constant([[1.0, 2], [3, 4]])).write(3, [9.0, 9.0])
        scattered = tf.TensorArray(tf.int32, size=4).scatter([3, 1], [7, 8])
        split = tf.TensorArray(tf.float32, size=2).split(tf.range(6.0), [3, 3])
        return [grown.stack(), grown.size(), scattered.stack(), split.read(1)]

    grown, size, scattered, piece = run(build)
    np.testing.assert_array_equal(grown, [[1, 2], [3, 4], [0, 0], [9, 9]])
    assert size == 4
    np.testing.assert_array_equal(scattered, [0, 8, 0, 7])
    np.testing.assert_array_equal(piece, [3, 4, 5])


def test_static_shapes_follow_writes():
    ta = tf.TensorArray(tf.float32, size=3).write(0, [1.0, 2.0])
    assert ta.element_shape.as_list() == [2]
    assert ta.stack().shape.as_list() == [3, 2]  # TF: (3, 2)
    assert ta.read(0).shape.as_list() == [2]
    assert ta.dtype == tf.float32


def test_inconsistent_element_shape_is_a_construction_error():
    ta = tf.TensorArray(tf.float32, size=3).write(0, [1.0, 2.0])
    with pytest.raises(
        ValueError,
        match=r"Inconsistent shapes: saw \(3,\) but expected "
        r"\(2,\)",
    ):
        ta.write(1, [1.0, 2.0, 3.0])


def test_write_past_the_end_of_a_fixed_size_array_fails_at_run_time():
    out = tf.TensorArray(tf.float32, size=2).write(5, 1.0).stack()
    with tf.Session() as sess, pytest.raises(tf.errors.InvalidArgumentError):
        sess.run(out)


def test_size_is_required():
    with pytest.raises(ValueError, match="Size must be provided"):
        tf.TensorArray(tf.float32)


def test_unequal_split_lengths_are_unimplemented():
    with pytest.raises(tf.errors.UnimplementedError, match="equal"):
        tf.TensorArray(tf.float32, size=2).split(tf.range(6.0), [2, 4])


def _loop_program():
    x = tf.constant([1.0, 2.0, 3.0])
    w = tf.constant(2.0)
    ta = tf.TensorArray(tf.float32, size=3)

    def body(i, acc, ta):
        acc = acc * w + x[i]
        return i + 1, acc, ta.write(i, acc * x)

    _, _, out = tf.while_loop(lambda i, a, t: i < 3, body, [tf.constant(0), tf.constant(0.0), ta])
    return x, w, out.stack()


def test_tensor_array_through_while_loop(run):
    stacked = run(lambda: _loop_program()[2])
    np.testing.assert_array_equal(stacked, [[1, 2, 3], [4, 8, 12], [11, 22, 33]])


def test_gradient_through_while_loop_matches_tensorflow():
    x, w, res = _loop_program()
    loss = tf.reduce_sum(res * res)
    gx, gw = tf.gradients(loss, [x, w])
    with tf.Session() as sess:
        gx, gw = sess.run([gx, gw])
    np.testing.assert_allclose(gx, [1760.0, 1280.0, 1136.0])  # TF 2.21: same
    np.testing.assert_allclose(gw, 1960.0)


def test_eager_tape_gradient_through_while_loop():
    with tf.eager_mode():
        x, w = tf.constant([1.0, 2.0, 3.0]), tf.constant(2.0)
        with tf.GradientTape() as tape:
            tape.watch([x, w])
            ta = tf.TensorArray(tf.float32, size=3)

            def body(i, acc, ta):
                acc = acc * w + x[i]
                return i + 1, acc, ta.write(i, acc * x)

            _, _, out = tf.while_loop(
                lambda i, a, t: i < 3, body, [tf.constant(0), tf.constant(0.0), ta]
            )
            res = out.stack()
            loss = tf.reduce_sum(res * res)
        gx, gw = tape.gradient(loss, [x, w])
    np.testing.assert_allclose(gx.numpy(), [1760.0, 1280.0, 1136.0])
    np.testing.assert_allclose(gw.numpy(), 1960.0)


def test_single_tensor_array_loop_var_comes_back_as_a_tensor_array(run):
    def build():
        ta = tf.TensorArray(tf.float32, size=0, dynamic_size=True)
        out = tf.while_loop(
            lambda t: t.size() < 4, lambda t: t.write(t.size(), tf.cast(t.size(), tf.float32)), ta
        )
        assert isinstance(out, tf.TensorArray)
        return out.stack()

    np.testing.assert_array_equal(run(build), [0, 1, 2, 3])


def test_string_bool_and_run_time_size():
    strings = tf.TensorArray(tf.string, size=2).write(1, "ab")
    x = tf.placeholder(tf.float32, [None, 2])
    rows = tf.TensorArray(tf.float32, size=tf.shape(x)[0]).unstack(x)
    flags = tf.TensorArray(tf.bool, size=2).write(0, True)
    with tf.Session() as sess:
        s, r, f, n = sess.run(
            [strings.stack(), rows.read(1), flags.stack(), rows.size()],
            {x: [[1, 2], [3, 4], [5, 6]]},
        )
    assert list(s) == [b"", b"ab"]
    np.testing.assert_array_equal(r, [3, 4])
    assert list(f) == [True, False] and n == 3
