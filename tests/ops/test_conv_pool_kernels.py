"""The GEMM convolution and tiled pooling kernels (issue 22): equal to the previous
kernels (conv_pool_reference.py) on random shapes, exact adjoints of each other, finite
differences, and TensorFlow 2.21's numbers on fixed inputs."""

from __future__ import annotations

import numpy as np
import pytest

import miniflow as tf
from miniflow.ops import conv_ops as C
from tests.ops import conv_pool_reference as R


def _random_conv_case(seed):
    rng = np.random.default_rng(seed)
    n, c, o = (int(v) for v in rng.integers(1, 4, 3))
    h, w = (int(v) for v in rng.integers(3, 10, 2))
    kh, kw = (int(v) for v in rng.integers(1, 5, 2))
    strides = tuple(int(v) for v in rng.integers(1, 3, 2))
    dil = (1, 1) if max(strides) > 1 else tuple(int(v) for v in rng.integers(1, 3, 2))
    padding = ["SAME", "VALID"][seed % 2]
    if padding == "VALID" and (h < (kh - 1) * dil[0] + 1 or w < (kw - 1) * dil[1] + 1):
        padding = "SAME"
    x = rng.standard_normal((n, h, w, c)).astype(np.float32)
    f = rng.standard_normal((kh, kw, c, o)).astype(np.float32)
    return rng, x, f, strides, dil, padding


@pytest.mark.parametrize("seed", range(16))
def test_conv_kernels_equal_previous_kernels(seed):
    rng, x, f, s, d, pad = _random_conv_case(seed)
    y = C._conv2d_kernel(x, f, s, d, pad)
    ref = R.conv2d(x, f, s, d, pad)
    assert y.dtype == np.float32 and y.shape == ref.shape
    np.testing.assert_allclose(y, ref, rtol=1e-4, atol=1e-4)
    dy = rng.standard_normal(y.shape).astype(np.float32)
    dx = C._conv_backprop_input_kernel(np.array(x.shape), f, dy, s, d, pad)
    assert dx.dtype == np.float32
    np.testing.assert_allclose(
        dx, R.conv_backprop_input(x.shape, f, dy, s, d, pad), rtol=1e-4, atol=1e-4
    )
    df = C._conv_backprop_filter_kernel(x, np.array(f.shape), dy, s, d, pad)
    assert df.dtype == np.float32
    np.testing.assert_allclose(
        df, R.conv_backprop_filter(x, f.shape, dy, s, d, pad), rtol=1e-4, atol=1e-4
    )


@pytest.mark.parametrize("seed", range(8))
def test_conv_backprops_are_exact_adjoints(seed):
    """<conv(x, f), dy> = <x, backprop_input(dy)> = <f, backprop_filter(x, dy)>, float64."""
    rng, x, f, s, d, pad = _random_conv_case(100 + seed)
    x, f = x.astype(np.float64), f.astype(np.float64)
    y = C._conv2d_kernel(x, f, s, d, pad)
    dy = rng.standard_normal(y.shape)
    dx = C._conv_backprop_input_kernel(x.shape, f, dy, s, d, pad)
    df = C._conv_backprop_filter_kernel(x, f.shape, dy, s, d, pad)
    inner = np.sum(y * dy)
    assert np.sum(x * dx) == pytest.approx(inner, rel=1e-10, abs=1e-10)
    assert np.sum(f * df) == pytest.approx(inner, rel=1e-10, abs=1e-10)


@pytest.mark.parametrize("seed", range(4))
def test_conv_gradients_match_finite_differences(seed):
    rng, x, f, s, d, pad = _random_conv_case(200 + seed)
    x, f = x.astype(np.float64), f.astype(np.float64)
    dy = rng.standard_normal(C._conv2d_kernel(x, f, s, d, pad).shape)
    dx = C._conv_backprop_input_kernel(x.shape, f, dy, s, d, pad)
    df = C._conv_backprop_filter_kernel(x, f.shape, dy, s, d, pad)
    eps = 1e-6
    for arr, grad, loss in (
        (x, dx, lambda: np.sum(C._conv2d_kernel(x, f, s, d, pad) * dy)),
        (f, df, lambda: np.sum(C._conv2d_kernel(x, f, s, d, pad) * dy)),
    ):
        for idx in [tuple(int(rng.integers(0, k)) for k in arr.shape) for _ in range(5)]:
            old = arr[idx]
            arr[idx] = old + eps
            up = loss()
            arr[idx] = old - eps
            down = loss()
            arr[idx] = old
            assert (up - down) / (2 * eps) == pytest.approx(grad[idx], rel=1e-5, abs=1e-6)


