"""dilation2d/erosion2d, max_pool_with_argmax, with_space_to_batch and
safe_embedding_lookup_sparse against outputs saved from real TensorFlow
(tests/nn/data/*.npz), eager and graph; tf.nn's bidirectional RNNs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import miniflow as tf
from tests.nn.helpers import assert_both

DATA = Path(__file__).parent / "data"
M = np.load(DATA / "tf_morphology.npz")
S = np.load(DATA / "tf_safe_embedding.npz")
CC = np.load(DATA / "tf_conv_compose.npz")


def test_dilation_erosion_match_tf():
    x, w = M["x"], M["w"]
    assert_both(
        lambda a, b: tf.nn.dilation2d(a, b, [1, 2, 1, 1], [1, 1, 1, 1], "SAME"),
        M["d1"],
        x,
        w,
        dtype=np.float32,
    )
    assert_both(
        lambda a, b: tf.nn.dilation2d(a, b, [1, 1, 1, 1], [1, 2, 1, 1], "VALID"), M["d2"], x, w
    )
    assert_both(
        lambda a, b: tf.nn.erosion2d(a, b, [1, 1, 2, 1], [1, 1, 1, 1], "SAME"), M["e1"], x, w
    )


def test_dilation_gradients_match_tf():
    x, w = tf.constant(M["x"]), tf.constant(M["w"])
    d = tf.nn.dilation2d(x, w, [1, 2, 1, 1], [1, 1, 1, 1], "SAME")
    gx, gw = tf.gradients(tf.reduce_sum(d * d), [x, w])
    with tf.Session() as sess:
        got = sess.run([gx, gw])
    np.testing.assert_allclose(got[0], M["gi"], rtol=1e-6)
    np.testing.assert_allclose(got[1], M["gf"], rtol=1e-6)


def test_max_pool_with_argmax_matches_tf():
    x = M["x"]
    assert_both(
        lambda a: tf.nn.max_pool_with_argmax(a, [1, 2, 2, 1], [1, 2, 2, 1], "SAME"),
        [M["mp"], M["am"]],
        x,
    )
    assert_both(
        lambda a: tf.nn.max_pool_with_argmax(
            a, [1, 3, 2, 1], [1, 1, 2, 1], "VALID", include_batch_in_index=True
        ),
        [M["mp2"], M["am2"]],
        x,
    )
    xt = tf.constant(x)
    out, _ = tf.nn.max_pool_with_argmax(xt, [1, 2, 2, 1], [1, 2, 2, 1], "SAME")
    with tf.Session() as sess:
        np.testing.assert_allclose(
            sess.run(tf.gradients(tf.reduce_sum(out * out), xt)[0]), M["ga"], rtol=1e-6
        )


def test_with_space_to_batch_matches_tf():
    x2, w2 = CC["x2"], CC["w2"]

    def conv(inp, n, padding):
        return tf.nn.conv2d(inp, w2, [1, 1, 1, 1], padding)

    assert_both(
        lambda a: tf.nn.with_space_to_batch(a, [2, 2], "SAME", conv, filter_shape=[3, 3]),
        CC["wsb"],
        x2,
        rtol=1e-5,
        atol=1e-5,
    )
    assert_both(
        lambda a: tf.nn.with_space_to_batch(a, [2, 1], "VALID", conv),
        CC["wsb2"],
        x2,
        rtol=1e-5,
        atol=1e-5,
    )


def _ids():
    at = [[0, 0], [0, 1], [1, 0], [2, 0], [2, 1], [3, 0]]
    return (
        tf.SparseTensor(at, np.array([1, -1, 4, 2, 5, 3], np.int64), [5, 2]),
        tf.SparseTensor(at, np.array([2.0, 1.0, 1.0, 0.5, -1.0, 0.0], np.float32), [5, 2]),
    )


def test_safe_embedding_lookup_sparse_matches_tf():
    def run(e, **kw):
        ids, weights = _ids()
        return tf.nn.safe_embedding_lookup_sparse(
            e, ids, weights if kw.pop("w", True) else None, **kw
        )

    assert_both(lambda e: run(e), S["a"], S["E"])
    assert_both(lambda e: run(e, w=False, combiner="sum", default_id=0), S["b"], S["E"])
    assert_both(lambda e: run(e, combiner="sqrtn", default_id=5), S["c"], S["E"])
    e = tf.constant(S["E"])
    out = run(e, combiner="sqrtn", default_id=5)
    with tf.Session() as sess:
        grad = sess.run(tf.convert_to_tensor(tf.gradients(tf.reduce_sum(out * out), e)[0]))
    np.testing.assert_allclose(grad, S["g"], rtol=1e-5)


def test_nn_bidirectional_rnns_are_the_contrib_ones():
    assert tf.nn.bidirectional_dynamic_rnn is tf.contrib.rnn.bidirectional_dynamic_rnn
    assert tf.nn.static_bidirectional_rnn is tf.contrib.rnn.static_bidirectional_rnn
    x = tf.ones([2, 3, 4])
    (fw, bw), _ = tf.nn.bidirectional_dynamic_rnn(
        tf.nn.rnn_cell.BasicRNNCell(5), tf.nn.rnn_cell.BasicRNNCell(5), x, dtype=tf.float32
    )
    assert fw.shape.as_list() == bw.shape.as_list() == [2, 3, 5]


F = np.load(DATA / "tf_fractional.npz")


def test_fractional_pools_match_tf_given_its_regions():
    from miniflow.ops.fractional_pool_ops import (
        fractional_avg_pool_with_sequences,
        fractional_max_pool_with_sequences,
    )

    x = F["x"]
    assert_both(
        lambda a: fractional_max_pool_with_sequences(a, F["r"], F["c"], True),
        F["o"],
        x,
        dtype=np.float32,
    )
    assert_both(
        lambda a: fractional_avg_pool_with_sequences(a, F["r2"], F["c2"], False),
        F["o2"],
        x,
        rtol=1e-6,
        atol=1e-6,
    )
    xt = tf.constant(x)
    out = fractional_max_pool_with_sequences(xt, F["r"], F["c"], True)
    avg = fractional_avg_pool_with_sequences(xt, F["r2"], F["c2"], False)
    with tf.Session() as sess:
        g, g2 = sess.run(
            [
                tf.gradients(tf.reduce_sum(out * out), xt)[0],
                tf.gradients(tf.reduce_sum(avg * avg), xt)[0],
            ]
        )
    np.testing.assert_allclose(g, F["g"], rtol=1e-6)
    np.testing.assert_allclose(g2, F["g2"], rtol=1e-5, atol=1e-6)


def test_fractional_pool_regions_and_seeds():
    x = tf.constant(F["x"])  # [2, 7, 9, 2], ratios 1.5 and 2: 4 x 4 regions
    for pseudo in (False, True):
        out, rows, cols = tf.nn.fractional_max_pool(x, [1, 1.5, 2, 1], pseudo_random=pseudo)
        assert out.shape.as_list() == [2, 4, 4, 2]
        with tf.Session() as sess:
            r, c = sess.run([rows, cols])
        for seq, n in ((r, 7), (c, 9)):
            assert seq[0] == 0 and seq[-1] == n
            assert set(np.diff(seq)) <= {n // 4, n // 4 + 1}
    a = tf.nn.fractional_avg_pool(x, [1, 1.5, 2, 1], deterministic=True, seed=3, seed2=4)
    b = tf.nn.fractional_avg_pool(x, [1, 1.5, 2, 1], deterministic=True, seed=3, seed2=4)
    with tf.Session() as sess:
        va, vb = sess.run([a, b])
    for u, v in zip(va, vb):
        np.testing.assert_array_equal(u, v)
    bad = tf.nn.fractional_max_pool(x, [1, 1.5, 2, 1], seed=1)[0]
    with (
        tf.Session() as sess,
        pytest.raises(tf.errors.InvalidArgumentError, match="seed2 should be 0"),
    ):
        sess.run(bad)


class _VariableSaver:
    """A minimal state saver: each named state lives in a variable."""

    def __init__(self, shapes):
        self.vars = {k: tf.Variable(np.zeros(s, np.float32), name=k) for k, s in shapes.items()}

    def state(self, name):
        return tf.identity(self.vars[name])

    def save_state(self, name, value):
        return tf.assign(self.vars[name], value)


def test_static_state_saving_rnn_carries_state_between_runs():
    saver = _VariableSaver({"c": (2, 3), "h": (2, 3)})
    cell = tf.nn.rnn_cell.BasicLSTMCell(3)
    steps = [tf.constant(np.full((2, 4), 0.5, np.float32)) for _ in range(2)]
    outputs, state = tf.nn.static_state_saving_rnn(cell, steps, saver, ("c", "h"))
    reference, ref_state = tf.nn.static_rnn(cell, steps, dtype=tf.float32)  # zero start
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        first, want = sess.run([outputs[-1], reference[-1]])
        np.testing.assert_allclose(first, want, rtol=1e-6)  # saved state started at zero
        np.testing.assert_allclose(sess.run(saver.vars["h"]), first, rtol=1e-6)
        second = sess.run(outputs[-1])
    assert not np.allclose(first, second)  # the second run started from the saved state
    with np.testing.assert_raises(ValueError):
        tf.nn.static_state_saving_rnn(cell, steps, saver, "c")


def _raw_rnn_vs_dynamic(x, lengths):
    """raw_rnn with TF's documented loop_fn (the dynamic_rnn equivalent) and dynamic_rnn
    on the same cell: (raw outputs, raw state, dynamic outputs, dynamic state, grads)."""
    from miniflow.ops.tensor_array_ops import TensorArray

    inputs = tf.constant(x)
    batch, depth = x.shape[1], x.shape[2]
    cell = tf.nn.rnn_cell.BasicRNNCell(5)
    inputs_ta = TensorArray(tf.float32, size=x.shape[0]).unstack(inputs)

    def loop_fn(time, cell_output, cell_state, loop_state):
        state = cell.zero_state(batch, tf.float32) if cell_output is None else cell_state
        finished = time >= lengths
        nxt = tf.cond(
            tf.reduce_all(finished), lambda: tf.zeros([batch, depth]), lambda: inputs_ta.read(time)
        )
        return finished, nxt, state, cell_output, None

    emit_ta, state, loop_state = tf.nn.raw_rnn(cell, loop_fn)
    assert loop_state is None
    outputs = emit_ta.stack()
    ref, ref_state = tf.nn.dynamic_rnn(
        cell, inputs, sequence_length=lengths, time_major=True, dtype=tf.float32
    )
    return outputs, state, ref, ref_state, inputs


def test_raw_rnn_equals_dynamic_rnn_graph_and_eager():
    x = np.random.default_rng(0).standard_normal((4, 2, 3)).astype(np.float32)
    lengths = np.array([4, 2], np.int32)
    out, state, ref, ref_state, inputs = _raw_rnn_vs_dynamic(x, lengths)
    grads = tf.gradients(tf.reduce_sum(out * out), inputs)[0]
    ref_grads = tf.gradients(tf.reduce_sum(ref * ref), inputs)[0]
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        got = sess.run([out, state, ref, ref_state, grads, ref_grads])
    assert got[0].shape == (4, 2, 5)
    for a, b in ((got[0], got[2]), (got[1], got[3]), (got[4], got[5])):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6)
    with tf.eager_mode():
        out, state, ref, ref_state, _ = _raw_rnn_vs_dynamic(x, lengths)
        np.testing.assert_allclose(np.asarray(out), np.asarray(ref), rtol=1e-6, atol=1e-6)
        np.testing.assert_allclose(np.asarray(state), np.asarray(ref_state), rtol=1e-6)
