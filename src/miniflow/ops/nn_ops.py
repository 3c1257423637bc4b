"""Neural-network ops (`tf.nn`): activations, softmax and the stable cross entropies,
convolution and pooling (NHWC, vectorised im2col kernels), embeddings, top-k.

Primitives exist only where stability or speed needs them (softmax, softplus, conv,
pooling, partition/stitch); everything else is composed from existing ops and so needs
no gradient rule of its own.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import as_strided

from miniflow import dtypes, errors
from miniflow.core.dispatch import apply_op, current_frontend
from miniflow.core.registry import not_differentiable, register_gradient, register_op
from miniflow.ops import array_ops as _arr
from miniflow.ops import math_ops as _math
from miniflow.ops import random_ops
from miniflow.ops import shape_rules as rules
from miniflow.ops.shape_rules import dims, normalize_axis

# ---------------------------------------------------------------------------------------
# Activations.


def _softplus(x):
    # log(1 + e^x) = max(x, 0) + log1p(e^-|x|): no overflow for large |x|
    return np.maximum(x, 0) + np.log1p(np.exp(-np.abs(x)))


register_op("Softplus", infer=rules.same_as_first)(_softplus)


@register_gradient("Softplus")
def _softplus_grad(op, grad):
    """d softplus(x) = sigmoid(x)."""
    return [grad * _math.sigmoid(op.inputs[0])]


@register_op("Elu", infer=rules.same_as_first)
def _elu(x):
    return np.where(x > 0, x, np.expm1(np.minimum(x, 0))).astype(x.dtype, copy=False)


@register_gradient("Elu")
def _elu_grad(op, grad):
    """d elu = 1 for x > 0, elu(x) + 1 otherwise."""
    x, y = op.inputs[0], op.outputs[0]
    return [_math.where(x > 0, grad, grad * (y + 1.0))]


def relu6(features, name=None):
    """min(max(x, 0), 6)."""
    return _math.minimum(_math.relu(features), 6.0, name=name)


def elu(features, name=None):
    """x for x > 0, exp(x) - 1 otherwise."""
    return apply_op("Elu", features, name=name)


def selu(features, name=None):
    """scale * elu(x) with alpha, the self-normalising constants of Klambauer et al."""
    alpha, scale = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946
    x = _arr.convert_to_tensor(features)
    return _math.multiply(_math.where(x > 0, x, alpha * elu(x)), scale, name=name)


def leaky_relu(features, alpha=0.2, name=None):
    """x for x > 0, alpha * x otherwise."""
    x = _arr.convert_to_tensor(features)
    return _math.where(x > 0, x, x * alpha, name=name)


def softplus(features, name=None):
    """log(1 + exp(x)), computed without overflow."""
    return apply_op("Softplus", features, name=name)


def softsign(features, name=None):
    """x / (1 + |x|)."""
    x = _arr.convert_to_tensor(features)
    return _math.truediv(x, 1.0 + _math.abs(x), name=name)


# ---------------------------------------------------------------------------------------
# Softmax and log-softmax (the log-sum-exp trick).


def _softmax_kernel(x, axis=-1):
    e = np.exp(x - np.max(x, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)


def _log_softmax_kernel(x, axis=-1):
    shifted = x - np.max(x, axis=axis, keepdims=True)
    return shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))


register_op("Softmax", infer=rules.same_as_first)(_softmax_kernel)
register_op("LogSoftmax", infer=rules.same_as_first)(_log_softmax_kernel)


@register_gradient("Softmax")
def _softmax_grad(op, grad):
    """dx = (g - sum(g * y)) * y."""
    y, axis = op.outputs[0], op.attrs["axis"]
    return [(grad - _math.reduce_sum(grad * y, axis=axis, keepdims=True)) * y]


@register_gradient("LogSoftmax")
def _log_softmax_grad(op, grad):
    """dx = g - sum(g) * softmax(x)."""
    y, axis = op.outputs[0], op.attrs["axis"]
    return [grad - _math.reduce_sum(grad, axis=axis, keepdims=True) * _math.exp(y)]


def _softmax_axis(logits, axis):
    x = _arr.convert_to_tensor(logits)
    d = dims(x)
    axis = -1 if axis is None else int(axis)
    if d is not None:
        axis = normalize_axis(axis, len(d), "dim")
    return x, axis


def softmax(logits, axis=None, name=None, dim=None):
    """exp(x) / sum(exp(x)) along ``axis`` (default: the last)."""
    x, axis = _softmax_axis(logits, axis if axis is not None else dim)
    return apply_op("Softmax", x, axis=axis, name=name)


def log_softmax(logits, axis=None, name=None, dim=None):
    """x - log(sum(exp(x))) along ``axis`` (default: the last)."""
    x, axis = _softmax_axis(logits, axis if axis is not None else dim)
    return apply_op("LogSoftmax", x, axis=axis, name=name)


# ---------------------------------------------------------------------------------------
# Cross entropies: composed from the stable primitives above.


def softmax_cross_entropy_with_logits_v2(labels, logits, axis=-1, name=None, dim=None):
    """-sum(labels * log_softmax(logits)) along ``axis``; gradients flow into labels too."""
    if dim is not None:
        axis = dim
    logits = _arr.convert_to_tensor(logits)
    labels = _arr.convert_to_tensor(labels, dtype=logits.dtype)
    _check_same_shape(labels, logits, "labels", "logits")
    return _math.negative(_math.reduce_sum(labels * log_softmax(logits, axis), axis=axis),
                          name=name)


def softmax_cross_entropy_with_logits(_sentinel=None, labels=None, logits=None, dim=-1,
                                      name=None, axis=None):
    """TF1's version: like ``_v2`` but no gradient flows into ``labels``."""
    if _sentinel is not None:
        raise ValueError("Only call `softmax_cross_entropy_with_logits` with named "
                         "arguments (labels=..., logits=..., ...)")
    return softmax_cross_entropy_with_logits_v2(_arr.stop_gradient(labels), logits,
                                                axis if axis is not None else dim, name)


