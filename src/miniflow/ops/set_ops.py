"""`tf.sets`: intersection, union, difference and size of the sets along the last axis.

A dense ``[..., n]`` tensor holds one set per leading index (all ``n`` entries are
members); a SparseTensor holds, per leading index, the values stored there. Results are
SparseTensors whose last axis lists each result set in ascending order, as in TF.
"""

from __future__ import annotations

import numpy as np

from miniflow import dtypes, errors
from miniflow.core.dispatch import apply_op
from miniflow.core.registry import not_differentiable, register_op
from miniflow.ops import array_ops
from miniflow.ops.shape_rules import dims
from miniflow.ops.sparse_ops import SparseTensor, SparseTensorValue

_SET_DTYPES = (
    dtypes.int8,
    dtypes.int16,
    dtypes.int32,
    dtypes.int64,
    dtypes.uint8,
    dtypes.uint16,
    dtypes.string,
)


def _invalid(message):
    return errors.InvalidArgumentError(None, None, message)


def _dense_groups(a):
    a = np.asarray(a)
    if a.ndim < 2:
        raise _invalid(f"Invalid input rank {a.ndim}: a set needs rank >= 2")
    return a.shape[:-1], {i: set(a[i].tolist()) for i in np.ndindex(a.shape[:-1])}


def _sparse_groups(indices, values, shape, validate):
    indices, values = np.asarray(indices), np.asarray(values)
    shape = tuple(int(d) for d in np.asarray(shape))
    if len(shape) < 2:
        raise _invalid(f"Invalid input rank {len(shape)}: a set needs rank >= 2")
    if validate:
        for k in range(len(indices)):
            if np.any(indices[k] < 0) or np.any(indices[k] >= shape):
                raise _invalid(
                    f"indices[{k}] = {indices[k].tolist()} is out of bounds: "
                    f"need 0 <= index < {list(shape)}"
                )
            if k and tuple(indices[k]) <= tuple(indices[k - 1]):
                raise _invalid(
                    f"indices[{k}] = {indices[k].tolist()} is out of order. Many "
                    "sparse ops require sorted indices; use tf.sparse.reorder."
                )
    groups: dict = {}
    for idx, v in zip(indices.tolist(), values.tolist()):
        groups.setdefault(tuple(idx[:-1]), set()).add(v)
    return shape[:-1], groups


def _combine(lead_a, ga, lead_b, gb, set_operation, dtype):
    if tuple(lead_a) != tuple(lead_b):
        raise _invalid(
            f"Shape mismatch: the sets' leading dimensions differ: {list(lead_a)} vs {list(lead_b)}"
        )
    op = {
        "a-b": lambda x, y: x - y,
        "b-a": lambda x, y: y - x,
        "intersection": lambda x, y: x & y,
        "union": lambda x, y: x | y,
    }[set_operation]
    rows = []
    for key in sorted(set(ga) | set(gb)):
        result = sorted(op(ga.get(key, set()), gb.get(key, set())))
        rows += [(key + (j,), v) for j, v in enumerate(result)]
    width = max((r[0][-1] + 1 for r in rows), default=0)
    indices = np.array([r[0] for r in rows], np.int64).reshape(-1, len(lead_a) + 1)
    values = np.array([r[1] for r in rows], dtype=dtype).reshape(-1)
    return indices, values, np.array(tuple(lead_a) + (width,), np.int64)


def _out_dtype(arr):
    return object if np.asarray(arr).dtype == object else np.asarray(arr).dtype


def _set_infer(dense_a, dense_b):
    def infer(inputs, attrs):
        a, b = inputs[0], inputs[1] if dense_b else inputs[2]
        for name, t in (("a", a), ("b", b)):
            if t.dtype not in _SET_DTYPES:
                raise TypeError(
                    f"'{name}' has invalid dtype {t.dtype.name}: sets take int8, "
                    "int16, int32, int64, uint8, uint16 or string values"
                )
        if a.dtype != b.dtype:
            raise TypeError(
                f"Set operands must have the same dtype, got {a.dtype.name} and {b.dtype.name}"
            )
        for t in (inputs[0],) if dense_a else ():
            d = dims(t)
            if d is not None and len(d) < 2:
                raise ValueError(f"Shape must be at least rank 2 but is rank {len(d)}")
        if dense_a and dense_b:
            da, db = dims(inputs[0]), dims(inputs[1])
            if da is not None and db is not None:
                if len(da) != len(db):
                    raise ValueError(
                        f"Set operands must have the same rank, got {len(da)} and {len(db)}"
                    )
                for x, y in zip(da[:-1], db[:-1]):
                    if x is not None and y is not None and x != y:
                        raise ValueError(
                            f"Dimension 0 in both shapes must be equal, but are "
                            f"{x} and {y}. Shapes are {list(da)} and {list(db)}."
                        )
        rank = dims(inputs[0])[0] if not dense_a and dims(inputs[0]) is not None else None
        rank = len(dims(inputs[0])) if dense_a and dims(inputs[0]) is not None else rank
        return [((None, rank), dtypes.int64), ((None,), a.dtype), ((rank,), dtypes.int64)]

    return infer


