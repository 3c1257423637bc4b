"""3-D convolution and pooling (`tf.nn.conv3d`, `conv3d_backprop_filter(_v2)`,
`conv3d_transpose`, `max_pool3d`, `avg_pool3d`), NDHWC, with the same im2col scheme as the
2-D ops in `conv_ops.py`, written for any number of spatial axes. Each backward op has its
own gradient, so second derivatives work."""

from __future__ import annotations

import itertools

import numpy as np
from numpy.lib.stride_tricks import as_strided

from miniflow import errors
from miniflow.core.dispatch import apply_op
from miniflow.core.registry import register_gradient, register_op
from miniflow.ops import array_ops as _arr
from miniflow.ops.conv_ops import _out_and_pad
from miniflow.ops.shape_rules import dims

_SPATIAL = 3


def _geometry(x_shape, ks, strides, dilations, padding):
    """Output sizes and (before, after) paddings of each spatial axis."""
    outs, pads = [], []
    for size, k, s, d in zip(x_shape[1:-1], ks, strides, dilations):
        o, p = _out_and_pad(size, k, s, d, padding)
        outs.append(o)
        pads.append(p)
    return outs, pads


def _pad(x, pads, value=0):
    if not any(a or b for a, b in pads):
        return np.ascontiguousarray(x)
    return np.pad(x, [(0, 0)] + list(pads) + [(0, 0)], constant_values=value)


def _windows(xp, outs, ks, strides, dilations):
    """(N, *out, *k, C) view of the padded input (no copy)."""
    st = xp.strides
    shape = (xp.shape[0], *outs, *ks, xp.shape[-1])
    strides_ = (
        st[0],
        *(st[1 + i] * s for i, s in enumerate(strides)),
        *(st[1 + i] * d for i, d in enumerate(dilations)),
        st[-1],
    )
    return as_strided(xp, shape, strides_, writeable=False)


def _taps(ks):
    return itertools.product(*(range(k) for k in ks))


def _tap_slices(tap, outs, strides, dilations):
    return tuple(
        slice(t * d, t * d + s * (o - 1) + 1, s)
        for t, o, s, d in zip(tap, outs, strides, dilations)
    )


def _conv_kernel(x, w, strides=(1,) * 3, dilations=(1,) * 3, padding="VALID"):
    if x.shape[-1] != w.shape[-2]:
        raise errors.InvalidArgumentError(
            None,
            None,
            f"input depth must be evenly divisible by filter depth: {x.shape[-1]} vs {w.shape[-2]}",
        )
    ks = w.shape[:_SPATIAL]
    outs, pads = _geometry(x.shape, ks, strides, dilations, padding)
    cols = _windows(_pad(x, pads), outs, ks, strides, dilations)
    axes = list(range(1 + _SPATIAL, 2 + 2 * _SPATIAL))
    return np.tensordot(cols, w, axes=(axes, list(range(_SPATIAL + 1)))).astype(x.dtype, copy=False)


def _backprop_input_kernel(
    input_sizes, w, dy, strides=(1,) * 3, dilations=(1,) * 3, padding="VALID"
):
    shape = tuple(int(s) for s in input_sizes)
    ks = w.shape[:_SPATIAL]
    outs, pads = _geometry(shape, ks, strides, dilations, padding)
    dxp = np.zeros(
        (shape[0], *(s + a + b for s, (a, b) in zip(shape[1:-1], pads)), shape[-1]), dtype=dy.dtype
    )
    dcols = np.tensordot(dy, w, axes=([1 + _SPATIAL], [1 + _SPATIAL]))  # (N, *out, *k, C)
    for tap in _taps(ks):  # one strided add per kernel tap
        dxp[(slice(None),) + _tap_slices(tap, outs, strides, dilations)] += dcols[
            (slice(None),) * (1 + _SPATIAL) + tap
        ]
    crop = tuple(slice(a, a + s) for (a, _), s in zip(pads, shape[1:-1]))
    return dxp[(slice(None),) + crop]


