"""Neural-network ops (`tf.nn`): activations, softmax and the stable cross entropies,
normalisation, dropout, top-k (convolution and pooling: `conv_ops`; embeddings:
`embedding_ops`).

Primitives exist only where stability or speed needs them (softmax, softplus, the
sparse cross entropy, top-k); everything else is composed from existing ops and so needs
no gradient rule of its own.
"""

from __future__ import annotations

import numpy as np

from miniflow import dtypes, errors
from miniflow.core.dispatch import apply_op, current_frontend
from miniflow.core.registry import not_differentiable, register_gradient, register_op
from miniflow.ops import array_ops as _arr, math_ops as _math, random_ops
from miniflow.ops.shape_rules import dims, normalize_axis

# ---------------------------------------------------------------------------------------
# Activations.


def _softplus(x):
    # log(1 + e^x) = max(x, 0) + log1p(e^-|x|): no overflow for large |x|
    return np.maximum(x, 0) + np.log1p(np.exp(-np.abs(x)))


register_op("Softplus", infer=_math.real_float_rule)(_softplus)


@register_gradient("Softplus")
def _softplus_grad(op, grad):
    """d softplus(x) = sigmoid(x)."""
    return [grad * _math.sigmoid(op.inputs[0])]


@register_op("Elu", infer=_math.real_float_rule)
def _elu(x):
    return np.where(x > 0, x, np.expm1(np.minimum(x, 0))).astype(x.dtype, copy=False)


@register_gradient("Elu")
def _elu_grad(op, grad):
    """d elu = elu(x) + 1 for x < 0, 1 otherwise (at 0 and NaN too, as in TF)."""
    x, y = op.inputs[0], op.outputs[0]
    return [_math.where(x < 0, grad * (y + 1.0), grad)]


def relu6(features, name=None):
    """min(max(x, 0), 6); the gradient is 1 on the open interval (0, 6) only (TF)."""
    x = _arr.convert_to_tensor(features)
    return _math.where(x >= 6, _arr.convert_to_tensor(6, dtype=x.dtype), _math.relu(x), name=name)


def elu(features, name=None):
    """x for x > 0, exp(x) - 1 otherwise."""
    return apply_op("Elu", features, name=name)


def selu(features, name=None):
    """scale * elu(x) with alpha, the self-normalising constants of Klambauer et al."""
    alpha, scale = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946
    x = _arr.convert_to_tensor(features)  # x < 0: at 0 the gradient is `scale`, as in TF
    return _math.multiply(_math.where(x < 0, alpha * elu(x), x), scale, name=name)


def leaky_relu(features, alpha=0.2, name=None):
    """x for x > 0, alpha * x otherwise (integers are cast to float32 first, as in TF)."""
    x = _arr.convert_to_tensor(features)
    if x.dtype.is_integer:
        x = _math.cast(x, dtypes.float32)
    return _math.where(x > 0, x, x * alpha, name=name)


def softplus(features, name=None):
    """log(1 + exp(x)), computed without overflow."""
    return apply_op("Softplus", features, name=name)


register_op("Softsign", infer=_math.dtype_rule("f", _math._FLOATS, "features"))(
    lambda x: x / (1 + np.abs(x))
)


@register_gradient("Softsign")
def _softsign_grad(op, grad):
    """grad / (1 + |x|)^2: 0 at +-inf (the quotient rule on the composition gives NaN)."""
    return [grad / _math.square(1.0 + _math.abs(op.inputs[0]))]


def softsign(features, name=None):
    """x / (1 + |x|)."""
    return apply_op("Softsign", features, name=name)


# ---------------------------------------------------------------------------------------
# Softmax and log-softmax (the log-sum-exp trick).


def _softmax_kernel(x, axis=-1):
    # ndarray methods and in-place division: this runs on every step of a classifier
    if not x.size:  # max() has no identity; TF returns the empty result
        return np.empty_like(x)
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    e /= e.sum(axis=axis, keepdims=True)
    return e


def _log_softmax_kernel(x, axis=-1):
    if not x.size:
        return np.empty_like(x)
    shifted = x - x.max(axis=axis, keepdims=True)
    shifted -= np.log(np.exp(shifted).sum(axis=axis, keepdims=True))
    return shifted


_logits_rule = _math.dtype_rule("f", "float16, bfloat16, float32, float64", "logits")
register_op("Softmax", infer=_logits_rule)(_softmax_kernel)
register_op("LogSoftmax", infer=_logits_rule)(_log_softmax_kernel)


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
    labels = _arr.convert_to_tensor(labels)
    if labels.dtype != logits.dtype:  # TF casts the labels (e.g. float64 or int32)
        labels = _math.cast(labels, logits.dtype)
    _check_same_shape(labels, logits, "labels", "logits")
    return _math.negative(
        _math.reduce_sum(labels * log_softmax(logits, axis), axis=axis), name=name
    )


