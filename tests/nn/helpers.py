"""Run a builder in eager mode and in a graph; compare both with the expected values."""

from __future__ import annotations

import numpy as np

import miniflow as tf
from tests.ops.helpers import check_static


def both(fn, *args):
    """``fn(*constants)`` evaluated eagerly and in a fresh graph (static info checked)."""
    with tf.eager_mode():
        eager = _numpy(fn(*[tf.constant(a) for a in args]))
    with tf.Graph().as_default(), tf.Session() as sess:
        out = fn(*[tf.constant(a) for a in args])
        graph = sess.run(out)
        for t, v in zip(_flat(out), _flat(graph)):
            if isinstance(t, tf.Tensor):
                check_static(t, v)
    return eager, graph


def _flat(v):
    return list(v) if isinstance(v, list | tuple) else [v]


def _numpy(v):
    if isinstance(v, list | tuple):
        return [_numpy(e) for e in v]
    return np.asarray(v)


def assert_both(fn, want, *args, rtol=1e-6, atol=1e-6, dtype=None):
    """Both modes give ``want`` (same shape; same dtype when ``dtype`` is given)."""
    for got in both(fn, *args):
        pairs = zip(got, want) if isinstance(got, list | tuple) else [(got, want)]
        for g, w in pairs:
            g = np.asarray(g)
            assert g.shape == np.shape(w), f"shape {g.shape} != {np.shape(w)}"
            if dtype is not None:
                assert g.dtype == np.dtype(dtype), f"dtype {g.dtype} != {dtype}"
            np.testing.assert_allclose(g, w, rtol=rtol, atol=atol)


def eager_matches_graph_gradients(fn, args, rtol=1e-9, atol=1e-9):
    """The first-order gradients of ``sum(r * fn(*args))`` by GradientTape (eager) equal
    those of `tf.gradients` (graph), for random cotangents ``r``."""
    rng = np.random.default_rng(0)

    def flat(out):
        outs = list(out) if isinstance(out, list | tuple) else [out]
        return [tf.convert_to_tensor(o) for o in outs]

    with tf.Graph().as_default(), tf.Session() as sess:
        xs = [tf.constant(a) for a in args]
        outs = [o for o in flat(fn(*xs)) if o.dtype.is_floating]
        rs = [rng.standard_normal(sess.run(o).shape) for o in outs]
        loss = tf.add_n(
            [tf.reduce_sum(o * tf.constant(r, dtype=o.dtype)) for o, r in zip(outs, rs)]
        )
        graph = [
            None if g is None else sess.run(tf.convert_to_tensor(g)) for g in tf.gradients(loss, xs)
        ]
    with tf.eager_mode():
        xs = [tf.constant(a) for a in args]
        with tf.GradientTape() as tape:
            for x in xs:
                tape.watch(x)
            outs = [o for o in flat(fn(*xs)) if o.dtype.is_floating]
            loss = tf.add_n(
                [tf.reduce_sum(o * tf.constant(r, dtype=o.dtype)) for o, r in zip(outs, rs)]
            )
        eager = [
            None if g is None else np.asarray(tf.convert_to_tensor(g))
            for g in tape.gradient(loss, xs)
        ]
    for g, e in zip(graph, eager):
        if g is None or e is None:  # unconnected in one mode: zero (or None) in the other
            other = e if g is None else g
            assert other is None or not np.any(other)
        else:
            np.testing.assert_allclose(e, g, rtol=rtol, atol=atol)