def _backprop_filter_kernel(
    x, filter_sizes, dy, strides=(1,) * 3, dilations=(1,) * 3, padding="VALID"
):
    ks = tuple(int(k) for k in filter_sizes[:_SPATIAL])
    outs, pads = _geometry(x.shape, ks, strides, dilations, padding)
    cols = _windows(_pad(x, pads), outs, ks, strides, dilations)
    lead = list(range(1 + _SPATIAL))
    return np.tensordot(cols, dy, axes=(lead, lead)).astype(dy.dtype, copy=False)


def _spatial_out(x, ks, attrs):
    return tuple(
        None if size is None or k is None else _out_and_pad(size, k, s, d, attrs["padding"])[0]
        for size, k, s, d in zip(x[1:-1], ks, attrs["strides"], attrs["dilations"])
    )


def _conv_infer(inputs, attrs):
    x, w = dims(inputs[0]), dims(inputs[1])
    if x is None or w is None:
        return [((None,) * 5, inputs[0].dtype)]
    for t, what in ((x, "input"), (w, "filter")):
        if len(t) != 5:
            raise ValueError(f"Shape must be rank 5 but is rank {len(t)} ({what})")
    if None not in (x[4], w[3]) and x[4] != w[3]:
        raise ValueError(f"Dimensions must be equal, but are {x[4]} and {w[3]}")
    return [((x[0],) + _spatial_out(x, w[:3], attrs) + (w[4],), inputs[0].dtype)]


register_op("Conv3D", infer=_conv_infer)(_conv_kernel)
register_op(
    "Conv3DBackpropInputV2", infer=lambda i, a: [(_arr._shape_from_tensor(i[0]), i[1].dtype)]
)(_backprop_input_kernel)
register_op(
    "Conv3DBackpropFilterV2", infer=lambda i, a: [(_arr._shape_from_tensor(i[1]), i[0].dtype)]
)(_backprop_filter_kernel)


def _conv_attrs(op):
    return {k: op.attrs[k] for k in ("strides", "dilations", "padding")}


@register_gradient("Conv3D")
def _conv3d_grad(op, grad):
    x, w = op.inputs
    a = _conv_attrs(op)
    return [
        apply_op("Conv3DBackpropInputV2", _arr.shape(x), w, grad, **a),
        apply_op("Conv3DBackpropFilterV2", x, _arr.shape(w), grad, **a),
    ]


@register_gradient("Conv3DBackpropInputV2")
def _backprop_input_grad(op, grad):
    _, w, dy = op.inputs
    a = _conv_attrs(op)
    return [
        None,
        apply_op("Conv3DBackpropFilterV2", grad, _arr.shape(w), dy, **a),
        apply_op("Conv3D", grad, w, **a),
    ]


@register_gradient("Conv3DBackpropFilterV2")
def _backprop_filter_grad(op, grad):
    x, _, dy = op.inputs
    a = _conv_attrs(op)
    return [
        apply_op("Conv3DBackpropInputV2", _arr.shape(x), grad, dy, **a),
        None,
        apply_op("Conv3D", x, grad, **a),
    ]


def _triple(v, what):
    if isinstance(v, int):
        return (v,) * 3
    v = [int(e) for e in v]
    if len(v) == 5:
        if v[0] != 1 or v[4] != 1:
            raise ValueError(f"{what} in the batch and depth dimensions must be 1, got {v}")
        return tuple(v[1:4])
    if len(v) == 3:
        return tuple(v)
    if len(v) == 1:
        return (v[0],) * 3
    raise ValueError(f"{what} must be an int or a list of 1, 3 or 5 ints, got {v}")


def _check(padding, data_format, strides, dilations):
    padding = padding.upper() if isinstance(padding, str) else padding
    if padding not in ("SAME", "VALID"):
        raise ValueError(f"padding must be 'SAME' or 'VALID', got {padding!r}")
    if data_format not in (None, "NDHWC"):
        raise ValueError(f"data_format {data_format!r} is not supported; use 'NDHWC'")
    s = _triple(strides, "strides")
    d = _triple(1 if dilations is None else dilations, "dilations")
    if min(s) < 1 or min(d) < 1:
        raise ValueError(f"strides and dilations must be >= 1, got {s} and {d}")
    if max(d) > 1 and max(s) > 1:
        raise ValueError("strides > 1 not supported in conjunction with dilation_rate > 1")
    return dict(padding=padding, strides=s, dilations=d)