def softmax_cross_entropy_with_logits(
    _sentinel=None, labels=None, logits=None, dim=-1, name=None, axis=None
):
    """TF1's version: like ``_v2`` but no gradient flows into ``labels``."""
    if _sentinel is not None:
        raise ValueError(
            "Only call `softmax_cross_entropy_with_logits` with named "
            "arguments (labels=..., logits=..., ...)"
        )
    return softmax_cross_entropy_with_logits_v2(
        _arr.stop_gradient(labels), logits, axis if axis is not None else dim, name
    )


def _sparse_xent_infer(inputs, attrs):
    d = dims(inputs[0])
    return [(None if d is None else d[:-1], inputs[0].dtype), (d, inputs[0].dtype)]


@register_op("SparseSoftmaxCrossEntropyWithLogits", infer=_sparse_xent_infer, num_outputs=2)
def _sparse_xent(logits, labels):
    """(loss, backprop) as TF computes them: backprop = softmax(logits) - onehot(labels) is
    the loss's gradient, produced here so the backward pass needs no second softmax."""
    n = logits.shape[-1]
    labels = _check_labels(labels, n)
    rows = np.arange(labels.size)
    flat = logits.reshape(-1, n)
    shifted = flat - flat.max(axis=1, keepdims=True)
    e = np.exp(shifted)
    total = e.sum(axis=1, keepdims=True)
    loss = (np.log(total[:, 0]) - shifted[rows, labels.reshape(-1)]).reshape(labels.shape)
    e /= total
    e[rows, labels.reshape(-1)] -= 1
    return loss.astype(logits.dtype, copy=False), e.reshape(logits.shape)


def _check_labels(labels, n):
    labels = np.asarray(labels)
    if labels.size and (labels.min() < 0 or labels.max() >= n):
        bad = labels[(labels < 0) | (labels >= n)].reshape(-1)[0]
        raise errors.InvalidArgumentError(
            None,
            None,
            f"Received a label value of {bad} which is outside the valid range "
            f"of [0, {n}).  Label values: {' '.join(str(v) for v in labels.reshape(-1))}",
        )
    return labels


def _one_hot_like_infer(inputs, attrs):
    lab, like = dims(inputs[0]), dims(inputs[1])
    return [(None if lab is None or like is None else lab + like[-1:], inputs[1].dtype)]


@register_op("OneHotLike", infer=_one_hot_like_infer)
def _one_hot_like(labels, like):
    """One-hot rows of ``labels`` with the depth and dtype of ``like``'s last axis."""
    return (np.asarray(labels)[..., None] == np.arange(like.shape[-1])).astype(like.dtype)


not_differentiable("OneHotLike")


@register_gradient("SparseSoftmaxCrossEntropyWithLogits", accepts_none=True)
def _sparse_xent_grad(op, grad_loss, grad_backprop):
    """d loss/d logits = backprop (output 1). The backprop output itself depends on the
    logits through softmax only, so a gradient reaching it (second order) takes the
    softmax Jacobian: (g - sum(g * y)) * y with y = softmax(logits)."""
    logits = op.inputs[0]
    parts = []
    if grad_loss is not None:
        parts.append(_arr.expand_dims(grad_loss, -1) * op.outputs[1])
    if grad_backprop is not None:
        y = softmax(logits)
        parts.append(
            (grad_backprop - _math.reduce_sum(grad_backprop * y, axis=-1, keepdims=True)) * y
        )
    return [parts[0] if len(parts) == 1 else _math.add_n(parts), None]


def sparse_softmax_cross_entropy_with_logits(_sentinel=None, labels=None, logits=None, name=None):
    """-log softmax(logits)[label] per row; ``labels`` are class indices.

    Raises:
        ValueError: the ranks of labels and logits do not differ by one.
        InvalidArgumentError: a label is outside [0, num_classes) (when run).
    """
    if _sentinel is not None:
        raise ValueError(
            "Only call `sparse_softmax_cross_entropy_with_logits` with named "
            "arguments (labels=..., logits=..., ...)"
        )
    logits = _arr.convert_to_tensor(logits)
    labels = _arr.convert_to_tensor(labels)
    ld, gd = dims(labels), dims(logits)
    if ld is not None and gd is not None and len(ld) != len(gd) - 1:
        raise ValueError(
            f"Rank mismatch: Rank of labels (received {len(ld)}) should equal "
            f"rank of logits minus 1 (received {len(gd)})."
        )
    if not labels.dtype.is_integer:
        raise ValueError(f"labels must be an integer tensor, got {labels.dtype.name}")
    return apply_op("SparseSoftmaxCrossEntropyWithLogits", logits, labels, name=name)[0]


