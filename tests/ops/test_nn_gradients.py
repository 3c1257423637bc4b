"""Finite-difference checks of every row in `NN_SPECS`: float64 central differences along
random directions, in eager mode (GradientTape) and graph mode (tf.gradients); rows
with ``order=2`` also check the gradient of the gradient."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import miniflow as tf
from miniflow.core.registry import registered_gradients
from tests.ops.op_specs_nn import NN_SPECS

EPS = 1e-6


def _inputs(spec, seed, n):
    rng = np.random.default_rng(seed)
    n = max(n, spec.extra.get("min_n", 1))
    args = spec.make(rng, n)
    wrt = (
        spec.wrt
        if spec.wrt is not None
        else tuple(i for i, a in enumerate(args) if np.asarray(a).dtype.kind == "f")
    )
    return args, wrt, rng


def _scalar_eager(spec, args, r):
    ts = [tf.constant(a) for a in args]
    return float(np.sum(tf.convert_to_tensor(spec.fn(*ts)).numpy() * r))


def _numeric_directional(f, args, i, v):
    plus = [a.copy() if j == i else a for j, a in enumerate(args)]
    minus = [a.copy() if j == i else a for j, a in enumerate(args)]
    plus[i] = plus[i] + EPS * v
    minus[i] = minus[i] - EPS * v
    return (f(plus) - f(minus)) / (2 * EPS)


def _eager_grads(spec, args, wrt, r):
    ts = [tf.constant(a) for a in args]
    with tf.GradientTape() as tape:
        for i in wrt:
            tape.watch(ts[i])
        y = spec.fn(*ts)
    grads = tape.gradient(y, [ts[i] for i in wrt], output_gradients=tf.constant(r))
    return [
        np.zeros_like(args[i]) if g is None else np.asarray(tf.convert_to_tensor(g))
        for i, g in zip(wrt, grads)
    ]


def _graph_grads(spec, args, wrt, r):
    with tf.Graph().as_default():
        ts = [tf.constant(a) for a in args]
        y = spec.fn(*ts)
        grads = tf.gradients(y, [ts[i] for i in wrt], grad_ys=tf.constant(r))
        fetch = [
            tf.convert_to_tensor(g) if g is not None else tf.zeros_like(ts[i])
            for i, g in zip(wrt, grads)
        ]
        with tf.Session() as sess:
            return sess.run(fetch)


def _check(spec, seed, n):
    args, wrt, rng = _inputs(spec, seed, n)
    with tf.eager_mode():
        y = np.asarray(spec.fn(*[tf.constant(a) for a in args]))
        r = rng.standard_normal(y.shape)
        eager = _eager_grads(spec, args, wrt, r)
    graph = _graph_grads(spec, args, wrt, r)
    with tf.eager_mode():
        for k, i in enumerate(wrt):
            for _ in range(2):
                v = rng.standard_normal(np.shape(args[i]))
                num = _numeric_directional(lambda a: _scalar_eager(spec, a, r), args, i, v)
                scale = max(1.0, abs(num))
                assert abs(np.sum(eager[k] * v) - num) <= spec.tol * scale, (spec.name, i)
                assert abs(np.sum(graph[k] * v) - num) <= spec.tol * scale, (spec.name, i)
        if spec.order == 2:
            _check_second_order(spec, args, wrt, r, rng)


def _check_second_order(spec, args, wrt, r, rng):
    """d/dx <grad f(x), u> against central differences of <grad f(x), u>."""
    us = [rng.standard_normal(np.shape(args[i])) for i in wrt]

    def inner(a):
        return sum(float(np.sum(g * u)) for g, u in zip(_eager_grads(spec, a, wrt, r), us))

    ts = [tf.constant(a) for a in args]
    with tf.GradientTape(persistent=True) as outer:
        for i in wrt:
            outer.watch(ts[i])
        with tf.GradientTape() as tape:
            for i in wrt:
                tape.watch(ts[i])
            y = spec.fn(*ts)
        grads = tape.gradient(y, [ts[i] for i in wrt], output_gradients=tf.constant(r))
        dot = tf.add_n(
            [tf.reduce_sum(tf.convert_to_tensor(g) * u) for g, u in zip(grads, us) if g is not None]
        )
    second = outer.gradient(dot, [ts[i] for i in wrt])
    for k, i in enumerate(wrt):
        v = rng.standard_normal(np.shape(args[i]))
        num = _numeric_directional(inner, args, i, v)
        got = (
            0.0
            if second[k] is None
            else float(np.sum(np.asarray(tf.convert_to_tensor(second[k])) * v))
        )
        assert abs(got - num) <= 1e-4 * max(1.0, abs(num)), (spec.name, "second order", i)


@pytest.mark.parametrize("spec", NN_SPECS, ids=[s.name for s in NN_SPECS])
@settings(max_examples=8, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), n=st.integers(1, 3))
def test_gradient_matches_finite_differences(spec, seed, n):
    _check(spec, seed, n)


def test_every_nn_op_with_a_gradient_has_a_row():
    from miniflow.ops import conv_ops, embedding_ops, linalg_ops, nn_ops, script_ops

    mine = set()
    for module in (nn_ops, conv_ops, embedding_ops, linalg_ops, script_ops):
        src = open(module.__file__).read()
        for t, fn in registered_gradients().items():
            if fn is not None and f'register_gradient("{t}")' in src:
                mine.add(t)
    covered = {t for s in NN_SPECS for t in s.ops}
    assert mine - covered == set()
