"""Convolution and pooling entry points composed from the 2-D and 3-D primitives, as TF
builds them: 1-D ops insert a unit height axis (`conv1d`, `conv1d_transpose`,
`max_pool1d`, `avg_pool1d`); `convolution`, `conv_transpose`, `pool`, `max_pool_v2`,
`avg_pool_v2` pick the op by rank; `atrous_conv2d(_transpose)` are dilated conv2d."""

from __future__ import annotations

from miniflow.ops import array_ops as _arr, conv3d_ops as _c3, conv_ops as _c2
from miniflow.ops.control_flow_ops import name_scope as _name_scope
from miniflow.ops.shape_rules import dims


def _one(v, what):
    """A 1-D stride/size/dilation as [1, 1, v, 1] (a list of 1 or 3 ints, or an int)."""
    if v is None:
        return [1, 1, 1, 1]
    if isinstance(v, int):
        return [1, 1, int(v), 1]
    v = [int(e) for e in v]
    if len(v) == 1:
        return [1, 1, v[0], 1]
    if len(v) == 3:
        if v[0] != 1 or v[2] != 1:
            raise ValueError(f"{what} in the batch and depth dimensions must be 1, got {v}")
        return [1, 1, v[1], 1]
    raise ValueError(f"{what} must be an int or a list of 1 or 3 ints, got {v}")


def _nwc(data_format):
    if data_format not in (None, "NWC", "NHWC"):
        raise ValueError(f"data_format {data_format!r} is not supported; use 'NWC'")


def conv1d(
    value=None,
    filters=None,
    stride=None,
    padding=None,
    use_cudnn_on_gpu=None,
    data_format=None,
    name=None,
    input=None,
    dilations=None,
):  # noqa: A002
    """1-D convolution of an NWC ``value`` with a WIO ``filters`` (conv2d of height 1)."""
    value = input if value is None else value
    _nwc(data_format)
    with _name_scope(name, "conv1d"):
        x = _arr.expand_dims(value, 1)
        w = _arr.expand_dims(filters, 0)
        out = _c2.conv2d(
            x, w, _one(stride, "stride"), padding, dilations=_one(dilations, "dilations")
        )
        return _arr.squeeze(out, [1])


def conv1d_transpose(
    input,
    filters,
    output_shape,
    strides,
    padding="SAME",  # noqa: A002
    data_format="NWC",
    dilations=None,
    name=None,
):
    """The transpose of conv1d: ``filters`` is [w, out_channels, in_channels]."""
    _nwc(data_format)
    with _name_scope(name, "conv1d_transpose"):
        if isinstance(output_shape, list | tuple):
            shape = [output_shape[0], 1, *output_shape[1:]]
        else:
            shape = _arr._int_tensor(output_shape)
            shape = _arr.concat([shape[:1], [1], shape[1:]], 0)
        out = _c2.conv2d_backprop_input(
            shape,
            _arr.expand_dims(filters, 0),
            _arr.expand_dims(input, 1),
            _one(strides, "strides"),
            padding,
            dilations=_one(dilations, "dilations"),
        )
        return _arr.squeeze(out, [1])


def _rank(x, what):
    d = dims(_arr.convert_to_tensor(x))
    if d is None:
        raise ValueError(f"{what} needs an input of known rank")
    return len(d)


def convolution(
    input,
    filter=None,
    padding=None,
    strides=None,  # noqa: A002
    dilation_rate=None,
    name=None,
    data_format=None,
    filters=None,
    dilations=None,
):
    """N-D convolution (N = 1, 2, 3 from the input's rank), with strides and dilation."""
    filter = filters if filter is None else filter  # noqa: A001
    dilation_rate = dilations if dilation_rate is None else dilation_rate
    n = _rank(input, "convolution") - 2
    strides = [1] * n if strides is None else list(strides)
    rate = [1] * n if dilation_rate is None else list(dilation_rate)
    if len(strides) != n or len(rate) != n:
        raise ValueError(f"strides {strides} and dilation_rate {rate} must have {n} elements")
    with _name_scope(name, "convolution"):
        if n == 1:
            return conv1d(input, filter, strides, padding, data_format=data_format, dilations=rate)
        if n == 2:
            return _c2.conv2d(
                input,
                filter,
                [1, *strides, 1],
                padding,
                data_format=data_format,
                dilations=[1, *rate, 1],
            )
        if n == 3:
            return _c3.conv3d(
                input,
                filter,
                [1, *strides, 1],
                padding,
                data_format=data_format,
                dilations=[1, *rate, 1],
            )
    raise ValueError(f"convolution needs an input of rank 3, 4 or 5, got rank {n + 2}")


