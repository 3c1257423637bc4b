"""Building ragged tensors: `tf.ragged.constant` / `constant_value` (from nested Python
lists), `tf.ragged.range`, `tf.ragged.stack_dynamic_partitions`, `tf.ragged.cross` /
`cross_hashed`, and the type spec `tf.RaggedTensorSpec`."""

from __future__ import annotations

import numpy as np

from miniflow import dtypes
from miniflow.core.shapes import TensorShape
from miniflow.graph.operation import Tensor
from miniflow.ops import array_ops, check_ops, control_flow_ops, math_ops, ragged_array_ops as rp
from miniflow.ops.composite_math_ops import bincount
from miniflow.ops.sort_ops import argsort
from miniflow.ops.sparse_cross_ops import sparse_cross, sparse_cross_hashed
from miniflow.ops.sparse_ops import SparseTensor
from miniflow.ops.type_spec import TypeSpec, _shape_key
from miniflow.ragged.ragged_ops import _is_ragged, _to_ragged
from miniflow.ragged.ragged_tensor import RaggedTensor, RaggedTensorValue

# ---------------------------------------------------------------------------------------
# constant / constant_value: nested lists -> flat values + nested splits.


def _depth(x) -> int | None:
    """Nesting depth of the scalars in ``x`` (None for a nest of empty lists)."""
    if not isinstance(x, list | tuple):
        return 0
    depths = {d for d in (_depth(v) for v in x) if d is not None}
    if len(depths) > 1:
        raise ValueError("all scalar values must have the same nesting depth")
    return depths.pop() + 1 if depths else None


def _parse(pylist, ragged_rank, inner_shape):
    """``(flat_items, inner_shape, [splits, ...])`` of a nested list."""
    depth = _depth(pylist)
    if inner_shape is not None:
        inner_shape = tuple(TensorShape(inner_shape).as_list())
    if depth is None:  # only empty lists: as deep as the deepest list
        depth, probe = 1, pylist
        while probe and all(isinstance(v, list | tuple) for v in probe):
            depth += 1
            probe = [w for v in probe for w in v]
    if ragged_rank is None:
        inner = len(inner_shape) if inner_shape is not None else 0
        ragged_rank = max(depth - 1 - inner, 0 if depth == 0 else 1)
    if depth and ragged_rank >= depth:
        raise ValueError(
            f"A ragged_rank >= {depth} is not consistent with the nesting depth {depth} of pylist"
        )
    level, nested = list(pylist) if depth else pylist, []
    for _ in range(ragged_rank):
        splits, flat = [0], []
        for row in level:
            if not isinstance(row, list | tuple):
                raise ValueError("pylist has scalar values at a ragged dimension")
            flat.extend(row)
            splits.append(len(flat))
        nested.append(np.array(splits, np.int64))
        level = flat
    return level, inner_shape, nested, depth - ragged_rank - 1 if depth else 0


def _flat_array(items, dtype, inner_shape, inner_rank):
    """The flat values as a NumPy array (uniform inner shape checked)."""
    np_dtype = None if dtype is None else dtypes.as_dtype(dtype).np
    if not items:
        inner = tuple(inner_shape) if inner_shape is not None else (0,) * inner_rank
        return np.zeros((0,) + inner, np_dtype or np.float32)
    try:
        arr = np.array(items, dtype=np_dtype)
    except ValueError:
        arr = None
    if arr is None or (
        arr.dtype == object and any(isinstance(v, list | tuple) for v in arr.reshape(-1))
    ):
        raise ValueError(
            "inner values of pylist must have a uniform shape (pass a "
            "smaller ragged_rank or fix the nested lists)"
        )
    if inner_shape is not None and arr.shape[1:] != tuple(inner_shape):
        if arr.ndim != 1:
            raise ValueError(
                f"inner values have shape {arr.shape[1:]}, expected "
                f"inner_shape {tuple(inner_shape)}"
            )
        arr = np.broadcast_to(
            arr.reshape((-1,) + (1,) * len(inner_shape)), (arr.shape[0],) + tuple(inner_shape)
        )
    return arr


