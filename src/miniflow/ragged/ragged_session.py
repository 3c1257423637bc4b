"""`Session.run` support for RaggedTensor: fetching one gives a `RaggedTensorValue`,
and `tf.ragged.placeholder` builds one that is fed with a `RaggedTensorValue` (the
session's registered composite types, as for `SparseTensor`)."""

from __future__ import annotations

from miniflow import dtypes
from miniflow.core.shapes import TensorShape
from miniflow.graph.session import register_feed_type, register_fetch_type
from miniflow.ops import array_ops, control_flow_ops
from miniflow.ragged.ragged_tensor import RaggedTensor
from miniflow.ragged.ragged_value import RaggedTensorValue


def _feed_ragged(key, value):
    if isinstance(value, RaggedTensor):
        raise TypeError(
            "Cannot feed a RaggedTensor symbolic value; feed a "
            "tf.ragged.RaggedTensorValue (e.g. tf.ragged.constant_value(...))"
        )
    if not isinstance(value, RaggedTensorValue):
        raise TypeError(
            f"A RaggedTensor is fed with a tf.ragged.RaggedTensorValue, got {type(value).__name__}"
        )
    if value.ragged_rank != key.ragged_rank:
        raise ValueError(
            f"Cannot feed a value of ragged_rank {value.ragged_rank} to a "
            f"RaggedTensor of ragged_rank {key.ragged_rank}"
        )
    return [(key.flat_values, value.flat_values)] + list(
        zip(key.nested_row_splits, value.nested_row_splits)
    )


register_fetch_type(
    RaggedTensor,
    lambda rt: [rt.flat_values, *rt.nested_row_splits],
    lambda v: RaggedTensorValue.from_nested(v[0], v[1:]),
)
register_feed_type(RaggedTensor, _feed_ragged)


def placeholder(dtype, ragged_rank, value_shape=None, name=None):
    """A RaggedTensor to feed with a `RaggedTensorValue`.
    ``tf.ragged.placeholder(dtype, ragged_rank, value_shape=None, name=None)``"""
    if ragged_rank < 1:
        raise ValueError(f"ragged_rank must be at least 1, got {ragged_rank}")
    inner = [] if value_shape is None else TensorShape(value_shape).as_list()
    with control_flow_ops.name_scope(name, "RaggedPlaceholder"):
        flat = array_ops.placeholder(dtype, [None] + inner, name="flat_values")
        splits = [
            array_ops.placeholder(dtypes.int64, [None], name=f"row_splits_{i}")
            for i in range(ragged_rank)
        ]
        result = flat
        for s in reversed(splits):
            result = RaggedTensor(result, s, internal=True)
        return result