@register_op("SparseSoftmaxCrossEntropyWithLogits",
             infer=lambda i, a: [(None if dims(i[0]) is None else dims(i[0])[:-1],
                                  i[0].dtype)])
def _sparse_xent(logits, labels):
    n = logits.shape[-1]
    labels = np.asarray(labels)
    bad = (labels < 0) | (labels >= n)
    if bad.any():
        raise errors.InvalidArgumentError(
            None, None, f"Received a label value of {labels[bad].reshape(-1)[0]} which is "
            f"outside the valid range of [0, {n}).  Label values: "
            f"{' '.join(str(v) for v in labels.reshape(-1))}")
    logp = _log_softmax_kernel(logits)
    return -np.take_along_axis(logp, labels[..., None].astype(np.int64), -1)[..., 0]


def _one_hot_like_infer(inputs, attrs):
    lab, like = dims(inputs[0]), dims(inputs[1])
    return [(None if lab is None or like is None else lab + like[-1:], inputs[1].dtype)]


@register_op("OneHotLike", infer=_one_hot_like_infer)
def _one_hot_like(labels, like):
    """One-hot rows of ``labels`` with the depth and dtype of ``like``'s last axis."""
    return (np.asarray(labels)[..., None] == np.arange(like.shape[-1])).astype(like.dtype)


not_differentiable("OneHotLike")


@register_gradient("SparseSoftmaxCrossEntropyWithLogits")
def _sparse_xent_grad(op, grad):
    """d/dlogits = g * (softmax(logits) - onehot(labels))."""
    logits, labels = op.inputs
    diff = softmax(logits) - apply_op("OneHotLike", labels, logits)
    return [_arr.expand_dims(grad, -1) * diff, None]


def sparse_softmax_cross_entropy_with_logits(_sentinel=None, labels=None, logits=None,
                                             name=None):
    """-log softmax(logits)[label] per row; ``labels`` are class indices.

    Raises:
        ValueError: the ranks of labels and logits do not differ by one.
        InvalidArgumentError: a label is outside [0, num_classes) (when run).
    """
    if _sentinel is not None:
        raise ValueError("Only call `sparse_softmax_cross_entropy_with_logits` with named "
                         "arguments (labels=..., logits=..., ...)")
    logits = _arr.convert_to_tensor(logits)
    labels = _arr.convert_to_tensor(labels)
    ld, gd = dims(labels), dims(logits)
    if ld is not None and gd is not None and len(ld) != len(gd) - 1:
        raise ValueError(f"Rank mismatch: Rank of labels (received {len(ld)}) should equal "
                         f"rank of logits minus 1 (received {len(gd)}).")
    if not labels.dtype.is_integer:
        raise ValueError(f"labels must be an integer tensor, got {labels.dtype.name}")
    return apply_op("SparseSoftmaxCrossEntropyWithLogits", logits, labels, name=name)


def sigmoid_cross_entropy_with_logits(_sentinel=None, labels=None, logits=None, name=None):
    """z * -log(sigmoid(x)) + (1 - z) * -log(1 - sigmoid(x)), as softplus(x) - x * z."""
    if _sentinel is not None:
        raise ValueError("Only call `sigmoid_cross_entropy_with_logits` with named "
                         "arguments (labels=..., logits=..., ...)")
    logits = _arr.convert_to_tensor(logits)
    labels = _arr.convert_to_tensor(labels, dtype=logits.dtype)
    _check_same_shape(labels, logits, "labels", "logits")
    return _math.subtract(softplus(logits), logits * labels, name=name)


