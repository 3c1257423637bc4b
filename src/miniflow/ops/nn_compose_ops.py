"""`tf.nn` functions that are exact compositions of existing ops (no gradient rows of
their own): activations (`crelu`, `silu`/`swish`, `relu_layer`, `xw_plus_b`), statistics
(`sufficient_statistics`, `normalize_moments`, `weighted_moments`, `zero_fraction`,
`batch_norm_with_global_normalization`), `local_response_normalization`, losses
(`log_poisson_loss`, `compute_average_loss`, `scale_regularization_loss`) and
`approx_top_k` (over `sort_ops.approx_max_k`/`approx_min_k`: exact top-k here)."""

from __future__ import annotations

import numpy as np

from miniflow import dtypes
from miniflow.ops import array_ops as _arr, math_ops as _math, nn_ops as _nn
from miniflow.ops.control_flow_ops import name_scope as _name_scope
from miniflow.ops.shape_rules import dims
from miniflow.ops.sort_ops import approx_max_k, approx_min_k

# ---------------------------------------------------------------------------------------
# Activations.


def crelu(features, name=None, axis=-1):
    """concat([relu(x), relu(-x)], axis): keeps the negative part as separate channels."""
    with _name_scope(name, "CRelu"):
        x = _arr.convert_to_tensor(features)
        return _math.relu(_arr.concat([x, _math.negative(x)], axis))


def silu(features, beta=1.0, name=None):
    """x * sigmoid(beta * x) (a.k.a. swish)."""
    with _name_scope(name, "swish"):
        x = _arr.convert_to_tensor(features)
        z = x if beta == 1.0 else x * _arr.convert_to_tensor(beta, dtype=x.dtype)
        return x * _math.sigmoid(z)


swish = silu


def xw_plus_b(x, weights, biases, name=None):
    """matmul(x, weights) + biases."""
    with _name_scope(name, "xw_plus_b"):
        return _nn.bias_add(_math.matmul(x, weights), biases)


def relu_layer(x, weights, biases, name=None):
    """relu(matmul(x, weights) + biases)."""
    with _name_scope(name, "relu_layer"):
        return _math.relu(_nn.bias_add(_math.matmul(x, weights), biases))


# ---------------------------------------------------------------------------------------
# Statistics.


def _keep(keepdims, keep_dims):
    return bool(keepdims if keepdims is not None else keep_dims)


def sufficient_statistics(x, axes, shift=None, keep_dims=None, name=None, keepdims=None):
    """(count, sum(x - shift), sum((x - shift)^2), shift) over ``axes``."""
    keep = _keep(keepdims, keep_dims)
    with _name_scope(name, "sufficient_statistics"):
        x = _arr.convert_to_tensor(x)
        d = dims(x)
        if d is not None and all(d[a] is not None for a in axes):
            count = _arr.constant(float(np.prod([d[a] for a in axes])), dtype=x.dtype, name="count")
        else:
            count = _arr.cast(_math.reduce_prod(_arr.gather(_arr.shape(x), list(axes))), x.dtype)
        if shift is not None:
            shift = _arr.convert_to_tensor(shift, dtype=x.dtype)
            centered = x - shift
        else:
            centered = x
        m_ss = _math.reduce_sum(centered, axes, keepdims=keep, name="mean_ss")
        v_ss = _math.reduce_sum(_math.square(centered), axes, keepdims=keep, name="var_ss")
        return count, m_ss, v_ss, shift


def normalize_moments(counts, mean_ss, variance_ss, shift, name=None):
    """(mean, variance) from sufficient statistics."""
    with _name_scope(name, "normalize"):
        divisor = _math.reciprocal(counts)
        shifted_mean = mean_ss * divisor
        mean = shifted_mean if shift is None else shifted_mean + shift
        variance = variance_ss * divisor - _math.square(shifted_mean)
        return mean, variance


def weighted_moments(x, axes, frequency_weights, name=None, keep_dims=None, keepdims=None):
    """(mean, variance) of ``x`` over ``axes``, each element counted ``weight`` times."""
    keep = _keep(keepdims, keep_dims)
    with _name_scope(name, "weighted_moments"):
        x = _arr.convert_to_tensor(x)
        w = _arr.convert_to_tensor(frequency_weights, dtype=x.dtype)
        total = _math.reduce_sum(x * w, axes, keepdims=True)
        weight_sum = _math.reduce_sum(w * _arr.ones_like(x), axes, keepdims=True)
        divisor = _math.reciprocal(weight_sum)
        mean = total * divisor
        variance = (
            _math.reduce_sum(w * _math.squared_difference(x, mean), axes, keepdims=True) * divisor
        )
        if not keep:
            mean, variance = _arr.squeeze(mean, list(axes)), _arr.squeeze(variance, list(axes))
        return mean, variance