def conv3d(
    input,
    filter=None,
    strides=None,
    padding=None,
    data_format="NDHWC",  # noqa: A002
    dilations=None,
    name=None,
    filters=None,
):
    """3-D convolution of an NDHWC ``input`` with a DHWIO ``filter``."""
    filter = filters if filter is None else filter  # noqa: A001
    return apply_op(
        "Conv3D", input, filter, name=name, **_check(padding, data_format, strides, dilations)
    )


def conv3d_backprop_filter(
    input,
    filter_sizes,
    out_backprop,
    strides,
    padding,  # noqa: A002
    data_format="NDHWC",
    dilations=None,
    name=None,
):
    """The gradient of conv3d with respect to its filter (of shape ``filter_sizes``)."""
    return apply_op(
        "Conv3DBackpropFilterV2",
        input,
        _arr._int_tensor(filter_sizes),
        out_backprop,
        name=name,
        **_check(padding, data_format, strides, dilations),
    )


conv3d_backprop_filter_v2 = conv3d_backprop_filter


def conv3d_backprop_input(
    input_sizes,
    filter,
    out_backprop,
    strides,
    padding,  # noqa: A002
    data_format="NDHWC",
    dilations=None,
    name=None,
):
    """The gradient of conv3d with respect to its input (of shape ``input_sizes``)."""
    return apply_op(
        "Conv3DBackpropInputV2",
        _arr._int_tensor(input_sizes),
        filter,
        out_backprop,
        name=name,
        **_check(padding, data_format, strides, dilations),
    )


def conv3d_transpose(
    value,
    filter=None,
    output_shape=None,
    strides=None,  # noqa: A002
    padding="SAME",
    data_format="NDHWC",
    name=None,
    filters=None,
    dilations=None,
):
    """The transpose of conv3d: ``filter`` is [d, h, w, out_channels, in_channels]."""
    filter = filters if filter is None else filter  # noqa: A001
    f = dims(_arr.convert_to_tensor(filter))
    if (
        isinstance(output_shape, list | tuple)
        and f is not None
        and f[3] is not None
        and int(output_shape[4]) != f[3]
    ):
        raise ValueError(
            f"output_shape does not match filter's output channels, {output_shape[4]} != {f[3]}"
        )
    return conv3d_backprop_input(
        output_shape,
        filter,
        value,
        strides,
        padding,
        data_format=data_format,
        dilations=dilations,
        name=name or "conv3d_transpose",
    )


# ---------------------------------------------------------------------------------------
# 3-D pooling. Max routes the gradient to the first maximum of each window (as TF does).


def _pool_cols(x, ksize, strides, padding, fill):
    outs, pads = _geometry(x.shape, ksize, strides, (1,) * 3, padding)
    return _windows(_pad(x, pads, fill), outs, ksize, strides, (1,) * 3), outs, pads


def _lowest(dtype):
    return -np.inf if dtype.kind == "f" else np.iinfo(dtype).min


def _max_pool_kernel(x, ksize=(1,) * 3, strides=(1,) * 3, padding="VALID"):
    cols, _, _ = _pool_cols(x, ksize, strides, padding, _lowest(x.dtype))
    return cols.max(axis=(4, 5, 6))


def _argmax_taps(x, ksize, strides, padding):
    cols, outs, pads = _pool_cols(x, ksize, strides, padding, _lowest(x.dtype))
    flat = np.moveaxis(cols, -1, 4).reshape(cols.shape[:4] + (x.shape[-1], -1))
    return np.argmax(flat, axis=-1), outs, pads


