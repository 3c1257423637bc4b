"""Loss scaling (tf.mixed_precision / tf.train.experimental) against numbers from real
TensorFlow 2.21 (tf.compat.v1, graph mode), written in below."""

from __future__ import annotations

import numpy as np
import pytest

import miniflow as tf

INF, NAN = np.inf, np.nan
# TF: DynamicLossScale(4, increment_period=2, multiplier=3) around GradientDescent(0.1) on
# loss = sum(v * v) * bad, v = [1, -2]; per step: unscaled gradient, v after the step,
# loss scale after the step, good steps after the step.
TF_HISTORY = [
    (1.0, [2.0, -4.0], [0.8, -1.6], 4.0, 1),
    (1.0, [1.6, -3.2], [0.64, -1.28], 12.0, 0),
    (1.0, [1.28, -2.56], [0.512, -1.024], 12.0, 1),
    (INF, [INF, -INF], [0.512, -1.024], 4.0, 0),
    (1.0, [1.024, -2.048], [0.4096, -0.8192], 4.0, 1),
    (NAN, [NAN, NAN], [0.4096, -0.8192], 1.3333333730697632, 0),
    (1.0, [0.8192, -1.6384], [0.32768, -0.65536], 1.3333333730697632, 1),
    (1.0, [0.65536, -1.31072], [0.262144, -0.524288], 4.0, 0),
    (1.0, [0.524288, -1.048576], [0.2097152, -0.4194304], 4.0, 1),
]


def test_dynamic_loss_scale_optimizer_matches_tf_graph_mode():
    with tf.Graph().as_default():
        v = tf.Variable([1.0, -2.0], name="v")
        bad = tf.placeholder(tf.float32, [])
        loss = tf.reduce_sum(v * v) * bad
        ls = tf.mixed_precision.DynamicLossScale(
            initial_loss_scale=4.0, increment_period=2, multiplier=3.0
        )
        opt = tf.mixed_precision.MixedPrecisionLossScaleOptimizer(
            tf.train.GradientDescentOptimizer(0.1), ls
        )
        gv = opt.compute_gradients(loss, [v])
        train = opt.apply_gradients(gv)
        assert [w.name for w in tf.global_variables()] == [
            "v:0",
            "current_loss_scale:0",
            "good_steps:0",
        ]
        assert train.type == "NoOp"
        assert repr(ls) == (
            "DynamicLossScale(initial_loss_scale=4.0, increment_period=2, multiplier=3.0)"
        )
        with tf.Session() as s:
            s.run(tf.global_variables_initializer())
            for b, grad, value, scale, good in TF_HISTORY:
                np.testing.assert_allclose(s.run(gv[0][0], {bad: b}), grad, rtol=1e-5)
                s.run(train, {bad: b})
                np.testing.assert_allclose(s.run(v), value, rtol=1e-5)
                assert s.run(ls()) == pytest.approx(scale)
                assert s.run(ls._num_good_steps) == good


def test_dynamic_loss_scale_eager_follows_the_same_rule():
    with tf.eager_mode():
        v = tf.Variable([1.0, -2.0])
        ls = tf.mixed_precision.DynamicLossScale(4.0, increment_period=2, multiplier=3.0)
        opt = tf.mixed_precision.MixedPrecisionLossScaleOptimizer(
            tf.train.GradientDescentOptimizer(0.1), ls
        )
        for b, grad, value, scale, good in TF_HISTORY:
            gv = opt.compute_gradients(lambda b=b: tf.reduce_sum(v * v) * b, [v])
            np.testing.assert_allclose(gv[0][0].numpy(), grad, rtol=1e-5)
            opt.apply_gradients(gv)
            np.testing.assert_allclose(v.numpy(), value, rtol=1e-5)
            assert float(ls().numpy()) == pytest.approx(scale)
            assert int(ls._num_good_steps.numpy()) == good


def test_fixed_loss_scale_with_adam_matches_tf():
    with tf.Graph().as_default():
        v = tf.Variable([1.0, -2.0], name="v")
        opt = tf.mixed_precision.MixedPrecisionLossScaleOptimizer(tf.train.AdamOptimizer(0.1), 128)
        train = opt.minimize(tf.reduce_sum(v * v))
        assert [w.name for w in tf.global_variables()] == [
            "v:0",
            "beta1_power:0",
            "beta2_power:0",
            "v/Adam:0",
            "v/Adam_1:0",
        ]
        with tf.Session() as s:
            s.run(tf.global_variables_initializer())
            for _ in range(3):
                s.run(train)
            np.testing.assert_allclose(
                s.run(v), [0.7015873193740845, -1.7006244659423828], rtol=1e-5
            )
        assert repr(opt.loss_scale) == "FixedLossScale(128.0)"


def test_overflowing_increase_keeps_the_scale_and_floor_is_one():
    with tf.Graph().as_default():
        ls = tf.mixed_precision.DynamicLossScale(initial_loss_scale=3e38, increment_period=1)
        up, _ = ls.update([tf.constant([1.0])])
        ls2 = tf.train.experimental.DynamicLossScale(1.5, increment_period=5, multiplier=2.0)
        up2, ok2 = ls2.update([tf.constant([np.inf]), None])
        with tf.Session() as s:
            s.run(tf.global_variables_initializer())
            s.run(up)
            assert s.run(ls()) == pytest.approx(3.0000000054977558e38)  # TF: unchanged
            assert s.run(ls._num_good_steps) == 0
            assert not s.run(ok2)
            s.run(up2)
            assert s.run(ls2()) == 1.0
        assert ls2.get_config() == {
            "initial_loss_scale": 1.5,
            "increment_period": 5,
            "multiplier": 2.0,
        }
        mp = tf.mixed_precision
        assert mp.experimental.DynamicLossScale is mp.DynamicLossScale


def test_fixed_loss_scale_errors_as_tf():
    with pytest.raises(ValueError, match="loss_scale_value must be at least 1."):
        tf.mixed_precision.FixedLossScale(0.5)
    with pytest.raises(ValueError, match="must be a Python int or float."):
        tf.mixed_precision.FixedLossScale("x")
    with pytest.raises(ValueError, match='"opt" must be an instance of Optimizer'):
        tf.mixed_precision.MixedPrecisionLossScaleOptimizer(object(), 2)
    fixed = tf.mixed_precision.FixedLossScale.from_config({"loss_scale_value": 3})
    assert fixed.get_config() == {"loss_scale_value": 3.0}
    assert fixed.update([])[1] is True


def test_graph_rewrite_names():
    assert tf.mixed_precision.disable_mixed_precision_graph_rewrite() is None
    with pytest.raises(tf.errors.UnimplementedError, match="GPU"):
        tf.mixed_precision.enable_mixed_precision_graph_rewrite(None)
