"""Convolution and pooling (`tf.nn.conv2d`, `conv2d_transpose`, `max_pool`, `avg_pool`):
NHWC, SAME/VALID, strides and dilations. The convolution and its filter gradient are
GEMMs on the im2col patch matrix of the padded input, the input gradient a GEMM giving
the patch gradients and a col2im scatter-add (`conv_compiled`); all three run over batch
chunks of ~1 MB of patches, so each chunk is still in cache when it is read back.
Every backward op has its own gradient, so second derivatives work."""

from __future__ import annotations

import threading

import numpy as np
from numpy.lib.stride_tricks import as_strided

from miniflow import errors
from miniflow.core.dispatch import apply_op
from miniflow.core.registry import register_gradient, register_op
from miniflow.ops import array_ops as _arr, conv_compiled as _compiled, pool_tiled as _tiled
from miniflow.ops.shape_rules import dims

# ---------------------------------------------------------------------------------------
# Convolution: im2col through a strided view, one GEMM per call.


def _pair(v, what):
    if isinstance(v, int):
        return v, v
    v = list(v)
    if len(v) == 4:
        return int(v[1]), int(v[2])
    if len(v) == 2:
        return int(v[0]), int(v[1])
    if len(v) == 1:
        return int(v[0]), int(v[0])
    raise ValueError(f"{what} must be an int or a list of 1, 2 or 4 ints, got {v}")


