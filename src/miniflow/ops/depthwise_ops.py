"""Depthwise convolution (`tf.nn.depthwise_conv2d(_native)` and its backprops) and
`separable_conv2d` (depthwise then a 1x1 conv2d). NHWC; filter [kh, kw, C, M] gives C*M
output channels, channel c*M + m from input channel c and filter slice [:, :, c, m]."""

from __future__ import annotations

import numpy as np

from miniflow import errors
from miniflow.core.dispatch import apply_op
from miniflow.core.registry import register_gradient, register_op
from miniflow.ops import array_ops as _arr, conv_ops as _c2
from miniflow.ops.conv_ops import _geometry, _pad_hw, _windows
from miniflow.ops.shape_rules import dims


def _kernel(x, w, strides=(1, 1), dilations=(1, 1), padding="VALID"):
    if strides[0] != strides[1]:
        raise errors.InvalidArgumentError(
            None,
            None,
            "Current implementation only supports equal length strides in the "
            "row and column dimensions.",
        )
    if x.shape[3] != w.shape[2]:
        raise errors.InvalidArgumentError(
            None, None, f"input and filter must have the same depth: {x.shape[3]} vs {w.shape[2]}"
        )
    kh, kw, c, m = w.shape
    oh, ow, ph, pw = _geometry(x.shape, kh, kw, strides, dilations, padding)
    cols = _windows(_pad_hw(x, ph, pw), oh, ow, kh, kw, *strides, *dilations)
    out = np.einsum("nhwijc,ijcm->nhwcm", cols, w, optimize=True)
    return out.reshape(out.shape[:3] + (c * m,)).astype(x.dtype, copy=False)


def _backprop_input_kernel(input_sizes, w, dy, strides=(1, 1), dilations=(1, 1), padding="VALID"):
    n, h, wd, c = (int(s) for s in input_sizes)
    kh, kw, _, m = w.shape
    oh, ow, ph, pw = _geometry((n, h, wd, c), kh, kw, strides, dilations, padding)
    (sh, sw), (dh, dw) = strides, dilations
    dcols = np.einsum("nhwcm,ijcm->nhwijc", dy.reshape(dy.shape[:3] + (c, m)), w, optimize=True)
    dxp = np.zeros((n, h + sum(ph), wd + sum(pw), c), dtype=dy.dtype)
    for i in range(kh):
        for j in range(kw):
            dxp[
                :,
                i * dh : i * dh + sh * (oh - 1) + 1 : sh,
                j * dw : j * dw + sw * (ow - 1) + 1 : sw,
                :,
            ] += dcols[:, :, :, i, j, :]
    return dxp[:, ph[0] : ph[0] + h, pw[0] : pw[0] + wd, :]


def _backprop_filter_kernel(x, filter_sizes, dy, strides=(1, 1), dilations=(1, 1), padding="VALID"):
    kh, kw, c, m = (int(s) for s in filter_sizes)
    oh, ow, ph, pw = _geometry(x.shape, kh, kw, strides, dilations, padding)
    cols = _windows(_pad_hw(x, ph, pw), oh, ow, kh, kw, *strides, *dilations)
    return np.einsum(
        "nhwijc,nhwcm->ijcm", cols, dy.reshape(dy.shape[:3] + (c, m)), optimize=True
    ).astype(dy.dtype, copy=False)


def _infer(inputs, attrs):
    x, w = dims(inputs[0]), dims(inputs[1])
    if x is None or w is None:
        return [((None,) * 4, inputs[0].dtype)]
    for t, what in ((x, "input"), (w, "filter")):
        if len(t) != 4:
            raise ValueError(f"Shape must be rank 4 but is rank {len(t)} ({what})")
    if None not in (x[3], w[2]) and x[3] != w[2]:
        raise ValueError(f"Dimensions must be equal, but are {x[3]} and {w[2]}")
    depth = None if None in (w[2], w[3]) else w[2] * w[3]
    return [((x[0],) + _c2._spatial_out(x, w[0], w[1], attrs) + (depth,), inputs[0].dtype)]


register_op("DepthwiseConv2dNative", infer=_infer)(_kernel)
register_op(
    "DepthwiseConv2dNativeBackpropInput",
    infer=lambda i, a: [(_arr._shape_from_tensor(i[0]), i[1].dtype)],
)(_backprop_input_kernel)
register_op(
    "DepthwiseConv2dNativeBackpropFilter",
    infer=lambda i, a: [(_arr._shape_from_tensor(i[1]), i[0].dtype)],
)(_backprop_filter_kernel)