def weighted_cross_entropy_with_logits(targets=None, logits=None, pos_weight=None, name=None,
                                       labels=None):
    """Sigmoid cross entropy with positive examples weighted by ``pos_weight``:
    (1 - z) * x + (1 + (q - 1) * z) * softplus(-x)."""
    targets = labels if targets is None else targets
    logits = _arr.convert_to_tensor(logits)
    z = _arr.convert_to_tensor(targets, dtype=logits.dtype)
    _check_same_shape(z, logits, "targets", "logits")
    log_weight = 1.0 + (pos_weight - 1.0) * z
    return _math.add((1.0 - z) * logits, log_weight * softplus(_math.negative(logits)),
                     name=name)


def _check_same_shape(a, b, an, bn):
    da, db = dims(a), dims(b)
    if da is not None and db is not None and (
            len(da) != len(db) or any(x is not None and y is not None and x != y
                                      for x, y in zip(da, db))):
        raise ValueError(f"{an} and {bn} must have the same shape "
                         f"({a.shape} vs {b.shape})")


# ---------------------------------------------------------------------------------------
# Small composites.


def l2_loss(t, name=None):
    """sum(t ** 2) / 2."""
    return _math.multiply(_math.reduce_sum(_math.square(t)), 0.5, name=name)


def l2_normalize(x, axis=None, epsilon=1e-12, name=None, dim=None):
    """x / sqrt(max(sum(x ** 2, axis), epsilon))."""
    axis = dim if axis is None else axis
    x = _arr.convert_to_tensor(x)
    sq = _math.reduce_sum(_math.square(x), axis=axis, keepdims=True)
    return _math.multiply(x, _math.rsqrt(_math.maximum(sq, epsilon)), name=name)


def bias_add(value, bias, data_format=None, name=None):
    """Adds a 1-D ``bias`` along the channel dimension (last, or 1 for NCHW).

    Raises:
        ValueError: bias is not 1-D or does not match the channel dimension.
    """
    value = _arr.convert_to_tensor(value)
    bias = _arr.convert_to_tensor(bias, dtype=value.dtype)
    bd, vd = dims(bias), dims(value)
    if bd is not None and len(bd) != 1:
        raise ValueError(f"Shape must be rank 1 but is rank {len(bd)} for bias")
    nchw = data_format is not None and data_format.startswith("NC")
    if vd is not None:
        if len(vd) < 2:
            raise ValueError(f"Shape must be at least rank 2 but is rank {len(vd)} for value")
        c = vd[1] if nchw else vd[-1]
        if bd is not None and None not in (c, bd[0]) and c != bd[0]:
            raise ValueError(f"Dimensions must be equal, but are {c} and {bd[0]} for "
                             "'BiasAdd' (bias must match the channel dimension)")
    if nchw:
        bias = _arr.reshape(bias, [-1] + [1] * (len(vd) - 2))
    return _math.add(value, bias, name=name)


def dropout(x, keep_prob=None, noise_shape=None, seed=None, name=None, rate=None):
    """Zeroes elements with probability ``rate`` (= 1 - keep_prob), scaling the rest by
    1 / keep_prob so the expectation is unchanged.

    Raises:
        ValueError: neither or both of keep_prob and rate, or a value outside (0, 1].
    """
    if (keep_prob is None) == (rate is None):
        raise ValueError("Exactly one of keep_prob and rate must be set")
    keep = 1.0 - rate if keep_prob is None else keep_prob
    x = _arr.convert_to_tensor(x)
    if not current_frontend().is_tensor(keep):
        if not 0 < float(keep) <= 1:
            raise ValueError(f"keep_prob must be a scalar tensor or a float in the range "
                             f"(0, 1], got {keep}")
        if float(keep) == 1.0:
            return x
    keep = _arr.convert_to_tensor(keep, dtype=x.dtype)
    shape = noise_shape if noise_shape is not None else _static_or_dynamic_shape(x)
    u = random_ops.random_uniform(shape, dtype=x.dtype, seed=seed)
    mask = _math.floor(keep + u)
    return _math.multiply(_math.truediv(x, keep), mask, name=name)


def _static_or_dynamic_shape(x):
    d = dims(x)
    return list(d) if d is not None and None not in d else _arr.shape(x)


def moments(x, axes, shift=None, name=None, keep_dims=None, keepdims=None):
    """(mean, variance) of ``x`` over ``axes``."""
    keep = bool(keepdims if keepdims is not None else keep_dims)
    x = _arr.convert_to_tensor(x)
    axes = list(axes)
    mean = _math.reduce_mean(x, axis=axes, keepdims=True)
    # d var / d mean is zero, so the mean inside the variance needs no gradient
    variance = _math.reduce_mean(_math.squared_difference(x, _arr.stop_gradient(mean)),
                                 axis=axes, keepdims=True)
    if not keep:
        mean = _arr.squeeze(mean, axes)
        variance = _arr.squeeze(variance, axes)
    return mean, variance


