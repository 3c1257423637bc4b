"""Property tests: each sparse op, applied to ``from_dense(x)`` and densified, equals the
NumPy operation on the dense ``x`` (random shapes and sparsity patterns)."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings, strategies as st

import miniflow as tf

SETTINGS = settings(max_examples=10, deadline=None)


@st.composite
def sparse_arrays(draw, min_rank=2, max_rank=3):
    shape = tuple(draw(st.lists(st.integers(1, 4), min_size=min_rank, max_size=max_rank)))
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    x = rng.integers(-3, 4, size=shape).astype(np.float32)
    return np.where(rng.random(shape) < 0.5, 0.0, x).astype(np.float32)


def _dense(sp):
    return tf.sparse.to_dense(sp, validate_indices=True)


def _run(t):
    with tf.Session() as sess:
        return sess.run(t)


@SETTINGS
@given(x=sparse_arrays(), data=st.data())
def test_transpose_reshape_expand_dims(x, data):
    perm = data.draw(st.permutations(range(x.ndim)))
    axis = data.draw(st.integers(-x.ndim - 1, x.ndim))
    sp = tf.sparse.from_dense(x)
    got = _run(
        [
            _dense(tf.sparse.transpose(sp, perm)),
            _dense(tf.sparse.reshape(sp, [-1, x.shape[-1]])),
            _dense(tf.sparse.expand_dims(sp, axis)),
        ]
    )
    np.testing.assert_array_equal(got[0], np.transpose(x, perm))
    np.testing.assert_array_equal(got[1], x.reshape(-1, x.shape[-1]))
    np.testing.assert_array_equal(got[2], np.expand_dims(x, axis))


@SETTINGS
@given(x=sparse_arrays(), y=sparse_arrays(), data=st.data())
def test_concat_split_slice(x, y, data):
    axis = data.draw(st.integers(0, x.ndim - 1))
    y_shape = list(x.shape)
    y_shape[axis] = data.draw(st.integers(1, 3))
    y = np.resize(y, y_shape).astype(np.float32)
    num = data.draw(st.integers(1, x.shape[axis]))
    start = [data.draw(st.integers(0, d)) for d in x.shape]
    size = [data.draw(st.integers(0, d + 1)) for d in x.shape]
    sp = tf.sparse.from_dense(x)
    got = _run(
        [
            _dense(tf.sparse.concat(axis, [sp, tf.sparse.from_dense(y)])),
            [_dense(p) for p in tf.sparse.split(sp_input=sp, num_split=num, axis=axis)],
            _dense(tf.sparse.slice(sp, start, size)),
        ]
    )
    np.testing.assert_array_equal(got[0], np.concatenate([x, y], axis))
    for piece, want in zip(got[1], np.array_split(x, num, axis)):
        np.testing.assert_array_equal(piece, want)
    np.testing.assert_array_equal(got[2], x[tuple(slice(b, b + n) for b, n in zip(start, size))])


@SETTINGS
@given(x=sparse_arrays(), y=sparse_arrays(), data=st.data())
def test_reductions_and_elementwise(x, y, data):
    y = np.resize(y, x.shape).astype(np.float32)
    axis = data.draw(st.integers(-x.ndim, x.ndim - 1))
    sp, sq = tf.sparse.from_dense(x), tf.sparse.from_dense(y)
    got = _run(
        [
            _dense(tf.sparse.reduce_sum_sparse(sp, axis)),
            tf.sparse.reduce_max(sp, axis, keepdims=True),
            _dense(tf.sparse.maximum(sp, sq)),
            _dense(tf.sparse.minimum(sp, sq)),
        ]
    )
    np.testing.assert_allclose(got[0], x.sum(axis), rtol=1e-6)
    stored = np.where(x != 0, x, -np.inf).max(axis, keepdims=True)  # stored entries only
    np.testing.assert_array_equal(got[1], np.where(np.isinf(stored), 0.0, stored))
    np.testing.assert_array_equal(got[2], np.maximum(x, y))
    np.testing.assert_array_equal(got[3], np.minimum(x, y))


def test_softmax_gradient_in_eager_mode_matches_graph_mode():
    idx, vals = [[0, 0], [0, 2], [1, 1], [1, 2]], np.array([0.5, -1.0, 2.0, 0.3], np.float32)
    w = np.array([1.0, 2.0, -1.0, 0.5], np.float32)
    v = tf.constant(vals)
    (g_graph,) = _run(
        tf.gradients(
            tf.reduce_sum(tf.sparse.softmax(tf.SparseTensor(idx, v, [2, 3])).values * w), [v]
        )
    )
    with tf.eager_mode():
        ve = tf.constant(vals)
        with tf.GradientTape() as tape:
            tape.watch(ve)
            out = tf.reduce_sum(tf.sparse.softmax(tf.SparseTensor(idx, ve, [2, 3])).values * w)
        g_eager = tape.gradient(out, ve)
    g_eager = tf.convert_to_tensor(g_eager) if not hasattr(g_eager, "numpy") else g_eager
    np.testing.assert_allclose(np.asarray(g_eager.numpy()), g_graph, rtol=1e-5)
    s = np.exp(vals[:2]) / np.exp(vals[:2]).sum()  # row 0 by hand: s * (w - <s, w>)
    np.testing.assert_allclose(g_graph[:2], s * (w[:2] - (s * w[:2]).sum()), rtol=1e-5)
