"""`tf.io.serialize_sparse`, `serialize_many_sparse` and `deserialize_many_sparse`: a
SparseTensor as serialized ``TensorProto`` strings (indices, values, dense_shape), the same
bytes TF writes, so minibatches of sparse data can travel as strings.
"""

from __future__ import annotations

import numpy as np

from miniflow import dtypes, errors
from miniflow.core import protobuf_wire as wire
from miniflow.core.dispatch import apply_op
from miniflow.core.registry import not_differentiable, register_op
from miniflow.ops.parsing_ops import parse_tensor_proto, tensor_proto_bytes
from miniflow.ops.shape_rules import dims
from miniflow.ops.sparse_ops import SparseTensor, SparseTensorValue
from miniflow.ops.string_ops import as_bytes_array


def _triple(indices, values, shape) -> list[bytes]:
    return [
        tensor_proto_bytes(np.asarray(indices, np.int64)),
        tensor_proto_bytes(values),
        tensor_proto_bytes(np.asarray(shape, np.int64)),
    ]


@register_op("SerializeSparse", infer=lambda i, a: [((3,), dtypes.string)])
def _serialize_sparse(indices, values, shape):
    return np.array(_triple(indices, values, shape), dtype=object)


@register_op("SerializeManySparse", infer=lambda i, a: [((None, 3), dtypes.string)])
def _serialize_many_sparse(indices, values, shape):
    indices, values, shape = np.asarray(indices), np.asarray(values), np.asarray(shape)
    if shape.size < 2:
        raise errors.InvalidArgumentError(
            None, None, "SerializeManySparse needs a SparseTensor of rank >= 2"
        )
    out = np.empty((int(shape[0]), 3), dtype=object)
    for row in range(int(shape[0])):
        mine = indices[:, 0] == row
        out[row] = _triple(
            indices[mine][:, 1:].reshape(-1, shape.size - 1), values[mine], shape[1:]
        )
    return out


def _parse(data: bytes, what: str, row: int) -> np.ndarray:
    try:
        return parse_tensor_proto(data)
    except (wire.DecodeError, ValueError, OverflowError) as e:
        raise errors.InvalidArgumentError(
            None, None, f"Could not parse serialized_sparse[{row}, {what}]: {e}"
        ) from None


@register_op(
    "DeserializeManySparse",
    num_outputs=3,
    infer=lambda i, a: [
        ((None, a["rank"]), dtypes.int64),
        ((None,), dtypes.as_dtype(a["dtype"])),
        ((a["rank"],), dtypes.int64),
    ],
)
def _deserialize_many_sparse(serialized, dtype, rank=None):
    data = as_bytes_array(serialized)
    if data.ndim != 2 or data.shape[1] != 3:
        raise errors.InvalidArgumentError(
            None, None, f"Serialized sparse should be a matrix [N, 3], got shape {list(data.shape)}"
        )
    want = np.dtype(object if dtype == "string" else dtypes.as_dtype(dtype).np)
    all_idx, all_val, inner = [], [], None
    for row in range(data.shape[0]):
        idx, val, shp = (
            _parse(data[row, k], w, row) for k, w in enumerate(("indices", "values", "shape"))
        )
        if val.dtype != want:
            raise errors.InvalidArgumentError(
                None,
                None,
                f"Requested SparseTensor of type "
                f"{dtype} but SparseTensor[{row}].values.dtype() "
                f"== {val.dtype}",
            )
        if idx.ndim != 2 or shp.ndim != 1 or idx.shape[1] != shp.size or len(idx) != len(val):
            raise errors.InvalidArgumentError(
                None,
                None,
                f"SparseTensor[{row}] is malformed: "
                f"indices {list(idx.shape)}, values "
                f"{list(val.shape)}, shape {list(shp.shape)}",
            )
        if inner is not None and shp.size != inner.size:
            raise errors.InvalidArgumentError(
                None, None, f"Inconsistent rank across SparseTensors: row {row}"
            )
        inner = shp if inner is None else np.maximum(inner, shp)
        all_idx.append(np.concatenate([np.full((len(idx), 1), row, np.int64), idx], axis=1))
        all_val.append(val)
    if inner is None:
        inner = np.zeros(max((rank or 1) - 1, 0), np.int64)
    indices = np.concatenate(all_idx) if all_idx else np.zeros((0, inner.size + 1), np.int64)
    values = np.concatenate(all_val) if all_val else np.zeros(0, want)
    return (
        indices.astype(np.int64),
        values,
        np.concatenate([[data.shape[0]], inner]).astype(np.int64),
    )


not_differentiable("SerializeSparse", "SerializeManySparse", "DeserializeManySparse")


def _sparse(sp_input):
    if isinstance(sp_input, SparseTensorValue):
        return SparseTensor.from_value(sp_input)
    if not isinstance(sp_input, SparseTensor):
        raise TypeError(f"Expected a SparseTensor, got {type(sp_input).__name__}")
    return sp_input


def _check_out_type(out_type):
    if dtypes.as_dtype(out_type) != dtypes.string:
        raise errors.UnimplementedError(
            None,
            None,
            "serialize_sparse: only out_type=tf.string "
            "is supported (miniflow has no variant tensors)",
        )


def serialize_sparse(sp_input, name=None, out_type=dtypes.string):
    """A SparseTensor as a 3-vector of serialized TensorProtos (indices, values, shape).
    ``tf.io.serialize_sparse(sp_input, name=None, out_type=tf.string)``"""
    _check_out_type(out_type)
    sp = _sparse(sp_input)
    return apply_op("SerializeSparse", sp.indices, sp.values, sp.dense_shape, name=name)


def serialize_many_sparse(sp_input, name=None, out_type=dtypes.string):
    """Each row (along the first axis) of a SparseTensor serialized as by
    `serialize_sparse`: an [N, 3] string matrix.
    ``tf.io.serialize_many_sparse(sp_input, name=None, out_type=tf.string)``"""
    _check_out_type(out_type)
    sp = _sparse(sp_input)
    return apply_op("SerializeManySparse", sp.indices, sp.values, sp.dense_shape, name=name)


def deserialize_many_sparse(serialized_sparse, dtype, rank=None, name=None):
    """The SparseTensor whose rows an [N, 3] `serialize_many_sparse` matrix holds; each
    dimension of the result is the largest of the rows'.
    ``tf.io.deserialize_many_sparse(serialized_sparse, dtype, rank=None, name=None)``"""
    d = dims(serialized_sparse) if hasattr(serialized_sparse, "shape") else None
    if d is not None and (len(d) != 2 or d[1] not in (None, 3)):
        raise ValueError(f"serialized_sparse must be a [N, 3] matrix, got {list(d)}")
    idx, val, shp = apply_op(
        "DeserializeManySparse",
        serialized_sparse,
        dtype=dtypes.as_dtype(dtype).name,
        rank=None if rank is None else int(rank),
        name=name,
    )
    return SparseTensor(idx, val, shp)