def _scatter_taps(per_tap, x_shape, ksize, strides, outs, pads, dtype):
    out = np.zeros(
        (x_shape[0], *(s + a + b for s, (a, b) in zip(x_shape[1:-1], pads)), x_shape[-1]),
        dtype=dtype,
    )
    for n, tap in enumerate(_taps(ksize)):
        out[(slice(None),) + _tap_slices(tap, outs, strides, (1,) * 3)] += per_tap(n)
    crop = tuple(slice(a, a + s) for (a, _), s in zip(pads, x_shape[1:-1]))
    return out[(slice(None),) + crop]


def _max_pool_grad_kernel(x, dy, ksize=(1,) * 3, strides=(1,) * 3, padding="VALID"):
    arg, outs, pads = _argmax_taps(x, ksize, strides, padding)
    return _scatter_taps(
        lambda n: np.where(arg == n, dy, 0), x.shape, ksize, strides, outs, pads, dy.dtype
    )


def _max_pool_grad_grad_kernel(x, g, ksize=(1,) * 3, strides=(1,) * 3, padding="VALID"):
    arg, _, _ = _argmax_taps(x, ksize, strides, padding)
    cols, _, _ = _pool_cols(g, ksize, strides, padding, 0)
    flat = np.moveaxis(cols, -1, 4).reshape(cols.shape[:4] + (g.shape[-1], -1))
    return np.take_along_axis(flat, arg[..., None], -1)[..., 0]


def _avg_counts(x_shape, ksize, strides, padding):
    cols, _, _ = _pool_cols(np.ones((1,) + tuple(x_shape[1:-1]) + (1,)), ksize, strides, padding, 0)
    return cols.sum(axis=(4, 5, 6))


def _avg_pool_kernel(x, ksize=(1,) * 3, strides=(1,) * 3, padding="VALID"):
    cols, _, _ = _pool_cols(x, ksize, strides, padding, 0)
    return (cols.sum(axis=(4, 5, 6)) / _avg_counts(x.shape, ksize, strides, padding)).astype(
        x.dtype, copy=False
    )


def _avg_pool_grad_kernel(x_shape, dy, ksize=(1,) * 3, strides=(1,) * 3, padding="VALID"):
    x_shape = tuple(int(s) for s in x_shape)
    scaled = dy / _avg_counts(x_shape, ksize, strides, padding)
    outs, pads = _geometry(x_shape, ksize, strides, (1,) * 3, padding)
    return _scatter_taps(lambda n: scaled, x_shape, ksize, strides, outs, pads, dy.dtype).astype(
        dy.dtype, copy=False
    )


def _pool_infer(inputs, attrs):
    x = dims(inputs[0])
    if x is None:
        return [((None,) * 5, inputs[0].dtype)]
    if len(x) != 5:
        raise ValueError(f"Shape must be rank 5 but is rank {len(x)}")
    a = dict(attrs, dilations=(1,) * 3)
    return [((x[0],) + _spatial_out(x, attrs["ksize"], a) + (x[4],), inputs[0].dtype)]


register_op("MaxPool3D", infer=_pool_infer)(_max_pool_kernel)
register_op("AvgPool3D", infer=_pool_infer)(_avg_pool_kernel)
register_op("MaxPool3DGrad", infer=lambda i, a: [(dims(i[0]), i[1].dtype)])(_max_pool_grad_kernel)
register_op("MaxPool3DGradGrad", infer=_pool_infer)(_max_pool_grad_grad_kernel)
register_op("AvgPool3DGrad", infer=lambda i, a: [(_arr._shape_from_tensor(i[0]), i[1].dtype)])(
    _avg_pool_grad_kernel
)


def _pool_attrs(op):
    return {k: op.attrs[k] for k in ("ksize", "strides", "padding")}


@register_gradient("MaxPool3D")
def _max_pool3d_grad(op, grad):
    return [apply_op("MaxPool3DGrad", op.inputs[0], grad, **_pool_attrs(op))]


@register_gradient("MaxPool3DGrad")
def _max_pool3d_grad_grad(op, grad):
    return [None, apply_op("MaxPool3DGradGrad", op.inputs[0], grad, **_pool_attrs(op))]


