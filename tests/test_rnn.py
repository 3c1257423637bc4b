"""RNN cells and unrolling against NumPy recurrences; gradients; end-to-end training."""

from __future__ import annotations

import numpy as np
import pytest

import miniflow as tf

RNG = np.random.default_rng(4)


def _sig(x):
    return 1 / (1 + np.exp(-x))


def _np_lstm(x, kernel, bias, seq, forget_bias=1.0):
    b, t, _ = x.shape
    n = bias.shape[0] // 4
    c, h, outs = np.zeros((b, n)), np.zeros((b, n)), np.zeros((b, t, n))
    for k in range(t):
        z = np.concatenate([x[:, k], h], 1) @ kernel + bias
        i, j, f, o = np.split(z, 4, axis=1)
        nc = c * _sig(f + forget_bias) + _sig(i) * np.tanh(j)
        nh = np.tanh(nc) * _sig(o)
        alive = (k < seq)[:, None]
        c, h = np.where(alive, nc, c), np.where(alive, nh, h)
        outs[:, k] = np.where(alive, nh, 0)
    return outs, c, h


def _np_gru(x, gk, gb, ck, cb):
    b, t, _ = x.shape
    n = cb.shape[0]
    h, outs = np.zeros((b, n)), []
    for k in range(t):
        r, u = np.split(_sig(np.concatenate([x[:, k], h], 1) @ gk + gb), 2, axis=1)
        c = np.tanh(np.concatenate([x[:, k], r * h], 1) @ ck + cb)
        h = u * h + (1 - u) * c
        outs.append(h)
    return np.stack(outs, 1), h


def test_lstm_matches_numpy_with_sequence_length_in_both_modes():
    x = RNG.standard_normal((3, 4, 2))
    seq = np.array([4, 1, 3])
    with tf.Graph().as_default():
        cell = tf.nn.rnn_cell.BasicLSTMCell(5)
        out, (c, h) = tf.nn.dynamic_rnn(cell, tf.constant(x), sequence_length=seq, dtype=tf.float64)
        with tf.Session() as s:
            s.run(tf.global_variables_initializer())
            got_out, got_c, got_h, k, b = s.run([out, c, h, cell.kernel, cell.bias])
    want_out, want_c, want_h = _np_lstm(x, k, b, seq)
    np.testing.assert_allclose(got_out, want_out, atol=1e-12)
    np.testing.assert_allclose(got_c, want_c, atol=1e-12)
    np.testing.assert_allclose(got_h, want_h, atol=1e-12)
    with tf.eager_mode():
        cell = tf.nn.rnn_cell.BasicLSTMCell(5)
        out, (c, h) = tf.nn.dynamic_rnn(cell, tf.constant(x), sequence_length=seq, dtype=tf.float64)
        want_out, _, want_h = _np_lstm(x, cell.kernel.numpy(), cell.bias.numpy(), seq)
        np.testing.assert_allclose(out.numpy(), want_out, atol=1e-12)
        np.testing.assert_allclose(h.numpy(), want_h, atol=1e-12)


def test_gru_time_major_and_static_rnn():
    x = RNG.standard_normal((4, 2, 3))  # time major
    with tf.Graph().as_default():
        cell = tf.nn.rnn_cell.GRUCell(3)
        out, state = tf.nn.dynamic_rnn(cell, tf.constant(x), time_major=True, dtype=tf.float64)
        outs, st2 = tf.nn.static_rnn(
            cell, [tf.constant(x[t]) for t in range(4)], dtype=tf.float64, scope="rnn"
        )
        with tf.Session() as s:
            s.run(tf.global_variables_initializer())
            got, got_state, got2, w = s.run([out, state, outs, cell.weights])
    want, want_h = _np_gru(np.swapaxes(x, 0, 1), *w)
    np.testing.assert_allclose(got, np.swapaxes(want, 0, 1), atol=1e-12)
    np.testing.assert_allclose(got_state, want_h, atol=1e-12)
    np.testing.assert_allclose(np.stack(got2), np.swapaxes(want, 0, 1), atol=1e-12)