def _out_and_pad(size, k, s, d, padding):
    """Output size and (before, after) padding of one spatial dimension."""
    eff = (k - 1) * d + 1
    if padding == "VALID":
        if size - eff + s < 0:
            raise ValueError(
                f"Computed output size would be negative: {(size - eff) // s + 1}"
                f" [input_size: {size}, effective_filter_size: {eff}, stride: {s}]"
            )
        return (size - eff + s) // s, (0, 0)
    out = -(-size // s)
    total = max((out - 1) * s + eff - size, 0)
    return out, (total // 2, total - total // 2)


def _windows(xp, oh, ow, kh, kw, sh, sw, dh, dw):
    """(N, OH, OW, KH, KW, C) view of the padded NHWC input (no copy)."""
    n, _, _, c = xp.shape
    s0, s1, s2, s3 = xp.strides
    return as_strided(
        xp, (n, oh, ow, kh, kw, c), (s0, s1 * sh, s2 * sw, s1 * dh, s2 * dw, s3), writeable=False
    )


def _geometry(x_shape, kh, kw, strides, dilations, padding):
    (sh, sw), (dh, dw) = strides, dilations
    oh, ph = _out_and_pad(x_shape[1], kh, sh, dh, padding)
    ow, pw = _out_and_pad(x_shape[2], kw, sw, dw, padding)
    return oh, ow, ph, pw


def _pad_hw(x, ph, pw, value=0):
    if ph == (0, 0) and pw == (0, 0):
        return np.ascontiguousarray(x)
    return np.pad(x, ((0, 0), ph, pw, (0, 0)), constant_values=value)


# The im2col chunks (and the input gradient's patch-gradient chunks) are consumed by a
# GEMM inside the kernel that fills them, so each thread keeps one buffer for them: a
# fresh array is new pages on every call once it is over glibc's mmap threshold.
# Larger than _SCRATCH_MAX (a single image's patches can be): allocated per call.
_SCRATCH_MAX = 512 << 20
_scratch = threading.local()


def _scratch_array(shape, dtype):
    nbytes = int(np.prod(shape)) * np.dtype(dtype).itemsize
    if nbytes > _SCRATCH_MAX:
        return np.empty(shape, dtype)
    buf = getattr(_scratch, "buf", None)
    if buf is None or buf.nbytes < nbytes:
        buf = _scratch.buf = np.empty(nbytes, np.uint8)
    return buf[:nbytes].view(dtype).reshape(shape)


# im2col and its GEMM run over batch chunks of ~1 MB of patch rows: a chunk is still in
# cache when the GEMM reads it (W5's second layer: forward 57 -> 38 ms, filter gradient
# 55 -> 40 ms against one 80 MB patch matrix).
_CHUNK_BYTES = 1 << 20


def _images_per_chunk(n, image_bytes):
    return max(1, min(n, _CHUNK_BYTES // max(1, image_bytes)))


def _patch_chunks(x, kh, kw, strides, dilations, padding):
    """im2col by batch chunks: yields (n0, n1, cols) with ``cols`` the
    ((n1 - n0)*OH*OW, KH*KW*C) patch rows of images n0..n1 in this thread's reused
    buffer (valid until the next chunk). A 1x1 stride-1 unpadded filter needs no copy:
    one chunk, the input itself."""
    n, c = x.shape[0], x.shape[3]
    oh, ow, ph, pw = _geometry(x.shape, kh, kw, strides, dilations, padding)
    if kh == kw == 1 and strides == (1, 1) and ph == pw == (0, 0):
        yield 0, n, np.ascontiguousarray(x).reshape(-1, c)
        return
    view = _windows(_pad_hw(x, ph, pw), oh, ow, kh, kw, *strides, *dilations)
    per = _images_per_chunk(n, oh * ow * kh * kw * c * x.dtype.itemsize)
    buf = _scratch_array((per,) + view.shape[1:], x.dtype)
    for n0 in range(0, n, per):
        n1 = min(n, n0 + per)
        part = buf[: n1 - n0]
        np.copyto(part, view[n0:n1])
        yield n0, n1, part.reshape(-1, kh * kw * c)


def _conv_gemm(x, w, strides, dilations, padding):
    kh, kw, c, o = w.shape
    oh, ow, _, _ = _geometry(x.shape, kh, kw, strides, dilations, padding)
    dtype = np.result_type(x.dtype, w.dtype)
    out = np.empty((x.shape[0] * oh * ow, o), dtype)
    w2 = w.reshape(kh * kw * c, o)
    for n0, n1, cols in _patch_chunks(x, kh, kw, strides, dilations, padding):
        np.matmul(cols, w2, out=out[n0 * oh * ow : n1 * oh * ow])
    return out.reshape(x.shape[0], oh, ow, o).astype(x.dtype, copy=False)


def _conv2d_kernel(x, w, strides=(1, 1), dilations=(1, 1), padding="VALID"):
    if x.shape[3] != w.shape[2]:
        raise errors.InvalidArgumentError(
            None,
            None,
            f"input depth must be evenly divisible by filter depth: {x.shape[3]} vs {w.shape[2]}",
        )
    return _conv_gemm(x, w, tuple(strides), tuple(dilations), padding)


def _check_backprop(actual, computed, what):
    if tuple(actual) != tuple(computed):
        raise errors.InvalidArgumentError(
            None,
            None,
            f"Conv2D backprop: size of {what} doesn't match computed: "
            f"actual = {list(actual)}, computed = {list(computed)}",
        )


def _conv_backprop_input_kernel(
    input_sizes, w, dy, strides=(1, 1), dilations=(1, 1), padding="VALID"
):
    shape = tuple(int(s) for s in input_sizes)
    kh, kw = w.shape[:2]
    oh, ow, ph, pw = _geometry(shape, kh, kw, strides, dilations, padding)
    _check_backprop(dy.shape, (shape[0], oh, ow, w.shape[3]), "out_backprop")
    (sh, sw), (dh, dw) = strides, dilations
    geometry = (oh, ow, kh, kw, sh, sw, dh, dw, ph[0], pw[0])
    return _backprop_input_gemm(shape, w, dy, geometry)


def _backprop_input_gemm(shape, w, dy, geometry):
    """The input gradient as one GEMM per batch chunk, ``dcols = dy @ W^T`` ([rows,
    KH*KW*C], K = output channels), scattered onto the input by col2im."""
    kh, kw, c, o = w.shape
    oh, ow = geometry[:2]
    n = shape[0]
    w_t = w.reshape(kh * kw * c, o).T
    per_chunk = _images_per_chunk(n, oh * ow * kh * kw * c * dy.dtype.itemsize)
    dcols = _scratch_array((per_chunk * oh * ow, kh * kw * c), dy.dtype)
    dx = np.zeros(shape, dy.dtype)
    if dy.size == 0:  # an empty batch or output: nothing to add
        return dx
    dy2 = dy.reshape(-1, o)
    for n0 in range(0, n, per_chunk):
        rows = min(per_chunk, n - n0) * oh * ow
        part = dcols[:rows]
        np.matmul(dy2[n0 * oh * ow : n0 * oh * ow + rows], w_t, out=part)
        _compiled.col2im(part, dx, n0, geometry)
    return dx


def _conv_backprop_filter_kernel(
    x, filter_sizes, dy, strides=(1, 1), dilations=(1, 1), padding="VALID"
):
    kh, kw = int(filter_sizes[0]), int(filter_sizes[1])
    if int(filter_sizes[2]) != x.shape[3]:
        raise errors.InvalidArgumentError(
            None,
            None,
            f"Conv2DBackpropFilter: filter_sizes[2] must be the input depth: "
            f"{int(filter_sizes[2])} vs {x.shape[3]}",
        )
    strides, dilations = tuple(strides), tuple(dilations)
    oh, ow, _, _ = _geometry(x.shape, kh, kw, strides, dilations, padding)
    _check_backprop(dy.shape, (x.shape[0], oh, ow, int(filter_sizes[3])), "out_backprop")
    dy2 = dy.reshape(-1, dy.shape[3])
    out = part = None
    for n0, n1, cols in _patch_chunks(x, kh, kw, strides, dilations, padding):
        rows = dy2[n0 * oh * ow : n1 * oh * ow]
        if out is None:
            out = np.matmul(cols.T, rows)
        else:  # the sum over chunks: one small [KH*KW*C, O] add per chunk
            part = np.matmul(cols.T, rows, out=part)
            out += part
    if out is None:  # an empty batch
        out = np.zeros((kh * kw * x.shape[3], dy.shape[3]), np.result_type(x.dtype, dy.dtype))
    return out.reshape(kh, kw, x.shape[3], dy.shape[3]).astype(dy.dtype, copy=False)


def _conv_infer(inputs, attrs):
    x, w = dims(inputs[0]), dims(inputs[1])
    if x is None or w is None:
        return [((None,) * 4, inputs[0].dtype)]
    if len(x) != 4:
        raise ValueError(f"Shape must be rank 4 but is rank {len(x)}")
    if len(w) != 4:
        raise ValueError(f"Shape must be rank 4 but is rank {len(w)}")
    if None not in (x[3], w[2]) and x[3] != w[2]:
        raise ValueError(f"Dimensions must be equal, but are {x[3]} and {w[2]}")
    return [((x[0],) + _spatial_out(x, w[0], w[1], attrs) + (w[3],), inputs[0].dtype)]


def _spatial_out(x, kh, kw, attrs):
    out = []
    for size, k, s, d in (
        (x[1], kh, attrs["strides"][0], attrs["dilations"][0]),
        (x[2], kw, attrs["strides"][1], attrs["dilations"][1]),
    ):
        out.append(
            None if size is None or k is None else _out_and_pad(size, k, s, d, attrs["padding"])[0]
        )
    return tuple(out)


register_op("Conv2D", infer=_conv_infer)(_conv2d_kernel)
register_op(
    "Conv2DBackpropInput", infer=lambda i, a: [(_arr._shape_from_tensor(i[0]), i[1].dtype)]
)(_conv_backprop_input_kernel)
register_op(
    "Conv2DBackpropFilter", infer=lambda i, a: [(_arr._shape_from_tensor(i[1]), i[0].dtype)]
)(_conv_backprop_filter_kernel)


def _conv_attrs(op):
    return {k: op.attrs[k] for k in ("strides", "dilations", "padding")}


@register_gradient("Conv2D")
def _conv2d_grad(op, grad):
    x, w = op.inputs
    a = _conv_attrs(op)
    return [
        apply_op("Conv2DBackpropInput", _arr.shape(x), w, grad, **a),
        apply_op("Conv2DBackpropFilter", x, _arr.shape(w), grad, **a),
    ]


@register_gradient("Conv2DBackpropInput")
def _conv_backprop_input_grad(op, grad):
    """Linear in (filter, dy): the adjoints are the filter backprop and conv2d itself."""
    _, w, dy = op.inputs
    a = _conv_attrs(op)
    return [
        None,
        apply_op("Conv2DBackpropFilter", grad, _arr.shape(w), dy, **a),
        apply_op("Conv2D", grad, w, **a),
    ]


@register_gradient("Conv2DBackpropFilter")
def _conv_backprop_filter_grad(op, grad):
    x, _, dy = op.inputs
    a = _conv_attrs(op)
    return [
        apply_op("Conv2DBackpropInput", _arr.shape(x), grad, dy, **a),
        None,
        apply_op("Conv2D", x, grad, **a),
    ]


def _check_conv_args(padding, data_format, strides, dilations):
    padding = padding.upper() if isinstance(padding, str) else padding
    if padding not in ("SAME", "VALID"):
        raise ValueError(f"padding must be 'SAME' or 'VALID', got {padding!r}")
    if data_format not in (None, "NHWC"):
        raise ValueError(f"data_format {data_format!r} is not supported here; use 'NHWC'")
    s = _pair(strides, "strides")
    d = _pair(dilations if dilations is not None else 1, "dilations")
    if (
        isinstance(strides, list | tuple)
        and len(strides) == 4
        and (strides[0] != 1 or strides[3] != 1)
    ):
        raise ValueError(
            "Current implementation does not yet support strides in the batch and depth dimensions."
        )
    if min(s) < 1 or min(d) < 1:
        raise ValueError(f"strides and dilations must be >= 1, got {s} and {d}")
    if max(d) > 1 and max(s) > 1:
        raise ValueError("strides > 1 not supported in conjunction with dilation_rate > 1")
    return padding, s, d


def _nhwc_list(v):
    """An NCHW [n, c, h, w] strides/ksize/dilations list in NHWC order (else unchanged)."""
    if isinstance(v, list | tuple) and len(v) == 4:
        return [v[0], v[2], v[3], v[1]]
    return v


def _via_nhwc(fn, x):
    """``fn`` (an NHWC op) applied to an NCHW tensor: transposed in and back out (TF's
    CPU kernels refuse NCHW; miniflow computes it)."""
    y = fn(_arr.transpose(x, [0, 2, 3, 1]))
    return _arr.transpose(y, [0, 3, 1, 2])


def conv2d(
    input,
    filter=None,
    strides=None,
    padding=None,
    use_cudnn_on_gpu=True,  # noqa: A002
    data_format="NHWC",
    dilations=None,
    name=None,
    filters=None,
):
    """2-D convolution of an NHWC (or NCHW) ``input`` with an HWIO ``filter``.

    Args:
        strides: 4 ints [1, sh, sw, 1] (or 1/2 ints).
        padding: "SAME" (output = ceil(in / stride)) or "VALID".
        dilations: [1, dh, dw, 1]; the filter taps are spaced dh, dw apart.
    """
    filter = filters if filter is None else filter  # noqa: A001
    if data_format == "NCHW":
        return _via_nhwc(
            lambda x: conv2d(
                x, filter, _nhwc_list(strides), padding, dilations=_nhwc_list(dilations), name=name
            ),
            input,
        )
    padding, s, d = _check_conv_args(padding, data_format, strides, dilations)
    return apply_op("Conv2D", input, filter, strides=s, dilations=d, padding=padding, name=name)


def conv2d_backprop_input(
    input_sizes,
    filter,
    out_backprop,
    strides,
    padding,  # noqa: A002
    use_cudnn_on_gpu=True,
    data_format="NHWC",
    dilations=None,
    name=None,
):
    """The gradient of conv2d with respect to its input (of shape ``input_sizes``)."""
    padding, s, d = _check_conv_args(padding, data_format, strides, dilations)
    return apply_op(
        "Conv2DBackpropInput",
        _arr._int_tensor(input_sizes),
        filter,
        out_backprop,
        strides=s,
        dilations=d,
        padding=padding,
        name=name,
    )


def conv2d_backprop_filter(
    input,
    filter_sizes,
    out_backprop,
    strides,
    padding,  # noqa: A002
    use_cudnn_on_gpu=True,
    data_format="NHWC",
    dilations=None,
    name=None,
):
    """The gradient of conv2d with respect to its filter (of shape ``filter_sizes``)."""
    padding, s, d = _check_conv_args(padding, data_format, strides, dilations)
    return apply_op(
        "Conv2DBackpropFilter",
        input,
        _arr._int_tensor(filter_sizes),
        out_backprop,
        strides=s,
        dilations=d,
        padding=padding,
        name=name,
    )


def conv2d_transpose(
    value,
    filter,
    output_shape,
    strides,
    padding="SAME",  # noqa: A002
    data_format="NHWC",
    name=None,
    dilations=None,
):
    """The transpose (gradient) of conv2d: ``filter`` is [h, w, out_channels, in_channels].

    Raises:
        ValueError: output_shape's depth does not match the filter's.
    """
    f = dims(_arr.convert_to_tensor(filter))
    if (
        isinstance(output_shape, list | tuple)
        and f is not None
        and f[2] is not None
        and int(output_shape[3]) != f[2]
    ):
        raise ValueError(
            f"output_shape does not match filter's output channels, {output_shape[3]} != {f[2]}"
        )
    return conv2d_backprop_input(
        output_shape,
        filter,
        value,
        strides,
        padding,
        data_format=data_format,
        dilations=dilations,
        name=name or "conv2d_transpose",
    )


# ---------------------------------------------------------------------------------------
# Pooling. Max routes the gradient to the first maximum of each window (as TF does).


def _pool_windows(x, ksize, strides, padding, fill):
    kh, kw = ksize
    oh, ow, ph, pw = _geometry(x.shape, kh, kw, strides, (1, 1), padding)
    return _windows(_pad_hw(x, ph, pw, fill), oh, ow, kh, kw, *strides, 1, 1), (oh, ow, ph, pw)


def _max_pool_kernel(x, ksize=(1, 1), strides=(1, 1), padding="VALID"):
    out_hw = _tiled.tiles(x.shape, ksize, strides, padding)
    if out_hw is not None:
        if _compiled.enabled(x.dtype, x.size):
            return _compiled.max_pool_tiled(x, ksize, out_hw)
        return _tiled.max_pool(x, ksize, out_hw)
    fill = -np.inf if x.dtype.kind == "f" else np.iinfo(x.dtype).min
    cols, _ = _pool_windows(x, ksize, strides, padding, fill)
    return cols.max(axis=(3, 4))


def _argmax_taps(x, ksize, strides, padding):
    """Index (i * kw + j) of the first maximum in each window, and the geometry."""
    fill = -np.inf if x.dtype.kind == "f" else np.iinfo(x.dtype).min
    cols, geo = _pool_windows(x, ksize, strides, padding, fill)
    n, oh, ow, kh, kw, c = cols.shape
    flat = np.moveaxis(cols, 5, 3).reshape(n, oh, ow, c, kh * kw)
    return np.argmax(flat, axis=-1), geo


def _scatter_taps(per_tap, x_shape, ksize, strides, geo, dtype):
    """Sums per-window values back onto the (padded, then cropped) input positions."""
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


def _max_pool_grad_kernel(x, dy, ksize=(1, 1), strides=(1, 1), padding="VALID"):
    out_hw = _tiled.tiles(x.shape, ksize, strides, padding)
    if out_hw is not None and dy.shape[1:3] == out_hw:
        if x.dtype == dy.dtype and _compiled.enabled(x.dtype, x.size):
            return _compiled.max_pool_grad_tiled(x, dy, ksize, out_hw)
        return _tiled.max_pool_grad(x, dy, ksize, out_hw)
    arg, geo = _argmax_taps(x, ksize, strides, padding)
    kw = ksize[1]
    return _scatter_taps(
        lambda i, j: np.where(arg == i * kw + j, dy, 0), x.shape, ksize, strides, geo, dy.dtype
    )


def _max_pool_grad_grad_kernel(x, g, ksize=(1, 1), strides=(1, 1), padding="VALID"):
    """g at the position of each window's maximum (the adjoint of MaxPoolGrad in dy)."""
    arg, geo = _argmax_taps(x, ksize, strides, padding)
    cols, _ = _pool_windows(g, ksize, strides, padding, 0)
    n, oh, ow, kh, kw, c = cols.shape
    flat = np.moveaxis(cols, 5, 3).reshape(n, oh, ow, c, kh * kw)
    return np.take_along_axis(flat, arg[..., None], -1)[..., 0]


def _avg_counts(x_shape, ksize, strides, padding):
    ones = np.ones((1,) + tuple(x_shape[1:3]) + (1,))
    cols, _ = _pool_windows(ones, ksize, strides, padding, 0)
    return cols.sum(axis=(3, 4))  # only real (unpadded) elements count, as in TF


def _avg_pool_kernel(x, ksize=(1, 1), strides=(1, 1), padding="VALID"):
    out_hw = _tiled.tiles(x.shape, ksize, strides, padding)
    if out_hw is not None and x.dtype.kind == "f":
        return _tiled.avg_pool(x, ksize, out_hw)
    cols, _ = _pool_windows(x, ksize, strides, padding, 0)
    return (cols.sum(axis=(3, 4)) / _avg_counts(x.shape, ksize, strides, padding)).astype(
        x.dtype, copy=False
    )


def _avg_pool_grad_kernel(x_shape, dy, ksize=(1, 1), strides=(1, 1), padding="VALID"):
    x_shape = tuple(int(s) for s in x_shape)
    out_hw = _tiled.tiles(x_shape, ksize, strides, padding)
    if out_hw is not None and dy.shape[1:3] == out_hw and dy.dtype.kind == "f":
        return _tiled.avg_pool_grad(x_shape, dy, ksize, out_hw)
    scaled = dy / _avg_counts(x_shape, ksize, strides, padding)
    _, _, ph, pw = _geometry(x_shape, *ksize, strides, (1, 1), padding)
    geo = (dy.shape[1], dy.shape[2], ph, pw)
    return _scatter_taps(lambda i, j: scaled, x_shape, ksize, strides, geo, dy.dtype).astype(
        dy.dtype, copy=False
    )


def _pool_infer(inputs, attrs):
    x = dims(inputs[0])
    if x is None:
        return [((None,) * 4, inputs[0].dtype)]
    if len(x) != 4:
        raise ValueError(f"Shape must be rank 4 but is rank {len(x)}")
    a = dict(attrs, dilations=(1, 1))
    return [((x[0],) + _spatial_out(x, *attrs["ksize"], a) + (x[3],), inputs[0].dtype)]


register_op("MaxPool", infer=_pool_infer)(_max_pool_kernel)
register_op("AvgPool", infer=_pool_infer)(_avg_pool_kernel)
register_op("MaxPoolGrad", infer=lambda i, a: [(dims(i[0]), i[1].dtype)])(_max_pool_grad_kernel)
register_op("MaxPoolGradGrad", infer=_pool_infer)(_max_pool_grad_grad_kernel)
register_op("AvgPoolGrad", infer=lambda i, a: [(_arr._shape_from_tensor(i[0]), i[1].dtype)])(
    _avg_pool_grad_kernel
)


def _pool_attrs(op):
    return {k: op.attrs[k] for k in ("ksize", "strides", "padding")}


@register_gradient("MaxPool")
def _max_pool_grad(op, grad):
    return [apply_op("MaxPoolGrad", op.inputs[0], grad, **_pool_attrs(op))]


@register_gradient("MaxPoolGrad")
def _max_pool_grad_grad(op, grad):
    """Linear in dy; its adjoint picks each window's maximum position."""
    return [None, apply_op("MaxPoolGradGrad", op.inputs[0], grad, **_pool_attrs(op))]


@register_gradient("MaxPoolGradGrad")
def _max_pool_grad_grad_grad(op, grad):
    return [None, apply_op("MaxPoolGrad", op.inputs[0], grad, **_pool_attrs(op))]


@register_gradient("AvgPool")
def _avg_pool_grad(op, grad):
    return [apply_op("AvgPoolGrad", _arr.shape(op.inputs[0]), grad, **_pool_attrs(op))]


@register_gradient("AvgPoolGrad")
def _avg_pool_grad_grad(op, grad):
    """AvgPoolGrad is AvgPool's transpose, so its own adjoint is AvgPool."""
    return [None, apply_op("AvgPool", grad, **_pool_attrs(op))]


def _pool(op_type, value, ksize, strides, padding, data_format, name):
    if data_format == "NCHW":
        return _via_nhwc(
            lambda x: _pool(
                op_type, x, _nhwc_list(ksize), _nhwc_list(strides), padding, "NHWC", name
            ),
            value,
        )
    padding = padding.upper() if isinstance(padding, str) else padding
    if padding not in ("SAME", "VALID"):
        raise ValueError(f"padding must be 'SAME' or 'VALID', got {padding!r}")
    if data_format not in (None, "NHWC"):
        raise ValueError(f"data_format {data_format!r} is not supported; use 'NHWC'")
    if isinstance(ksize, list | tuple) and len(ksize) == 4 and (ksize[0] != 1 or ksize[3] != 1):
        raise ValueError("Pooling is not yet supported on the batch nor depth dimensions.")
    return apply_op(
        op_type,
        value,
        ksize=_pair(ksize, "ksize"),
        strides=_pair(strides, "strides"),
        padding=padding,
        name=name,
    )


def max_pool(value, ksize, strides, padding, data_format="NHWC", name=None, input=None):  # noqa: A002
    """Maximum over ksize windows of an NHWC tensor."""
    return _pool(
        "MaxPool", value if input is None else input, ksize, strides, padding, data_format, name
    )


def avg_pool(value, ksize, strides, padding, data_format="NHWC", name=None, input=None):  # noqa: A002
    """Mean over ksize windows (SAME padding averages only the real elements)."""
    return _pool(
        "AvgPool", value if input is None else input, ksize, strides, padding, data_format, name
    )
