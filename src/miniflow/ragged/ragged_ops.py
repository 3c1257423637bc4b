"""Operations on `tf.RaggedTensor`: indexing, element-wise operators and
`map_flat_values`, reductions over ragged and dense axes, and row gathers, concatenation,
stacking and masking.

TF reaches these through its dispatch mechanism (``tf.reduce_sum(rt, axis=1)``,
``tf.concat([rt, rt], 0)``); miniflow's public functions do not dispatch on argument
types, so the same operations are `tf.ragged.reduce_sum`, `tf.ragged.concat`, ... (see
docs/ragged.md). Every function builds ordinary ops on the components, so gradients
reach ``flat_values``.
"""

from __future__ import annotations

import numpy as np

from miniflow import dtypes
from miniflow.core.dispatch import is_tensor
from miniflow.ops import (
    array_ops,
    check_ops,
    control_flow_ops,
    math_ops,
    ragged_array_ops as rp,
    segment_ops,
)
from miniflow.ops.shape_rules import dims
from miniflow.ops.sparse_ops import unsorted_segment_sum
from miniflow.ragged.ragged_tensor import RaggedTensor


def _is_ragged(x) -> bool:
    return isinstance(x, RaggedTensor)


def convert_to_tensor_or_ragged_tensor(value, dtype=None, name=None):
    """``value`` itself when ragged, else a dense tensor."""
    if _is_ragged(value):
        if dtype is not None and value.dtype != dtypes.as_dtype(dtype):
            raise ValueError(
                f"Tensor conversion requested dtype {dtypes.as_dtype(dtype).name}"
                f" for RaggedTensor with dtype {value.dtype.name}"
            )
        return value
    return array_ops.convert_to_tensor(value, dtype=dtype, name=name)


def _to_ragged(x, ragged_rank=1, splits_dtype=dtypes.int64):
    if _is_ragged(x):
        return x
    return RaggedTensor.from_tensor(x, ragged_rank=ragged_rank, row_splits_dtype=splits_dtype)


# ---------------------------------------------------------------------------------------
# Element-wise: map_flat_values and the operators.


def _same_splits(rts):
    """The first ragged tensor's splits, with run-time checks that the others match."""
    first = rts[0]
    checks = []
    for other in rts[1:]:
        if other.ragged_rank != first.ragged_rank:
            raise ValueError(
                f"Ragged inputs have different ragged ranks: "
                f"{first.ragged_rank} and {other.ragged_rank}"
            )
        for a, b in zip(first.nested_row_splits, other.nested_row_splits):
            if a is not b:
                checks.append(
                    check_ops.assert_equal(
                        math_ops.cast(a, dtypes.int64),
                        math_ops.cast(b, dtypes.int64),
                        message="Inputs must have identical ragged splits",
                    )
                )
    return [c for c in checks if c is not None]


def _ragged_in(x) -> list:
    if _is_ragged(x):
        return [x]
    if isinstance(x, list | tuple):
        return [r for v in x for r in _ragged_in(v)]
    return []


def _flat(x):
    if _is_ragged(x):
        return x.flat_values
    if isinstance(x, list | tuple):
        return type(x)(_flat(v) for v in x)
    return x


def map_flat_values(op, *args, **kwargs):
    """``op`` applied to the flat values of the ragged arguments (also inside lists),
    which must share their row partitions; the result has that partition.
    ``tf.ragged.map_flat_values(op, *args, **kwargs)``"""
    rts = [r for a in list(args) + list(kwargs.values()) for r in _ragged_in(a)]
    if not rts:
        return op(*args, **kwargs)
    checks = _same_splits(rts)
    with control_flow_ops.control_dependencies(checks):
        out = op(*[_flat(a) for a in args], **{k: _flat(v) for k, v in kwargs.items()})
        if checks:
            out = array_ops.identity(out)
    n_in, n_out = dims(rts[0].flat_values), dims(out)
    if n_in and n_out and None not in (n_in[0], n_out[0]) and n_in[0] != n_out[0]:
        raise ValueError(
            f"tf.ragged.map_flat_values: the output of op has {n_out[0]} rows "
            f"but the flat values have {n_in[0]}; op must keep the outer "
            f"dimension"
        )
    return rts[0].with_flat_values(out)