@register_gradient("MaxPool3DGradGrad")
def _max_pool3d_grad_grad_grad(op, grad):
    return [None, apply_op("MaxPool3DGrad", op.inputs[0], grad, **_pool_attrs(op))]


@register_gradient("AvgPool3D")
def _avg_pool3d_grad(op, grad):
    return [apply_op("AvgPool3DGrad", _arr.shape(op.inputs[0]), grad, **_pool_attrs(op))]


@register_gradient("AvgPool3DGrad")
def _avg_pool3d_grad_grad(op, grad):
    return [None, apply_op("AvgPool3D", grad, **_pool_attrs(op))]


def _pool3d(op_type, x, ksize, strides, padding, data_format, name):
    a = _check(padding, data_format, strides, None)
    return apply_op(
        op_type,
        x,
        ksize=_triple(ksize, "ksize"),
        strides=a["strides"],
        padding=a["padding"],
        name=name,
    )


def max_pool3d(input, ksize, strides, padding, data_format="NDHWC", name=None):  # noqa: A002
    """Maximum over ksize windows of an NDHWC tensor."""
    return _pool3d("MaxPool3D", input, ksize, strides, padding, data_format, name)


def avg_pool3d(input, ksize, strides, padding, data_format="NDHWC", name=None):  # noqa: A002
    """Mean over ksize windows of an NDHWC tensor (SAME averages only real elements)."""
    return _pool3d("AvgPool3D", input, ksize, strides, padding, data_format, name)


# ---------------------------------------------------------------------------------------
# extract_volume_patches: each output position's window flattened into the depth axis
# (order kd, kh, kw, C). Linear; its adjoint scatters the patches back.


def _patches_kernel(x, ksize=(1,) * 3, strides=(1,) * 3, padding="VALID"):
    cols, outs, _ = _pool_cols(x, ksize, strides, padding, 0)
    return np.ascontiguousarray(cols).reshape(cols.shape[:4] + (-1,))


def _patches_grad_kernel(g, x_shape, ksize=(1,) * 3, strides=(1,) * 3, padding="VALID"):
    x_shape = tuple(int(s) for s in x_shape)
    outs, pads = _geometry(x_shape, ksize, strides, (1,) * 3, padding)
    taps = np.asarray(g).reshape(g.shape[:4] + tuple(ksize) + (x_shape[-1],))
    tap_list = list(_taps(ksize))
    return _scatter_taps(
        lambda n: taps[(slice(None),) * 4 + tap_list[n]],
        x_shape,
        ksize,
        strides,
        outs,
        pads,
        g.dtype,
    )


def _patches_infer(inputs, attrs):
    ((shape, dt),) = _pool_infer(inputs, attrs)
    x = dims(inputs[0])
    depth = None if x is None or x[4] is None else int(np.prod(attrs["ksize"])) * x[4]
    return [(None if shape is None else shape[:4] + (depth,), dt)]


register_op("ExtractVolumePatches", infer=_patches_infer)(_patches_kernel)
register_op(
    "ExtractVolumePatchesGrad", infer=lambda i, a: [(_arr._shape_from_tensor(i[1]), i[0].dtype)]
)(_patches_grad_kernel)


@register_gradient("ExtractVolumePatches")
def _patches_grad(op, grad):
    return [apply_op("ExtractVolumePatchesGrad", grad, _arr.shape(op.inputs[0]), **_pool_attrs(op))]


@register_gradient("ExtractVolumePatchesGrad")
def _patches_grad_grad(op, grad):
    return [apply_op("ExtractVolumePatches", grad, **_pool_attrs(op)), None]


def extract_volume_patches(input, ksizes, strides, padding, name=None):  # noqa: A002
    """Patches of an NDHWC ``input`` gathered into the depth axis:
    [batch, out_d, out_h, out_w, kd * kh * kw * depth]."""
    return _pool3d("ExtractVolumePatches", input, ksizes, strides, padding, "NDHWC", name)
