"""`tf.nn.safe_embedding_lookup_sparse`: `embedding_lookup_sparse` after dropping invalid
ids (< 0) and non-positive weights, with empty rows given ``default_id``'s embedding (or
zeros). Composed from existing ops."""

from __future__ import annotations

from miniflow import dtypes
from miniflow.ops import array_ops as _arr, math_ops as _math
from miniflow.ops.shape_rules import dims


def _keep(sp, mask):
    from miniflow.ops.sparse_ops import SparseTensor

    idx = _arr.reshape(_arr.where(mask), [-1])
    return SparseTensor(_arr.gather(sp.indices, idx), _arr.gather(sp.values, idx), sp.dense_shape)


def safe_embedding_lookup_sparse(
    embedding_weights,
    sparse_ids,
    sparse_weights=None,
    combiner="mean",
    default_id=None,
    name=None,
    partition_strategy="div",
    max_norm=None,
):
    """Per row of the rank-2 SparseTensor ``sparse_ids``, the combined embeddings of its
    valid ids; rows left empty get ``default_id``'s embedding, or zeros."""
    from miniflow.ops.control_flow_ops import name_scope
    from miniflow.ops.embedding_ops import embedding_lookup
    from miniflow.ops.sparse_ops import (
        SparseTensor,
        _as_sparse,
        embedding_lookup_sparse,
        unsorted_segment_sum,
    )

    sparse_ids = _as_sparse(sparse_ids, "sparse_ids")
    shape = dims(sparse_ids.dense_shape)
    if shape is not None and shape[0] is not None and shape[0] != 2:
        raise ValueError("safe_embedding_lookup_sparse supports rank-2 sparse_ids only")
    with name_scope(name, "embedding_lookup"):
        ids = SparseTensor(
            sparse_ids.indices, _arr.cast(sparse_ids.values, dtypes.int64), sparse_ids.dense_shape
        )
        valid = _math.greater_equal(ids.values, _arr.zeros_like(ids.values))
        if sparse_weights is not None:
            sparse_weights = _as_sparse(sparse_weights, "sparse_weights")
            positive = _math.greater(sparse_weights.values, _arr.zeros_like(sparse_weights.values))
            valid = _math.logical_and(valid, positive)
            sparse_weights = _keep(sparse_weights, valid)
        ids = _keep(ids, valid)
        result = embedding_lookup_sparse(
            embedding_weights,
            ids,
            sparse_weights,
            partition_strategy=partition_strategy,
            combiner=combiner,
            max_norm=max_norm,
        )
        if default_id is None:
            return result
        n_rows = _arr.gather(ids.dense_shape, 0)
        rows = _arr.gather(ids.indices, 0, axis=1)
        count = unsorted_segment_sum(_arr.ones_like(rows, dtype=dtypes.int32), rows, n_rows)
        empty = _math.equal(count, 0)
        fill = embedding_lookup(
            embedding_weights, _arr.constant(int(default_id), dtypes.int64), max_norm=max_norm
        )
        row_rank = len(dims(result)) - 1 if dims(result) is not None else 1
        mask = _arr.reshape(empty, [-1] + [1] * row_rank)
        return _arr.where(
            _math.logical_and(mask, _arr.ones_like(result, dtype=dtypes.bool)),
            _arr.ones_like(result) * fill,
            result,
        )