def constant(
    pylist, dtype=None, ragged_rank=None, inner_shape=None, name=None, row_splits_dtype=dtypes.int64
):
    """A constant RaggedTensor from a nested Python list (a dense tensor for a scalar).
    ``tf.ragged.constant(pylist, dtype=None, ragged_rank=None, inner_shape=None,
    name=None, row_splits_dtype=tf.int64)``"""
    if isinstance(pylist, RaggedTensorValue):
        pylist = pylist.to_list()
    with control_flow_ops.name_scope(name, "RaggedConstant"):
        items, inner_shape, nested, inner_rank = _parse(pylist, ragged_rank, inner_shape)
        if not nested:
            return array_ops.constant(pylist, dtype=dtype)
        arr = _flat_array(items, dtype, inner_shape, inner_rank)  # checks the shape
        # Python scalars take TF's dtypes (int32, float32), not NumPy's
        values = array_ops.constant(
            items if items and arr.ndim == 1 + inner_rank else arr, dtype=dtype, name="values"
        )
        sdtype = dtypes.as_dtype(row_splits_dtype)
        result = values
        for splits in reversed(nested):
            result = RaggedTensor(
                result, array_ops.constant(splits.astype(sdtype.np)), internal=True
            )
        return result


def constant_value(
    pylist, dtype=None, ragged_rank=None, inner_shape=None, row_splits_dtype="int64"
):
    """A `RaggedTensorValue` (NumPy arrays) from a nested Python list.
    ``tf.ragged.constant_value(pylist, dtype=None, ragged_rank=None, inner_shape=None,
    row_splits_dtype='int64')``"""
    items, inner_shape, nested, inner_rank = _parse(pylist, ragged_rank, inner_shape)
    values = _flat_array(items, dtype, inner_shape, inner_rank)
    if not nested:
        return values
    sdtype = np.dtype(dtypes.as_dtype(row_splits_dtype).np)
    return RaggedTensorValue.from_nested(values, [s.astype(sdtype) for s in nested])


# ---------------------------------------------------------------------------------------
# range, stack_dynamic_partitions, cross.


def ragged_range(
    starts, limits=None, deltas=1, dtype=None, name=None, row_splits_dtype=dtypes.int64
):
    """Row ``i`` is ``range(starts[i], limits[i], deltas[i])`` (scalars broadcast).
    ``tf.ragged.range(starts, limits=None, deltas=1, dtype=None, name=None,
    row_splits_dtype=tf.int64)``"""
    if limits is None:
        starts, limits = 0, starts
    with control_flow_ops.name_scope(name, "RaggedRange"):
        parts = [array_ops.convert_to_tensor(v, dtype=dtype) for v in (starts, limits, deltas)]
        if dtype is None:
            order = [dtypes.int32, dtypes.int64, dtypes.float32, dtypes.float64]
            target = max((p.dtype for p in parts), key=order.index)
            parts = [math_ops.cast(p, target) for p in parts]
        splits, values = rp.ragged_range_splits(*parts, splits_dtype=row_splits_dtype)
        return RaggedTensor(values, splits, internal=True)


def stack_dynamic_partitions(data, partitions, num_partitions, name=None):
    """Row ``p`` holds the entries of ``data`` whose partition is ``p``, in order.
    ``tf.ragged.stack_dynamic_partitions(data, partitions, num_partitions, name=None)``"""
    with control_flow_ops.name_scope(name, "SegmentStack"):
        data = array_ops.convert_to_tensor(data)
        partitions = math_ops.cast(array_ops.convert_to_tensor(partitions), dtypes.int64)
        checks = [
            check_ops.assert_non_negative(partitions, message="partitions must be non-negative"),
            check_ops.assert_less(
                partitions,
                math_ops.cast(num_partitions, dtypes.int64),
                message="partitions must be less than num_partitions",
            ),
        ]
        with control_flow_ops.control_dependencies([c for c in checks if c is not None]):
            partitions = array_ops.identity(partitions)
        order = argsort(partitions, stable=True)
        lengths = bincount(
            math_ops.cast(partitions, dtypes.int32),
            minlength=num_partitions,
            maxlength=num_partitions,
            dtype=dtypes.int64,
        )
        return RaggedTensor.from_row_lengths(array_ops.gather(data, order), lengths, validate=False)