def batch_normalization(x, mean, variance, offset, scale, variance_epsilon, name=None):
    """scale * (x - mean) / sqrt(variance + epsilon) + offset (offset/scale may be None)."""
    inv = _math.rsqrt(variance + variance_epsilon)
    if scale is not None:
        inv = inv * scale
    shift = _math.negative(mean * inv) if offset is None else offset - mean * inv
    return _math.add(x * inv, shift, name=name)


def fused_batch_norm(x, scale, offset, mean=None, variance=None, epsilon=0.001,
                     data_format="NHWC", is_training=True, name=None):
    """Batch normalisation of a 4-D NHWC tensor; returns (y, batch_mean, batch_variance).

    In training the batch statistics are used (the returned variance is the unbiased
    one, as TF returns it); otherwise ``mean`` and ``variance`` are.
    """
    x = _arr.convert_to_tensor(x)
    axes = [0, 1, 2] if data_format == "NHWC" else [0, 2, 3]
    if is_training:
        mean, variance = moments(x, axes)
        d = dims(x)
        n = int(np.prod([d[a] for a in axes])) if d is not None and None not in d else None
        unbiased = variance * (n / max(n - 1, 1)) if n is not None else variance
    else:
        if mean is None or variance is None:
            raise ValueError("Both 'mean' and 'variance' must be a 1D tensor when "
                             "is_training is False.")
        unbiased = variance
    y = batch_normalization(x, mean, variance, offset, scale, epsilon, name=name)
    return y, mean, unbiased


