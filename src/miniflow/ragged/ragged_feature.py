"""`tf.io.RaggedFeature`: the configuration of a ragged feature for example parsing.

miniflow's `tf.io.parse_example` does not read RaggedFeature yet (see docs/ragged.md);
the class and its partition types are here so that TF1 programs can build their feature
specs, and so the spec can be turned into a RaggedTensor by hand with the ``from_*``
factories the partition types name.
"""

from __future__ import annotations

from typing import NamedTuple

from miniflow import dtypes


class RaggedFeature(NamedTuple):
    """``RaggedFeature(dtype, value_key=None, partitions=(), row_splits_dtype=tf.int32,
    validate=False)``: values ``value_key`` partitioned by ``partitions`` (outermost
    first), each a ``RaggedFeature.RowSplits(key)``, ``RowLengths``, ``RowStarts``,
    ``RowLimits``, ``ValueRowIds`` or ``UniformRowLength(length)``."""

    dtype: object
    value_key: object = None
    partitions: tuple = ()
    row_splits_dtype: object = dtypes.int32
    validate: bool = False

    class RowSplits(NamedTuple):
        key: str

    class RowLengths(NamedTuple):
        key: str

    class RowStarts(NamedTuple):
        key: str

    class RowLimits(NamedTuple):
        key: str

    class ValueRowIds(NamedTuple):
        key: str

    class UniformRowLength(NamedTuple):
        length: int


_PARTITIONS = (
    RaggedFeature.RowSplits,
    RaggedFeature.RowLengths,
    RaggedFeature.RowStarts,
    RaggedFeature.RowLimits,
    RaggedFeature.ValueRowIds,
    RaggedFeature.UniformRowLength,
)


def _new(cls, dtype, value_key=None, partitions=(), row_splits_dtype=dtypes.int32, validate=False):
    dtype = dtypes.as_dtype(dtype)
    if dtype not in (dtypes.int64, dtypes.float32, dtypes.string):
        raise ValueError(f"dtype must be tf.string, tf.int64 or tf.float32, got {dtype!r}")
    if value_key is not None and (not isinstance(value_key, str) or not value_key):
        raise ValueError(f"value_key must be a non-empty string, got {value_key!r}")
    partitions = tuple(partitions)
    for p in partitions:
        if not isinstance(p, _PARTITIONS):
            raise TypeError(
                f"partitions must be a list of RaggedFeature.* partition objects, got {p!r}"
            )
    row_splits_dtype = dtypes.as_dtype(row_splits_dtype)
    if row_splits_dtype not in (dtypes.int32, dtypes.int64):
        raise ValueError(f"row_splits_dtype must be tf.int32 or tf.int64, got {row_splits_dtype!r}")
    return tuple.__new__(cls, (dtype, value_key, partitions, row_splits_dtype, bool(validate)))


RaggedFeature.__new__ = _new