def _cross_inputs(inputs):
    if not isinstance(inputs, list | tuple) or not inputs:
        raise TypeError(
            "inputs must be a non-empty list of RaggedTensors, SparseTensors or Tensors"
        )
    out = []
    for x in inputs:
        if isinstance(x, SparseTensor):
            out.append(x)
            continue
        rt = _to_ragged(x if _is_ragged(x) else array_ops.convert_to_tensor(x))
        if rt.ragged_rank != 1 or rt.shape.ndims != 2:
            raise ValueError("ragged.cross inputs must have rank 2")
        out.append(rt.to_sparse())
    return out


def cross(inputs, name=None):
    """Per row, every combination of one feature from each input, joined with "_X_".
    ``tf.ragged.cross(inputs, name=None)``"""
    with control_flow_ops.name_scope(name, "RaggedCross"):
        return RaggedTensor.from_sparse(sparse_cross(_cross_inputs(inputs)))


def cross_hashed(inputs, num_buckets=0, hash_key=None, name=None):
    """Like `cross`, each combination fingerprinted (mod ``num_buckets`` if > 0).
    ``tf.ragged.cross_hashed(inputs, num_buckets=0, hash_key=None, name=None)``"""
    with control_flow_ops.name_scope(name, "RaggedCross"):
        return RaggedTensor.from_sparse(
            sparse_cross_hashed(_cross_inputs(inputs), num_buckets=num_buckets, hash_key=hash_key)
        )


# ---------------------------------------------------------------------------------------
# RaggedTensorSpec.


class RaggedTensorSpec(TypeSpec):
    """``RaggedTensorSpec(shape=None, dtype=tf.float32, ragged_rank=None,
    row_splits_dtype=tf.int64, flat_values_spec=None)``: the type of a RaggedTensor."""

    def __init__(
        self,
        shape=None,
        dtype=dtypes.float32,
        ragged_rank=None,
        row_splits_dtype=dtypes.int64,
        flat_values_spec=None,
    ):
        self._shape = TensorShape(shape)
        self._dtype = dtypes.as_dtype(dtype if flat_values_spec is None else flat_values_spec.dtype)
        self._row_splits_dtype = dtypes.as_dtype(row_splits_dtype)
        self._flat_values_spec = flat_values_spec
        rank = self._shape.ndims
        if ragged_rank is None:
            if rank is None:
                raise ValueError("Must specify ragged_rank or a shape with a known rank.")
            ragged_rank = rank - 1
        if not isinstance(ragged_rank, int) or ragged_rank < 0:
            raise TypeError(f"ragged_rank must be a non-negative int, got {ragged_rank!r}")
        if rank is not None and ragged_rank >= rank:
            raise ValueError(
                f"ragged_rank must be less than rank, got ragged_rank={ragged_rank} and rank={rank}"
            )
        self._ragged_rank = ragged_rank

    shape = property(lambda self: self._shape)
    dtype = property(lambda self: self._dtype)
    ragged_rank = property(lambda self: self._ragged_rank)
    row_splits_dtype = property(lambda self: self._row_splits_dtype)
    flat_values_spec = property(lambda self: self._flat_values_spec)
    value_type = property(lambda self: RaggedTensor if self._ragged_rank else Tensor)

    @classmethod
    def from_value(cls, value):
        """The spec of a RaggedTensor (or RaggedTensorValue)."""
        if isinstance(value, RaggedTensorValue):
            return cls(value.shape, value.dtype, value.ragged_rank, value.row_splits.dtype)
        return cls(value.shape, value.dtype, value.ragged_rank, value.row_splits_dtype)

    def is_compatible_with(self, spec_or_value):
        other = (
            spec_or_value
            if isinstance(spec_or_value, RaggedTensorSpec)
            else RaggedTensorSpec.from_value(spec_or_value)
            if isinstance(spec_or_value, RaggedTensor | RaggedTensorValue)
            else None
        )
        return (
            other is not None
            and other._dtype == self._dtype
            and other._ragged_rank == self._ragged_rank
            and other._row_splits_dtype == self._row_splits_dtype
            and self._shape.is_compatible_with(other._shape)
        )

    def _fields(self):
        return (_shape_key(self._shape), self._dtype, self._ragged_rank, self._row_splits_dtype)

    def __repr__(self):
        dims_ = None if self._shape.ndims is None else self._shape.as_list()
        return (
            f"RaggedTensorSpec(TensorShape({dims_}), tf.{self._dtype.name}, "
            f"{self._ragged_rank}, tf.{self._row_splits_dtype.name})"
        )