def _broadcast_dense(rt, dense):
    """A dense operand lined up with ``rt.flat_values``."""
    d = dims(dense)
    inner = rt.flat_values.shape.ndims
    if d is None or inner is None:
        raise ValueError("A dense operand of a ragged element-wise op needs a known rank")
    if len(d) <= inner - 1:  # broadcasts against the uniform inner dimensions only
        return dense
    if rt.ragged_rank == 1 and len(d) == rt.shape.ndims and len(d) >= 2 and d[1] == 1:
        return array_ops.gather(array_ops.squeeze(dense, [1]), rt.value_rowids())
    raise ValueError(
        f"Cannot broadcast a dense operand of shape {d} against a "
        f"RaggedTensor of shape {rt.shape}: only scalars, inner-dimension "
        f"shapes and [nrows, 1, ...] are supported"
    )


def _binary(fn, reflected=False):
    def method(self, other):
        if not _is_ragged(other):
            other = array_ops.convert_to_tensor(other, dtype_hint=self.dtype)
            other = _broadcast_dense(self, other)
            a, b = (other, self.flat_values) if reflected else (self.flat_values, other)
            return self.with_flat_values(fn(a, b))
        a, b = (other, self) if reflected else (self, other)
        return map_flat_values(fn, a, b)

    return method


def _install_operators():
    pairs = {
        "add": math_ops.add,
        "sub": math_ops.subtract,
        "mul": math_ops.multiply,
        "truediv": math_ops.truediv,
        "floordiv": math_ops.floordiv,
        "mod": math_ops.floormod,
        "pow": math_ops.pow,
    }
    for name, fn in pairs.items():
        setattr(RaggedTensor, f"__{name}__", _binary(fn))
        setattr(RaggedTensor, f"__r{name}__", _binary(fn, reflected=True))
    for name, fn in {
        "lt": math_ops.less,
        "le": math_ops.less_equal,
        "gt": math_ops.greater,
        "ge": math_ops.greater_equal,
        "and": math_ops.logical_and,
        "or": math_ops.logical_or,
        "xor": math_ops.logical_xor,
    }.items():
        setattr(RaggedTensor, f"__{name}__", _binary(fn))
    RaggedTensor.__neg__ = lambda self: self.with_flat_values(math_ops.negative(self.flat_values))
    RaggedTensor.__abs__ = lambda self: self.with_flat_values(math_ops.abs(self.flat_values))
    RaggedTensor.__invert__ = lambda self: self.with_flat_values(
        math_ops.logical_not(self.flat_values)
    )
    RaggedTensor.__getitem__ = getitem


# ---------------------------------------------------------------------------------------
# Row gathers and indexing.


def gather(params, indices, name=None):
    """Rows ``indices`` (a vector or scalar) of ragged ``params`` (TF: ``tf.gather``)."""
    with control_flow_ops.name_scope(name, "RaggedGather"):
        indices = array_ops.convert_to_tensor(indices)
        if not _is_ragged(params):
            return array_ops.gather(params, indices)
        if dims(indices) == ():
            return _row(params, indices)
        idx, splits = rp.gather_rows(None, params.row_splits, indices)
        values = (
            gather(params.values, idx)
            if _is_ragged(params.values)
            else array_ops.gather(params.values, idx)
        )
        return RaggedTensor(values, splits, internal=True)


def _row(rt, i):
    """Row ``i`` of ``rt``: a dense tensor or a RaggedTensor."""
    i = math_ops.cast(array_ops.convert_to_tensor(i), rt.row_splits_dtype)
    i = array_ops.where(math_ops.less(i, 0), i + rt.nrows(), i)
    start, limit = array_ops.gather(rt.row_splits, i), array_ops.gather(rt.row_splits, i + 1)
    idx = array_ops.range(start, limit, dtype=rt.row_splits_dtype)
    return gather(rt.values, idx)


