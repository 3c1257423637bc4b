"""Shared helpers for the op tests: evaluate graph tensors and check their static info."""

from __future__ import annotations

import numpy as np

import miniflow as tf


def evaluate(fetches, feed_dict=None, exact_shapes=None):
    """Runs ``fetches`` in a fresh session of the default graph; checks each fetched
    tensor's static dtype and shape against the value it produced. Without feeds every
    input is a constant, so static shapes must then be exact (not just compatible)."""
    exact = feed_dict is None if exact_shapes is None else exact_shapes
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        values = sess.run(fetches, feed_dict)
    flat_t = fetches if isinstance(fetches, list | tuple) else [fetches]
    flat_v = values if isinstance(fetches, list | tuple) else [values]
    for t, v in zip(flat_t, flat_v):
        if isinstance(t, tf.Tensor):
            check_static(t, v, exact)
    return values


def check_static(t, value, exact=False):
    v = np.asarray(value)
    assert t.shape.is_compatible_with(v.shape), (
        f"{t.name}: static shape {t.shape} but value shape {v.shape}"
    )
    if exact:
        assert t.shape.is_fully_defined(), (
            f"{t.name} ({t.op.type}): static shape {t.shape} from constant inputs"
        )
    if t.dtype != tf.string:
        assert t.dtype.np == v.dtype, f"{t.name}: static dtype {t.dtype} but value {v.dtype}"


def assert_same(got, want, rtol=1e-6, atol=1e-6):
    """Value, shape and dtype equality against a NumPy reference."""
    got, want = np.asarray(got), np.asarray(want)
    assert got.shape == want.shape, f"shape {got.shape} != {want.shape}"
    assert got.dtype == want.dtype, f"dtype {got.dtype} != {want.dtype}"
    if got.dtype.kind == "f":
        np.testing.assert_allclose(got, want, rtol=rtol, atol=atol)
    else:
        np.testing.assert_array_equal(got, want)


def graph_and_eager(fn):
    """``fn()`` run in a session of a fresh default graph, checked equal to ``fn()`` in
    eager mode (each element of a list; a SparseTensor component by component, shapes and
    dtypes included); returns the graph-mode value."""
    tf.reset_default_graph()
    with tf.Session() as sess:
        graph = sess.run(fn())
    with tf.eager_mode():
        out = fn()
        eager = [_eager_value(o) for o in out] if isinstance(out, list) else _eager_value(out)
    pairs = list(zip(graph, eager)) if isinstance(out, list) else [(graph, eager)]
    assert not isinstance(out, list) or len(graph) == len(eager)
    for g, e in pairs:
        if isinstance(g, tf.SparseTensorValue):
            assert isinstance(e, tf.SparseTensorValue), f"eager gives {type(e).__name__}"
            for a, b in zip(g, e):
                assert_same(b, a)
        else:
            assert_same(e, g)
    return graph


def _eager_value(t):
    if isinstance(t, tf.SparseTensor):
        return tf.SparseTensorValue(t.indices.numpy(), t.values.numpy(), t.dense_shape.numpy())
    return t.numpy()
