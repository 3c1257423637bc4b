"""Issue 22, fifth round: the compiled `Sigmoid`, `SigmoidGrad`, `Relu` and `ReluGrad` kernels
(`ops/activation_compiled.py`) give the NumPy kernels' values bit for bit (signed zeros,
NaN and inf included), non-contiguous and broadcast inputs take the NumPy kernels, and
`SigmoidGrad` and the divide-first `MeanGrad` equal their formulas in NumPy."""

from __future__ import annotations

import numpy as np
import pytest

import miniflow as tf
from miniflow.core import compiled
from miniflow.core.dispatch import apply_op
from miniflow.ops import activation_compiled, arithmetic_ops as A

pytest.importorskip("numba")

N = activation_compiled.MIN_SIZE + 37  # over the compiled kernels' size floor


def _values(dtype, shape, seed, scale=4.0):
    rng = np.random.default_rng(seed)
    x = (rng.standard_normal(shape) * scale).astype(dtype)
    flat = x.reshape(-1)
    flat[:8] = [np.nan, np.inf, -np.inf, 0.0, -0.0, 1e-30, -1e-30, 90.0]
    return x


def _run(fn, *arrays):
    with tf.Graph().as_default(), tf.Session() as sess:
        return sess.run(fn(*[tf.constant(a) for a in arrays]))


def _same_bits(a, b):
    assert a.dtype == b.dtype and a.shape == b.shape
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(np.signbit(a), np.signbit(b))


def _both(monkeypatch, fn, *arrays):
    assert activation_compiled.usable(*[a for a in arrays if a.shape == arrays[0].shape])
    fast = _run(fn, *arrays)
    with monkeypatch.context() as m:
        m.setenv(compiled.ENV, "1")
        assert not activation_compiled.usable(arrays[0])
        slow = _run(fn, *arrays)
    return fast, slow


def _sigmoid_grad(y, dy):
    return apply_op("SigmoidGrad", y, dy)


def _relu_grad(g, x):
    return apply_op("ReluGrad", g, x)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_compiled_kernels_equal_the_numpy_kernels_bit_for_bit(monkeypatch, dtype):
    x = _values(dtype, (N,), 1, scale=30.0)
    fast, slow = _both(monkeypatch, tf.sigmoid, x)
    _same_bits(fast, slow)
    y, dy = _values(dtype, (N,), 2, 1.0), _values(dtype, (N,), 3)
    _same_bits(*_both(monkeypatch, _sigmoid_grad, y, dy))
    g, x = _values(dtype, (N,), 4), _values(dtype, (N,), 5)
    fast, slow = _both(monkeypatch, _relu_grad, g, x)
    _same_bits(fast, slow)
    with np.errstate(invalid="ignore"):  # inf * 0
        _same_bits(fast, np.multiply(g, x > 0, dtype=dtype))  # -0.0 where g < 0, x <= 0
    x.reshape(-1)[8] = -np.nan
    fast, slow = _both(monkeypatch, tf.nn.relu, x)
    _same_bits(fast, slow)
    _same_bits(fast, np.maximum(x, 0))  # NaN keeps its sign, -0.0 becomes 0.0


def test_sigmoid_keeps_the_two_exp_formula_on_compiled_sizes():
    x = _values(np.float32, (128, 200), 6, scale=30.0)  # 25,600 elements: compiled
    assert activation_compiled.usable(x)
    e = np.exp(-np.abs(x))
    want = np.where(x >= 0, 1 / (1 + e), e / (1 + e)).astype(np.float32)
    _same_bits(_run(tf.sigmoid, x), want)


def test_non_contiguous_and_broadcast_inputs_take_the_numpy_kernels():
    """Kernels called directly (a graph constant would be a contiguous copy)."""
    x = _values(np.float32, (2 * N,), 7)[::2]  # a strided view
    g = _values(np.float32, (N,), 8)
    assert not activation_compiled.usable(x) and activation_compiled.usable(g)
    _same_bits(A._sigmoid(x), A._sigmoid(x.copy()))
    _same_bits(A._relu(x), np.maximum(x, 0))
    _same_bits(A._relu(x), A._relu(x.copy()))
    with np.errstate(invalid="ignore"):  # inf * 0 in the NumPy kernels and references
        _same_bits(A._relu_backprop(g, x), np.multiply(g, x > 0, dtype=np.float32))
        _same_bits(A._relu_backprop(g, x), A._relu_backprop(g, x.copy()))
        y = A._sigmoid(x)
        _same_bits(A._sigmoid_backprop(y, g), A._sigmoid_backprop(y.copy(), g))
        _same_bits(A._sigmoid_backprop(y, g), g * y * (np.float32(1) - y))
        # broadcasting: a row of y against a [3, n] gradient
        rows = _values(np.float32, (3, N), 9)
        yb = A._sigmoid(rows[1])
        _same_bits(A._sigmoid_backprop(yb, rows), rows * yb * (np.float32(1) - yb))


def test_sigmoid_gradient_is_one_sigmoid_grad_op_with_the_old_values():
    x = _values(np.float32, (64, 300), 10, scale=3.0)
    x = x[np.isfinite(x).all(axis=1)]
    with tf.Graph().as_default() as g, tf.Session() as sess:
        xt = tf.constant(x)
        y = tf.sigmoid(xt)
        (grad,) = tf.gradients(tf.reduce_sum(y * y), [xt])
        types = [op.type for op in g.get_operations()]
        yv, got = sess.run([y, grad])
    assert types.count("SigmoidGrad") == 1 and "Sub" not in types
    dy = 2 * yv
    _same_bits(got, dy * yv * (np.float32(1) - yv))


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
@pytest.mark.parametrize("axis,keepdims", [(None, False), (0, False), (1, True), ([0, 1], True)])
def test_mean_gradient_divides_before_spreading_with_the_same_values(dtype, axis, keepdims):
    rng = np.random.default_rng(11)
    x = rng.standard_normal((7, 13)).astype(dtype)
    with tf.Graph().as_default(), tf.Session() as sess:
        xt = tf.constant(x)
        m = tf.reduce_mean(xt, axis=axis, keepdims=keepdims)
        w = tf.constant(rng.standard_normal(m.shape.as_list()).astype(dtype) + 3)
        (got,) = sess.run(tf.gradients(tf.reduce_sum(m * w), [xt]))
        wv = sess.run(w)
    n = x.size // max(wv.size, 1)
    spread = np.empty(x.shape, dtype)
    spread[...] = wv if keepdims or axis is None else np.expand_dims(wv, axis)
    spread /= n  # the previous kernel: spread, then divide
    _same_bits(got, spread)
