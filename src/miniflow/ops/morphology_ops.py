"""Grey-scale morphology and max pooling that reports where the maxima are:
`tf.nn.dilation2d`, `erosion2d` (= -dilation2d(-x, flipped kernel), as TF composes it),
`max_pool_with_argmax`. Gradients route each output's gradient to the (first) position
that attained the maximum, as TF's kernels do."""

from __future__ import annotations

import numpy as np

from miniflow import dtypes
from miniflow.core.dispatch import apply_op
from miniflow.core.registry import not_differentiable, register_gradient, register_op
from miniflow.ops import array_ops as _arr, conv_ops as _c2, math_ops as _math
from miniflow.ops.conv_ops import _geometry, _pad_hw, _windows
from miniflow.ops.shape_rules import dims

# ---------------------------------------------------------------------------------------
# Dilation2D.


def _dilation_cols(x, w, strides, rates, padding):
    kh, kw = w.shape[:2]
    oh, ow, ph, pw = _geometry(x.shape, kh, kw, strides, rates, padding)
    cols = _windows(_pad_hw(x, ph, pw, -np.inf), oh, ow, kh, kw, *strides, *rates)
    return cols + w[None, None, None], (oh, ow, ph, pw)  # (N, OH, OW, KH, KW, C)


def _dilation_kernel(x, w, strides=(1, 1), rates=(1, 1), padding="VALID"):
    cols, _ = _dilation_cols(x, w, strides, rates, padding)
    return cols.max(axis=(3, 4)).astype(x.dtype, copy=False)


def _dilation_argmax(x, w, strides, rates, padding):
    """Per output element, the kernel tap (i, j) attaining the maximum."""
    cols, geo = _dilation_cols(x, w, strides, rates, padding)
    n, oh, ow, kh, kw, c = cols.shape
    flat = np.moveaxis(cols, 5, 3).reshape(n, oh, ow, c, kh * kw)
    tap = np.argmax(flat, axis=-1)
    return tap // kw, tap % kw, geo


def _dilation_backprop_input(x, w, dy, strides=(1, 1), rates=(1, 1), padding="VALID"):
    ti, tj, (oh, ow, ph, pw) = _dilation_argmax(x, w, strides, rates, padding)
    n, h, wd, c = x.shape
    out = np.zeros((n, h + sum(ph), wd + sum(pw), c), dy.dtype)
    b, y, z, ch = np.indices(dy.shape)
    rows = y * strides[0] + ti * rates[0]
    cols = z * strides[1] + tj * rates[1]
    np.add.at(out, (b, rows, cols, ch), dy)
    return out[:, ph[0] : ph[0] + h, pw[0] : pw[0] + wd, :]


def _dilation_backprop_filter(x, w, dy, strides=(1, 1), rates=(1, 1), padding="VALID"):
    ti, tj, _ = _dilation_argmax(x, w, strides, rates, padding)
    out = np.zeros(w.shape, dy.dtype)
    ch = np.broadcast_to(np.arange(w.shape[2]), dy.shape)
    np.add.at(out, (ti, tj, ch), dy)
    return out


def _dilation_infer(inputs, attrs):
    x, w = dims(inputs[0]), dims(inputs[1])
    if x is None or w is None:
        return [((None,) * 4, inputs[0].dtype)]
    if len(x) != 4 or len(w) != 3:
        raise ValueError(f"input must be rank 4 and filter rank 3, got ranks {len(x)} and {len(w)}")
    if None not in (x[3], w[2]) and x[3] != w[2]:
        raise ValueError(f"Dimensions must be equal, but are {x[3]} and {w[2]}")
    a = dict(attrs, dilations=attrs["rates"])
    return [((x[0],) + _c2._spatial_out(x, w[0], w[1], a) + (x[3],), inputs[0].dtype)]


register_op("Dilation2D", infer=_dilation_infer)(_dilation_kernel)
register_op("Dilation2DBackpropInput", infer=lambda i, a: [(dims(i[0]), i[2].dtype)])(
    _dilation_backprop_input
)
register_op("Dilation2DBackpropFilter", infer=lambda i, a: [(dims(i[1]), i[2].dtype)])(
    _dilation_backprop_filter
)
not_differentiable("Dilation2DBackpropInput", "Dilation2DBackpropFilter")  # as in TF


@register_gradient("Dilation2D")
def _dilation_grad(op, grad):
    x, w = op.inputs
    a = {k: op.attrs[k] for k in ("strides", "rates", "padding")}
    return [
        apply_op("Dilation2DBackpropInput", x, w, grad, **a),
        apply_op("Dilation2DBackpropFilter", x, w, grad, **a),
    ]


