"""Regression tests for eager-mode bugs (issue 13): string values keep trailing NUL bytes,
the global step is found again, scalar variables convert to Python numbers, setting the
global seed restarts seeded random streams, and ops check their input dtypes.

Expected behaviour was taken from real TensorFlow 2.x (eager, and ``tf.compat.v1`` graph
mode where stated)."""

from __future__ import annotations

import numpy as np
import pytest

import miniflow as tf

# -- 1. string tensors are object arrays of bytes; no byte is dropped ----------------------

# TF eager: tf.constant(b"ab\x00").numpy() == b"ab\x00"; tf.gather([b"a\x00", b"b"], 0)
# gives b"a\x00"; decode_raw of it gives [97, 0]; .numpy() of a vector is dtype=object.


def _string_cases():
    return {
        "constant": (lambda: tf.constant(b"ab\x00"), b"ab\x00"),
        "join": (lambda: tf.strings.join([b"ab\x00", b"c\x00"]), b"ab\x00c\x00"),
        "base64": (lambda: tf.io.decode_base64(tf.io.encode_base64(b"ab\x00")), b"ab\x00"),
        "gather": (lambda: tf.gather([b"a\x00", b"b"], 0), b"a\x00"),
        "decode_raw": (
            lambda: tf.io.decode_raw(tf.gather([b"ab\x00\x00"], 0), tf.uint8),
            np.array([97, 98, 0, 0], np.uint8),
        ),
    }


@pytest.mark.parametrize("case", sorted(_string_cases()))
def test_eager_strings_keep_trailing_nul_bytes(case):
    make, want = _string_cases()[case]
    with tf.eager_mode():
        got = make().numpy()
    if isinstance(want, bytes):
        assert type(got) is bytes and got == want
    else:
        np.testing.assert_array_equal(got, want)
        assert got.dtype == want.dtype


@pytest.mark.parametrize("case", sorted(_string_cases()))
def test_graph_strings_keep_trailing_nul_bytes(case):
    make, want = _string_cases()[case]
    with tf.Graph().as_default():
        t = make()
        with tf.Session() as sess:
            got = sess.run(t)
    if isinstance(want, bytes):
        assert type(got) is bytes and got == want
    else:
        np.testing.assert_array_equal(got, want)


def test_string_vectors_are_object_arrays_of_bytes_in_both_modes():
    want = [b"a\x00", b"b\x00\x00"]
    with tf.eager_mode():
        e = tf.gather([b"x", b"a\x00", b"b\x00\x00"], [1, 2]).numpy()
        s = tf.gather([b"x", b"a\x00", b"b\x00\x00"], 1)
        assert s.dtype == tf.string and s._value.dtype == object
    with tf.Graph().as_default(), tf.Session() as sess:
        g = sess.run(tf.gather([b"x", b"a\x00", b"b\x00\x00"], [1, 2]))
    for got in (e, g):
        assert got.dtype == object and got.tolist() == want


# -- 2. the global step is created once ----------------------------------------------------


def test_eager_get_or_create_global_step_returns_the_existing_one():
    with tf.eager_mode(), tf.Graph().as_default():
        step = tf.train.get_or_create_global_step()
        assert int(step) == 0  # 0 is falsy: it must still count as existing
        again = tf.train.get_or_create_global_step()
        assert again is step and tf.train.get_global_step() is step
        step.assign_add(1)
        assert tf.train.get_or_create_global_step().numpy() == 1


def test_graph_get_or_create_global_step_returns_the_existing_one():
    with tf.Graph().as_default():
        step = tf.train.get_or_create_global_step()
        assert tf.train.get_or_create_global_step() is step
        assert step.name == "global_step:0"
        with pytest.raises(ValueError, match="already exists"):
            tf.train.create_global_step()


# -- 3. Python number conversions of scalar variables --------------------------------------

# TF eager: int(Variable(3)) == 3, float(...) == 3.0, bool(Variable(0.0)) is False,
# int(Variable(2.5)) == 2, int(Variable([1, 2])) raises TypeError, bool(Variable([1, 2]))
# raises ValueError; a variable has no __index__ (AttributeError) in eager or graph mode.


