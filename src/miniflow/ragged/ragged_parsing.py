"""`tf.io.parse_example` / `parse_single_example` with `tf.io.RaggedFeature` specs.

The example parser itself knows dense, var-len and sparse features only; these wrappers
parse each RaggedFeature's value key and partition keys as var-len features (one parse
for the whole batch) and build the RaggedTensor from them: each partition, innermost
first, becomes per-row lengths, checked per example against what it partitions. Specs
without a RaggedFeature go straight to the parser.
"""

from __future__ import annotations

from miniflow import dtypes
from miniflow.ops import array_ops, check_ops, control_flow_ops, math_ops
from miniflow.ops.example_parsing_ops import (
    VarLenFeature,
    parse_example as _parse_example,
    parse_single_example as _parse_single_example,
)
from miniflow.ops.scan_ops import cumsum
from miniflow.ops.sparse_ops import unsorted_segment_sum
from miniflow.ragged import ragged_ops
from miniflow.ragged.ragged_feature import RaggedFeature
from miniflow.ragged.ragged_tensor import RaggedTensor


def _varlen_specs(features, ragged):
    """The var-len features the ragged specs need, checked against the other specs."""
    needed = {}
    for key, f in ragged.items():
        needed[f.value_key or key] = VarLenFeature(f.dtype)
        for p in f.partitions:
            if not isinstance(p, RaggedFeature.UniformRowLength):
                needed[p.key] = VarLenFeature(dtypes.int64)
    for k, spec in needed.items():
        other = features.get(k)
        if other is not None and not isinstance(other, RaggedFeature) and other != spec:
            raise ValueError(
                f"Feature {k!r} is both a {type(other).__name__} and the "
                f"values or a partition of a RaggedFeature"
            )
    return needed


def _lengths(p, rows, counts, dtype):
    """Per example, the lengths of the rows partition ``p`` makes of ``counts`` items
    (a [batch, None] RaggedTensor)."""
    if isinstance(p, RaggedFeature.RowLengths):
        return rows
    if isinstance(p, RaggedFeature.ValueRowIds):
        nrows = math_ops.maximum(ragged_ops.reduce_max(rows, axis=1) + 1, 0)
        offsets = cumsum(nrows, exclusive=True)
        ids = rows.flat_values + array_ops.gather(offsets, rows.value_rowids())
        flat = unsorted_segment_sum(array_ops.ones_like(ids), ids, math_ops.reduce_sum(nrows))
        return RaggedTensor.from_row_lengths(flat, nrows, validate=False)
    if isinstance(p, RaggedFeature.RowLimits):
        rows = ragged_ops.concat(
            [
                array_ops.zeros(
                    array_ops.stack([rows.nrows(), array_ops.constant(1, rows.row_splits_dtype)]),
                    dtype,
                ),
                rows,
            ],
            1,
        )
    elif isinstance(p, RaggedFeature.RowStarts):
        rows = ragged_ops.concat([rows, array_ops.expand_dims(counts, 1)], 1)
    return rows[:, 1:] - rows[:, :-1]  # RowSplits


def _build(f, key, parsed):
    """The [batch, ...] RaggedTensor of one RaggedFeature from the var-len results."""
    dtype = dtypes.as_dtype(f.row_splits_dtype)
    values = RaggedTensor.from_sparse(parsed[f.value_key or key], row_splits_dtype=dtype)
    child, counts = values.values, values.row_lengths()
    for p in reversed(f.partitions):
        if isinstance(p, RaggedFeature.UniformRowLength):
            if isinstance(child, RaggedTensor):
                raise NotImplementedError(
                    "miniflow parses UniformRowLength partitions only inside every other partition"
                )
            k = array_ops.constant(int(p.length), dtype)
            check = check_ops.assert_equal(
                math_ops.floormod(counts, k),
                array_ops.zeros_like(counts),
                message=f"RaggedFeature {key!r}: the number of values is not a multiple of "
                f"UniformRowLength({p.length})",
            )
            inner = child.shape.as_list()[1:] if child.shape.ndims is not None else None
            if inner is None or None in inner:
                inner = array_ops.shape(child)[1:]
                new_shape = array_ops.concat([[-1, int(p.length)], inner], 0)
            else:
                new_shape = [-1, int(p.length)] + inner
            with control_flow_ops.control_dependencies([check] if check else []):
                child = array_ops.reshape(child, new_shape)
            counts = math_ops.floordiv(counts, k)
            continue
        rows = RaggedTensor.from_sparse(parsed[p.key], row_splits_dtype=dtype)
        rows = rows.with_flat_values(math_ops.cast(rows.flat_values, dtype))
        lengths = _lengths(p, rows, counts, dtype)
        check = check_ops.assert_equal(
            ragged_ops.reduce_sum(lengths, axis=1),
            counts,
            message=f"RaggedFeature {key!r}: partition {p!r} does not match the number of "
            f"values it partitions in each example",
        )
        with control_flow_ops.control_dependencies([check] if check else []):
            flat = array_ops.identity(lengths.flat_values)
        child = RaggedTensor.from_row_lengths(child, flat, validate=False)
        counts = lengths.row_lengths()
    return RaggedTensor.from_row_lengths(child, counts, validate=False)


def _split(features):
    ragged = {k: f for k, f in features.items() if isinstance(f, RaggedFeature)}
    plain = {k: f for k, f in features.items() if not isinstance(f, RaggedFeature)}
    return ragged, plain


def parse_example(serialized, features, name=None, example_names=None):
    """Parses a vector of serialized `tf.train.Example`s (RaggedFeature specs give
    RaggedTensors). ``tf.io.parse_example(serialized, features, name=None,
    example_names=None)``"""
    ragged, plain = _split(features)
    if not ragged:
        return _parse_example(serialized, features, name=name, example_names=example_names)
    with control_flow_ops.name_scope(name, "ParseExample"):
        needed = _varlen_specs(features, ragged)
        parsed = _parse_example(serialized, {**plain, **needed})
        out = {k: parsed[k] for k in plain}
        out.update({k: _build(f, k, parsed) for k, f in ragged.items()})
        return out


def parse_single_example(serialized, features, name=None, example_names=None):
    """Parses one serialized `tf.train.Example` (RaggedFeature specs give the example's
    RaggedTensor, or a dense tensor when it has no ragged partition).
    ``tf.io.parse_single_example(serialized, features, name=None, example_names=None)``"""
    ragged, plain = _split(features)
    if not ragged:
        return _parse_single_example(serialized, features, name=name, example_names=example_names)
    with control_flow_ops.name_scope(name, "ParseSingleExample"):
        out = _parse_single_example(serialized, plain) if plain else {}
        batch = array_ops.reshape(array_ops.convert_to_tensor(serialized, dtypes.string), [1])
        parsed = parse_example(batch, ragged)
        out.update({k: ragged_ops.getitem(v, 0) for k, v in parsed.items()})
        return out