def getitem(self, key):
    """``rt[i]``, ``rt[a:b]``, ``rt[:, a:b]``, ``rt[i, j]``, ``rt[..., k]`` on inner
    uniform dimensions; an integer index into an inner ragged dimension is a ValueError,
    as in TF."""
    key = key if isinstance(key, tuple) else (key,)
    if not key:
        return self
    if any(k is Ellipsis for k in key):
        if sum(k is Ellipsis for k in key) > 1:
            raise ValueError("Ellipsis may appear at most once in an index")
        at = next(j for j, k in enumerate(key) if k is Ellipsis)
        fill = (slice(None),) * max(self.shape.ndims - (len(key) - 1), 0)
        key = key[:at] + fill + key[at + 1 :]
        if not key:
            return self
    first, rest = key[0], key[1:]
    if first is None:
        raise ValueError("tf.newaxis is not supported when indexing a RaggedTensor")
    if isinstance(first, slice):
        rows = self if first == slice(None) else gather(self, array_ops.range(self.nrows())[first])
        return _getitem_inner(rows, rest) if rest else rows
    row = _row(self, first)
    if not rest:
        return row
    return getitem(row, rest) if _is_ragged(row) else row[rest]


def _getitem_inner(rt, key):
    """``key`` applied to every row of ``rt`` (dimension 1 onwards)."""
    first, rest = key[0], key[1:]
    if not isinstance(first, slice):
        raise ValueError("Cannot index into an inner ragged dimension.")
    if first.step not in (None, 1):
        raise ValueError("Slicing an inner ragged dimension supports step 1 only")
    out = rt
    if first != slice(None):
        lengths = rt.row_lengths()
        start = _clip_bound(first.start, lengths, 0)
        stop = math_ops.maximum(_clip_bound(first.stop, lengths, lengths), start)
        idx, splits = rp.flat_indices(
            rt.row_splits, rt.row_starts() + start, rt.row_starts() + stop
        )
        out = RaggedTensor(gather(rt.values, idx), splits, internal=True)
    if not rest:
        return out
    values = out.values
    inner = (
        _getitem_inner(values, rest) if _is_ragged(values) else values[(slice(None),) + tuple(rest)]
    )
    return out.with_values(inner)


def _clip_bound(bound, lengths, default):
    if bound is None:
        return default if is_tensor(default) else array_ops.zeros_like(lengths)
    b = array_ops.convert_to_tensor(bound, dtype=lengths.dtype)
    b = array_ops.where(math_ops.less(b, 0), lengths + b, array_ops.zeros_like(lengths) + b)
    return math_ops.minimum(math_ops.maximum(b, 0), lengths)


# ---------------------------------------------------------------------------------------
# Reductions.

_SEGMENT = {
    "sum": unsorted_segment_sum,
    "max": segment_ops.unsorted_segment_max,
    "min": segment_ops.unsorted_segment_min,
    "prod": segment_ops.unsorted_segment_prod,
}
_DENSE = {
    "sum": math_ops.reduce_sum,
    "max": math_ops.reduce_max,
    "min": math_ops.reduce_min,
    "prod": math_ops.reduce_prod,
}


def _reduce(kind, rt, axis, keepdims):
    if not _is_ragged(rt):
        return _DENSE[kind](rt, axis=axis, keepdims=keepdims)
    rank = rt.shape.ndims
    if axis is None:
        return _DENSE[kind](rt.flat_values, keepdims=False)
    axes = [axis] if np.ndim(axis) == 0 else list(axis)
    axes = sorted({int(a) + rank if int(a) < 0 else int(a) for a in axes}, reverse=True)
    if any(not 0 <= a < rank for a in axes):
        raise ValueError(f"axis {axis} out of range for a RaggedTensor of rank {rank}")
    out = rt
    for a in axes:
        out = _reduce_axis(kind, out, a, keepdims)
    return out


