"""Quantized NN ops (tf.nn.quantized_*): pooling, ReLU-X and conv2d on quantized values
with float [min, max] ranges, computed as TF's CPU kernels do (integer arithmetic, the
output range derived from the input ranges)."""

from __future__ import annotations

import numpy as np

from miniflow import dtypes, errors
from miniflow.core.dispatch import apply_op
from miniflow.core.registry import not_differentiable, register_op
from miniflow.ops import array_ops as _arr
from miniflow.ops.conv_ops import (
    _avg_counts,
    _conv2d_kernel,
    _conv_infer,
    _max_pool_kernel,
    _pool_infer,
    _pool_windows,
)
from miniflow.ops.quantization_ops import as_int, as_quantized, float_to_quantized, int_limits
from miniflow.ops.shape_rules import dims

_F32 = np.float32


def _scalar(v):
    return _F32(np.asarray(v, _F32).reshape(-1)[0])


def _qtype(x):
    return dtypes.as_dtype(np.asarray(x).dtype.names[0])


def _quantized_input(name, rule):
    def infer(inputs, attrs):
        if not inputs[0].dtype.is_quantized:
            raise TypeError(
                f"{name} takes a quantized input (quint8, qint8, ...), got {inputs[0].dtype.name}"
            )
        ((out, _),) = rule(inputs, attrs)
        return [
            (out, attrs.get("out_type", inputs[0].dtype)),
            ((), dtypes.float32),
            ((), dtypes.float32),
        ]

    return infer


def _same_range(min_input, max_input):
    """Pooling keeps the input's range."""
    return np.asarray(_scalar(min_input)), np.asarray(_scalar(max_input))


def _check_4d(x):
    if np.ndim(x) != 4:
        raise errors.InvalidArgumentError(
            None, None, f"input must be 4-dimensional, got {np.shape(x)}"
        )


