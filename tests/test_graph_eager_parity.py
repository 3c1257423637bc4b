"""Graph mode and eager mode run the same kernels and gradient rules: a sample of programs
(values and gradients) gives the same numbers in both modes."""

from __future__ import annotations

import numpy as np
import pytest

import miniflow as tf
from tests.ops.op_specs_nn import NN_SPECS

RNG = np.random.default_rng(0)


def _mlp(x, w1, b1, w2):
    h = tf.nn.relu(tf.matmul(x, w1) + b1)
    return tf.reduce_mean(
        tf.nn.sparse_softmax_cross_entropy_with_logits(labels=[0, 2, 1], logits=tf.matmul(h, w2))
    )


def _cnn(x, k):
    y = tf.nn.max_pool(
        tf.nn.conv2d(x, k, [1, 1, 1, 1], "SAME"), [1, 2, 2, 1], [1, 2, 2, 1], "VALID"
    )
    return tf.reduce_sum(tf.tanh(y))


PROGRAMS = [
    (
        "arithmetic",
        lambda a, b: tf.reduce_sum(a * b - a / (1.0 + b * b) + tf.exp(-a)),
        [RNG.standard_normal((3, 4)), RNG.standard_normal((4,))],
    ),
    (
        "matmul_broadcast",
        lambda a, b: tf.reduce_sum(tf.sigmoid(tf.matmul(a, b)) ** 2),
        [RNG.standard_normal((2, 3, 4)), RNG.standard_normal((4, 5))],
    ),
    (
        "reductions_and_slicing",
        lambda a: tf.reduce_max(a, axis=1)[1:] * tf.reduce_mean(a[:, 2]),
        [RNG.standard_normal((4, 5))],
    ),
    (
        "concat_gather",
        lambda a, b: tf.reduce_sum(tf.gather(tf.concat([a, b], 0), [0, 3, 3]) * tf.transpose(b)[0]),
        [RNG.standard_normal((2, 3)), RNG.standard_normal((3, 3))],
    ),
    (
        "mlp",
        _mlp,
        [
            RNG.standard_normal((3, 4)),
            RNG.standard_normal((4, 5)),
            RNG.standard_normal(5),
            RNG.standard_normal((5, 3)),
        ],
    ),
    ("cnn", _cnn, [RNG.standard_normal((2, 4, 4, 2)), RNG.standard_normal((3, 3, 2, 3))]),
]


def _graph(fn, args):
    with tf.Graph().as_default():
        ts = [tf.constant(a) for a in args]
        y = fn(*ts)
        grads = [tf.convert_to_tensor(g) for g in tf.gradients(y, ts)]
        with tf.Session() as sess:
            return sess.run([y, grads])


def _eager(fn, args):
    with tf.eager_mode():
        ts = [tf.constant(a) for a in args]
        with tf.GradientTape() as tape:
            tape.watch(ts)
            y = fn(*ts)
        grads = tape.gradient(y, ts)
        return np.asarray(y), [np.asarray(tf.convert_to_tensor(g)) for g in grads]


@pytest.mark.parametrize("name,fn,args", PROGRAMS, ids=[p[0] for p in PROGRAMS])
def test_program_values_and_gradients_agree(name, fn, args):
    gy, gg = _graph(fn, args)
    ey, eg = _eager(fn, args)
    np.testing.assert_allclose(ey, gy, rtol=1e-12, atol=1e-12)
    for a, b in zip(eg, gg):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("spec", NN_SPECS[::3], ids=[s.name for s in NN_SPECS[::3]])
def test_nn_spec_rows_agree(spec):
    rng = np.random.default_rng(5)
    args = spec.make(rng, 2)
    wrt = [i for i, a in enumerate(args) if np.asarray(a).dtype.kind == "f"]

    def fn(*ts):
        return spec.fn(*ts)

    gy, _ = _graph(fn, args)
    ey, _ = _eager(fn, args)
    np.testing.assert_allclose(ey, gy, rtol=1e-12, atol=1e-12)
    assert wrt  # every row has something to differentiate


def _train(eager: bool, steps=5):
    """A few SGD steps of a small softmax regression; returns the final weights."""
    x = RNG.standard_normal((6, 3)).astype(np.float32) if not hasattr(_train, "x") else _train.x
    _train.x = x
    labels = np.array([0, 1, 2, 0, 1, 2])
    w0 = np.linspace(-1, 1, 9, dtype=np.float32).reshape(3, 3)

    def loss(w, b):
        return tf.reduce_mean(
            tf.nn.sparse_softmax_cross_entropy_with_logits(
                labels=labels, logits=tf.matmul(x, w) + b
            )
        )

    opt = tf.train.GradientDescentOptimizer(0.5)
    if eager:
        with tf.eager_mode():
            w, b = tf.Variable(w0), tf.Variable(np.zeros(3, np.float32))
            for _ in range(steps):
                opt.minimize(lambda: loss(w, b))
            return w.numpy(), b.numpy()
    with tf.Graph().as_default():
        w, b = tf.Variable(w0), tf.Variable(np.zeros(3, np.float32))
        train = opt.minimize(loss(w, b))
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            for _ in range(steps):
                sess.run(train)
            return sess.run([w, b])


def test_training_steps_agree():
    (gw, gb), (ew, eb) = _train(False), _train(True)
    np.testing.assert_allclose(ew, gw, rtol=1e-6)
    np.testing.assert_allclose(eb, gb, rtol=1e-6)
    assert not np.allclose(gw, np.linspace(-1, 1, 9).reshape(3, 3))  # it did train