@register_op("DenseToDenseSetOperation", num_outputs=3, infer=_set_infer(True, True))
def _dense_dense(a, b, set_operation, validate_indices=True):
    return _combine(*_dense_groups(a), *_dense_groups(b), set_operation, _out_dtype(a))


@register_op("DenseToSparseSetOperation", num_outputs=3, infer=_set_infer(True, False))
def _dense_sparse(a, b_indices, b_values, b_shape, set_operation, validate_indices=True):
    lead_b, gb = _sparse_groups(b_indices, b_values, b_shape, validate_indices)
    return _combine(*_dense_groups(a), lead_b, gb, set_operation, _out_dtype(a))


@register_op(
    "SparseToSparseSetOperation",
    num_outputs=3,
    infer=lambda i, a: _set_infer(False, False)([i[1], i[0], i[4]], a),
)
def _sparse_sparse(
    a_indices, a_values, a_shape, b_indices, b_values, b_shape, set_operation, validate_indices=True
):
    lead_a, ga = _sparse_groups(a_indices, a_values, a_shape, validate_indices)
    lead_b, gb = _sparse_groups(b_indices, b_values, b_shape, validate_indices)
    return _combine(lead_a, ga, lead_b, gb, set_operation, _out_dtype(a_values))


@register_op("SetSize", infer=lambda i, a: [(None, dtypes.int32)])
def _set_size(indices, values, shape, validate_indices=True):
    lead, groups = _sparse_groups(indices, values, shape, validate_indices)
    out = np.zeros(lead, np.int32)
    for key, members in groups.items():
        out[key] = len(members)
    return out


not_differentiable(
    "DenseToDenseSetOperation", "DenseToSparseSetOperation", "SparseToSparseSetOperation", "SetSize"
)


def _operand(x, name):
    if isinstance(x, SparseTensorValue):
        return SparseTensor.from_value(x)
    if isinstance(x, SparseTensor):
        return x
    return array_ops.convert_to_tensor(x, name=name)


def _set_operation(a, b, set_operation, validate_indices):
    if isinstance(a, SparseTensor):
        if not isinstance(b, SparseTensor):
            raise ValueError(  # noqa: TRY004 (TF's class)
                "Sparse,Dense is not supported, but Dense,Sparse is. Please flip the order of "
                "your inputs."
            )
        out = apply_op(
            "SparseToSparseSetOperation",
            a.indices,
            a.values,
            a.dense_shape,
            b.indices,
            b.values,
            b.dense_shape,
            set_operation=set_operation,
            validate_indices=bool(validate_indices),
        )
    elif isinstance(b, SparseTensor):
        out = apply_op(
            "DenseToSparseSetOperation",
            a,
            b.indices,
            b.values,
            b.dense_shape,
            set_operation=set_operation,
            validate_indices=bool(validate_indices),
        )
    else:
        out = apply_op(
            "DenseToDenseSetOperation",
            a,
            b,
            set_operation=set_operation,
            validate_indices=bool(validate_indices),
        )
    return SparseTensor(*out)


def set_intersection(a, b, validate_indices=True):
    """The intersection of the sets in the last axis of ``a`` and ``b`` (SparseTensor).
    ``tf.sets.set_intersection(a, b, validate_indices=True)``"""
    a, b = _operand(a, "a"), _operand(b, "b")
    if isinstance(a, SparseTensor) and not isinstance(b, SparseTensor):
        a, b = b, a
    return _set_operation(a, b, "intersection", validate_indices)


def set_union(a, b, validate_indices=True):
    """The union of the sets in the last axis of ``a`` and ``b`` (SparseTensor).
    ``tf.sets.set_union(a, b, validate_indices=True)``"""
    a, b = _operand(a, "a"), _operand(b, "b")
    if isinstance(a, SparseTensor) and not isinstance(b, SparseTensor):
        a, b = b, a
    return _set_operation(a, b, "union", validate_indices)


def set_difference(a, b, aminusb=True, validate_indices=True):
    """``a - b`` (or ``b - a`` when not ``aminusb``) of the sets in the last axis.
    ``tf.sets.set_difference(a, b, aminusb=True, validate_indices=True)``"""
    a, b = _operand(a, "a"), _operand(b, "b")
    if isinstance(a, SparseTensor) and not isinstance(b, SparseTensor):
        a, b, aminusb = b, a, not aminusb
    return _set_operation(a, b, "a-b" if aminusb else "b-a", validate_indices)


def set_size(a, validate_indices=True):
    """The number of distinct values in each set of the SparseTensor ``a`` (int32).
    ``tf.sets.set_size(a, validate_indices=True)``"""
    if isinstance(a, SparseTensorValue):
        a = SparseTensor.from_value(a)
    if not isinstance(a, SparseTensor):
        raise TypeError(f"Expected `SparseTensor`, got {a}.")
    if a.dtype not in _SET_DTYPES:
        raise TypeError(f"Invalid dtype {a.dtype.name}: sets take integer or string values")
    return apply_op(
        "SetSize", a.indices, a.values, a.dense_shape, validate_indices=bool(validate_indices)
    )