def _reduce_axis(kind, rt, axis, keepdims):
    if not _is_ragged(rt):
        return _DENSE[kind](rt, axis=axis, keepdims=keepdims)
    if axis == 0:
        if _is_ragged(rt.values):
            raise NotImplementedError(
                "miniflow reduces axis 0 of a RaggedTensor with one ragged dimension only"
            )
        pos = array_ops.range(
            array_ops.shape(rt.values, out_type=rt.row_splits_dtype)[0], dtype=rt.row_splits_dtype
        ) - array_ops.gather(rt.row_splits, rt.value_rowids())
        width = rt.bounding_shape(1)
        out = _SEGMENT[kind](rt.values, pos, width)
        return array_ops.expand_dims(out, 0) if keepdims else out
    if axis == 1:
        if _is_ragged(rt.values):
            return _reduce_ragged_rows(kind, rt, keepdims)
        out = _SEGMENT[kind](rt.values, rt.value_rowids(), rt.nrows())
        return array_ops.expand_dims(out, 1) if keepdims else out
    return rt.with_values(_reduce_axis(kind, rt.values, axis - 1, keepdims))


def _reduce_ragged_rows(kind, rt, keepdims):
    """Axis 1 of ``[B, (rows), (cols), ...]``: the rows of each batch entry combined
    position by position; entry ``b`` is as long as its longest row."""
    inner = rt.values
    if _is_ragged(inner.values) or keepdims:
        raise NotImplementedError(
            "miniflow reduces axis 1 of a RaggedTensor with ragged rank 2 without keepdims only"
        )
    dtype = rt.row_splits_dtype
    lengths = inner.row_lengths()
    width = math_ops.reduce_max(array_ops.concat([array_ops.zeros([1], dtype), lengths], 0))
    cell_rows = inner.value_rowids()
    outer = array_ops.gather(rt.value_rowids(), cell_rows)
    pos = array_ops.range(
        array_ops.shape(inner.values, out_type=dtype)[0], dtype=dtype
    ) - array_ops.gather(inner.row_splits, cell_rows)
    nrows = rt.nrows()
    dense = _SEGMENT[kind](inner.values, outer * width + pos, nrows * width)
    out_lengths = math_ops.maximum(
        segment_ops.unsorted_segment_max(lengths, rt.value_rowids(), nrows), 0
    )
    starts = array_ops.range(nrows, dtype=dtype) * width
    idx, splits = rp.flat_indices(rt.row_splits, starts, starts + out_lengths)
    return RaggedTensor(array_ops.gather(dense, idx), splits, internal=True)


def _reduction(kind):
    def fn(input_tensor, axis=None, keepdims=None, name=None):
        with control_flow_ops.name_scope(name, f"RaggedReduce{kind.capitalize()}"):
            return _reduce(kind, input_tensor, axis, bool(keepdims))

    fn.__name__ = f"reduce_{kind}"
    fn.__doc__ = (
        f"``reduce_{kind}(input_tensor, axis=None, keepdims=None, name=None)`` "
        f"of a RaggedTensor (TF: ``tf.reduce_{kind}``); an empty row gives the "
        f"segment reduction's empty value, as in TF."
    )
    return fn


reduce_sum = _reduction("sum")
reduce_max = _reduction("max")
reduce_min = _reduction("min")
reduce_prod = _reduction("prod")


def reduce_mean(input_tensor, axis=None, keepdims=None, name=None):
    """``reduce_mean(input_tensor, axis=None, keepdims=None, name=None)`` of a
    RaggedTensor; an empty row gives NaN, as in TF."""
    with control_flow_ops.name_scope(name, "RaggedReduceMean"):
        rt = input_tensor
        if rt.dtype.is_integer:  # TF's ragged mean of integers is float64
            rt = (
                rt.with_flat_values(math_ops.cast(rt.flat_values, dtypes.float64))
                if _is_ragged(rt)
                else math_ops.cast(rt, dtypes.float64)
            )
        total = _reduce("sum", rt, axis, bool(keepdims))
        ones = (
            rt.with_flat_values(array_ops.ones_like(rt.flat_values))
            if _is_ragged(rt)
            else array_ops.ones_like(rt)
        )
        count = _reduce("sum", ones, axis, bool(keepdims))
        if _is_ragged(total):
            return total.with_flat_values(_divide(total.flat_values, count.flat_values))
        return _divide(total, count)