def test_variable_names_follow_tf1():
    with tf.Graph().as_default():
        cell = tf.nn.rnn_cell.MultiRNNCell(
            [
                tf.nn.rnn_cell.BasicRNNCell(2),
                tf.nn.rnn_cell.LSTMCell(3, use_peepholes=True, num_proj=2),
            ]
        )
        out, _ = tf.nn.dynamic_rnn(cell, tf.zeros([1, 2, 4]), dtype=tf.float32)
        names = [v.name for v in tf.trainable_variables()]
    assert names == [
        "rnn/multi_rnn_cell/cell_0/basic_rnn_cell/kernel:0",
        "rnn/multi_rnn_cell/cell_0/basic_rnn_cell/bias:0",
        "rnn/multi_rnn_cell/cell_1/lstm_cell/kernel:0",
        "rnn/multi_rnn_cell/cell_1/lstm_cell/bias:0",
        "rnn/multi_rnn_cell/cell_1/lstm_cell/w_f_diag:0",
        "rnn/multi_rnn_cell/cell_1/lstm_cell/w_i_diag:0",
        "rnn/multi_rnn_cell/cell_1/lstm_cell/w_o_diag:0",
        "rnn/multi_rnn_cell/cell_1/lstm_cell/projection/kernel:0",
    ]
    assert out.shape.as_list() == [1, 2, 2]


def test_rnn_gradient_matches_finite_differences():
    x = RNG.standard_normal((2, 3, 2))
    with tf.eager_mode():
        tf.set_random_seed(1)
        cell = tf.nn.rnn_cell.LSTMCell(3, use_peepholes=True, dtype=tf.float64)

        def loss(inp):
            out, _ = tf.nn.dynamic_rnn(cell, inp, sequence_length=[3, 2], dtype=tf.float64)
            return tf.reduce_sum(tf.sin(out))

        xt = tf.constant(x)
        with tf.GradientTape() as tape:
            tape.watch(xt)
            val = loss(xt)
        weights = cell.trainable_weights
        gx, *gw = tape.gradient(val, [xt] + weights)
        v = RNG.standard_normal(x.shape)
        num = (
            float(loss(tf.constant(x + 1e-6 * v))) - float(loss(tf.constant(x - 1e-6 * v)))
        ) / 2e-6
        assert abs(float(np.sum(gx.numpy() * v)) - num) < 1e-6
        k = weights[0]
        base = k.numpy()
        d = RNG.standard_normal(base.shape)
        k.assign(base + 1e-6 * d)
        up = float(loss(xt))
        k.assign(base - 1e-6 * d)
        down = float(loss(xt))
        assert abs(float(np.sum(gw[0].numpy() * d)) - (up - down) / 2e-6) < 1e-6


def test_lstm_trains_end_to_end():
    """Learn whether a sequence's sum is positive."""
    x = RNG.standard_normal((64, 5, 1)).astype(np.float32)
    y = (x.sum(axis=(1, 2)) > 0).astype(np.int64)
    with tf.Graph().as_default():
        tf.set_random_seed(0)
        cell = tf.nn.rnn_cell.DropoutWrapper(tf.nn.rnn_cell.BasicLSTMCell(8), output_keep_prob=1.0)
        _, state = tf.nn.dynamic_rnn(cell, x, dtype=tf.float32)
        logits = tf.layers.dense(state.h, 2)
        loss = tf.losses.sparse_softmax_cross_entropy(y, logits)
        train = tf.train.GradientDescentOptimizer(1.0).minimize(loss)
        with tf.Session() as s:
            s.run(tf.global_variables_initializer())
            first = s.run(loss)
            for _ in range(150):
                s.run(train)
            last, pred = s.run([loss, tf.argmax(logits, 1)])
    assert last < 0.5 * first
    assert np.mean(pred == y) > 0.9


def test_rnn_errors():
    with tf.Graph().as_default():
        with pytest.raises(ValueError, match="dtype"):
            tf.nn.dynamic_rnn(tf.nn.rnn_cell.GRUCell(2), tf.zeros([1, 2, 3]))
        with pytest.raises(ValueError, match="time steps"):
            tf.nn.dynamic_rnn(
                tf.nn.rnn_cell.GRUCell(2),
                tf.placeholder(tf.float32, [1, None, 3]),
                dtype=tf.float32,
            )
        with pytest.raises(ValueError, match="keep_prob"):
            tf.nn.rnn_cell.DropoutWrapper(tf.nn.rnn_cell.GRUCell(2), output_keep_prob=1.5)