POOL_CASES = [
    ((2, 2), (2, 2), "SAME"),  # tiles
    ((2, 2), (2, 2), "VALID"),  # tiles (odd sizes are cropped)
    ((3, 3), (3, 3), "VALID"),
    ((1, 2), (1, 2), "SAME"),
    ((3, 3), (2, 2), "SAME"),  # overlapping windows: the general kernels
    ((2, 3), (1, 2), "VALID"),
]


@pytest.mark.parametrize("ksize,strides,padding", POOL_CASES)
@pytest.mark.parametrize("seed", range(3))
def test_pool_kernels_equal_previous_kernels(ksize, strides, padding, seed):
    rng = np.random.default_rng(300 + seed)
    shape = (int(rng.integers(1, 3)), int(rng.integers(3, 9)), int(rng.integers(3, 9)), 2)
    x = rng.standard_normal(shape).astype(np.float32)
    if seed == 0:
        x = np.maximum(x, 0)  # ReLU output: ties (zeros) inside windows
    if seed == 1:
        x = np.round(x)  # integer-valued: more ties
    y = C._max_pool_kernel(x, ksize, strides, padding)
    np.testing.assert_array_equal(y, R.max_pool(x, ksize, strides, padding))
    dy = rng.standard_normal(y.shape).astype(np.float32)
    g = C._max_pool_grad_kernel(x, dy, ksize, strides, padding)
    assert g.dtype == np.float32
    np.testing.assert_array_equal(g, R.max_pool_grad(x, dy, ksize, strides, padding))
    a = C._avg_pool_kernel(x, ksize, strides, padding)
    assert a.dtype == np.float32
    np.testing.assert_allclose(a, R.avg_pool(x, ksize, strides, padding), rtol=1e-6, atol=1e-6)
    ga = C._avg_pool_grad_kernel(np.array(x.shape), dy, ksize, strides, padding)
    np.testing.assert_allclose(
        ga, R.avg_pool_grad(x.shape, dy, ksize, strides, padding), rtol=1e-6, atol=1e-6
    )


@pytest.mark.parametrize("ksize,strides,padding", POOL_CASES[:3])
def test_tiled_pool_gradients_match_finite_differences(ksize, strides, padding):
    rng = np.random.default_rng(7)
    x = rng.standard_normal((2, 6, 7, 3))  # distinct values: max is differentiable
    dy = rng.standard_normal(C._max_pool_kernel(x, ksize, strides, padding).shape)
    eps = 1e-6
    for kernel, grad in (
        (C._max_pool_kernel, C._max_pool_grad_kernel(x, dy, ksize, strides, padding)),
        (C._avg_pool_kernel, C._avg_pool_grad_kernel(x.shape, dy, ksize, strides, padding)),
    ):
        for idx in [tuple(int(rng.integers(0, k)) for k in x.shape) for _ in range(8)]:
            old = x[idx]
            x[idx] = old + eps
            up = np.sum(kernel(x, ksize, strides, padding) * dy)
            x[idx] = old - eps
            down = np.sum(kernel(x, ksize, strides, padding) * dy)
            x[idx] = old
            assert (up - down) / (2 * eps) == pytest.approx(grad[idx], rel=1e-5, abs=1e-7)


def test_tiled_max_pool_keeps_integer_dtype():
    x = np.arange(2 * 4 * 4 * 1, dtype=np.int32).reshape(2, 4, 4, 1)
    y = C._max_pool_kernel(x, (2, 2), (2, 2), "VALID")
    assert y.dtype == np.int32
    np.testing.assert_array_equal(y[0, :, :, 0], [[5, 7], [13, 15]])


def test_backprop_with_wrong_out_backprop_shape_is_an_error():
    f = np.ones((3, 3, 2, 4), np.float32)
    dy = np.ones((1, 4, 4, 4), np.float32)  # SAME on 5x5 gives 5x5
    with pytest.raises(tf.errors.InvalidArgumentError, match="out_backprop"):
        C._conv_backprop_input_kernel((1, 5, 5, 2), f, dy, (1, 1), (1, 1), "SAME")
    with pytest.raises(tf.errors.InvalidArgumentError, match="out_backprop"):
        C._conv_backprop_filter_kernel(
            np.ones((1, 5, 5, 2), np.float32), (3, 3, 2, 4), dy, (1, 1), (1, 1), "SAME"
        )