def conv_transpose(
    input,
    filters,
    output_shape,
    strides,
    padding="SAME",  # noqa: A002
    data_format=None,
    dilations=None,
    name=None,
):
    """The transpose of `convolution`, for 1, 2 or 3 spatial axes (from ``output_shape``)."""
    n = (
        len(output_shape) - 2
        if isinstance(output_shape, list | tuple)
        else dims(_arr.convert_to_tensor(output_shape))[0] - 2
    )
    if n == 1:
        return conv1d_transpose(
            input, filters, output_shape, strides, padding, dilations=dilations, name=name
        )
    if n == 2:
        return _c2.conv2d_transpose(
            input,
            filters,
            output_shape,
            strides,
            padding,
            data_format or "NHWC",
            name=name,
            dilations=dilations,
        )
    if n == 3:
        return _c3.conv3d_transpose(
            input,
            filters,
            output_shape,
            strides,
            padding,
            data_format or "NDHWC",
            name=name,
            dilations=dilations,
        )
    raise ValueError(f"output_shape must have 3, 4 or 5 elements, got {n + 2}")


def atrous_conv2d(value, filters, rate, padding, name=None):
    """conv2d with the filter taps ``rate`` apart (dilation)."""
    return _c2.conv2d(
        value, filters, [1, 1, 1, 1], padding, dilations=[1, rate, rate, 1], name=name
    )


def atrous_conv2d_transpose(value, filters, output_shape, rate, padding, name=None):
    """The transpose of `atrous_conv2d`."""
    return _c2.conv2d_backprop_input(
        output_shape, filters, value, [1, 1, 1, 1], padding, dilations=[1, rate, rate, 1], name=name
    )


def conv2d_backprop_filter_v2(
    input,
    filter,
    out_backprop,
    strides,
    padding,  # noqa: A002
    use_cudnn_on_gpu=True,
    explicit_paddings=(),
    data_format="NHWC",
    dilations=None,
    name=None,
):
    """`conv2d_backprop_filter` taking the filter itself (for its shape)."""
    return _c2.conv2d_backprop_filter(
        input,
        _arr.shape(filter),
        out_backprop,
        strides,
        padding,
        data_format=data_format,
        dilations=dilations,
        name=name,
    )


def conv2d_backprop_input_v2(
    input,
    filter,
    out_backprop,
    strides,
    padding,  # noqa: A002
    use_cudnn_on_gpu=True,
    explicit_paddings=(),
    data_format="NHWC",
    dilations=None,
    name=None,
):
    """`conv2d_backprop_input` taking the input itself (for its shape)."""
    return _c2.conv2d_backprop_input(
        _arr.shape(input),
        filter,
        out_backprop,
        strides,
        padding,
        data_format=data_format,
        dilations=dilations,
        name=name,
    )


# ---------------------------------------------------------------------------------------
# Pooling.


def _pool1d(pool2d, input, ksize, strides, padding, data_format, name, default):  # noqa: A002
    _nwc(data_format)
    with _name_scope(name, default):
        out = pool2d(
            _arr.expand_dims(input, 1), _one(ksize, "ksize"), _one(strides, "strides"), padding
        )
        return _arr.squeeze(out, [1])


def max_pool1d(input, ksize, strides, padding, data_format="NWC", name=None):  # noqa: A002
    """Maximum over windows of an NWC tensor."""
    return _pool1d(_c2.max_pool, input, ksize, strides, padding, data_format, name, "MaxPool1d")


def avg_pool1d(input, ksize, strides, padding, data_format="NWC", name=None):  # noqa: A002
    """Mean over windows of an NWC tensor."""
    return _pool1d(_c2.avg_pool, input, ksize, strides, padding, data_format, name, "AvgPool1D")


def max_pool2d(input, ksize, strides, padding, data_format="NHWC", name=None):  # noqa: A002
    """`max_pool` (NHWC)."""
    return _c2.max_pool(input, ksize, strides, padding, data_format, name)


def _by_rank(fns, input, ksize, strides, padding, data_format, name):  # noqa: A002
    n = _rank(input, "pooling") - 2
    if n not in (1, 2, 3):
        raise ValueError(f"Input tensor must be of rank 3, 4 or 5 but was {n + 2}.")
    kw = {} if data_format is None else {"data_format": data_format}
    return fns[n - 1](input, ksize, strides, padding, name=name, **kw)


def max_pool_v2(input, ksize, strides, padding, data_format=None, name=None):  # noqa: A002
    """Max pooling over 1, 2 or 3 spatial axes (from the input's rank)."""
    return _by_rank(
        (max_pool1d, max_pool2d, _c3.max_pool3d), input, ksize, strides, padding, data_format, name
    )