def test_eager_scalar_variable_converts_to_python_numbers():
    with tf.eager_mode():
        v, f, z = tf.Variable(3), tf.Variable(2.5), tf.Variable(0.0)
        assert int(v) == 3 and type(int(v)) is int
        assert float(v) == 3.0 and type(float(v)) is float
        assert bool(v) is True and bool(z) is False
        assert int(f) == 2 and float(f) == 2.5
        v.assign(7)
        assert int(v) == 7  # the current value, not the initial one
        with pytest.raises(TypeError):
            int(tf.Variable([1, 2]))
        with pytest.raises(ValueError):
            bool(tf.Variable([1, 2]))
        assert not hasattr(v, "__index__")  # as TF's ResourceVariable
        # a read tensor of an integer variable can index, as in TF
        assert [10, 20, 30, 40, 50, 60, 70, 80][v.read_value()] == 80


def test_graph_variable_number_conversions_raise_type_error():
    # TF1 graph mode (RefVariable): int() and float() raise TypeError, bool() is True
    with tf.Graph().as_default():
        v = tf.Variable(0)
        with pytest.raises(TypeError, match="int"):
            int(v)
        with pytest.raises(TypeError, match="float"):
            float(v)
        assert bool(v) is True


# -- 4. setting the global seed restarts seeded random streams -----------------------------

# TF eager: after tf.random.set_seed(1), uniform([2], seed=3) gives a, then a2 != a; after
# set_seed(1) again it gives a, a2 once more. Without an op seed the same holds. Each op
# type keeps its own stream: normal(seed=3) drawn first does not shift uniform(seed=3).


def _draws(op, seed=None):
    return [op([2], seed=seed).numpy() for _ in range(2)]


def test_eager_set_random_seed_restarts_op_seed_streams():
    with tf.eager_mode():
        tf.set_random_seed(1)
        a = _draws(tf.random.uniform, seed=3)
        assert not np.array_equal(a[0], a[1])
        tf.set_random_seed(1)
        np.testing.assert_array_equal(_draws(tf.random.uniform, seed=3), a)
        tf.random.set_seed(1)
        n = _draws(tf.random.normal, seed=3)
        np.testing.assert_array_equal(_draws(tf.random.uniform, seed=3), a)
        tf.random.set_seed(1)
        np.testing.assert_array_equal(_draws(tf.random.normal, seed=3), n)
        tf.random.set_seed(2)
        assert not np.array_equal(tf.random.uniform([2], seed=3).numpy(), a[0])


def test_eager_set_random_seed_restarts_unseeded_ops():
    with tf.eager_mode():
        tf.set_random_seed(5)
        a = _draws(tf.random.uniform)
        assert not np.array_equal(a[0], a[1])
        tf.set_random_seed(5)
        np.testing.assert_array_equal(_draws(tf.random.uniform), a)


def test_eager_set_random_seed_keeps_other_op_state():
    with tf.eager_mode():
        q = tf.FIFOQueue(3, tf.int32)
        q.enqueue(4)
        tf.set_random_seed(1)
        assert q.size().numpy() == 1 and q.dequeue().numpy() == 4


# -- 5. eager ops check their input dtypes -------------------------------------------------

# TF eager: tf.sqrt(tf.constant(4)) raises InvalidArgumentError "Value for attr 'T' of int32
# is not in the list of allowed values: bfloat16, half, float, double, complex64,
# complex128"; so does tf.exp. Graph mode raises TypeError at construction.


@pytest.mark.parametrize("fn", [tf.sqrt, tf.exp, tf.math.log])
def test_eager_float_ops_reject_integer_inputs(fn):
    with tf.eager_mode():
        with pytest.raises(tf.errors.InvalidArgumentError, match="int32.*allowed values"):
            fn(tf.constant(4))
        assert fn(tf.constant(4.0)).dtype == tf.float32
        assert fn(tf.constant(4.0, tf.float64)).dtype == tf.float64
    with tf.Graph().as_default():
        with pytest.raises(TypeError, match="int32.*allowed values"):
            fn(tf.constant(4))


def test_eager_dtype_check_covers_converted_and_binary_inputs():
    with tf.eager_mode():
        with pytest.raises(tf.errors.InvalidArgumentError, match="allowed values"):
            tf.sqrt([4, 9])
        with pytest.raises(tf.errors.InvalidArgumentError, match="allowed values"):
            tf.abs(tf.constant("a"))
        np.testing.assert_array_equal(tf.abs(tf.constant([-2, 3])).numpy(), [2, 3])
        np.testing.assert_array_equal(tf.square(tf.constant(3, tf.int64)).numpy(), 9)