def sigmoid_cross_entropy_with_logits(_sentinel=None, labels=None, logits=None, name=None):
    """z * -log(sigmoid(x)) + (1 - z) * -log(1 - sigmoid(x)), as softplus(x) - x * z."""
    if _sentinel is not None:
        raise ValueError(
            "Only call `sigmoid_cross_entropy_with_logits` with named "
            "arguments (labels=..., logits=..., ...)"
        )
    logits = _arr.convert_to_tensor(logits)
    labels = _arr.convert_to_tensor(labels, dtype=logits.dtype)
    _check_same_shape(labels, logits, "labels", "logits")
    return _math.subtract(softplus(logits), logits * labels, name=name)


def weighted_cross_entropy_with_logits(
    targets=None, logits=None, pos_weight=None, name=None, labels=None
):
    """Sigmoid cross entropy with positive examples weighted by ``pos_weight``:
    (1 - z) * x + (1 + (q - 1) * z) * softplus(-x)."""
    targets = labels if targets is None else targets
    logits = _arr.convert_to_tensor(logits)
    z = _arr.convert_to_tensor(targets, dtype=logits.dtype)
    _check_same_shape(z, logits, "targets", "logits")
    log_weight = 1.0 + (pos_weight - 1.0) * z
    return _math.add((1.0 - z) * logits, log_weight * softplus(_math.negative(logits)), name=name)


def _check_same_shape(a, b, an, bn):
    da, db = dims(a), dims(b)
    if (
        da is not None
        and db is not None
        and (
            len(da) != len(db)
            or any(x is not None and y is not None and x != y for x, y in zip(da, db))
        )
    ):
        raise ValueError(f"{an} and {bn} must have the same shape ({a.shape} vs {b.shape})")


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
            raise ValueError(
                f"Dimensions must be equal, but are {c} and {bd[0]} for "
                "'BiasAdd' (bias must match the channel dimension)"
            )
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
            raise ValueError(
                f"keep_prob must be a scalar tensor or a float in the range (0, 1], got {keep}"
            )
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
    variance = _math.reduce_mean(
        _math.squared_difference(x, _arr.stop_gradient(mean)), axis=axes, keepdims=True
    )
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


def fused_batch_norm(
    x,
    scale,
    offset,
    mean=None,
    variance=None,
    epsilon=0.001,
    data_format="NHWC",
    is_training=True,
    name=None,
):
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
            raise ValueError(
                "Both 'mean' and 'variance' must be a 1D tensor when is_training is False."
            )
        unbiased = variance
    y = batch_normalization(x, mean, variance, offset, scale, epsilon, name=name)
    return y, mean, unbiased


# ---------------------------------------------------------------------------------------
# Top-k.


def _top_k_infer(inputs, attrs):
    d, k = dims(inputs[0]), attrs["k"]
    if d is not None and d and d[-1] is not None and k > d[-1]:
        raise ValueError(
            f"input must have at least k columns. Had {d[-1]}, needed {k} for 'TopKV2'"
        )
    out = None if d is None else d[:-1] + (k,)
    return [(out, inputs[0].dtype), (out, dtypes.int32)]


@register_op("TopKV2", num_outputs=2, infer=_top_k_infer)
def _top_k(x, k=1, sorted=True):  # noqa: A002  TF's attr name
    if k > x.shape[-1]:
        raise errors.InvalidArgumentError(
            None, None, f"input must have at least k columns. Had {x.shape[-1]}, needed {k}"
        )
    # stable sort of the negated values: equal values keep the lower index first, as TF
    order = np.argsort(-x if x.dtype.kind == "f" else -x.astype(np.int64), axis=-1, kind="stable")[
        ..., :k
    ]
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


# ---------------------------------------------------------------------------------------
# tf.math composites.


def reduce_logsumexp(
    input_tensor, axis=None, keepdims=False, name=None, reduction_indices=None, keep_dims=None
):
    """log(sum(exp(x))) along ``axis``, shifted by the maximum so it cannot overflow."""
    axis = reduction_indices if axis is None else axis
    keep = bool(keep_dims if keep_dims is not None else keepdims)
    x = _arr.convert_to_tensor(input_tensor)
    # the shift cancels exactly, so it needs no gradient
    m = _arr.stop_gradient(_math.reduce_max(x, axis=axis, keepdims=True))
    m = _math.where(_math.is_finite(m), m, _arr.zeros_like(m))
    out = _math.log(_math.reduce_sum(_math.exp(x - m), axis=axis, keepdims=True)) + m
    if not keep:
        out = _arr.squeeze(out, axis) if axis is not None else _arr.reshape(out, [])
    return _arr.identity(out, name=name)


def log_sigmoid(x, name=None):
    """log(sigmoid(x)) = -softplus(-x), stable for large |x|."""
    return _math.negative(softplus(_math.negative(x)), name=name)


def div_no_nan(x, y, name=None):
    """x / y, and 0 where y is 0."""
    x, y = _arr.convert_pair(x, y)
    zero = _math.equal(y, 0)
    safe = _math.where(zero, _arr.ones_like(y), y)
    return _math.where(zero, _arr.zeros_like(x * y), _math.truediv(x, safe), name=name)
