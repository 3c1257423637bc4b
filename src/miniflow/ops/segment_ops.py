"""Segment reductions beyond the sum (which lives in `sparse_ops`): `segment_max/min/prod`
over sorted ids, `unsorted_segment_max/min/prod` over any ids (negative ids are dropped, as
TF does), and the composed means (`segment_mean`, `unsorted_segment_mean`,
`unsorted_segment_sqrt_n`)."""

from __future__ import annotations

import numpy as np

from miniflow import dtypes, errors
from miniflow.core.dispatch import apply_op
from miniflow.core.registry import register_gradient, register_op
from miniflow.ops import array_ops as _arr, math_ops as _math
from miniflow.ops.safe_math_ops import truncatediv
from miniflow.ops.shape_rules import dims
from miniflow.ops.sparse_ops import segment_sum, unsorted_segment_sum

_REDUCERS = {"Max": np.maximum, "Min": np.minimum, "Prod": np.multiply}


def _empty_value(kind, dtype, is_sorted):
    """TF's value for a segment no id names: 0 (sorted max/min), 1 (prod), else the
    lowest (max) or highest (min) finite value of the dtype."""
    if kind == "Prod":
        return 1
    if is_sorted:
        return 0
    info = np.finfo(dtype) if dtype.kind == "f" else np.iinfo(dtype)
    return info.min if kind == "Max" else info.max


def _segment_kernel(kind, is_sorted):
    def kernel(data, segment_ids, num_segments=None):
        data, ids = np.asarray(data), np.asarray(segment_ids).astype(np.int64)
        flat = ids.reshape(-1)
        if is_sorted:
            if flat.size and (np.any(np.diff(flat) < 0) or flat[0] < 0):
                raise errors.InvalidArgumentError(
                    None, None, "segment_ids should be a sorted, non-negative vector"
                )
            n = int(flat[-1]) + 1 if flat.size else 0
        else:
            n = int(num_segments)
            if flat.size and flat.max() >= n:
                raise errors.InvalidArgumentError(
                    None, None, f"segment_ids value {int(flat.max())} is out of range [0, {n})"
                )
        rows = data.reshape((flat.size,) + data.shape[ids.ndim :])
        out = np.full(
            (n,) + rows.shape[1:], _empty_value(kind, data.dtype, is_sorted), dtype=data.dtype
        )
        keep = flat >= 0
        reduced = np.full_like(out, 1 if kind == "Prod" else 0)
        if kind != "Prod":
            reduced[...] = _empty_value(kind, data.dtype, False)
        _REDUCERS[kind].at(reduced, flat[keep], rows[keep])
        if is_sorted and kind != "Prod":
            seen = np.zeros(n, dtype=bool)
            seen[flat[keep]] = True
            out[seen] = reduced[seen]
            return out
        return reduced

    return kernel


def _sorted_infer(inputs, attrs):
    d, i = dims(inputs[0]), dims(inputs[1])
    if d is None or i is None:
        return [(None, inputs[0].dtype)]
    return [((None,) + d[len(i) :], inputs[0].dtype)]


def _unsorted_infer(inputs, attrs):
    d, i = dims(inputs[0]), dims(inputs[1])
    n = _arr._const_value(inputs[2])
    if d is None or i is None:
        return [(None, inputs[0].dtype)]
    return [((None if n is None else int(n),) + d[len(i) :], inputs[0].dtype)]


for _kind in _REDUCERS:
    register_op(f"Segment{_kind}", infer=_sorted_infer)(_segment_kernel(_kind, True))
    register_op(f"UnsortedSegment{_kind}", infer=_unsorted_infer)(_segment_kernel(_kind, False))


def _clipped(ids):
    """(ids with negatives set to 0, a mask of the rows that took part)."""
    valid = _math.greater_equal(ids, _arr.zeros_like(ids))
    return _math.where(valid, ids, _arr.zeros_like(ids)), valid


def _row_mask(valid, data):
    """The per-id mask broadcast to ``data``'s shape."""
    dv, dd = dims(valid), dims(data)
    if dv is not None and dd is not None:
        for _ in range(len(dd) - len(dv)):
            valid = _arr.expand_dims(valid, -1)
    else:
        extra = _arr.fill(_arr.expand_dims(_arr.rank(data) - _arr.rank(valid), 0), 1)
        valid = _arr.reshape(valid, _arr.concat([_arr.shape(valid), extra], 0))
    return _math.logical_and(valid, _arr.ones_like(data, dtype=dtypes.bool))


def _min_max_grad(op, grad):
    """The gradient goes to the elements equal to their segment's result, split evenly
    among ties (TF's rule)."""
    data, ids = op.inputs[0], op.inputs[1]
    safe_ids, valid = _clipped(ids)
    picked = _math.logical_and(
        _math.equal(data, _arr.gather(op.outputs[0], safe_ids)), _row_mask(valid, data)
    )
    hits = _math.cast(picked, data.dtype)
    n = _arr.shape(op.outputs[0])[0]
    counts = unsorted_segment_sum(hits, safe_ids, n)
    share = _arr.gather(grad / _math.maximum(counts, _arr.ones_like(counts)), safe_ids)
    return [share * hits, None] + [None] * (len(op.inputs) - 2)


