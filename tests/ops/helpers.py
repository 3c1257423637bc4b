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
    assert t.shape.is_compatible_with(v.shape), \
        f"{t.name}: static shape {t.shape} but value shape {v.shape}"
    if exact:
        assert t.shape.is_fully_defined(), \
            f"{t.name} ({t.op.type}): static shape {t.shape} from constant inputs"
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
