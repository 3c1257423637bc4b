"""Global step and learning-rate schedules against their formulas."""

import math

import numpy as np
import pytest

import miniflow as tf


def test_get_or_create_global_step_creates_one_int64_zero():
    tf.reset_default_graph()
    assert tf.train.get_global_step() is None
    step = tf.train.get_or_create_global_step()
    assert step.op.name == "global_step" and step.dtype == tf.int64
    assert step.shape.as_list() == [] and not step.trainable
    assert tf.train.get_or_create_global_step() is step
    assert tf.train.get_global_step() is step
    assert tf.get_collection(tf.GraphKeys.GLOBAL_STEP) == [step]
    with pytest.raises(ValueError, match="already exists"):
        tf.train.create_global_step()
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        assert sess.run(step) == 0
        assert tf.train.global_step(sess, step) == 0


def test_global_step_is_per_graph_and_found_by_name():
    g1, g2 = tf.Graph(), tf.Graph()
    s1 = tf.train.get_or_create_global_step(g1)
    assert tf.train.get_global_step(g2) is None
    assert s1.graph is g1
    with g2.as_default():
        v = tf.Variable(0, dtype=tf.int64, name="global_step", trainable=False)
        assert tf.train.get_global_step().op is v.op


def test_global_step_of_wrong_type_is_rejected():
    tf.reset_default_graph()
    tf.Variable(0.5, name="global_step")
    with pytest.raises(TypeError, match="integer type"):
        tf.train.get_global_step()


def _run_schedule(make, steps):
    tf.reset_default_graph()
    step = tf.placeholder(tf.int64, [])
    lr = make(step)
    with tf.Session() as sess:
        return [float(sess.run(lr, {step: s})) for s in steps]


STEPS = [0, 1, 5, 99, 100, 101, 250, 1000]


def test_exponential_decay():
    got = _run_schedule(lambda s: tf.train.exponential_decay(0.5, s, 100, 0.9), STEPS)
    np.testing.assert_allclose(got, [0.5 * 0.9 ** (s / 100) for s in STEPS], rtol=1e-6)


def test_exponential_decay_staircase():
    got = _run_schedule(
        lambda s: tf.train.exponential_decay(0.5, s, 100, 0.9, staircase=True), STEPS
    )
    np.testing.assert_allclose(got, [0.5 * 0.9 ** (s // 100) for s in STEPS], rtol=1e-6)


def test_piecewise_constant_includes_boundaries_in_the_earlier_piece():
    got = _run_schedule(
        lambda s: tf.train.piecewise_constant(s, [100, 250], [1.0, 0.5, 0.1]), STEPS
    )
    want = [1.0 if s <= 100 else 0.5 if s <= 250 else 0.1 for s in STEPS]
    np.testing.assert_allclose(got, want)
    with pytest.raises(ValueError, match="1 less than"):
        tf.train.piecewise_constant(tf.constant(1), [1, 2], [1.0, 2.0])


def test_polynomial_decay():
    got = _run_schedule(lambda s: tf.train.polynomial_decay(0.5, s, 200, 0.01, power=2.0), STEPS)
    want = [(0.5 - 0.01) * (1 - min(s, 200) / 200) ** 2 + 0.01 for s in STEPS]
    np.testing.assert_allclose(got, want, rtol=1e-6)


def test_polynomial_decay_cycle():
    got = _run_schedule(lambda s: tf.train.polynomial_decay(0.5, s, 200, 0.01, cycle=True), STEPS)

    def want(s):
        horizon = 200 * (1 if s == 0 else math.ceil(s / 200))
        return (0.5 - 0.01) * (1 - s / horizon) + 0.01

    np.testing.assert_allclose(got, [want(s) for s in STEPS], rtol=1e-6)


def test_inverse_time_and_natural_exp_decay():
    got = _run_schedule(lambda s: tf.train.inverse_time_decay(0.5, s, 100, 0.5), STEPS)
    np.testing.assert_allclose(got, [0.5 / (1 + 0.5 * s / 100) for s in STEPS], rtol=1e-6)
    got = _run_schedule(
        lambda s: tf.train.natural_exp_decay(0.5, s, 100, 0.5, staircase=True), STEPS
    )
    np.testing.assert_allclose(got, [0.5 * math.exp(-0.5 * (s // 100)) for s in STEPS], rtol=1e-6)


def test_cosine_decay():
    got = _run_schedule(lambda s: tf.train.cosine_decay(0.5, s, 200, alpha=0.1), STEPS)
    want = [0.5 * (0.9 * 0.5 * (1 + math.cos(math.pi * min(s, 200) / 200)) + 0.1) for s in STEPS]
    np.testing.assert_allclose(got, want, rtol=1e-6)


def test_decay_needs_a_global_step():
    with pytest.raises(ValueError, match="global_step is required"):
        tf.train.exponential_decay(0.1, None, 10, 0.5)


def test_decayed_rate_drives_the_optimizer_with_the_global_step():
    tf.reset_default_graph()
    x = tf.Variable(0.0)
    step = tf.train.get_or_create_global_step()
    lr = tf.train.exponential_decay(1.0, step, 1, 0.5)
    train = tf.train.GradientDescentOptimizer(lr).minimize(-x, global_step=step)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for _ in range(3):
            sess.run(train)
        assert sess.run(x) == pytest.approx(1.0 + 0.5 + 0.25)
        assert sess.run(step) == 3