def _prod_grad(op, grad):
    """Product of the other elements of the segment, exact where the data has zeros."""
    data, ids = op.inputs[0], op.inputs[1]
    safe_ids, valid = _clipped(ids)
    n = _arr.shape(op.outputs[0])[0]
    is_zero = _math.equal(data, _arr.zeros_like(data))
    zeros = unsorted_segment_sum(_math.cast(is_zero, data.dtype), safe_ids, n)
    safe_data = _math.where(is_zero, _arr.ones_like(data), data)
    nonzero_prod = apply_op("UnsortedSegmentProd", safe_data, safe_ids, n)
    g = _arr.gather(grad, safe_ids)
    zeros_here = _arr.gather(zeros, safe_ids)
    others = _math.where(
        is_zero,
        _arr.gather(nonzero_prod, safe_ids),
        _arr.gather(op.outputs[0], safe_ids) / safe_data,
    )
    others = _math.where(
        _math.greater(zeros_here, _arr.ones_like(zeros_here)), _arr.zeros_like(others), others
    )
    mask = _math.cast(_row_mask(valid, data), data.dtype)
    return [g * others * mask, None] + [None] * (len(op.inputs) - 2)


for _prefix in ("Segment", "UnsortedSegment"):
    register_gradient(f"{_prefix}Max")(_min_max_grad)
    register_gradient(f"{_prefix}Min")(_min_max_grad)
    register_gradient(f"{_prefix}Prod")(_prod_grad)


def _sorted_fn(kind, doc):
    def fn(data, segment_ids, name=None):
        return apply_op(f"Segment{kind}", data, segment_ids, name=name)

    fn.__doc__ = doc
    return fn


def _unsorted_fn(kind, doc):
    def fn(data, segment_ids, num_segments, name=None):
        return apply_op(
            f"UnsortedSegment{kind}",
            data,
            segment_ids,
            _arr.convert_to_tensor(num_segments),
            name=name,
        )

    fn.__doc__ = doc
    return fn


segment_max = _sorted_fn("Max", "Maxima over sorted ``segment_ids`` (0 for empty segments).")
segment_min = _sorted_fn("Min", "Minima over sorted ``segment_ids`` (0 for empty segments).")
segment_prod = _sorted_fn("Prod", "Products over sorted ``segment_ids`` (1 when empty).")
unsorted_segment_max = _unsorted_fn(
    "Max", "Maxima over ``segment_ids`` (the dtype's lowest finite value when empty)."
)
unsorted_segment_min = _unsorted_fn(
    "Min", "Minima over ``segment_ids`` (the dtype's highest finite value when empty)."
)
unsorted_segment_prod = _unsorted_fn("Prod", "Products over ``segment_ids`` (1 when empty).")


def segment_mean(data, segment_ids, name=None):
    """Means over sorted ``segment_ids`` (0 for empty segments)."""
    data = _arr.convert_to_tensor(data)
    total = segment_sum(data, segment_ids)
    count = segment_sum(_arr.ones_like(data), segment_ids)
    count = _math.maximum(count, _arr.ones_like(count))
    if data.dtype.is_integer:  # TF's kernel divides in the data's dtype (truncating)
        return truncatediv(total, count, name=name)
    return _math.truediv(total, count, name=name)


def _unsorted_count(data, segment_ids, num_segments):
    safe_ids, valid = _clipped(_arr.convert_to_tensor(segment_ids))
    ones = _math.cast(_row_mask(valid, data), data.dtype)
    count = unsorted_segment_sum(ones, safe_ids, num_segments)
    return _math.maximum(count, _arr.ones_like(count))


def _masked_sum(data, segment_ids, num_segments):
    safe_ids, valid = _clipped(_arr.convert_to_tensor(segment_ids))
    kept = data * _math.cast(_row_mask(valid, data), data.dtype)
    return unsorted_segment_sum(kept, safe_ids, num_segments)


def unsorted_segment_mean(data, segment_ids, num_segments, name=None):
    """Means over ``segment_ids`` (0 for empty segments; negative ids dropped)."""
    data = _arr.convert_to_tensor(data)
    return _math.truediv(
        _masked_sum(data, segment_ids, num_segments),
        _unsorted_count(data, segment_ids, num_segments),
        name=name,
    )


def unsorted_segment_sqrt_n(data, segment_ids, num_segments, name=None):
    """Sums over ``segment_ids`` divided by sqrt(count) (0 for empty segments)."""
    data = _arr.convert_to_tensor(data)
    return _math.truediv(
        _masked_sum(data, segment_ids, num_segments),
        _math.sqrt(_unsorted_count(data, segment_ids, num_segments)),
        name=name,
    )