def _divide(total, count):
    """``total / count``, NaN (without a NumPy warning) where ``count`` is 0, as TF."""
    nan = array_ops.fill(array_ops.shape(total), np.array(np.nan, total.dtype.np))
    return array_ops.where(
        math_ops.greater(count, 0), total / math_ops.maximum(count, array_ops.ones_like(count)), nan
    )


def _bool_reduction(kind):
    """any: some entry true (a count > 0); all: no entry false (a count == 0), so an
    empty row gives False and True as in TF."""

    def fn(input_tensor, axis=None, keepdims=None, name=None):
        with control_flow_ops.name_scope(name, f"RaggedReduce{kind}"):
            rt = input_tensor
            flat = rt.flat_values if _is_ragged(rt) else rt
            if kind == "All":
                flat = math_ops.logical_not(flat)
            counts = math_ops.cast(flat, dtypes.int32)
            counts = rt.with_flat_values(counts) if _is_ragged(rt) else counts
            out = _reduce("sum", counts, axis, bool(keepdims))
            test = math_ops.greater if kind == "Any" else math_ops.equal
            if _is_ragged(out):
                return out.with_flat_values(test(out.flat_values, 0))
            return test(out, 0)

    fn.__name__ = f"reduce_{kind.lower()}"
    fn.__doc__ = f"``reduce_{kind.lower()}(input_tensor, axis=None, ...)`` of a RaggedTensor."
    return fn


reduce_all = _bool_reduction("All")
reduce_any = _bool_reduction("Any")


# ---------------------------------------------------------------------------------------
# Concatenation, stacking, masking.


def _concat_rows(rts):
    """The rows of every ragged tensor, in order (axis 0)."""
    if not _is_ragged(rts[0]):
        return array_ops.concat(rts, 0)
    dtype = rts[0].row_splits_dtype
    if any(r.row_splits_dtype != dtype or r.ragged_rank != rts[0].ragged_rank for r in rts):
        raise ValueError("Ragged inputs must have the same ragged_rank and row_splits dtype")
    values = _concat_rows([r.values for r in rts])
    splits, offset = [rts[0].row_splits], rts[0].row_splits[-1]
    for r in rts[1:]:
        splits.append(r.row_splits[1:] + offset)
        offset = offset + r.row_splits[-1]
    return RaggedTensor(values, array_ops.concat(splits, 0), internal=True)


def _as_ragged_list(values, splits_dtype=None):
    values = [convert_to_tensor_or_ragged_tensor(v) for v in values]
    if not values:
        raise ValueError("values must be a non-empty list of tensors")
    ragged = [v for v in values if _is_ragged(v)]
    dtype = ragged[0].row_splits_dtype if ragged else dtypes.int64
    rank = max(v.ragged_rank for v in ragged) if ragged else 1
    return [
        _to_ragged(v, 1, dtype) if not _is_ragged(v) else v.with_row_splits_dtype(dtype)
        for v in values
    ], rank


def concat(values, axis, name=None):
    """Ragged concatenation along ``axis`` 0 (rows) or 1 (row by row)
    (TF: ``tf.concat`` on RaggedTensors)."""
    with control_flow_ops.name_scope(name, "RaggedConcat"):
        rts, _ = _as_ragged_list(values)
        rank = rts[0].shape.ndims
        axis = axis + rank if axis < 0 else axis
        if axis == 0:
            return _concat_rows(rts)
        if axis == 1:
            stacked = stack(rts, axis=1)
            return stacked.merge_dims(1, 2)
        raise NotImplementedError("miniflow concatenates RaggedTensors along axis 0 or 1")