# ------------------------------------------------------------------------- TF conformance
def _arr(shape, a, b, c, s):
    n = int(np.prod(shape))
    return ((np.arange(n) * a % b - c) / s).astype(np.float32).reshape(shape)


def _sig(v):
    v = np.asarray(v, np.float64).ravel()
    return [float(v.sum()), float(v @ (np.arange(v.size) % 13))]


# (strides, padding, dilations, y, dL/dx, dL/dw) with L = sum(y * dy): [sum, weighted sum]
# of each array, from TensorFlow 2.21 (tf.nn.conv2d + GradientTape) on these inputs.
TF_CONV = [
    ((1, 1), "SAME", (1, 1), [-5.4167, -42.9999], [1.1667, 145.6668], [4.75, 128.125]),
    ((2, 2), "VALID", (1, 1), [2.3333, 26.0834], [1.1667, 81.5], [-1.125, -10.875]),
    ((1, 1), "VALID", (1, 1), [-2.4167, -52.5], [0.0, -11.1666], [0.625, 108.0]),
    ((2, 2), "SAME", (1, 1), [8.25, 27.8334], [-2.6667, -150.6666], [-0.375, 39.0]),
]
# (ksize, strides, padding, max_pool, its dL/dx, avg_pool, its dL/dx) on ReLU'd input
# (ties in the windows), from TensorFlow 2.21 (tf.nn.max_pool2d / avg_pool2d).
TF_POOL = [
    ((2, 2), (2, 2), "SAME", [48.25, 269.5], [0.0, -0.5], [18.5625, 104.625], [0.0, 8.375]),
    ((2, 2), (2, 2), "VALID", [48.25, 269.5], [0.0, -0.5], [18.5625, 104.625], [0.0, 8.375]),
    ((3, 3), (2, 2), "SAME", [55.75, 317.0], [0.0, 13.0], [18.75, 105.6528], [0.0, 1.1111]),
    ((3, 3), (3, 3), "VALID", [25.5, 138.75], [0.0, 25.0], [8.25, 44.1667], [0.0, 3.1111]),
]


@pytest.mark.parametrize("strides,padding,dil,y_ref,dx_ref,dw_ref", TF_CONV)
def test_conv2d_and_gradients_match_tensorflow(strides, padding, dil, y_ref, dx_ref, dw_ref):
    with tf.Graph().as_default(), tf.Session() as sess:
        x = tf.constant(_arr((2, 6, 6, 3), 7, 11, 5, 4))
        w = tf.constant(_arr((3, 3, 3, 4), 5, 7, 3, 3))
        y = tf.nn.conv2d(x, w, [1, *strides, 1], padding, dilations=[1, *dil, 1])
        dy = tf.constant(_arr(y.shape.as_list(), 3, 5, 2, 2))
        dx, dw = tf.gradients(tf.reduce_sum(y * dy), [x, w])
        yv, dxv, dwv = sess.run([y, dx, dw])
    for got, want in ((yv, y_ref), (dxv, dx_ref), (dwv, dw_ref)):
        assert _sig(got) == pytest.approx(want, abs=2e-3)


@pytest.mark.parametrize("ksize,strides,padding,mp,dmp,ap,dap", TF_POOL)
def test_pooling_and_gradients_match_tensorflow(ksize, strides, padding, mp, dmp, ap, dap):
    with tf.Graph().as_default(), tf.Session() as sess:
        x = tf.constant(np.maximum(_arr((2, 6, 6, 3), 7, 11, 5, 4), 0))
        ym = tf.nn.max_pool(x, [1, *ksize, 1], [1, *strides, 1], padding)
        ya = tf.nn.avg_pool(x, [1, *ksize, 1], [1, *strides, 1], padding)
        dy = tf.constant(_arr(ym.shape.as_list(), 3, 5, 2, 2))
        (dxm,) = tf.gradients(tf.reduce_sum(ym * dy), [x])
        (dxa,) = tf.gradients(tf.reduce_sum(ya * dy), [x])
        vals = sess.run([ym, dxm, ya, dxa])
    for got, want in zip(vals, (mp, dmp, ap, dap)):
        assert _sig(got) == pytest.approx(want, abs=2e-3)
