"""Embedding lookups (`tf.nn.embedding_lookup`, also over a list of partitioned tables)
and the `DynamicPartition` / `DynamicStitch` ops they are built from. Gradients reach
variables as `IndexedSlices`."""

from __future__ import annotations

import numpy as np

from miniflow import dtypes, errors
from miniflow.core.dispatch import apply_op
from miniflow.core.registry import register_gradient, register_op
from miniflow.ops import array_ops as _arr, math_ops as _math
from miniflow.ops.shape_rules import dims

# ---------------------------------------------------------------------------------------
# Partitioning and stitching (used by embedding lookups over partitioned tables).


def _partition_infer(inputs, attrs):
    d, p = dims(inputs[0]), dims(inputs[1])
    rest = None if d is None or p is None else (None,) + d[len(p) :]
    return [(rest, inputs[0].dtype)] * attrs["num_partitions"]


@register_op("DynamicPartition", infer=_partition_infer, num_outputs=lambda a: a["num_partitions"])
def _dynamic_partition(data, partitions, num_partitions=1):
    p = np.asarray(partitions)
    if p.size and (p.min() < 0 or p.max() >= num_partitions):
        raise errors.InvalidArgumentError(
            None,
            None,
            f"partitions must be in [0, {num_partitions}), got "
            f"{p[(p < 0) | (p >= num_partitions)].reshape(-1)[0]}",
        )
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
    rest = None if d0 is None or i0 is None else (None,) + d0[len(i0) :]
    return [(rest, data[0].dtype)]


@register_op("DynamicStitch", infer=_stitch_infer)
def _dynamic_stitch(*args):
    n = len(args) // 2
    idx = [np.asarray(i).reshape(-1) for i in args[:n]]
    data = [np.asarray(d) for d in args[n:]]
    rows = data[0].shape[np.ndim(args[0]) :]
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
    return list(
        apply_op(
            "DynamicPartition", data, partitions, num_partitions=int(num_partitions), name=name
        )
    )


def dynamic_stitch(indices, data, name=None):
    """Interleaves the ``data`` tensors into one: row indices[i][j] is data[i][j]."""
    indices, data = list(indices), list(data)
    if len(indices) != len(data):
        raise ValueError(
            f"indices and data must have the same length, got {len(indices)} and {len(data)}"
        )
    return apply_op("DynamicStitch", *indices, *data, name=name)


# ---------------------------------------------------------------------------------------
# Embeddings.


def embedding_lookup(
    params, ids, partition_strategy="mod", name=None, validate_indices=True, max_norm=None
):
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
        sizes = [
            int(_arr.convert_to_tensor(p).shape[0] if not hasattr(p, "shape") else p.shape[0])
            for p in params
        ]
        total = sum(sizes)
        per, extra = total // n, total % n
        big = extra * (per + 1)  # the first `extra` partitions hold one more row
        flat_c = _arr.cast(flat, dtypes.int64)
        part = _math.where(
            flat_c < big,
            _math.floordiv(flat_c, per + 1),
            extra + _math.floordiv(flat_c - big, max(per, 1)),
        )
        local = _math.where(
            flat_c < big, _math.floormod(flat_c, per + 1), _math.floormod(flat_c - big, max(per, 1))
        )
        local = _arr.cast(local, flat.dtype)
    part = _arr.cast(part, dtypes.int32)
    positions = _arr.range(_arr.size(flat))
    pos_parts = dynamic_partition(positions, part, n)
    id_parts = dynamic_partition(local, part, n)
    rows = [_arr.gather(p, i) for p, i in zip(params, id_parts)]
    stitched = dynamic_stitch(pos_parts, rows)
    row_shape = dims(rows[0])
    row_shape = row_shape[1:] if row_shape is not None else (None,)
    ids_shape = dims(ids)
    if ids_shape is not None and None not in ids_shape and None not in row_shape:
        return _arr.reshape(stitched, list(ids_shape) + list(row_shape), name=name)
    return _arr.reshape(
        stitched, _arr.concat([_arr.shape(ids), _arr.shape(stitched)[1:]], 0), name=name
    )


def _clip_rows(x, max_norm):
    norm = _math.sqrt(_math.reduce_sum(_math.square(x), axis=-1, keepdims=True))
    return x * _math.minimum(1.0, max_norm / _math.maximum(norm, 1e-12))
