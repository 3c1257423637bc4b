"""ExponentialMovingAverage against the recurrence written out in NumPy."""

import numpy as np
import pytest

import miniflow as tf


@pytest.fixture(autouse=True)
def _fresh_graph():
    tf.reset_default_graph()


def test_shadow_tracks_the_recurrence_and_starts_at_the_initial_value():
    w = tf.Variable([1.0, -2.0], name="w")
    b = tf.Variable(3.0, name="b")
    ema = tf.train.ExponentialMovingAverage(0.75)
    update = ema.apply([w, b])
    avg_w = ema.average(w)
    assert avg_w.op.name == "w/ExponentialMovingAverage"
    assert ema.average_name(b) == "b/ExponentialMovingAverage"
    assert not avg_w.trainable and avg_w not in tf.trainable_variables()
    assert tf.moving_average_variables() == [w, b]
    new_w = tf.placeholder(tf.float32, [2])
    set_w = w.assign(new_w)
    shadow, ref = np.array([1.0, -2.0]), None
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        np.testing.assert_allclose(sess.run(avg_w), [1.0, -2.0])
        for value in ([2.0, 0.0], [4.0, 4.0], [0.0, 1.0]):
            sess.run(set_w, {new_w: value})
            sess.run(update)
            shadow = shadow - (1 - 0.75) * (shadow - np.array(value))
            np.testing.assert_allclose(sess.run(avg_w), shadow, rtol=1e-6)
        ref = sess.run(ema.average(b))
    assert ref == pytest.approx(3.0)


def test_num_updates_caps_the_decay():
    x = tf.Variable(0.0)
    step = tf.placeholder(tf.int64, [])
    ema = tf.train.ExponentialMovingAverage(0.99, num_updates=step)
    update = ema.apply([x])
    set_x = x.assign(10.0)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sess.run(set_x)
        sess.run(update, {step: 0})  # decay = min(0.99, 1/10) = 0.1
        assert sess.run(ema.average(x)) == pytest.approx(0.9 * 10.0)
        sess.run(update, {step: 1000})  # decay = 0.99
        assert sess.run(ema.average(x)) == pytest.approx(9.0 + 0.01 * (10.0 - 9.0))


def test_apply_after_train_op_sees_the_updated_variable():
    w = tf.Variable(1.0)
    train = tf.train.GradientDescentOptimizer(0.5).minimize(w * w)  # w -> 0 in one step
    ema = tf.train.ExponentialMovingAverage(0.5)
    with tf.control_dependencies([train]):
        train_and_average = ema.apply([w])
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sess.run(train_and_average)
        assert sess.run(w) == pytest.approx(0.0)
        assert sess.run(ema.average(w)) == pytest.approx(0.5)


def test_zero_debiased_average_of_a_tensor():
    x = tf.placeholder(tf.float32, [])
    t = tf.identity(x)
    ema = tf.train.ExponentialMovingAverage(0.5, zero_debias=True)
    update = ema.apply([t])
    biased, values = 0.0, [4.0, 2.0, 8.0]
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for k, v in enumerate(values, start=1):
            sess.run(update, {x: v})
            biased = biased - 0.5 * (biased - v)
            assert sess.run(ema.average(t)) == pytest.approx(biased / (1 - 0.5**k))


def test_variables_to_restore_maps_average_names():
    w = tf.Variable(1.0, name="w")
    step = tf.Variable(0, name="step", trainable=False)
    ema = tf.train.ExponentialMovingAverage(0.9)
    ema.apply([w])
    mapping = ema.variables_to_restore()
    assert mapping["w/ExponentialMovingAverage"] is w
    assert mapping["step"] is step
    assert "w" not in mapping


def test_errors():
    w = tf.Variable(1.0)
    ema = tf.train.ExponentialMovingAverage(0.9)
    ema.apply([w])
    with pytest.raises(ValueError, match="already computed"):
        ema.apply([w])
    with pytest.raises(TypeError, match="half, float, or double"):
        ema.apply([tf.Variable(1)])
