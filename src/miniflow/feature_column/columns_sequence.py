"""Sequence columns (`sequence_numeric_column`, `sequence_categorical_column_with_*`):
one value or id per time step. TF1's namespace has no layer that consumes them
(`input_layer` refuses them, as TF); they give their sparse ids with a trailing
dimension of 1 (``[batch, time, 1]``) and ``get_sequence_dense_tensor`` the padded
values with each example's length."""

from __future__ import annotations

import math
from typing import NamedTuple

from miniflow import dtypes
from miniflow.feature_column import columns_categorical as _cat
from miniflow.feature_column.columns_base import (
    CategoricalColumn,
    FeatureColumn,
    IdWeightPair,
    check_key,
)
from miniflow.ops import array_ops as _arr, math_ops as _math, segment_ops as _seg
from miniflow.ops.example_parsing_ops import VarLenFeature
from miniflow.ops.sparse_ops import SparseTensor, sparse_tensor_to_dense


def _add_step_dim(sp):
    if sp is None:
        return None
    column = _arr.zeros_like(_arr.gather(sp.indices, [0], axis=1))
    return SparseTensor(
        _arr.concat([sp.indices, column], 1),
        sp.values,
        _arr.concat([sp.dense_shape, _arr.constant([1], dtypes.int64)], 0),
    )


class SequenceCategoricalColumn(CategoricalColumn):
    """A categorical column over a sequence: ids ``[batch, time, 1]``."""

    _fields = ("categorical_column",)
    is_sequence = True

    def __init__(self, categorical_column):
        self.categorical_column = categorical_column

    name = property(lambda self: self.categorical_column.name)
    num_buckets = property(lambda self: self.categorical_column.num_buckets)
    parse_example_spec = property(lambda self: self.categorical_column.parse_example_spec)

    def _transform(self, cache):
        pair = self.categorical_column.get_sparse_tensors(cache)
        return IdWeightPair(_add_step_dim(pair.id_tensor), _add_step_dim(pair.weight_tensor))


def sequence_categorical_column_with_hash_bucket(key, hash_bucket_size, dtype=dtypes.string):
    """sequence_categorical_column_with_hash_bucket(key, hash_bucket_size,
    dtype=tf.string)."""
    return SequenceCategoricalColumn(
        _cat.categorical_column_with_hash_bucket(key, hash_bucket_size, dtype)
    )


def sequence_categorical_column_with_identity(key, num_buckets, default_value=None):
    """sequence_categorical_column_with_identity(key, num_buckets, default_value=None)."""
    return SequenceCategoricalColumn(
        _cat.categorical_column_with_identity(key, num_buckets, default_value)
    )


def sequence_categorical_column_with_vocabulary_list(
    key, vocabulary_list, dtype=None, default_value=-1, num_oov_buckets=0
):
    """sequence_categorical_column_with_vocabulary_list(key, vocabulary_list, dtype=None,
    default_value=-1, num_oov_buckets=0)."""
    return SequenceCategoricalColumn(
        _cat.categorical_column_with_vocabulary_list(
            key, vocabulary_list, dtype, default_value, num_oov_buckets
        )
    )


def sequence_categorical_column_with_vocabulary_file(
    key,
    vocabulary_file,
    vocabulary_size=None,
    num_oov_buckets=0,
    default_value=None,
    dtype=dtypes.string,
):
    """sequence_categorical_column_with_vocabulary_file(key, vocabulary_file,
    vocabulary_size=None, num_oov_buckets=0, default_value=None, dtype=tf.string)."""
    return SequenceCategoricalColumn(
        _cat.categorical_column_with_vocabulary_file(
            key, vocabulary_file, vocabulary_size, num_oov_buckets, default_value, dtype
        )
    )


class TensorSequenceLengthPair(NamedTuple):
    dense_tensor: object
    sequence_length: object


class SequenceNumericColumn(FeatureColumn):
    """Real values over a sequence, ``shape`` per time step."""

    _fields = ("key", "shape", "default_value", "dtype", "normalizer_fn")
    is_sequence = True

    def __init__(self, key, shape, default_value, dtype, normalizer_fn):
        self.key, self.shape, self.default_value = key, shape, default_value
        self.dtype, self.normalizer_fn = dtype, normalizer_fn

    name = property(lambda self: self.key)
    parse_example_spec = property(lambda self: {self.key: VarLenFeature(self.dtype)})

    def _transform(self, cache):
        sp = cache.get(self.key)
        if not isinstance(sp, SparseTensor):
            raise ValueError(
                f"The corresponding Tensor of sequence numeric column must be "
                f"a SparseTensor. key: {self.key}"
            )
        if self.normalizer_fn is not None:
            sp = SparseTensor(sp.indices, self.normalizer_fn(sp.values), sp.dense_shape)
        return sp

    def get_sequence_dense_tensor(self, cache, weight_collections=None, trainable=None):
        """The values ``[batch, time, *shape]`` (padded with ``default_value``) and each
        example's number of time steps."""
        sp = cache.get(self)
        n = math.prod(self.shape)
        dense = sparse_tensor_to_dense(
            sp, default_value=_arr.constant(self.default_value, sp.dtype)
        )
        dense = _arr.cast(
            _arr.reshape(dense, [_arr.shape(dense)[0], -1, *self.shape]), dtypes.float32
        )
        rows = _arr.gather(sp.indices, 0, axis=1)
        steps = _arr.gather(sp.indices, 1, axis=1) + 1
        last = _math.maximum(
            _seg.unsorted_segment_max(steps, rows, _arr.gather(sp.dense_shape, 0)), 0
        )
        length = _arr.cast(_math.ceil(_arr.cast(last, dtypes.float64) / n), dtypes.int64)
        return TensorSequenceLengthPair(dense, length)


def sequence_numeric_column(
    key, shape=(1,), default_value=0.0, dtype=dtypes.float32, normalizer_fn=None
):
    """sequence_numeric_column(key, shape=(1,), default_value=0.0, dtype=tf.float32,
    normalizer_fn=None)."""
    check_key(key)
    shape = (shape,) if isinstance(shape, int) else tuple(int(d) for d in shape)
    if not shape or any(d < 1 for d in shape):
        raise ValueError(f"shape dimensions must be greater than 0. shape: {shape}, key: {key}")
    dtype = dtypes.as_dtype(dtype)
    if not (dtype.is_floating or dtype.is_integer):
        raise ValueError(f"dtype must be convertible to float. dtype: {dtype}, key: {key}")
    if normalizer_fn is not None and not callable(normalizer_fn):
        raise TypeError(f"normalizer_fn must be a callable. Given: {normalizer_fn}")
    return SequenceNumericColumn(key, shape, default_value, dtype, normalizer_fn)
