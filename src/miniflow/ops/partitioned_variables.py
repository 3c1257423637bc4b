"""Partitioned variables: the partitioner functions that decide how many pieces a
variable is cut into along one axis (`tf.fixed_size_partitioner`,
`tf.min_max_variable_partitioner`, `tf.variable_axis_size_partitioner`), and
`tf.create_partitioned_variables`, which makes the pieces as separate variables.

``tf.get_variable(partitioner=...)``, or any ``get_variable`` in a
``variable_scope(partitioner=...)``, returns a `PartitionedVariable` of such pieces in
graph mode (`ops/partitioned_variable.py`), so ``replica_device_setter`` can spread them
over ps tasks; a Saver writes their whole under the variable's name, as TF.
"""

from __future__ import annotations

import math

import numpy as np

from miniflow import dtypes
from miniflow.core.shapes import TensorShape
from miniflow.ops import variable_scope as _vs


def _element_size(dtype, bytes_per_string_element):
    dtype = dtypes.as_dtype(dtype)
    return bytes_per_string_element if dtype == dtypes.string else dtype.np.itemsize


def fixed_size_partitioner(num_shards, axis=0):
    """A partitioner cutting ``axis`` into ``num_shards`` pieces (fewer if it is shorter)."""

    def _partitioner(shape, **unused_args):
        shape = TensorShape(shape)
        partitions = [1] * shape.ndims
        partitions[axis] = min(num_shards, shape.as_list()[axis])
        return partitions

    return _partitioner


def min_max_variable_partitioner(
    max_partitions=1, axis=0, min_slice_size=256 << 10, bytes_per_string_element=16
):
    """A partitioner making pieces of at least ``min_slice_size`` bytes, at most
    ``max_partitions`` of them."""

    def _partitioner(shape, dtype):
        shape = TensorShape(shape)
        if axis >= shape.ndims:
            raise ValueError(
                f"Can not partition on axis {axis} of a variable of rank {shape.ndims}"
            )
        total = shape.num_elements() * _element_size(dtype, bytes_per_string_element)
        partitions = [1] * shape.ndims
        partitions[axis] = max(
            1, min(shape.as_list()[axis], max_partitions, int(math.ceil(total / min_slice_size)))
        )
        return partitions

    return _partitioner


def variable_axis_size_partitioner(
    max_shard_bytes, axis=0, bytes_per_string_element=16, max_shards=None
):
    """A partitioner making pieces of at most ``max_shard_bytes`` bytes (at least one
    slice of ``axis`` each), at most ``max_shards`` of them.

    Raises:
        ValueError: max_shard_bytes < 1, or the shape is not fully defined.
    """
    if max_shard_bytes < 1 or bytes_per_string_element < 1:
        raise ValueError("Both max_shard_bytes and bytes_per_string_element must be positive.")
    if max_shards and max_shards < 1:
        raise ValueError("max_shards must be positive.")

    def _partitioner(shape, dtype):
        shape = TensorShape(shape)
        if not shape.is_fully_defined():
            raise ValueError(f"shape is not fully defined: {shape}")
        dims = shape.as_list()
        per_slice = (
            shape.num_elements() / dims[axis] * _element_size(dtype, bytes_per_string_element)
        )
        slices_per_shard = max(1, math.floor(max_shard_bytes / per_slice))
        shards = int(math.ceil(dims[axis] / slices_per_shard))
        if max_shards:
            shards = min(max_shards, shards)
        partitions = [1] * len(dims)
        partitions[axis] = shards
        return partitions

    return _partitioner


def _piece_shapes(shape, slicing):
    axes = [i for i, n in enumerate(slicing) if n > 1]
    if len(axes) > 1:
        raise ValueError(f"Can only slice a variable along one dimension: slicing {slicing}")
    if len(slicing) != len(shape):
        raise ValueError(f"slicing {slicing} must have one entry per dimension of shape {shape}")
    if not axes:
        return 0, [list(shape)]
    axis = axes[0]
    n = slicing[axis]
    if n > shape[axis]:
        raise ValueError(f"Cannot create {n} slices for size {shape[axis]}")
    base, extra = divmod(shape[axis], n)
    return axis, [
        [base + (1 if i < extra else 0) if d == axis else s for d, s in enumerate(shape)]
        for i in range(n)
    ]


def create_partitioned_variables(
    shape,
    slicing,
    initializer,
    dtype=dtypes.float32,
    trainable=True,
    collections=None,
    name=None,
    reuse=None,
):
    """The pieces of a variable of ``shape`` cut as ``slicing`` says, as variables
    ``name/part_0``, ``name/part_1``, ... (the first pieces take the remainder).

    Raises:
        ValueError: slicing cuts more than one axis or does not match shape.
    """
    shape = TensorShape(shape).as_list()
    axis, pieces = _piece_shapes(shape, list(slicing))
    whole = None if callable(initializer) else np.asarray(initializer)
    out, start = [], 0
    with _vs.variable_scope(name, default_name="PartitionedVariable", reuse=reuse):
        for i, piece in enumerate(pieces):
            init = initializer
            if whole is not None:
                index = [slice(None)] * len(shape)
                index[axis] = slice(start, start + piece[axis])
                init = whole[tuple(index)]
            out.append(
                _vs.get_variable(
                    f"part_{i}",
                    piece if whole is None else None,
                    dtype=dtype,
                    initializer=init,
                    trainable=trainable,
                    collections=collections,
                )
            )
            start += piece[axis]
    return out