def stack(values, axis=0, name=None):
    """Stacks tensors (ragged or dense, ranks may differ in their ragged dims) along a
    new ``axis`` 0 or 1. ``tf.ragged.stack(values, axis=0, name=None)``"""
    with control_flow_ops.name_scope(name, "RaggedConcat"):
        vals = [convert_to_tensor_or_ragged_tensor(v) for v in values]
        if not vals:
            raise ValueError("values must be a non-empty list of tensors")
        if all(not _is_ragged(v) and dims(v) is not None and len(dims(v)) == 1 for v in vals):
            if axis != 0:
                raise ValueError(f"axis={axis} out of bounds for stacking vectors")
            lengths = array_ops.stack([array_ops.shape(v, out_type=dtypes.int64)[0] for v in vals])
            return RaggedTensor.from_row_lengths(array_ops.concat(vals, 0), lengths, validate=False)
        rts, _ = _as_ragged_list(vals)
        dtype = rts[0].row_splits_dtype
        if axis == 0:
            lengths = array_ops.stack([r.nrows() for r in rts])
            return RaggedTensor.from_row_lengths(_concat_rows(rts), lengths, validate=False)
        if axis == 1:
            k = len(rts)
            n = rts[0].nrows()
            rows = _concat_rows(rts)
            i = array_ops.range(n, dtype=dtype)
            perm = array_ops.reshape(
                array_ops.expand_dims(i, 1)
                + array_ops.expand_dims(array_ops.range(k, dtype=dtype) * n, 0),
                [-1],
            )
            return RaggedTensor.from_row_lengths(
                gather(rows, perm),
                array_ops.fill(array_ops.reshape(n, [1]), array_ops.constant(k, dtype)),
                validate=False,
            )
        raise NotImplementedError("miniflow stacks RaggedTensors along axis 0 or 1")


def boolean_mask(data, mask, name=None):
    """The entries of ``data`` where ``mask`` is true, keeping the row structure:
    a vector mask selects rows; a 2-D (dense or ragged) mask selects values in each row.
    ``tf.ragged.boolean_mask(data, mask, name=None)``"""
    with control_flow_ops.name_scope(name, "RaggedMask"):
        data = convert_to_tensor_or_ragged_tensor(data)
        mask = convert_to_tensor_or_ragged_tensor(mask, dtype=dtypes.bool)
        mrank = mask.shape.ndims
        if mrank is None:
            raise ValueError("mask's rank must be known statically")
        if mrank == 1:
            if _is_ragged(data):
                return gather(data, array_ops.reshape(array_ops.where(mask), [-1]))
            return array_ops.boolean_mask(data, mask)
        if mrank != 2:
            raise NotImplementedError("miniflow's ragged boolean_mask takes a mask of rank 1 or 2")
        if not _is_ragged(data) and not _is_ragged(mask):
            lengths = math_ops.reduce_sum(math_ops.cast(mask, dtypes.int64), axis=1)
            return RaggedTensor.from_row_lengths(
                array_ops.boolean_mask(data, mask), lengths, validate=False
            )
        dtype = data.row_splits_dtype if _is_ragged(data) else mask.row_splits_dtype
        data, mask = _to_ragged(data, 1, dtype), _to_ragged(mask, 1, dtype)
        checks = _same_splits([data, mask])
        with control_flow_ops.control_dependencies(checks):
            keep = mask.values if not checks else array_ops.identity(mask.values)
        values = (
            boolean_mask(data.values, keep)
            if _is_ragged(data.values)
            else array_ops.boolean_mask(data.values, keep)
        )
        lengths = unsorted_segment_sum(
            math_ops.cast(keep, dtype), mask.value_rowids(), mask.nrows()
        )
        return RaggedTensor.from_row_lengths(values, lengths, validate=False)


_install_operators()
