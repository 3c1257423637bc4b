"""`tf.math` functions composed exactly from existing ops (no gradient rows needed):
moments and norms of reductions, counting, `polyval`, `accumulate_n`, monotonicity checks,
plus the non-differentiable `bincount` and `confusion_matrix`."""

from __future__ import annotations

import numpy as np

from miniflow import dtypes, errors
from miniflow.core.dispatch import apply_op
from miniflow.core.registry import not_differentiable, register_op
from miniflow.ops import array_ops as _arr, math_ops as _math


def _axis(axis, reduction_indices):
    return reduction_indices if axis is None else axis


def reduce_variance(input_tensor, axis=None, keepdims=False, name=None):
    """Mean of squared deviations from the mean along ``axis`` (population variance)."""
    x = _arr.convert_to_tensor(input_tensor)
    mean = _math.reduce_mean(x, axis=axis, keepdims=True)
    return _math.reduce_mean(
        _math.squared_difference(x, mean), axis=axis, keepdims=keepdims, name=name
    )


def reduce_std(input_tensor, axis=None, keepdims=False, name=None):
    """sqrt(reduce_variance(input_tensor, axis))."""
    return _math.sqrt(reduce_variance(input_tensor, axis, keepdims), name=name)


def reduce_euclidean_norm(input_tensor, axis=None, keepdims=False, name=None):
    """sqrt(sum(x ** 2)) along ``axis``."""
    x = _arr.convert_to_tensor(input_tensor)
    return _math.sqrt(_math.reduce_sum(_math.square(x), axis=axis, keepdims=keepdims), name=name)


def count_nonzero(
    input_tensor=None,
    axis=None,
    keepdims=None,
    dtype=dtypes.int64,
    name=None,
    reduction_indices=None,
    keep_dims=None,
    input=None,
):  # noqa: A002
    """The number of non-zero elements along ``axis`` (int64 by default, as TF)."""
    x = _arr.convert_to_tensor(input if input_tensor is None else input_tensor)
    keep = bool(keepdims if keepdims is not None else keep_dims)
    nonzero = _math.not_equal(x, _arr.zeros_like(x))
    count = _math.reduce_sum(
        _math.cast(nonzero, dtypes.int64), axis=_axis(axis, reduction_indices), keepdims=keep
    )
    return _math.cast(count, dtype, name=name)


def scalar_mul(scalar, x, name=None):
    """A scalar times a tensor."""
    return _math.multiply(scalar, x, name=name)


def accumulate_n(inputs, shape=None, tensor_dtype=None, name=None):
    """The element-wise sum of a list of tensors (as `add_n`)."""
    return _math.add_n(inputs, name=name)


def polyval(coeffs, x, name=None):
    """coeffs[0] * x^(n-1) + ... + coeffs[n-1], by Horner's rule."""
    x = _arr.convert_to_tensor(x)
    if not coeffs:
        return _arr.zeros_like(x, name=name)
    out = _arr.convert_to_tensor(coeffs[0], dtype=x.dtype)
    for c in coeffs[1:]:
        out = out * x + c
    return _arr.identity(out, name=name or "polyval")


def _monotone(x, strict, name):
    x = _arr.reshape(_arr.convert_to_tensor(x), [-1])
    diff = x[1:] - x[:-1]
    cmp = _math.greater if strict else _math.greater_equal
    return _math.reduce_all(cmp(diff, _arr.zeros_like(diff)), name=name)


def is_non_decreasing(x, name=None):
    """True when each element of flattened ``x`` is >= the one before it."""
    return _monotone(x, False, name)


def is_strictly_increasing(x, name=None):
    """True when each element of flattened ``x`` is > the one before it."""
    return _monotone(x, True, name)


@register_op("Bincount", infer=lambda i, a: [((None,), a["dtype"])])
def _bincount(arr, weights, minlength=0, maxlength=-1, dtype=dtypes.int32):
    arr = np.asarray(arr).reshape(-1).astype(np.int64)
    if arr.size and arr.min() < 0:
        raise errors.InvalidArgumentError(None, None, "Input arr must be non-negative!")
    size = max(int(arr.max()) + 1 if arr.size else 0, minlength)
    if maxlength >= 0:
        size = min(size, maxlength)
        w = None if weights.size == 0 else np.asarray(weights).reshape(-1)[arr < size]
        arr = arr[arr < size]
    else:
        w = None if weights.size == 0 else np.asarray(weights).reshape(-1)
    out = np.bincount(arr, weights=w, minlength=size)
    return out.astype(dtypes.as_dtype(dtype).np)


not_differentiable("Bincount")


def bincount(arr, weights=None, minlength=None, maxlength=None, dtype=dtypes.int32, name=None):
    """Counts of each value of non-negative int ``arr`` (weighted sums with ``weights``)."""
    w = _arr.constant(np.zeros([0])) if weights is None else _arr.convert_to_tensor(weights)
    out_dtype = dtypes.as_dtype(dtype) if weights is None else w.dtype
    return apply_op(
        "Bincount",
        arr,
        w,
        minlength=int(minlength or 0),
        maxlength=-1 if maxlength is None else int(maxlength),
        dtype=out_dtype,
        name=name,
    )


def confusion_matrix(
    labels, predictions, num_classes=None, weights=None, dtype=dtypes.int32, name=None
):
    """[n, n] counts of (label, prediction) pairs; rows are labels."""
    labels = _math.cast(_arr.convert_to_tensor(labels), dtypes.int64)
    predictions = _math.cast(_arr.convert_to_tensor(predictions), dtypes.int64)
    if num_classes is None:
        n = _math.maximum(_math.reduce_max(labels), _math.reduce_max(predictions)) + 1
        n_static = None
    else:
        n = _arr.constant(int(num_classes), dtypes.int64)
        n_static = int(num_classes)
    flat = labels * n + predictions
    w = _arr.constant(np.zeros([0]), dtype) if weights is None else _math.cast(weights, dtype)
    if n_static is None:
        counts = apply_op(
            "Bincount", flat, w, minlength=0, maxlength=-1, dtype=dtypes.as_dtype(dtype)
        )
        size = _math.cast(n * n, dtypes.int32)
        padded = _arr.concat(
            [counts, _arr.zeros(_arr.expand_dims(size, 0), dtype=dtypes.as_dtype(dtype))], 0
        )
        counts = padded[:size]
        shape = _arr.stack([_math.cast(n, dtypes.int32), _math.cast(n, dtypes.int32)])
        return _arr.reshape(counts, shape, name=name)
    counts = apply_op(
        "Bincount",
        flat,
        w,
        minlength=n_static * n_static,
        maxlength=n_static * n_static,
        dtype=dtypes.as_dtype(dtype),
    )
    return _arr.reshape(counts, [n_static, n_static], name=name)