# ---------------------------------------------------------------------------------------
# Convolution: im2col through a strided view, one tensordot per call.


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
            raise ValueError(f"Computed output size would be negative: {(size - eff) // s + 1}"
                             f" [input_size: {size}, effective_filter_size: {eff}, stride: {s}]")
        return (size - eff + s) // s, (0, 0)
    out = -(-size // s)
    total = max((out - 1) * s + eff - size, 0)
    return out, (total // 2, total - total // 2)


def _windows(xp, oh, ow, kh, kw, sh, sw, dh, dw):
    """(N, OH, OW, KH, KW, C) view of the padded NHWC input (no copy)."""
    n, _, _, c = xp.shape
    s0, s1, s2, s3 = xp.strides
    return as_strided(xp, (n, oh, ow, kh, kw, c), (s0, s1 * sh, s2 * sw, s1 * dh, s2 * dw, s3),
                      writeable=False)


def _geometry(x_shape, kh, kw, strides, dilations, padding):
    (sh, sw), (dh, dw) = strides, dilations
    oh, ph = _out_and_pad(x_shape[1], kh, sh, dh, padding)
    ow, pw = _out_and_pad(x_shape[2], kw, sw, dw, padding)
    return oh, ow, ph, pw


def _pad_hw(x, ph, pw, value=0):
    if ph == (0, 0) and pw == (0, 0):
        return np.ascontiguousarray(x)
    return np.pad(x, ((0, 0), ph, pw, (0, 0)), constant_values=value)


def _conv2d_kernel(x, w, strides=(1, 1), dilations=(1, 1), padding="VALID"):
    if x.shape[3] != w.shape[2]:
        raise errors.InvalidArgumentError(
            None, None, f"input depth must be evenly divisible by filter depth: "
            f"{x.shape[3]} vs {w.shape[2]}")
    kh, kw = w.shape[:2]
    oh, ow, ph, pw = _geometry(x.shape, kh, kw, strides, dilations, padding)
    cols = _windows(_pad_hw(x, ph, pw), oh, ow, kh, kw, *strides, *dilations)
    return np.tensordot(cols, w, axes=([3, 4, 5], [0, 1, 2])).astype(x.dtype, copy=False)


def _conv_backprop_input_kernel(input_sizes, w, dy, strides=(1, 1), dilations=(1, 1),
                                padding="VALID"):
    shape = tuple(int(s) for s in input_sizes)
    kh, kw = w.shape[:2]
    oh, ow, ph, pw = _geometry(shape, kh, kw, strides, dilations, padding)
    (sh, sw), (dh, dw) = strides, dilations
    n, h, wd, c = shape
    dxp = np.zeros((n, h + sum(ph), wd + sum(pw), c), dtype=dy.dtype)
    dcols = np.tensordot(dy, w, axes=([3], [3]))  # (N, OH, OW, KH, KW, C)
    for i in range(kh):  # one strided add per kernel tap, not per pixel
        for j in range(kw):
            dxp[:, i * dh:i * dh + sh * (oh - 1) + 1:sh,
                j * dw:j * dw + sw * (ow - 1) + 1:sw, :] += dcols[:, :, :, i, j, :]
    return dxp[:, ph[0]:ph[0] + h, pw[0]:pw[0] + wd, :]


def _conv_backprop_filter_kernel(x, filter_sizes, dy, strides=(1, 1), dilations=(1, 1),
                                 padding="VALID"):
    kh, kw = int(filter_sizes[0]), int(filter_sizes[1])
    oh, ow, ph, pw = _geometry(x.shape, kh, kw, strides, dilations, padding)
    cols = _windows(_pad_hw(x, ph, pw), oh, ow, kh, kw, *strides, *dilations)
    return np.tensordot(cols, dy, axes=([0, 1, 2], [0, 1, 2])).astype(dy.dtype, copy=False)


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
    for size, k, s, d in ((x[1], kh, attrs["strides"][0], attrs["dilations"][0]),
                          (x[2], kw, attrs["strides"][1], attrs["dilations"][1])):
        out.append(None if size is None or k is None else
                   _out_and_pad(size, k, s, d, attrs["padding"])[0])
    return tuple(out)


register_op("Conv2D", infer=_conv_infer)(_conv2d_kernel)
register_op("Conv2DBackpropInput",
            infer=lambda i, a: [(_arr._shape_from_tensor(i[0]), i[1].dtype)])(
    _conv_backprop_input_kernel)
register_op("Conv2DBackpropFilter",
            infer=lambda i, a: [(_arr._shape_from_tensor(i[1]), i[0].dtype)])(
    _conv_backprop_filter_kernel)


def _conv_attrs(op):
    return {k: op.attrs[k] for k in ("strides", "dilations", "padding")}


@register_gradient("Conv2D")
def _conv2d_grad(op, grad):
    x, w = op.inputs
    a = _conv_attrs(op)
    return [apply_op("Conv2DBackpropInput", _arr.shape(x), w, grad, **a),
            apply_op("Conv2DBackpropFilter", x, _arr.shape(w), grad, **a)]


@register_gradient("Conv2DBackpropInput")
def _conv_backprop_input_grad(op, grad):
    """Linear in (filter, dy): the adjoints are the filter backprop and conv2d itself."""
    _, w, dy = op.inputs
    a = _conv_attrs(op)
    return [None, apply_op("Conv2DBackpropFilter", grad, _arr.shape(w), dy, **a),
            apply_op("Conv2D", grad, w, **a)]


@register_gradient("Conv2DBackpropFilter")
def _conv_backprop_filter_grad(op, grad):
    x, _, dy = op.inputs
    a = _conv_attrs(op)
    return [apply_op("Conv2DBackpropInput", _arr.shape(x), grad, dy, **a), None,
            apply_op("Conv2D", x, grad, **a)]


def _check_conv_args(padding, data_format, strides, dilations):
    padding = padding.upper() if isinstance(padding, str) else padding
    if padding not in ("SAME", "VALID"):
        raise ValueError(f"padding must be 'SAME' or 'VALID', got {padding!r}")
    if data_format not in (None, "NHWC"):
        raise ValueError(f"data_format {data_format!r} is not supported; use 'NHWC'")
    s = _pair(strides, "strides")
    d = _pair(dilations if dilations is not None else 1, "dilations")
    if isinstance(strides, list | tuple) and len(strides) == 4 and (strides[0] != 1 or
                                                                     strides[3] != 1):
        raise ValueError("Current implementation does not yet support strides in the batch "
                         "and depth dimensions.")
    if min(s) < 1 or min(d) < 1:
        raise ValueError(f"strides and dilations must be >= 1, got {s} and {d}")
    if max(d) > 1 and max(s) > 1:
        raise ValueError("strides > 1 not supported in conjunction with dilation_rate > 1")
    return padding, s, d


def conv2d(input, filter=None, strides=None, padding=None, use_cudnn_on_gpu=True,  # noqa: A002
           data_format="NHWC", dilations=None, name=None, filters=None):
    """2-D convolution of an NHWC ``input`` with an HWIO ``filter``.

    Args:
        strides: 4 ints [1, sh, sw, 1] (or 1/2 ints).
        padding: "SAME" (output = ceil(in / stride)) or "VALID".
        dilations: [1, dh, dw, 1]; the filter taps are spaced dh, dw apart.
    """
    filter = filters if filter is None else filter  # noqa: A001
    padding, s, d = _check_conv_args(padding, data_format, strides, dilations)
    return apply_op("Conv2D", input, filter, strides=s, dilations=d, padding=padding,
                    name=name)


def conv2d_backprop_input(input_sizes, filter, out_backprop, strides, padding,  # noqa: A002
                          use_cudnn_on_gpu=True, data_format="NHWC", dilations=None,
                          name=None):
    """The gradient of conv2d with respect to its input (of shape ``input_sizes``)."""
    padding, s, d = _check_conv_args(padding, data_format, strides, dilations)
    return apply_op("Conv2DBackpropInput", _arr._int_tensor(input_sizes), filter, out_backprop,
                    strides=s, dilations=d, padding=padding, name=name)


def conv2d_backprop_filter(input, filter_sizes, out_backprop, strides, padding,  # noqa: A002
                           use_cudnn_on_gpu=True, data_format="NHWC", dilations=None,
                           name=None):
    """The gradient of conv2d with respect to its filter (of shape ``filter_sizes``)."""
    padding, s, d = _check_conv_args(padding, data_format, strides, dilations)
    return apply_op("Conv2DBackpropFilter", input, _arr._int_tensor(filter_sizes),
                    out_backprop, strides=s, dilations=d, padding=padding, name=name)


def conv2d_transpose(value, filter, output_shape, strides, padding="SAME",  # noqa: A002
                     data_format="NHWC", name=None, dilations=None):
    """The transpose (gradient) of conv2d: ``filter`` is [h, w, out_channels, in_channels].

    Raises:
        ValueError: output_shape's depth does not match the filter's.
    """
    f = dims(_arr.convert_to_tensor(filter))
    if isinstance(output_shape, list | tuple) and f is not None and \
            f[2] is not None and int(output_shape[3]) != f[2]:
        raise ValueError(f"output_shape does not match filter's output channels, "
                         f"{output_shape[3]} != {f[2]}")
    return conv2d_backprop_input(output_shape, filter, value, strides, padding,
                                 data_format=data_format, dilations=dilations, name=name)


# ---------------------------------------------------------------------------------------
# Pooling. Max routes the gradient to the first maximum of each window (as TF does).


def _pool_windows(x, ksize, strides, padding, fill):
    kh, kw = ksize
    oh, ow, ph, pw = _geometry(x.shape, kh, kw, strides, (1, 1), padding)
    return _windows(_pad_hw(x, ph, pw, fill), oh, ow, kh, kw, *strides, 1, 1), (oh, ow, ph, pw)


def _max_pool_kernel(x, ksize=(1, 1), strides=(1, 1), padding="VALID"):
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
            out[:, i:i + sh * (oh - 1) + 1:sh, j:j + sw * (ow - 1) + 1:sw, :] += per_tap(i, j)
    return out[:, ph[0]:ph[0] + h, pw[0]:pw[0] + w, :]


def _max_pool_grad_kernel(x, dy, ksize=(1, 1), strides=(1, 1), padding="VALID"):
    arg, geo = _argmax_taps(x, ksize, strides, padding)
    kw = ksize[1]
    return _scatter_taps(lambda i, j: np.where(arg == i * kw + j, dy, 0), x.shape, ksize,
                         strides, geo, dy.dtype)


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
    cols, _ = _pool_windows(x, ksize, strides, padding, 0)
    return (cols.sum(axis=(3, 4)) / _avg_counts(x.shape, ksize, strides, padding)).astype(
        x.dtype, copy=False)


def _avg_pool_grad_kernel(x_shape, dy, ksize=(1, 1), strides=(1, 1), padding="VALID"):
    x_shape = tuple(int(s) for s in x_shape)
    scaled = dy / _avg_counts(x_shape, ksize, strides, padding)
    _, _, ph, pw = _geometry(x_shape, *ksize, strides, (1, 1), padding)
    geo = (dy.shape[1], dy.shape[2], ph, pw)
    return _scatter_taps(lambda i, j: scaled, x_shape, ksize, strides, geo,
                         dy.dtype).astype(dy.dtype, copy=False)


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
register_op("MaxPoolGrad", infer=lambda i, a: [(dims(i[0]), i[1].dtype)])(
    _max_pool_grad_kernel)
register_op("MaxPoolGradGrad", infer=_pool_infer)(_max_pool_grad_grad_kernel)
register_op("AvgPoolGrad", infer=lambda i, a: [(_arr._shape_from_tensor(i[0]), i[1].dtype)])(
    _avg_pool_grad_kernel)


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
    padding = padding.upper() if isinstance(padding, str) else padding
    if padding not in ("SAME", "VALID"):
        raise ValueError(f"padding must be 'SAME' or 'VALID', got {padding!r}")
    if data_format not in (None, "NHWC"):
        raise ValueError(f"data_format {data_format!r} is not supported; use 'NHWC'")
    if isinstance(ksize, list | tuple) and len(ksize) == 4 and (ksize[0] != 1 or
                                                                 ksize[3] != 1):
        raise ValueError("Pooling is not yet supported on the batch nor depth dimensions.")
    return apply_op(op_type, value, ksize=_pair(ksize, "ksize"),
                    strides=_pair(strides, "strides"), padding=padding, name=name)


def max_pool(value, ksize, strides, padding, data_format="NHWC", name=None, input=None):  # noqa: A002
    """Maximum over ksize windows of an NHWC tensor."""
    return _pool("MaxPool", value if input is None else input, ksize, strides, padding,
                 data_format, name)


def avg_pool(value, ksize, strides, padding, data_format="NHWC", name=None, input=None):  # noqa: A002
    """Mean over ksize windows (SAME padding averages only the real elements)."""
    return _pool("AvgPool", value if input is None else input, ksize, strides, padding,
                 data_format, name)


# ---------------------------------------------------------------------------------------
# Partitioning and stitching (used by embedding lookups over partitioned tables).


def _partition_infer(inputs, attrs):
    d, p = dims(inputs[0]), dims(inputs[1])
    rest = None if d is None or p is None else (None,) + d[len(p):]
    return [(rest, inputs[0].dtype)] * attrs["num_partitions"]


@register_op("DynamicPartition", infer=_partition_infer,
             num_outputs=lambda a: a["num_partitions"])
def _dynamic_partition(data, partitions, num_partitions=1):
    p = np.asarray(partitions)
    if p.size and (p.min() < 0 or p.max() >= num_partitions):
        raise errors.InvalidArgumentError(
            None, None, f"partitions must be in [0, {num_partitions}), got "
            f"{p[(p < 0) | (p >= num_partitions)].reshape(-1)[0]}")
    return tuple(np.asarray(data)[p == i] for i in range(num_partitions))


@register_gradient("DynamicPartition")
def _dynamic_partition_grad(op, *grads):
    """Stitch the partitions' gradients back to the positions they came from."""
    data, partitions = op.inputs
    n = op.attrs["num_partitions"]
    positions = _arr.reshape(_arr.range(_arr.size(partitions)), _arr.shape(partitions))
    parts = dynamic_partition(positions, partitions, n)
    return [dynamic_stitch(parts, list(grads)), None]


def _stitch_infer(inputs, attrs):
    n = len(inputs) // 2
    idx, data = inputs[:n], inputs[n:]
    d0, i0 = dims(data[0]), dims(idx[0])
    rest = None if d0 is None or i0 is None else (None,) + d0[len(i0):]
    return [(rest, data[0].dtype)]


@register_op("DynamicStitch", infer=_stitch_infer)
def _dynamic_stitch(*args):
    n = len(args) // 2
    idx = [np.asarray(i).reshape(-1) for i in args[:n]]
    data = [np.asarray(d) for d in args[n:]]
    rows = data[0].shape[np.ndim(args[0]):]
    size = 1 + max((int(i.max()) for i in idx if i.size), default=-1)
    out = np.zeros((size,) + rows, dtype=data[0].dtype)
    for i, d in zip(idx, data):  # later lists win on duplicate indices, as in TF
        out[i] = d.reshape((-1,) + rows)
    return out


@register_gradient("DynamicStitch")
def _dynamic_stitch_grad(op, grad):
    n = len(op.inputs) // 2
    return [None] * n + [_arr.gather(grad, i) for i in op.inputs[:n]]


def dynamic_partition(data, partitions, num_partitions, name=None):
    """Splits ``data`` into ``num_partitions`` tensors by the index in ``partitions``."""
    return list(apply_op("DynamicPartition", data, partitions,
                         num_partitions=int(num_partitions), name=name))


def dynamic_stitch(indices, data, name=None):
    """Interleaves the ``data`` tensors into one: row indices[i][j] is data[i][j]."""
    indices, data = list(indices), list(data)
    if len(indices) != len(data):
        raise ValueError(f"indices and data must have the same length, got {len(indices)} "
                         f"and {len(data)}")
    return apply_op("DynamicStitch", *indices, *data, name=name)


# ---------------------------------------------------------------------------------------
# Embeddings.


def embedding_lookup(params, ids, partition_strategy="mod", name=None, validate_indices=True,
                     max_norm=None):
    """Rows ``ids`` of ``params``: a tensor/variable, or a list of partitions of one table.

    With several partitions, id ``i`` lives in partition ``i % n`` at row ``i // n``
    ("mod"), or in contiguous blocks ("div"). Gradients reach variables as
    `IndexedSlices`, so optimizers touch only the looked-up rows.

    Raises:
        ValueError: params is empty or partition_strategy is unknown.
    """
    if partition_strategy not in ("mod", "div"):
        raise ValueError(f"Unrecognized partition strategy: {partition_strategy}")
    if isinstance(params, list | tuple):
        params = list(params)
        if not params:
            raise ValueError("Need at least one param")
    else:
        params = [params]
    ids = _arr.convert_to_tensor(ids)
    if len(params) == 1:
        out = _arr.gather(params[0], ids, name=name)
    else:
        out = _partitioned_lookup(params, ids, partition_strategy, name)
    return _clip_rows(out, max_norm) if max_norm is not None else out


def _partitioned_lookup(params, ids, strategy, name):
    n = len(params)
    flat = _arr.reshape(ids, [-1])
    if strategy == "mod":
        part = _math.floormod(flat, n)
        local = _math.floordiv(flat, n)
    else:
        sizes = [int(_arr.convert_to_tensor(p).shape[0] if not hasattr(p, "shape")
                     else p.shape[0]) for p in params]
        total = sum(sizes)
        per, extra = total // n, total % n
        big = extra * (per + 1)  # the first `extra` partitions hold one more row
        flat_c = _arr.cast(flat, dtypes.int64)
        part = _math.where(flat_c < big, _math.floordiv(flat_c, per + 1),
                           extra + _math.floordiv(flat_c - big, max(per, 1)))
        local = _math.where(flat_c < big, _math.floormod(flat_c, per + 1),
                            _math.floormod(flat_c - big, max(per, 1)))
        local = _arr.cast(local, flat.dtype)
    part = _arr.cast(part, dtypes.int32)
    positions = _arr.range(_arr.size(flat))
    pos_parts = dynamic_partition(positions, part, n)
    id_parts = dynamic_partition(local, part, n)
    rows = [_arr.gather(p, i) for p, i in zip(params, id_parts)]
    stitched = dynamic_stitch(pos_parts, rows)
    row_shape = dims(rows[0])[1:]
    ids_shape = dims(ids)
    if ids_shape is not None and None not in ids_shape and None not in row_shape:
        return _arr.reshape(stitched, list(ids_shape) + list(row_shape), name=name)
    return _arr.reshape(stitched, _arr.concat([_arr.shape(ids), _arr.shape(stitched)[1:]], 0),
                        name=name)


def _clip_rows(x, max_norm):
    norm = _math.sqrt(_math.reduce_sum(_math.square(x), axis=-1, keepdims=True))
    return x * _math.minimum(1.0, max_norm / _math.maximum(norm, 1e-12))


# ---------------------------------------------------------------------------------------
# Top-k.


@register_op("TopKV2", num_outputs=2,
             infer=lambda i, a: [(None if dims(i[0]) is None else dims(i[0])[:-1] + (a["k"],),
                                  i[0].dtype),
                                 (None if dims(i[0]) is None else dims(i[0])[:-1] + (a["k"],),
                                  dtypes.int32)])
def _top_k(x, k=1, sorted=True):  # noqa: A002  TF's attr name
    if k > x.shape[-1]:
        raise errors.InvalidArgumentError(
            None, None, f"input must have at least k columns. Had {x.shape[-1]}, needed {k}")
    # stable sort of the negated values: equal values keep the lower index first, as TF
    order = np.argsort(-x if x.dtype.kind == "f" else -x.astype(np.int64), axis=-1,
                       kind="stable")[..., :k]
    return np.take_along_axis(x, order, -1), order.astype(np.int32)


@register_gradient("TopKV2")
def _top_k_grad(op, grad, _indices_grad):
    """The values' gradient scattered back to the positions they were taken from."""
    x, idx = op.inputs[0], op.outputs[1]
    hot = apply_op("OneHotLike", idx, x)  # [..., k, n]
    return [_math.reduce_sum(_arr.expand_dims(grad, -1) * hot, axis=-2)]


def top_k(input, k=1, sorted=True, name=None):  # noqa: A002
    """(values, indices) of the ``k`` largest entries along the last axis."""
    return apply_op("TopKV2", input, k=int(k), sorted=bool(sorted), name=name)


@register_op("InTopKV2", infer=lambda i, a: [(dims(i[1]), dtypes.bool)])
def _in_top_k(predictions, targets, k=1):
    targets = np.asarray(targets).astype(np.int64)
    n = predictions.shape[1]
    valid = (targets >= 0) & (targets < n)
    t = np.clip(targets, 0, n - 1)
    target_val = predictions[np.arange(len(t)), t]
    # ties at the k-th value count as in the top k (TF's rule)
    larger = np.sum(predictions > target_val[:, None], axis=1)
    return valid & np.isfinite(target_val) & (larger < k)


not_differentiable("InTopKV2")


def in_top_k(predictions, targets, k, name=None):
    """Whether each target class is among the ``k`` highest predictions of its row."""
    return apply_op("InTopKV2", predictions, targets, k=int(k), name=name)