def avg_pool_v2(input, ksize, strides, padding, data_format=None, name=None):  # noqa: A002
    """Average pooling over 1, 2 or 3 spatial axes (from the input's rank)."""
    return _by_rank(
        (avg_pool1d, _c2.avg_pool, _c3.avg_pool3d),
        input,
        ksize,
        strides,
        padding,
        data_format,
        name,
    )


def pool(
    input,
    window_shape,
    pooling_type,
    padding,
    dilation_rate=None,  # noqa: A002
    strides=None,
    name=None,
    data_format=None,
    dilations=None,
):
    """N-D max or average pooling (N = len(window_shape)).

    Raises:
        ValueError: a dilation rate other than 1 (not supported here), or a bad type.
    """
    rate = dilations if dilation_rate is None else dilation_rate
    if rate is not None and any(int(r) != 1 for r in rate):
        raise ValueError("pool with dilation_rate > 1 is not supported by miniflow")
    n = len(window_shape)
    strides = [1] * n if strides is None else list(strides)
    if pooling_type not in ("MAX", "AVG"):
        raise ValueError(f"pooling_type must be 'MAX' or 'AVG', got {pooling_type!r}")
    fn = max_pool_v2 if pooling_type == "MAX" else avg_pool_v2
    with _name_scope(name, f"{pooling_type.lower()}_pool"):
        return fn(input, [1, *window_shape, 1], [1, *strides, 1], padding, data_format=data_format)


def with_space_to_batch(
    input,
    dilation_rate,
    padding,
    op,
    filter_shape=None,  # noqa: A002
    spatial_dims=None,
    data_format=None,
):
    """``op(input, num_spatial_dims, padding)`` made dilated by ``dilation_rate``: the input
    goes through space_to_batch_nd, ``op`` runs VALID, and batch_to_space_nd undoes it."""
    from miniflow.ops.manip_ops import (
        _required_paddings,
        _static_ints,
        batch_to_space_nd,
        space_to_batch_nd,
    )

    rate = _static_ints(dilation_rate, "dilation_rate")
    n = len(rate)
    if spatial_dims is not None and list(spatial_dims) != list(range(1, n + 1)):
        raise ValueError("with_space_to_batch supports spatial_dims = 1..N only (NHWC)")
    if data_format is not None and data_format.startswith("NC"):
        raise ValueError(f"data_format {data_format!r} is not supported; use channels last")
    x = _arr.convert_to_tensor(input)
    if all(r == 1 for r in rate):
        return op(x, n, padding)
    if padding == "SAME":
        if filter_shape is None:
            raise ValueError("filter_shape must be specified for SAME padding")
        extra = [(int(k) - 1) * r for k, r in zip(_static_ints(filter_shape, "filter_shape"), rate)]
        base = [[e // 2, e - e // 2] for e in extra]
    elif padding == "VALID":
        base = [[0, 0]] * n
    else:
        raise ValueError(f"Invalid padding method {padding!r}")
    d = dims(x)
    if d is None or None in d[1 : n + 1]:
        raise ValueError("with_space_to_batch needs the spatial dimensions known statically")
    paddings, crops = _required_paddings(d[1 : n + 1], rate, base)
    converted = space_to_batch_nd(x, rate, paddings)
    return batch_to_space_nd(op(converted, n, "VALID"), rate, crops)


def conv(
    input,
    filter,
    strides,
    padding,
    explicit_paddings=(),  # noqa: A002
    data_format="CHANNELS_LAST",
    dilations=(),
    batch_dims=1,
    groups=1,
    name=None,
):
    """TF's generic `Conv` op: an N-D convolution (N = len(strides) - 2, 1 to 3), channels
    last, one batch dimension, one group.

    Raises:
        ValueError: explicit padding, channels-first data, batch_dims != 1 or groups != 1
            (not supported here).
    """
    if padding == "EXPLICIT" or explicit_paddings:
        raise ValueError("conv: EXPLICIT padding is not supported by miniflow")
    if data_format != "CHANNELS_LAST" or batch_dims != 1 or groups != 1:
        raise ValueError(
            "conv supports data_format='CHANNELS_LAST', batch_dims=1 and groups=1 only"
        )
    n = len(strides) - 2
    if not 1 <= n <= 3 or strides[0] != 1 or strides[-1] != 1:
        raise ValueError(
            f"strides must be [1, s_1, ..., s_N, 1] with 1 <= N <= 3, got {list(strides)}"
        )
    rate = list(dilations)[1:-1] if dilations else None
    return convolution(input, filter, padding, list(strides)[1:-1], rate, name=name)