@register_op(
    "QuantizedAvgPool", num_outputs=3, infer=_quantized_input("QuantizedAvgPool", _pool_infer)
)
def _quantized_avg_pool(x, min_input, max_input, ksize=(1, 1), strides=(1, 1), padding="VALID"):
    _check_4d(x)
    T = _qtype(x)
    q = as_int(x).astype(np.int32)
    cols, _ = _pool_windows(q, ksize, strides, padding, 0)
    counts = _avg_counts(q.shape, ksize, strides, padding).astype(np.int32)
    return (
        as_quantized(cols.sum(axis=(3, 4), dtype=np.int32) // counts, T),
        *_same_range(min_input, max_input),
    )


@register_op(
    "QuantizedMaxPool", num_outputs=3, infer=_quantized_input("QuantizedMaxPool", _pool_infer)
)
def _quantized_max_pool(x, min_input, max_input, ksize=(1, 1), strides=(1, 1), padding="VALID"):
    _check_4d(x)
    return (
        as_quantized(_max_pool_kernel(as_int(x), ksize, strides, padding), _qtype(x)),
        *_same_range(min_input, max_input),
    )


@register_op(
    "QuantizedReluX",
    num_outputs=3,
    infer=_quantized_input("QuantizedReluX", lambda i, a: [(dims(i[0]), None)]),
)
def _quantized_relu_x(x, max_value, min_features, max_features, out_type=None):
    T = _qtype(x)
    mn, mx = _scalar(min_features), _scalar(max_features)
    zero = float_to_quantized(_F32(0), mn, mx, T)
    top = float_to_quantized(_scalar(max_value), mn, mx, T)
    out = np.minimum(np.maximum(as_int(x), zero), top)
    return as_quantized(out, out_type), np.asarray(mn), np.asarray(mx)


def _float_per_level(T, mn, mx):
    lo, hi = int_limits(T)
    return _F32((mx - mn) / _F32(hi - lo))


@register_op(
    "QuantizedConv2D", num_outputs=3, infer=_quantized_input("QuantizedConv2D", _conv_infer)
)
def _quantized_conv2d(
    x,
    w,
    min_input,
    max_input,
    min_filter,
    max_filter,
    out_type=None,
    strides=(1, 1),
    dilations=(1, 1),
    padding="VALID",
):
    _check_4d(x)
    tx, tw = _qtype(x), _qtype(w)
    mn_x, mx_x, mn_w, mx_w = map(_scalar, (min_input, max_input, min_filter, max_filter))
    # offsets: the quantized values standing for 0.0 (TF's FloatToQuantizedUnclamped)
    off_x = _unclamped_zero(tx, mn_x, mx_x)
    off_w = _unclamped_zero(tw, mn_w, mx_w)
    acc = _conv2d_kernel(
        as_int(x).astype(np.int64) - off_x,
        as_int(w).astype(np.int64) - off_w,
        strides,
        dilations,
        padding,
    )
    lo, hi = int_limits(out_type)
    per_level = _float_per_level(tx, mn_x, mx_x) * _float_per_level(tw, mn_w, mx_w)
    return (
        as_quantized(np.clip(acc, lo, hi), out_type),
        np.asarray(_F32(per_level * lo)),
        np.asarray(_F32(per_level * hi)),
    )


def _unclamped_zero(T, mn, mx):
    lo, hi = int_limits(T)
    if mn == mx:
        return 0
    steps = hi - lo + 1
    scale = steps / ((float(mx) - float(mn)) * (steps / (steps - 1.0)))
    return int(-np.sign(mn * scale) * np.floor(abs(mn * scale) + 0.5)) + lo


not_differentiable("QuantizedAvgPool", "QuantizedMaxPool", "QuantizedReluX", "QuantizedConv2D")


def _hw(v, what):
    v = [int(i) for i in v]
    if len(v) != 4 or v[0] != 1 or v[3] != 1:
        raise ValueError(
            f"{what} must be [1, h, w, 1] (pooling or striding over batch or "
            f"depth is not supported), got {v}"
        )
    return v[1], v[2]


def _padding(padding):
    padding = padding.decode() if isinstance(padding, bytes) else padding
    if padding not in ("SAME", "VALID"):
        raise ValueError(f"padding must be 'SAME' or 'VALID', got {padding!r}")
    return padding


def _f32(x):
    return _arr.convert_to_tensor(x, dtype=dtypes.float32)


def quantized_avg_pool(
    input,
    min_input,
    max_input,
    ksize,
    strides,
    padding,  # noqa: A002
    name=None,
):
    """(output, min_output, max_output): average pooling of quantized NHWC ``input``."""
    return tuple(
        apply_op(
            "QuantizedAvgPool",
            input,
            _f32(min_input),
            _f32(max_input),
            ksize=_hw(ksize, "ksize"),
            strides=_hw(strides, "strides"),
            padding=_padding(padding),
            name=name,
        )
    )


def quantized_max_pool(
    input,
    min_input,
    max_input,
    ksize,
    strides,
    padding,  # noqa: A002
    name=None,
):
    """(output, min_output, max_output): max pooling of quantized NHWC ``input``."""
    return tuple(
        apply_op(
            "QuantizedMaxPool",
            input,
            _f32(min_input),
            _f32(max_input),
            ksize=_hw(ksize, "ksize"),
            strides=_hw(strides, "strides"),
            padding=_padding(padding),
            name=name,
        )
    )


def quantized_relu_x(
    features, max_value, min_features, max_features, out_type=dtypes.quint8, name=None
):
    """(activations, min_activations, max_activations): quantized min(max(x, 0), max_value)."""
    return tuple(
        apply_op(
            "QuantizedReluX",
            features,
            _f32(max_value),
            _f32(min_features),
            _f32(max_features),
            out_type=dtypes.as_dtype(out_type),
            name=name,
        )
    )


def quantized_conv2d(
    input,
    filter,
    min_input,
    max_input,
    min_filter,  # noqa: A002
    max_filter,
    strides,
    padding,
    out_type=dtypes.qint32,
    dilations=(1, 1, 1, 1),
    name=None,
):
    """(output, min_output, max_output): 2-D convolution of quantized NHWC ``input`` with a
    quantized HWIO ``filter``, accumulated in ``out_type`` (qint32)."""
    if list(dilations) != [1, 1, 1, 1]:
        raise ValueError(
            f"quantized_conv2d supports only dilations [1, 1, 1, 1], got {list(dilations)}"
        )
    return tuple(
        apply_op(
            "QuantizedConv2D",
            input,
            filter,
            _f32(min_input),
            _f32(max_input),
            _f32(min_filter),
            _f32(max_filter),
            out_type=dtypes.as_dtype(out_type),
            strides=_hw(strides, "strides"),
            dilations=(1, 1),
            padding=_padding(padding),
            name=name,
        )
    )
