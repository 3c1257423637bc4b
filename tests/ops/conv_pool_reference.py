"""The convolution and pooling kernels as they were before issue 22 (tensordot over the
window view, one scatter per kernel tap, argmax routing): the reference the faster
kernels must agree with on random inputs."""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import as_strided


def out_and_pad(size, k, s, d, padding):
    eff = (k - 1) * d + 1
    if padding == "VALID":
        return (size - eff + s) // s, (0, 0)
    out = -(-size // s)
    total = max((out - 1) * s + eff - size, 0)
    return out, (total // 2, total - total // 2)


def geometry(x_shape, kh, kw, strides, dilations, padding):
    (sh, sw), (dh, dw) = strides, dilations
    oh, ph = out_and_pad(x_shape[1], kh, sh, dh, padding)
    ow, pw = out_and_pad(x_shape[2], kw, sw, dw, padding)
    return oh, ow, ph, pw


def windows(xp, oh, ow, kh, kw, sh, sw, dh, dw):
    n, _, _, c = xp.shape
    s0, s1, s2, s3 = xp.strides
    return as_strided(
        xp, (n, oh, ow, kh, kw, c), (s0, s1 * sh, s2 * sw, s1 * dh, s2 * dw, s3), writeable=False
    )


def pad_hw(x, ph, pw, value=0):
    return np.pad(x, ((0, 0), ph, pw, (0, 0)), constant_values=value)


def conv2d(x, w, strides, dilations, padding):
    kh, kw = w.shape[:2]
    oh, ow, ph, pw = geometry(x.shape, kh, kw, strides, dilations, padding)
    cols = windows(pad_hw(x, ph, pw), oh, ow, kh, kw, *strides, *dilations)
    return np.tensordot(cols, w, axes=([3, 4, 5], [0, 1, 2])).astype(x.dtype, copy=False)


def conv_backprop_input(shape, w, dy, strides, dilations, padding):
    kh, kw = w.shape[:2]
    oh, ow, ph, pw = geometry(shape, kh, kw, strides, dilations, padding)
    (sh, sw), (dh, dw) = strides, dilations
    n, h, wd, c = shape
    dxp = np.zeros((n, h + sum(ph), wd + sum(pw), c), dtype=dy.dtype)
    dcols = np.tensordot(dy, w, axes=([3], [3]))
    for i in range(kh):
        for j in range(kw):
            dxp[
                :,
                i * dh : i * dh + sh * (oh - 1) + 1 : sh,
                j * dw : j * dw + sw * (ow - 1) + 1 : sw,
                :,
            ] += dcols[:, :, :, i, j, :]
    return dxp[:, ph[0] : ph[0] + h, pw[0] : pw[0] + wd, :]


def conv_backprop_filter(x, filter_shape, dy, strides, dilations, padding):
    kh, kw = filter_shape[:2]
    oh, ow, ph, pw = geometry(x.shape, kh, kw, strides, dilations, padding)
    cols = windows(pad_hw(x, ph, pw), oh, ow, kh, kw, *strides, *dilations)
    return np.tensordot(cols, dy, axes=([0, 1, 2], [0, 1, 2])).astype(dy.dtype, copy=False)


def _pool_windows(x, ksize, strides, padding, fill):
    kh, kw = ksize
    oh, ow, ph, pw = geometry(x.shape, kh, kw, strides, (1, 1), padding)
    return windows(pad_hw(x, ph, pw, fill), oh, ow, kh, kw, *strides, 1, 1), (oh, ow, ph, pw)


def max_pool(x, ksize, strides, padding):
    cols, _ = _pool_windows(x, ksize, strides, padding, -np.inf)
    return cols.max(axis=(3, 4))


def _scatter_taps(per_tap, x_shape, ksize, strides, geo, dtype):
    (kh, kw), (sh, sw) = ksize, strides
    oh, ow, ph, pw = geo
    n, h, w, c = x_shape
    out = np.zeros((n, h + sum(ph), w + sum(pw), c), dtype=dtype)
    for i in range(kh):
        for j in range(kw):
            out[:, i : i + sh * (oh - 1) + 1 : sh, j : j + sw * (ow - 1) + 1 : sw, :] += per_tap(
                i, j
            )
    return out[:, ph[0] : ph[0] + h, pw[0] : pw[0] + w, :]


def max_pool_grad(x, dy, ksize, strides, padding):
    cols, geo = _pool_windows(x, ksize, strides, padding, -np.inf)
    n, oh, ow, kh, kw, c = cols.shape
    arg = np.argmax(np.moveaxis(cols, 5, 3).reshape(n, oh, ow, c, kh * kw), axis=-1)
    return _scatter_taps(
        lambda i, j: np.where(arg == i * kw + j, dy, 0), x.shape, ksize, strides, geo, dy.dtype
    )


def _avg_counts(x_shape, ksize, strides, padding):
    ones = np.ones((1,) + tuple(x_shape[1:3]) + (1,))
    cols, _ = _pool_windows(ones, ksize, strides, padding, 0)
    return cols.sum(axis=(3, 4))


def avg_pool(x, ksize, strides, padding):
    cols, _ = _pool_windows(x, ksize, strides, padding, 0)
    return (cols.sum(axis=(3, 4)) / _avg_counts(x.shape, ksize, strides, padding)).astype(
        x.dtype, copy=False
    )


def avg_pool_grad(x_shape, dy, ksize, strides, padding):
    scaled = dy / _avg_counts(x_shape, ksize, strides, padding)
    _, _, ph, pw = geometry(x_shape, *ksize, strides, (1, 1), padding)
    geo = (dy.shape[1], dy.shape[2], ph, pw)
    return _scatter_taps(lambda i, j: scaled, x_shape, ksize, strides, geo, dy.dtype).astype(
        dy.dtype, copy=False
    )
