"""Pooling kernels for windows that tile the input exactly (ksize == strides, no padding
needed: the common 2x2/2 pooling of CNNs). The input is viewed as
(N, OH, KH, OW, KW, C) without a copy and each window tap is one strided slice, so max
pooling is KH*KW element-wise maxima and its gradient KH*KW masked writes, instead of a
window copy, an argmax and a scatter.

`conv_ops` uses these when `tiles()` says the geometry allows it and falls back to its
general kernels otherwise; both route a max-pool gradient to the first maximum of each
window (row-major order, as TF).
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import as_strided


def tiles(x_shape, ksize, strides, padding):
    """(OH, OW) when ``ksize == strides`` and the windows need no padding, else None."""
    (kh, kw), (sh, sw) = ksize, strides
    if (kh, kw) != (sh, sw) or len(x_shape) != 4:
        return None
    h, w = x_shape[1], x_shape[2]
    if padding == "VALID":
        return (h // kh, w // kw) if h >= kh and w >= kw else None
    if h % kh or w % kw:
        return None
    return h // kh, w // kw


def _taps(x, oh, ow, kh, kw):
    """(N, OH, KH, OW, KW, C) view of the windows of ``x`` (rows/cols past them ignored)."""
    s0, s1, s2, s3 = x.strides
    n, c = x.shape[0], x.shape[3]
    return as_strided(x, (n, oh, kh, ow, kw, c), (s0, s1 * kh, s1, s2 * kw, s2, s3))


def max_pool(x, ksize, out_hw):
    (kh, kw), (oh, ow) = ksize, out_hw
    v = _taps(x, oh, ow, kh, kw)
    taps = [v[:, :, i, :, j, :] for i in range(kh) for j in range(kw)]
    if len(taps) == 1:
        return taps[0].copy()
    out = np.maximum(taps[0], taps[1])
    for t in taps[2:]:
        np.maximum(out, t, out=out)
    return out


def max_pool_grad(x, dy, ksize, out_hw):
    """dy routed to the first maximum of each window; zero elsewhere."""
    (kh, kw), (oh, ow) = ksize, out_hw
    m = max_pool(x, ksize, out_hw)
    v = _taps(x, oh, ow, kh, kw)
    dx = np.zeros(x.shape, dy.dtype)
    dv = _taps(dx, oh, ow, kh, kw)
    taken = None
    last = kh * kw - 1
    for k in range(kh * kw):
        i, j = divmod(k, kw)
        sel = np.equal(v[:, :, i, :, j, :], m)
        if taken is None:
            taken = sel
        else:
            np.logical_and(sel, np.logical_not(taken), out=sel)
            if k != last:
                np.logical_or(taken, sel, out=taken)
        np.multiply(dy, sel, out=dv[:, :, i, :, j, :])
    return dx


def avg_pool(x, ksize, out_hw):
    (kh, kw), (oh, ow) = ksize, out_hw
    v = _taps(x, oh, ow, kh, kw)
    out = v[:, :, 0, :, 0, :].copy()
    for k in range(1, kh * kw):
        i, j = divmod(k, kw)
        out += v[:, :, i, :, j, :]
    out /= np.asarray(kh * kw, out.dtype)
    return out


def avg_pool_grad(x_shape, dy, ksize, out_hw):
    (kh, kw), (oh, ow) = ksize, out_hw
    dx = np.zeros(x_shape, dy.dtype)
    dv = _taps(dx, oh, ow, kh, kw)
    share = dy / np.asarray(kh * kw, dy.dtype)
    for k in range(kh * kw):
        i, j = divmod(k, kw)
        dv[:, :, i, :, j, :] = share
    return dx