def dilation2d(
    input,
    filter=None,
    strides=None,
    rates=None,
    padding=None,  # noqa: A002
    name=None,
    filters=None,
    dilations=None,
    data_format="NHWC",
):
    """Grey-scale dilation: max over the window of input + filter ([kh, kw, C])."""
    filter = filters if filter is None else filter  # noqa: A001
    rates = dilations if rates is None else rates
    padding, s, _ = _c2._check_conv_args(padding, data_format, strides, None)
    _, _, r = _c2._check_conv_args(padding, data_format, 1, rates)  # strides with rates: ok
    return apply_op("Dilation2D", input, filter, strides=s, rates=r, padding=padding, name=name)


def erosion2d(value, kernel, strides, rates, padding, name=None):
    """Grey-scale erosion: min over the window of value - flipped kernel."""
    from miniflow.ops.control_flow_ops import name_scope
    from miniflow.ops.manip_ops import reverse

    with name_scope(name, "erosion2d"):
        return _math.negative(
            dilation2d(_math.negative(value), reverse(kernel, [0, 1]), strides, rates, padding)
        )


# ---------------------------------------------------------------------------------------
# MaxPoolWithArgmax.


def _argmax_kernel(
    x,
    ksize=(1, 1),
    strides=(1, 1),
    padding="VALID",
    Targmax=dtypes.int64,
    include_batch_in_index=False,
):  # noqa: N803  TF's attr
    tap, (oh, ow, ph, pw) = _c2._argmax_taps(x, ksize, strides, padding)
    n, h, w, c = x.shape
    kw = ksize[1]
    b, y, z, ch = np.indices(tap.shape)
    rows = y * strides[0] + tap // kw - ph[0]
    cols = z * strides[1] + tap % kw - pw[0]
    flat = (rows * w + cols) * c + ch
    if include_batch_in_index:
        flat = flat + b * (h * w * c)
    out = _c2._max_pool_kernel(x, ksize, strides, padding)
    return out, flat.astype(Targmax.np)


def _argmax_infer(inputs, attrs):
    ((shape, dt),) = _c2._pool_infer(inputs, attrs)
    return [(shape, dt), (shape, attrs["Targmax"])]


register_op("MaxPoolWithArgmax", infer=_argmax_infer, num_outputs=2)(_argmax_kernel)


@register_gradient("MaxPoolWithArgmax", accepts_none=True)
def _max_pool_with_argmax_grad(op, grad, _argmax_grad):
    """Each output's gradient summed at the input position its argmax names."""
    from miniflow.ops.sparse_ops import unsorted_segment_sum

    x = op.inputs[0]
    argmax = _arr.cast(op.outputs[1], dtypes.int64)
    shape = _arr.shape(x, out_type=dtypes.int64)
    if not op.attrs["include_batch_in_index"]:
        per_image = _math.reduce_prod(shape[1:])
        batch = _arr.reshape(
            _arr.range(0, shape[0], 1, dtype=dtypes.int64) * per_image, [-1, 1, 1, 1]
        )
        argmax = argmax + batch
    flat = unsorted_segment_sum(
        _arr.reshape(grad, [-1]), _arr.reshape(argmax, [-1]), _math.reduce_prod(shape)
    )
    return [_arr.reshape(flat, shape)]


def max_pool_with_argmax(
    input,
    ksize,
    strides,
    padding,
    data_format="NHWC",  # noqa: A002
    Targmax=None,
    name=None,
    output_dtype=None,  # noqa: N803
    include_batch_in_index=False,
):
    """(max pool of ``input``, flat index of each maximum: ``(y * W + x) * C + c``, plus
    ``b * H * W * C`` when ``include_batch_in_index``)."""
    targmax = dtypes.as_dtype(output_dtype or Targmax or dtypes.int64)
    padding = padding.upper() if isinstance(padding, str) else padding
    if padding not in ("SAME", "VALID"):
        raise ValueError(f"padding must be 'SAME' or 'VALID', got {padding!r}")
    if data_format not in (None, "NHWC"):
        raise ValueError(f"data_format {data_format!r} is not supported; use 'NHWC'")
    return tuple(
        apply_op(
            "MaxPoolWithArgmax",
            input,
            ksize=_c2._pair(ksize, "ksize"),
            strides=_c2._pair(strides, "strides"),
            padding=padding,
            Targmax=targmax,
            include_batch_in_index=bool(include_batch_in_index),
            name=name,
        )
    )