@register_gradient("DepthwiseConv2dNative")
def _depthwise_grad(op, grad):
    x, w = op.inputs
    a = _c2._conv_attrs(op)
    return [
        apply_op("DepthwiseConv2dNativeBackpropInput", _arr.shape(x), w, grad, **a),
        apply_op("DepthwiseConv2dNativeBackpropFilter", x, _arr.shape(w), grad, **a),
    ]


@register_gradient("DepthwiseConv2dNativeBackpropInput")
def _backprop_input_grad(op, grad):
    _, w, dy = op.inputs
    a = _c2._conv_attrs(op)
    return [
        None,
        apply_op("DepthwiseConv2dNativeBackpropFilter", grad, _arr.shape(w), dy, **a),
        apply_op("DepthwiseConv2dNative", grad, w, **a),
    ]


@register_gradient("DepthwiseConv2dNativeBackpropFilter")
def _backprop_filter_grad(op, grad):
    x, _, dy = op.inputs
    a = _c2._conv_attrs(op)
    return [
        apply_op("DepthwiseConv2dNativeBackpropInput", _arr.shape(x), grad, dy, **a),
        None,
        apply_op("DepthwiseConv2dNative", x, grad, **a),
    ]


def _args(padding, data_format, strides, dilations):
    padding, s, d = _c2._check_conv_args(padding, data_format, strides, dilations)
    return dict(padding=padding, strides=s, dilations=d)


def depthwise_conv2d_native(
    input,
    filter,
    strides,
    padding,
    data_format="NHWC",  # noqa: A002
    dilations=None,
    name=None,
):
    """Each input channel convolved with its own ``M`` filters: C*M output channels."""
    return apply_op(
        "DepthwiseConv2dNative",
        input,
        filter,
        name=name,
        **_args(padding, data_format, strides, dilations),
    )


def depthwise_conv2d_native_backprop_input(
    input_sizes,
    filter,
    out_backprop,  # noqa: A002
    strides,
    padding,
    data_format="NHWC",
    dilations=None,
    name=None,
):
    """The gradient of depthwise_conv2d_native with respect to its input."""
    return apply_op(
        "DepthwiseConv2dNativeBackpropInput",
        _arr._int_tensor(input_sizes),
        filter,
        out_backprop,
        name=name,
        **_args(padding, data_format, strides, dilations),
    )


def depthwise_conv2d_native_backprop_filter(
    input,
    filter_sizes,
    out_backprop,  # noqa: A002
    strides,
    padding,
    data_format="NHWC",
    dilations=None,
    name=None,
):
    """The gradient of depthwise_conv2d_native with respect to its filter."""
    return apply_op(
        "DepthwiseConv2dNativeBackpropFilter",
        input,
        _arr._int_tensor(filter_sizes),
        out_backprop,
        name=name,
        **_args(padding, data_format, strides, dilations),
    )


def _rate(rate, dilations):
    if dilations is not None:
        return dilations
    if rate is None:
        return None
    r = [int(v) for v in rate] if isinstance(rate, list | tuple) else [int(rate)] * 2
    return [1, *r, 1]


def depthwise_conv2d(
    input,
    filter,
    strides,
    padding,
    rate=None,
    name=None,  # noqa: A002
    data_format=None,
    dilations=None,
):
    """`depthwise_conv2d_native` with an optional dilation ``rate`` ([rh, rw])."""
    return depthwise_conv2d_native(
        input,
        filter,
        strides,
        padding,
        data_format=data_format or "NHWC",
        dilations=_rate(rate, dilations),
        name=name or "depthwise",
    )


def separable_conv2d(
    input,
    depthwise_filter,
    pointwise_filter,
    strides,
    padding,  # noqa: A002
    rate=None,
    name=None,
    data_format=None,
    dilations=None,
):
    """A depthwise convolution followed by a 1x1 convolution mixing the channels."""
    from miniflow.ops.control_flow_ops import name_scope

    with name_scope(name, "separable_conv2d"):
        depthwise = depthwise_conv2d(
            input,
            depthwise_filter,
            strides,
            padding,
            rate=rate,
            data_format=data_format,
            dilations=dilations,
        )
        return _c2.conv2d(depthwise, pointwise_filter, [1, 1, 1, 1], "VALID")