def zero_fraction(value, name=None):
    """The fraction of elements of ``value`` that are zero (float32)."""
    with _name_scope(name, "zero_fraction"):
        value = _arr.convert_to_tensor(value)
        zero = _math.equal(value, _arr.zeros_like(value))
        return _math.reduce_mean(_arr.cast(zero, dtypes.float32), name="fraction")


def batch_norm_with_global_normalization(
    t=None,
    m=None,
    v=None,
    beta=None,
    gamma=None,
    variance_epsilon=None,
    scale_after_normalization=None,
    name=None,
    input=None,
    mean=None,
    variance=None,
):  # noqa: A002
    """`batch_normalization` with gamma applied only if ``scale_after_normalization``."""
    t = input if t is None else t
    m = mean if m is None else m
    v = variance if v is None else v
    return _nn.batch_normalization(
        t, m, v, beta, gamma if scale_after_normalization else None, variance_epsilon, name=name
    )


def local_response_normalization(
    input,
    depth_radius=5,
    bias=1,
    alpha=1,
    beta=0.5,  # noqa: A002
    name=None,
):
    """x / (bias + alpha * sum of x^2 over depth_radius neighbouring channels) ** beta."""
    with _name_scope(name, "LRN"):
        x = _arr.convert_to_tensor(input)
        d = dims(x)
        if d is not None and len(d) != 4:
            raise ValueError(f"Shape must be rank 4 but is rank {len(d)}")
        r = int(depth_radius)
        sq = _arr.pad(_math.square(x), [[0, 0], [0, 0], [0, 0], [r, r]])
        depth = _arr.shape(x)[3]
        window = _math.add_n([sq[:, :, :, k : k + depth] for k in range(2 * r + 1)]) if r else sq
        norm = _math.pow(bias + alpha * window, beta)
        out = x / norm
        return _arr.reshape(out, _arr.shape(x)) if d is None else out


lrn = local_response_normalization


# ---------------------------------------------------------------------------------------
# Losses.


def log_poisson_loss(targets, log_input, compute_full_loss=False, name=None):
    """exp(log_input) - targets * log_input (+ Stirling's term where targets > 1)."""
    with _name_scope(name, "log_poisson_loss"):
        log_input = _arr.convert_to_tensor(log_input)
        targets = _arr.convert_to_tensor(targets, dtype=log_input.dtype)
        _nn._check_same_shape(log_input, targets, "log_input", "targets")
        result = _math.exp(log_input) - log_input * targets
        if compute_full_loss:
            point_five = _arr.constant(0.5, dtype=targets.dtype)
            two_pi = _arr.constant(2 * np.pi, dtype=targets.dtype)
            stirling = (
                targets * _math.log(targets) - targets + point_five * _math.log(two_pi * targets)
            )
            zeros = _arr.zeros_like(targets)
            ones = _arr.ones_like(targets)
            cond = _math.logical_and(
                _math.greater_equal(targets, zeros), _math.less_equal(targets, ones)
            )
            result += _arr.where(cond, zeros, stirling)
        return result


def compute_average_loss(per_example_loss, sample_weight=None, global_batch_size=None):
    """sum(per_example_loss * sample_weight) / global_batch_size (default: the batch)."""
    loss = _arr.convert_to_tensor(per_example_loss)
    if sample_weight is not None:
        loss = loss * _arr.convert_to_tensor(sample_weight, dtype=loss.dtype)
    if global_batch_size is None:
        global_batch_size = _arr.cast(_arr.shape(loss)[0] if dims(loss) != () else 1, loss.dtype)
    return _nn.div_no_nan(_math.reduce_sum(loss), _arr.cast(global_batch_size, loss.dtype))


def scale_regularization_loss(regularization_loss):
    """The summed regularization loss (one replica: nothing to divide by)."""
    if isinstance(regularization_loss, list | tuple):
        regularization_loss = _math.add_n(list(regularization_loss))
    return _math.reduce_sum(regularization_loss)


# ---------------------------------------------------------------------------------------
# Approximate top-k: exact here.


def approx_top_k(
    input,
    k,
    reduction_dimension=-1,
    recall_target=0.95,
    is_max_k=True,  # noqa: A002
    reduction_input_size_override=-1,
    aggregate_to_topk=True,
    name=None,
):
    """TF's `ApproxTopK` op: `approx_max_k` or, with ``is_max_k=False``, `approx_min_k`."""
    fn = approx_max_k if is_max_k else approx_min_k
    return fn(input, k, reduction_dimension, name=name)
