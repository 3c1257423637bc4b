"""GradientTape.jacobian against the analytic Jacobian of a small function."""

import numpy as np

import miniflow as tf


def test_jacobian_matches_analytic():
    rng = np.random.default_rng(0)
    a = rng.standard_normal((3, 2))
    xv = rng.standard_normal(2)
    with tf.eager_mode():
        x = tf.Variable(xv)
        with tf.GradientTape(persistent=True) as tape:
            y = tf.tanh(tf.matmul(tf.constant(a), tf.reshape(x, [2, 1])))
        jac = tape.jacobian(y, x).numpy()
    z = np.tanh(a @ xv)
    expected = ((1 - z**2)[:, None] * a).reshape(3, 1, 2)
    np.testing.assert_allclose(jac, expected, rtol=1e-10)
