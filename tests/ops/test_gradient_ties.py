"""Gradients where finite differences cannot decide: ties and kinks.

At a tie (``maximum(x, y)`` with ``x == y``, several equal maxima in ``reduce_max``) the
function is not differentiable, and a numeric check passes for any split of the
gradient. TF picks one rule, and models depend on it (max-pooling-like code, argmax
losses). Every expected value below was printed by TensorFlow 2.21 (tf.compat.v1 graph
mode, ``tf.gradients``); each case runs in graph mode and under ``GradientTape``.
"""

import numpy as np
import pytest

import miniflow as tf


def _grads(fn, *values):
    """The gradients of ``fn(*inputs)`` w.r.t. its inputs, in graph mode and eager mode."""
    tf.reset_default_graph()
    xs = [tf.constant(np.asarray(v, np.float32)) for v in values]
    with tf.Session() as sess:
        graph = sess.run(tf.gradients(fn(*xs), xs))
    with tf.eager_mode():
        xs = [tf.constant(np.asarray(v, np.float32)) for v in values]
        with tf.GradientTape() as tape:
            for x in xs:
                tape.watch(x)
            out = fn(*xs)
        eager = [g.numpy() for g in tape.gradient(out, xs)]
    return graph, eager


def _check(fn, values, want):
    for got in _grads(fn, *values):
        assert len(got) == len(want)
        for g, w in zip(got, want, strict=True):
            np.testing.assert_allclose(g, w, rtol=1e-6, atol=1e-6)


# (function, inputs, TF's gradients) — ties in positions 0 and 2 of maximum/minimum.
TIE_TABLE = [
    (tf.maximum, ([1, 2, 3, 2], [1, 1, 3, 5]), ([1, 1, 1, 0], [0, 0, 0, 1])),
    (tf.minimum, ([1, 2, 3, 2], [1, 1, 3, 5]), ([1, 0, 1, 1], [0, 1, 0, 0])),
    # broadcast [2, 1] against [2]: the ties are on the diagonal, and go to x.
    (tf.maximum, ([[1], [2]], [1, 2]), ([[1], [2]], [0, 1])),
    (tf.minimum, ([[1], [2]], [1, 2]), ([[2], [1]], [1, 0])),
    # reduce_max/min share the gradient equally among tied extremes.
    (tf.reduce_max, ([[1, 3, 3], [2, 2, 2]],), ([[0, 0.5, 0.5], [0, 0, 0]],)),
    (
        lambda a: tf.reduce_max(a, axis=1),
        ([[1, 3, 3], [2, 2, 2]],),
        ([[0, 0.5, 0.5], [1 / 3, 1 / 3, 1 / 3]],),
    ),
    (
        lambda a: tf.reduce_sum(tf.reduce_max(a, axis=1) * tf.constant([10.0, 100.0])),
        ([[1, 3, 3], [2, 2, 2]],),
        ([[0, 5, 5], [100 / 3, 100 / 3, 100 / 3]],),
    ),
    (
        lambda b: tf.reduce_min(b, axis=0),
        ([[1, 2, 3], [1, 5, 2]],),
        ([[0.5, 1, 0], [0.5, 0, 1]],),
    ),
    (tf.reduce_min, ([[4, 4], [4, 4]],), ([[0.25, 0.25], [0.25, 0.25]],)),
    # leaky_relu: alpha defaults to 0.2, and at x == 0 the slope is alpha (TF tests x > 0).
    (tf.nn.leaky_relu, ([-3, -0.5, 0, 1.5],), ([0.2, 0.2, 0.2, 1],)),
    (lambda v: tf.nn.leaky_relu(v, alpha=0.01), ([-3, -0.5, 0, 1.5],), ([0.01, 0.01, 0.01, 1],)),
]


@pytest.mark.parametrize("fn,values,want", TIE_TABLE)
def test_gradient_at_ties_matches_tf(fn, values, want):
    _check(fn, values, want)


def test_leaky_relu_default_alpha_is_tf_s():
    # TF 2.21: tf.nn.leaky_relu([-3, -0.5, 0, 1.5]) == [-0.6, -0.1, 0, 1.5]
    want = [-0.6, -0.1, 0.0, 1.5]
    with tf.Session() as sess:
        np.testing.assert_allclose(
            sess.run(tf.nn.leaky_relu(tf.constant([-3.0, -0.5, 0.0, 1.5]))), want, rtol=1e-6
        )
    with tf.eager_mode():
        got = tf.nn.leaky_relu(tf.constant([-3.0, -0.5, 0.0, 1.5])).numpy()
    np.testing.assert_allclose(got, want, rtol=1e-6)
