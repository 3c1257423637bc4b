"""Segment sums (`tf.math.unsorted_segment_sum`, `tf.math.segment_sum`) and
`tf.nn.embedding_lookup_sparse`, whose gradient stays an `IndexedSlices`, so optimizers
update only the looked-up rows.
"""

from __future__ import annotations

import numpy as np

from miniflow import dtypes, errors
from miniflow.core.dispatch import apply_op
from miniflow.core.registry import register_gradient, register_op
from miniflow.core.shapes import TensorShape
from miniflow.ops import array_ops, clip_ops, control_flow_ops, math_ops
from miniflow.ops.array_ops import _const_value
from miniflow.ops.shape_rules import dims
from miniflow.ops.sparse_tensor import _as_sparse

# ---------------------------------------------------------------------------------------
# Segment sums and embedding lookups.


def _segment_infer(inputs, attrs):
    d = dims(inputs[0])
    i = dims(inputs[1])
    if (
        d is not None
        and i is not None
        and not TensorShape(d[: len(i)]).is_compatible_with(TensorShape(i))
    ):
        raise ValueError(
            f"Dimensions must be equal, but are {d[: len(i)]} and {i} (data and segment_ids)"
        )
    n = _const_value(inputs[2])
    rows = None if n is None else int(n)
    return [(None if d is None else (rows,) + d[1:], inputs[0].dtype)]


@register_op("UnsortedSegmentSum", infer=_segment_infer)
def _unsorted_segment_sum(data, segment_ids, num_segments, is_sorted=False):
    """Rows with a negative id are dropped (TF); ``is_sorted`` (tf.segment_sum) also
    checks that the ids are sorted and non-negative, with TF's messages."""
    data = np.asarray(data)
    ids = np.asarray(segment_ids).reshape(-1)
    n = int(num_segments)
    if is_sorted and ids.size:
        n = max(n, 0)
        if np.any(ids[1:] < ids[:-1]):
            raise errors.InvalidArgumentError(None, None, "segment ids are not increasing")
        if ids[0] < 0:
            raise errors.InvalidArgumentError(
                None,
                None,
                f"Segment id {int(ids[0])} out of range [0, {n}), possibly "
                "because 'segment_ids' input is not sorted.",
            )
    elif is_sorted:
        n = 0
    if ids.size and ids.max() >= n:
        k = int(np.argmax(ids >= n))
        raise errors.InvalidArgumentError(
            None, None, f"segment_ids[{k}] = {int(ids[k])} is out of range [0, {n})"
        )
    rows = data.reshape((ids.size,) + data.shape[np.ndim(segment_ids) :])
    if ids.size and ids.min() < 0:
        keep = ids >= 0
        ids, rows = ids[keep], rows[keep]
    out = np.zeros((n,) + rows.shape[1:], dtype=data.dtype)
    np.add.at(out, ids, rows)
    return out


@register_gradient("UnsortedSegmentSum")
def _unsorted_segment_sum_grad(op, grad):
    """Gathers the output gradient back to the rows; rows with a negative id get 0."""
    ids = op.inputs[1]
    known = _const_value(ids)
    if (
        op.attrs.get("is_sorted")
        or op.attrs.get("_rows")
        or (  # no negative ids
            known is not None and (np.size(known) == 0 or np.min(known) >= 0)
        )
    ):
        return [array_ops.gather(grad, ids), None, None]
    mask = math_ops.cast(math_ops.greater_equal(ids, array_ops.zeros_like(ids)), grad.dtype)
    rows = array_ops.gather(grad, math_ops.maximum(ids, array_ops.zeros_like(ids)))
    d_rows, d_ids = dims(rows), dims(ids)
    if d_rows is not None and d_ids is not None:
        for _ in range(len(d_rows) - len(d_ids)):
            mask = array_ops.expand_dims(mask, -1)
    else:
        extra = array_ops.rank(rows) - array_ops.rank(ids)
        mask = array_ops.reshape(
            mask,
            array_ops.concat(
                [
                    array_ops.shape(ids),
                    array_ops.ones(array_ops.expand_dims(extra, 0), dtypes.int32),
                ],
                0,
            ),
        )
    return [rows * mask, None, None]


def unsorted_segment_sum(data, segment_ids, num_segments, name=None):
    """``out[i] = sum(data[j] for j where segment_ids[j] == i)`` for ``i < num_segments``
    (rows no id names are zero)."""
    return apply_op(
        "UnsortedSegmentSum",
        array_ops.convert_to_tensor(data),
        array_ops.convert_to_tensor(segment_ids),
        array_ops.convert_to_tensor(num_segments),
        name=name,
    )


