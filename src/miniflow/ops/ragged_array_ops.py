"""Kernels and row-partition helpers under `tf.RaggedTensor`: `RaggedRange` (many
ranges at once, the flat indices of a ragged gather or slice), `RaggedFillEmptyRows`
(`tf.ragged_fill_empty_rows`), and the compositions converting between row splits,
row lengths and value row ids (`tf.ragged.row_splits_to_segment_ids`, ...).

A row partition is described the TF way: ``row_splits`` (int64 by default) is
``[0, end_0, end_1, ...]``; row ``i`` holds ``values[splits[i]:splits[i+1]]``.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from miniflow import dtypes, errors
from miniflow.core.dispatch import apply_op
from miniflow.core.registry import not_differentiable, register_gradient, register_op
from miniflow.ops import array_ops, control_flow_ops, math_ops
from miniflow.ops.array_ops import gather
from miniflow.ops.gather_scatter_ops import scatter_nd
from miniflow.ops.manip_ops import repeat
from miniflow.ops.scan_ops import cumsum
from miniflow.ops.shape_rules import dims
from miniflow.ops.sparse_ops import unsorted_segment_sum


def _bad(msg):
    return errors.InvalidArgumentError(None, None, msg)


# ---------------------------------------------------------------------------------------
# RaggedRange: row i is range(starts[i], limits[i], deltas[i]).


def _range_infer(inputs, attrs):
    shapes = [dims(x) for x in inputs]
    rows = {d[0] for d in shapes if d is not None and len(d) == 1}
    if all(d == () for d in shapes):
        rows = {1}
    n = rows.pop() + 1 if len(rows) == 1 and None not in rows else None
    return [((n,), attrs["Tsplits"]), ((None,), inputs[0].dtype)]


@register_op("RaggedRange", num_outputs=2, infer=_range_infer)
def _ragged_range(starts, limits, deltas, Tsplits=dtypes.int64):  # noqa: N803  TF's attr
    starts, limits, deltas = (np.asarray(x) for x in (starts, limits, deltas))
    for name, x in (("starts", starts), ("limits", limits), ("deltas", deltas)):
        if x.ndim > 1:
            raise _bad(f"{name} must be a scalar or vector, got shape {x.shape}")
    s, l_, d = np.broadcast_arrays(
        np.atleast_1d(starts), np.atleast_1d(limits), np.atleast_1d(deltas)
    )
    if np.any(d == 0):
        raise _bad("Requires delta != 0")
    sizes = (
        np.maximum(np.ceil((l_ - s) / d), 0).astype(np.int64) if s.size else np.zeros(0, np.int64)
    )
    splits = np.concatenate([[0], np.cumsum(sizes)]).astype(dtypes.as_dtype(Tsplits).np)
    if not sizes.sum():
        return splits, np.zeros(0, starts.dtype)
    rows = np.repeat(np.arange(sizes.size), sizes)
    pos = np.arange(rows.size) - np.repeat(splits[:-1], sizes)
    return splits, (s[rows] + pos * d[rows]).astype(starts.dtype)


not_differentiable("RaggedRange")


def ragged_range_splits(starts, limits, deltas=1, splits_dtype=dtypes.int64, name=None):
    """``(row_splits, values)`` of the rows ``range(starts[i], limits[i], deltas[i])``."""
    starts = array_ops.convert_to_tensor(starts)
    limits = array_ops.convert_to_tensor(limits, dtype=starts.dtype)
    deltas = array_ops.convert_to_tensor(deltas, dtype=starts.dtype)
    return apply_op(
        "RaggedRange", starts, limits, deltas, Tsplits=dtypes.as_dtype(splits_dtype), name=name
    )


# ---------------------------------------------------------------------------------------
# Row partition conversions (compositions).


def row_lengths_from_splits(splits):
    """``splits[1:] - splits[:-1]``."""
    return splits[1:] - splits[:-1]


def splits_from_lengths(lengths, dtype=dtypes.int64):
    """``[0, cumsum(lengths)...]`` in ``dtype``."""
    lengths = math_ops.cast(array_ops.convert_to_tensor(lengths), dtype)
    zero = array_ops.zeros([1], dtype=dtype)
    return array_ops.concat([zero, cumsum(lengths)], 0)


def row_splits_to_segment_ids(splits, name=None, out_type=None):
    """The row of each value: ``[0, 2, 2, 5] -> [0, 0, 2, 2, 2]``.
    ``tf.ragged.row_splits_to_segment_ids(splits, name=None, out_type=None)``"""
    with control_flow_ops.name_scope(name, "RaggedSplitsToSegmentIds"):
        splits = array_ops.convert_to_tensor(splits, dtype_hint=dtypes.int64)
        if splits.dtype not in (dtypes.int32, dtypes.int64):
            raise ValueError(f"splits must be int32 or int64, got {splits.dtype.name}")
        if dims(splits) is not None and len(dims(splits)) != 1:
            raise ValueError(f"splits must be a vector, got shape {dims(splits)}")
        out_type = splits.dtype if out_type is None else dtypes.as_dtype(out_type)
        lengths = row_lengths_from_splits(math_ops.cast(splits, out_type))
        nrows = array_ops.shape(lengths, out_type=out_type)[0]
        return repeat(array_ops.range(nrows, dtype=out_type), lengths)


def segment_ids_to_row_splits(segment_ids, num_segments=None, out_type=None, name=None):
    """Row splits of sorted segment ids: ``[0, 0, 2, 2, 2] -> [0, 2, 2, 5]``.
    ``tf.ragged.segment_ids_to_row_splits(segment_ids, num_segments=None,
    out_type=None, name=None)``"""
    with control_flow_ops.name_scope(name, "SegmentIdsToRaggedSplits"):
        ids = array_ops.convert_to_tensor(segment_ids, dtype_hint=dtypes.int64)
        if ids.dtype not in (dtypes.int32, dtypes.int64):
            raise ValueError(f"segment_ids must be int32 or int64, got {ids.dtype.name}")
        out_type = ids.dtype if out_type is None else dtypes.as_dtype(out_type)
        if num_segments is None:
            last = array_ops.concat([array_ops.constant([-1], ids.dtype), ids], 0)[-1]
            num_segments = last + 1
        ones = array_ops.ones_like(ids, dtype=out_type)
        lengths = unsorted_segment_sum(ones, ids, math_ops.cast(num_segments, ids.dtype))
        return splits_from_lengths(lengths, out_type)


def flat_indices(splits, starts, limits):
    """``(indices, new_splits)``: the rows ``range(starts[i], limits[i])`` (indices into
    the values of a ragged tensor), with ``new_splits`` in the dtype of ``splits``."""
    new_splits, indices = ragged_range_splits(starts, limits, 1, splits.dtype)
    return indices, new_splits


def gather_rows(values, splits, indices):
    """Rows ``indices`` of the ragged rows ``(values, splits)``: ``(values, splits)``."""
    indices = math_ops.cast(array_ops.convert_to_tensor(indices), splits.dtype)
    return flat_indices(splits, gather(splits, indices), gather(splits, indices + 1))


# ---------------------------------------------------------------------------------------
# tf.ragged_fill_empty_rows: a default value in each empty row.


class RaggedFillEmptyRows(NamedTuple):
    output_value_rowids: object
    output_values: object
    empty_row_indicator: object
    reverse_index_map: object


class RaggedFillEmptyRowsGrad(NamedTuple):
    d_values: object
    d_default_value: object


def _fill_infer(inputs, attrs):
    return [
        ((None,), dtypes.int64),
        ((None,), inputs[1].dtype),
        ((None,), dtypes.bool),
        (dims(inputs[0]) or (None,), dtypes.int64),
    ]


@register_op("RaggedFillEmptyRows", num_outputs=4, infer=_fill_infer)
def _fill_empty_rows(value_rowids, values, nrows, default_value):
    rowids, values = np.asarray(value_rowids, np.int64), np.asarray(values)
    nrows, default = int(nrows), np.asarray(default_value, values.dtype)
    if values.ndim != 1 or rowids.shape != values.shape:
        raise _bad(
            f"values must be a vector matching value_rowids, got shapes "
            f"{values.shape} and {rowids.shape}"
        )
    if default.ndim:
        raise _bad(f"default_value must be a scalar, got shape {default.shape}")
    if rowids.size and (np.any(np.diff(rowids) < 0) or rowids[0] < 0 or rowids[-1] >= nrows):
        raise _bad(f"value_rowids must be sorted and in [0, {nrows}), got {rowids.tolist()}")
    empty = np.bincount(rowids, minlength=nrows)[:nrows] == 0
    fill = np.flatnonzero(empty)
    out_rowids = np.concatenate([rowids, fill])
    order = np.argsort(out_rowids, kind="stable")
    out_values = np.concatenate([values, np.full(fill.size, default, values.dtype)])[order]
    reverse = np.empty(order.size, np.int64)
    reverse[order] = np.arange(order.size)
    return out_rowids[order], out_values, empty, reverse[: rowids.size]


@register_gradient("RaggedFillEmptyRows", accepts_none=True)
def _fill_empty_rows_grad(op, g_rowids, g_values, g_empty, g_reverse):
    if g_values is None:
        return [None, None, None, None]
    d_values, d_default = ragged_fill_empty_rows_grad(op.outputs[3], g_values)
    return [None, d_values, None, d_default]


def ragged_fill_empty_rows(value_rowids, values, nrows, default_value, name=None):
    """Adds ``default_value`` to each empty row of a ragged tensor given by value row ids.
    ``tf.ragged_fill_empty_rows(value_rowids, values, nrows, default_value, name=None)``"""
    values = array_ops.convert_to_tensor(values)
    return RaggedFillEmptyRows(
        *apply_op(
            "RaggedFillEmptyRows",
            array_ops.convert_to_tensor(value_rowids, dtype=dtypes.int64),
            values,
            array_ops.convert_to_tensor(nrows, dtype=dtypes.int64),
            array_ops.convert_to_tensor(default_value, dtype=values.dtype),
            name=name,
        )
    )


def ragged_fill_empty_rows_grad(reverse_index_map, grad_values, name=None):
    """The gradients of `ragged_fill_empty_rows` for values and default value.
    ``tf.ragged_fill_empty_rows_grad(reverse_index_map, grad_values, name=None)``"""
    with control_flow_ops.name_scope(name, "RaggedFillEmptyRowsGrad"):
        grad_values = array_ops.convert_to_tensor(grad_values)
        d_values = gather(grad_values, reverse_index_map)
        kept = scatter_nd(
            array_ops.expand_dims(reverse_index_map, 1),
            array_ops.ones_like(d_values),
            array_ops.shape(grad_values),
        )
        d_default = math_ops.reduce_sum(grad_values * (1 - kept))
        return RaggedFillEmptyRowsGrad(d_values, d_default)
