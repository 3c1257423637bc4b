"""Compiled (numba, the optional ``[fast]`` extra) twins of two CNN kernel loops, each
beside its NumPy twin, which stays the reference and the fallback:

- **col2im**: the scatter-add of a patch-gradient matrix ``dcols = dy @ W^T`` back onto
  the input positions, the second half of `Conv2DBackpropInput` (`conv_ops`). Why: the
  input gradient as one GEMM per batch chunk (K = output channels) plus this scatter
  runs at the forward GEMM's speed, where the 25 per-tap GEMMs it replaces (N = input
  channels) ran at half of it; NumPy's own scatter is 25 strided adds per chunk, each a
  pass over the chunk, so the one-pass loop is what makes the rewrite pay.
- **max pooling on tiling windows** (ksize == strides, `pool_tiled`) and its gradient:
  one pass over the input instead of KH*KW strided NumPy passes plus masks (W5's
  `MaxPoolGrad`: ~17 ms a call in NumPy).

Both loops visit the kernel taps in the NumPy twins' order and do the same operations
without fastmath, so results are bit-identical to the twins. float32 and float64 only;
arrays under ``MIN_SIZE`` elements stay in NumPy (a small model should not import numba,
~0.5 s and ~100 MB, for nothing). ``MINIFLOW_NO_NUMBA=1`` forces NumPy
(`miniflow.core.compiled`).
"""

from __future__ import annotations

import numpy as np

from miniflow.core import compiled

MIN_SIZE = 1 << 14
_OPTS = {"error_model": "numpy"}


def enabled(dtype, size) -> bool:
    """True when the compiled loops run: float32/float64 arrays of at least ``MIN_SIZE``
    elements and :func:`miniflow.core.compiled.enabled`."""
    return dtype in (np.float32, np.float64) and size >= MIN_SIZE and compiled.enabled()


# ---------------------------------------------------------------------------------------
# col2im


@compiled.jit(**_OPTS)
def _col2im(dcols, dx, n0, oh, ow, kh, kw, sh, sw, dh, dw, ph0, pw0):
    n_img = dcols.shape[0] // (oh * ow)
    h, w, c = dx.shape[1], dx.shape[2], dx.shape[3]
    for i in range(kh):
        for j in range(kw):
            k0 = (i * kw + j) * c
            for n in range(n_img):
                for y in range(oh):
                    yy = y * sh + i * dh - ph0
                    if yy < 0 or yy >= h:
                        continue
                    r0 = (n * oh + y) * ow
                    for x in range(ow):
                        xx = x * sw + j * dw - pw0
                        if xx < 0 or xx >= w:
                            continue
                        row = dx[n0 + n, yy, xx]
                        src = dcols[r0 + x]
                        for cc in range(c):
                            row[cc] += src[k0 + cc]


def col2im_numpy(dcols, dx, n0, oh, ow, kh, kw, sh, sw, dh, dw, ph0, pw0):
    """NumPy twin of the compiled scatter: per tap one strided add of the tap's columns
    onto the positions it touched, clipped to the unpadded input."""
    n_img = dcols.shape[0] // (oh * ow)
    h, w, c = dx.shape[1:]
    taps = dcols.reshape(n_img, oh, ow, kh * kw, c)
    for i in range(kh):
        ys = _inside(oh, sh, i * dh - ph0, h)
        for j in range(kw):
            xs = _inside(ow, sw, j * dw - pw0, w)
            if ys is None or xs is None:
                continue
            (y0, y1, yy0), (x0, x1, xx0) = ys, xs
            dst = dx[
                n0 : n0 + n_img,
                yy0 : yy0 + sh * (y1 - y0 - 1) + 1 : sh,
                xx0 : xx0 + sw * (x1 - x0 - 1) + 1 : sw,
            ]
            dst += taps[:, y0:y1, x0:x1, i * kw + j]


def _inside(out, s, offset, size):
    """Output range [o0, o1) whose position o * s + offset lies in [0, size), and the
    first such position; None when empty."""
    o0 = max(0, -(offset // s))
    o1 = min(out, (size - 1 - offset) // s + 1)
    if o1 <= o0:
        return None
    return o0, o1, o0 * s + offset


def col2im(dcols, dx, n0, geometry):
    """Adds the patch gradients ``dcols`` ([n_img*OH*OW, KH*KW*C], rows of images n0...)
    onto ``dx`` (N, H, W, C), C-contiguous; ``geometry`` is (OH, OW, KH, KW, SH, SW, DH,
    DW, PH0, PW0) with PH0/PW0 the top/left padding."""
    if enabled(dx.dtype, dx.size) and dcols.dtype == dx.dtype:
        _col2im(dcols, dx, n0, *geometry)
    else:
        col2im_numpy(dcols, dx, n0, *geometry)


# ---------------------------------------------------------------------------------------
# Max pooling on tiling windows


@compiled.jit(**_OPTS)
def _max_pool(x, out, kh, kw):
    n_img, oh, ow, c = out.shape
    for n in range(n_img):
        for y in range(oh):
            for xo in range(ow):
                o = out[n, y, xo]
                first = x[n, y * kh, xo * kw]
                for cc in range(c):
                    o[cc] = first[cc]
                for t in range(1, kh * kw):
                    row = x[n, y * kh + t // kw, xo * kw + t % kw]
                    for cc in range(c):
                        v = row[cc]
                        # np.maximum: NaN wins, else the larger value
                        if v > o[cc] or v != v:
                            o[cc] = v


@compiled.jit(**_OPTS)
def _max_pool_grad(x, dy, dx, kh, kw):
    n_img, oh, ow, c = dy.shape
    m = np.empty(c, x.dtype)
    open_ = np.empty(c, np.bool_)
    zero = dx.dtype.type(0)
    for n in range(n_img):
        for y in range(oh):
            for xo in range(ow):
                first = x[n, y * kh, xo * kw]
                for cc in range(c):
                    m[cc] = first[cc]
                    open_[cc] = True
                for t in range(1, kh * kw):
                    row = x[n, y * kh + t // kw, xo * kw + t % kw]
                    for cc in range(c):
                        v = row[cc]
                        if v > m[cc] or v != v:
                            m[cc] = v
                g = dy[n, y, xo]
                for t in range(kh * kw):
                    yy, xx = y * kh + t // kw, xo * kw + t % kw
                    row = x[n, yy, xx]
                    drow = dx[n, yy, xx]
                    for cc in range(c):
                        hit = open_[cc] and row[cc] == m[cc]
                        drow[cc] = g[cc] if hit else zero
                        open_[cc] = open_[cc] and not hit


def max_pool_tiled(x, ksize, out_hw):
    """Compiled `pool_tiled.max_pool` (check :func:`enabled` first)."""
    x = np.ascontiguousarray(x)
    out = np.empty((x.shape[0], *out_hw, x.shape[3]), x.dtype)
    _max_pool(x, out, *ksize)
    return out


def max_pool_grad_tiled(x, dy, ksize, out_hw):
    """Compiled `pool_tiled.max_pool_grad`: dy routed to the first maximum of each
    window (none when the window holds a NaN), zero elsewhere."""
    x = np.ascontiguousarray(x)
    dy = np.ascontiguousarray(dy)
    (kh, kw), (oh, ow) = ksize, out_hw
    covered = x.shape[1] == oh * kh and x.shape[2] == ow * kw
    dx = np.empty(x.shape, dy.dtype) if covered else np.zeros(x.shape, dy.dtype)
    _max_pool_grad(x, dy, dx, kh, kw)
    return dx