def _rows_sum(data, rows, n):
    """unsorted_segment_sum over the row indices of a SparseTensor (never negative, so
    the gradient is a plain gather)."""
    return apply_op("UnsortedSegmentSum", data, rows, n, _rows=True)


def segment_sum(data, segment_ids, name=None):
    """Sums of ``data`` rows over sorted ``segment_ids``; ``max(segment_ids) + 1`` rows."""
    ids = array_ops.convert_to_tensor(segment_ids)
    n = math_ops.reduce_max(ids) + 1
    return apply_op(
        "UnsortedSegmentSum",
        array_ops.convert_to_tensor(data),
        ids,
        n,
        is_sorted=True,
        name=name or "SegmentSum",
    )


def _lookup(params, ids, max_norm=None):
    """Rows ``params[ids]`` (L2-clipped to ``max_norm``); the gradient with respect to
    ``params`` is an `IndexedSlices` over the looked-up rows. One partition only: a list
    of several partitioned tables is refused."""
    if isinstance(params, list | tuple):
        if len(params) != 1:
            raise NotImplementedError(
                "embedding_lookup_sparse over several partitioned "
                "params is not supported; concatenate them into one "
                "variable"
            )
        params = params[0]
    rows = array_ops.gather(params, ids)
    if max_norm is not None:
        rank = len(dims(rows)) if dims(rows) is not None else None
        if rank is None:
            raise ValueError(
                "embedding_lookup_sparse with max_norm needs the rank of params "
                "known when the graph is built"
            )
        rows = clip_ops.clip_by_norm(rows, max_norm, axes=list(range(1, rank)))
    return rows


def embedding_lookup_sparse(
    params, sp_ids, sp_weights, partition_strategy="mod", name=None, combiner=None, max_norm=None
):
    """Per row of the rank-2 ``sp_ids``, the combination of the embeddings of its ids.

    With weights w (``sp_weights.values``, or 1 when ``sp_weights`` is None) the row's
    result is ``sum(w * e)`` for ``combiner="sum"``, ``sum(w * e) / sum(w)`` for
    ``"mean"`` (the default) and ``sum(w * e) / sqrt(sum(w**2))`` for ``"sqrtn"``. The
    result has ``sp_ids.dense_shape[0]`` rows; rows without ids are zero. The gradient
    with respect to ``params`` is an `IndexedSlices` over the looked-up ids.

    Args:
        params: the embedding table, a tensor or variable [vocabulary, dim...] (or a
            one-element list of one; several partitions are not supported).
        sp_ids: a rank-2 SparseTensor of int64 ids, one row per output row.
        sp_weights: a SparseTensor of weights with the same indices, or None.
        partition_strategy: accepted for TF1 compatibility (one partition only).
        name: the ops' name scope.
        combiner: "sum", "mean" or "sqrtn".
        max_norm: if set, each looked-up embedding is L2-clipped to it first.

    Raises:
        ValueError: ``combiner`` is not one of "sum", "mean", "sqrtn".
        TypeError: ``sp_ids`` or ``sp_weights`` is not a SparseTensor.

    Example::

        emb = tf.nn.embedding_lookup_sparse(table, sp_ids, None, combiner="sum")
    """
    combiner = combiner or "mean"
    if combiner not in ("sum", "mean", "sqrtn"):
        raise ValueError("combiner must be one of 'mean', 'sqrtn' or 'sum'")
    sp_ids = _as_sparse(sp_ids, "sp_ids")
    if sp_weights is not None:
        sp_weights = _as_sparse(sp_weights, "sp_weights")
    with control_flow_ops.name_scope(name, "embedding_lookup_sparse"):
        segments = array_ops.gather(sp_ids.indices, 0, axis=1)
        n_rows = array_ops.gather(sp_ids.dense_shape, 0)
        emb = _lookup(params, sp_ids.values, max_norm=max_norm)
        if sp_weights is None:
            weights = array_ops.ones_like(sp_ids.values, dtype=emb.dtype)
        else:
            weights = array_ops.cast(sp_weights.values, emb.dtype)
        # One weight per looked-up row, broadcast across the embedding's dimensions.
        row_rank = len(dims(emb)) - 1 if dims(emb) is not None else 1
        w = array_ops.reshape(weights, [-1] + [1] * row_rank)
        summed = _rows_sum(emb * w, segments, n_rows)
        if combiner == "sum":
            return summed
        total = _rows_sum(weights if combiner == "mean" else weights * weights, segments, n_rows)
        # Empty rows: 0 / 0 would be NaN; divide them by 1 (their sum is 0).
        denom = array_ops.where(math_ops.equal(total, 0), array_ops.ones_like(total), total)
        if combiner == "sqrtn":
            denom = math_ops.sqrt(denom)
        return summed / array_ops.reshape(denom, [-1] + [1] * row_rank)
